"""The one write path (``guotu.store.layers.LayerCatalog.write_layer``) on every store: a write
that cannot go in is refused with the same error, in the same English and Chinese words, on
memory, GeoPackage and PostGIS, before anything is written; and every read names an unknown
layer or column the same way.

These pin what the three copies of ``write_layer`` had let drift apart: the GeoPackage store
alone re-checked under its writer lock (and refused a layer created meanwhile even with
``--replace``) but computed the content before it (and so added again a column another writer
had just added), PostGIS checked the CRS only inside its transaction, the memory store never
re-checked; GeoPackage's ``read_revisions`` let an unknown column through to SQLite, and an
unknown layer gave ``[]``, ``0`` or a store error depending on the backend.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS

from guotu.errors import ConfigError, LayerError, NotFoundError, StoreError

from ..conftest import X0, Y0

GK39 = CRS.from_epsg(4527)
GK40 = CRS.from_epsg(4528)
TYPES = {"BSM": "text", "MJ": "real"}


def _frame(n: int, crs: CRS | None = GK39) -> gpd.GeoDataFrame:
    geoms = shapely.box(np.arange(n) * 10.0 + X0, Y0, np.arange(n) * 10.0 + X0 + 10, Y0 + 10)
    return gpd.GeoDataFrame(
        {"BSM": [f"B{i}" for i in range(n)], "MJ": np.full(n, 100.0)}, geometry=geoms, crs=crs
    )


def _write(store: Any, name: str, frame: gpd.GeoDataFrame, **kw: Any) -> Any:
    return store.write_layer(
        name, "planned_land_use", frame, column_types=TYPES, geometry_type="POLYGON", **kw
    )


def _state(store: Any) -> tuple[Any, ...]:
    """Everything a write could have changed."""
    layers = store.layers()
    return (
        None if store.crs is None else store.crs.to_wkt(),
        layers,
        store.plans(),
        store.versions(),
        store.audit_head(),
        store.tables(),
        {i.name: store.revision_count(i.name) for i in layers},
    )


# -- a layer that exists ----------------------------------------------------------------------
def test_an_existing_layer_is_refused_in_the_same_words_on_every_store(store) -> None:
    _write(store, "L", _frame(2))
    before = _state(store)
    with pytest.raises(LayerError) as err:
        _write(store, "L", _frame(3))
    assert (err.value.code, err.value.exit_code, err.value.layer) == ("layer-error", 2, "L")
    assert str(err.value) == (
        f"Workspace {store.path} already has a layer 'L'. Fix: Choose another --layer name, "
        "or add --replace to record a new version."
    )
    assert err.value.render() == (
        f"工作空间 {store.path} 中已有图层 'L'。解决办法：请用 --layer 换一个图层名，"
        "或加上 --replace 登记新版本。"
    )
    assert _state(store) == before


@pytest.mark.parametrize("replace", [False, True], ids=["new layer", "with replace"])
def test_a_layer_created_meanwhile_is_refused_on_every_store(
    store, monkeypatch: pytest.MonkeyPatch, replace: bool
) -> None:
    """The write checks again under the writer lock: a layer that did not exist when it began
    is refused, even with ``replace`` (the caller decided on a new layer)."""
    _write(store, "OTHER", _frame(1))
    stale = store.layers()  # what the write sees when it begins
    _write(store, "NEW", _frame(3))  # another writer, just before the lock
    before = _state(store)
    real = store.layers
    calls = iter([stale])
    monkeypatch.setattr(store, "layers", lambda: next(calls, None) or real())
    with pytest.raises(LayerError, match="another import created it just now") as err:
        _write(store, "NEW", _frame(5), replace=replace)
    monkeypatch.undo()
    assert err.value.layer == "NEW" and "另一个导入刚刚创建了它" in err.value.render()
    assert _state(store) == before


def test_a_layer_replaced_meanwhile_is_written_with_its_current_columns(
    store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the lock the write sees that another writer gave the layer a column meanwhile,
    and computes its content again with that column's type (an existing column keeps its
    type)."""
    _write(store, "L", _frame(2))
    stale = store.layers()
    theirs = _frame(2).assign(EXTRA=[1, 2])
    store.write_layer(
        "L",
        "planned_land_use",
        theirs,
        column_types={**TYPES, "EXTRA": "integer"},
        geometry_type="POLYGON",
        replace=True,
    )
    real = store.layers
    calls = iter([stale])
    monkeypatch.setattr(store, "layers", lambda: next(calls, None) or real())
    store.write_layer(
        "L",
        "planned_land_use",
        _frame(3).assign(EXTRA=["7", "8", "9"]),
        column_types={**TYPES, "EXTRA": "text"},
        geometry_type="POLYGON",
        replace=True,
    )
    monkeypatch.undo()
    assert store.layer("L").columns["EXTRA"] == "INTEGER"
    assert store.read_layer("L")["EXTRA"].tolist() == [7, 8, 9]


def test_a_name_differing_only_in_case_is_refused_on_every_store(store) -> None:
    _write(store, "Parcels", _frame(2))
    before = _state(store)
    with pytest.raises(ConfigError, match="differ only in case") as err:
        _write(store, "parcels", _frame(2), replace=True)
    assert err.value.layer == "parcels" and "仅大小写不同" in err.value.render()
    assert _state(store) == before


# -- CRS --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "frame_crs, given",
    [
        (GK39, GK40),  # the write says another CRS than the workspace's
        (GK40, None),  # the frame is in another CRS than the workspace's
        (GK40, GK39),  # both
    ],
    ids=["crs argument", "frame crs", "both"],
)
def test_a_crs_mismatch_is_refused_before_anything_is_written(store, frame_crs, given) -> None:
    _write(store, "L", _frame(2))
    before = _state(store)
    with pytest.raises(ConfigError, match="already uses") as err:
        _write(store, "M", _frame(3, frame_crs), crs=given)
    assert err.value.layer == "M" and err.value.exit_code == 2
    assert str(err.value).startswith("Layer M is in CGCS2000 / 3-degree Gauss-Kruger zone 40")
    assert err.value.render().startswith(
        "图层 M 的坐标参考系为 CGCS2000 / 3-degree Gauss-Kruger zone 40"
    )
    assert "请先把数据投影到" in err.value.render()
    assert _state(store) == before


def test_a_new_workspace_takes_no_frame_in_another_crs(empty_store) -> None:
    before = _state(empty_store)
    with pytest.raises(ConfigError, match="already uses") as err:
        _write(empty_store, "L", _frame(2, GK40), crs=GK39)
    assert err.value.layer == "L"
    assert _state(empty_store) == before and empty_store.crs is None


def test_a_write_without_any_crs_names_the_layer(empty_store) -> None:
    before = _state(empty_store)
    with pytest.raises(StoreError, match="no CRS") as err:
        _write(empty_store, "L", _frame(2, None))
    assert err.value.layer == "L" and "无法写入图层 L" in err.value.render()
    assert _state(empty_store) == before


def test_a_frame_without_a_crs_is_taken_to_be_in_the_workspace_crs(store) -> None:
    _write(store, "L", _frame(2, None))
    assert store.read_layer("L").crs == GK39


def test_another_crs_cannot_be_set_on_every_store(store) -> None:
    with pytest.raises(StoreError) as err:
        store.set_crs(GK40)
    assert str(err.value) == f"Workspace {store.path} already uses EPSG:4527."
    assert err.value.render() == f"工作空间 {store.path} 已使用坐标参考系 EPSG:4527。"
    assert store.crs == GK39


# -- the port's transaction flag --------------------------------------------------------------
def test_a_store_says_when_a_write_is_under_way(store, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    audit = store._audit

    def watching_audit(*args: Any) -> None:
        seen.append(store.has_open_transaction)
        audit(*args)

    assert store.has_open_transaction is False
    monkeypatch.setattr(store, "_audit", watching_audit)
    _write(store, "L", _frame(2))
    assert seen and all(seen)
    assert store.has_open_transaction is False


# -- unknown layers and columns ---------------------------------------------------------------
@pytest.mark.parametrize(
    "read",
    [
        lambda s: s.layer("X"),
        lambda s: s.layer_role("X"),
        lambda s: s.layer_version("X"),
        lambda s: s.read_layer("X"),
        lambda s: s.read_revisions("X", [1]),
        lambda s: s.version_changes("X", 1),
        lambda s: s.feature_history("X", "B0"),
        lambda s: s.revision_count("X"),
    ],
    ids=[
        "layer",
        "layer_role",
        "layer_version",
        "read_layer",
        "read_revisions",
        "version_changes",
        "feature_history",
        "revision_count",
    ],
)
def test_an_unknown_layer_is_named_the_same_way_by_every_read(store, read) -> None:
    _write(store, "L", _frame(2))
    with pytest.raises(NotFoundError) as err:
        read(store)
    assert err.value.layer == "X"
    assert (
        err.value.render() == f"工作空间 {store.path} 中没有图层 'X'。解决办法：其中的图层有：L。"
    )


@pytest.mark.parametrize(
    "read",
    [
        lambda s: s.read_layer("L", columns=["BSM", "NOPE"]),
        lambda s: s.read_revisions("L", [1], columns=["NOPE"]),
    ],
    ids=["read_layer", "read_revisions"],
)
def test_an_unknown_column_is_named_the_same_way_by_every_read(store, read) -> None:
    _write(store, "L", _frame(2))
    with pytest.raises(NotFoundError) as err:
        read(store)
    assert (err.value.layer, err.value.field) == ("L", "NOPE")
    assert err.value.render() == "图层 'L' 中没有字段 'NOPE'。解决办法：现有字段：BSM、MJ。"

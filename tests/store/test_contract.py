"""The storage contract on every store (memory, geopackage, postgis): round trips, bbox reads,
empty and missing geometries, NaN, frame shapes, errors; and no driver exception escapes a
store."""

from __future__ import annotations

from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import CRS

from guotu.domain.core.catalog import YearValue
from guotu.domain.core.model import PlanLevel, PlanType
from guotu.errors import ConfigError, GuotuError, LayerError, NotFoundError, StoreError
from guotu.store.memory import MemoryStore

from ..conftest import X0, Y0
from .conftest import backend_of, driver_errors, raw_sql

GK39 = CRS.from_epsg(4527)
TYPES = {"BSM": "text", "MJ": "real"}


def _frame(n: int) -> gpd.GeoDataFrame:
    side = int(np.ceil(np.sqrt(n)))
    geoms = [
        shapely.box(
            X0 + (i % side) * 10,
            Y0 + (i // side) * 10,
            X0 + (i % side) * 10 + 10,
            Y0 + (i // side) * 10 + 10,
        )
        for i in range(n)
    ]
    return gpd.GeoDataFrame(
        {"BSM": [f"B{i}" for i in range(n)], "MJ": np.full(n, 100.0)}, geometry=geoms, crs=GK39
    )


def _write(
    store: Any, name: str, frame: gpd.GeoDataFrame, types: dict[str, str] = TYPES, **kw: Any
) -> None:
    store.write_layer(
        name, "planned_land_use", frame, column_types=types, geometry_type="POLYGON", **kw
    )


def test_round_trip_keeps_geometry_attributes_and_order(store) -> None:
    frame = _frame(50)
    _write(store, "L", frame)
    back = store.read_layer("L")
    assert back["BSM"].tolist() == frame["BSM"].tolist()
    assert all(back.geometry.iloc[i].equals(frame.geometry.iloc[i]) for i in range(50))


def test_missing_and_empty_geometries_come_back_as_written(store) -> None:
    frame = _frame(6)
    frame.loc[3, "geometry"] = None
    frame.loc[4, "geometry"] = shapely.Polygon()
    _write(store, "L", frame)
    back = store.read_layer("L")
    assert back.geometry.iloc[3] is None
    assert back.geometry.iloc[4].is_empty
    assert back.geometry.iloc[5].equals(frame.geometry.iloc[5])


def test_nan_values_come_back_as_nan(store) -> None:
    frame = _frame(6)
    frame.loc[5, "MJ"] = np.nan
    frame.loc[2, "BSM"] = None
    _write(store, "L", frame)
    back = store.read_layer("L")
    assert np.isnan(back["MJ"].iloc[5])
    assert back["BSM"].iloc[2] is None or pd.isna(back["BSM"].iloc[2])


def test_frames_have_one_shape_on_every_store(store) -> None:
    frame = _frame(4)
    frame["N"] = [1, 2, None, 4]
    frame["D"] = [date(2021, 5, 1), None, date(2022, 1, 1), date(2023, 1, 1)]
    frame["OK"] = [True, False, None, True]
    frame = frame[["BSM", "MJ", "N", "D", "OK", "geometry"]]
    types = {"BSM": "text", "MJ": "real", "N": "integer", "D": "date", "OK": "boolean"}
    _write(store, "L", frame, types)
    reference = MemoryStore.open()
    reference.set_crs(GK39)
    _write(reference, "L", frame, types)
    back, expected = store.read_layer("L"), reference.read_layer("L")
    assert back.index.name == "fid" and back.index.dtype == np.int64
    assert list(back.columns) == ["BSM", "MJ", "N", "D", "OK", "geometry"]
    assert back.crs == GK39
    pd.testing.assert_frame_equal(
        pd.DataFrame(back.drop(columns="geometry")), pd.DataFrame(expected.drop(columns="geometry"))
    )
    assert back["D"].tolist()[0] == "2021-05-01"
    empty = store.read_layer("L", bbox=(0, 0, 1, 1))
    assert list(empty.columns) == list(back.columns) and len(empty) == 0


def test_bbox_read_uses_the_index(store) -> None:
    _write(store, "L", _frame(100))
    got = store.read_layer("L", bbox=(X0 + 1, Y0 + 1, X0 + 9, Y0 + 9))
    assert got["BSM"].tolist() == ["B0"]


def test_bbox_read_answers_like_a_scan(store) -> None:
    rng = np.random.default_rng(7)
    n = 2000
    xy = rng.uniform(0, 5000, size=(n, 2)) + [X0, Y0]
    wh = rng.uniform(1, 80, size=(n, 2))
    frame = gpd.GeoDataFrame(
        {"BSM": [str(i) for i in range(n)], "MJ": np.ones(n)},
        geometry=shapely.box(xy[:, 0], xy[:, 1], *(xy + wh).T),
        crs=GK39,
    )
    _write(store, "L", frame)
    for qx, qy in rng.uniform(0, 5000, size=(10, 2)) + [X0, Y0]:
        bbox = (qx, qy, qx + 300, qy + 200)
        expected = sorted(frame.index[frame.intersects(shapely.box(*bbox))].astype(str))
        assert sorted(store.read_layer("L", bbox=bbox)["BSM"].tolist()) == expected


def test_columns_select_and_unknown_columns_are_named(store) -> None:
    _write(store, "L", _frame(3))
    assert list(store.read_layer("L", columns=["MJ"]).columns) == ["MJ", "geometry"]
    with pytest.raises(NotFoundError, match="no column 'XX'"):
        store.read_layer("L", columns=["XX"])


def test_layers_are_listed_and_unknown_ones_name_the_others(store) -> None:
    _write(store, "B", _frame(2))
    _write(store, "A", _frame(3))
    assert [(i.name, i.features, i.plan) for i in store.layers()] == [
        ("A", 3, "layer:A"),
        ("B", 2, "layer:B"),
    ]
    assert store.layer("A").columns == {"BSM": "TEXT", "MJ": "REAL"}
    assert [i.name for i in store.layers_with_role("planned_land_use")] == ["A", "B"]
    with pytest.raises(NotFoundError, match="Layers in it: A, B"):
        store.layer("C")


def test_writing_an_existing_layer_needs_replace(store) -> None:
    _write(store, "L", _frame(2))
    with pytest.raises(LayerError, match="--replace"):  # the user's input: exit 2
        _write(store, "L", _frame(3))
    _write(store, "L", _frame(3), replace=True)
    assert len(store.read_layer("L")) == 3


def test_a_write_needs_a_crs_and_may_fix_it(empty_store) -> None:
    with pytest.raises(StoreError, match="no CRS"):
        _write(empty_store, "L", _frame(2))
    _write(empty_store, "L", _frame(2), crs=GK39)
    assert empty_store.crs == GK39
    with pytest.raises(ConfigError, match="already uses"):
        _write(empty_store, "M", _frame(2), crs=CRS.from_epsg(4528))


def test_revisions_and_changes_are_read_by_fid(store) -> None:
    _write(store, "L", _frame(3))
    changed = _frame(3)
    changed.loc[1, "MJ"] = 5.0
    _write(store, "L", changed, replace=True)
    v2 = store.versions("layer:L")[-1]
    added, retired = store.version_changes("L", v2.id)
    assert len(added) == 1 and len(retired) == 1
    both = store.read_revisions("L", [*retired, *added])
    assert both["MJ"].tolist() == [100.0, 5.0]
    assert store.lineage_of(v2.id) == [v.id for v in store.versions("layer:L")]


@pytest.mark.parametrize("replace", [False, True], ids=["new layer", "new version"])
def test_a_write_failing_at_its_last_step_leaves_the_store_as_it_was(
    store, monkeypatch, replace
) -> None:
    _write(store, "L", _frame(3))
    before = (store.layers(), store.plans(), store.versions(), len(store.audit_log()))
    audit = store._audit

    def failing_audit(actor: str, action: str, *args: Any) -> None:
        if action == "write_layer":
            raise StoreError("the disk is full")
        audit(actor, action, *args)

    monkeypatch.setattr(store, "_audit", failing_audit)
    changed = _frame(4)
    changed.loc[0, "MJ"] = 1.0
    with pytest.raises(StoreError, match="disk is full"):
        _write(store, "L" if replace else "M", changed, replace=replace)
    monkeypatch.undo()
    assert (store.layers(), store.plans(), store.versions(), len(store.audit_log())) == before
    assert store.read_layer("L")["MJ"].tolist() == [100.0] * 3
    _write(store, "M", changed)  # and the store still takes writes
    assert len(store.read_layer("M")) == 4


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 20), st.integers(0, 20), st.sampled_from(["0701", "0901", "1401"])
        ),
        min_size=0,
        max_size=12,
    ),
    st.lists(st.integers(0, 11), max_size=4),
)
def test_every_store_reads_back_what_memory_does(store, cells, changes) -> None:
    """Two versions of random content: each store returns what the reference returns."""
    name = f"L{abs(hash((tuple(cells), tuple(changes)))) % 10**9}"
    frame = gpd.GeoDataFrame(
        {"BSM": [f"P{i}" for i in range(len(cells))], "YDYHFLDM": [c for _, _, c in cells]},
        geometry=[
            shapely.box(X0 + x * 10, Y0 + y * 10, X0 + x * 10 + 10, Y0 + y * 10 + 10)
            for x, y, _ in cells
        ],
        crs=GK39,
    )
    amended = frame.copy()
    for i in changes:
        if i < len(amended):
            amended.loc[i, "YDYHFLDM"] = "1701"
    reference = MemoryStore.open()
    reference.set_crs(GK39)
    types = {"BSM": "text", "YDYHFLDM": "code"}
    for s in (store, reference):
        _write(s, name, frame, types)
        _write(s, name, amended, types, replace=True)
    for version in (0, 1):
        got = store.read_layer(name, version_id=store.versions(f"layer:{name}")[version].id)
        ref = reference.read_layer(name, version_id=reference.versions(f"layer:{name}")[version].id)
        assert sorted(zip(got["BSM"], got["YDYHFLDM"], strict=True)) == sorted(
            zip(ref["BSM"], ref["YDYHFLDM"], strict=True)
        )
        assert len(got) == len(ref)


# -- no driver exception escapes a store ------------------------------------------------------
def _operations(store: Any) -> list[Any]:
    return [
        store.layers,
        lambda: store.layer("L"),
        lambda: store.read_layer("L"),
        lambda: store.read_layer("L", bbox=(X0, Y0, X0 + 5, Y0 + 5)),
        store.versions,
        store.plans,
        store.audit_log,
        lambda: store.version_changes("L", 1),
        lambda: store.read_revisions("L", [1]),
        lambda: _write(store, "L", _frame(2), replace=True),
        lambda: store.create_plan("新规划", level=PlanLevel.COUNTY, type=PlanType.MASTER),
        lambda: store.write_table("T", [YearValue("耕地保有量", "公顷", 2035, 1.0)]),
        store.tables,
        lambda: store.read_table("T"),
    ]


def _assert_only_guotu_errors(store: Any) -> list[GuotuError]:
    raised = []
    for op in _operations(store):
        try:
            op()
        except GuotuError as exc:
            raised.append(exc)
        except driver_errors() as exc:  # pragma: no cover - what the test is here to catch
            pytest.fail(f"{type(exc).__module__}.{type(exc).__name__} escaped the store: {exc}")
    return raised


def test_no_driver_exception_escapes_when_a_table_is_removed(sql_store, request) -> None:
    _write(sql_store, "L", _frame(3))
    raw_sql(sql_store, 'DROP TABLE "L"')
    raised = _assert_only_guotu_errors(sql_store)
    assert any(isinstance(e, StoreError) for e in raised)


def test_no_driver_exception_escapes_when_catalogue_tables_go(sql_store, request) -> None:
    _write(sql_store, "L", _frame(3))
    for table in ("guotu_retired", "guotu_layer_versions", "guotu_layers"):
        raw_sql(sql_store, f"DROP TABLE {table}")
    raised = _assert_only_guotu_errors(sql_store)
    assert raised and all(isinstance(e, StoreError) for e in raised)


def test_no_driver_exception_escapes_when_the_connection_drops(sql_store, request) -> None:
    _write(sql_store, "L", _frame(3))
    if backend_of(sql_store) == "geopackage":
        sql_store._conn.close()
    else:
        pids = sql_store._pool.backend_pids()
        assert pids
        raw_sql(
            sql_store,
            "SELECT pg_terminate_backend(pid) FROM unnest(ARRAY["
            + ",".join(str(p) for p in pids)
            + "]) AS pid",
        )
    raised = _assert_only_guotu_errors(sql_store)
    assert raised and isinstance(raised[0], StoreError)


def test_audit_head_follows_every_write(store: Any) -> None:
    """The cache key of tiles and query indexes: it must change with each recorded write."""
    before = store.audit_head()
    entries = store.audit_log()
    assert before == (len(entries), entries[-1].id if entries else 0)
    store.create_plan("审计测试规划", level=PlanLevel.COUNTY, type=PlanType.MASTER)
    after = store.audit_head()
    assert after[0] == before[0] + 1 and after[1] > before[1]

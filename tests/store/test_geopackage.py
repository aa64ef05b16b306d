"""The GeoPackage workspace's own behaviour: what GDAL sees, the R-tree, atomic writes when
killed, readers during a write. What every store does (round trips, bbox reads, empty and
missing geometries, NaN) is in the contract suite, test_contract.py."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS

from guotu.errors import ConfigError, NotFoundError, StoreError, StoreIntegrityError
from guotu.store.geopackage import GeoPackageStore

from ..conftest import X0, Y0, gdal_read, squares

GK39 = CRS.from_epsg(4527)


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


def _write(store: GeoPackageStore, name: str, frame: gpd.GeoDataFrame, **kw) -> None:
    store.write_layer(
        name,
        "planned_land_use",
        frame,
        column_types={"BSM": "text", "MJ": "real"},
        geometry_type="POLYGON",
        **kw,
    )


@pytest.fixture
def store(tmp_path: Path) -> GeoPackageStore:
    with GeoPackageStore.open(tmp_path / "ws.gpkg", create=True) as s:
        s.set_crs(GK39)
        yield s


def test_gdal_reads_the_layer_and_edits_keep_the_index_in_step(store, tmp_path: Path) -> None:
    _write(store, "L", _frame(20))
    path = store.path
    assert gdal_read(path, "L")["features"] == 20
    # An edit through plain SQL (as QGIS would do through GDAL) fires the R-tree triggers.
    conn = sqlite3.connect(path)
    from guotu.store.gpkg_blob import encode_blobs, register_functions

    register_functions(conn)
    blob = encode_blobs([shapely.box(X0 + 500, Y0 + 500, X0 + 510, Y0 + 510)], 4527)[0]
    conn.execute("UPDATE L SET geom = ? WHERE BSM = 'B0'", (blob,))
    conn.commit()
    conn.close()
    assert store.read_layer("L", bbox=(X0 + 501, Y0 + 501, X0 + 502, Y0 + 502))["BSM"].tolist() == [
        "B0"
    ]
    got = gdal_read(path, "L", bbox=(X0 + 501, Y0 + 501, X0 + 502, Y0 + 502), column="BSM")
    assert got["values"] == ["B0"]


def test_foreign_and_missing_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="guotu demo"):
        GeoPackageStore.open(tmp_path / "none.gpkg")
    foreign = tmp_path / "foreign.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=squares(1), crs=GK39).to_file(foreign)
    # a file that is not a workspace is the user's input (exit 2), not a broken store
    with pytest.raises(ConfigError, match="not a guotu workspace"):
        GeoPackageStore.open(foreign)
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"\x00junk" * 1000)
    with pytest.raises(ConfigError, match="not even an SQLite file"):
        GeoPackageStore.open(junk)


def test_a_newer_schema_is_refused_with_the_fix(store) -> None:
    store._conn.execute("UPDATE guotu_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreIntegrityError, match="Upgrade guotu"):
        GeoPackageStore.open(store.path)


_WRITER = textwrap.dedent("""
    import sys, time
    import geopandas as gpd, numpy as np, shapely
    from guotu.store.geopackage import GeoPackageStore
    n = int(sys.argv[2])
    geoms = shapely.box(np.arange(n) * 10.0 + 39540000, 4052000, np.arange(n) * 10.0 + 39540010,
                        4052010)
    frame = gpd.GeoDataFrame({"BSM": np.arange(n).astype(str)}, geometry=geoms, crs=4527)
    store = GeoPackageStore.open(sys.argv[1])
    print("ready", flush=True)
    store.write_layer("BIG", "planned_land_use", frame, column_types={"BSM": "text"},
                      geometry_type="POLYGON")
    print("done", flush=True)
""")


def test_writer_killed_mid_import_leaves_the_workspace_as_before(store, tmp_path: Path) -> None:
    _write(store, "L", _frame(10))
    store.close()
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    for delay in (0.05, 0.3, 0.8):
        proc = subprocess.Popen(
            [sys.executable, str(script), str(store.path), "400000"],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        with GeoPackageStore.open(store.path) as again:
            assert [i.name for i in again.layers()] == ["L"]
            assert len(again.read_layer("L")) == 10
            tables = {
                r[0]
                for r in again._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            assert "BIG" not in tables


def test_second_writer_gets_a_clear_message_and_readers_keep_reading(store) -> None:
    _write(store, "L", _frame(10))
    other = GeoPackageStore.open(store.path, busy_timeout_s=0.2)
    reader = GeoPackageStore.open(store.path)
    store._conn.execute("BEGIN IMMEDIATE")  # a long write holds the lock
    try:
        with pytest.raises(StoreError, match="another process"):
            _write(other, "M", _frame(5))
        assert len(reader.read_layer("L")) == 10  # WAL: readers are not blocked
    finally:
        store._conn.execute("ROLLBACK")
        other.close()
        reader.close()


@pytest.mark.parametrize("n", [0, 1, 51, 52, 3000, 20_000])
def test_bulk_loaded_rtree_passes_rtreecheck_and_answers_like_a_scan(store, n: int) -> None:
    rng = np.random.default_rng(n)
    xy = rng.uniform(0, 5000, size=(n, 2)) + [X0, Y0]
    wh = rng.uniform(1, 80, size=(n, 2))
    frame = gpd.GeoDataFrame(
        {"BSM": [str(i) for i in range(n)], "MJ": np.ones(n)},
        geometry=shapely.box(xy[:, 0], xy[:, 1], *(xy + wh).T),
        crs=GK39,
    )
    _write(store, "L", frame)
    (check,) = store._conn.execute("SELECT rtreecheck('rtree_L_geom')").fetchone()
    assert check == "ok"
    for qx, qy in rng.uniform(0, 5000, size=(20, 2)) + [X0, Y0]:
        bbox = (qx, qy, qx + 300, qy + 200)
        expected = sorted(frame.index[frame.intersects(shapely.box(*bbox))].astype(str))
        got = sorted(store.read_layer("L", bbox=bbox)["BSM"].tolist())
        assert got == expected
    # The index keeps working for edits after the bulk load.
    _write(store, "L", frame.iloc[: n // 2], replace=True)
    assert store._conn.execute("SELECT rtreecheck('rtree_L_geom')").fetchone()[0] == "ok"


def test_qgis_view_shows_the_version_in_force_today(tmp_path: Path) -> None:
    from datetime import date, timedelta

    from guotu.domain.core.catalog import VersionSpec
    from guotu.domain.core.model import PlanLevel, PlanType, VersionStatus

    with GeoPackageStore.open(tmp_path / "ws.gpkg", create=True) as store:
        store.set_crs(GK39)
        store.create_plan("总规", level=PlanLevel.COUNTY, type=PlanType.MASTER)
        old = _frame(4)
        _write(store, "L", old, version=VersionSpec("总规", "A", valid_from=date(2021, 1, 1)))
        amended = old.copy()
        amended.loc[0, "BSM"] = "改"
        _write(
            store,
            "L",
            amended.iloc[:3],
            version=VersionSpec(
                "总规", "B", status=VersionStatus.AMENDED, valid_from=date(2023, 1, 1)
            ),
        )
        # A version valid only from next year does not show yet.
        _write(
            store,
            "L",
            amended.iloc[:1],
            version=VersionSpec(
                "总规",
                "C",
                status=VersionStatus.AMENDED,
                valid_from=date.today() + timedelta(days=365),
            ),
        )
        path = store.path
    got = gdal_read(path, "L_现行", column="BSM")
    assert got["features"] == 3
    assert sorted(got["values"]) == sorted(["改", "B1", "B2"])

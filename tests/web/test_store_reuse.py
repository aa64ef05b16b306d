"""The app reuses open workspace stores across requests (``StorePool`` in ``app.state``).

What reuse must not change: a write recorded by another connection or process between two
requests is in the second answer; a store serves one request at a time whatever the number
of threads; a failed request's store is never reused; the stores are closed at shutdown.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import CRS

from guotu.domain.core.catalog import VersionSpec
from guotu.domain.core.model import PlanLevel, PlanType
from guotu.errors import StoreError
from guotu.services.workspace import StorePool, open_workspace
from guotu.settings import Settings
from guotu.store.geopackage import GeoPackageStore
from guotu.web.app import create_app

from ..conftest import X0, Y0
from .test_tiles import by_key, decode, tile_at

GK39 = CRS.from_epsg(4527)
PLAN = "示范县总体规划"
SQUARES = [shapely.box(X0 + 200 * i, Y0, X0 + 200 * i + 100, Y0 + 100) for i in range(4)]
KEYS = ["A1", "A2", "A3", "A4"]
CODES_2021 = ["0701", "0801", "1401", "0703"]
CODES_2023 = ["0901", "0801", "1401", "0703"]  # A1 recoded


def land_use(codes: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"BSM": KEYS, "YDYHFLDM": codes}, geometry=SQUARES, crs=GK39)


def record(store: Any, codes: list[str], label: str, valid_from: date) -> None:
    store.write_layer(
        "GHYD",
        "planned_land_use",
        land_use(codes),
        column_types={"BSM": "text", "YDYHFLDM": "code"},
        geometry_type="POLYGON",
        version=VersionSpec(PLAN, label, valid_from=valid_from),
        crs=GK39,
    )


def make_workspace(path: Path) -> Path:
    with GeoPackageStore.open(path, create=True) as store:
        store.create_plan(PLAN, level=PlanLevel.COUNTY, type=PlanType.MASTER, xzqdm="370999")
        record(store, CODES_2021, "2021版", date(2021, 1, 1))
    return path


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """GHYD: four 100 m squares A1–A4 of a master plan's 2021 version."""
    return make_workspace(tmp_path / "ws.gpkg")


# ------------------------------------------------------------------ what a route says of A1
def code_by_items(client: TestClient, key: str = "A1") -> str:
    r = client.get("/collections/GHYD/items", params={"BSM": key})
    assert r.status_code == 200, r.text
    (feature,) = r.json()["features"]
    return str(feature["properties"]["YDYHFLDM"])


def code_by_tile(client: TestClient, key: str = "A1") -> str:
    z = 16
    x, y = tile_at(SQUARES[KEYS.index(key)], z)
    r = client.get(f"/tiles/GHYD/{z}/{x}/{y}.mvt")
    assert r.status_code == 200, r.text
    return str(by_key(decode(r.content)["GHYD"])[key]["props"]["YDYHFLDM"])


def code_by_query(client: TestClient, key: str = "A1") -> str:
    c = SQUARES[KEYS.index(key)].centroid
    r = client.get("/query", params={"point": f"{c.x},{c.y}"})
    assert r.status_code == 200, r.text
    (entry,) = [e for e in r.json()["applies"] if e["layer"] == "GHYD"]
    return str(entry["properties"]["YDYHFLDM"])


ROUTES = {"items": code_by_items, "tiles": code_by_tile, "query": code_by_query}


# ------------------------------------------------------------------ a store that watches its use
class WatchedStore:
    """A store that counts the calls running on it at once, and whether it was closed."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._lock = threading.Lock()
        self.path = store.path
        self.active = 0
        self.most_at_once = 0
        self.is_closed = False

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._store, name)
        if name.startswith("_") or not callable(value):
            return value

        def watched(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.active += 1
                self.most_at_once = max(self.most_at_once, self.active)
            try:
                time.sleep(0.001)  # widen the window in which a second thread could come in
                return value(*args, **kwargs)
            finally:
                with self._lock:
                    self.active -= 1

        return watched

    def close(self) -> None:
        self.is_closed = True
        self._store.close()


def watched_app(workspace: Path | str) -> tuple[Any, list[WatchedStore]]:
    """An app whose pool opens :class:`WatchedStore` s (listed in the second item)."""
    opened: list[WatchedStore] = []

    def opener(location: str | Path) -> WatchedStore:
        store = WatchedStore(open_workspace(location))
        opened.append(store)
        return store

    app = create_app(Settings(workspace=str(workspace)))
    app.state.stores = StorePool(workspace, opener=opener)
    return app, opened


# ------------------------------------------------------------------ new data is seen
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_version_recorded_through_another_handle_is_in_the_next_answer(
    workspace: Path, route: str
) -> None:
    app, opened = watched_app(workspace)
    client = TestClient(app)
    ask = ROUTES[route]
    assert ask(client) == "0701"
    with GeoPackageStore.open(workspace) as other:
        record(other, CODES_2023, "2023修改", date(2023, 1, 1))
    assert ask(client) == "0901"
    assert len(opened) == 1  # both requests were answered through the same open store


WRITER = """
import sys
from tests.web.test_store_reuse import CODES_2023, record
from guotu.store.geopackage import GeoPackageStore
from datetime import date
with GeoPackageStore.open(sys.argv[1]) as store:
    record(store, CODES_2023, "2023修改", date(2023, 1, 1))
"""


def test_a_version_recorded_by_another_process_is_in_the_next_answer(workspace: Path) -> None:
    app, opened = watched_app(workspace)
    client = TestClient(app)
    assert (code_by_items(client), code_by_tile(client)) == ("0701", "0701")
    root = Path(__file__).resolve().parents[2]
    subprocess.run(
        [sys.executable, "-c", WRITER, str(workspace)],
        check=True,
        cwd=root,
        capture_output=True,
        timeout=120,
    )
    assert (code_by_items(client), code_by_tile(client)) == ("0901", "0901")
    assert len(opened) == 1


def test_a_replaced_workspace_file_is_opened_again(workspace: Path, tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(workspace=str(workspace))))
    assert code_by_items(client) == "0701"
    fresh = make_workspace(tmp_path / "fresh.gpkg")
    with GeoPackageStore.open(fresh) as store:
        record(store, CODES_2023, "2023修改", date(2023, 1, 1))
    os.replace(fresh, workspace)  # e.g. `guotu demo --force` wrote a new file
    assert code_by_items(client) == "0901"


# ------------------------------------------------------------------ threads
def test_concurrent_requests_never_share_a_store_and_get_right_answers(workspace: Path) -> None:
    app, opened = watched_app(workspace)
    expected = dict(zip(KEYS, CODES_2021, strict=True))
    jobs = [(route, key) for _ in range(4) for route in sorted(ROUTES) for key in KEYS]

    def run(job: tuple[str, str]) -> bool:
        route, key = job
        return ROUTES[route](client, key) == expected[key]

    # one event loop and its worker threads for every request, as under uvicorn
    with TestClient(app) as client, ThreadPoolExecutor(max_workers=6) as pool:
        # One request per route first: the rule pack's operator registry loads lazily and
        # is not thread-safe on its first use (a known issue outside the store pool).
        assert all(run((route, "A1")) for route in sorted(ROUTES))
        answers = list(pool.map(run, jobs))
    assert all(answers)
    assert opened and max(s.most_at_once for s in opened) == 1
    assert app.state.stores.idle <= len(opened) <= 6


# ------------------------------------------------------------------ failures
def test_a_failed_request_closes_its_store(workspace: Path) -> None:
    app, opened = watched_app(workspace)
    client = TestClient(app)
    assert client.get("/tiles/NOPE/1/0/0.mvt").status_code == 404  # raised NotFoundError
    assert [s.is_closed for s in opened] == [True]
    assert code_by_items(client) == "0701"
    assert [s.is_closed for s in opened] == [True, False]


def test_a_store_given_back_inside_a_transaction_is_not_kept(workspace: Path) -> None:
    pool = StorePool(workspace)
    store = pool.acquire()
    store._conn.execute("BEGIN IMMEDIATE")  # as if a write had been left half done
    pool.release(store)
    assert pool.idle == 0
    with GeoPackageStore.open(workspace) as other:  # and the write lock was let go
        record(other, CODES_2023, "2023修改", date(2023, 1, 1))
    with pool.borrow() as again:
        assert again is not store
        assert again.layer_version("GHYD").label == "2023修改"
    pool.close()


def test_a_store_is_kept_when_the_request_succeeded_only(workspace: Path) -> None:
    pool = StorePool(workspace)
    with pool.borrow() as first:
        pass
    with pool.borrow() as second:
        assert second is first
    with pytest.raises(RuntimeError), pool.borrow():
        raise RuntimeError("the request failed")
    assert pool.idle == 0 and pool.opened == 1
    pool.close()


# ------------------------------------------------------------------ shutdown
def test_stores_are_closed_when_the_app_shuts_down(workspace: Path) -> None:
    app, opened = watched_app(workspace)
    with TestClient(app) as client:
        assert code_by_items(client) == "0701"
        assert code_by_tile(client) == "0701"
        assert opened and not any(s.is_closed for s in opened)
    assert all(s.is_closed for s in opened)
    assert app.state.stores.idle == 0
    with pytest.raises(StoreError):  # the connection itself is gone
        opened[0]._store.layers()


# ------------------------------------------------------------------ PostGIS
def test_a_postgis_workspace_is_reused_and_sees_new_versions() -> None:
    from ..store.conftest import pg_dsn

    dsn = pg_dsn()  # skips without GUOTU_TEST_PG_DSN
    import uuid

    import psycopg
    from psycopg import sql

    from guotu.store.postgis import PostGISStore

    schema = f"test_{uuid.uuid4().hex[:12]}"
    try:
        with PostGISStore.open(dsn, create=True, schema=schema) as store:
            store.set_crs(GK39)
            store.create_plan(PLAN, level=PlanLevel.COUNTY, type=PlanType.MASTER, xzqdm="370999")
            record(store, CODES_2021, "2021版", date(2021, 1, 1))
        app, opened = watched_app(f"{dsn}?options={quote(f'-c search_path={schema}')}")
        with TestClient(app) as client:
            assert (code_by_items(client), code_by_tile(client)) == ("0701", "0701")
            with PostGISStore.open(dsn, schema=schema) as other:
                record(other, CODES_2023, "2023修改", date(2023, 1, 1))
            assert (code_by_items(client), code_by_tile(client)) == ("0901", "0901")
            assert len(opened) == 1
        assert all(s.is_closed for s in opened)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))

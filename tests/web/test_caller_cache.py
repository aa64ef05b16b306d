"""Who a credential is, kept for a moment (``guotu.web.callers``), and reads of 受限 layers
audited off the request path (``guotu.services.audit_writer``): both faster, neither may let
anyone in who was put out, nor lose an audit entry.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient

from guotu.domain.access.records import Department
from guotu.errors import ConfigError, StoreUnavailableError
from guotu.services.audit import verify_audit
from guotu.services.audit_writer import AuditWriter, audit_event
from guotu.services.identity import create_department, create_token, create_user, revoke_token
from guotu.services.importing import import_file
from guotu.settings import Settings
from guotu.store.geopackage import GeoPackageStore
from guotu.store.memory import MemoryStore
from guotu.web.app import create_app
from tests.graded_workspace import FARMLAND, build_graded_workspace

PASSWORD = "Gh#2035plan"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("callers")
    source = tmp / "ghyd.gpkg"
    gpd.GeoDataFrame(
        {"YDYHFLDM": ["0703"]},
        geometry=[shapely.box(39_540_000, 4_052_000, 39_540_100, 4_052_100)],
        crs="EPSG:4527",
    ).to_file(source, layer="GHYD")
    path = tmp / "ws.gpkg"
    with GeoPackageStore.open(path, create=True) as store:
        import_file(store, source, role="planned_land_use", layer="GHYD")
        create_department(store, Department("guihua", "国土空间规划科"), actor="admin")
        for name, roles in {"viewer1": ["viewer"], "sysadmin1": ["sys_admin"]}.items():
            create_user(
                store,
                username=name,
                display_name=name,
                department="guihua",
                roles=roles,
                password=PASSWORD,
                actor="admin",
            )
    return path


def _app(workspace: Path, seconds: float) -> Any:
    return create_app(Settings(workspace=str(workspace), auth="local", auth_cache_seconds=seconds))


def _token(workspace: Path) -> tuple[str, dict[str, str]]:
    with GeoPackageStore.open(workspace) as store:
        token, text = create_token(store, "viewer1", "QGIS", ["read"], 7, actor="viewer1")
    return token.id, {"Authorization": f"Bearer {text}"}


def _signed_in(app: Any, username: str) -> TestClient:
    client = TestClient(app)
    answer = client.post("/auth/sign-in", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return client


def test_a_token_revoked_elsewhere_stops_within_the_cache_time(workspace: Path) -> None:
    token_id, bearer = _token(workspace)
    client = TestClient(_app(workspace, 0.5))
    assert client.get("/collections", headers=bearer).status_code == 200
    with GeoPackageStore.open(workspace) as store:  # the command line, another process
        revoke_token(store, token_id, actor="viewer1")
    time.sleep(0.6)
    answer = client.get("/collections", headers=bearer)
    assert answer.status_code == 401 and answer.headers["www-authenticate"].startswith("Bearer")


def test_kept_for_the_cache_time_when_revoked_behind_the_servers_back(workspace: Path) -> None:
    token_id, bearer = _token(workspace)
    client = TestClient(_app(workspace, 30))
    assert client.get("/collections", headers=bearer).status_code == 200
    with GeoPackageStore.open(workspace) as store:
        revoke_token(store, token_id, actor="viewer1")
    assert client.get("/collections", headers=bearer).status_code == 200  # the documented lag
    uncached = TestClient(_app(workspace, 0))
    assert uncached.get("/collections", headers=bearer).status_code == 401


def test_a_token_revoked_through_this_server_stops_at_once(workspace: Path) -> None:
    app = _app(workspace, 30)
    owner = _signed_in(app, "viewer1")
    made = owner.post("/auth/tokens", json={"name": "脚本", "scopes": ["read"], "days": 7})
    assert made.status_code == 201, made.text
    bearer = {"Authorization": f"Bearer {made.json()['text']}"}
    client = TestClient(app)
    assert client.get("/collections", headers=bearer).status_code == 200
    assert owner.delete(f"/auth/tokens/{made.json()['token']['id']}").status_code == 204
    assert client.get("/collections", headers=bearer).status_code == 401


def test_signing_out_ends_the_session_at_once(workspace: Path) -> None:
    app = _app(workspace, 30)
    client = _signed_in(app, "viewer1")
    cookies = dict(client.cookies)
    assert client.get("/auth/me").status_code == 200  # resolved and kept
    assert client.post("/auth/sign-out").status_code == 204
    replay = TestClient(app, cookies=cookies)  # the old cookie, sent again
    assert replay.get("/auth/me").status_code == 401


def test_an_account_disabled_by_the_administrator_is_out_at_once(workspace: Path) -> None:
    with GeoPackageStore.open(workspace) as store:
        create_user(
            store,
            username="leaving1",
            display_name="leaving1",
            department="guihua",
            roles=["viewer"],
            password=PASSWORD,
            actor="admin",
        )
    app = _app(workspace, 30)
    leaving = _signed_in(app, "leaving1")
    assert leaving.get("/auth/me").json()["user"]["username"] == "leaving1"
    admin = _signed_in(app, "sysadmin1")
    assert admin.post("/admin/users/leaving1/disable").status_code == 200
    assert leaving.get("/auth/me").status_code == 401


def test_the_cache_time_is_checked() -> None:
    with pytest.raises(ConfigError) as refused:
        Settings(auth_cache_seconds=-1)
    assert refused.value.field == "auth_cache_seconds"
    assert "auth_cache_seconds 须在 0 到 60 之间" in refused.value.render("zh")


# -- reads of 受限 layers, audited off the request path ------------------------------------------
def _restricted_reads(path: Path) -> list[tuple[str, str, str]]:
    with GeoPackageStore.open(path) as store:
        return [
            (e.actor, e.action, e.detail.get("what", ""))
            for e in store.audit_log(object_prefix="layer:YJJBNT")
            if e.action.endswith("_restricted")
        ]


def test_restricted_reads_are_written_in_batches_and_all_by_shutdown(tmp_path: Path) -> None:
    path = build_graded_workspace(tmp_path / "graded.gpkg")
    with GeoPackageStore.open(path) as store:
        create_department(store, Department("gengdi", "耕地保护监督科"), actor="admin")
        create_user(
            store,
            username=FARMLAND.username,
            display_name="李工",
            department="gengdi",
            roles=sorted(FARMLAND.roles),
            password=PASSWORD,
            actor="admin",
        )
        _, text = create_token(store, FARMLAND.username, "GIS", ["read"], 7, actor="li")
    bearer = {"Authorization": f"Bearer {text}"}
    app = create_app(Settings(workspace=str(path), auth="local"))
    before = _restricted_reads(path)
    with TestClient(app) as client:  # the lifespan starts the writer
        writer = app.state.audit_writer
        assert writer.running
        for _ in range(5):
            assert client.get("/collections/YJJBNT/items", headers=bearer).status_code == 200
        assert client.get("/collections/GHYD/items", headers=bearer).status_code == 200
        deadline = time.monotonic() + 5
        while writer.pending() and time.monotonic() < deadline:  # within an interval or two
            time.sleep(0.05)
        assert len(_restricted_reads(path)) - len(before) == 5
        assert client.get("/collections/YJJBNT/items/1", headers=bearer).status_code == 200
    # the shutdown wrote the last one, whatever the interval
    assert _restricted_reads(path)[len(before) :] == [
        ("li", "read_restricted", "ogc-items")
    ] * 5 + [("li", "read_restricted", "ogc-item")]
    with GeoPackageStore.open(path) as store:
        assert verify_audit(store) == []


class _Flaky:
    """Lends a memory store, failing the first ``failures`` times (the database is down)."""

    def __init__(self, failures: int) -> None:
        self.store = MemoryStore()
        self.failures = failures

    @contextmanager
    def borrow(self) -> Iterator[MemoryStore]:
        if self.failures:
            self.failures -= 1
            raise StoreUnavailableError("down", message_zh="数据库不可用。")
        yield self.store


def test_events_wait_for_a_store_that_is_down_in_their_order() -> None:
    flaky = _Flaky(failures=2)
    writer = AuditWriter(flaky.borrow, interval=0.02)
    writer.start()
    for n in range(3):
        writer.record(audit_event("li", "read_restricted", f"layer:L{n}"))
    deadline = time.monotonic() + 5
    while writer.pending() and time.monotonic() < deadline:
        time.sleep(0.02)
    writer.close()
    assert flaky.failures == 0
    assert [e.object for e in flaky.store.audit_log()] == ["layer:L0", "layer:L1", "layer:L2"]


def test_too_many_waiting_are_written_on_the_request() -> None:
    store = MemoryStore()

    @contextmanager
    def borrow() -> Iterator[MemoryStore]:
        yield store

    writer = AuditWriter(borrow, interval=60, max_pending=2)
    writer.start()
    for n in range(4):
        writer.record(audit_event("li", "read_restricted", f"layer:L{n}"))
    assert writer.pending() == 2  # the first two wait; the next two were written at once
    assert [e.object for e in store.audit_log()] == ["layer:L2", "layer:L3"]
    writer.close()
    assert sorted(e.object for e in store.audit_log()) == [f"layer:L{n}" for n in range(4)]

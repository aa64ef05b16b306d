"""Changing one's own password over HTTP (``POST /auth/password``, guotu.web.auth_password),
and the limited session of a user whose password must be changed first (the gate,
guotu.web.security): an initial password the system administrator set, or one older than 90
days, signs in, but the session reaches nothing but ``/auth/me``, the change and signing out
until the password is changed."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient

from guotu.domain.access.records import AccountSource, Department
from guotu.services.identity import (
    HashParameters,
    create_department,
    create_token,
    create_user,
    start_session,
)
from guotu.services.importing import import_file
from guotu.settings import Settings
from guotu.store.geopackage import GeoPackageStore
from guotu.web.app import create_app
from guotu.web.route_policies import PASSWORD_CHANGE_ROUTES, ROUTE_POLICIES
from guotu.web.security import CSRF_COOKIE, SESSION_COOKIE

PASSWORD = "Gh#2035plan"
NEW = "Xin#2035mima"
#: Cheap argon2id parameters: the tests sign in many times.
HASHING = HashParameters(time_cost=1, memory_kib=1024, parallelism=1)
DUE = "password-change-required"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One layer, the 规划科, its system administrator ``sys`` and a directory account each of
    LDAP and OIDC."""
    tmp = tmp_path_factory.mktemp("password_change")
    source = tmp / "ghyd.gpkg"
    gpd.GeoDataFrame(
        {"YDYHFLDM": ["0703"]},
        geometry=[shapely.box(39_540_000, 4_052_000, 39_540_100, 4_052_100)],
        crs="EPSG:4527",
    ).to_file(source, layer="GHYD")
    path = tmp / "ws.gpkg"
    with GeoPackageStore.open(path, create=True) as store:
        import_file(store, source, role="planned_land_use", layer="GHYD")
        create_department(store, Department("guihua", "国土空间规划科"), actor="setup")
        create_user(
            store,
            username="sys",
            display_name="系统管理员",
            department=None,
            roles=["sys_admin"],
            password=PASSWORD,
            actor="setup",
            hashing=HASHING,
        )
        for name, kind in (("mulu", AccountSource.LDAP), ("tongyi", AccountSource.OIDC)):
            create_user(
                store,
                username=name,
                display_name=name,
                department="guihua",
                roles=["viewer"],
                password=None,
                source=kind,
                actor="setup",
            )
    return path


def _app(workspace: Path, **settings: Any) -> Any:
    return create_app(
        Settings(
            workspace=str(workspace),
            auth="local",
            argon2_time_cost=HASHING.time_cost,
            argon2_memory_kib=HASHING.memory_kib,
            argon2_parallelism=HASHING.parallelism,
            **{"sign_ins_per_minute": 10_000, **settings},
        )
    )


@pytest.fixture(scope="module")
def app(workspace: Path) -> Any:
    return _app(workspace)


def signed_in(app: Any, username: str, password: str = PASSWORD) -> TestClient:
    """A client with a session of ``username``, sending its CSRF token as the pages do."""
    client = TestClient(app)
    answer = client.post("/auth/sign-in", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return client


def signs_in(app: Any, username: str, password: str) -> bool:
    with TestClient(app) as client:
        r = client.post("/auth/sign-in", json={"username": username, "password": password})
    return r.status_code == 200


_made = iter(range(1_000))


@pytest.fixture
def newcomer(app: Any) -> str:
    """A viewer the system administrator just created on the administration page (with
    PASSWORD; the security administrator's grant is done through the services)."""
    name = f"zhou{next(_made)}"
    sys = signed_in(app, "sys")
    body = {"username": name, "display_name": "周工", "department": "guihua", "password": PASSWORD}
    assert sys.post("/admin/users", json=body).status_code == 201
    with GeoPackageStore.open(app.state.settings.workspace) as store:
        account = store.user(name)
        assert account is not None and account.password_changed_at is None
        store.put_user(replace(account, roles=frozenset({"viewer"})), actor="secadmin")
    return name


def _changing(current: str = PASSWORD, new: str = NEW, again: str | None = None) -> dict[str, str]:
    return {
        "current_password": current,
        "new_password": new,
        "new_password_again": new if again is None else again,
    }


# -- signing in with an initial password --------------------------------------------------------


def test_an_administrators_password_signs_in_and_says_it_must_be_changed(
    app: Any, newcomer: str
) -> None:
    client = TestClient(app)
    answer = client.post("/auth/sign-in", json={"username": newcomer, "password": PASSWORD})
    assert answer.status_code == 200
    me = client.get("/auth/me")
    assert me.status_code == 200
    assert (me.json()["user"]["username"], me.json()["password_change"]) == (newcomer, "initial")


def test_until_changed_every_other_route_answers_403_in_chinese(app: Any, newcomer: str) -> None:
    client = signed_in(app, newcomer)
    collections = client.get("/collections")
    assert collections.status_code == 403
    assert collections.json()["code"] == DUE  # the OGC exception form under /collections
    assert collections.json()["description"].startswith("请先修改密码（初始密码）")
    for method, url in (
        ("GET", "/ui/config.json"),
        ("GET", "/collections/GHYD/items"),
        ("GET", "/auth/tokens"),
        ("POST", "/auth/tokens"),
        ("GET", "/api"),
    ):
        answer = client.request(method, url, json={"name": "QGIS"} if method == "POST" else None)
        assert answer.status_code == 403, (method, url, answer.text)
        assert answer.json()["code"] == DUE, (method, url)
    assert "/ui/password" in client.get("/ui/config.json").json()["message"]


def test_until_changed_the_pages_and_their_files_still_load(app: Any, newcomer: str) -> None:
    client = signed_in(app, newcomer)
    for url in ("/ui/password", "/ui/login", "/ui/static/password.js", "/ui/static/password.css"):
        assert client.get(url).status_code == 200, url
    assert client.get("/auth/methods").status_code == 200


def test_the_routes_open_while_a_change_is_due_are_declared() -> None:
    assert set(ROUTE_POLICIES) >= PASSWORD_CHANGE_ROUTES
    assert ("POST", "/auth/password") in PASSWORD_CHANGE_ROUTES
    assert ("GET", "/collections") not in PASSWORD_CHANGE_ROUTES


def test_signing_out_still_works(app: Any, newcomer: str) -> None:
    client = signed_in(app, newcomer)
    assert client.post("/auth/sign-out").status_code == 204
    assert client.get("/auth/me").status_code == 401


def test_an_access_token_of_the_account_keeps_working(
    app: Any, newcomer: str, workspace: Path
) -> None:
    with GeoPackageStore.open(workspace) as store:
        _token, text = create_token(store, newcomer, "QGIS", ["read"], 1, actor=newcomer)
    client = TestClient(app, headers={"Authorization": f"Bearer {text}"})
    assert client.get("/collections").status_code == 200
    assert client.get("/auth/me").json()["password_change"] == "initial"  # said, not enforced


# -- changing it ---------------------------------------------------------------------------------


def test_changing_it_opens_the_session_and_renews_it(app: Any, newcomer: str) -> None:
    client = signed_in(app, newcomer)
    old_cookie = client.cookies.get(SESSION_COOKIE)
    answer = client.post("/auth/password", json=_changing())
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["username"] == newcomer and body["password_changed_at"].endswith("Z")
    assert client.cookies.get(SESSION_COOKIE) not in (None, old_cookie)  # a new session
    assert body["csrf_token"] == client.cookies.get(CSRF_COOKIE)
    assert client.get("/collections").status_code == 200
    assert client.get("/auth/me").json()["password_change"] is None


def test_after_the_change_only_the_new_password_signs_in(app: Any, newcomer: str) -> None:
    assert signed_in(app, newcomer).post("/auth/password", json=_changing()).status_code == 200
    assert not signs_in(app, newcomer, PASSWORD)
    assert signed_in(app, newcomer, NEW).get("/auth/me").json()["password_change"] is None


def test_the_change_ends_the_users_other_sessions(app: Any, newcomer: str) -> None:
    elsewhere = signed_in(app, newcomer)
    here = signed_in(app, newcomer)
    assert here.post("/auth/password", json=_changing()).status_code == 200
    assert elsewhere.get("/auth/me").status_code == 401
    assert here.get("/auth/me").status_code == 200


def test_the_change_is_audited_with_the_department_and_address(
    app: Any, newcomer: str, workspace: Path
) -> None:
    assert signed_in(app, newcomer).post("/auth/password", json=_changing()).status_code == 200
    with GeoPackageStore.open(workspace) as store:
        entry = store.audit_records(action="change_password", actor=newcomer)[0]
    assert (entry.object, entry.department, entry.address) == (
        f"user:{newcomer}",
        "guihua",
        "testclient",
    )


def test_a_wrong_current_password_is_403_and_counted(
    app: Any, newcomer: str, workspace: Path
) -> None:
    client = signed_in(app, newcomer)
    answer = client.post("/auth/password", json=_changing(current="Wrong#2035plan"))
    assert answer.status_code == 403
    assert (answer.json()["code"], answer.json()["field"]) == ("forbidden", "current_password")
    assert answer.json()["message"].startswith("当前密码不正确")
    with GeoPackageStore.open(workspace) as store:
        account = store.user(newcomer)
        failed = store.audit_records(action="sign_in_failed", actor=newcomer)
    assert account is not None and account.failed_sign_ins == 1
    assert failed and failed[0].address == "testclient"
    assert client.get("/auth/me").json()["password_change"] == "initial"  # nothing changed


def test_wrong_current_passwords_lock_the_account_and_end_the_session(workspace: Path) -> None:
    app = _app(workspace, sign_in_max_failures=2)
    sys = signed_in(app, "sys")
    body = {"username": "locked1", "display_name": "锁", "department": None, "password": PASSWORD}
    assert sys.post("/admin/users", json=body).status_code == 201
    client = signed_in(app, "locked1")
    wrong = _changing(current="Wrong#2035plan")
    assert client.post("/auth/password", json=wrong).status_code == 403
    locked = client.post("/auth/password", json=wrong)
    assert locked.status_code == 403 and "账号已被锁定" in locked.json()["message"]
    assert client.get("/auth/me").status_code == 401
    assert not signs_in(app, "locked1", PASSWORD)


@pytest.mark.parametrize(
    ("body", "field", "said"),
    [
        (_changing(new="abcdefgh"), "new_password", "密码至少需要 3 类字符"),
        (_changing(new="Ab#1"), "new_password", "密码至少 8 位"),
        (_changing(new=PASSWORD), "new_password", "新密码不能与当前密码相同"),
        (_changing(again="Xin#2035mimA"), "new_password_again", "两次输入的新密码不一致"),
    ],
)
def test_a_bad_new_password_is_400_naming_the_rule(
    app: Any, newcomer: str, body: dict[str, str], field: str, said: str
) -> None:
    client = signed_in(app, newcomer)
    answer = client.post("/auth/password", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == field and said in answer.json()["message"]
    assert client.get("/collections").status_code == 403  # still due


def test_a_change_needs_the_csrf_token(app: Any, newcomer: str) -> None:
    client = signed_in(app, newcomer)
    del client.headers["X-CSRF-Token"]
    answer = client.post("/auth/password", json=_changing())
    assert answer.status_code == 403 and "CSRF" in answer.json()["message"]


def test_anonymous_and_token_callers_cannot_change_a_password(
    app: Any, newcomer: str, workspace: Path
) -> None:
    assert TestClient(app).post("/auth/password", json=_changing()).status_code == 401
    with GeoPackageStore.open(workspace) as store:
        _token, text = create_token(store, newcomer, "QGIS", ["read"], 1, actor=newcomer)
    token = TestClient(app, headers={"Authorization": f"Bearer {text}"})
    assert token.post("/auth/password", json=_changing()).status_code == 403


def test_changes_are_rate_limited_like_sign_ins(workspace: Path, newcomer: str) -> None:
    client = signed_in(_app(workspace, sign_ins_per_minute=2), newcomer)  # the sign-in: one
    assert client.post("/auth/password", json=_changing(new="abc")).status_code == 400
    limited = client.post("/auth/password", json=_changing())
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0


@pytest.mark.parametrize(("username", "where"), [("mulu", "目录"), ("tongyi", "统一身份认证")])
def test_a_directory_account_changes_its_password_there(
    app: Any, workspace: Path, username: str, where: str
) -> None:
    with GeoPackageStore.open(workspace) as store:
        account = store.user(username)
        assert account is not None
        _session, value = start_session(store, account, address="testclient")
    client = TestClient(app, cookies={SESSION_COOKIE: value})
    me = client.get("/auth/me").json()
    assert me["password_change"] is None
    client.headers["X-CSRF-Token"] = me["csrf_token"]
    answer = client.post("/auth/password", json=_changing())
    assert answer.status_code == 400 and where in answer.json()["message"]


def test_the_page_runs_no_inline_script_and_loads_its_own_files(app: Any) -> None:
    client = TestClient(app)
    page = client.get("/ui/password")
    assert (
        page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    )
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text), "inline script"
    assert not re.search(r"\son[a-z]+\s*=", page.text), "inline event handler"
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(/[^"]+)"', page.text)
    assert sorted(assets) == ["/ui/static/password.css", "/ui/static/password.js"]
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


# -- an expired password -------------------------------------------------------------------------


def _aged(workspace: Path, name: str, days: float) -> None:
    """``name`` chose their password ``days`` ago."""
    with GeoPackageStore.open(workspace) as store:
        if store.user(name) is None:
            create_user(
                store,
                username=name,
                display_name=name,
                department="guihua",
                roles=["viewer"],
                password=PASSWORD,
                actor="setup",
                hashing=HASHING,
            )
        account = store.user(name)
        assert account is not None
        when = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=days)
        store.put_user(replace(account, password_changed_at=when), actor="setup")


def test_an_expired_password_must_be_changed_first(app: Any, workspace: Path) -> None:
    _aged(workspace, "old91", 91)
    client = signed_in(app, "old91")
    assert client.get("/auth/me").json()["password_change"] == "expired"
    refused = client.get("/ui/config.json")
    assert refused.status_code == 403 and refused.json()["code"] == DUE
    assert refused.json()["message"].startswith(
        "请先修改密码（密码已过期）：密码已超过 90 天未修改"
    )
    assert client.post("/auth/password", json=_changing()).status_code == 200
    assert client.get("/ui/config.json").status_code == 200
    assert client.get("/auth/me").json()["password_change"] is None


def test_a_password_chosen_89_days_ago_is_still_good(app: Any, workspace: Path) -> None:
    _aged(workspace, "old89", 89)
    client = signed_in(app, "old89")
    assert client.get("/auth/me").json()["password_change"] is None
    assert client.get("/collections").status_code == 200


# -- the API description ---------------------------------------------------------------------------


def test_the_change_is_described_in_the_api(app: Any) -> None:
    doc = TestClient(app).get("/api").json()
    op = doc["paths"]["/auth/password"]["post"]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/PasswordChange"}
    assert {"200", "400", "401", "403", "429"} <= set(op["responses"])
    assert op["security"] == [{"sessionCookie": []}]
    me = doc["components"]["schemas"]["Me"]["properties"]
    assert "password_change" in me
    assert "/ui/password" not in doc["paths"]

"""The web app's security layers: every route's policy from one table (enumerated from the
app's routing table), sign-in and sessions over HTTP, CSRF, access tokens, security headers,
CORS, rate limits, and ``guotu serve`` refusing to serve without sign-in beyond this machine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner
from fastapi.testclient import TestClient
from starlette.staticfiles import StaticFiles

from guotu.cli.base import root
from guotu.domain.access.records import Department
from guotu.domain.access.roles import Permission, permissions_of
from guotu.errors import GuotuError
from guotu.services.identity import (
    SIGN_IN_REFUSED,
    create_department,
    create_token,
    create_user,
    revoke_token,
)
from guotu.services.importing import import_file
from guotu.settings import Settings
from guotu.store.geopackage import GeoPackageStore
from guotu.web.app import create_app
from guotu.web.errors import routes_of
from guotu.web.route_policies import (
    ROUTE_POLICIES,
    require_declared,
    route_keys,
    undeclared_routes,
)
from guotu.web.security import CONTENT_SECURITY_POLICY, CSRF_COOKIE, SESSION_COOKIE

PASSWORD = "Gh#2035plan"
#: Users of the test workspace: a low-privilege viewer, business roles, and the three
#: administrators of 三员分立 (each route is tried with someone who has its permission).
USERS = {
    "viewer1": ["viewer"],
    "reviewer1": ["reviewer"],
    "editor1": ["editor"],
    "clerk1": ["clerk"],
    "sysadmin1": ["sys_admin"],
    "secadmin1": ["sec_admin"],
    "auditadmin1": ["audit_admin"],
}
#: Who tries every route.
CALLERS = [
    "anonymous",
    "viewer1",
    "reviewer1",
    "clerk1",
    "sysadmin1",
    "secadmin1",
    "auditadmin1",
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("security")
    source = tmp / "ghyd.gpkg"
    gpd.GeoDataFrame(
        {"YDYHFLDM": ["0703"]},
        geometry=[shapely.box(39_540_000, 4_052_000, 39_540_100, 4_052_100)],
        crs="EPSG:4527",
    ).to_file(source, layer="GHYD")
    path = tmp / "ws.gpkg"
    with GeoPackageStore.open(path, create=True) as store:
        import_file(store, source, role="planned_land_use", layer="GHYD")
        create_department(store, Department("guihua", "国土空间规划科"), actor="sysadmin")
        for name, roles in USERS.items():
            create_user(
                store,
                username=name,
                display_name=name,
                department="guihua",
                roles=roles,
                password=PASSWORD,
                actor="sysadmin",
            )
    return path


def local_app(workspace: Path, **settings: Any) -> Any:
    return create_app(Settings(workspace=str(workspace), auth="local", **settings))


@pytest.fixture
def app(workspace: Path) -> Any:
    return local_app(workspace)


def signed_in(app: Any, username: str) -> TestClient:
    """A client with a session of ``username`` and its CSRF token in ``X-CSRF-Token``."""
    client = TestClient(app)
    answer = client.post("/auth/sign-in", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return client


# -- every route, from the routing table ------------------------------------------------------

#: A value for each path parameter that reaches the handler without costing a review run.
SAMPLES = {
    "layer": "GHYD",
    "fid": "1",
    "z": "0",
    "x": "0",
    "y": "0",
    "kind": "no-such-kind",
    "job_id": "0123456789abcdef",
    "report_id": "0123456789abcdef",
    "name": "app.js",
    "token_id": "0123456789abcdef",
    "username": "nobody",
    "department": "nowhere",
    "path": "x",
    "case_id": "2026000001",
    "n": "1",
    "token": "no-such-document",
}
#: Values for one route's parameter: (path template, parameter) → value.
ROUTE_SAMPLES = {
    ("/review/reports/{report_id}.{fmt}", "fmt"): "html",
    ("/monitor/report.{fmt}", "fmt"): "html",
    ("/ui/balance.{fmt}", "fmt"): "csv",
    ("/ui/vendor/{name}", "name"): "maplibre-gl.js",
}


def concrete(path: str) -> str:
    """The route's path template with a sample value for each parameter."""
    return re.sub(
        r"\{(\w+)(:\w+)?\}",
        lambda m: ROUTE_SAMPLES.get((path, m.group(1))) or SAMPLES[m.group(1)],
        path,
    )


def allowed(policy: str, who: str) -> bool:
    """Whether a caller (anonymous, or a user of USERS) may call a route with ``policy``."""
    if policy == "public":
        return True
    if who == "anonymous":
        return False
    if policy in ("signed_in", "session"):
        return True
    return Permission(policy.split(":")[1]) in permissions_of(USERS[who])


def every_route(app: Any) -> list[tuple[str, str]]:
    return [key for route in routes_of(app) for key in route_keys(route)]


def test_every_route_of_the_app_has_a_policy(app: Any) -> None:
    keys = every_route(app)
    assert undeclared_routes(app) == []
    assert set(keys) == set(ROUTE_POLICIES), "the table names routes the app does not have"


def test_every_route_is_tried_with_someone_allowed_and_someone_not(app: Any) -> None:
    for key in every_route(app):
        policy = ROUTE_POLICIES[key]
        assert any(allowed(policy, who) for who in CALLERS), key
        assert policy == "public" or not all(allowed(policy, who) for who in CALLERS), key


@pytest.mark.parametrize("who", CALLERS)
def test_each_route_answers_by_its_policy(app: Any, who: str) -> None:
    client = TestClient(app) if who == "anonymous" else signed_in(app, who)
    wrong = []
    for method, path in every_route(app):
        if (method, path) == ("POST", "/auth/sign-out"):
            continue  # would end the session the other requests use (checked below)
        answer = client.request(method, concrete(path))
        policy = ROUTE_POLICIES[(method, path)]
        if allowed(policy, who):
            ok = answer.status_code not in (401, 403) and (
                answer.status_code < 500 or answer.status_code == 503
            )
        else:
            ok = answer.status_code == (401 if who == "anonymous" else 403)
        if not ok:
            wrong.append((method, path, policy, answer.status_code, answer.text[:120]))
    assert wrong == []


def test_sign_out_ends_the_session(app: Any) -> None:
    client = signed_in(app, "viewer1")
    assert client.get("/auth/me").status_code == 200
    answer = client.post("/auth/sign-out")
    assert answer.status_code == 204
    assert client.get("/auth/me").status_code == 401


def test_a_route_without_a_policy_is_caught_and_never_served(app: Any, tmp_path: Path) -> None:
    @app.get("/undeclared")
    def undeclared() -> dict[str, str]:
        return {"secret": "served"}

    app.mount("/files", StaticFiles(directory=tmp_path), name="files")
    (tmp_path / "a.txt").write_text("served")
    assert undeclared_routes(app) == [("GET", "/undeclared"), ("GET", "/files/{path}")]
    with pytest.raises(GuotuError, match="/undeclared"):
        require_declared(app)
    client = TestClient(app)
    for url in ("/undeclared", "/files/a.txt"):
        answer = client.get(url)
        assert answer.status_code == 500 and "served" not in answer.text


def test_an_app_with_an_undeclared_route_is_not_built(
    monkeypatch: pytest.MonkeyPatch, workspace: Path
) -> None:
    from guotu.web import route_policies

    table = dict(ROUTE_POLICIES)
    del table[("GET", "/ui/plans.json")]
    monkeypatch.setattr(route_policies, "ROUTE_POLICIES", table)
    with pytest.raises(GuotuError, match=re.escape("/ui/plans.json")):
        local_app(workspace)


# -- signing in -----------------------------------------------------------------------------


def test_sign_in_sets_a_strict_http_only_cookie_and_answers_the_user(app: Any) -> None:
    client = TestClient(app)
    answer = client.post("/auth/sign-in", json={"username": "reviewer1", "password": PASSWORD})
    assert answer.status_code == 200
    user = answer.json()["user"]
    assert user["username"] == "reviewer1" and user["department"]["name"] == "国土空间规划科"
    assert "argon2" not in answer.text and "password" not in answer.text
    cookies = answer.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith(f"{SESSION_COOKIE}="))
    assert "HttpOnly" in session and "SameSite=strict" in session and "Path=/" in session
    assert "Secure" not in session  # listening on 127.0.0.1: no TLS to expect
    csrf = next(c for c in cookies if c.startswith(f"{CSRF_COOKIE}="))
    assert "HttpOnly" not in csrf
    assert answer.headers["cache-control"] == "no-store"


def test_cookies_are_secure_when_served_beyond_this_machine(workspace: Path) -> None:
    client = TestClient(local_app(workspace, host="0.0.0.0"))
    answer = client.post("/auth/sign-in", json={"username": "viewer1", "password": PASSWORD})
    assert all("Secure" in c for c in answer.headers.get_list("set-cookie"))


def test_sign_in_takes_a_form_too(app: Any) -> None:
    answer = TestClient(app).post(
        "/auth/sign-in", data={"username": "viewer1", "password": PASSWORD}
    )
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("username", "password"), [("viewer1", "Wrong#2035plan"), ("nobody", PASSWORD)]
)
def test_failed_sign_in_says_the_same_whatever_was_wrong(
    app: Any, username: str, password: str
) -> None:
    answer = TestClient(app).post(
        "/auth/sign-in", json={"username": username, "password": password}
    )
    assert answer.status_code == 401
    assert answer.json()["message"].startswith(SIGN_IN_REFUSED[0])
    assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")


def test_me_needs_a_user_and_gives_roles_permissions_and_csrf(app: Any) -> None:
    assert TestClient(app).get("/auth/me").status_code == 401
    client = signed_in(app, "reviewer1")
    me = client.get("/auth/me").json()
    assert [r["id"] for r in me["user"]["roles"]] == ["reviewer"]
    assert me["user"]["permissions"] == ["export", "read", "review"]
    assert me["csrf_token"] == client.headers["X-CSRF-Token"] == client.cookies[CSRF_COOKIE]


def test_sign_in_from_another_sites_page_is_refused(app: Any) -> None:
    answer = TestClient(app).post(
        "/auth/sign-in",
        json={"username": "viewer1", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert answer.status_code == 403
    same = TestClient(app).post(
        "/auth/sign-in",
        json={"username": "viewer1", "password": PASSWORD},
        headers={"Origin": "http://testserver"},
    )
    assert same.status_code == 200


def test_refusals_name_no_path_sql_or_layer(app: Any, workspace: Path) -> None:
    client = signed_in(app, "viewer1")
    answers = [
        TestClient(app).post("/review/master-plan"),  # 401
        client.post("/review/master-plan"),  # 403
        client.post("/auth/tokens", json={"name": "x"}, headers={"X-CSRF-Token": "x"}),  # csrf
    ]
    for answer in answers:
        assert answer.status_code in (401, 403)
        text = answer.text
        assert str(workspace) not in text and "SELECT" not in text and "GHYD" not in text
        assert "Traceback" not in text and re.search(r"[\u4e00-\u9fff]", answer.json()["message"])


# -- CSRF -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "status"),
    [
        (None, 403),  # missing
        ("0" * 64, 403),  # wrong
        ("right", 201),
    ],
)
def test_csrf_token_is_needed_for_a_cookie_signed_in_change(
    app: Any, header: str | None, status: int
) -> None:
    client = signed_in(app, "viewer1")
    right = client.headers.pop("X-CSRF-Token")
    headers = {} if header is None else {"X-CSRF-Token": right if header == "right" else header}
    answer = client.post(
        "/auth/tokens", json={"name": "QGIS", "scopes": ["read"], "days": 7}, headers=headers
    )
    assert answer.status_code == status, answer.text


def test_a_bearer_token_needs_no_csrf_token(app: Any, workspace: Path) -> None:
    with GeoPackageStore.open(workspace) as store:
        _, text = create_token(store, "reviewer1", "script", ["read", "export"], 7, actor="t")
    answer = TestClient(app).post(
        "/query", json={"type": "Point"}, headers={"Authorization": f"Bearer {text}"}
    )
    assert answer.status_code == 400  # the handler ran: the body is not a polygon


# -- access tokens --------------------------------------------------------------------------


@pytest.fixture
def read_token(workspace: Path) -> Iterator[tuple[str, str]]:
    """A read-scoped token of the reviewer: (id, text)."""
    with GeoPackageStore.open(workspace) as store:
        token, text = create_token(store, "reviewer1", "QGIS", ["read"], 7, actor="reviewer1")
    yield token.id, text


def test_a_read_token_reads_but_cannot_review(app: Any, read_token: tuple[str, str]) -> None:
    bearer = {"Authorization": f"Bearer {read_token[1]}"}
    client = TestClient(app)
    answer = client.get("/collections/GHYD/items", headers=bearer)
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    assert client.post("/review/master-plan", headers=bearer).status_code == 403
    assert client.get("/review/reports/0123456789abcdef.html", headers=bearer).status_code == 403
    assert client.get("/auth/tokens", headers=bearer).status_code == 403  # a session's business


def test_revoked_or_expired_tokens_are_401(
    app: Any, workspace: Path, read_token: tuple[str, str]
) -> None:
    with GeoPackageStore.open(workspace) as store:
        revoke_token(store, read_token[0], actor="reviewer1")
        _, expired = create_token(
            store, "reviewer1", "old", ["read"], 1, actor="r", now=datetime.now() - timedelta(2)
        )
    client = TestClient(app)
    for text in (read_token[1], expired, "gt_0123456789abcdef_" + "x" * 43):
        answer = client.get("/collections", headers={"Authorization": f"Bearer {text}"})
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"].startswith("Bearer")


def test_tokens_over_http_are_shown_once_listed_and_revoked(app: Any) -> None:
    client = signed_in(app, "editor1")
    made = client.post("/auth/tokens", json={"name": "GDAL", "scopes": ["read"], "days": 30})
    assert made.status_code == 201
    token, text = made.json()["token"], made.json()["text"]
    assert text.startswith(f"gt_{token['id']}_")
    listed = client.get("/auth/tokens").json()["tokens"]
    assert token["id"] in [t["id"] for t in listed] and text not in str(listed)
    reader = TestClient(client.app)
    bearer = {"Authorization": f"Bearer {text}"}
    assert reader.get("/auth/me", headers=bearer).json()["user"]["username"] == "editor1"
    assert client.delete(f"/auth/tokens/{token['id']}").status_code == 204
    assert reader.get("/auth/me", headers=bearer).status_code == 401
    # another user's token is not found
    other = signed_in(client.app, "viewer1")
    assert other.delete(f"/auth/tokens/{token['id']}").status_code == 404


# -- headers on every answer ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/collections",  # a 200 of the API
        "/no-such-route",  # a 404 of the router
        "/ui/static/app.js",  # a static file of the UI
        "/ui/vendor/maplibre-gl.js",  # a vendored npm file
        "/auth/me",  # a 401
    ],
)
def test_security_headers_on_every_answer(app: Any, url: str) -> None:
    answer = TestClient(app).get(url)
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"
    assert answer.headers["x-frame-options"] == "DENY"


def test_security_headers_on_an_internal_error(app: Any) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("no")

    answer = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert answer.status_code == 500
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_csp_has_no_inline_script_and_lets_maplibre_run() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'"
    assert "blob:" in directives["worker-src"]
    assert {"'self'", "data:", "blob:"} <= set(directives["img-src"].split())
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert (directives["base-uri"], directives["form-action"]) == ("'self'", "'self'")


@pytest.mark.parametrize("page", ["/ui/", "/ui/monitor", "/ui/login", "/ui/admin"])
def test_the_ui_loads_only_its_own_assets_under_the_csp(app: Any, page: str) -> None:
    client = TestClient(app)
    html = client.get(page)
    assert html.status_code == 200
    text = html.text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline script"
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler"
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', text)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        if asset.startswith("data:"):
            continue  # the empty favicon: img-src allows data:
        assert asset.startswith("/"), asset  # same origin
        assert client.get(asset).status_code == 200, asset


def test_answers_to_signed_in_users_are_not_cached(app: Any) -> None:
    client = signed_in(app, "viewer1")
    assert client.get("/collections").headers["cache-control"] == "no-store"
    vendor = client.get("/ui/vendor/maplibre-gl.js").headers["cache-control"]
    assert "public" not in vendor and "private" in vendor
    assert "public" in TestClient(app).get("/ui/vendor/maplibre-gl.js").headers["cache-control"]


# -- CORS -----------------------------------------------------------------------------------


def test_no_cors_without_an_allow_list(app: Any) -> None:
    answer = TestClient(app).get("/collections", headers={"Origin": "https://portal.gov.cn"})
    assert "access-control-allow-origin" not in answer.headers


def test_cors_for_the_allowed_origins_only(workspace: Path) -> None:
    client = TestClient(local_app(workspace, cors_origins=("https://portal.gov.cn",)))
    allowed_answer = client.get("/collections", headers={"Origin": "https://portal.gov.cn"})
    assert allowed_answer.headers["access-control-allow-origin"] == "https://portal.gov.cn"
    other = client.get("/collections", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = client.options(
        "/auth/tokens",
        headers={
            "Origin": "https://portal.gov.cn",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "X-CSRF-Token",
        },
    )
    assert preflight.status_code == 200
    assert "x-csrf-token" in preflight.headers["access-control-allow-headers"].lower()


# -- rate limits ----------------------------------------------------------------------------


def test_sign_ins_beyond_the_limit_answer_429(workspace: Path) -> None:
    client = TestClient(local_app(workspace, sign_ins_per_minute=3))
    wrong = {"username": "nobody", "password": "Wrong#2035plan"}
    assert [client.post("/auth/sign-in", json=wrong).status_code for _ in range(3)] == [401] * 3
    answer = client.post("/auth/sign-in", json={"username": "viewer1", "password": PASSWORD})
    assert answer.status_code == 429
    assert 0 < int(answer.headers["retry-after"]) <= 60
    assert answer.json()["message"].startswith("登录尝试过于频繁")


def test_review_submissions_beyond_the_limit_answer_429(workspace: Path) -> None:
    app = local_app(workspace, uploads_per_minute=1)
    client = signed_in(app, "reviewer1")
    assert client.post("/review/no-such-kind").status_code == 400
    answer = client.post("/review/no-such-kind")
    assert answer.status_code == 429 and "retry-after" in answer.headers
    # the limit is per user: another reviewer is not held up
    assert signed_in(app, "reviewer1").post("/review/no-such-kind").status_code == 429
    assert client.get("/collections").status_code == 200


# -- auth = none: one local user, on this machine only ------------------------------------------


def test_without_sign_in_the_local_user_has_the_business_roles(workspace: Path) -> None:
    client = TestClient(create_app(Settings(workspace=str(workspace))))
    me = client.get("/auth/me").json()
    assert {r["id"] for r in me["user"]["roles"]} == {"viewer", "editor", "reviewer", "approver"}
    assert me["via"] == "local" and me["csrf_token"] is None
    assert client.post("/auth/sign-in", json={"username": "x", "password": "y"}).status_code == 400
    # another site's page cannot make the local user act
    forged = client.post("/query", json={}, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403


def test_without_sign_in_other_machines_are_refused(workspace: Path) -> None:
    app = create_app(Settings(workspace=str(workspace)))
    remote = TestClient(app, client=("10.0.0.5", 40000))
    answer = remote.get("/collections")
    assert answer.status_code == 403 and "auth = none" in answer.json()["description"]
    assert TestClient(app, client=("127.0.0.1", 40000)).get("/collections").status_code == 200


def test_serve_refuses_a_non_loopback_host_without_sign_in(
    monkeypatch: pytest.MonkeyPatch, workspace: Path
) -> None:
    monkeypatch.delenv("GUOTU_AUTH", raising=False)
    ran: list[str] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: ran.append(kw["host"]))
    out = CliRunner().invoke(root, ["serve", "-w", str(workspace), "--host", "0.0.0.0"])
    assert out.exit_code == 2 and ran == []
    assert "auth = none" in out.output and "GUOTU_AUTH" in out.output
    assert re.search(r"[\u4e00-\u9fff]", out.output)
    # on this machine it serves; with sign-in configured, beyond it too
    assert CliRunner().invoke(root, ["serve", "-w", str(workspace)]).exit_code == 0
    monkeypatch.setenv("GUOTU_AUTH", "local")
    out = CliRunner().invoke(root, ["serve", "-w", str(workspace), "--host", "0.0.0.0"])
    assert out.exit_code == 0, out.output
    assert ran == ["127.0.0.1", "0.0.0.0"]

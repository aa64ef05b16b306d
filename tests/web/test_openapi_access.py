"""The API description (``/api``) tells the truth about access control: each operation's
401, 403 and 429, its ``security`` and the security schemes follow from the route policy
table and the rate-limit table, and sampled routes really answer what they declare.

What each policy implies is computed here from the tables themselves (not by the module that
writes the document, :mod:`guotu.web.openapi_access`):

* with sign-in (``auth = local``): 401 on every route that is not public; 403 on ``session``
  and ``permission:…`` routes and on every unsafe method (CSRF, Origin); 429 on the routes of
  ``RATE_LIMITED``; plus whatever a route declares itself (a refused sign-in's 401, a full
  job queue's 429);
* without (``auth = none``): no 401 and no rate limit; 403 where the local user is refused
  (``session`` routes and permissions it lacks) and on every unsafe method.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV30SpecValidator

from guotu.domain.access.records import Department
from guotu.services.access import local_principal
from guotu.services.identity import TOKEN_SCOPES, create_department, create_token, create_user
from guotu.services.importing import import_file
from guotu.settings import Settings
from guotu.store.geopackage import GeoPackageStore
from guotu.web.app import create_app
from guotu.web.auth_models import AccessTokens, Me
from guotu.web.errors import is_ogc_path, routes_of
from guotu.web.limits import RATE_LIMITED
from guotu.web.openapi_access import declare_access
from guotu.web.route_policies import ROUTE_POLICIES, route_keys

PASSWORD = "Gh#2035plan"
USERS = {"viewer1": ["viewer"], "reviewer1": ["reviewer"]}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
STATUSES = {"401", "403", "429"}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("openapi_access")
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


@pytest.fixture(scope="module")
def app(workspace: Path) -> Any:
    return create_app(Settings(workspace=str(workspace), auth="local"))


@pytest.fixture(scope="module")
def doc(app: Any) -> dict[str, Any]:
    answer = TestClient(app).get("/api")
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


@pytest.fixture(scope="module")
def local_app(workspace: Path) -> Any:
    return create_app(Settings(workspace=str(workspace)))  # auth = none


@pytest.fixture(scope="module")
def local_doc(local_app: Any) -> dict[str, Any]:
    body: dict[str, Any] = TestClient(local_app).get("/api").json()
    return body


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method != "parameters"
    ]


def table_key(method: str, path: str) -> tuple[str, str]:
    """The policy table's key of a documented operation: its own, or for a collection's own
    items path (``/collections/GHYD/items``) the template it was copied from."""
    if (method, path) in ROUTE_POLICIES:
        return method, path
    found = [
        (m, template)
        for m, template in ROUTE_POLICIES
        if m == method and re.fullmatch(re.sub(r"\{\w+\}", "[^/]+", template), path)
    ]
    assert len(found) == 1, (method, path, found)
    return found[0]


def own_statuses(app: Any) -> dict[tuple[str, str], set[str]]:
    """The statuses each route declares itself (``responses=`` on the route)."""
    return {
        key: {str(s) for s in (getattr(route, "responses", None) or {})}
        for route in routes_of(app)
        for key in route_keys(route)
    }


def implied_with_sign_in(key: tuple[str, str]) -> set[str]:
    method, policy = key[0], ROUTE_POLICIES[key]
    out = set()
    if policy != "public":
        out.add("401")
    if policy == "session" or policy.startswith("permission:") or method in UNSAFE:
        out.add("403")
    if key in RATE_LIMITED:
        out.add("429")
    return out


def implied_without_sign_in(key: tuple[str, str]) -> set[str]:
    method, policy = key[0], ROUTE_POLICIES[key]
    local = {p.value for p in local_principal().permissions}
    lacks = policy.startswith("permission:") and policy.partition(":")[2] not in local
    return {"403"} if policy == "session" or lacks or method in UNSAFE else set()


# -- the declared statuses equal what the tables imply ----------------------------------------


def test_with_sign_in_each_operation_declares_what_its_policy_implies(
    app: Any, doc: dict[str, Any]
) -> None:
    own = own_statuses(app)
    wrong = []
    for method, path, op in operations(doc):
        key = table_key(method, path)
        wanted = implied_with_sign_in(key) | (own.get(key, set()) & STATUSES)
        declared = set(op["responses"]) & STATUSES
        if declared != wanted:
            wrong.append((method, path, ROUTE_POLICIES[key], sorted(declared), sorted(wanted)))
    assert wrong == []


def test_without_sign_in_only_the_local_users_refusals_are_declared(
    local_app: Any, local_doc: dict[str, Any]
) -> None:
    own = own_statuses(local_app)
    wrong = []
    for method, path, op in operations(local_doc):
        key = table_key(method, path)
        wanted = implied_without_sign_in(key) | (own.get(key, set()) & STATUSES)
        declared = set(op["responses"]) & STATUSES
        if declared != wanted:
            wrong.append((method, path, ROUTE_POLICIES[key], sorted(declared), sorted(wanted)))
    assert wrong == []
    assert "securitySchemes" not in local_doc["components"]
    assert not any("security" in op for _, _, op in operations(local_doc))
    assert "auth = none" in local_doc["info"]["description"]  # remote callers: 403 anywhere


def test_refusals_carry_the_error_schema_and_their_headers(doc: dict[str, Any]) -> None:
    for method, path, op in operations(doc):
        key = table_key(method, path)
        wanted_schema = "OGCException" if is_ogc_path(path) else "Error"
        for status in set(op["responses"]) & STATUSES:
            response = op["responses"][status]
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": f"#/components/schemas/{wanted_schema}"}, (method, path)
            assert response["description"], (method, path, status)
        if "401" in implied_with_sign_in(key):
            header = op["responses"]["401"]["headers"]["WWW-Authenticate"]
            assert header["required"] is True, (method, path)
        if key in RATE_LIMITED:
            assert "Retry-After" in op["responses"]["429"]["headers"], (method, path)


def test_security_requirements_follow_the_policy(doc: dict[str, Any]) -> None:
    token_permissions = {p.value for p in TOKEN_SCOPES}
    bearer, cookie = {"accessToken": []}, {"sessionCookie": []}
    for method, path, op in operations(doc):
        policy = ROUTE_POLICIES[table_key(method, path)]
        name = policy.partition(":")[2]
        if policy == "public":
            wanted: list[dict[str, list[str]]] = [{}, bearer, cookie]
        elif policy == "session" or (name and name not in token_permissions):
            wanted = [cookie]  # a token carries read and export at most
        else:
            wanted = [bearer, cookie]
        assert op["security"] == wanted, (method, path, policy)
        assert op["x-guotu-policy"] == policy


def test_the_security_schemes_are_declared(doc: dict[str, Any]) -> None:
    schemes = doc["components"]["securitySchemes"]
    assert schemes["accessToken"]["type"] == "http"
    assert schemes["accessToken"]["scheme"] == "bearer"
    assert schemes["accessToken"]["bearerFormat"].startswith("gt_")
    cookie = schemes["sessionCookie"]
    assert (cookie["type"], cookie["in"], cookie["name"]) == ("apiKey", "cookie", "guotu_session")
    assert "401" in doc["info"]["description"]  # an invalid token: 401 on every route


def test_the_document_with_sign_in_is_valid_openapi_30(doc: dict[str, Any]) -> None:
    validate(doc, cls=OpenAPIV30SpecValidator)


def test_auth_routes_are_described_and_pages_are_not(doc: dict[str, Any]) -> None:
    paths = doc["paths"]
    me = paths["/auth/me"]["get"]["responses"]["200"]["content"]["application/json"]
    assert me["schema"] == {"$ref": "#/components/schemas/Me"}
    tokens = paths["/auth/tokens"]
    assert tokens["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AccessTokens"
    }
    assert tokens["post"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NewToken"
    }
    sign_in = paths["/auth/sign-in"]["post"]["requestBody"]["content"]
    assert set(sign_in) == {"application/json", "application/x-www-form-urlencoded"}
    assert {"/auth/sign-out", "/auth/tokens/{token_id}"} <= set(paths)
    assert not {"/ui/login", "/ui/admin"} & set(paths)


# -- sampled routes answer what they declare ----------------------------------------------------


def session_of(app: Any, username: str, *, csrf: bool = True) -> TestClient:
    client = TestClient(app)
    answer = client.post("/auth/sign-in", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    if csrf:
        client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return client


def token_of(app: Any, workspace: Path, username: str) -> TestClient:
    with GeoPackageStore.open(workspace) as store:
        _token, text = create_token(store, username, "脚本", ["read", "export"], 1, actor=username)
    return TestClient(app, headers={"Authorization": f"Bearer {text}"})


JOB = "/review/jobs/0123456789abcdef"
#: (caller, method, URL, operation's path, status): anonymous callers of permission and
#: signed-in routes, a viewer without review or export, a token where it cannot go, a session
#: without its CSRF token, another site's page.
SAMPLED = [
    ("anonymous", "GET", JOB, "/review/jobs/{job_id}", 401),
    ("anonymous", "GET", "/monitor/report.html", "/monitor/report.{fmt}", 401),
    ("anonymous", "GET", "/auth/me", "/auth/me", 401),
    ("anonymous", "GET", "/auth/tokens", "/auth/tokens", 401),
    ("viewer1", "GET", JOB, "/review/jobs/{job_id}", 403),
    ("viewer1", "GET", "/monitor/report.html", "/monitor/report.{fmt}", 403),
    ("token:reviewer1", "GET", "/auth/tokens", "/auth/tokens", 403),
    ("token:reviewer1", "GET", JOB, "/review/jobs/{job_id}", 403),
    ("session-without-csrf:reviewer1", "POST", "/auth/tokens", "/auth/tokens", 403),
    ("another-site", "POST", "/query", "/query", 403),
]


@pytest.mark.parametrize(("who", "method", "url", "path", "status"), SAMPLED)
def test_sampled_routes_answer_what_they_declare(
    app: Any,
    doc: dict[str, Any],
    workspace: Path,
    who: str,
    method: str,
    url: str,
    path: str,
    status: int,
) -> None:
    kind, _, username = who.partition(":")
    if who in ("anonymous", "another-site"):
        client = TestClient(app)
    elif kind == "token":
        client = token_of(app, workspace, username)
    elif kind == "session-without-csrf":
        client = session_of(app, username, csrf=False)
    else:
        client = session_of(app, who)
    headers = {"Origin": "https://elsewhere.example"} if who == "another-site" else {}
    body = {"name": "x"} if (method, path) == ("POST", "/auth/tokens") else None
    answer = client.request(method, url, headers=headers, json=body)
    assert answer.status_code == status, answer.text
    declared = doc["paths"][path][method.lower()]["responses"]
    assert str(status) in declared
    assert {"code", "message", "status"} <= set(answer.json())  # the Error schema
    for name, header in declared[str(status)].get("headers", {}).items():
        assert not header["required"] or name in answer.headers, name


def test_a_rate_limited_route_answers_its_declared_429(
    workspace: Path, doc: dict[str, Any]
) -> None:
    client = TestClient(
        create_app(Settings(workspace=str(workspace), auth="local", sign_ins_per_minute=1))
    )
    wrong = {"username": "viewer1", "password": "Wrong#2035plan"}
    assert client.post("/auth/sign-in", json=wrong).status_code == 401
    answer = client.post("/auth/sign-in", json=wrong)
    assert answer.status_code == 429
    declared = doc["paths"]["/auth/sign-in"]["post"]["responses"]
    assert "429" in declared and "401" in declared
    assert declared["429"]["headers"]["Retry-After"]["required"] is True
    assert int(answer.headers["Retry-After"]) > 0


def test_the_auth_answers_fit_their_models(app: Any, workspace: Path) -> None:
    client = session_of(app, "reviewer1")
    me = Me.model_validate(client.get("/auth/me").json())
    assert me.via == "session" and me.csrf_token
    made = client.post("/auth/tokens", json={"name": "QGIS"})
    assert made.status_code == 201 and made.json()["text"].startswith("gt_")
    tokens = AccessTokens.model_validate(client.get("/auth/tokens").json())
    assert any(t.name == "QGIS" for t in tokens.tokens)
    via_token = TestClient(app, headers={"Authorization": f"Bearer {made.json()['text']}"})
    assert Me.model_validate(via_token.get("/auth/me").json()).scopes == ["read"]


# -- routes added later, and the page ---------------------------------------------------------


def test_routes_added_later_are_described_by_their_policy_alone() -> None:
    ok = {"200": {"description": "OK"}}
    doc: dict[str, Any] = {
        "info": {"title": "t"},
        "paths": {
            "/auth/oidc/start": {"get": {"responses": dict(ok)}},
            "/admin/things": {"post": {"responses": dict(ok)}},
            "/not/in/the/table": {"get": {"responses": dict(ok)}},
        },
    }
    policies = {
        ("GET", "/auth/oidc/start"): "public",
        ("POST", "/admin/things"): "permission:manage_accounts",
    }
    declare_access(doc, auth="local", is_ogc=lambda path: False, policies=policies)
    start, things = doc["paths"]["/auth/oidc/start"]["get"], doc["paths"]["/admin/things"]["post"]
    assert set(start["responses"]) == {"200"} and start["security"][0] == {}
    assert set(things["responses"]) == {"200", "401", "403"}
    assert things["security"] == [{"sessionCookie": []}]
    assert doc["paths"]["/not/in/the/table"]["get"] == {"responses": ok}


def test_the_api_page_says_who_may_call_each_route(app: Any) -> None:
    page = TestClient(app).get("/api.html").text
    rows = dict(
        re.findall(r"<code>(/auth/tokens|/review/jobs/\{job_id\})</code>(.*?)</tr>", page, re.S)
    )
    assert "需在浏览器中登录" in rows["/auth/tokens"]
    assert "需 review 权限（审查人员" in rows["/review/jobs/{job_id}"]
    assert page.index("访问控制") < page.index("Access control")  # Chinese first

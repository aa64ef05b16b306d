"""The administration routes (/admin/*, guotu.web.admin) in process: who may call each (the
route-policy table, 三员分立), and what each administrator can do through them."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from guotu.demo.build import build_demo
from guotu.domain.access.passwords import password_problems
from guotu.domain.access.records import AccountSource, Department
from guotu.services.identity import (
    HashParameters,
    create_department,
    create_user,
)
from guotu.services.workspace import open_workspace
from guotu.settings import Settings
from guotu.web.app import create_app
from guotu.web.route_policies import ROUTE_POLICIES

PASSWORD = "Gh#2035plan"
#: Cheap argon2id parameters: the tests sign in many times.
HASHING = HashParameters(time_cost=1, memory_kib=1024, parallelism=1)
#: The seeded accounts: user name → (department, roles).
ACCOUNTS = {
    "sys": ("xinxi", ["sys_admin"]),
    "sec": (None, ["sec_admin"]),
    "aud": (None, ["audit_admin"]),
    "wang": ("gengdi", ["viewer"]),
}
#: Every admin route, with a path to call it at, a body, and the permission it needs.
ROUTES = [
    ("GET", "/admin/accounts.json", "/admin/accounts.json", None, "manage_accounts"),
    ("POST", "/admin/users", "/admin/users", {"username": "x"}, "manage_accounts"),
    (
        "POST",
        "/admin/users/{username}/disable",
        "/admin/users/wang/disable",
        None,
        "manage_accounts",
    ),
    ("POST", "/admin/users/{username}/enable", "/admin/users/wang/enable", None, "manage_accounts"),
    ("POST", "/admin/users/{username}/unlock", "/admin/users/wang/unlock", None, "manage_accounts"),
    (
        "POST",
        "/admin/users/{username}/password",
        "/admin/users/wang/password",
        {"generate": True},
        "manage_accounts",
    ),
    ("POST", "/admin/departments", "/admin/departments", {"id": "x"}, "manage_accounts"),
    (
        "PUT",
        "/admin/departments/{department}",
        "/admin/departments/gengdi",
        {"name": "x", "kind": "internal", "regions": [], "active": True},
        "manage_accounts",
    ),
    ("GET", "/admin/roles.json", "/admin/roles.json", None, "grant"),
    ("PUT", "/admin/users/{username}/roles", "/admin/users/wang/roles", {"roles": []}, "grant"),
    ("GET", "/admin/policies.json", "/admin/policies.json", None, "set_policy"),
    ("PUT", "/admin/policies/{layer}", "/admin/policies/GHYD", {"grade": "x"}, "set_policy"),
    ("GET", "/admin/audit.json", "/admin/audit.json", None, "read_audit"),
    ("GET", "/admin/audit.csv", "/admin/audit.csv", None, "read_audit"),
]
#: Who holds which administrator permission.
HOLDER = {"manage_accounts": "sys", "grant": "sec", "set_policy": "sec", "read_audit": "aud"}


def _settings(workspace: Path, auth: str = "local") -> Settings:
    return Settings(
        workspace=str(workspace),
        auth=auth,
        argon2_time_cost=HASHING.time_cost,
        argon2_memory_kib=HASHING.memory_kib,
        argon2_parallelism=HASHING.parallelism,
        sign_ins_per_minute=10_000,
        sign_in_max_failures=2,
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("admin_http")
    result = build_demo(base / "demo.gpkg", base / "files", parcels=1000, seed=20261122)
    with open_workspace(result.workspace) as store:
        create_department(store, Department("gengdi", "耕地保护科"), actor="setup")
        create_department(store, Department("guihua", "规划科"), actor="setup")
        create_department(store, Department("xinxi", "信息中心"), actor="setup")
        for username, (department, roles) in ACCOUNTS.items():
            create_user(
                store,
                username=username,
                display_name=f"{username} 工",
                department=department,
                roles=roles,
                password=PASSWORD,
                actor="setup",
                hashing=HASHING,
            )
    return Path(result.workspace)


@pytest.fixture(scope="module")
def app(workspace: Path) -> Any:
    return create_app(_settings(workspace))


def _signed_in(app: Any, username: str, password: str = PASSWORD) -> TestClient:
    """A client signed in as ``username``, sending its CSRF token like the page does."""
    client = TestClient(app)
    r = client.post("/auth/sign-in", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return client


@pytest.fixture(scope="module")
def clients(app: Any) -> Iterator[dict[str, TestClient]]:
    found = {name: _signed_in(app, name) for name in ACCOUNTS}
    yield found
    for client in found.values():
        client.close()


def _call(client: TestClient, method: str, path: str, body: Any) -> Any:
    return client.request(method, path, json=body)


# -- who may call what ------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "template", "_path", "_body", "permission"), ROUTES)
def test_each_admin_route_declares_its_permission(
    method: str, template: str, _path: str, _body: Any, permission: str
) -> None:
    assert ROUTE_POLICIES[(method, template)] == f"permission:{permission}"


def test_every_admin_route_is_in_the_table(app: Any) -> None:
    declared = {(m, t) for m, t in ROUTE_POLICIES if t.startswith("/admin/")}
    assert declared == {(m, t) for m, t, *_ in ROUTES}


@pytest.mark.parametrize(("method", "_template", "path", "body", "_permission"), ROUTES)
def test_anonymous_is_refused_with_401(
    app: Any, method: str, _template: str, path: str, body: Any, _permission: str
) -> None:
    with TestClient(app) as client:
        r = _call(client, method, path, body)
    assert r.status_code == 401
    assert r.json()["code"] == "unauthenticated"


@pytest.mark.parametrize(
    ("username", "method", "path", "body"),
    [
        (username, method, path, body)
        for method, _template, path, body, permission in ROUTES
        for username in ("wang", "sys", "sec", "aud")
        if HOLDER[permission] != username
    ],
)
def test_a_user_without_the_permission_gets_403(
    clients: dict[str, TestClient], username: str, method: str, path: str, body: Any
) -> None:
    r = _call(clients[username], method, path, body)
    assert r.status_code == 403
    assert "您的角色无权执行此操作" in r.json()["message"]


def test_a_change_without_the_csrf_token_is_refused(app: Any) -> None:
    client = _signed_in(app, "sys")
    del client.headers["X-CSRF-Token"]
    r = client.post("/admin/departments", json={"id": "csrf", "name": "无令牌"})
    assert r.status_code == 403 and "CSRF" in r.json()["message"]
    assert "csrf" not in {
        d["id"] for d in _signed_in(app, "sys").get("/admin/accounts.json").json()["departments"]
    }


def test_without_sign_in_the_local_user_administers_nothing(workspace: Path) -> None:
    with TestClient(create_app(_settings(workspace, auth="none"))) as client:
        assert client.get("/admin/accounts.json").status_code == 403
        assert client.get("/admin/audit.json").status_code == 403


# -- the system administrator -----------------------------------------------------------------


def test_sys_admin_lists_accounts_departments_and_roles(clients: dict[str, TestClient]) -> None:
    doc = clients["sys"].get("/admin/accounts.json").json()
    users = {u["username"]: u for u in doc["users"]}
    assert users["wang"]["department"] == {"id": "gengdi", "name": "耕地保护科"}
    assert users["wang"]["roles"] == ["viewer"] and users["wang"]["state"] == "active"
    assert all("password" not in str(u) and "hash" not in u for u in doc["users"])
    assert {"gengdi", "guihua"} <= {d["id"] for d in doc["departments"]}
    assert {r["id"] for r in doc["roles"]} >= {"viewer", "sys_admin", "sec_admin", "audit_admin"}


def test_sys_admin_creates_an_account_without_roles(clients: dict[str, TestClient]) -> None:
    body = {
        "username": "zhao",
        "display_name": "赵工",
        "department": "guihua",
        "password": PASSWORD,
    }
    r = clients["sys"].post("/admin/users", json=body)
    assert r.status_code == 201
    assert r.json()["user"]["roles"] == [] and r.json()["user"]["state"] == "active"


def test_a_weak_password_is_refused_in_chinese(clients: dict[str, TestClient]) -> None:
    body = {"username": "qian", "display_name": "钱工", "department": None, "password": "123"}
    r = clients["sys"].post("/admin/users", json=body)
    assert r.status_code == 400 and r.json()["field"] == "password"
    assert "密码" in r.json()["message"]


def test_sys_admin_adds_a_department(clients: dict[str, TestClient]) -> None:
    body = {"id": "zhen1", "name": "一号镇人民政府", "regions": ["330102001"]}
    r = clients["sys"].post("/admin/departments", json=body)
    assert r.status_code == 201 and r.json()["department"]["regions"] == ["330102001"]
    again = clients["sys"].post("/admin/departments", json=body)
    assert again.status_code == 400 and "已被使用" in again.json()["message"]


def test_disabling_an_account_ends_its_sessions_and_enabling_restores_it(
    app: Any, clients: dict[str, TestClient], workspace: Path
) -> None:
    with open_workspace(workspace) as store:
        create_user(
            store,
            username="sun",
            display_name="孙工",
            department=None,
            roles=["viewer"],
            password=PASSWORD,
            actor="setup",
            hashing=HASHING,
        )
    sun = _signed_in(app, "sun")
    assert sun.get("/auth/me").status_code == 200
    r = clients["sys"].post("/admin/users/sun/disable")
    assert r.status_code == 200 and r.json()["user"]["state"] == "disabled"
    assert sun.get("/auth/me").status_code == 401
    assert clients["sys"].post("/admin/users/sun/enable").json()["user"]["state"] == "active"
    assert _signed_in(app, "sun").get("/auth/me").status_code == 200


def test_sys_admin_unlocks_a_locked_account(
    app: Any, clients: dict[str, TestClient], workspace: Path
) -> None:
    with open_workspace(workspace) as store:
        create_user(
            store,
            username="zhou",
            display_name="周工",
            department=None,
            roles=["viewer"],
            password=PASSWORD,
            actor="setup",
            hashing=HASHING,
        )
    with TestClient(app) as client:
        for _ in range(2):  # sign_in_max_failures
            client.post("/auth/sign-in", json={"username": "zhou", "password": "wrong"})
        assert (
            client.post(
                "/auth/sign-in", json={"username": "zhou", "password": PASSWORD}
            ).status_code
            == 401
        )
    users = {u["username"]: u for u in clients["sys"].get("/admin/accounts.json").json()["users"]}
    assert users["zhou"]["state"] == "locked"
    r = clients["sys"].post("/admin/users/zhou/unlock")
    assert r.status_code == 200 and r.json()["user"]["state"] == "active"
    assert _signed_in(app, "zhou").get("/auth/me").status_code == 200


def test_an_administrator_cannot_disable_their_own_account(clients: dict[str, TestClient]) -> None:
    r = clients["sys"].post("/admin/users/sys/disable")
    assert r.status_code == 403 and "不能停用自己的账号" in r.json()["message"]


def test_an_unknown_user_is_404(clients: dict[str, TestClient]) -> None:
    r = clients["sys"].post("/admin/users/nobody/unlock")
    assert r.status_code == 404 and "nobody" in r.json()["message"]


# -- the system administrator: passwords --------------------------------------------------------


def _new_account(workspace: Path, username: str, **kw: Any) -> None:
    """A local viewer ``username`` with :data:`PASSWORD` (``kw`` overrides)."""
    with open_workspace(workspace) as store:
        create_user(
            store,
            **{
                "username": username,
                "display_name": f"{username} 工",
                "department": None,
                "roles": ["viewer"],
                "password": PASSWORD,
                "actor": "setup",
                "hashing": HASHING,
                **kw,
            },
        )


def _signs_in(app: Any, username: str, password: str) -> bool:
    with TestClient(app) as client:
        r = client.post("/auth/sign-in", json={"username": username, "password": password})
    return r.status_code == 200


def test_a_typed_password_replaces_the_old_one(
    app: Any, clients: dict[str, TestClient], workspace: Path
) -> None:
    _new_account(workspace, "feng")
    body = {"password": "Xin#2035mima", "password_again": "Xin#2035mima"}
    r = clients["sys"].post("/admin/users/feng/password", json=body)
    assert r.status_code == 200 and "password" not in r.json()
    assert r.json()["user"]["username"] == "feng"
    assert _signs_in(app, "feng", "Xin#2035mima")
    assert not _signs_in(app, "feng", PASSWORD)


def test_a_generated_password_is_shown_once_and_signs_in(
    app: Any, clients: dict[str, TestClient], workspace: Path
) -> None:
    _new_account(workspace, "chu")
    r = clients["sys"].post("/admin/users/chu/password", json={"generate": True})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    temporary = r.json()["password"]
    assert re.fullmatch(r"[A-Za-z2-9]{4}-[A-Za-z2-9]{4}-[A-Za-z2-9]{4}", temporary)
    assert password_problems(temporary, "chu") == []
    assert temporary not in clients["sys"].get("/admin/accounts.json").text
    assert _signs_in(app, "chu", temporary)
    assert not _signs_in(app, "chu", PASSWORD)


def test_a_reset_ends_the_accounts_sessions(
    app: Any, clients: dict[str, TestClient], workspace: Path
) -> None:
    _new_account(workspace, "wei")
    wei = _signed_in(app, "wei")
    assert wei.get("/auth/me").status_code == 200
    assert clients["sys"].post("/admin/users/wei/password", json={"generate": True}).is_success
    assert wei.get("/auth/me").status_code == 401


def test_a_reset_is_audited_with_the_administrators_department_and_address(
    clients: dict[str, TestClient], workspace: Path
) -> None:
    _new_account(workspace, "jiang")
    assert clients["sys"].post("/admin/users/jiang/password", json={"generate": True}).is_success
    with open_workspace(workspace) as store:
        (entry,) = [e for e in store.audit_log() if e.object == "user:jiang" and e.actor == "sys"]
    assert (entry.action, entry.department, entry.address) == (
        "set_password",
        "xinxi",
        "testclient",
    )
    assert "$argon2" not in str(entry.detail)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        # breaks the password rules (length, kinds)
        ({"password": "abc", "password_again": "abc"}, "password", "密码至少 8 位"),
        # holds the user name
        (
            {"password": "Han#han2035", "password_again": "Han#han2035"},
            "password",
            "密码不能包含用户名",
        ),
        # typed differently the second time
        (
            {"password": "Xin#2035mima", "password_again": "Xin#2035mimA"},
            "password_again",
            "两次输入的密码不一致",
        ),
        # the second entry left out
        ({"password": "Xin#2035mima"}, "password_again", "两次输入的密码不一致"),
        # generated and typed at once
        (
            {"generate": True, "password": "Xin#2035mima", "password_again": "Xin#2035mima"},
            "password",
            "不能既生成临时密码又填写密码",
        ),
        # nothing at all
        ({}, "password", "没有填写新密码"),
    ],
)
def test_a_bad_new_password_is_refused_and_nothing_changes(
    app: Any,
    clients: dict[str, TestClient],
    workspace: Path,
    body: dict[str, Any],
    field: str,
    words: str,
) -> None:
    with open_workspace(workspace) as store:
        if store.user("han") is None:
            _new_account(workspace, "han")
        before = store.user("han")
    r = clients["sys"].post("/admin/users/han/password", json=body)
    assert r.status_code == 400 and r.json()["field"] == field
    assert words in r.json()["message"]
    with open_workspace(workspace) as store:
        assert store.user("han") == before
    assert _signs_in(app, "han", PASSWORD)


@pytest.mark.parametrize(
    ("source", "words"),
    [
        (AccountSource.LDAP, "是目录（LDAP）账号，密码由目录服务器保管，不能在本系统重置"),
        (AccountSource.OIDC, "是统一认证（OIDC）账号，密码由统一认证平台保管，不能在本系统重置"),
    ],
)
def test_a_directory_accounts_password_is_not_reset_here(
    clients: dict[str, TestClient], workspace: Path, source: AccountSource, words: str
) -> None:
    username = f"dir_{source.value}"
    _new_account(workspace, username, source=source, password=None)
    r = clients["sys"].post(f"/admin/users/{username}/password", json={"generate": True})
    assert r.status_code == 400 and words in r.json()["message"]
    assert "password" not in r.json()
    with open_workspace(workspace) as store:
        account = store.user(username)
    assert account is not None and account.password_hash is None


def test_the_security_administrator_cannot_reset_a_password(
    app: Any, clients: dict[str, TestClient], workspace: Path
) -> None:
    _new_account(workspace, "yang")
    body = {"password": "Xin#2035mima", "password_again": "Xin#2035mima"}
    r = clients["sec"].post("/admin/users/yang/password", json=body)
    assert r.status_code == 403 and "需要“账号管理”权限" in r.json()["message"]
    assert _signs_in(app, "yang", PASSWORD) and not _signs_in(app, "yang", "Xin#2035mima")


def test_an_administrator_cannot_reset_their_own_password_here(
    clients: dict[str, TestClient],
) -> None:
    r = clients["sys"].post("/admin/users/sys/password", json={"generate": True})
    assert r.status_code == 403 and "不能在此重置自己的密码" in r.json()["message"]


@pytest.mark.parametrize(("username", "role"), [("sec", "安全管理员"), ("aud", "审计管理员")])
def test_another_administrators_password_is_not_reset_here(
    app: Any, clients: dict[str, TestClient], username: str, role: str
) -> None:
    # whoever set it could act as them: one person would hold two duties (三员分立)
    r = clients["sys"].post(f"/admin/users/{username}/password", json={"generate": True})
    assert r.status_code == 403 and "password" not in r.json()
    assert f"担任{role}：管理员的密码不能由另一位管理员在此重置（三员分立）" in r.json()["message"]
    assert _signs_in(app, username, PASSWORD)


def test_resetting_an_unknown_users_password_is_404(clients: dict[str, TestClient]) -> None:
    r = clients["sys"].post("/admin/users/nobody/password", json={"generate": True})
    assert r.status_code == 404 and "没有用户“nobody”" in r.json()["message"]


# -- the system administrator: changing a department ----------------------------------------------


def _department(client: TestClient, dept_id: str) -> dict[str, Any]:
    doc = client.get("/admin/accounts.json").json()
    return next(d for d in doc["departments"] if d["id"] == dept_id)


def test_sys_admin_changes_a_departments_regions(
    clients: dict[str, TestClient], workspace: Path
) -> None:
    assert (
        clients["sys"].post("/admin/departments", json={"id": "zhen2", "name": "二号镇"}).is_success
    )
    body = {
        "name": "二号镇人民政府",
        "kind": "internal",
        "regions": ["330102002 ", "330102003"],
        "active": True,
    }
    r = clients["sys"].put("/admin/departments/zhen2", json=body)
    assert r.status_code == 200 and r.json()["changed"] is True
    assert _department(clients["sys"], "zhen2") == {
        "id": "zhen2",
        "name": "二号镇人民政府",
        "kind": "internal",
        "regions": ["330102002", "330102003"],
        "active": True,
    }
    with open_workspace(workspace) as store:
        entry = [e for e in store.audit_log() if e.object == "department:zhen2"][-1]
    assert (entry.action, entry.actor, entry.department, entry.address) == (
        "update_department",
        "sys",
        "xinxi",
        "testclient",
    )


def test_an_unchanged_department_records_nothing(
    clients: dict[str, TestClient], workspace: Path
) -> None:
    body = {"name": "耕地保护科", "kind": "internal", "regions": [], "active": True}
    with open_workspace(workspace) as store:
        before = len(store.audit_log(object_prefix="department:gengdi"))
    r = clients["sys"].put("/admin/departments/gengdi", json=body)
    assert r.status_code == 200 and r.json()["changed"] is False
    with open_workspace(workspace) as store:
        assert len(store.audit_log(object_prefix="department:gengdi")) == before


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        # a region that is not a 行政区 code prefix
        (
            {"name": "耕地保护科", "kind": "internal", "regions": ["北岭镇"], "active": True},
            400,
            "辖区须为行政区代码（数字）的前缀：北岭镇",
        ),
        # a blank name
        ({"name": "  ", "kind": "internal", "regions": [], "active": True}, 400, "部门名称为空"),
        # an unknown kind
        ({"name": "耕地保护科", "kind": "secret", "regions": [], "active": True}, 400, "kind"),
        # a part left out: PUT gives all four
        ({"name": "耕地保护科", "kind": "internal", "regions": []}, 400, "缺少必填参数"),
    ],
)
def test_a_bad_department_change_is_refused_and_nothing_changes(
    clients: dict[str, TestClient], body: dict[str, Any], status: int, words: str
) -> None:
    before = _department(clients["sys"], "gengdi")
    r = clients["sys"].put("/admin/departments/gengdi", json=body)
    assert r.status_code == status and words in r.json()["message"]
    assert _department(clients["sys"], "gengdi") == before


def test_changing_an_unknown_department_is_404(clients: dict[str, TestClient]) -> None:
    body = {"name": "无", "kind": "internal", "regions": [], "active": True}
    r = clients["sys"].put("/admin/departments/nowhere", json=body)
    assert r.status_code == 404 and "没有部门“nowhere”" in r.json()["message"]


# -- the security administrator ---------------------------------------------------------------


def test_sec_admin_grants_roles(clients: dict[str, TestClient], workspace: Path) -> None:
    with open_workspace(workspace) as store:
        create_user(
            store,
            username="wu",
            display_name="吴工",
            department="guihua",
            roles=[],
            password=PASSWORD,
            actor="setup",
            hashing=HASHING,
        )
    r = clients["sec"].put("/admin/users/wu/roles", json={"roles": ["reviewer", "viewer"]})
    assert r.status_code == 200 and r.json()["user"]["roles"] == ["viewer", "reviewer"]
    users = {u["username"]: u for u in clients["sec"].get("/admin/roles.json").json()["users"]}
    assert users["wu"]["roles"] == ["viewer", "reviewer"]


@pytest.mark.parametrize(
    ("roles", "words"),
    [
        # two administrator roles
        (["sys_admin", "audit_admin"], "系统管理员与审计管理员不能由同一人担任（三员分立）"),
        # an administrator with a business role
        (["audit_admin", "editor"], "审计管理员不能同时担任业务角色编辑人员"),
    ],
)
def test_a_duty_conflict_is_refused_in_chinese(
    clients: dict[str, TestClient], roles: list[str], words: str
) -> None:
    r = clients["sec"].put("/admin/users/wang/roles", json={"roles": roles})
    assert r.status_code == 400 and words in r.json()["message"]
    users = {u["username"]: u for u in clients["sec"].get("/admin/roles.json").json()["users"]}
    assert users["wang"]["roles"] == ["viewer"]  # nothing written


def test_an_unknown_role_is_refused(clients: dict[str, TestClient]) -> None:
    r = clients["sec"].put("/admin/users/wang/roles", json={"roles": ["king"]})
    assert r.status_code == 400 and "king" in r.json()["message"]


def test_an_administrator_cannot_change_their_own_roles(clients: dict[str, TestClient]) -> None:
    r = clients["sec"].put("/admin/users/sec/roles", json={"roles": ["sec_admin", "viewer"]})
    assert r.status_code == 403 and "不能修改自己的角色" in r.json()["message"]


# -- the audit administrator ------------------------------------------------------------------


def test_audit_search_by_actor_and_action(clients: dict[str, TestClient]) -> None:
    clients["sys"].post("/admin/departments", json={"id": "audited", "name": "审计测试科"})
    doc = (
        clients["aud"]
        .get("/admin/audit.json", params={"actor": "sys", "action": "create_department"})
        .json()
    )
    assert doc["entries"] and all(
        e["actor"] == "sys" and e["action"] == "create_department" for e in doc["entries"]
    )
    assert "department:audited" in {e["object"] for e in doc["entries"]}


def test_audit_search_by_time_range(clients: dict[str, TestClient]) -> None:
    now = datetime.now(UTC)
    recent = (
        clients["aud"]
        .get("/admin/audit.json", params={"since": (now - timedelta(hours=1)).isoformat()})
        .json()
    )
    future = (
        clients["aud"]
        .get("/admin/audit.json", params={"since": (now + timedelta(hours=1)).isoformat()})
        .json()
    )
    assert recent["entries"] and future["entries"] == []
    backwards = clients["aud"].get(
        "/admin/audit.json", params={"since": "2026-02-01", "until": "2026-01-01"}
    )
    assert backwards.status_code == 400 and "时间范围" in backwards.json()["message"]


def test_audit_search_pages_on(clients: dict[str, TestClient]) -> None:
    first = clients["aud"].get("/admin/audit.json", params={"limit": 2}).json()
    assert len(first["entries"]) == 2 and first["next_before_id"] == first["entries"][-1]["id"]
    after = (
        clients["aud"]
        .get("/admin/audit.json", params={"limit": 2, "before_id": first["next_before_id"]})
        .json()
    )
    assert max(e["id"] for e in after["entries"]) < first["entries"][-1]["id"]


def test_audit_export_is_csv_with_formulas_quoted(app: Any, clients: dict[str, TestClient]) -> None:
    with TestClient(app) as client:  # a failed sign-in records the name as typed
        client.post("/auth/sign-in", json={"username": "=HYPERLINK(1)", "password": "x"})
    r = clients["aud"].get("/admin/audit.csv", params={"action": "sign_in_failed"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["id", "at_utc", "actor"]
    actors = {row[2] for row in rows[1:]}
    assert "'=HYPERLINK(1)" in actors and "=HYPERLINK(1)" not in actors


def test_locked_state_expires_on_its_own(clients: dict[str, TestClient], workspace: Path) -> None:
    """An account whose lockout has passed lists as active (no unlock needed)."""
    with open_workspace(workspace) as store:
        wang = store.user("wang")
        assert wang is not None
        past = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=1)
        store.put_user(replace(wang, locked_until=past), actor="setup")
    users = {u["username"]: u for u in clients["sys"].get("/admin/accounts.json").json()["users"]}
    assert users["wang"]["state"] == "active" and users["wang"]["locked_until"] is None


def test_an_administrators_change_is_audited_with_their_address(
    clients: dict[str, TestClient], workspace: Path
) -> None:
    # GB/T 22239 asks for who, where from and when: a change made on the admin page records
    # the administrator and the client's address (TestClient's is "testclient")
    body = {"id": "zhen9", "name": "九号镇人民政府", "regions": ["330102009"]}
    assert clients["sys"].post("/admin/departments", json=body).status_code == 201
    with open_workspace(workspace) as store:
        (entry,) = [e for e in store.audit_log() if e.object == "department:zhen9"]
    assert (entry.actor, entry.action, entry.address) == ("sys", "create_department", "testclient")

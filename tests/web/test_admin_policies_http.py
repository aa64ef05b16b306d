"""Layer policies set on the administration page (``PUT /admin/policies/{layer}``,
:mod:`guotu.web.admin_policies`) and departments' regions (``PUT /admin/departments/{id}``),
end to end: what the security administrator sets is what each signed-in user then gets from
the OGC API, on the graded workspace of :mod:`tests.graded_workspace` (six squares, three in
each of two towns).

Every test sets the whole policy of the layers it reads first (a PUT replaces the policy), so
the tests do not depend on their order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from guotu.domain.access.records import Department
from guotu.services.identity import HashParameters, create_department, create_user
from guotu.services.workspace import open_workspace
from guotu.settings import Settings
from guotu.web.app import create_app
from tests.graded_workspace import OWNERS, TOWN_A, TOWN_B, XZQDM, build_graded_workspace

PASSWORD = "Gh#2035plan"
#: Cheap argon2id parameters: the tests sign in many times.
HASHING = HashParameters(time_cost=1, memory_kib=1024, parallelism=1)
#: department id → (name, regions)
DEPARTMENTS = {
    "gengdi": ("耕地保护科", ()),
    "guihua": ("国土空间规划科", ()),
    "queren": ("确权登记科", ()),
    "xiangzhen": ("一号镇人民政府", (TOWN_A,)),
    "zhen2": ("二号镇人民政府", (TOWN_A,)),  # its region is changed by one test
    "xinxi": ("信息中心", ()),
}
#: user name → (department, roles)
ACCOUNTS = {
    "sys": ("xinxi", ["sys_admin"]),
    "sec": ("xinxi", ["sec_admin"]),
    "li": ("gengdi", ["viewer", "editor", "reviewer"]),
    "wang": ("guihua", ["viewer", "editor", "reviewer"]),
    "qian": ("queren", ["viewer"]),
    "zhao": ("xiangzhen", ["viewer"]),
    "zhou": ("zhen2", ["viewer"]),
}
NOBODY: list[str] = []


def _named(roles: list[str] = NOBODY, departments: list[str] = NOBODY) -> dict[str, list[str]]:
    return {"roles": list(roles), "departments": list(departments)}


def _policy(
    grade: str,
    *,
    read: dict[str, list[str]] | None = None,
    export: dict[str, list[str]] | None = None,
    edit: dict[str, list[str]] | None = None,
    hidden: dict[str, dict[str, list[str]]] | None = None,
    region: str | None = None,
) -> dict[str, Any]:
    """A whole policy as the page sends it."""
    return {
        "grade": grade,
        "lists": {"read": read or _named(), "export": export or _named(), "edit": edit or _named()},
        "hidden_fields": hidden or {},
        "region_field": region,
    }


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = build_graded_workspace(tmp_path_factory.mktemp("admin_policies") / "graded.gpkg")
    with open_workspace(path) as store:
        for dept_id, (name, regions) in DEPARTMENTS.items():
            create_department(store, Department(dept_id, name, regions=regions), actor="setup")
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
    return path


@pytest.fixture(scope="module")
def clients(workspace: Path) -> Iterator[dict[str, TestClient]]:
    """A client per account, signed in, sending its CSRF token; ``None``: anonymous."""
    app = create_app(
        Settings(
            workspace=str(workspace),
            auth="local",
            argon2_time_cost=HASHING.time_cost,
            argon2_memory_kib=HASHING.memory_kib,
            argon2_parallelism=HASHING.parallelism,
            sign_ins_per_minute=10_000,
        )
    )
    found: dict[str, TestClient] = {"anonymous": TestClient(app)}
    for username in ACCOUNTS:
        client = TestClient(app)
        r = client.post("/auth/sign-in", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        found[username] = client
    yield found
    for client in found.values():
        client.close()


def _set(clients: dict[str, TestClient], layer: str, body: dict[str, Any]) -> Any:
    r = clients["sec"].put(f"/admin/policies/{layer}", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def _items(client: TestClient, layer: str) -> list[dict[str, Any]] | None:
    """The features of ``layer`` the client's user gets (``None``: the layer is not found)."""
    r = client.get(f"/collections/{layer}/items", params={"limit": 100})
    if r.status_code == 404:
        return None
    assert r.status_code == 200, r.text
    return [f["properties"] for f in r.json()["features"]]


# -- what is set is what is shown -----------------------------------------------------------------


def test_a_policy_set_is_listed_whole(clients: dict[str, TestClient]) -> None:
    body = _policy(
        "受限",
        read=_named(["reviewer"], ["gengdi"]),
        export=_named(departments=["gengdi"]),
        edit=_named(departments=["gengdi"]),
        hidden={"XZQDM": _named(["approver"], ["guihua"])},
        region="XZQDM",
    )
    answer = _set(clients, "YJJBNT", body)
    assert answer["notes"] == []
    layers = {p["layer"]: p for p in clients["sec"].get("/admin/policies.json").json()["layers"]}
    shown = layers["YJJBNT"]
    assert shown == answer["layer"]
    assert (shown["grade"], shown["grade_zh"], shown["imported"], shown["recorded"]) == (
        "restricted",
        "受限",
        True,
        True,
    )
    assert shown["lists"] == {
        "read": {"roles": ["reviewer"], "departments": ["gengdi"]},
        "export": {"roles": [], "departments": ["gengdi"]},
        "edit": {"roles": [], "departments": ["gengdi"]},
    }
    assert shown["hidden_fields"] == {"XZQDM": {"roles": ["approver"], "departments": ["guihua"]}}
    assert shown["region_field"] == "XZQDM"
    assert shown["columns"] == ["BSM", "XZQDM", "DLBM", "MJ"]
    assert shown["role_zh"] == "永久基本农田"


def test_the_change_is_audited_with_the_administrators_department_and_address(
    clients: dict[str, TestClient], workspace: Path
) -> None:
    _set(clients, "CZKFBJ", _policy("public"))
    with open_workspace(workspace) as store:
        entry = store.audit_log(object_prefix="layer:CZKFBJ")[-1]
    assert (entry.action, entry.actor, entry.department, entry.address) == (
        "set_layer_policy",
        "sec",
        "xinxi",
        "testclient",
    )


# -- what users then get through the OGC API ------------------------------------------------------


def test_restricting_a_layer_hides_it_from_all_but_those_named(
    clients: dict[str, TestClient],
) -> None:
    _set(clients, "CZKFBJ", _policy("公开"))
    assert _items(clients["anonymous"], "CZKFBJ") is not None
    _set(clients, "CZKFBJ", _policy("受限", read=_named(departments=["gengdi"])))
    assert _items(clients["anonymous"], "CZKFBJ") is None
    assert _items(clients["wang"], "CZKFBJ") is None  # another department
    assert _items(clients["li"], "CZKFBJ") is not None  # the department named
    assert "CZKFBJ" not in clients["wang"].get("/collections").text
    _set(clients, "CZKFBJ", _policy("public"))
    assert _items(clients["anonymous"], "CZKFBJ") is not None


def test_a_role_named_to_read_lets_its_holders_in(clients: dict[str, TestClient]) -> None:
    _set(clients, "CZKFBJ", _policy("restricted", read=_named(["reviewer"])))
    assert _items(clients["wang"], "CZKFBJ") is not None  # a reviewer
    assert _items(clients["qian"], "CZKFBJ") is None  # a viewer only
    _set(clients, "CZKFBJ", _policy("public"))


def test_a_hidden_field_is_shown_only_to_those_named(clients: dict[str, TestClient]) -> None:
    _set(clients, "DLTB", _policy("内部", hidden={"QLRMC": _named(departments=["queren"])}))
    planner, owner_rights = _items(clients["wang"], "DLTB"), _items(clients["qian"], "DLTB")
    assert planner is not None and owner_rights is not None
    assert all("QLRMC" not in f for f in planner) and len(planner) == 6
    assert sorted(f["QLRMC"] for f in owner_rights) == sorted(OWNERS)
    _set(clients, "DLTB", _policy("内部", hidden={"QLRMC": _named(["reviewer"])}))
    planner, owner_rights = _items(clients["wang"], "DLTB"), _items(clients["qian"], "DLTB")
    assert planner is not None and owner_rights is not None
    assert all("QLRMC" in f for f in planner) and all("QLRMC" not in f for f in owner_rights)


def test_a_region_field_limits_a_towns_user_to_its_rows(clients: dict[str, TestClient]) -> None:
    _set(clients, "GHYD", _policy("internal", region="XZQDM"))
    town = _items(clients["zhao"], "GHYD")
    assert town is not None and sorted(f["XZQDM"] for f in town) == XZQDM[:3]
    everyone = _items(clients["wang"], "GHYD")  # a department covering the whole county
    assert everyone is not None and len(everyone) == 6
    _set(clients, "GHYD", _policy("internal"))
    town = _items(clients["zhao"], "GHYD")
    assert town is not None and len(town) == 6


def test_a_departments_new_region_moves_its_users_rows(clients: dict[str, TestClient]) -> None:
    _set(clients, "GHYD", _policy("internal", region="XZQDM"))
    before = _items(clients["zhou"], "GHYD")
    assert before is not None and {f["XZQDM"][:9] for f in before} == {TOWN_A}
    body = {"name": "二号镇人民政府", "kind": "internal", "regions": [TOWN_B], "active": True}
    r = clients["sys"].put("/admin/departments/zhen2", json=body)
    assert r.status_code == 200 and r.json()["department"]["regions"] == [TOWN_B]
    after = _items(clients["zhou"], "GHYD")
    assert after is not None and sorted(f["XZQDM"] for f in after) == XZQDM[3:]


# -- a layer not yet imported, and notes --------------------------------------------------------


def test_a_policy_may_be_set_before_the_layer_is_imported(clients: dict[str, TestClient]) -> None:
    body = _policy(
        "restricted",
        read=_named(departments=["gengdi"]),
        hidden={"QLRZJH": _named()},
        region="XZQDM",
    )
    answer = _set(clients, "JSYDGZQ", body)
    assert answer["notes"] == ["工作空间中还没有图层 JSYDGZQ；该策略在图层导入后即生效。"]
    layers = {p["layer"]: p for p in clients["sec"].get("/admin/policies.json").json()["layers"]}
    assert layers["JSYDGZQ"]["imported"] is False and layers["JSYDGZQ"]["recorded"] is True
    assert layers["JSYDGZQ"]["hidden_fields"] == {"QLRZJH": {"roles": [], "departments": []}}


def test_a_restricted_layer_without_readers_is_noted(clients: dict[str, TestClient]) -> None:
    answer = _set(clients, "BHTB", _policy("restricted"))
    assert "受限图层未指定可查看的角色或部门，目前无人可以查看它。" in answer["notes"]
    english = clients["sec"].put("/admin/policies/BHTB?lang=en", json=_policy("restricted"))
    assert "A restricted layer with no read list can be read by nobody." in english.json()["notes"]


# -- refusals: nothing is written ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        # an unknown role in a list
        (
            _policy("internal", read=_named(["king"])),
            "lists.read.roles",
            "“查看”名单中没有这些角色：king（字段 lists.read.roles）。解决办法：可用的角色：viewer（查看人员）",
        ),
        # an unknown department in a list
        (
            _policy("internal", export=_named(departments=["nowhere"])),
            "lists.export.departments",
            "“导出”名单中有不存在的部门：nowhere（字段 lists.export.departments）。解决办法：现有部门：gengdi（耕地保护科）",
        ),
        # a field the layer does not have, hidden
        (
            _policy("internal", hidden={"OWNER": _named()}),
            "hidden_fields.OWNER",
            "要隐藏的字段“OWNER”不是图层“DLTB”的字段（字段 hidden_fields.OWNER）。解决办法：该图层的字段：BSM、DLBM、XZQDM、QLRMC",
        ),
        # an unknown department who still sees a hidden field
        (
            _policy("internal", hidden={"QLRMC": _named(departments=["nowhere"])}),
            "hidden_fields.QLRMC.departments",
            "隐藏字段 QLRMC 的可见名单中有不存在的部门：nowhere",
        ),
        # a hidden field without a name
        (
            _policy("internal", hidden={" ": _named()}),
            "hidden_fields",
            "有一个隐藏字段没有填写字段名（字段 hidden_fields）",
        ),
        # a region field the layer does not have
        (
            _policy("internal", region="XZQ"),
            "region_field",
            "行政区字段“XZQ”不是图层“DLTB”的字段（字段 region_field）",
        ),
        # an unknown grade
        (_policy("secret"), "grade", "没有“secret”这一开放等级"),
    ],
)
def test_a_bad_policy_is_refused_in_chinese_and_nothing_is_written(
    clients: dict[str, TestClient], workspace: Path, body: dict[str, Any], field: str, words: str
) -> None:
    with open_workspace(workspace) as store:
        before = (store.layer_policies().get("DLTB"), len(store.audit_log()))
    r = clients["sec"].put("/admin/policies/DLTB", json=body)
    assert r.status_code == 400 and r.json()["field"] == field
    assert words in r.json()["message"]
    with open_workspace(workspace) as store:
        assert (store.layer_policies().get("DLTB"), len(store.audit_log())) == before


@pytest.mark.parametrize(
    ("body", "words"),
    [
        # the grade alone: a client must not drop hidden fields by leaving them out
        ({"grade": "public"}, "lists: 缺少必填参数"),
        # an action a policy does not have
        ({**_policy("internal"), "lists": {"delete": _named()}}, "lists.delete"),
    ],
)
def test_a_policy_not_given_whole_is_refused(
    clients: dict[str, TestClient], workspace: Path, body: dict[str, Any], words: str
) -> None:
    with open_workspace(workspace) as store:
        before = store.layer_policies().get("DLTB")
    r = clients["sec"].put("/admin/policies/DLTB", json=body)
    assert r.status_code == 400 and words in r.json()["message"]
    with open_workspace(workspace) as store:
        assert store.layer_policies().get("DLTB") == before


def test_the_system_administrator_cannot_set_policies(
    clients: dict[str, TestClient], workspace: Path
) -> None:
    with open_workspace(workspace) as store:
        before = store.layer_policies().get("GHYD")
    r = clients["sys"].put("/admin/policies/GHYD", json=_policy("public"))
    assert r.status_code == 403 and "需要“访问策略设置”权限" in r.json()["message"]
    assert clients["sys"].get("/admin/policies.json").status_code == 403
    with open_workspace(workspace) as store:
        assert store.layer_policies().get("GHYD") == before

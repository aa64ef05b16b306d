"""Who a command acts as on a GeoPackage (guotu.cli.principal), as a user types it: the
operating-system user (``GUOTU_USER``) with their account's roles, department and region, or
the file's owner with the business roles; the layers' policies apply either way.

The workspace is the graded county of ``tests/graded_workspace.py`` with an account for each
of its principals; ``bare`` is the same county without the 受限 layer YJJBNT, the control: a
layer one may not read must answer exactly as one that is not there.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from guotu.cli import root
from guotu.domain.access.policy import Principal
from guotu.domain.access.records import Department, UserAccount
from guotu.store.geopackage import GeoPackageStore

from ..graded_workspace import (
    FARMLAND,
    MASTER,
    OWNER_RIGHTS,
    PLANNER,
    TOWN,
    TOWN_A,
    build_graded_workspace,
    centre,
)

DEPARTMENTS = (
    Department("guihua", "国土空间规划科"),
    Department("gengdi", "耕地保护科"),
    Department("xiangzhen", "北岭镇人民政府", regions=(TOWN_A,)),
    Department("queren", "确权登记科"),
)


def account(p: Principal, **changes: Any) -> UserAccount:
    """The account of a principal of the graded county (no password: it never signs in)."""
    base = UserAccount(p.username or "", p.username or "", p.department, p.roles)
    return dataclasses.replace(base, **changes)


def add_accounts(path: Path) -> Path:
    with GeoPackageStore.open(path) as store:
        for d in DEPARTMENTS:
            store.put_department(d, actor="admin")
        for p in (PLANNER, FARMLAND, TOWN, OWNER_RIGHTS):
            store.put_user(account(p), actor="admin", action="create_user")
    return path


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("principal")
    return {
        "graded": add_accounts(build_graded_workspace(base / "graded.gpkg")),
        "bare": add_accounts(build_graded_workspace(base / "bare.gpkg", with_farmland=False)),
    }


def run(user: str, *args: str, code: int = 0) -> Result:
    res = CliRunner().invoke(
        root, list(args), env={"GUOTU_LANG": None, "GUOTU_USER": user, "GUOTU_TOKEN": None}
    )
    assert res.exit_code == code, (args, res.exit_code, res.output)
    assert "Traceback" not in res.output
    return res


def query(ws: Path, user: str, i: int) -> dict[str, Any]:
    point = "{},{}".format(*centre(i))
    return json.loads(run(user, "query", "-w", str(ws), "--point", point, "--json").stdout)


def applies(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["layer"]: e["properties"] for e in doc["applies"]}


# -- who -------------------------------------------------------------------------------------
def test_an_os_user_with_an_account_acts_with_its_roles_department_and_region(
    county: dict[str, Path],
) -> None:
    doc = json.loads(run("zhao", "whoami", "-w", str(county["graded"]), "--json").stdout)
    assert (doc["username"], doc["via"], doc["department"]) == ("zhao", "account", "xiangzhen")
    assert (doc["roles"], doc["permissions"], doc["regions"]) == (["viewer"], ["read"], [TOWN_A])


def test_an_os_user_without_an_account_is_the_owner_with_the_business_roles(
    county: dict[str, Path],
) -> None:
    doc = json.loads(run("主任", "whoami", "-w", str(county["graded"]), "--json").stdout)
    assert (doc["username"], doc["via"], doc["department"]) == ("主任", "owner", None)
    assert doc["roles"] == ["approver", "editor", "reviewer", "viewer"]
    out = run("主任", "whoami", "-w", str(county["graded"])).stdout
    assert "身份：工作空间所有者（无对应账号，按业务角色）" in out


# -- the site query --------------------------------------------------------------------------
def test_a_town_user_sees_only_their_own_rows(county: dict[str, Path]) -> None:
    own = applies(query(county["graded"], "zhao", 0))  # square 0: their town
    assert set(own) == {"GHYD", "DLTB"}
    assert own["GHYD"]["XZQDM"] == f"{TOWN_A}001" and own["GHYD"]["YDYHFLDM"] == "0701"
    other = query(county["graded"], "zhao", 4)  # square 4: the other town's
    assert set(applies(other)) == {"CZKFBJ", "DLTB"}  # DLTB has no region field: every row
    assert other["region_limited"] is True and other["region_note"]["zh"] == "仅显示本辖区的要素"
    text = run("zhao", "query", "-w", str(county["graded"]), "--point", "{},{}".format(*centre(4)))
    assert "说明：仅显示本辖区的要素" in text.stdout and "说明：有受限图层未显示" in text.stdout


def test_hidden_fields_are_hidden_but_from_the_department_named(county: dict[str, Path]) -> None:
    assert "QLRMC" not in applies(query(county["graded"], "zhao", 0))["DLTB"]
    assert applies(query(county["graded"], "qian", 0))["DLTB"]["QLRMC"] == "张三"
    assert "QLRMC" not in applies(query(county["graded"], "nobody-here", 0))["DLTB"]


@pytest.mark.parametrize(
    ("user", "farmland"),
    [("li", True), ("wang", False), ("zhao", False), ("nobody-here", False)],
    ids=["gengdi", "planner", "town", "owner"],
)
def test_the_restricted_layer_is_read_by_its_department_only(
    county: dict[str, Path], user: str, farmland: bool
) -> None:
    doc = query(county["graded"], user, 0)
    assert ("YJJBNT" in applies(doc)) is farmland
    assert doc["restricted_layers_omitted"] is not farmland


def test_a_read_of_the_restricted_layer_is_audited(tmp_path: Path) -> None:
    ws = add_accounts(build_graded_workspace(tmp_path / "ws.gpkg"))
    query(ws, "li", 0)
    query(ws, "wang", 0)  # reads no restricted layer: nothing recorded
    found = json.loads(
        run("li", "audit", "search", "-w", str(ws), "--action", "read_restricted", "--json").stdout
    )
    assert [(e["actor"], e["object"], e["department"]) for e in found] == [
        ("li", "layer:YJJBNT", "gengdi")
    ]
    assert found[0]["detail"]["what"] == "cli:query" and found[0]["address"].startswith("cli:")


# -- a restricted layer answers as an absent one ---------------------------------------------
ABSENT_ASKS = [
    ["stats", "--layer", "YJJBNT"],
    ["history", "YJJBNT:NT1"],
    ["check", "--layer", "YJJBNT"],
    ["review", "master-plan", "--layer", "YJJBNT"],
    ["plan", "show", "YJJBNT"],
]


@pytest.mark.parametrize("args", ABSENT_ASKS, ids=[a[0] for a in ABSENT_ASKS])
def test_a_restricted_layer_answers_exactly_as_an_absent_one(
    county: dict[str, Path], args: list[str]
) -> None:
    code = 2
    graded = run("wang", *args, "-w", str(county["graded"]), code=code)
    bare = run("wang", *args, "-w", str(county["bare"]), code=code)
    assert graded.output.replace("graded", "ws") == bare.output.replace("bare", "ws")
    assert "YJJBNT" in graded.output  # the name typed, never a confirmation
    assert "NT1" not in graded.output.replace("YJJBNT:NT1", "")


def test_the_layer_list_leaves_out_what_one_may_not_read(county: dict[str, Path]) -> None:
    def names(ws: Path, user: str) -> list[str]:
        return [i["name"] for i in json.loads(run(user, "layers", "-w", str(ws), "--json").stdout)]

    assert names(county["graded"], "wang") == names(county["bare"], "wang")
    assert "YJJBNT" in names(county["graded"], "li")
    listed = {
        i["name"]: i
        for i in json.loads(run("zhao", "layers", "-w", str(county["graded"]), "--json").stdout)
    }
    assert "QLRMC" not in listed["DLTB"]["columns"]
    assert listed["GHYD"]["features"] == 3  # their town's three squares of six


def test_the_plan_list_leaves_out_plans_of_layers_one_may_not_read(
    tmp_path: Path, county: dict[str, Path]
) -> None:
    def plans(ws: Path, user: str) -> list[str]:
        out = run(user, "plan", "list", "-w", str(ws), "--json").stdout
        return [p["name"] for p in json.loads(out)]

    assert MASTER in plans(county["graded"], "wang")
    assert plans(county["graded"], "wang") == plans(county["bare"], "wang")


# -- refusals -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"active": False}, "错误：账号“zhao”已停用，命令不能以其身份运行。"),
        (
            {"failed_sign_ins": 5, "locked_until": dataclasses.MISSING},
            "错误：账号“zhao”因多次登录失败已被锁定，命令暂不能以其身份运行。",
        ),
    ],
    ids=["disabled", "locked"],
)
def test_a_disabled_or_locked_account_is_refused(
    tmp_path: Path, county: dict[str, Path], changes: dict[str, Any], message: str
) -> None:
    from datetime import UTC, datetime, timedelta

    if changes.get("locked_until") is dataclasses.MISSING:
        changes = {
            **changes,
            "locked_until": datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1),
        }
    ws = tmp_path / "ws.gpkg"
    shutil.copy(county["graded"], ws)
    with GeoPackageStore.open(ws) as store:
        store.put_user(account(TOWN, **changes), actor="admin")
    point = "{},{}".format(*centre(0))
    res = run("zhao", "query", "-w", str(ws), "--point", point, code=2)
    assert res.output.startswith(message)
    assert "解决办法：" in res.output


@pytest.mark.parametrize(
    ("args", "permission"),
    [
        (["review", "master-plan"], "审查"),
        (["plan", "create", "新规划", "--level", "county", "--type", "master"], "编辑入库"),
        (["monitor", "targets", "list"], None),
    ],
    ids=["review", "plan-create", "targets-list"],
)
def test_a_command_needs_its_permission(
    tmp_path: Path, county: dict[str, Path], args: list[str], permission: str | None
) -> None:
    ws = tmp_path / "ws.gpkg"
    shutil.copy(county["graded"], ws)
    if permission is None:  # a viewer reads the tables
        run("zhao", *args, "-w", str(ws))
        return
    res = run("zhao", *args, "-w", str(ws), code=2)
    assert f"错误：用户“zhao”的角色无权执行此操作：需要“{permission}”权限。" in res.output


def test_an_import_is_refused_where_the_policy_does_not_name_the_editor(
    tmp_path: Path, county: dict[str, Path]
) -> None:
    ws = tmp_path / "ws.gpkg"
    shutil.copy(county["graded"], ws)
    source = county["graded"].parent / "graded_sources" / "src_CZKFBJ.gpkg"
    run("wang", "policy", "set", "CZKFBJ", "--grade", "公开", "--edit", "gengdi", "-w", str(ws))
    res = run(
        "wang",
        "import",
        str(source),
        "--role",
        "urban_boundary",
        "--layer",
        "CZKFBJ",
        "--replace",
        "-w",
        str(ws),
        code=2,
    )
    assert "错误：用户“wang”无权写入图层 CZKFBJ：该图层的访问策略未允许其编辑。" in res.output
    run(
        "li",
        "import",
        str(source),
        "--role",
        "urban_boundary",
        "--layer",
        "CZKFBJ",
        "--replace",
        "-w",
        str(ws),
    )


def test_versions_and_audit_entries_name_the_principal(
    tmp_path: Path, county: dict[str, Path]
) -> None:
    ws = tmp_path / "ws.gpkg"
    shutil.copy(county["graded"], ws)
    source = county["graded"].parent / "graded_sources" / "src_GHYD.gpkg"
    run(
        "wang",
        "import",
        str(source),
        "--role",
        "planned_land_use",
        "--layer",
        "GHYD",
        "--plan",
        MASTER,
        "--version",
        "2025修改",
        "--valid-from",
        "2025-06-01",
        "-w",
        str(ws),
    )
    shown = json.loads(run("wang", "plan", "show", MASTER, "-w", str(ws), "--json").stdout)
    assert [v["author"] for v in shown["versions"] if v["label"] == "2025修改"] == ["wang"]
    log = json.loads(run("wang", "log", "-w", str(ws), "--object", "layer:GHYD", "--json").stdout)
    assert log[-1]["actor"] == "wang" and log[-1]["action"] == "write_layer"


def test_the_data_log_shows_data_only_and_the_audit_log_is_its_administrators(
    tmp_path: Path, county: dict[str, Path]
) -> None:
    ws = tmp_path / "ws.gpkg"
    shutil.copy(county["graded"], ws)
    query(ws, "li", 0)  # a read_restricted entry
    entries = json.loads(run("li", "log", "-w", str(ws), "--json").stdout)
    assert entries and {e["action"] for e in entries} <= {
        "create_plan",
        "record_version",
        "write_layer",
        "write_table",
        "upgrade",
        "reset",
    }
    assert not any(
        e["object"] == "layer:YJJBNT"
        for e in json.loads(run("wang", "log", "-w", str(ws), "--json").stdout)
    )
    # administration on a GeoPackage is the file owner's, as before: not role-checked
    run("zhao", "dept", "list", "-w", str(ws))


# -- the saved tokens' file -------------------------------------------------------------------
def test_a_token_file_others_may_read_is_refused(tmp_path: Path) -> None:
    from guotu.cli.credentials import SavedToken, save_token, saved_token
    from guotu.errors import ConfigError

    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    where = "postgresql://guotu:s3cret@db.local/yzt"
    path = save_token(SavedToken("postgresql://guotu:***@db.local/yzt", "li", "x", "gt_x", ""), env)
    assert path == tmp_path / "guotu" / "tokens.json" and oct(path.stat().st_mode)[-3:] == "600"
    found = saved_token("postgresql://guotu:another@db.local/yzt", env)  # another password
    assert found is not None and found.username == "li" and saved_token(where + "2", env) is None
    path.chmod(0o644)
    with pytest.raises(ConfigError) as refused:
        saved_token(where, env)
    assert refused.value.render("zh") == (
        f"令牌文件 {path} 的权限过宽：其他用户可以读取。"
        f"解决办法：请执行 chmod 600 {path}，只允许本人读写（或删除该文件后重新登录）。"
    )

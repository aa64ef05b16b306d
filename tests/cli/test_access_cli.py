"""Identity and access through the command line, as a user types it: ``guotu admin init``,
``guotu dept``, ``guotu user``, ``guotu role``, ``guotu policy`` and ``guotu token``.

Every answer is checked against the workspace afterwards (an account signs in with the
password the command printed or read; a policy is what the store holds; a token resolves)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner, Result

from guotu.cli import root
from guotu.domain.access.grades import Grade
from guotu.domain.access.passwords import password_problems
from guotu.domain.access.policy import Action
from guotu.domain.access.roles import ROLES, Permission
from guotu.errors import AuthenticationError
from guotu.services.identity import resolve_token, sign_in
from guotu.store.geopackage import GeoPackageStore

from ..conftest import X0, Y0

PASSWORD = "Gh#2035plan"


def run(*args: str, input: str | None = None, code: int = 0) -> Result:
    res = CliRunner().invoke(
        root, list(args), input=input, env={"GUOTU_LANG": None, "GUOTU_USER": "测试员"}
    )
    assert res.exit_code == code, (args, res.exit_code, res.output)
    assert "Traceback" not in res.output
    return res


def signs_in(ws: Path, username: str, password: str) -> bool:
    with GeoPackageStore.open(ws) as store:
        try:
            sign_in(store, username, password, address="127.0.0.1")
        except AuthenticationError:
            return False
    return True


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A workspace with its three administrators and two departments (耕地保护科; a 乡镇
    limited to its 行政区)."""
    path = tmp_path / "county.gpkg"
    w = str(path)
    run("admin", "init", "-w", w, "--json")
    run("dept", "add", "gengdi", "--name", "耕地保护科", "-w", w)
    run("dept", "add", "beiling", "--name", "北岭镇人民政府", "--region", "370999101", "-w", w)
    return path


def accounts(ws: Path) -> dict[str, Any]:
    return {
        a["username"]: a for a in json.loads(run("user", "list", "-w", str(ws), "--json").output)
    }


# -- guotu admin init --------------------------------------------------------------------------
def test_admin_init_makes_the_three_administrators_with_passwords_that_sign_in(
    tmp_path: Path,
) -> None:
    ws = tmp_path / "new.gpkg"
    made = json.loads(run("admin", "init", "-w", str(ws), "--username", "admin", "--json").output)
    assert [(a["username"], a["roles"]) for a in made] == [
        ("admin", ["sys_admin"]),
        ("secadmin", ["sec_admin"]),
        ("auditadmin", ["audit_admin"]),
    ]
    for a in made:
        assert password_problems(a["password"], a["username"]) == []
        assert signs_in(ws, a["username"], a["password"])
    assert len({a["password"] for a in made}) == 3


def test_admin_init_prints_each_password_once_with_the_chinese_role_names(tmp_path: Path) -> None:
    out = run("admin", "init", "-w", str(tmp_path / "new.gpkg")).output
    for role in ("系统管理员", "安全管理员", "审计管理员"):
        assert role in out
    passwords = re.findall(r"\b[A-Za-z2-9]{4}-[A-Za-z2-9]{4}-[A-Za-z2-9]{4}\b", out)
    assert len(passwords) == len(set(passwords)) == 3
    assert "只显示这一次" in out and "三员分立" in out


def test_admin_init_refuses_a_workspace_that_has_accounts(ws: Path) -> None:
    again = run("admin", "init", "-w", str(ws), code=2)
    assert "已有 3 个账号" in again.output and "guotu user add" in again.output
    assert sorted(accounts(ws)) == ["admin", "auditadmin", "secadmin"]


def test_admin_init_refuses_one_person_for_two_administrators(tmp_path: Path) -> None:
    ws = tmp_path / "new.gpkg"
    out = run("admin", "init", "-w", str(ws), "--security-username", "admin", code=2).output
    assert "三员分立" in out and "--security-username" in out
    assert not ws.exists()  # refused before anything was made


# -- guotu dept --------------------------------------------------------------------------------
def test_dept_list_gives_kind_regions_and_members(ws: Path) -> None:
    run("dept", "add", "sheji", "--name", "设计院", "--kind", "外部", "-w", str(ws))
    got = {d["id"]: d for d in json.loads(run("dept", "list", "-w", str(ws), "--json").output)}
    assert sorted(got) == ["beiling", "gengdi", "sheji"]
    assert got["beiling"]["regions"] == ["370999101"] and got["beiling"]["kind"] == "internal"
    assert got["sheji"]["kind"] == "external" and got["gengdi"]["users"] == 0


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--kind", "内外", "没有“内外”这一部门类型"),
        ("--region", "北岭镇", "--region 须为行政区代码"),
    ],
)
def test_dept_add_refuses_bad_values_naming_the_option(
    ws: Path, option: str, value: str, message: str
) -> None:
    out = run("dept", "add", "x", "--name", "某部门", option, value, "-w", str(ws), code=2).output
    assert message in out and "解决办法" in out


def test_dept_add_refuses_an_existing_id(ws: Path) -> None:
    out = run("dept", "add", "gengdi", "--name", "又一个", "-w", str(ws), code=2).output
    assert "部门编号“gengdi”已被使用" in out


def test_dept_set_changes_name_regions_and_state_with_the_reason_audited(ws: Path) -> None:
    w = str(ws)
    run("dept", "set", "beiling", "--name", "北岭镇", "--region", "370999101,370999102", "-w", w)
    run("dept", "set", "beiling", "--inactive", "--reason", "撤并", "-w", w)
    got = {d["id"]: d for d in json.loads(run("dept", "list", "-w", w, "--json").output)}
    assert got["beiling"]["name"] == "北岭镇"
    assert got["beiling"]["regions"] == ["370999101", "370999102"]
    assert got["beiling"]["active"] is False
    with GeoPackageStore.open(ws) as store:
        last = store.audit_log()[-1]
    assert (last.action, last.actor, last.reason) == ("update_department", "测试员", "撤并")


# -- guotu user --------------------------------------------------------------------------------
def test_user_add_reads_the_password_twice_at_the_prompt(ws: Path) -> None:
    w = str(ws)
    args = ["user", "add", "lisi01", "--name", "李四", "--dept", "gengdi", "--role", "viewer"]
    out = run(*args, "-w", w, input=f"{PASSWORD}\n{PASSWORD}\n").output
    assert "已新建账号 lisi01（李四），角色：查看人员。" in out
    assert PASSWORD not in out  # the prompt does not echo it
    assert signs_in(ws, "lisi01", PASSWORD)
    assert accounts(ws)["lisi01"]["department"] == "gengdi"


def test_user_add_refuses_two_different_passwords(ws: Path) -> None:
    args = ["user", "add", "lisi01", "--name", "李四", "--role", "viewer", "-w", str(ws)]
    out = run(*args, input=f"{PASSWORD}\nGh#2035plaN\n", code=2).output
    assert "两次输入的密码不一致" in out
    assert "lisi01" not in accounts(ws)


def test_user_add_reads_the_password_from_stdin(ws: Path) -> None:
    args = ["user", "add", "lisi01", "--name", "李四", "--role", "viewer", "--password-stdin"]
    run(*args, "-w", str(ws), input=f"{PASSWORD}\n")
    assert signs_in(ws, "lisi01", PASSWORD)


def test_user_add_prints_a_generated_password_once(ws: Path) -> None:
    args = ["user", "add", "lisi01", "--name", "李四", "--role", "viewer", "--generate-password"]
    out = run(*args, "-w", str(ws)).output
    (password,) = re.findall(r"初始密码（只显示这一次[^）]*）：(\S+)", out)
    assert out.count(password) == 1 and signs_in(ws, "lisi01", password)


def test_a_password_is_never_an_option_value(ws: Path) -> None:
    args = ["user", "add", "lisi01", "--name", "李四", "--password", PASSWORD, "-w", str(ws)]
    assert "没有选项 --password" in run(*args, code=2).output


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        ("sys_admin,audit_admin", "系统管理员与审计管理员不能由同一人担任（三员分立）"),
        ("sec_admin,sys_admin", "系统管理员与安全管理员不能由同一人担任（三员分立）"),
        (
            "audit_admin,editor",
            "审计管理员不能同时担任业务角色编辑人员：管理员与业务人员应分设账号",
        ),
        ("sec_admin,viewer", "安全管理员不能同时担任业务角色查看人员"),
    ],
)
def test_user_add_refuses_roles_one_person_may_not_hold(ws: Path, roles: str, message: str) -> None:
    args = ["user", "add", "zhang01", "--name", "张三", "--role", roles, "--generate-password"]
    out = run(*args, "-w", str(ws), code=2).output
    assert message in out and "请把这些角色分别授予不同的人" in out
    assert "zhang01" not in accounts(ws)


def test_user_add_refuses_a_weak_password_with_the_rules(ws: Path) -> None:
    args = ["user", "add", "lisi01", "--name", "李四", "--role", "viewer", "--password-stdin"]
    out = run(*args, "-w", str(ws), input="lisi01abc\n", code=2).output
    assert "密码不能包含用户名" in out and "（字段 password）" in out


def test_user_add_makes_a_directory_account_without_password(ws: Path) -> None:
    run("user", "add", "wang01", "--name", "王五", "--role", "viewer", "--ldap", "-w", str(ws))
    assert accounts(ws)["wang01"]["source"] == "ldap"


def test_user_list_never_shows_a_password_hash(ws: Path) -> None:
    out = run("user", "list", "-w", str(ws), "--json").output
    assert "argon2" not in out and "password_hash" not in out
    table = run("user", "list", "-w", str(ws)).output
    assert "系统管理员" in table and "正常" in table and "argon2" not in table


def test_set_roles_grants_exactly_the_roles_given(ws: Path) -> None:
    w = str(ws)
    run(
        "user",
        "add",
        "lisi01",
        "--name",
        "李四",
        "--role",
        "viewer",
        "--generate-password",
        "-w",
        w,
    )
    out = run("user", "set-roles", "lisi01", "reviewer", "editor", "-w", w).output
    assert "已把账号 lisi01 的角色设为：编辑人员、审查人员。" in out
    assert accounts(ws)["lisi01"]["roles"] == ["editor", "reviewer"]


def test_set_roles_refuses_a_duty_conflict_in_chinese(ws: Path) -> None:
    out = run("user", "set-roles", "admin", "sys_admin", "audit_admin", "-w", str(ws), code=2)
    assert "系统管理员与审计管理员不能由同一人担任（三员分立）" in out.output
    assert accounts(ws)["admin"]["roles"] == ["sys_admin"]


def test_set_roles_refuses_an_unknown_role_listing_the_known_ones(ws: Path) -> None:
    out = run("user", "set-roles", "admin", "superuser", "-w", str(ws), code=2).output
    assert "没有“superuser”这一角色" in out and "audit_admin（审计管理员）" in out


def test_user_show_gives_permissions_and_the_changes(ws: Path) -> None:
    w = str(ws)
    run(
        "user",
        "add",
        "lisi01",
        "--name",
        "李四",
        "--role",
        "viewer",
        "--generate-password",
        "-w",
        w,
    )
    run("user", "set-roles", "lisi01", "reviewer", "-w", w)
    got = json.loads(run("user", "show", "lisi01", "-w", w, "--json").output)
    assert got["permissions"] == ["read", "export", "review"]
    assert [h["roles"] for h in got["history"]] == [["viewer"], ["reviewer"]]
    out = run("user", "show", "lisi01", "-w", w).output
    assert "查看、导出、审查" in out and "变更记录" in out


def test_user_show_of_nobody_is_refused(ws: Path) -> None:
    assert "没有用户“nobody”" in run("user", "show", "nobody", "-w", str(ws), code=2).output


def test_disable_stops_the_sign_in_and_enable_restores_it(ws: Path) -> None:
    w = str(ws)
    args = ["user", "add", "lisi01", "--name", "李四", "--role", "viewer", "--password-stdin"]
    run(*args, "-w", w, input=f"{PASSWORD}\n")
    assert "已停用账号 lisi01。" in run("user", "disable", "lisi01", "-w", w).output
    assert not signs_in(ws, "lisi01", PASSWORD)
    run("user", "enable", "lisi01", "-w", w)
    assert signs_in(ws, "lisi01", PASSWORD)


def test_unlock_lifts_the_lock_after_failed_sign_ins(ws: Path) -> None:
    w = str(ws)
    args = ["user", "add", "lisi01", "--name", "李四", "--role", "viewer", "--password-stdin"]
    run(*args, "-w", w, input=f"{PASSWORD}\n")
    for _ in range(5):
        assert not signs_in(ws, "lisi01", "wrong")
    assert accounts(ws)["lisi01"]["locked"] is True
    assert not signs_in(ws, "lisi01", PASSWORD)
    assert "已锁定" in run("user", "list", "-w", w).output
    run("user", "unlock", "lisi01", "-w", w)
    assert signs_in(ws, "lisi01", PASSWORD)


def test_passwd_sets_a_new_password(ws: Path) -> None:
    w = str(ws)
    args = ["user", "add", "lisi01", "--name", "李四", "--role", "viewer", "--password-stdin"]
    run(*args, "-w", w, input=f"{PASSWORD}\n")
    new = "Tz9#county"
    run("user", "passwd", "lisi01", "-w", w, input=f"{new}\n{new}\n")
    assert not signs_in(ws, "lisi01", PASSWORD) and signs_in(ws, "lisi01", new)


# -- guotu role list ---------------------------------------------------------------------------
def test_role_list_gives_every_role_its_chinese_name_and_the_separation_rule() -> None:
    out = run("role", "list").output
    for name in ("查看人员", "编辑人员", "审查人员", "审批人员", "部门管理员"):
        assert name in out
    assert "查阅和导出审计日志" in out
    assert "三员分立：系统管理员、安全管理员、审计管理员须由不同的人担任" in out


def test_role_list_json_has_the_permissions_of_each_role() -> None:
    got = json.loads(run("role", "list", "--json").output)
    roles = {r["id"]: r for r in got["roles"]}
    assert len(roles) == 9
    assert roles["clerk"]["permissions"] == ["read", "accept"] and not roles["clerk"]["admin"]
    assert roles["audit_admin"]["permissions"] == ["read_audit"] and roles["audit_admin"]["admin"]
    assert roles["editor"]["permissions"] == ["read", "export", "edit"]
    assert "三员分立" in got["separation_of_duties"]["zh"]


# -- guotu policy ------------------------------------------------------------------------------
def test_policy_set_records_grade_lists_hidden_fields_and_region(ws: Path) -> None:
    w = str(ws)
    out = run(
        "policy",
        "set",
        "YJJBNT",
        "--grade",
        "受限",
        "--read",
        "gengdi,reviewer",
        "--export",
        "部门:gengdi",
        "--hide-field",
        "QLRMC:gengdi",
        "--region-field",
        "XZQDM",
        "-w",
        w,
    ).output
    assert "已设置图层 YJJBNT 的访问策略：受限。" in out and "还没有图层 YJJBNT" in out
    with GeoPackageStore.open(ws) as store:
        policy = store.layer_policies()["YJJBNT"]
    assert policy.grade is Grade.RESTRICTED and policy.region_field == "XZQDM"
    read = policy.access_list(Action.READ)
    assert (read.roles, read.departments) == ({"reviewer"}, {"gengdi"})
    assert policy.access_list(Action.EXPORT).departments == {"gengdi"}
    assert policy.hidden_fields["QLRMC"].departments == {"gengdi"}


def test_policy_list_shows_recorded_and_default_grades(ws: Path) -> None:
    w = str(ws)
    run("policy", "set", "XZQ", "--grade", "公开", "-w", w)
    run("policy", "set", "YJJBNT", "--grade", "restricted", "--read", "gengdi", "-w", w)
    got = {p["layer"]: p for p in json.loads(run("policy", "list", "-w", w, "--json").output)}
    assert got["XZQ"]["grade"] == "public" and got["YJJBNT"]["grade_zh"] == "受限"
    assert got["YJJBNT"]["lists"]["read"] == {"roles": [], "departments": ["gengdi"]}
    out = run("policy", "list", "-w", w).output
    assert "任何人（含未登录）" in out and "耕地保护科" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--grade", "秘密"], "没有“秘密”这一开放等级（字段 --grade）"),
        (["--grade", "受限", "--read", "nobody"], "--read 中的 nobody 既不是角色，也不是"),
        (["--grade", "受限", "--edit", "dept:reviewer"], "--edit 中的 dept:reviewer 既不是"),
    ],
)
def test_policy_set_refuses_bad_input_naming_the_option(
    ws: Path, args: list[str], message: str
) -> None:
    out = run("policy", "set", "YJJBNT", *args, "-w", str(ws), code=2).output
    assert message in out and "解决办法" in out
    with GeoPackageStore.open(ws) as store:
        assert store.layer_policies() == {}


# -- guotu token -------------------------------------------------------------------------------
@pytest.fixture
def reader(ws: Path) -> str:
    args = ["user", "add", "lisi01", "--name", "李四", "--role", "reviewer", "--generate-password"]
    run(*args, "-w", str(ws))
    return "lisi01"


def test_token_add_prints_the_token_once_with_the_gdal_and_qgis_hint(ws: Path, reader: str) -> None:
    out = run("token", "add", reader, "--name", "办公电脑QGIS", "-w", str(ws)).output
    (text,) = set(re.findall(r"gt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}", out))
    assert (
        f'ogrinfo "OAPIF:http://127.0.0.1:8000/" --config GDAL_HTTP_HEADERS "Authorization: Bearer {text}"'
        in out
    )
    assert "API Header" in out and "数据源管理器" in out
    with GeoPackageStore.open(ws) as store:
        found = resolve_token(store, text)
    assert found is not None and found[0].username == reader and found[1].scopes == {"read"}


def test_token_list_never_shows_the_token_and_revoke_stops_it(ws: Path, reader: str) -> None:
    w = str(ws)
    made = json.loads(
        run(
            "token",
            "add",
            reader,
            "--name",
            "脚本",
            "--scope",
            "read",
            "--scope",
            "export",
            "-w",
            w,
            "--json",
        ).output
    )
    listed = run("token", "list", "-w", w, "--json").output
    assert made["token"] not in listed
    assert json.loads(listed)[0]["scopes"] == ["export", "read"]
    assert f"已撤销访问令牌 {made['id']}。" in run("token", "revoke", made["id"], "-w", w).output
    with GeoPackageStore.open(ws) as store:
        assert resolve_token(store, made["token"]) is None
    assert "已撤销" in run("token", "list", "-w", w, "--user", reader).output


def test_token_add_refuses_a_scope_the_roles_do_not_allow(ws: Path) -> None:
    w = str(ws)
    run(
        "user",
        "add",
        "zhou01",
        "--name",
        "周伟",
        "--role",
        "viewer",
        "--generate-password",
        "-w",
        w,
    )
    out = run("token", "add", "zhou01", "--name", "下载", "--scope", "export", "-w", w, code=2)
    assert "用户“zhou01”的角色不含以下权限：export" in out.output


def test_the_access_docs_give_every_role_its_permissions() -> None:
    text = (Path(__file__).parents[2] / "docs" / "access.md").read_text(encoding="utf-8")
    for r in ROLES:
        perms = ", ".join(p.value for p in Permission if p in r.permissions)
        kind = "administrator" if r.admin else "business"
        assert f"| `{r.id}` | {r.name_zh} | {kind} | {perms} |" in text, r.id


def test_user_add_without_a_typed_password_is_refused(ws: Path) -> None:
    args = ["user", "add", "lisi01", "--name", "李四", "--role", "viewer", "-w", str(ws)]
    out = run(*args, input="", code=2).output
    assert "没有输入密码" in out and "--password-stdin" in out
    assert "lisi01" not in accounts(ws)


def test_policy_set_notes_a_field_the_layer_does_not_have(tmp_path: Path) -> None:
    src = tmp_path / "farmland.gpkg"
    gpd.GeoDataFrame(
        {"BSM": ["NT1"], "XZQDM": ["370999101000"]},
        geometry=[shapely.box(X0, Y0, X0 + 100, Y0 + 100)],
        crs="EPSG:4527",
    ).to_file(src)
    w = str(tmp_path / "ws.gpkg")
    run("import", str(src), "--role", "永久基本农田", "--layer", "YJJBNT", "-w", w)
    out = run("policy", "set", "YJJBNT", "--grade", "内部", "--hide-field", "QLRMC", "-w", w).output
    assert "提示：图层 YJJBNT 没有字段 QLRMC，请检查拼写。" in out
    out = run("policy", "set", "YJJBNT", "--grade", "内部", "--region-field", "XZQDM", "-w", w)
    assert "没有字段" not in out.output and "还没有图层" not in out.output

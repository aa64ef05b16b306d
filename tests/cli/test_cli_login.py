"""Signing the command line in to a PostgreSQL workspace, as a user types it: ``guotu login``
(password read from standard input), commands acting as the signed-in user, ``guotu logout``,
and the tokens that sign nobody in. Skips without ``GUOTU_TEST_PG_DSN``.

The workspace is the graded county of ``tests/graded_workspace.py`` imported into a schema of
its own, with accounts for the farmland department (li), a town (zhao) and a system
administrator; sign-in is on (``GUOTU_AUTH=local``) unless a test says otherwise.
"""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from guotu.cli import root
from guotu.cli.credentials import credentials_path, saved_token
from guotu.domain.access.records import Department
from guotu.domain.core.catalog import VersionSpec
from guotu.domain.core.model import PlanLevel, PlanType
from guotu.services.identity import create_token, create_user, revoke_token
from guotu.services.importing import import_file
from guotu.services.workspace import open_workspace

from ..graded_workspace import LINES, MASTER, POLICIES, SURVEY, TOWN_A, build_graded_workspace
from ..graded_workspace import centre as square_centre
from ..store.conftest import pg_schema  # noqa: F401  (the fixture)

pytestmark = pytest.mark.postgis

PASSWORD = "Gh#2035plan"
LAYERS = (
    ("GHYD", "planned_land_use", MASTER),
    ("YJJBNT", "permanent_farmland", LINES),
    ("CZKFBJ", "urban_boundary", LINES),
    ("DLTB", "land_survey", SURVEY),
)


def _location(pg: tuple[str, str]) -> str:
    dsn, schema = pg
    return f"{dsn}{'&' if '?' in dsn else '?'}options=-c%20search_path%3D{schema}"


@pytest.fixture
def ws(pg_schema: tuple[str, str], tmp_path: Path) -> str:  # noqa: F811
    """The graded county in PostGIS, with li (耕地保护科), zhao (a town) and an administrator."""
    build_graded_workspace(tmp_path / "g.gpkg")
    location = _location(pg_schema)
    with open_workspace(location, create=True) as store:
        for plan, kind in (
            (MASTER, PlanType.MASTER),
            (LINES, PlanType.MASTER),
            (SURVEY, PlanType.SURVEY),
        ):
            store.create_plan(plan, level=PlanLevel.COUNTY, type=kind)
        for name, role, plan in LAYERS:
            source = tmp_path / "g_sources" / f"src_{name}.gpkg"
            spec = VersionSpec(plan, "2021版", valid_from=datetime(2021, 1, 1).date())
            import_file(store, source, role=role, layer=name, version=spec)
        for policy in POLICIES:
            store.put_layer_policy(policy, actor="anquan")
        for dept in (
            Department("gengdi", "耕地保护科"),
            Department("xiangzhen", "北岭镇人民政府", regions=(TOWN_A,)),
        ):
            store.put_department(dept, actor="admin")
        for name, dept, roles in (
            ("li", "gengdi", ["viewer", "reviewer"]),
            ("zhao", "xiangzhen", ["viewer"]),
            ("xitong", None, ["sys_admin"]),
        ):
            create_user(
                store,
                username=name,
                display_name=name,
                department=dept,
                roles=roles,
                password=PASSWORD,
                actor="admin",
            )
    return location


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    """Sign-in on, no token, the saved tokens in a folder of this test."""
    return {
        "GUOTU_LANG": None,
        "GUOTU_USER": "测试员",
        "GUOTU_TOKEN": None,
        "GUOTU_AUTH": "local",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }


def run(env: dict[str, str | None], *args: str, code: int = 0, input: str | None = None) -> Result:
    res = CliRunner().invoke(root, list(args), env=env, input=input)
    assert res.exit_code == code, (args, res.exit_code, res.output)
    assert "Traceback" not in res.output
    return res


def login(env: dict[str, str | None], ws: str, user: str, *extra: str) -> Result:
    return run(env, "login", user, "-w", ws, "--password-stdin", *extra, input=PASSWORD + "\n")


def query(env: dict[str, str | None], ws: str, i: int, code: int = 0) -> Result:
    point = "{},{}".format(*square_centre(i))
    return run(env, "query", "-w", ws, "--point", point, "--json", code=code)


def layers_of(res: Result) -> set[str]:
    return {e["layer"] for e in json.loads(res.stdout)["applies"]}


# -- no sign-in ------------------------------------------------------------------------------
def test_a_command_without_a_token_is_refused_with_the_fix(
    ws: str, env: dict[str, str | None]
) -> None:
    res = query(env, ws, 0, code=2)
    assert (
        "错误：请先登录：工作空间" in res.output
        and "已启用账号登录（auth = local）。" in res.output
    )
    assert "解决办法：请先运行 guotu login -w postgresql://" in res.output


def test_without_sign_in_the_database_rights_are_the_control(
    ws: str, env: dict[str, str | None]
) -> None:
    plain = {**env, "GUOTU_AUTH": None, "GUOTU_USER": "zhao"}
    doc = json.loads(run(plain, "whoami", "-w", ws, "--json").stdout)
    assert (doc["username"], doc["via"], doc["regions"]) == ("zhao", "account", [TOWN_A])
    owner = json.loads(run({**plain, "GUOTU_USER": "主任"}, "whoami", "-w", ws, "--json").stdout)
    assert owner["via"] == "owner" and "editor" in owner["roles"]


# -- guotu login, a command, guotu logout ----------------------------------------------------
def test_after_login_commands_act_as_the_signed_in_user(
    ws: str, env: dict[str, str | None]
) -> None:
    out = login(env, ws, "li").output
    assert out.startswith("已登录：li（li），角色 查看人员、审查人员；有效期至 ")
    path = credentials_path(env)  # type: ignore[arg-type]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    who = json.loads(run(env, "whoami", "-w", ws, "--json").stdout)
    assert (who["username"], who["via"], who["department"]) == ("li", "token", "gengdi")
    assert who["permissions"] == ["read", "export", "review"]
    assert "YJJBNT" in layers_of(query(env, ws, 0))
    with open_workspace(ws) as store:
        reads = [e for e in store.audit_log() if e.action == "read_restricted"]
        token = store.token(who["token_id"])
    assert [(e.actor, e.object, e.detail["what"]) for e in reads] == [
        ("li", "layer:YJJBNT", "cli:query")
    ]
    assert token is not None and token.scopes == {"read", "export", "review"}


def test_a_town_user_signed_in_sees_only_their_own_rows(
    ws: str, env: dict[str, str | None]
) -> None:
    login(env, ws, "zhao")
    assert layers_of(query(env, ws, 0)) == {"GHYD", "DLTB"}
    assert layers_of(query(env, ws, 4)) == {"CZKFBJ", "DLTB"}


def test_logout_revokes_the_token_and_deletes_it(ws: str, env: dict[str, str | None]) -> None:
    login(env, ws, "li")
    saved = saved_token(ws, env)  # type: ignore[arg-type]
    assert saved is not None
    out = run(env, "logout", "-w", ws).output
    assert out.startswith(f"已退出登录：li 的访问令牌 {saved.token_id} 已撤销")
    with open_workspace(ws) as store:
        token = store.token(saved.token_id)
    assert token is not None and token.revoked_at is not None
    assert not credentials_path(env).exists()  # type: ignore[arg-type]
    assert "请先登录" in query(env, ws, 0, code=2).output
    # the text of the revoked token signs nobody in
    res = query({**env, "GUOTU_TOKEN": saved.token}, ws, 0, code=2)
    assert res.output.startswith(
        "错误：访问令牌无效：令牌不存在、已撤销或已过期，或其账号已停用或被锁定。"
    )


def test_a_second_login_revokes_the_first_token(ws: str, env: dict[str, str | None]) -> None:
    login(env, ws, "li")
    first = saved_token(ws, env)  # type: ignore[arg-type]
    login(env, ws, "zhao")
    second = saved_token(ws, env)  # type: ignore[arg-type]
    assert first is not None and second is not None and second.username == "zhao"
    with open_workspace(ws) as store:
        old = store.token(first.token_id)
    assert old is not None and old.revoked_at is not None


def test_a_wrong_password_is_refused_in_the_one_sentence(
    ws: str, env: dict[str, str | None]
) -> None:
    res = run(env, "login", "li", "-w", ws, "--password-stdin", input="wrong\n", code=2)
    assert res.output.startswith("错误：用户名或密码不正确，或账号暂不可用。")
    assert not credentials_path(env).exists()  # type: ignore[arg-type]


def test_login_is_refused_on_a_geopackage(tmp_path: Path, env: dict[str, str | None]) -> None:
    gpkg = build_graded_workspace(tmp_path / "local.gpkg")
    res = run(env, "login", "li", "-w", str(gpkg), "--password-stdin", input="x\n", code=2)
    assert "是 GeoPackage 文件，无需登录：命令以操作系统用户（测试员）的身份运行。" in res.output


# -- tokens that sign nobody in, and tokens' scopes ------------------------------------------
@pytest.mark.parametrize("state", ["expired", "revoked"])
def test_an_expired_or_revoked_token_is_refused(
    ws: str, env: dict[str, str | None], state: str
) -> None:
    with open_workspace(ws) as store:
        past = datetime.now(UTC) - timedelta(days=3)
        when = past if state == "expired" else None
        token, text = create_token(store, "li", "脚本", ["read"], 1, actor="li", now=when)
        if state == "revoked":
            revoke_token(store, token.id, actor="li")
    res = query({**env, "GUOTU_TOKEN": text}, ws, 0, code=2)
    assert "错误：访问令牌无效" in res.output
    assert "请把环境变量 GUOTU_TOKEN 换成有效的令牌" in res.output


def test_a_read_token_reads_but_does_not_review(ws: str, env: dict[str, str | None]) -> None:
    with open_workspace(ws) as store:
        _token, text = create_token(store, "li", "脚本", ["read"], 7, actor="li")
    scoped = {**env, "GUOTU_TOKEN": text}
    assert "YJJBNT" in layers_of(query(scoped, ws, 0))
    res = run(scoped, "review", "master-plan", "-w", ws, code=2)
    assert "错误：“li”的访问令牌无权执行此操作：其权限范围不含“审查”。" in res.output


# -- administration signed in ----------------------------------------------------------------
def test_administration_needs_the_administrators_role(ws: str, env: dict[str, str | None]) -> None:
    login(env, ws, "zhao")
    res = run(env, "user", "list", "-w", ws, code=2)
    assert "错误：用户“zhao”的角色无权执行此操作：需要“管理账号和部门”权限。" in res.output
    login(env, ws, "xitong")
    listed = json.loads(run(env, "user", "list", "-w", ws, "--json").stdout)
    assert {a["username"] for a in listed} == {"li", "zhao", "xitong"}
    res = run(env, "user", "set-roles", "zhao", "editor", "-w", ws, code=2)
    assert "需要“授予和收回角色”权限" in res.output  # the security administrator's (三员分立)
    run(env, "user", "disable", "xitong", "-w", ws, code=2)
    # the system administrator reads no data: the site lies in no layer they may read
    assert "查询位置不在工作空间任何图层范围内" in query(env, ws, 0, code=2).output


def test_a_token_is_made_by_its_owner_with_their_password(
    ws: str, env: dict[str, str | None]
) -> None:
    login(env, ws, "li")
    res = run(env, "token", "add", "zhao", "--name", "QGIS", "-w", ws, code=2)
    assert "错误：访问令牌只能由本人创建" in res.output
    made: dict[str, Any] = json.loads(
        run(
            env,
            *("token", "add", "li", "--name", "QGIS", "-w", ws, "--password-stdin", "--json"),
            input=PASSWORD + "\n",
        ).stdout
    )
    assert made["username"] == "li" and made["scopes"] == ["read"]
    mine = json.loads(run(env, "token", "list", "-w", ws, "--json").stdout)
    assert {t["username"] for t in mine} == {"li"}
    assert os.environ.get("GUOTU_TOKEN") is None

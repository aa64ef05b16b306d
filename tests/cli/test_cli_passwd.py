"""Passwords someone else set, and a user changing their own, on the command line as a user
types it: ``guotu admin init``, ``guotu user add`` and ``user passwd`` leave a password its
holder must change at the first sign-in; ``guotu passwd`` changes one's own; ``guotu login``
(and so a token) is refused while a change is due (PostgreSQL, ``GUOTU_TEST_PG_DSN``)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from guotu.cli import root
from guotu.domain.access.passwords import password_change_due
from guotu.errors import AuthenticationError
from guotu.services.identity import create_user, sign_in
from guotu.services.workspace import open_workspace
from guotu.store.geopackage import GeoPackageStore

from ..store.conftest import pg_schema  # noqa: F401  (the fixture)

PASSWORD = "Gh#2035plan"
NEW = "Xin#2035mima"
ENV = {"GUOTU_LANG": None, "GUOTU_USER": "测试员", "GUOTU_TOKEN": None}


def run(*args: str, input: str | None = None, code: int = 0, env: Any = None) -> Result:
    res = CliRunner().invoke(root, list(args), input=input, env={**ENV, **(env or {})})
    assert res.exit_code == code, (args, res.exit_code, res.output)
    assert "Traceback" not in res.output
    return res


def due(ws: Path, username: str) -> str | None:
    with GeoPackageStore.open(ws) as store:
        account = store.user(username)
    assert account is not None
    return password_change_due(account, datetime.now(UTC).replace(tzinfo=None))


def signs_in(ws: Path, username: str, password: str) -> bool:
    with GeoPackageStore.open(ws) as store:
        try:
            sign_in(store, username, password, address="127.0.0.1")
        except AuthenticationError:
            return False
    return True


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A workspace with its three administrators and ``lisi``, a viewer of 耕地保护科 whose
    password the system administrator typed."""
    path = tmp_path / "county.gpkg"
    w = str(path)
    run("admin", "init", "-w", w, "--json")
    run("dept", "add", "gengdi", "--name", "耕地保护科", "-w", w)
    add = ["user", "add", "lisi", "--name", "李四", "--dept", "gengdi", "--role", "viewer"]
    run(*add, "--password-stdin", "-w", w, input=f"{PASSWORD}\n")
    return path


# -- set by someone else: changed at the first sign-in --------------------------------------------


def test_admin_init_gives_initial_passwords_and_says_where_to_change_them(tmp_path: Path) -> None:
    w = tmp_path / "new.gpkg"
    out = run("admin", "init", "-w", str(w)).output
    assert "首次登录时须修改（网页 /ui/password，或 guotu passwd）" in out
    assert {due(w, name) for name in ("admin", "secadmin", "auditadmin")} == {"initial"}


def test_user_add_and_user_passwd_give_initial_passwords(ws: Path) -> None:
    assert due(ws, "lisi") == "initial"
    listed = json.loads(run("user", "list", "-w", str(ws), "--json").output)
    assert next(a for a in listed if a["username"] == "lisi")["password_changed_at"] is None
    run("passwd", "lisi", "-w", str(ws), "--password-stdin", input=f"{PASSWORD}\n{NEW}\n")
    assert due(ws, "lisi") is None
    run("user", "passwd", "lisi", "-w", str(ws), input=f"{PASSWORD}\n{PASSWORD}\n")
    assert due(ws, "lisi") == "initial"  # the administrator's reset: changed again


def test_user_show_says_the_password_must_be_changed(ws: Path) -> None:
    out = run("user", "show", "lisi", "-w", str(ws)).output
    assert "—（初始密码，本人登录时须修改）" in out
    shown = json.loads(run("user", "show", "lisi", "-w", str(ws), "--json").output)
    assert shown["password_change"] == "initial"
    run("passwd", "lisi", "-w", str(ws), "--password-stdin", input=f"{PASSWORD}\n{NEW}\n")
    assert "初始密码" not in run("user", "show", "lisi", "-w", str(ws)).output


def test_a_generated_password_is_said_to_be_changed_at_the_first_sign_in(ws: Path) -> None:
    args = ["user", "add", "wang", "--name", "王五", "--role", "viewer", "--generate-password"]
    out = run(*args, "-w", str(ws)).output
    assert "初始密码（只显示这一次，请转交本人；本人首次登录时须修改）：" in out
    assert due(ws, "wang") == "initial"


# -- guotu passwd: the holder changes their own --------------------------------------------------


def test_passwd_changes_ones_own_password(ws: Path) -> None:
    out = run(
        "passwd", "lisi", "-w", str(ws), "--password-stdin", input=f"{PASSWORD}\n{NEW}\n"
    ).output
    assert "已修改 lisi 的密码；其网页登录已全部结束，访问令牌不受影响。" in out
    assert signs_in(ws, "lisi", NEW) and not signs_in(ws, "lisi", PASSWORD)
    with GeoPackageStore.open(ws) as store:
        entry = store.audit_records(action="change_password")[0]
    assert (entry.actor, entry.department) == ("lisi", "gengdi")
    assert entry.address.startswith("cli:")


def test_passwd_reads_the_prompts_and_the_user_name_from_the_os_user(ws: Path) -> None:
    run("passwd", "-w", str(ws), input=f"{PASSWORD}\n{NEW}\n{NEW}\n", env={"GUOTU_USER": "lisi"})
    assert signs_in(ws, "lisi", NEW)


def test_passwd_refuses_two_different_new_passwords(ws: Path) -> None:
    out = run("passwd", "lisi", "-w", str(ws), input=f"{PASSWORD}\n{NEW}\nOther#2035x\n", code=2)
    assert "两次输入的新密码不一致" in out.output
    assert signs_in(ws, "lisi", PASSWORD)


def test_passwd_counts_a_wrong_current_password(ws: Path) -> None:
    wrong = f"Wrong#2035plan\n{NEW}\n"
    out = run("passwd", "lisi", "-w", str(ws), "--password-stdin", input=wrong, code=2)
    assert "错误：当前密码不正确" in out.output
    with GeoPackageStore.open(ws) as store:
        account = store.user("lisi")
    assert account is not None and account.failed_sign_ins == 1


def test_passwd_refuses_a_weak_new_password_with_the_rules(ws: Path) -> None:
    out = run(
        "passwd", "lisi", "-w", str(ws), "--password-stdin", input=f"{PASSWORD}\nabc\n", code=2
    )
    assert "密码至少 8 位" in out.output and "解决办法：请设置至少 8 位" in out.output


def test_passwd_refuses_a_directory_account(ws: Path) -> None:
    run("user", "add", "mulu", "--name", "目录", "--role", "viewer", "--ldap", "-w", str(ws))
    out = run(
        "passwd", "mulu", "-w", str(ws), "--password-stdin", input=f"{PASSWORD}\n{NEW}\n", code=2
    )
    assert "请在目录服务器（LDAP）中修改密码" in out.output


# -- guotu login is refused while a change is due (a token would get round it) -------------------


def _location(pg: tuple[str, str]) -> str:
    dsn, schema = pg
    return f"{dsn}{'&' if '?' in dsn else '?'}options=-c%20search_path%3D{schema}"


@pytest.mark.postgis
def test_login_is_refused_until_the_password_is_changed(
    pg_schema: tuple[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    location = _location(pg_schema)
    with open_workspace(location, create=True) as store:
        for name, temporary in (("li", True), ("zhao", False)):
            create_user(
                store,
                username=name,
                display_name=name,
                department=None,
                roles=["viewer"],
                password=PASSWORD,
                actor="admin",
                temporary=temporary,
            )
        zhao = store.user("zhao")
        assert zhao is not None
        aged = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=91)
        store.put_user(replace(zhao, password_changed_at=aged), actor="admin")
    env = {"GUOTU_AUTH": "local", "XDG_CONFIG_HOME": str(tmp_path / "config")}
    login = ["login", "-w", location, "--password-stdin"]
    out = run(*login[:1], "li", *login[1:], input=f"{PASSWORD}\n", code=2, env=env).output
    assert "错误：请先修改密码（初始密码）" in out
    assert "/ui/password" in out and "guotu passwd li -w postgresql://" in out
    out = run(*login[:1], "zhao", *login[1:], input=f"{PASSWORD}\n", code=2, env=env).output
    assert "错误：请先修改密码（密码已过期）：密码已超过 90 天未修改" in out
    change = ["passwd", "li", "-w", location, "--password-stdin"]
    run(*change, input=f"{PASSWORD}\n{NEW}\n", env=env)
    assert "已登录：li（li）" in run(*login[:1], "li", *login[1:], input=f"{NEW}\n", env=env).output

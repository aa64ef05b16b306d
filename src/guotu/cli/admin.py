"""The first administrators of a workspace: ``guotu admin init``.

A workspace without accounts gets its system, security and audit administrators (三员分立:
three accounts for three people), each with a generated password printed once; a workspace
with accounts is refused (further accounts are ``guotu user add``'s). The three are made
together or not at all: their names are checked before the first is made. Exit codes: 0 done,
2 bad input or a workspace that already has accounts, 3 environment or store error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import click
from rich.table import Table

from guotu.cli.access import role_names
from guotu.cli.base import (
    Context,
    console,
    emit_json,
    json_option,
    lang_option,
    pass_context,
    root,
    workspace_option,
)
from guotu.cli.principal import open_as
from guotu.domain.access.records import UserAccount
from guotu.errors import InputError
from guotu.ports import FeatureStore
from guotu.services.identity import create_user, generate_password

__all__ = ["admin_group"]

#: What a user name may be (the services' rule, checked before the first administrator is
#: made so that ``admin init`` makes all three or none).
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
# -- guotu admin init ----------------------------------------------------------------------------
_ADMINS = (
    ("sys_admin", "系统管理员", "system administrator"),
    ("sec_admin", "安全管理员", "security administrator"),
    ("audit_admin", "审计管理员", "audit administrator"),
)


def _check_admin_names(names: Sequence[tuple[str, str]]) -> None:
    for option, name in names:
        if not _USERNAME.match(name):
            raise InputError(
                f"{option}: the user name {name!r} is not valid.",
                field=option,
                fix="Use 1 to 64 letters, digits or . _ - @, starting with a letter or a digit.",
                message_zh=f"{option} 的用户名“{name}”无效。",
                fix_zh="请用 1 至 64 个英文字母、数字或 . _ - @，并以字母或数字开头。",
            )
    lowered = [n.lower() for _, n in names]
    if len(set(lowered)) < len(lowered):
        raise InputError(
            "The three administrators need three different user names (separation of duties).",
            field="--username",
            fix="Give different --username, --security-username and --audit-username.",
            message_zh="三员分立：三个管理员须为三个不同的账号。",
            fix_zh="请为 --username、--security-username、--audit-username 给出不同的用户名。",
        )


def _refuse_if_accounts(store: FeatureStore) -> None:
    existing = store.users()
    if existing:
        raise InputError(
            f"The workspace {store.path} already has {len(existing)} account(s); its first "
            "administrators exist.",
            field="--workspace",
            fix="An administrator adds further accounts with guotu user add.",
            message_zh=f"工作空间 {store.path} 中已有 {len(existing)} 个账号，管理员已初始化过，"
            "不能再次初始化。",
            fix_zh="请由系统管理员用 guotu user add 添加账号。",
        )


@root.group("admin")
def admin_group() -> None:
    """The first administrators of a workspace."""


@admin_group.command("init")
@workspace_option()
@click.option(
    "--username",
    default="admin",
    show_default=True,
    help="User name of the system administrator (accounts, departments).",
)
@click.option(
    "--security-username",
    default="secadmin",
    show_default=True,
    help="User name of the security administrator (roles, open grades).",
)
@click.option(
    "--audit-username",
    default="auditadmin",
    show_default=True,
    help="User name of the audit administrator (the audit log).",
)
@json_option
@lang_option
@pass_context
def admin_init(
    ctx: Context,
    workspace: str,
    username: str,
    security_username: str,
    audit_username: str,
    as_json: bool,
) -> None:
    """Create the first administrators of a workspace without accounts: the system, security
    and audit administrators, three people (三员分立), each with a generated password printed
    once. Refused when the workspace has accounts."""
    names = [
        ("--username", username.strip()),
        ("--security-username", security_username.strip()),
        ("--audit-username", audit_username.strip()),
    ]
    _check_admin_names(names)
    made: list[tuple[UserAccount, str]] = []
    with open_as(workspace, create=True) as (store, who):
        _refuse_if_accounts(store)
        for (_, name), (role, zh, en) in zip(names, _ADMINS, strict=True):
            password = generate_password(name)
            account = create_user(
                store,
                username=name,
                display_name=zh if ctx.lang == "zh" else en,
                department=None,
                roles=[role],
                password=password,
                actor=who.actor,
                temporary=True,  # each administrator changes theirs at the first sign-in
            )
            made.append((account, password))
        shown = store.path
    if as_json:
        emit_json(
            [{"username": a.username, "roles": sorted(a.roles), "password": p} for a, p in made]
        )
        return
    table = Table(title=ctx.t(f"工作空间 {shown} 的管理员", f"Administrators of {shown}"))
    for head in (
        ctx.t("用户名", "User name"),
        ctx.t("角色", "Role"),
        ctx.t("初始密码", "Password"),
    ):
        table.add_column(head)
    for a, p in made:
        table.add_row(a.username, role_names(a.roles, ctx.lang), p)
    console().print(table)
    click.echo(
        ctx.t(
            "以上密码只显示这一次，未写入任何文件：请分别交给三位管理员本人，首次登录时须修改"
            "（网页 /ui/password，或 guotu passwd）。三员分立：三个账号须由不同的人使用。",
            "These passwords are shown this once and written nowhere: hand each to its "
            "administrator, who must change it at the first sign-in (the page /ui/password, or "
            "guotu passwd). Separation "
            "of duties: three different people use these accounts.",
        )
    )

"""Accounts: ``guotu user add|list|show|set-roles|passwd|disable|enable|unlock`` (the first
administrators of a workspace are ``guotu admin init``, :mod:`guotu.cli.admin`).

A password is never an option value (it would stay in the shell's history and in the process
list): it is typed twice at a hidden prompt, read from the first line of standard input
(``--password-stdin``), or generated (``--generate-password``) and printed once. The services
check it against the password rules (:mod:`guotu.domain.access.passwords`) and keep only its
argon2id hash.

Exit codes: 0 done, 2 bad input (a message naming the field and the fix), 3 environment or
store error.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import click
from rich.table import Table

from guotu.cli.access import department_names, local_time, role_names
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
from guotu.cli.principal import PERMISSION_ZH, open_as
from guotu.domain.access.passwords import password_change_due
from guotu.domain.access.records import AccountSource, UserAccount
from guotu.domain.access.roles import Permission, get_access_role, permissions_of
from guotu.errors import InputError
from guotu.services.identity import (
    account_refusal,
    create_user,
    generate_password,
    set_active,
    set_password,
    set_roles,
    unlock,
)
from guotu.services.identity_accounts import require_user

__all__ = ["read_password", "user_group"]

#: Letters and digits that cannot be mistaken for one another when read aloud or copied by
#: hand (no 0/O, 1/l/I).
_SOURCE_ZH = {
    AccountSource.LOCAL: "本地",
    AccountSource.LDAP: "目录",
    AccountSource.OIDC: "统一认证",
}


def read_password(ctx: Context, from_stdin: bool) -> str:
    """A password typed twice at a hidden prompt, or the first line of standard input.

    Raises
    ------
    InputError
        The two entries differ, or nothing was typed (standard input is empty).
    """
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise InputError(
                "--password-stdin read no password: standard input is empty.",
                field="password",
                fix="Pipe the password in: printf '%s\\n' \"$PASSWORD\" | guotu user … "
                "--password-stdin.",
                message_zh="--password-stdin 没有读到密码：标准输入为空。",
                fix_zh="请通过管道输入密码：printf '%s\\n' \"$PASSWORD\" | guotu user … "
                "--password-stdin。",
            )
        return line
    try:
        first = click.prompt(ctx.t("密码", "Password"), hide_input=True, err=True)
        second = click.prompt(
            ctx.t("再输入一次密码", "Repeat the password"), hide_input=True, err=True
        )
    except click.exceptions.Abort:  # end of input (nothing piped in) or Ctrl-C at the prompt
        raise InputError(
            "No password was typed.",
            field="password",
            fix="Type it twice at the prompt, or use --password-stdin or --generate-password.",
            message_zh="没有输入密码。",
            fix_zh="请在提示下输入两次，或使用 --password-stdin 或 --generate-password。",
        ) from None
    if first != second:
        raise InputError(
            "The two passwords typed differ.",
            field="password",
            fix="Run the command again and type the same password twice.",
            message_zh="两次输入的密码不一致。",
            fix_zh="请重新运行命令，两次输入相同的密码。",
        )
    return str(first)


def _password_options(f: Any) -> Any:
    f = click.option(
        "--generate-password",
        "generate_password_",
        is_flag=True,
        help="Generate a password and print it once (instead of the prompt).",
    )(f)
    return click.option(
        "--password-stdin",
        is_flag=True,
        help="Read the password from the first line of standard input (instead of the prompt).",
    )(f)


def _one_password_source(password_stdin: bool, generate: bool) -> None:
    if password_stdin and generate:
        raise InputError(
            "--password-stdin and --generate-password contradict each other.",
            field="password",
            fix="Give one of them (or neither, to type the password at the prompt).",
            message_zh="--password-stdin 与 --generate-password 不能同时使用。",
            fix_zh="请只用其中一个（都不用时在提示下输入密码）。",
        )


def _split(values: Sequence[str]) -> list[str]:
    return [v.strip() for text in values for v in text.replace("，", ",").split(",") if v.strip()]


def _status(ctx: Context, account: UserAccount, now: datetime) -> str:
    why = account_refusal(account, now)
    if why == "inactive":
        return ctx.t("已停用", "disabled")
    if why == "locked":
        return ctx.t(
            f"已锁定（至 {local_time(account.locked_until)}）",
            f"locked (until {local_time(account.locked_until)})",
        )
    return ctx.t("正常", "active")


def _password_state(ctx: Context, account: UserAccount, now: datetime) -> str:
    """When the holder last chose the password, and whether they must change it now."""
    shown = local_time(account.password_changed_at)
    due = password_change_due(account, now)
    if due == "initial":
        return ctx.t("—（初始密码，本人登录时须修改）", "— (initial: changed at the next sign-in)")
    if due == "expired":
        return shown + ctx.t(
            "（已过期，本人登录时须修改）", " (expired: changed at the next sign-in)"
        )
    return shown


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _account_dict(a: UserAccount, now: datetime) -> dict[str, Any]:
    """An account as JSON: never its password hash."""
    return {
        "username": a.username,
        "display_name": a.display_name,
        "department": a.department,
        "roles": sorted(a.roles),
        "source": a.source.value,
        "active": a.active,
        "locked": account_refusal(a, now) == "locked",
        "locked_until": a.locked_until,
        "failed_sign_ins": a.failed_sign_ins,
        "password_changed_at": a.password_changed_at,
        "password_change": password_change_due(a, now),  # initial, expired or None
        "recorded_at": a.recorded_at,
    }


# -- guotu user ----------------------------------------------------------------------------------
@root.group("user")
def user_group() -> None:
    """User accounts (账号): create, list, show, grant roles, set passwords, disable, unlock."""


@user_group.command("add")
@click.argument("username")
@workspace_option()
@click.option("--name", "display_name", required=True, help="The person's name, e.g. 李四.")
@click.option("--dept", metavar="DEPT_ID", help="Department id (guotu dept list).")
@click.option(
    "--role",
    "roles",
    multiple=True,
    metavar="ROLE",
    help="Access role id (guotu role list); repeatable or comma-separated.",
)
@click.option(
    "--ldap",
    "directory",
    is_flag=True,
    help="The account signs in through the bureau's directory (LDAP): no password here.",
)
@_password_options
@lang_option
@pass_context
def user_add(
    ctx: Context,
    username: str,
    workspace: str,
    display_name: str,
    dept: str | None,
    roles: tuple[str, ...],
    directory: bool,
    password_stdin: bool,
    generate_password_: bool,
) -> None:
    """Create an account; its password is typed twice at a hidden prompt.

    \b
    Examples:
      guotu user add lisi --name 李四 --dept gengdi --role viewer -w county.gpkg
      guotu user add lisi --name 李四 --role reviewer --generate-password -w county.gpkg
      printf '%s\\n' "$PW" | guotu user add lisi --name 李四 --password-stdin -w county.gpkg
    """
    _one_password_source(password_stdin, generate_password_)
    if directory and (password_stdin or generate_password_):
        raise InputError(
            "A directory (LDAP) account has no password in guotu.",
            field="password",
            fix="Leave out --password-stdin and --generate-password.",
            message_zh="目录账号的密码由目录服务器保管，不能在本系统设置。",
            fix_zh="请去掉 --password-stdin 和 --generate-password。",
        )
    wanted = _split(roles)
    for role in wanted:
        get_access_role(role)  # an unknown role is refused before the password is asked
    with open_as(workspace) as (store, who):
        who.require_admin(Permission.MANAGE_ACCOUNTS)
        if wanted:  # roles are the security administrator's to grant (三员分立)
            who.require_admin(Permission.GRANT)
        password = None
        if not directory:
            password = (
                generate_password(username)
                if generate_password_
                else read_password(ctx, password_stdin)
            )
        account = create_user(
            store,
            username=username,
            display_name=display_name,
            department=dept,
            roles=wanted,
            password=password,
            source=AccountSource.LDAP if directory else AccountSource.LOCAL,
            actor=who.actor,
            temporary=True,  # set for its holder, who changes it at the first sign-in
        )
    click.echo(
        ctx.t(
            f"已新建账号 {account.username}（{account.display_name}），角色："
            f"{role_names(account.roles, 'zh')}。",
            f"Account {account.username} ({account.display_name}) created, roles: "
            f"{role_names(account.roles, 'en')}.",
        )
    )
    if generate_password_ and password is not None:
        click.echo(
            ctx.t(
                f"初始密码（只显示这一次，请转交本人；本人首次登录时须修改）：{password}",
                f"Initial password (shown this once; hand it over: its holder must change it "
                f"at the first sign-in): {password}",
            )
        )


@user_group.command("list")
@workspace_option()
@json_option
@lang_option
@pass_context
def user_list(ctx: Context, workspace: str, as_json: bool) -> None:
    """List the accounts with their department, roles and status."""
    with open_as(workspace) as (store, who):
        who.require_admin(Permission.MANAGE_ACCOUNTS, Permission.GRANT)
        accounts = store.users()
        depts = department_names(store)
    now = _now()
    if as_json:
        emit_json([_account_dict(a, now) for a in accounts])
        return
    table = Table()
    for head in (
        ctx.t("用户名", "User name"),
        ctx.t("姓名", "Name"),
        ctx.t("部门", "Department"),
        ctx.t("角色", "Roles"),
        ctx.t("登录方式", "Sign-in"),
        ctx.t("状态", "Status"),
    ):
        table.add_column(head)
    for a in accounts:
        table.add_row(
            a.username,
            a.display_name,
            depts.get(a.department, a.department) if a.department else "—",
            role_names(a.roles, ctx.lang),
            _SOURCE_ZH[a.source] if ctx.lang == "zh" else a.source.value,
            _status(ctx, a, now),
        )
    console().print(table)


@user_group.command("show")
@click.argument("username")
@workspace_option()
@json_option
@lang_option
@pass_context
def user_show(ctx: Context, username: str, workspace: str, as_json: bool) -> None:
    """Show an account: department, roles and permissions, status, tokens and its changes."""
    with open_as(workspace) as (store, who):
        who.require_admin(Permission.MANAGE_ACCOUNTS, Permission.GRANT)
        account = require_user(store, username)
        depts = department_names(store)
        tokens = store.tokens(account.username)
        history = store.user_history(account.username)
    now = _now()
    perms = [p for p in Permission if p in permissions_of(account.roles)]
    usable = [t for t in tokens if t.is_usable(now)]
    if as_json:
        emit_json(
            {
                **_account_dict(account, now),
                "permissions": [p.value for p in perms],
                "tokens": [
                    {
                        "id": t.id,
                        "name": t.name,
                        "scopes": sorted(t.scopes),
                        "expires_at": t.expires_at,
                        "revoked_at": t.revoked_at,
                        "usable": t.is_usable(now),
                    }
                    for t in tokens
                ],
                "history": [
                    {
                        "recorded_at": h.recorded_at,
                        "roles": sorted(h.roles),
                        "active": h.active,
                        "department": h.department,
                    }
                    for h in history
                ],
            }
        )
        return
    zh = ctx.lang == "zh"
    dept = depts.get(account.department, account.department) if account.department else "—"
    rows = [
        (ctx.t("用户名", "User name"), account.username),
        (ctx.t("姓名", "Name"), account.display_name),
        (ctx.t("部门", "Department"), dept),
        (ctx.t("角色", "Roles"), role_names(account.roles, ctx.lang)),
        (
            ctx.t("权限", "Permissions"),
            ("、".join(PERMISSION_ZH[p] for p in perms) if zh else ", ".join(perms)) or "—",
        ),
        (
            ctx.t("登录方式", "Sign-in"),
            _SOURCE_ZH[account.source] if zh else account.source.value,
        ),
        (ctx.t("状态", "Status"), _status(ctx, account, now)),
        (ctx.t("连续登录失败", "Failed sign-ins in a row"), str(account.failed_sign_ins)),
        (ctx.t("密码修改时间", "Password changed"), _password_state(ctx, account, now)),
        (ctx.t("有效访问令牌", "Usable access tokens"), str(len(usable))),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        click.echo(f"{key}{'　' * (width - len(key)) if zh else ' ' * (width - len(key))}  {value}")
    table = Table(title=ctx.t("变更记录", "Changes"))
    for head in (ctx.t("登记时间", "Recorded"), ctx.t("角色", "Roles"), ctx.t("状态", "Status")):
        table.add_column(head)
    for h in history:
        table.add_row(
            local_time(h.recorded_at),
            role_names(h.roles, ctx.lang),
            ctx.t("正常", "active") if h.active else ctx.t("已停用", "disabled"),
        )
    console().print(table)


@user_group.command("set-roles")
@click.argument("username")
@click.argument("roles", nargs=-1, required=True)
@workspace_option()
@lang_option
@pass_context
def user_set_roles(ctx: Context, username: str, roles: tuple[str, ...], workspace: str) -> None:
    """Give an account exactly these roles (三员分立 is checked).

    \b
    Examples:
      guotu user set-roles lisi viewer reviewer -w county.gpkg
    """
    wanted = _split(roles)
    for role in wanted:
        get_access_role(role)  # an unknown role is refused before the workspace is opened
    with open_as(workspace) as (store, who):
        who.require_admin(Permission.GRANT)
        who.not_oneself(username, "change your own roles", "修改自己的角色")
        set_roles(store, username, wanted, actor=who.actor)
        account = require_user(store, username)
    click.echo(
        ctx.t(
            f"已把账号 {account.username} 的角色设为：{role_names(account.roles, 'zh')}。",
            f"Roles of {account.username} set to: {role_names(account.roles, 'en')}.",
        )
    )


@user_group.command("passwd")
@click.argument("username")
@workspace_option()
@_password_options
@lang_option
@pass_context
def user_passwd(
    ctx: Context,
    username: str,
    workspace: str,
    password_stdin: bool,
    generate_password_: bool,
) -> None:
    """Set a local account's password (typed twice at a hidden prompt); ends its sessions."""
    _one_password_source(password_stdin, generate_password_)
    with open_as(workspace) as (store, who):
        who.require_admin(Permission.MANAGE_ACCOUNTS)
        who.not_oneself(username, "reset your own password here", "在此重置自己的密码")
        account = require_user(store, username)
        password = (
            generate_password(account.username)
            if generate_password_
            else read_password(ctx, password_stdin)
        )
        set_password(store, account.username, password, actor=who.actor, temporary=True)
    click.echo(
        ctx.t(f"已修改账号 {account.username} 的密码。", f"Password of {account.username} set.")
    )
    if generate_password_:
        click.echo(
            ctx.t(f"新密码（只显示这一次）：{password}", f"New password (shown once): {password}")
        )


def _state_command(name: str, help_text: str, zh: str, en: str) -> None:
    @user_group.command(name, help=help_text)
    @click.argument("username")
    @workspace_option()
    @lang_option
    @pass_context
    def command(ctx: Context, username: str, workspace: str) -> None:
        with open_as(workspace) as (store, who):
            who.require_admin(Permission.MANAGE_ACCOUNTS)
            if name == "disable":
                who.not_oneself(username, "disable your own account", "停用自己的账号")
            account = require_user(store, username)
            if name == "unlock":
                unlock(store, account.username, actor=who.actor)
            else:
                set_active(store, account.username, name == "enable", actor=who.actor)
        click.echo(ctx.t(zh.format(account.username), en.format(account.username)))


_state_command(
    "disable",
    "Disable an account: it can no longer sign in, its sessions end and its tokens stop working.",
    "已停用账号 {}。",
    "Account {} disabled.",
)
_state_command("enable", "Enable a disabled account.", "已启用账号 {}。", "Account {} enabled.")
_state_command(
    "unlock",
    "Lift the lock after failed sign-ins (and forget the failures).",
    "已解锁账号 {}。",
    "Account {} unlocked.",
)

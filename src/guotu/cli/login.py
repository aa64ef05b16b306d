"""Signing the command line in to a PostgreSQL workspace: ``guotu login``, ``guotu logout``,
``guotu whoami`` (who a command on a workspace acts as, on any workspace) and ``guotu passwd``
(a user changing their own password, on any workspace).

``guotu login`` signs in like the server's sign-in page (the same password check, lockout,
directory and audit entry), then makes an access token for this machine and saves it for the
workspace (:mod:`guotu.cli.credentials`): every later command on that workspace acts as the
signed-in user (:mod:`guotu.cli.principal`). The token carries the permissions the user's roles
give at sign-in (no more later, and less when roles are taken away) and expires after
``--days`` (default 1). Signing in again replaces, and revokes, the token saved before.
``guotu logout`` revokes the saved token and deletes it. A user whose password must be changed
first (an initial password an administrator set, or one older than the rules allow) is refused
a sign-in, and so a token, until it is changed (``guotu passwd``, or the page ``/ui/password``).

``guotu passwd`` asks for the current password and the new one twice, as the page
``/ui/password`` does (:func:`guotu.services.identity.change_password`: a wrong current
password counts as a failed sign-in; the password rules apply; the user's browser sessions end,
their tokens keep working).

A password is never an option value: it is typed at a hidden prompt or read from the first
line of standard input (``--password-stdin``). A GeoPackage workspace has no sign-in (its
commands act as the operating-system user): ``login`` and ``logout`` refuse it.

Exit codes: 0 done, 2 refused (wrong user name or password, a password to change first, a
GeoPackage workspace, bad input), 3 environment or store error.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

import click

from guotu.cli.access import local_time, role_names
from guotu.cli.base import (
    Context,
    emit_json,
    json_option,
    lang_option,
    pass_context,
    root,
    workspace_option,
)
from guotu.cli.credentials import (
    SavedToken,
    credentials_path,
    forget_token,
    save_token,
    saved_token,
    workspace_key,
)
from guotu.cli.principal import (
    ENV_TOKEN,
    PERMISSION_ZH,
    CommandUser,
    command_address,
    is_database,
    open_as,
    os_user,
    shown_location,
)
from guotu.domain.access.passwords import password_change_due
from guotu.domain.access.records import Actor, UserAccount
from guotu.domain.access.roles import Permission, permissions_of
from guotu.errors import InputError, PermissionDeniedError
from guotu.ports import FeatureStore
from guotu.services.identity import (
    change_password,
    create_token,
    password_change_required,
    resolve_token,
    revoke_token,
    sign_in,
)
from guotu.services.identity_accounts import moment
from guotu.services.identity_sign_in import directory_of, hashing_of
from guotu.services.workspace import open_workspace
from guotu.settings import load_settings

__all__ = [
    "LOGIN_MAX_DAYS",
    "login_command",
    "logout_command",
    "passwd_command",
    "read_sign_in_password",
    "sign_in_as",
    "whoami_command",
]

#: Longest a sign-in of the command line lasts (it carries every permission of the user's
#: roles, so it lives shorter than a token for GDAL or QGIS).
LOGIN_MAX_DAYS = 30
_VIA_ZH = {
    "token": "已登录（访问令牌）",
    "account": "操作系统用户对应的账号",
    "owner": "工作空间所有者（无对应账号，按业务角色）",
}
_VIA_EN = {
    "token": "signed in (access token)",
    "account": "the operating-system user's account",
    "owner": "the workspace's owner (no account of that name: business roles)",
}


def _no_sign_in(location: str, command: str) -> InputError:
    shown = shown_location(location)
    return InputError(
        f"Workspace {shown} is a GeoPackage: commands on it act as the operating-system user "
        f"({os_user()}), so there is no {command}.",
        fix="Run commands directly; GUOTU_USER names the account they act as.",
        message_zh=f"工作空间 {shown} 是 GeoPackage 文件，无需{'登录' if command == 'login' else '退出登录'}："
        f"命令以操作系统用户（{os_user()}）的身份运行。",
        fix_zh="请直接运行命令；工作空间中有同名账号时按该账号的角色和访问策略执行"
        "（GUOTU_USER 可指定账号名）。",
    )


def read_sign_in_password(ctx: Context, from_stdin: bool) -> str:
    """The password: the first line of standard input, or typed once at a hidden prompt."""
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
    else:
        try:
            line = str(click.prompt(ctx.t("密码", "Password"), hide_input=True, err=True))
        except click.exceptions.Abort:  # end of input, or Ctrl-C at the prompt
            line = ""
    if not line:
        raise InputError(
            "No password was given.",
            field="password",
            fix="Type it at the prompt, or pipe it in with --password-stdin.",
            message_zh="没有输入密码。",
            fix_zh="请在提示下输入密码，或用 --password-stdin 从标准输入读入。",
        )
    return line


def sign_in_as(
    store: FeatureStore, username: str, password: str, *, location: str | None = None
) -> UserAccount:
    """The account ``username`` and ``password`` sign in as, checked as the server's sign-in
    checks it (its settings: ``GUOTU_AUTH``'s directory, lockout, argon2id parameters) and
    audited with this machine as the address; refused while its password must be changed
    first (what it signs in for, a token, would get round the rule the server applies to a
    session). ``location`` (the workspace) goes into the refusal's fix.

    Raises
    ------
    AuthenticationError
        Whatever the reason, in the one sentence every failed sign-in says.
    PasswordChangeRequiredError
        The password is an initial one an administrator set, or has expired.
    """

    settings = load_settings()
    account = sign_in(
        store,
        username,
        password,
        address=command_address(),
        directory=directory_of(settings),
        limits=settings.sign_in_limits,
        group_roles=settings.group_role_map,
        hashing=hashing_of(settings),
    )
    reason = password_change_due(account, moment())
    if reason is not None:
        where = f" -w {shown_location(location)}" if location else ""
        command = f"guotu passwd {account.username}{where}"
        raise password_change_required(
            reason,
            fix=f"Change it on the page /ui/password of guotu serve, or run {command}; then "
            "sign in again.",
            fix_zh=f"请在 guotu serve 网页的 /ui/password 页面修改密码，或运行 {command}，"
            "然后重新登录。",
        )
    return account


def _revoke_saved(store: FeatureStore, saved: SavedToken | None) -> None:
    """Revoke the token saved before, when it still signs someone in (its owner acts)."""
    found = resolve_token(store, saved.token) if saved is not None else None
    if found is not None:
        account, token = found
        actor = Actor(account.username, account.department or "", command_address())
        revoke_token(store, token.id, actor=actor)


@root.command("login")
@click.argument("username", required=False)
@workspace_option()
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (instead of the prompt).",
)
@click.option(
    "--days",
    type=click.IntRange(1, LOGIN_MAX_DAYS),
    default=1,
    show_default=True,
    help=f"Days the sign-in lasts (at most {LOGIN_MAX_DAYS}).",
)
@json_option
@lang_option
@pass_context
def login_command(
    ctx: Context,
    username: str | None,
    workspace: str,
    password_stdin: bool,
    days: int,
    as_json: bool,
) -> None:
    """Sign in to a PostgreSQL workspace: later commands on it act as USERNAME (default: the
    operating-system user) with that user's roles and the layers' access policies.

    \b
    Examples:
      guotu login lisi -w env:GUOTU_PG_DSN
      printf '%s\\n' "$PW" | guotu login lisi -w env:GUOTU_PG_DSN --password-stdin --days 7
    """
    if not is_database(workspace):
        raise _no_sign_in(workspace, "login")
    name = (username or os_user()).strip()
    password = read_sign_in_password(ctx, password_stdin)
    address = command_address()
    with open_workspace(workspace) as store:
        account = sign_in_as(store, name, password, location=workspace)
        scopes = sorted(p.value for p in permissions_of(account.roles))
        if not scopes:
            raise PermissionDeniedError(
                f"User {account.username!r} has no role: there is nothing to sign in for.",
                fix="Ask the security administrator for a role.",
                message_zh=f"用户“{account.username}”没有任何角色，登录后无事可做。",
                fix_zh="请联系安全管理员授予角色。",
            )
        _revoke_saved(store, saved_token(workspace))
        token, text = create_token(
            store,
            account.username,
            f"guotu login ({socket.gethostname()[:60]})",
            scopes,
            days,
            actor=Actor(account.username, account.department or "", address),
            allowed_scopes=frozenset(Permission),
        )
    path = save_token(
        SavedToken(
            workspace_key(workspace),
            account.username,
            token.id,
            text,
            token.expires_at.isoformat(timespec="seconds"),
        )
    )
    if as_json:
        emit_json(
            {
                "username": account.username,
                "token_id": token.id,
                "scopes": sorted(token.scopes),
                "expires_at": token.expires_at,
                "saved_in": str(path),
            }
        )
        return
    click.echo(
        ctx.t(
            f"已登录：{account.display_name}（{account.username}），角色 "
            f"{role_names(account.roles, 'zh')}；有效期至 {local_time(token.expires_at)}。"
            f"访问令牌 {token.id} 已保存在 {path}（仅本人可读）；用完请运行 guotu logout。",
            f"Signed in: {account.display_name} ({account.username}), roles "
            f"{role_names(account.roles, 'en')}; valid until {local_time(token.expires_at)}. "
            f"Access token {token.id} is saved in {path} (readable by you only); run guotu "
            "logout when done.",
        )
    )


@root.command("logout")
@workspace_option()
@lang_option
@pass_context
def logout_command(ctx: Context, workspace: str) -> None:
    """Sign out of a PostgreSQL workspace: revoke the token guotu login saved, and delete it."""
    if not is_database(workspace):
        raise _no_sign_in(workspace, "logout")
    saved = saved_token(workspace)
    if saved is None:
        click.echo(
            ctx.t(
                f"未登录工作空间 {shown_location(workspace)}（没有保存的令牌）。",
                f"Not signed in to workspace {shown_location(workspace)} (no saved token).",
            )
        )
    else:
        with open_workspace(workspace) as store:
            _revoke_saved(store, saved)
        forget_token(workspace)
        click.echo(
            ctx.t(
                f"已退出登录：{saved.username} 的访问令牌 {saved.token_id} 已撤销，"
                f"并已从 {credentials_path()} 删除。",
                f"Signed out: access token {saved.token_id} of {saved.username} is revoked "
                f"and deleted from {credentials_path()}.",
            )
        )
    if os.environ.get(ENV_TOKEN):
        click.echo(
            ctx.t(
                "注意：环境变量 GUOTU_TOKEN 仍已设置，命令仍以其中令牌的身份运行。",
                "Note: GUOTU_TOKEN is still set; commands still act as its token's owner.",
            )
        )


def _user_doc(who: CommandUser) -> dict[str, Any]:
    p = who.principal
    return {
        "username": who.name,
        "via": who.via,
        "display_name": who.account.display_name if who.account is not None else None,
        "roles": sorted(p.roles),
        "permissions": [x.value for x in Permission if x in p.permissions],
        "department": p.department,
        "regions": list(p.regions),
        "token_id": who.token.id if who.token is not None else None,
        "expires_at": who.token.expires_at if who.token is not None else None,
    }


@root.command("whoami")
@workspace_option()
@json_option
@lang_option
@pass_context
def whoami_command(ctx: Context, workspace: str, as_json: bool) -> None:
    """Who commands on the workspace act as: user, roles, permissions, department, region."""
    with open_as(workspace) as (_store, who):
        doc = _user_doc(who)
    if as_json:
        emit_json(doc)
        return
    zh = ctx.lang == "zh"
    perms = [Permission(x) for x in doc["permissions"]]
    allowed = "、".join(PERMISSION_ZH[x] for x in perms) if zh else ", ".join(doc["permissions"])
    lines = [
        ctx.t(f"用户：{who.name}", f"User: {who.name}")
        + (f"（{doc['display_name']}）" if zh and doc["display_name"] else "")
        + (f" ({doc['display_name']})" if not zh and doc["display_name"] else ""),
        ctx.t("身份：", "As: ") + (_VIA_ZH if zh else _VIA_EN)[who.via],
        ctx.t("角色：", "Roles: ") + role_names(doc["roles"], ctx.lang),
        ctx.t("权限：", "Permissions: ") + (allowed or "—"),
        ctx.t("部门：", "Department: ") + (doc["department"] or "—"),
    ]
    if doc["regions"]:
        lines.append(ctx.t("辖区：", "Regions: ") + "、".join(doc["regions"]))
    if who.token is not None:
        lines.append(
            ctx.t(
                f"令牌：{who.token.id}，有效期至 {local_time(who.token.expires_at)}",
                f"Token: {who.token.id}, valid until {local_time(who.token.expires_at)}",
            )
        )
    for line in lines:
        click.echo(line)


def _read_change(ctx: Context, from_stdin: bool) -> tuple[str, str]:
    """The current password and the new one: the first two lines of standard input, or typed
    at hidden prompts (the new one twice)."""
    if from_stdin:
        current = sys.stdin.readline().rstrip("\r\n")
        new = sys.stdin.readline().rstrip("\r\n")
        again = new
    else:
        try:
            current = str(
                click.prompt(ctx.t("当前密码", "Current password"), hide_input=True, err=True)
            )
            new = str(click.prompt(ctx.t("新密码", "New password"), hide_input=True, err=True))
            again = str(
                click.prompt(
                    ctx.t("再输入一次新密码", "Repeat the new password"), hide_input=True, err=True
                )
            )
        except click.exceptions.Abort:  # end of input, or Ctrl-C at a prompt
            current = new = again = ""
    if not current or not new:
        raise InputError(
            "The current and the new password are needed.",
            field="password",
            fix="Type them at the prompts, or pipe the current password and the new one, a "
            "line each, with --password-stdin.",
            message_zh="需要输入当前密码和新密码。",
            fix_zh="请在提示下输入，或用 --password-stdin 从标准输入依次读入当前密码和新密码（各一行）。",
        )
    if new != again:
        raise InputError(
            "The two new passwords typed differ.",
            field="new_password_again",
            fix="Run the command again and type the same new password twice.",
            message_zh="两次输入的新密码不一致。",
            fix_zh="请重新运行命令，两次输入相同的新密码。",
        )
    return current, new


@root.command("passwd")
@click.argument("username", required=False)
@workspace_option()
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the current password and then the new one from the first two lines of "
    "standard input (instead of the prompts).",
)
@lang_option
@pass_context
def passwd_command(
    ctx: Context, username: str | None, workspace: str, password_stdin: bool
) -> None:
    """Change your own password (USERNAME, default: the operating-system user): the current
    one, then the new one twice at hidden prompts. Your browser sessions end; access tokens
    keep working.

    \b
    Examples:
      guotu passwd lisi -w env:GUOTU_PG_DSN
      printf '%s\\n%s\\n' "$OLD" "$NEW" | guotu passwd lisi -w county.gpkg --password-stdin
    """
    name = (username or os_user()).strip()
    current, new = _read_change(ctx, password_stdin)
    settings = load_settings()
    with open_workspace(workspace) as store:
        account = change_password(
            store,
            name,
            current,
            new,
            address=command_address(),
            limits=settings.sign_in_limits,
            hashing=hashing_of(settings),
        )
    click.echo(
        ctx.t(
            f"已修改 {account.username} 的密码；其网页登录已全部结束，访问令牌不受影响。",
            f"Password of {account.username} changed; their browser sessions have ended, "
            "access tokens keep working.",
        )
    )

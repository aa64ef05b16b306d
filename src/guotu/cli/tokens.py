"""Personal access tokens for GDAL, QGIS and scripts: ``guotu token add|list|revoke``.

``token add`` prints the token's text once, with how GDAL and QGIS send it
(``Authorization: Bearer gt_…``); the workspace keeps only its SHA-256.

Signed in to a database (:mod:`guotu.cli.principal`), a token is made only by its owner and
only with their password (typed at a hidden prompt, or ``--password-stdin``), as the server
makes one only in a signed-in browser session: never from another token alone, and no
administrator makes one for someone else (it would let them act as that person). The owner
lists and revokes their own tokens; the system administrator anyone's. On a GeoPackage, and a
database without sign-in, whoever may change the workspace administers its tokens.

Exit codes: 0 done, 2 bad input or refused, 3 environment or store error.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from rich.table import Table

from guotu.cli.access import local_time
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
from guotu.cli.login import read_sign_in_password, sign_in_as
from guotu.cli.principal import PERMISSION_ZH, CommandUser, open_as
from guotu.domain.access.records import AccessToken
from guotu.domain.access.roles import Permission
from guotu.errors import NotFoundError, PermissionDeniedError
from guotu.ports import FeatureStore
from guotu.services.identity import MAX_TOKEN_DAYS, create_token, revoke_token

__all__ = ["token_hint"]

_SCOPE_ZH = {p.value: zh for p, zh in PERMISSION_ZH.items()}


def token_hint(text: str, server: str, lang: str) -> list[str]:
    """How GDAL and QGIS send the token ``text`` to the server at ``server``.

    Examples
    --------
    >>> token_hint("gt_x", "http://host:8000/", "en")[1]
    '  ogrinfo "OAPIF:http://host:8000/" --config GDAL_HTTP_HEADERS "Authorization: Bearer gt_x"'
    """
    command = (
        f'  ogrinfo "OAPIF:{server}" --config GDAL_HTTP_HEADERS "Authorization: Bearer {text}"'
    )
    if lang == "zh":
        return [
            "在 GDAL 中使用（ogrinfo、ogr2ogr 等）：",
            command,
            "在 QGIS 中使用：数据源管理器 → WFS / OGC API - Features → 新建连接，填写上面的地址，"
            "“认证”中新建 API Header 认证配置：名称 Authorization，值 Bearer 加令牌。",
        ]
    return [
        "With GDAL (ogrinfo, ogr2ogr …):",
        command,
        "With QGIS: Data Source Manager → WFS / OGC API - Features → New connection with the URL "
        "above; under Authentication add an “API Header” configuration: key Authorization, "
        "value Bearer and the token.",
    ]


def _scopes(token: AccessToken, lang: str) -> str:
    scopes = sorted(token.scopes, key=lambda s: (s != "read", s))
    if lang == "zh":
        return "、".join(_SCOPE_ZH.get(s, s) for s in scopes)
    return ", ".join(scopes)


def _state(token: AccessToken, now: datetime, lang: str) -> str:
    if token.revoked_at is not None:
        return "已撤销" if lang == "zh" else "revoked"
    if not token.is_usable(now):
        return "已过期" if lang == "zh" else "expired"
    return "有效" if lang == "zh" else "usable"


def _confirm_owner(
    ctx: Context, store: FeatureStore, who: CommandUser, username: str, password_stdin: bool
) -> None:
    """Signed in: ``username`` must be the principal, who types their password again."""
    if not who.is_signed_in:
        return
    if username.strip().lower() != who.name.lower():
        raise PermissionDeniedError(
            "A token is made by its owner only: no one makes one for someone else.",
            fix=f"Have {username} make it, signed in as themselves.",
            message_zh="访问令牌只能由本人创建：任何人（包括管理员）都不能替他人创建。",
            fix_zh=f"请由 {username} 本人登录后创建。",
        )
    sign_in_as(store, who.name, read_sign_in_password(ctx, password_stdin))


def _may_see(who: CommandUser, token: AccessToken) -> bool:
    """Whether ``who`` may list or revoke ``token``: their own, or (signed in) the system
    administrator's; anyone's on a workspace without sign-in."""
    if not who.is_signed_in or token.username.lower() == who.name.lower():
        return True
    return Permission.MANAGE_ACCOUNTS in who.principal.permissions


@root.group("token")
def token_group() -> None:
    """Personal access tokens (访问令牌) for GDAL, QGIS and scripts."""


@token_group.command("add")
@click.argument("username")
@workspace_option()
@click.option("--name", required=True, help="What the token is for, e.g. 办公电脑 QGIS.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(["read", "export"]),
    help="What it may be used for: read, export (repeatable; default read).",
)
@click.option(
    "--days",
    type=click.IntRange(1, MAX_TOKEN_DAYS),
    default=90,
    show_default=True,
    help=f"Days it stays valid (at most {MAX_TOKEN_DAYS}).",
)
@click.option(
    "--server",
    default="http://127.0.0.1:8000/",
    show_default=True,
    metavar="URL",
    help="The server's address, for the GDAL and QGIS example.",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (instead of the prompt).",
)
@json_option
@lang_option
@pass_context
def token_add(
    ctx: Context,
    username: str,
    workspace: str,
    name: str,
    scopes: tuple[str, ...],
    days: int,
    server: str,
    password_stdin: bool,
    as_json: bool,
) -> None:
    """Create an access token for a user and print it once, with how GDAL and QGIS use it.

    \b
    Examples:
      guotu token add lisi --name 办公电脑QGIS -w county.gpkg
      guotu token add lisi --name 数据下载 --scope read --scope export --days 30 -w county.gpkg
    """
    with open_as(workspace) as (store, who):
        _confirm_owner(ctx, store, who, username, password_stdin)
        token, text = create_token(
            store, username, name, scopes or ("read",), days, actor=who.actor
        )
    if as_json:
        emit_json(
            {
                "id": token.id,
                "username": token.username,
                "name": token.name,
                "scopes": sorted(token.scopes),
                "expires_at": token.expires_at,
                "token": text,
            }
        )
        return
    click.echo(
        ctx.t(
            f"已为账号 {token.username} 创建访问令牌“{token.name}”（编号 {token.id}，权限："
            f"{_scopes(token, 'zh')}，有效期至 {local_time(token.expires_at)}）。"
            "令牌只显示这一次，请立即复制保存：",
            f"Access token “{token.name}” created for {token.username} (id {token.id}, scopes: "
            f"{_scopes(token, 'en')}, valid until {local_time(token.expires_at)}). It is shown "
            "this once; copy it now:",
        )
    )
    click.echo(f"  {text}")
    for line in token_hint(text, server, ctx.lang):
        click.echo(line)


@token_group.command("list")
@workspace_option()
@click.option("--user", "username", help="Only this user's tokens.")
@json_option
@lang_option
@pass_context
def token_list(ctx: Context, workspace: str, username: str | None, as_json: bool) -> None:
    """List access tokens (never their text): owner, name, scopes, expiry, state."""
    with open_as(workspace) as (store, who):
        if who.is_signed_in and Permission.MANAGE_ACCOUNTS not in who.principal.permissions:
            username = username or who.name
        tokens = [t for t in store.tokens(username) if _may_see(who, t)]
    now = datetime.now(UTC).replace(tzinfo=None)
    if as_json:
        emit_json(
            [
                {
                    "id": t.id,
                    "username": t.username,
                    "name": t.name,
                    "scopes": sorted(t.scopes),
                    "created_at": t.created_at,
                    "expires_at": t.expires_at,
                    "revoked_at": t.revoked_at,
                    "usable": t.is_usable(now),
                }
                for t in tokens
            ]
        )
        return
    table = Table()
    for head in (
        ctx.t("编号", "Id"),
        ctx.t("账号", "User"),
        ctx.t("名称", "Name"),
        ctx.t("权限", "Scopes"),
        ctx.t("创建", "Created"),
        ctx.t("到期", "Expires"),
        ctx.t("状态", "State"),
    ):
        table.add_column(head)
    for t in tokens:
        table.add_row(
            t.id,
            t.username,
            t.name,
            _scopes(t, ctx.lang),
            local_time(t.created_at),
            local_time(t.expires_at),
            _state(t, now, ctx.lang),
        )
    console().print(table)


@token_group.command("revoke")
@click.argument("token_id")
@workspace_option()
@lang_option
@pass_context
def token_revoke(ctx: Context, token_id: str, workspace: str) -> None:
    """Revoke an access token: it stops working at once."""
    with open_as(workspace) as (store, who):
        token = store.token(token_id)
        if who.is_signed_in and (token is None or not _may_see(who, token)):
            raise NotFoundError(
                f"There is no access token {token_id!r} of yours.",
                field="token_id",
                fix="List your tokens to find its id (guotu token list).",
                message_zh=f"您没有编号为“{token_id}”的访问令牌。",
                fix_zh="请用 guotu token list 查看您的令牌编号。",
            )
        revoke_token(store, token_id, actor=who.actor)
    click.echo(ctx.t(f"已撤销访问令牌 {token_id}。", f"Access token {token_id} revoked."))

"""Personal access tokens for GDAL, QGIS and scripts: ``guotu token add|list|revoke``.

``token add`` prints the token's text once, with how GDAL and QGIS send it
(``Authorization: Bearer gt_…``); the workspace keeps only its SHA-256. Exit codes: 0 done,
2 bad input, 3 environment or store error.
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
from guotu.cli.plans import actor_name
from guotu.domain.access.records import AccessToken
from guotu.services.identity import MAX_TOKEN_DAYS, create_token, revoke_token
from guotu.services.workspace import open_workspace

__all__ = ["token_hint"]

_SCOPE_ZH = {"read": "查看", "export": "导出"}


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
    as_json: bool,
) -> None:
    """Create an access token for a user and print it once, with how GDAL and QGIS use it.

    \b
    Examples:
      guotu token add lisi --name 办公电脑QGIS -w county.gpkg
      guotu token add lisi --name 数据下载 --scope read --scope export --days 30 -w county.gpkg
    """
    with open_workspace(workspace) as store:
        token, text = create_token(
            store, username, name, scopes or ("read",), days, actor=actor_name()
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
    with open_workspace(workspace) as store:
        tokens = store.tokens(username)
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
    with open_workspace(workspace) as store:
        revoke_token(store, token_id, actor=actor_name())
    click.echo(ctx.t(f"已撤销访问令牌 {token_id}。", f"Access token {token_id} revoked."))

"""``guotu serve``: the HTTP server (OGC API - Features, tiles, site query, web UI)."""

from __future__ import annotations

import click

from guotu.cli.base import Context, pass_context, root, workspace_option
from guotu.errors import ConfigError
from guotu.services.monitoring_inputs import load_catalogue, load_inputs
from guotu.services.workspace import display_location, open_workspace
from guotu.settings import Settings, load_settings

__all__ = ["serve_command"]


@root.command("serve")
@workspace_option()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8000).")
@click.option(
    "--targets",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Plan targets by year (CSV/XLSX) for the monitoring dashboard, instead of "
    "the workspace's targets table.",
)
@click.option(
    "--statistics",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Statistics by year (CSV/XLSX) for the monitoring dashboard, instead of the "
    "workspace's statistics table.",
)
@pass_context
def serve_command(
    ctx: Context,
    workspace: str,
    host: str | None,
    port: int | None,
    targets: str | None,
    statistics: str | None,
) -> None:
    """Serve the workspace over HTTP: OGC API - Features, vector tiles, site query, web UI.

    The monitoring dashboard reads the workspace's targets and statistics tables (guotu
    monitor targets|statistics import); --targets/--statistics replace them for this server.

    \b
    Examples:
      guotu serve -w demo_county.gpkg
      guotu serve -w env:GUOTU_PG --host 0.0.0.0 --port 8080
      guotu serve -w demo_county.gpkg --targets 规划目标_征求意见稿.xlsx
    """
    import uvicorn

    from guotu.web.app import create_app

    settings = load_settings(
        workspace=workspace,
        host=host,
        port=port,
        monitor_targets=targets,
        monitor_statistics=statistics,
    )
    refuse_open_single_user(settings)
    # Fail now, with guotu's message, if the workspace or a table is unusable; say which
    # targets and statistics the dashboard starts with.
    with open_workspace(settings.workspace) as store:
        tgt, stats = load_inputs(
            store,
            load_catalogue(),
            targets_file=settings.monitor_targets or None,
            statistics_file=settings.monitor_statistics or None,
        )
    shown = display_location(workspace)
    click.echo(
        ctx.t(
            f"guotu 服务：http://{settings.host}:{settings.port}/ （工作空间 {shown}）",
            f"guotu serving http://{settings.host}:{settings.port}/ (workspace {shown})",
        )
    )
    for table in (tgt, stats):
        if table.origin is not None:
            click.echo(table.origin.describe(ctx.lang))
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        server_header=False,  # the server's name and version are nobody's business
    )


def refuse_open_single_user(settings: Settings) -> None:
    """Refuse to serve without sign-in (``auth = none``: every request acts as the local user
    with the business roles) on an address other machines can reach.

    Raises
    ------
    ConfigError
        ``auth`` is ``none`` and ``host`` is not a loopback address (exit 2).
    """
    if settings.auth == "none" and not settings.is_loopback:
        raise ConfigError(
            f"Without sign-in (auth = none) guotu serves this machine only, not {settings.host}: "
            "anyone reaching it would act with every business role.",
            field="auth",
            fix="Configure sign-in (GUOTU_AUTH=local, ldap or oidc, with accounts), or listen on "
            "127.0.0.1.",
            message_zh=f"未启用登录（auth = none）时只能在本机提供服务，不能监听 {settings.host}："
            "任何能访问到它的人都将拥有全部业务权限。",
            fix_zh="请配置登录方式（环境变量 GUOTU_AUTH=local、ldap 或 oidc，并建立账号），"
            "或改为监听 127.0.0.1。",
        )

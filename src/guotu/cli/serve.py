"""``guotu serve``: the HTTP server (OGC API - Features, tiles, site query, web UI)."""

from __future__ import annotations

import click

from guotu.cli.base import Context, pass_context, root, workspace_option
from guotu.services.monitoring_inputs import load_catalogue, load_inputs
from guotu.services.workspace import display_location, open_workspace
from guotu.settings import load_settings

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
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")

"""``guotu serve``: the HTTP server (OGC API - Features, tiles, site query, web UI)."""

from __future__ import annotations

import click

from guotu.cli.base import Context, pass_context, root, workspace_option
from guotu.services.workspace import display_location, open_workspace
from guotu.settings import load_settings

__all__ = ["serve_command"]


@root.command("serve")
@workspace_option()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8000).")
@click.option("--targets", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Plan targets by year for the monitoring dashboard (CSV/XLSX).")
@click.option("--statistics", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Statistics by year for the monitoring dashboard (CSV/XLSX).")
@pass_context
def serve_command(ctx: Context, workspace: str, host: str | None, port: int | None,
                  targets: str | None, statistics: str | None) -> None:
    """Serve the workspace over HTTP: OGC API - Features, vector tiles, site query, web UI.

    \b
    Examples:
      guotu serve -w demo_county.gpkg
      guotu serve -w env:GUOTU_PG --host 0.0.0.0 --port 8080
      guotu serve -w demo_county.gpkg --targets demo_county_files/规划目标.xlsx \
          --statistics demo_county_files/社会经济统计.xlsx
    """
    import uvicorn

    from guotu.web.app import create_app

    settings = load_settings(workspace=workspace, host=host, port=port,
                             monitor_targets=targets, monitor_statistics=statistics)
    with open_workspace(settings.workspace):  # fail now, with guotu's message, if unusable
        pass
    shown = display_location(workspace)
    click.echo(ctx.t(f"guotu 服务：http://{settings.host}:{settings.port}/ （工作空间 {shown}）",
                     f"guotu serving http://{settings.host}:{settings.port}/ (workspace "
                     f"{shown})"))
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_level="warning")

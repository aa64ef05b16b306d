"""The server's settings: name, type, default and help.

Settings come from defaults, then environment variables ``GUOTU_<NAME>`` (upper case), then
explicit keyword arguments (the CLI's options); the web app is built from a :class:`Settings`
by :func:`guotu.web.app.create_app`. A few variables are read where they are used, because
they concern one run rather than the server: ``GUOTU_LANG`` (the output language,
:func:`guotu.cli.language.run_language`), ``GUOTU_USER`` (who records a version,
:func:`guotu.cli.plans.actor_name`), ``GUOTU_PDF_FONT`` (:mod:`guotu.io.fonts`) and the
variable an ``env:NAME`` workspace names (:func:`guotu.services.workspace.resolve_location`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from guotu.errors import ConfigError

__all__ = ["Settings", "load_settings"]


@dataclass(frozen=True)
class Settings:
    """Server and limit settings (units in the names).

    Attributes
    ----------
    workspace
        Workspace location: a GeoPackage path, ``postgresql://…`` or ``env:NAME``.
    host, port
        Where ``guotu serve`` listens.
    max_items_limit
        Largest page of an items request: a larger ``limit`` is clamped to it (OGC API -
        Features Part 1). ``/api`` states it as ``limit``'s maximum.
    default_items_limit
        ``limit`` when a request gives none; ``/api`` states it as ``limit``'s default. (A
        bbox is never refused for its size: the page limit protects the server.)
    max_upload_mb
        Largest request body: an uploaded plan or table, a site-query polygon.
    max_unzipped_mb
        Largest total an uploaded zip may unpack to (zip bombs stop here).
    max_zip_members
        Most files an uploaded zip may hold.
    review_jobs_queued
        Most review jobs waiting or running at once; more answer 429 (try again later).
    monitor_targets, monitor_statistics
        Plan targets and statistics by year (CSV/XLSX) for the monitoring dashboard, instead
        of the workspace's tables ``targets`` and ``statistics`` (``guotu monitor
        targets|statistics import``); empty: the workspace's (without them, indicators show
        values and trends without status).
    max_query_vertices
        Largest polygon a site query accepts.
    tile_cache_tiles
        Tiles kept in memory per process.
    max_yaml_kb
        Largest YAML file (rule pack, check list, indicator catalogue, workflow) read.
    max_yaml_depth
        Deepest nesting of mappings and lists a YAML file may have.
    max_yaml_nodes
        Most scalars, mappings and lists a YAML file may hold (aliases are refused).
    max_table_mb
        Largest attribute table (CSV, or an XLSX's unpacked content) an import reads.
    max_table_rows
        Most rows an attribute table may have.
    pdf_font
        A TrueType font file with Chinese glyphs to embed in PDF reports, instead of the one
        found on the machine (Debian's fonts-wqy-microhei); see :mod:`guotu.io.fonts`.
    """

    workspace: str = "demo_county.gpkg"
    host: str = "127.0.0.1"
    port: int = 8000
    max_items_limit: int = 10_000
    default_items_limit: int = 100
    max_upload_mb: float = 200.0
    max_unzipped_mb: float = 2_000.0
    max_zip_members: int = 10_000
    review_jobs_queued: int = 4
    monitor_targets: str = ""
    monitor_statistics: str = ""
    max_query_vertices: int = 100_000
    tile_cache_tiles: int = 20_000
    max_yaml_kb: int = 2_048
    max_yaml_depth: int = 64
    max_yaml_nodes: int = 200_000
    max_table_mb: float = 500.0
    max_table_rows: int = 5_000_000
    pdf_font: str = ""


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Defaults, then ``GUOTU_*`` environment variables, then ``overrides`` (not None).

    Examples
    --------
    >>> load_settings({"GUOTU_PORT": "9000"}, host="0.0.0.0").port
    9000
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(Settings):
        raw = env.get(f"GUOTU_{f.name.upper()}")
        if raw is None:
            continue
        kind = type(getattr(Settings(), f.name))
        try:
            values[f.name] = kind(raw)
        except ValueError:
            raise ConfigError(
                f"Environment variable GUOTU_{f.name.upper()}={raw!r} is not a {kind.__name__}.",
                fix=f"Set it to a {kind.__name__}.",
                message_zh=f"环境变量 GUOTU_{f.name.upper()}={raw!r} 不是有效的 {kind.__name__}。",
                fix_zh="请改为正确的值。",
            ) from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    return replace(Settings(), **values)

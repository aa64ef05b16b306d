"""Opening workspaces: a GeoPackage file, or a schema of a PostgreSQL + PostGIS database."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from guotu.errors import ConfigError, EnvironmentSetupError
from guotu.store.geopackage import GeoPackageStore

__all__ = ["data_version", "open_workspace", "resolve_location"]

_PG_SCHEMES = ("postgresql://", "postgres://")


def resolve_location(location: str | Path) -> str:
    """The workspace location ``location`` stands for: ``env:NAME`` is the value of the
    environment variable ``NAME`` (so a DSN with a password never sits on a command line
    or in a config file); anything else is itself.

    Examples
    --------
    >>> resolve_location("demo_county.gpkg")
    'demo_county.gpkg'
    """
    text = str(location)
    if not text.startswith("env:"):
        return text
    name = text[4:]
    value = os.environ.get(name, "") if name else ""
    if not value:
        raise ConfigError(
            f"Workspace {text}: the environment variable {name or '(no name)'} is not set.",
            fix=f"Set it to a DSN (export {name or 'NAME'}=postgresql://user@host/db) or a "
            "GeoPackage path.",
            message_zh=f"工作空间 {text}：环境变量 {name or '（无名称）'} 未设置。",
            fix_zh=f"请把它设为连接串（export {name or 'NAME'}=postgresql://user@host/db）"
            "或 GeoPackage 路径。")
    return value


def open_workspace(location: str | Path, *, create: bool = False) -> Any:
    """Open the workspace at ``location``.

    ``location`` is a GeoPackage path, a PostgreSQL URL (``postgresql://`` or
    ``postgres://``; the workspace is the schema ``guotu``, or the first schema of a
    ``search_path`` given in the URL's ``options``), or ``env:NAME``: the location is in the
    environment variable ``NAME`` (the way to give a DSN with a password, e.g.
    ``-w env:GUOTU_PG_DSN``). Returns a ``GeoPackageStore`` or a ``PostGISStore``; both
    implement :class:`guotu.ports.FeatureStore`.

    Examples
    --------
    >>> # with open_workspace("demo_county.gpkg") as store: store.layers()
    >>> # with open_workspace("env:GUOTU_PG_DSN", create=True) as store: store.layers()
    """
    text = resolve_location(location)
    if text.startswith(_PG_SCHEMES):
        try:
            from guotu.store.postgis import PostGISStore
        except ImportError as exc:
            raise EnvironmentSetupError(
                "PostgreSQL/PostGIS workspaces need psycopg, which is not installed.",
                fix="pip install 'guotu[postgis]'",
                message_zh="PostgreSQL/PostGIS 工作空间需要 psycopg，但它未安装。",
                fix_zh="请执行 pip install 'guotu[postgis]'") from exc
        return PostGISStore.open(text, create=create)
    return GeoPackageStore.open(Path(text), create=create)


def data_version(store: Any) -> str:
    """A token that changes whenever anything is recorded in the workspace (every write goes
    through the append-only audit log): the key of caches of tiles and query indexes.

    What is *in force* also changes with the date, so a cache of as-of reads must key on
    the as-of date as well.
    """
    count, last = store.audit_head()
    return f"{store.path}#{count}:{last}"

"""Opening workspaces."""

from __future__ import annotations

from pathlib import Path

from guotu.errors import ConfigError
from guotu.store.geopackage import GeoPackageStore

__all__ = ["open_workspace"]


def open_workspace(location: str | Path, *, create: bool = False) -> GeoPackageStore:
    """Open the workspace at ``location`` (a GeoPackage path).

    Examples
    --------
    >>> # with open_workspace("demo_county.gpkg") as store: store.layers()
    """
    text = str(location)
    if text.startswith(("postgresql://", "postgres://")):
        raise ConfigError(
            "PostgreSQL/PostGIS workspaces are not available yet in this version.",
            fix="Use a GeoPackage file for -w (e.g. -w demo_county.gpkg).",
            message_zh="本版本尚不支持 PostgreSQL/PostGIS 工作空间。",
            fix_zh="-w 请指定 GeoPackage 文件（如 -w demo_county.gpkg）。")
    return GeoPackageStore.open(Path(text), create=create)

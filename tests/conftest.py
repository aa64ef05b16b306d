"""Shared fixtures: small files in the forms bureaus send, built in code under tmp_path."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely


def pytest_report_header(config: pytest.Config) -> list[str]:
    import sqlite3

    import pyproj

    return [f"GEOS {shapely.geos_version_string}, PROJ {pyproj.proj_version_str}, "
            f"GDAL {pyogrio.__gdal_version_string__}, SQLite {sqlite3.sqlite_version}"]


#: A point in the demo region: CGCS2000 3° GK zone 39 (EPSG:4527), about 40 km east of 117°E.
X0, Y0 = 39_540_000.0, 4_052_000.0


def squares(n: int = 2, size: float = 100.0, x0: float = X0, y0: float = Y0) -> list[shapely.Polygon]:
    """``n`` touching squares in a row (side ``size`` m)."""
    return [shapely.box(x0 + i * size, y0, x0 + (i + 1) * size, y0 + size) for i in range(n)]


def file_digest(path: Path) -> str:
    """Hash of a file and its WAL (the state a reader would see)."""
    h = hashlib.sha256()
    for p in (path, path.with_name(path.name + "-wal")):
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def parcels_gdf() -> gpd.GeoDataFrame:
    """Two planned-land-use parcels with Chinese column names, in EPSG:4527."""
    return gpd.GeoDataFrame(
        {"用地用海代码": ["0701", "1401"], "用地用海名称": ["城镇住宅用地", "公园绿地"],
         "备注": ["甲", "乙"]},
        geometry=squares(2), crs="EPSG:4527")

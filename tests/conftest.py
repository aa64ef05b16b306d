"""Shared fixtures: small files in the forms bureaus send, built in code under tmp_path."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import pytest
import shapely

from guotu.errors import ConfigError, EnvironmentSetupError
from guotu.io import fonts


def pytest_report_header(config: pytest.Config) -> list[str]:
    import sqlite3

    import pyproj

    return [
        f"GEOS {shapely.geos_version_string}, PROJ {pyproj.proj_version_str}, "
        f"GDAL {pyogrio.__gdal_version_string__}, SQLite {sqlite3.sqlite_version}"
    ]


#: A point in the demo region: CGCS2000 3° GK zone 39 (EPSG:4527), about 40 km east of 117°E.
X0, Y0 = 39_540_000.0, 4_052_000.0


def squares(
    n: int = 2, size: float = 100.0, x0: float = X0, y0: float = Y0
) -> list[shapely.Polygon]:
    """``n`` touching squares in a row (side ``size`` m)."""
    return [shapely.box(x0 + i * size, y0, x0 + (i + 1) * size, y0 + size) for i in range(n)]


def import_detailed_parcel(
    store: Any, folder: Path, *, code: str = "080403", rjl: float = 1.5
) -> None:
    """Import one detailed-plan parcel (XXGHDK, 200 m square at X0, Y0, use ``code``, 容积率
    ≤ ``rjl``) into ``store``: an approval case's site inside it has planning conditions."""
    from guotu.services.importing import import_file

    path = folder / "xxghdk.geojson"
    gpd.GeoDataFrame(
        {"DKBH": ["A-01"], "YDYHFLDM": [code], "RJL": [rjl], "JZMD": [35.0], "LDL": [30.0],
         "JZXG": [50.0]},
        geometry=[shapely.box(X0 - 50, Y0 - 50, X0 + 150, Y0 + 150)],
        crs="EPSG:4527",
    ).to_file(path)  # fmt: skip
    import_file(store, path, role="detailed_parcel", layer="XXGHDK")


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
        {
            "用地用海代码": ["0701", "1401"],
            "用地用海名称": ["城镇住宅用地", "公园绿地"],
            "备注": ["甲", "乙"],
        },
        geometry=squares(2),
        crs="EPSG:4527",
    )


def gdal_read(
    path: Path,
    layer: str,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    column: str | None = None,
) -> dict:
    """Read a layer with GDAL (pyogrio) in a separate process, as QGIS would.

    GDAL's own SQLite must not open a workspace inside the process that holds it open through
    the standard library's sqlite3: two SQLite libraries in one process release each other's
    POSIX locks (the corruption hazard the SQLite docs describe).
    """
    import json
    import subprocess
    import sys

    code = (
        "import json, sys, pyogrio\n"
        "path, layer, bbox, column = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), "
        "sys.argv[4]\n"
        "info = pyogrio.read_info(path, layer=layer)\n"
        "df = pyogrio.read_dataframe(path, layer=layer, bbox=tuple(bbox) if bbox else None)\n"
        "print(json.dumps({'features': info['features'], 'geometry_type': info['geometry_type'],"
        " 'crs': info['crs'], 'values': df[column].tolist() if column else []}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), layer, json.dumps(bbox), column or ""],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def unavailable(reason: str) -> None:
    """Skip a test that needs something this machine lacks, or fail under ``CI=true``
    (``.ci/run`` installs everything the tests need, so a skip there hides a broken set-up)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"this test must run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def cjk_font(monkeypatch: pytest.MonkeyPatch) -> fonts.PdfFont:
    """The font the PDFs embed (skips without it, fails under CI=true); a GUOTU_PDF_FONT of
    the developer's shell does not count."""
    monkeypatch.delenv(fonts.FONT_ENV, raising=False)
    try:
        return fonts.find_cjk_font()
    except (EnvironmentSetupError, ConfigError) as exc:
        unavailable(exc.render("en"))
        raise  # not reached: unavailable skips or fails

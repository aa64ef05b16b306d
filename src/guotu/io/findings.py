"""Findings out: JSON-ready dicts and a GeoPackage of error locations for QGIS.

The GeoPackage (``guotu check --errors-gpkg PATH``) holds two layers, both with the same
columns (``check``, ``severity``, ``layer``, ``feature_fid``, ``id_field``, ``id_value``, ``field``,
``value``, ``area_m2``, ``related_fids``, ``is_repaired``, ``message_zh``, ``message_en``):

* ``finding_points``: one point per finding that has a location (every finding on a
  feature, the GEOS location of an invalid geometry, a point inside each overlap or gap);
* ``finding_areas``: the problem's area as a MultiPolygon, for findings that have one
  (overlaps, gaps, parts outside a boundary or unit, 碎片 parts and holes).

One layer per geometry type keeps both readable in QGIS; filter them on ``check`` to see
one check. Both layers are in the workspace CRS, written with pyogrio (GDAL).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import CRS

from guotu.domain.core.findings import Finding
from guotu.domain.geometry.polygons import POLYGONAL_TYPES, polygonal_parts
from guotu.errors import EnvironmentSetupError, InputError

__all__ = ["AREAS_LAYER", "POINTS_LAYER", "finding_to_dict", "write_findings_gpkg"]

POINTS_LAYER = "finding_points"
AREAS_LAYER = "finding_areas"


def _json_number(value: float | None, digits: int = 4) -> float | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return round(float(value), digits)


def finding_to_dict(finding: Finding, lang: str = "zh") -> dict[str, Any]:
    """A finding as the ``--json`` dict (message in ``lang``, both languages kept).

    Examples
    --------
    >>> from guotu.domain.core.findings import Severity
    >>> f = Finding("geometry.empty", "规划用地", Severity.ERROR, "空", "empty", fid=3)
    >>> d = finding_to_dict(f, "en")
    >>> d["message"], d["feature"]["fid"]
    ('empty', 3)
    """
    feature: dict[str, Any] | None = None
    if finding.fid is not None:
        feature = {"fid": finding.fid}
        if finding.id_field is not None:
            feature |= {"id_field": finding.id_field, "id": finding.id_value}
    value: Any = finding.value
    if isinstance(value, float):
        value = _json_number(value, 6)
    geometry = None
    if finding.geometry is not None and not shapely.is_empty(finding.geometry):
        geometry = json.loads(shapely.to_geojson(finding.geometry))
    return {
        "check": finding.check,
        "layer": finding.layer,
        "feature": feature,
        "related_features": list(finding.related_fids),
        "severity": finding.severity.value,
        "message": finding.message_en if lang == "en" else finding.message_zh,
        "message_zh": finding.message_zh,
        "message_en": finding.message_en,
        "field": finding.field,
        "value": value,
        "unit": finding.unit,
        "limit": finding.limit,
        "area_m2": _json_number(finding.area_m2),
        "location": list(finding.location) if finding.location is not None else None,
        "geometry": geometry,
        "is_repaired": finding.is_repaired,
    }


_COLUMNS = (
    "check",
    "severity",
    "layer",
    "feature_fid",
    "id_field",
    "id_value",
    "field",
    "value",
    "area_m2",
    "related_fids",
    "is_repaired",
    "message_zh",
    "message_en",
)


def _row(f: Finding) -> dict[str, Any]:
    return {
        "check": f.check,
        "severity": f.severity.value,
        "layer": f.layer,
        "feature_fid": f.fid,
        "id_field": f.id_field,
        "id_value": f.id_value,
        "field": f.field,
        "value": None if f.value is None else str(f.value),
        "area_m2": _json_number(f.area_m2),
        "related_fids": ",".join(map(str, f.related_fids)) or None,
        "is_repaired": f.is_repaired,
        "message_zh": f.message_zh,
        "message_en": f.message_en,
    }


def _frame(findings: Sequence[Finding], geoms: list[Any], crs: CRS) -> gpd.GeoDataFrame:
    rows = [_row(f) for f in findings]
    data = {c: [r[c] for r in rows] for c in _COLUMNS}
    frame = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs)
    frame["feature_fid"] = frame["feature_fid"].astype("Int64")
    frame["area_m2"] = frame["area_m2"].astype("float64")
    frame["is_repaired"] = frame["is_repaired"].astype(bool)
    return frame


def check_gdal_file_name(path: Path, option: str) -> None:
    """Refuse an output name GDAL cannot take: one whose bytes are not UTF-8 (a GBK name
    reaches Python as surrogate escapes, which GDAL's UTF-8 file names cannot hold).

    Examples
    --------
    >>> check_gdal_file_name(Path("质检错误.gpkg"), "--errors-gpkg")
    """
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("gb18030", "replace")
        raise InputError(
            f"{option} {shown}: the file name is not UTF-8, and GDAL cannot write such a name.",
            file=shown,
            fix="Give a name typed in a UTF-8 terminal (e.g. 质检错误.gpkg).",
            message_zh=f"{option} {shown}：文件名不是 UTF-8 编码，GDAL 无法写入这样的文件名。",
            fix_zh="请换一个文件名（在 UTF-8 终端中输入，如 质检错误.gpkg）。",
        ) from None


def write_findings_gpkg(path: str | Path, findings: Sequence[Finding], crs: CRS) -> dict[str, int]:
    """Write the findings to a new GeoPackage at ``path`` (replacing the file).

    Returns the number of features written per layer.

    Raises
    ------
    InputError
        ``path`` is a folder, cannot be replaced, or has a name that is not UTF-8.
    EnvironmentSetupError
        GDAL cannot write the file.

    Examples
    --------
    >>> # write_findings_gpkg("errors.gpkg", report.findings, CRS.from_epsg(4527))
    """
    p = Path(path)
    check_gdal_file_name(p, "--errors-gpkg")
    if p.is_dir():
        raise InputError(
            f"{p} is a folder; --errors-gpkg needs a file name.",
            file=str(p),
            fix="Give a name ending in .gpkg.",
        )
    try:
        if p.exists():
            p.unlink()
    except OSError as exc:
        raise InputError(f"Cannot replace {p}: {exc.strerror}.", file=str(p)) from exc
    pointed = [f for f in findings if f.location is not None]
    points = [shapely.Point(*f.location) for f in pointed if f.location is not None]
    with_area = [
        f
        for f in findings
        if f.geometry is not None and int(shapely.get_type_id(f.geometry)) in POLYGONAL_TYPES
    ]
    areas = [
        shapely.multipolygons(shapely.get_parts(g))
        for g in polygonal_parts(np.array([f.geometry for f in with_area], dtype=object))
    ]
    counts: dict[str, int] = {}
    try:
        for layer, subset, geoms, kind in (
            (POINTS_LAYER, pointed, points, "Point"),
            (AREAS_LAYER, with_area, areas, "MultiPolygon"),
        ):
            pyogrio.write_dataframe(
                _frame(subset, geoms, crs),
                p,
                layer=layer,
                driver="GPKG",
                geometry_type=kind,
                promote_to_multi=kind != "Point",
            )
            counts[layer] = len(subset)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        raise EnvironmentSetupError(f"GDAL could not write {p}: {exc}.", file=str(p)) from exc
    return counts

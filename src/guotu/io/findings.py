"""Findings out: the ``--json`` form of a check's findings, and the one GeoPackage writer of
findings for QGIS.

:func:`write_finding_tables` is the only code that writes findings to a GeoPackage: each
:class:`FindingTable` becomes one layer (one geometry type per layer keeps them readable in
QGIS), written with pyogrio (GDAL) in the workspace CRS, atomically
(:func:`guotu.io.atomic_write.write_atomic`), refusing a name GDAL cannot take and a file
open in another program. Two reports use it:

* ``guotu check --errors-gpkg PATH`` (:func:`write_findings_gpkg`): two layers with the same
  columns (``check``, ``severity``, ``layer``, ``feature_fid``, ``id_field``, ``id_value``,
  ``field``, ``value``, ``area_m2``, ``related_fids``, ``is_repaired``, ``message_zh``,
  ``message_en``): ``finding_points``, one point per finding that has a location (every
  finding on a feature, the GEOS location of an invalid geometry, a point inside each overlap
  or gap), and ``finding_areas``, the problem's area as a MultiPolygon (overlaps, gaps, parts
  outside a boundary or unit, 碎片 parts and holes). Filter them on ``check`` to see one check.
* ``guotu review --gpkg PATH`` (:func:`guotu.io.review_report.write_review_gpkg`): the
  conflict geometries by geometry type, with the report's columns.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import CRS

from guotu.domain.core.findings import Finding
from guotu.domain.geometry.polygons import POLYGONAL_TYPES, polygonal_parts
from guotu.errors import ConfigError, CRSError, EnvironmentSetupError, InputError
from guotu.io.atomic_write import write_atomic

__all__ = [
    "AREAS_LAYER",
    "POINTS_LAYER",
    "FindingTable",
    "check_gdal_file_name",
    "finding_to_dict",
    "split_by_kind",
    "write_finding_tables",
    "write_findings_gpkg",
]

POINTS_LAYER = "finding_points"
AREAS_LAYER = "finding_areas"


def _json_number(value: float | None, digits: int = 4) -> float | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return round(float(value), digits)


def finding_to_dict(finding: Finding, lang: str = "zh") -> dict[str, Any]:
    """A check's finding as the ``guotu check --json`` dict (message in ``lang``, both
    languages kept).

    Examples
    --------
    >>> from guotu.domain.core.findings import FeatureRef, Severity
    >>> f = Finding("geometry.empty", Severity.ERROR, "空", "empty", layer="规划用地",
    ...             features=(FeatureRef("规划用地", 3),))
    >>> d = finding_to_dict(f, "en")
    >>> d["message"], d["feature"]["fid"]
    ('empty', 3)
    """
    feature: dict[str, Any] | None = None
    if finding.fid is not None:
        feature = {"fid": finding.fid}
        if finding.id_field is not None:
            feature |= {"id_field": finding.id_field, "id": finding.id_value}
    value: Any = finding.measured
    if isinstance(value, float):
        value = _json_number(value, 6)
    geometry = None
    if finding.geometry is not None and not shapely.is_empty(finding.geometry):
        geometry = json.loads(shapely.to_geojson(finding.geometry))
    return {
        "check": finding.rule,
        "layer": finding.layer,
        "feature": feature,
        "related_features": list(finding.related_fids),
        "severity": finding.severity.value,
        "message": finding.message(lang),
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


# -- the writer ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FindingTable:
    """One layer of a GeoPackage of findings.

    Attributes
    ----------
    name
        The layer name.
    geometry_type
        ``Point``, ``MultiPoint``, ``MultiLineString`` or ``MultiPolygon``.
    columns
        Column name → pandas dtype (``object`` for text, ``float64``, ``int64``, ``Int64``
        for integers with nulls, ``bool``), in the order of the layer.
    rows
        One mapping of column → value per feature.
    geometries
        One geometry per row.
    """

    name: str
    geometry_type: str
    columns: Mapping[str, str]
    rows: Sequence[Mapping[str, Any]]
    geometries: Sequence[shapely.Geometry]


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


def _frame(table: FindingTable, crs: CRS) -> gpd.GeoDataFrame:
    data = {c: [row.get(c) for row in table.rows] for c in table.columns}
    frame = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(list(table.geometries), crs=crs), crs=crs)
    for column, dtype in table.columns.items():
        frame[column] = frame[column].astype(dtype)
    return frame


def write_finding_tables(
    path: str | Path, tables: Sequence[FindingTable], crs: CRS | None, *, option: str
) -> Path:
    """Write ``tables`` (one layer each) to a new GeoPackage at ``path`` in ``crs``, replacing
    the file atomically. ``option`` is the command-line option that named the file, for
    messages.

    Raises
    ------
    CRSError
        ``crs`` is ``None``: findings are always drawn in the workspace CRS.
    ConfigError
        The folder of ``path`` does not exist, ``path`` is a folder, or the file is open in
        another program (a ``-wal`` file beside it).
    InputError
        A file name that is not UTF-8, or a file that cannot be replaced.
    EnvironmentSetupError
        GDAL cannot write the file.
    """
    p = Path(path)
    if crs is None:
        raise CRSError(
            f"{option} {p}: the findings have no coordinate reference system.",
            file=str(p),
            fix="Give the workspace CRS of the findings.",
            message_zh=f"{option} {p}：问题图形没有坐标参考系。",
            fix_zh="请给出问题图形所在的工作空间坐标系。",
        )
    check_gdal_file_name(p, option)
    open_by = [
        q.name for q in (p.with_name(p.name + "-wal"), p.with_name(p.name + "-shm")) if q.exists()
    ]
    if open_by:
        # Replacing a GeoPackage beside its write-ahead log would let SQLite replay the old
        # database's pages into the new file.
        raise ConfigError(
            f"{p} is open in another program (QGIS?): {', '.join(open_by)} exists beside it.",
            file=str(p),
            fix="Close it there and try again, or give another file name. If no "
            "program has it open, delete the -wal and -shm files left by a crash.",
            message_zh=f"{p} 正被其他程序（如 QGIS）打开：旁边有 {'、'.join(open_by)}。",
            fix_zh="请先在该程序中关闭后重试，或换一个文件名；若没有程序打开它，请删除崩溃遗留的 "
            "-wal 和 -shm 文件。",
        )

    def write(tmp: Path) -> None:
        try:
            for table in tables:
                pyogrio.write_dataframe(
                    _frame(table, crs),
                    tmp,
                    layer=table.name,
                    driver="GPKG",
                    geometry_type=table.geometry_type,
                    append=tmp.exists(),
                )
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
            raise EnvironmentSetupError(f"GDAL could not write {p}: {exc}.", file=str(p)) from exc

    return write_atomic(p, ("问题 GeoPackage", "GeoPackage of findings"), write)


_KIND_OF = {"Polygon": "polygon", "LineString": "line", "LinearRing": "line", "Point": "point"}
_MAKE = {
    "polygon": shapely.multipolygons,
    "line": shapely.multilinestrings,
    "point": shapely.multipoints,
}


def _singles(geom: shapely.Geometry) -> Iterator[shapely.Geometry]:
    for part in shapely.get_parts(geom):
        if part.geom_type in _KIND_OF:
            yield part
        elif not part.is_empty:
            yield from _singles(part)


def split_by_kind(geom: shapely.Geometry) -> dict[str, shapely.Geometry]:
    """The parts of ``geom`` by kind, each kind as one multi-geometry: ``polygon``
    (MultiPolygon), ``line`` (MultiLineString) and ``point`` (MultiPoint), those it has.

    Examples
    --------
    >>> g = shapely.GeometryCollection([shapely.box(0, 0, 1, 1), shapely.Point(5, 5)])
    >>> {k: v.geom_type for k, v in split_by_kind(g).items()}
    {'polygon': 'MultiPolygon', 'point': 'MultiPoint'}
    """
    pieces = list(_singles(geom))
    out = {}
    for kind, make in _MAKE.items():
        mine = [p for p in pieces if _KIND_OF.get(p.geom_type) == kind]
        if mine:
            out[kind] = make(mine)
    return out


# -- the quality check's layers --------------------------------------------------------------

_CHECK_COLUMNS = {
    "check": "object",
    "severity": "object",
    "layer": "object",
    "feature_fid": "Int64",
    "id_field": "object",
    "id_value": "object",
    "field": "object",
    "value": "object",
    "area_m2": "float64",
    "related_fids": "object",
    "is_repaired": "bool",
    "message_zh": "object",
    "message_en": "object",
}


def _check_row(f: Finding) -> dict[str, Any]:
    return {
        "check": f.rule,
        "severity": f.severity.value,
        "layer": f.layer,
        "feature_fid": f.fid,
        "id_field": f.id_field,
        "id_value": f.id_value,
        "field": f.field,
        "value": None if f.measured is None else str(f.measured),
        "area_m2": _json_number(f.area_m2),
        "related_fids": ",".join(map(str, f.related_fids)) or None,
        "is_repaired": f.is_repaired,
        "message_zh": f.message_zh,
        "message_en": f.message_en,
    }


def write_findings_gpkg(path: str | Path, findings: Sequence[Finding], crs: CRS) -> dict[str, int]:
    """Write a quality check's findings to a new GeoPackage at ``path`` (replacing the file):
    their locations (``finding_points``) and problem areas (``finding_areas``).

    Returns the number of features written per layer.

    Raises
    ------
    ConfigError, InputError, EnvironmentSetupError
        As :func:`write_finding_tables`.
    """
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
    tables = [
        FindingTable(
            POINTS_LAYER, "Point", _CHECK_COLUMNS, [_check_row(f) for f in pointed], points
        ),
        FindingTable(
            AREAS_LAYER, "MultiPolygon", _CHECK_COLUMNS, [_check_row(f) for f in with_area], areas
        ),
    ]
    write_finding_tables(path, tables, crs, option="--errors-gpkg")
    return {t.name: len(t.rows) for t in tables}

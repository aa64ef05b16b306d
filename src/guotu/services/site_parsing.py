"""The site of a site query (空间码), parsed: a point ``"X,Y"`` (:func:`parse_point`) or a
GeoJSON polygon (:func:`parse_polygon`) in a given CRS, as a :class:`Site` in the workspace
CRS.

In a geographic CRS (EPSG:4490, CRS84, EPSG:4326) X is the longitude and Y the latitude,
whatever the CRS's official axis order; a pair that reads as latitude,longitude is refused
with the fix. A polygon may be a geometry, a Feature or a FeatureCollection of one feature,
and its vertices are limited (``Settings.max_query_vertices``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as ProjCRSError
from shapely.geometry.base import BaseGeometry

from guotu.errors import CRSError, GeometryError, InputError

__all__ = ["Site", "lonlat_hint", "parse_point", "parse_polygon"]


@dataclass(frozen=True)
class Site:
    """A parsed site in the workspace CRS.

    Attributes
    ----------
    geometry
        A Point or a (Multi)Polygon in the workspace CRS.
    kind
        ``point``, ``polygon`` or ``parcel``.
    given
        What the user gave (coordinates and CRS, or the parcel code), for the report.
    """

    geometry: BaseGeometry
    kind: str
    given: Mapping[str, Any]


@lru_cache(maxsize=32)
def _transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(
        CRS.from_user_input(source), CRS.from_user_input(target), always_xy=True
    )


def _crs(text: str | None, workspace: CRS) -> tuple[CRS, str]:
    if not text:
        return workspace, _named_crs(workspace.to_string())[1]
    try:
        return _named_crs(text.strip())
    except ProjCRSError as exc:
        raise CRSError(
            f"Unknown CRS {text!r}.",
            fix="Give an EPSG code such as EPSG:4527, EPSG:4490 or CRS84.",
            message_zh=f"无法识别坐标系 {text!r}。",
            fix_zh="请给出 EPSG 代码，如 EPSG:4527、EPSG:4490 或 CRS84。",
        ) from exc


@lru_cache(maxsize=32)
def _named_crs(text: str) -> tuple[CRS, str]:
    crs = CRS.from_user_input(text)
    return crs, crs.to_string()


def _to_workspace(geom: BaseGeometry, crs: CRS, workspace: CRS) -> BaseGeometry:
    if crs is workspace or crs == workspace:
        return geom
    tr = _transformer(crs.to_wkt(), workspace.to_wkt())
    return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def lonlat_hint(crs_parameter: str | None) -> tuple[str, str]:
    """How to give longitude and latitude, in English and Chinese: naming the caller's CRS
    parameter (``--crs`` on the command line, ``crs`` over HTTP) when it is known."""
    if crs_parameter:
        return (
            f"for lon,lat set {crs_parameter} to EPSG:4490",
            f"经纬度请用 {crs_parameter} 指定坐标系 EPSG:4490",
        )
    return "for lon,lat give the CRS EPSG:4490", "经纬度须注明坐标系 EPSG:4490"


def parse_point(
    text: str, crs: str | None, workspace: CRS, *, crs_parameter: str | None = None
) -> Site:
    """``"X,Y"`` in ``crs`` (default the workspace CRS) as a point in the workspace CRS.

    In a geographic CRS (EPSG:4490, CRS84, EPSG:4326) X is the longitude and Y the latitude,
    whatever the CRS's official axis order. ``crs_parameter`` is how the caller names the CRS
    (``--crs``, ``crs``) in the fix of an error.

    Examples
    --------
    >>> parse_point("39527060,4056040", None, CRS.from_epsg(4527)).geometry.wkt
    'POINT (39527060 4056040)'
    >>> round(parse_point("117.0,36.0", "EPSG:4490", CRS.from_epsg(4527)).geometry.x)
    39500000
    """
    parts = [p.strip() for p in str(text).replace("，", ",").split(",")]
    try:
        if len(parts) != 2:
            raise ValueError(text)
        x, y = float(parts[0]), float(parts[1])
        if not (np.isfinite(x) and np.isfinite(y)):
            raise ValueError(text)
    except ValueError:
        hint, hint_zh = lonlat_hint(crs_parameter)
        raise InputError(
            f"Point {text!r} is not two numbers X,Y.",
            fix=f"Write it as X,Y, e.g. 39527060,4056040 ({hint}).",
            message_zh=f"坐标 {text!r} 不是“X,Y”形式的两个数。",
            fix_zh=f"请写成 X,Y，如 39527060,4056040（经纬度写作 经度,纬度；{hint_zh}）。",
        ) from None
    if not crs:
        return Site(shapely.Point(x, y), "point", {"point": [x, y], "crs": None})
    source, name = _crs(crs, workspace)
    if source.is_geographic:
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            raise InputError(
                f"Point {text!r} is not a longitude,latitude pair in {crs}.",
                fix="Give the longitude first, then the latitude.",
                message_zh=f"坐标 {text!r} 不是 {crs} 下的“经度,纬度”。",
                fix_zh="请先写经度，后写纬度。",
            )
        if abs(x) < 60 and abs(y) > 70:
            raise InputError(
                f"Point {text!r} looks like latitude,longitude.",
                fix=f"Write longitude first: {y},{x}.",
                message_zh=f"坐标 {text!r} 似乎是“纬度,经度”。",
                fix_zh=f"请先写经度：{y},{x}。",
            )
    geom = _to_workspace(shapely.Point(x, y), source, workspace)
    if not np.isfinite(np.asarray(shapely.get_coordinates(geom))).all():
        raise CRSError(
            f"Point {text!r} in {crs} cannot be projected to the workspace CRS.",
            message_zh=f"坐标 {text!r}（{crs}）无法投影到工作空间坐标系。",
        )
    return Site(geom, "point", {"point": [x, y], "crs": name})


def _geojson_error(reason: str, reason_zh: str) -> GeometryError:
    return GeometryError(
        f"The site polygon is not valid GeoJSON: {reason}.",
        fix="Send a GeoJSON Polygon or MultiPolygon (a geometry, a Feature or "
        "a FeatureCollection of one feature).",
        message_zh=f"地块范围不是有效的 GeoJSON：{reason_zh}。",
        fix_zh="请提交 GeoJSON 的 Polygon 或 MultiPolygon（几何、Feature 或只含一个"
        "要素的 FeatureCollection）。",
    )


def parse_polygon(doc: Any, crs: str | None, workspace: CRS, *, max_vertices: int) -> Site:
    """A GeoJSON polygon (text or parsed) as a site in the workspace CRS.

    The CRS is ``crs``, else the document's ``crs`` member (``{"type": "name",
    "properties": {"name": …}}``), else the workspace CRS.

    Examples
    --------
    >>> doc = {"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [10, 10], [0, 0]]]}
    >>> parse_polygon(doc, None, CRS.from_epsg(4527), max_vertices=100).geometry.area
    50.0
    """
    if isinstance(doc, str | bytes):
        try:
            doc = json.loads(doc)
        except ValueError as exc:
            raise _geojson_error(f"not JSON ({exc})", f"不是 JSON（{exc}）") from None
    if not isinstance(doc, Mapping):
        raise _geojson_error("not a JSON object", "不是 JSON 对象")
    named = crs
    if not named and isinstance(doc.get("crs"), Mapping):
        named = str((doc["crs"].get("properties") or {}).get("name") or "") or None
    geom_doc: Any = doc
    if doc.get("type") == "FeatureCollection":
        feats = doc.get("features") or []
        if len(feats) != 1:
            raise _geojson_error(
                f"a FeatureCollection of {len(feats)} features",
                f"FeatureCollection 含 {len(feats)} 个要素",
            )
        geom_doc = feats[0]
    if isinstance(geom_doc, Mapping) and geom_doc.get("type") == "Feature":
        geom_doc = geom_doc.get("geometry")
    if not isinstance(geom_doc, Mapping) or geom_doc.get("type") not in ("Polygon", "MultiPolygon"):
        kind = geom_doc.get("type") if isinstance(geom_doc, Mapping) else type(geom_doc).__name__
        raise _geojson_error(
            f"type {kind!r} is not a Polygon or MultiPolygon",
            f"类型 {kind!r} 不是 Polygon 或 MultiPolygon",
        )
    try:
        geom = shapely.geometry.shape(geom_doc)
    except (
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        KeyError,
        shapely.errors.GEOSException,
    ) as exc:
        raise _geojson_error(f"bad coordinates ({exc})", f"坐标无效（{exc}）") from None
    vertices = int(shapely.get_num_coordinates(geom))
    if vertices > max_vertices:
        raise InputError(
            f"The site polygon has {vertices} vertices, more than the "
            f"{max_vertices} a query accepts.",
            fix="Simplify the polygon or raise max_query_vertices.",
            message_zh=f"地块范围有 {vertices} 个顶点，超过查询上限 {max_vertices}。",
            fix_zh="请简化多边形，或调高设置 max_query_vertices。",
        )
    if geom.is_empty or not np.isfinite(shapely.get_coordinates(geom)).all():
        raise _geojson_error("empty or non-finite coordinates", "为空或坐标非有限数")
    if not geom.is_valid:
        raise _geojson_error(shapely.is_valid_reason(geom), shapely.is_valid_reason(geom))
    source, name = _crs(named, workspace)
    out = _to_workspace(geom, source, workspace)
    return Site(out, "polygon", {"crs": name, "vertices": vertices})

"""An import's geometry: the kinds a role takes, features without geometry, coordinates that
are not numbers, and single parts promoted to multi (:mod:`guotu.services.importing`)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from guotu.domain.core.roles import GeometryKind, Role
from guotu.errors import LayerError
from guotu.io.readers import feature_label

__all__ = ["check_geometry"]

_POLY = {"Polygon", "MultiPolygon"}
_LINE = {"LineString", "MultiLineString"}


def check_geometry(
    frame: gpd.GeoDataFrame, role: Role, where: dict[str, str], allow_empty: bool
) -> tuple[str, int]:
    """The layer's geometry type, and how many features without geometry it keeps (refused
    unless ``allow_empty``). Wrong kinds and coordinates that are not finite numbers are
    refused, naming the first such feature."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    types = shapely.get_type_id(geoms)
    names = np.array(
        [
            "Missing",
            "Point",
            "LineString",
            "LinearRing",
            "Polygon",
            "MultiPoint",
            "MultiLineString",
            "MultiPolygon",
            "GeometryCollection",
        ]
    )[types + 1]
    allowed = {
        GeometryKind.POLYGON: _POLY,
        GeometryKind.LINE: _LINE,
        GeometryKind.POINT: {"Point", "MultiPoint"},
        GeometryKind.POLYGON_OR_LINE: _POLY | _LINE,
    }[role.geometry]
    present = ~np.isin(names, ["Missing"]) & ~shapely.is_empty(geoms)
    empty = int((~present).sum())
    if empty and not allow_empty:
        pos = int(np.flatnonzero(~present)[0])
        raise LayerError(
            f"Feature {feature_label(frame, pos)} has no geometry (NULL or empty; "
            f"{empty} of {len(frame)} features), but a layer of role {role.id} "
            f"({role.name_zh}) is a map: every feature needs its shape.",
            feature=pos + 1,
            **where,
            fix="Draw or delete those features in the source, or accept them "
            "explicitly with --allow-empty-geometry (the import result counts them).",
            message_zh=f"要素 {feature_label(frame, pos)} 没有几何图形（为空或 NULL；共 {empty} / "
            f"{len(frame)} 个要素），而图层类型 {role.id}（{role.name_zh}）的每个要素都必须有图形。",
            fix_zh="请在源数据中补绘或删除这些要素，或加 --allow-empty-geometry 明确接受"
            "（导入结果会列出其数量）。",
        )
    bad = present & ~np.isin(names, sorted(allowed))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise LayerError(
            f"Feature {feature_label(frame, pos)} is a {names[pos]}, but role {role.id} "
            f"({role.name_zh}) takes {' or '.join(sorted(allowed))} ({int(bad.sum())} such "
            "features).",
            feature=pos + 1,
            **where,
            fix="Split mixed geometry types into separate files, or choose the right --role.",
            message_zh=f"要素 {feature_label(frame, pos)} 的几何类型是 {names[pos]}，但图层类型 "
            f"{role.id}（{role.name_zh}）只接受 {' 或 '.join(sorted(allowed))}（共 "
            f"{int(bad.sum())} 个此类要素）。",
            fix_zh="请把不同几何类型的要素拆分到不同文件，或用 --role 选择正确的图层类型。",
        )
    coords, index = shapely.get_coordinates(geoms, include_z=True, return_index=True)
    with np.errstate(invalid="ignore"):
        # z may be NaN for 2D coordinates; x and y must be finite, z finite or NaN (absent)
        wrong = ~np.isfinite(coords[:, :2]).all(axis=1) | np.isinf(coords[:, 2])
    if wrong.any():
        rows = np.unique(index[wrong])
        row = int(rows[0])
        raise LayerError(
            f"Feature {feature_label(frame, row)} has coordinates that are not "
            f"numbers (NaN or infinite; {len(rows)} such features).",
            feature=row + 1,
            **where,
            fix="Repair or delete that feature in the source file.",
            message_zh=f"要素 {feature_label(frame, row)} 的坐标不是有效数值"
            f"（NaN 或无穷大；共 {len(rows)} 个此类要素）。",
            fix_zh="请在源文件中修复或删除该要素。",
        )
    kinds = set(names[present].tolist())
    has_poly, has_line = bool(kinds & _POLY), bool(kinds & _LINE)
    if has_poly and has_line:
        return "GEOMETRY", empty
    if has_line or (not has_poly and role.geometry == GeometryKind.LINE):
        frame.geometry.values[:] = _promote(geoms, "line")
        return "MULTILINESTRING", empty
    if role.geometry in (GeometryKind.POLYGON, GeometryKind.POLYGON_OR_LINE):
        frame.geometry.values[:] = _promote(geoms, "polygon")
        return "MULTIPOLYGON", empty
    return "GEOMETRY", empty


def _promote(geoms: np.ndarray, kind: str) -> np.ndarray:
    """Polygons → MultiPolygons (lines → MultiLineStrings), vectorized; others stay."""
    out = geoms.copy()
    single = shapely.GeometryType.POLYGON if kind == "polygon" else shapely.GeometryType.LINESTRING
    mask = (shapely.get_type_id(geoms) == single) & ~shapely.is_empty(geoms)
    if mask.any():
        maker = shapely.multipolygons if kind == "polygon" else shapely.multilinestrings
        out[mask] = maker(geoms[mask][:, None])
    return out

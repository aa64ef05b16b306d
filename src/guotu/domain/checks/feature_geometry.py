"""Checks of each feature's own geometry (几何质检): empty, invalid (with GEOS's reason and
location), duplicate, 碎片 parts and holes, degenerate rings.

Vectorized over the layer (DESIGN §3); areas are ellipsoidal, and a problem at or below
``tolerance_area_m2`` is not a finding. The checks between features (overlaps, gaps,
containment) are in :mod:`guotu.domain.checks.topology`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import shapely

from guotu.domain.checks.spec import CheckContext, CheckFunction, CheckSpec
from guotu.domain.core.findings import Finding
from guotu.domain.core.layer_context import feature_at
from guotu.domain.core.layers import LayerData, feature_label
from guotu.domain.geometry.area import ellipsoidal_area_m2
from guotu.domain.geometry.polygons import POLYGONAL_TYPES, anchor_points, polygonal_parts

__all__ = [
    "OPERATORS",
    "check_degenerate_rings",
    "check_duplicate_geometry",
    "check_empty_geometry",
    "check_invalid_geometry",
    "check_small_parts",
    "validity_reason",
]

ObjArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def check_empty_geometry(spec: CheckSpec, layer: LayerData, ctx: CheckContext) -> list[Finding]:
    """Features with a missing or empty geometry."""
    g = layer.geometries
    found = np.flatnonzero(shapely.is_missing(g) | shapely.is_empty(g))
    return [
        spec.finding(
            layer,
            f"图层 {layer.name} {feature_label(layer, p)} 几何为空：请补绘该要素的图形或删除该要素。",
            f"Layer {layer.name} {feature_label(layer, p, 'en')} has an empty geometry: draw its "
            "shape or delete the feature.",
            at=p,
        )
        for p in found.tolist()
    ]


_REASONS_ZH = {
    "Self-intersection": "自相交",
    "Ring Self-intersection": "环自相交",
    "Too few points in geometry component": "组成部分的点数过少",
    "Hole lies outside shell": "洞位于外环之外",
    "Nested holes": "洞相互嵌套",
    "Interior is disconnected": "内部不连通",
    "Nested shells": "外环相互嵌套",
    "Duplicate Rings": "环重复",
    "Invalid Coordinate": "坐标无效",
    "Ring is not closed": "环未闭合",
}
_REASON_RE = re.compile(r"^(?P<reason>[^\[]+?)\s*(?:\[(?P<x>\S+) (?P<y>\S+)\])?$")


def _parse_reason(text: str) -> tuple[str, tuple[float, float] | None]:
    match = _REASON_RE.match(text)
    if match is None:
        return text, None
    reason = match.group("reason").strip()
    try:
        loc = (round(float(match.group("x")), 3), round(float(match.group("y")), 3))
    except (TypeError, ValueError):
        loc = None
    return reason, loc


def _reason_text(reason: str, loc: tuple[float, float] | None, lang: str) -> str:
    if lang == "zh":
        return _REASONS_ZH.get(reason, reason) + (
            f"（位置 {loc[0]:.3f}, {loc[1]:.3f}）" if loc else ""
        )
    return reason + (f" at {loc[0]:.3f}, {loc[1]:.3f}" if loc else "")


def validity_reason(text: str, lang: str = "zh") -> str:
    """GEOS's reason a geometry is invalid (:func:`shapely.is_valid_reason`), as people read
    it in ``lang`` (``zh`` or ``en``), the way the ``geometry.invalid`` check writes it.

    Examples
    --------
    >>> validity_reason("Self-intersection[39545050 4050050]")
    '自相交（位置 39545050.000, 4050050.000）'
    >>> validity_reason("Self-intersection[39545050 4050050]", "en")
    'Self-intersection at 39545050.000, 4050050.000'
    >>> validity_reason("Ring is not closed")
    '环未闭合'
    """
    reason, loc = _parse_reason(text)
    return _reason_text(reason, loc, lang)


def check_invalid_geometry(spec: CheckSpec, layer: LayerData, ctx: CheckContext) -> list[Finding]:
    """Invalid geometries with GEOS's reason and the point where it happens."""
    bad = np.flatnonzero(~layer.is_valid)
    if not len(bad):
        return []
    reasons = shapely.is_valid_reason(layer.geometries[bad])
    repaired_m2 = ellipsoidal_area_m2(layer.repaired[bad], layer.crs)
    out = []
    for p, text, area in zip(bad.tolist(), list(reasons), repaired_m2.tolist(), strict=True):
        reason, loc = _parse_reason(str(text))
        if loc is None:
            loc = anchor_points(layer.geometries[[p]])[0]
        why, why_en = _reason_text(reason, loc, "zh"), _reason_text(reason, loc, "en")
        out.append(
            spec.finding(
                layer,
                f"图层 {layer.name} {feature_label(layer, p)} 几何无效：{why}。面积与叠加"
                f"检查已按 make_valid 修复后的几何（{area:.2f} m²）计算；请在 GIS 中修正，"
                "或运行 guotu check --repair 修复。",
                f"Layer {layer.name} {feature_label(layer, p, 'en')} has an invalid geometry: "
                f"{why_en}. Area and overlay checks used it repaired with make_valid "
                f"({area:.2f} m²); fix it in a GIS or run guotu check --repair.",
                measured=reason,
                location=loc,
                area_m2=area,
                unit="m2",
                is_repaired=True,
                at=p,
            )
        )
    return out


def check_duplicate_geometry(spec: CheckSpec, layer: LayerData, ctx: CheckContext) -> list[Finding]:
    """Features whose geometry equals another's (normalized, coordinates on ``grid_size_m``).

    The feature with the smallest fid of each group is kept; every other one is a finding
    naming the whole group.
    """
    g = layer.geometries
    usable = np.flatnonzero(~(shapely.is_missing(g) | shapely.is_empty(g)))
    if len(usable) < 2:
        return []
    grid = spec.number("grid_size_m", 0.001)
    snapped = shapely.set_precision(g[usable], grid, mode="pointwise") if grid > 0 else g[usable]
    keys = shapely.to_wkb(shapely.normalize(snapped))
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    dup = counts[inverse] > 1
    if not dup.any():
        return []
    groups: dict[int, list[int]] = {}
    for pos, grp in zip(usable[dup].tolist(), inverse[dup].tolist(), strict=True):
        groups.setdefault(int(grp), []).append(int(pos))
    out = []
    for members in groups.values():
        members.sort(key=lambda q: int(layer.fids[q]))
        area = float(ellipsoidal_area_m2(layer.repaired[[members[0]]], layer.crs)[0])
        loc = anchor_points(g[[members[0]]])[0]
        for q in members[1:]:
            others = [m for m in members if m != q]
            listed = ", ".join(str(int(layer.fids[m])) for m in others)
            out.append(
                spec.finding(
                    layer,
                    f"图层 {layer.name} {feature_label(layer, q)} 与要素 {listed} 几何完全重复："
                    "请删除多余的要素，或确认是否应合并属性。",
                    f"Layer {layer.name} {feature_label(layer, q, 'en')} has the same geometry as "
                    f"feature(s) {listed}: delete the extra feature or merge the attributes.",
                    area_m2=area,
                    location=loc,
                    related=[feature_at(layer, m) for m in others],
                    at=q,
                )
            )
    return out


def check_small_parts(spec: CheckSpec, layer: LayerData, ctx: CheckContext) -> list[Finding]:
    """碎片: polygon parts and holes smaller than ``min_part_area_m2`` / ``min_hole_area_m2``.

    A feature that is one small part is itself a 碎片图斑. Areas are compared ellipsoidally.
    """
    geoms = polygonal_parts(layer.repaired)
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not usable.any():
        return []
    idx = np.flatnonzero(usable)
    parts, owner = shapely.get_parts(geoms[idx], return_index=True)
    owner = idx[owner]
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    n_rings = shapely.get_num_interior_rings(parts) + 1
    first = np.concatenate([[0], np.cumsum(n_rings)[:-1]]).astype(np.int64)
    is_shell = np.zeros(len(rings), dtype=bool)
    is_shell[first] = True
    ring_poly = shapely.polygons(rings)
    planar = shapely.area(ring_poly)
    part_tol = spec.number("min_part_area_m2", 1.0)
    hole_tol = spec.number("min_hole_area_m2", 1.0)
    tol = np.where(is_shell, part_tol, hole_tol)
    cand = np.flatnonzero(planar < tol * 1.01)
    if not len(cand):
        return []
    ell = ellipsoidal_area_m2(ring_poly[cand], layer.crs)
    keep = ell < tol[cand]
    cand, ell = cand[keep], ell[keep]
    n_parts = np.bincount(owner, minlength=len(geoms))
    pts = anchor_points(ring_poly[cand])
    out = []
    for r, area, loc in zip(cand.tolist(), ell.tolist(), pts, strict=True):
        pos = int(owner[ring_part[r]])
        lab, lab_en = feature_label(layer, pos), feature_label(layer, pos, "en")
        if not is_shell[r]:
            zh = (
                f"图层 {layer.name} {lab} 有面积仅 {area:.3f} m² 的碎洞（小于 {hole_tol:g} m²）："
                "请删除该洞或核实是否为真实的未覆盖区域。"
            )
            en = (
                f"Layer {layer.name} {lab_en} has a hole of only {area:.3f} m² (below "
                f"{hole_tol:g} m²): remove the hole or confirm it is real."
            )
        elif n_parts[pos] > 1:
            zh = (
                f"图层 {layer.name} {lab} 有面积仅 {area:.3f} m² 的碎片部件（小于 {part_tol:g} m²）"
                "：请删除该碎片或并入相邻图斑。"
            )
            en = (
                f"Layer {layer.name} {lab_en} has a part of only {area:.3f} m² (below "
                f"{part_tol:g} m²): delete the sliver or merge it into a neighbour."
            )
        else:
            zh = (
                f"图层 {layer.name} {lab} 是面积仅 {area:.3f} m² 的碎片图斑（小于 {part_tol:g} m²）"
                "：请并入相邻图斑或删除。"
            )
            en = (
                f"Layer {layer.name} {lab_en} is a sliver of only {area:.3f} m² (below "
                f"{part_tol:g} m²): merge it into a neighbour or delete it."
            )
        out.append(
            spec.finding(
                layer,
                zh,
                en,
                area_m2=area,
                location=loc,
                geometry=ring_poly[r],
                unit="m2",
                limit=f">= {(hole_tol if not is_shell[r] else part_tol):g}",
                is_repaired=not bool(layer.is_valid[pos]),
                at=pos,
            )
        )
    return out


def check_degenerate_rings(spec: CheckSpec, layer: LayerData, ctx: CheckContext) -> list[Finding]:
    """Rings with fewer than ``min_ring_vertex_count`` distinct vertices (closing point not counted)."""
    g = layer.geometries
    poly = np.flatnonzero(np.isin(shapely.get_type_id(g), POLYGONAL_TYPES))
    if not len(poly):
        return []
    parts, owner = shapely.get_parts(g[poly], return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    same = np.zeros(len(coords), dtype=bool)
    same[1:] = (ring_of[1:] == ring_of[:-1]) & np.all(coords[1:] == coords[:-1], axis=1)
    distinct = np.bincount(ring_of[~same], minlength=len(rings)) - 1
    minimum = int(spec.number("min_ring_vertex_count", 3))
    out = []
    for r in np.flatnonzero(distinct < minimum).tolist():
        pos = int(poly[owner[ring_part[r]]])
        n = int(max(distinct[r], 0))
        loc_xy = coords[ring_of == r][0]
        loc = (round(float(loc_xy[0]), 3), round(float(loc_xy[1]), 3))
        out.append(
            spec.finding(
                layer,
                f"图层 {layer.name} {feature_label(layer, pos)} 有一个环只有 {n} 个不同顶点（至少需要 "
                f"{minimum} 个），是退化环：请删除该环或重新绘制。",
                f"Layer {layer.name} {feature_label(layer, pos, 'en')} has a ring with only {n} "
                f"distinct vertices (at least {minimum} needed): delete or redraw the ring.",
                measured=float(n),
                limit=f">= {minimum}",
                location=loc,
                at=pos,
            )
        )
    return out


#: The operators of this module, by name (registered in :data:`guotu.domain.checks.engine.CHECKS`).
OPERATORS: Mapping[str, CheckFunction] = {
    "empty_geometry": check_empty_geometry,
    "invalid_geometry": check_invalid_geometry,
    "duplicate_geometry": check_duplicate_geometry,
    "small_parts": check_small_parts,
    "degenerate_rings": check_degenerate_rings,
}

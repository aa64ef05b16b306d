"""Geometry and topology checks (几何与拓扑质检).

Geometry: empty, invalid (with GEOS's reason and location), duplicate, 碎片 parts and holes,
degenerate rings. Topology: overlaps, gaps and features sticking out of their container.

All vectorized over the layer (DESIGN §3): an STRtree bulk query gives candidate pairs, a
vectorized predicate keeps the pairs whose interiors meet (touching neighbours drop out),
``shapely.intersection``/``difference`` run on the remaining pairs only, and areas are
ellipsoidal. Tolerances compare ellipsoidal areas: a problem at or below
``tolerance_area_m2`` is not a finding. Invalid geometries take part repaired with make_valid
(:attr:`~guotu.domain.quality.LayerData.repaired`) and the findings say so.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt
import shapely

from guotu.domain.area import ellipsoidal_area_m2
from guotu.domain.quality import (
    POLYGONAL_TYPES,
    CheckContext,
    CheckResult,
    CheckSpec,
    Finding,
    LayerData,
    Skipped,
    anchor_points,
    as_text,
    feature_label,
    feature_ref,
    polygonal_parts,
    register_check,
)
from guotu.errors import ConfigError

__all__ = [
    "check_degenerate_rings",
    "check_duplicate_geometry",
    "check_empty_geometry",
    "check_gaps",
    "check_invalid_geometry",
    "check_outside_container",
    "check_overlaps",
    "check_small_parts",
    "measure_above",
    "validity_reason",
]

ObjArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_INTERIORS_MEET = "T********"


def measure_above(
    geoms: ObjArray, layer: LayerData, tolerance_area_m2: float
) -> tuple[IntArray, FloatArray]:
    """Positions of the polygonal ``geoms`` whose ellipsoidal area exceeds the tolerance, and
    those areas. Planar area filters first (it differs from the ellipsoidal by well under 1 %
    in a 3° Gauss-Krüger zone), so the ellipsoidal area is computed on candidates only.
    """
    planar = shapely.area(geoms)
    cand = np.flatnonzero(planar > tolerance_area_m2 * 0.99)
    if not len(cand):
        return cand.astype(np.int64), np.empty(0)
    ell = ellipsoidal_area_m2(geoms[cand], layer.crs)
    keep = ell > tolerance_area_m2
    return cand[keep].astype(np.int64), ell[keep]


def _usable(geoms: ObjArray) -> IntArray:
    return np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms))).astype(np.int64)


def _repaired_note(is_repaired: bool) -> tuple[str, str]:
    if not is_repaired:
        return "", ""
    return (
        "（涉及无效几何，已按 make_valid 修复后计算）",
        " (an invalid geometry was repaired with make_valid to compute this)",
    )


# -- geometry checks ---------------------------------------------------------------------
@register_check("empty_geometry")
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
            **feature_ref(layer, p),
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


@register_check("invalid_geometry")
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
                value=reason,
                location=loc,
                area_m2=area,
                unit="m2",
                is_repaired=True,
                **feature_ref(layer, p),
            )
        )
    return out


@register_check("duplicate_geometry")
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
        fids = [int(layer.fids[q]) for q in members]
        area = float(ellipsoidal_area_m2(layer.repaired[[members[0]]], layer.crs)[0])
        loc = anchor_points(g[[members[0]]])[0]
        for q in members[1:]:
            others = tuple(f for f in fids if f != int(layer.fids[q]))
            listed = ", ".join(map(str, others))
            out.append(
                spec.finding(
                    layer,
                    f"图层 {layer.name} {feature_label(layer, q)} 与要素 {listed} 几何完全重复："
                    "请删除多余的要素，或确认是否应合并属性。",
                    f"Layer {layer.name} {feature_label(layer, q, 'en')} has the same geometry as "
                    f"feature(s) {listed}: delete the extra feature or merge the attributes.",
                    area_m2=area,
                    location=loc,
                    related_fids=others,
                    **feature_ref(layer, q),
                )
            )
    return out


@register_check("small_parts")
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
                **feature_ref(layer, pos),
            )
        )
    return out


@register_check("degenerate_rings")
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
                value=float(n),
                limit=f">= {minimum}",
                location=loc,
                **feature_ref(layer, pos),
            )
        )
    return out


# -- topology checks ---------------------------------------------------------------------
@register_check("overlaps")
def check_overlaps(spec: CheckSpec, layer: LayerData, ctx: CheckContext) -> list[Finding]:
    """Pairs of features of a tiling layer whose overlap exceeds ``tolerance_area_m2``.

    One finding per pair, on the feature with the smaller fid, with the overlap geometry and
    its ellipsoidal area; the other feature is in ``related_fids``.
    """
    tol = spec.number("tolerance_area_m2", 1.0)
    geoms = polygonal_parts(layer.repaired)
    idx = _usable(geoms)
    if len(idx) < 2:
        return []
    g = geoms[idx]
    tree = shapely.STRtree(g)
    a, b = tree.query(g)
    keep = a < b
    a, b = a[keep], b[keep]
    meet = shapely.relate_pattern(g[a], g[b], _INTERIORS_MEET)
    a, b = a[meet], b[meet]
    if not len(a):
        return []
    inter = polygonal_parts(np.asarray(shapely.intersection(g[a], g[b]), dtype=object))
    found, areas = measure_above(inter, layer, tol)
    pa, pb = idx[a[found]], idx[b[found]]
    swap = layer.fids[pa] > layer.fids[pb]
    pa, pb = np.where(swap, pb, pa), np.where(swap, pa, pb)
    overlaps = inter[found]
    points = anchor_points(overlaps)
    out = []
    for i, (p, q) in enumerate(zip(pa.tolist(), pb.tolist(), strict=True)):
        area = float(areas[i])
        repaired = not (layer.is_valid[p] and layer.is_valid[q])
        note_zh, note_en = _repaired_note(repaired)
        other_zh = feature_label(layer, q)
        other_en = feature_label(layer, q, "en")
        out.append(
            spec.finding(
                layer,
                f"图层 {layer.name} {feature_label(layer, p)} 与{other_zh} 重叠 {area:.2f} m²"
                f"（容差 {tol:g} m²）{note_zh}：该图层应无缝无叠，请调整两者的公共边界。",
                f"Layer {layer.name} {feature_label(layer, p, 'en')} overlaps {other_en} by "
                f"{area:.2f} m² (tolerance {tol:g} m²){note_en}: the layer must tile, adjust their "
                "shared boundary.",
                area_m2=area,
                unit="m2",
                limit=f"<= {tol:g}",
                location=points[i],
                geometry=overlaps[i],
                related_fids=(int(layer.fids[q]),),
                is_repaired=repaired,
                **feature_ref(layer, p),
            )
        )
    return out


def _no_boundary(spec: CheckSpec, layer: LayerData, role: str) -> Skipped:
    return Skipped(
        spec.id,
        layer.name,
        f"工作空间中没有 {role} 图层（规划范围），未检查图层 {layer.name} 的缝隙；图层自身的外轮廓"
        "不能代替规划范围。请导入规划范围后重新检查。",
        f"No {role} layer (plan boundary) in the workspace, so gaps in layer {layer.name} "
        "were not checked; the layer's own outline is not a boundary. Import the plan "
        "boundary and check again.",
    )


def _boundary(
    spec: CheckSpec, ctx: CheckContext, role: str, geoms: ObjArray, cover: shapely.Geometry
) -> shapely.Geometry:
    """The union of the ``role`` features (only those the layer reaches, if scope is touched)."""
    if spec.text("boundary_scope", "all") == "touched":
        pool = np.concatenate([polygonal_parts(b.repaired) for b in ctx.with_role(role)])
        pool = pool[_usable(pool)]
        hit = np.unique(shapely.STRtree(pool).query(geoms, predicate="intersects")[1])
        pool = pool[hit]
        return shapely.union_all(pool[shapely.relate_pattern(pool, cover, _INTERIORS_MEET)])
    boundary = ctx.union_of_role(role)
    return shapely.Polygon() if boundary is None else boundary


@register_check("gaps")
def check_gaps(spec: CheckSpec, layer: LayerData, ctx: CheckContext) -> CheckResult:
    """Parts of the plan boundary (``boundary_role``) no feature covers, above the tolerance.

    With ``boundary_scope: touched`` only the boundary features the layer reaches count (for
    detailed parcels inside their units). Without a boundary layer the check is skipped: the
    layer's own hull is not a boundary.
    """
    tol = spec.number("tolerance_area_m2", 1.0)
    geoms = polygonal_parts(layer.repaired)
    geoms = geoms[_usable(geoms)]
    if not len(geoms):
        return []
    role = spec.text("boundary_role", "admin_boundary") or "admin_boundary"
    if not ctx.with_role(role):
        return _no_boundary(spec, layer, role)
    names = "、".join(b.name for b in ctx.with_role(role))
    cover = shapely.union_all(geoms)
    boundary = _boundary(spec, ctx, role, geoms, cover)
    holes = shapely.get_parts(
        polygonal_parts(np.array([shapely.difference(boundary, cover)], dtype=object))
    )
    found, areas = measure_above(holes, layer, tol)
    if not len(found):
        return []
    gaps = holes[found]
    tree = shapely.STRtree(layer.geometries)
    g_idx, f_idx = tree.query(gaps, predicate="dwithin", distance=0.01)
    points = anchor_points(gaps)
    out = []
    for i, gap in enumerate(gaps):
        fids = tuple(sorted(int(f) for f in layer.fids[f_idx[g_idx == i]]))
        near = ", ".join(map(str, fids[:10])) + (" …" if len(fids) > 10 else "")
        loc = points[i]
        at = f"（位置 {loc[0]:.3f}, {loc[1]:.3f}）" if loc else ""
        at_en = f" at {loc[0]:.3f}, {loc[1]:.3f}" if loc else ""
        area = float(areas[i])
        out.append(
            spec.finding(
                layer,
                f"图层 {layer.name} 在图层 {names} 的范围内有 {area:.2f} m² 的缝隙{at}（容差 {tol:g} m²）"
                + (f"，相邻要素 {near}" if fids else "")
                + "：该图层应覆盖整个范围，请补绘缝隙处的图斑或调整相邻边界。",
                f"Layer {layer.name} leaves a gap of {area:.2f} m² inside layer {names}{at_en} "
                f"(tolerance {tol:g} m²)"
                + (f", next to features {near}" if fids else "")
                + ": the layer must cover the whole area; draw the missing feature or move the "
                "neighbouring boundaries.",
                area_m2=area,
                unit="m2",
                limit=f"<= {tol:g}",
                location=loc,
                geometry=gap,
                related_fids=fids,
            )
        )
    return out


def _containers(
    spec: CheckSpec, layer: LayerData, ctx: CheckContext, role: str
) -> tuple[ObjArray, str] | Skipped:
    """The container geometry of each feature (or ``None``) and a description of it."""
    containers = ctx.with_role(role)
    join = spec.text("join_field")
    target_join = spec.text("container_field", join)
    if not containers:
        return Skipped(
            spec.id,
            layer.name,
            f"工作空间中没有 {role} 图层，未检查图层 {layer.name} 是否超出其范围。",
            f"No {role} layer in the workspace, so layer {layer.name} was not checked against it.",
        )
    names = "、".join(c.name for c in containers)
    out = np.full(len(layer.geometries), None, dtype=object)
    if join is None or target_join is None:
        out[:] = ctx.union_of_role(role)
        return out, names
    if join not in layer.attributes:
        return Skipped(
            spec.id,
            layer.name,
            f"图层 {layer.name} 没有字段 {join}，未检查。",
            f"Layer {layer.name} has no field {join}; not checked.",
        )
    pieces: dict[str, list[shapely.Geometry]] = {}
    for c in containers:
        if target_join not in c.attributes:
            continue
        geoms = polygonal_parts(c.repaired)
        for key, geom in zip(c.attributes[target_join].tolist(), geoms.tolist(), strict=True):
            k = as_text(key)
            if k and geom is not None and not shapely.is_empty(geom):
                pieces.setdefault(k, []).append(geom)
    by_key = {k: (v[0] if len(v) == 1 else shapely.union_all(v)) for k, v in pieces.items()}
    keys = layer.attributes[join].tolist()
    for pos, key in enumerate(keys):
        k = as_text(key)
        if k in by_key:
            out[pos] = by_key[k]
    return out, names


@register_check("outside_container")
def check_outside_container(spec: CheckSpec, layer: LayerData, ctx: CheckContext) -> CheckResult:
    """Features sticking out of their container by more than ``tolerance_area_m2``.

    The container is the union of the ``container_role`` layers (plan boundary), or with
    ``join_field`` the features of that role with the same value (parcel ``DYBH`` → unit
    ``DYBH``). Features without a matching container are left to the ``foreign_key`` check.
    Only polygonal features have an area outside.
    """
    tol = spec.number("tolerance_area_m2", 1.0)
    role = spec.text("container_role")
    if role is None:
        raise ConfigError(f"Check {spec.id}: outside_container needs container_role.")
    found_c = _containers(spec, layer, ctx, role)
    if isinstance(found_c, Skipped):
        return found_c
    containers, names = found_c
    geoms = polygonal_parts(layer.repaired)
    has = ~(shapely.is_missing(containers) | shapely.is_missing(geoms) | shapely.is_empty(geoms))
    idx = np.flatnonzero(has)
    if not len(idx):
        return []
    cont = containers[idx]
    shapely.prepare(cont)
    inside = shapely.covers(cont, geoms[idx])
    idx, cont = idx[~inside], cont[~inside]
    if not len(idx):
        return []
    diff = polygonal_parts(np.asarray(shapely.difference(geoms[idx], cont), dtype=object))
    found, areas = measure_above(diff, layer, tol)
    whole = ellipsoidal_area_m2(geoms[idx[found]], layer.crs)
    points = anchor_points(diff[found])
    join = spec.text("join_field")
    out = []
    for i, k in enumerate(found.tolist()):
        pos = int(idx[k])
        area, total = float(areas[i]), float(whole[i])
        share = 100.0 * area / total if total > 0 else 100.0
        key = f"（{join}={layer.attributes[join][pos]}）" if join else ""
        key_en = f" ({join}={layer.attributes[join][pos]})" if join else ""
        note_zh, note_en = _repaired_note(not bool(layer.is_valid[pos]))
        out.append(
            spec.finding(
                layer,
                f"图层 {layer.name} {feature_label(layer, pos)} 有 {area:.2f} m²（{share:.1f}%）超出"
                f"图层 {names} 的范围{key}（容差 {tol:g} m²）{note_zh}：请将其裁切到范围内或核实所属编号。",
                f"Layer {layer.name} {feature_label(layer, pos, 'en')} has {area:.2f} m² "
                f"({share:.1f} %) outside layer {names}{key_en} (tolerance {tol:g} m²){note_en}: clip "
                "it to the boundary or check which unit it belongs to.",
                area_m2=area,
                unit="m2",
                limit=f"<= {tol:g}",
                field=join,
                value=None if join is None else str(layer.attributes[join][pos]),
                location=points[i],
                geometry=diff[found][i],
                is_repaired=not bool(layer.is_valid[pos]),
                **feature_ref(layer, pos),
            )
        )
    return out

"""Topology checks (拓扑质检): overlaps, gaps and features sticking out of their container.

All vectorized over the layer (DESIGN §3): an STRtree bulk query gives candidate pairs, a
vectorized predicate keeps the pairs whose interiors meet (touching neighbours drop out),
``shapely.intersection``/``difference`` run on the remaining pairs only, and areas are
ellipsoidal. Tolerances compare ellipsoidal areas: a problem at or below
``tolerance_area_m2`` is not a finding. Invalid geometries take part repaired with make_valid
(:attr:`~guotu.domain.core.layers.LayerData.repaired`) and the findings say so. The checks of
each feature's own geometry are in :mod:`guotu.domain.checks.feature_geometry`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import shapely

from guotu.domain.checks.spec import CheckContext, CheckFunction, CheckResult, CheckSpec
from guotu.domain.core.findings import Finding, Skipped
from guotu.domain.core.layer_context import feature_at
from guotu.domain.core.layers import LayerData, as_text, feature_label
from guotu.domain.geometry.area import ellipsoidal_area_m2
from guotu.domain.geometry.polygons import anchor_points, polygonal_parts
from guotu.errors import ConfigError

__all__ = [
    "OPERATORS",
    "check_gaps",
    "check_outside_container",
    "check_overlaps",
    "measure_above",
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


def check_overlaps(spec: CheckSpec, layer: LayerData, ctx: CheckContext) -> list[Finding]:
    """Pairs of features of a tiling layer whose overlap exceeds ``tolerance_area_m2``.

    One finding per pair, on the feature with the smaller fid, with the overlap geometry and
    its ellipsoidal area; the other feature is its related feature.
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
                related=(feature_at(layer, q),),
                is_repaired=repaired,
                at=p,
            )
        )
    return out


def _no_boundary(spec: CheckSpec, layer: LayerData, role: str) -> Skipped:
    return spec.skipped(
        layer,
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
        near_pos = sorted(f_idx[g_idx == i].tolist(), key=lambda q: int(layer.fids[q]))
        fids = tuple(int(layer.fids[q]) for q in near_pos)
        near = ", ".join(map(str, fids[:10])) + (" …" if len(fids) > 10 else "")
        loc = points[i]
        where = f"（位置 {loc[0]:.3f}, {loc[1]:.3f}）" if loc else ""
        where_en = f" at {loc[0]:.3f}, {loc[1]:.3f}" if loc else ""
        area = float(areas[i])
        out.append(
            spec.finding(
                layer,
                f"图层 {layer.name} 在图层 {names} 的范围内有 {area:.2f} m² 的缝隙{where}（容差 {tol:g} m²）"
                + (f"，相邻要素 {near}" if fids else "")
                + "：该图层应覆盖整个范围，请补绘缝隙处的图斑或调整相邻边界。",
                f"Layer {layer.name} leaves a gap of {area:.2f} m² inside layer {names}{where_en} "
                f"(tolerance {tol:g} m²)"
                + (f", next to features {near}" if fids else "")
                + ": the layer must cover the whole area; draw the missing feature or move the "
                "neighbouring boundaries.",
                area_m2=area,
                unit="m2",
                limit=f"<= {tol:g}",
                location=loc,
                geometry=gap,
                related=[feature_at(layer, q) for q in near_pos],
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
        return spec.skipped(
            layer,
            f"工作空间中没有 {role} 图层，未检查图层 {layer.name} 是否超出其范围。",
            f"No {role} layer in the workspace, so layer {layer.name} was not checked against it.",
        )
    names = "、".join(c.name for c in containers)
    out = np.full(len(layer.geometries), None, dtype=object)
    if join is None or target_join is None:
        out[:] = ctx.union_of_role(role)
        return out, names
    if join not in layer.attributes:
        return spec.skipped(
            layer,
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
                measured=None if join is None else str(layer.attributes[join][pos]),
                location=points[i],
                geometry=diff[found][i],
                is_repaired=not bool(layer.is_valid[pos]),
                at=pos,
            )
        )
    return out


#: The operators of this module, by name (registered in :data:`guotu.domain.checks.engine.CHECKS`).
OPERATORS: Mapping[str, CheckFunction] = {
    "overlaps": check_overlaps,
    "gaps": check_gaps,
    "outside_container": check_outside_container,
}

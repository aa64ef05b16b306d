"""传导 operators: a lower plan (or a project) against the plan above it.

* ``use_compatibility``: each feature's use against the reference use that covers the largest
  part of it (its *dominant* use: areas summed by code): compatible by the code tree and the
  pack's compatibility table (``args.table``), or on the same branch when there is none.
* ``unit_totals``: per detailed-plan unit, the ellipsoidal area of its parcels of each
  category (建设用地, 居住, 公共服务, 绿地 …) against the unit's allocation field.
* ``unit_share``: the share of some codes (留白用地) in each unit's parcel area.
* ``indicator_limits``: a feature's indicators (容积率, 建筑密度, 绿地率, 限高) against its
  parent's (the unit by DYBH, or the parcel under a project by dominant overlap).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import shapely

from guotu.domain.core.fields import field_label
from guotu.domain.core.findings import Finding, Skipped
from guotu.domain.core.layers import LayerData, as_text
from guotu.domain.geometry.overlay import overlay
from guotu.domain.geometry.zone_index import prepare_zones
from guotu.domain.review.compat import is_compatible, nearest_compatible
from guotu.domain.review.evaluate import (
    OperatorFunction,
    OperatorResult,
    ReviewContext,
    code_name,
    feature_text,
    make_finding,
    share,
    skipped_missing,
    skipped_no_subject,
)
from guotu.domain.review.pack import Rule

__all__ = [
    "OPERATORS",
    "dominant",
    "indicator_limits",
    "unit_share",
    "unit_totals",
    "use_compatibility",
]

_COMPARE = {"le": ("高于", "above", "高于", "减少"), "ge": ("低于", "below", "低于", "增加")}


def dominant(
    ctx: ReviewContext, subject: LayerData, sel: np.ndarray, ref: LayerData
) -> dict[int, list[tuple[int, float, Any]]]:
    """For each selected subject position: its overlaps with ``ref`` as (ref position, area,
    geometry), largest first (ties by reference id, so the order of features never matters)."""
    ref_ok = np.flatnonzero(ctx.usable(ref))
    if not len(sel) or not len(ref_ok):
        return {}
    index = prepare_zones(ctx.polygons(ref)[ref_ok], ctx.crs)
    res = overlay(ctx.polygons(subject)[sel], index, min_area_m2=0.0)
    out: dict[int, list[tuple[int, float, Any]]] = {}
    for k in range(len(res.left)):
        geom = res.geometry[k] if res.geometry is not None else None
        out.setdefault(int(sel[res.left[k]]), []).append(
            (int(ref_ok[res.right[k]]), float(res.area_m2[k]), geom)
        )
    for items in out.values():
        items.sort(key=lambda t: (-round(t[1], 6), ref.feature_key(t[0])[1] or "", t[0]))
    return out


def use_compatibility(rule: Rule, ctx: ReviewContext) -> OperatorResult:
    """Features whose use the dominant reference use does not admit."""
    subject = ctx.subject
    if subject is None:
        return skipped_no_subject(rule)
    role = str(rule.args.get("reference_role", "planned_land_use"))
    ref = ctx.layer(role)
    if ref is None:
        return skipped_missing(rule, role)
    table_name = rule.args.get("table")
    table = ctx.pack.table(str(table_name)) if table_name else None
    codes = ctx.codes(subject)
    ref_codes = ctx.codes(ref)
    sel = np.flatnonzero(
        ctx.usable(subject)
        & np.array([c is not None and rule.matches_code(c) for c in codes.tolist()], dtype=bool)
    )
    over = dominant(ctx, subject, sel, ref)
    areas = ctx.areas(subject)
    tol = rule.tol("area_m2")
    out: list[Finding] = []
    for pos in sorted(over):
        items = over[pos]
        code = str(codes[pos])
        # the dominant master-plan use: the code covering most of the parcel (summed over
        # features); its largest feature names it
        by_code: dict[str, float] = {}
        for p, a, _ in items:
            if ref_codes[p] is not None:
                by_code[str(ref_codes[p])] = by_code.get(str(ref_codes[p]), 0.0) + a
        if not by_code:
            continue
        top_code = min(by_code, key=lambda c: (-round(by_code[c], 6), c))
        top_area = by_code[top_code]
        top = next(p for p, _, _ in items if ref_codes[p] == top_code)
        if is_compatible(code, top_code, table):
            continue
        bad = [
            (p, a, g)
            for p, a, g in items
            if ref_codes[p] is not None and not is_compatible(code, str(ref_codes[p]), table)
        ]
        area = float(sum(a for _, a, _ in bad))
        if area <= tol:
            continue
        parts = [g for _, _, g in bad if g is not None]
        geom = shapely.union_all(parts) if parts else None
        f_area = float(areas[pos])
        sug = nearest_compatible(code, top_code, table) if table else top_code
        fref = ctx.ref(subject, pos, with_code=True)
        rref = ctx.ref(ref, top, with_code=True)
        values = {
            "code": code,
            "reference_code": top_code,
            "reference_share_pct": 100 * top_area / f_area if f_area else None,
            "suggested_code": sug,
            "area_m2": area,
            "area_ha": area / 10_000,
            "reference": rref.id_value or f"fid {rref.fid}",
        }
        zh = {
            "feature": feature_text(fref, subject.role, "zh"),
            "code_name": code_name(code),
            "reference_code_name": code_name(top_code),
            "suggested_code_name": code_name(sug) if len(sug) >= 2 else "",
        }
        en = {
            "feature": feature_text(fref, subject.role, "en"),
            "code_name": code_name(code, "en"),
            "reference_code_name": code_name(top_code, "en"),
            "suggested_code_name": code_name(sug, "en"),
        }
        out.append(
            make_finding(
                rule,
                values,
                zh=zh,
                en=en,
                features=(fref,),
                related=(rref,),
                relation="overlaps" if len(items) > 1 or top_area < f_area - 1e-6 else "within",
                area_m2=round(area, 2),
                share_of_feature=share(area, f_area),
                measured=code,
                limit=str(top_code),
                unit="code",
                geometry=geom,
                is_repaired=not bool(subject.is_valid[pos]),
                details={
                    "reference_code": top_code,
                    "suggested_code": sug,
                    "reference_share": share(top_area, f_area),
                },
            )
        )
    return out


def _group(
    ctx: ReviewContext, parcels: LayerData, units: LayerData, join: str
) -> tuple[dict[str, int], np.ndarray]:
    """Unit position by join value, and each parcel's join value (``None`` if blank)."""
    unit_vals = units.attributes.get(join)
    by_key: dict[str, int] = {}
    if unit_vals is not None:
        for i, v in enumerate(unit_vals.tolist()):
            key = as_text(v)
            if key is not None:
                by_key.setdefault(key, i)
    pv = parcels.attributes.get(join)
    keys = np.array(
        [as_text(v) for v in pv.tolist()] if pv is not None else [None] * len(parcels.fids),
        dtype=object,
    )
    return by_key, keys


def _number(value: object) -> float | None:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def unit_totals(rule: Rule, ctx: ReviewContext) -> OperatorResult:
    """Per unit and category: parcel area total against the unit's allocation field."""
    subject = ctx.subject
    if subject is None:
        return skipped_no_subject(rule)
    role = str(rule.args.get("unit_role", "detailed_unit"))
    units = ctx.layer(role)
    if units is None:
        return skipped_missing(rule, role)
    join = str(rule.args.get("join_field", "DYBH"))
    by_key, keys = _group(ctx, subject, units, join)
    codes = ctx.codes(subject)
    areas = ctx.areas(subject)
    usable = ctx.usable(subject)
    tol = rule.tol("area_m2")
    out: list[Finding] = []
    categories: Sequence[Mapping[str, Any]] = rule.args.get("categories") or ()
    # only the units the reviewed plan has parcels in: a plan of one unit says nothing of
    # the others
    present = sorted(
        {
            by_key[k]
            for k, ok in zip(keys.tolist(), usable.tolist(), strict=True)
            if ok and k is not None and k in by_key
        }
    )
    missing = [
        str(c.get("field")) for c in categories if str(c.get("field")) not in units.attributes
    ]
    if categories and len(missing) == len(categories):
        return Skipped(
            rule.id,
            f"单元图层 {units.name} 没有管控字段"
            f"{'、'.join(field_label(m) for m in missing)}，规则未运行。",
            f"Unit layer {units.name} has none of the fields {', '.join(missing)}; the rule "
            "did not run.",
        )
    for cat in categories:
        include = tuple(str(c) for c in cat.get("codes", ()))  # @sets resolved at parse
        exclude = tuple(str(c) for c in cat.get("exclude", ()))
        fld = str(cat.get("field"))
        compare = str(cat.get("compare", "le"))
        alloc = units.attributes.get(fld)
        if alloc is None:
            continue
        match = (
            np.array(
                [
                    c is not None
                    and c.startswith(include)
                    and not (exclude and c.startswith(exclude))
                    for c in codes.tolist()
                ],
                dtype=bool,
            )
            & usable
        )
        totals: dict[int, float] = {}
        members: dict[int, list[int]] = {}
        for p in np.flatnonzero(match).tolist():
            u = by_key.get(keys[p]) if keys[p] is not None else None
            if u is None:
                continue
            totals[u] = totals.get(u, 0.0) + float(areas[p])
            members.setdefault(u, []).append(p)
        for u in present:
            limit = _number(alloc[u])
            if limit is None:
                continue
            total = totals.get(u, 0.0)
            excess = total - limit if compare == "le" else limit - total
            if excess <= tol:
                continue
            out.append(
                _unit_finding(
                    rule,
                    ctx,
                    subject,
                    units,
                    u,
                    members.get(u, []),
                    cat,
                    compare,
                    total,
                    limit,
                    excess,
                )
            )
    return out


def _unit_finding(
    rule: Rule,
    ctx: ReviewContext,
    parcels: LayerData,
    units: LayerData,
    u: int,
    members: list[int],
    cat: Mapping[str, Any],
    compare: str,
    total: float,
    limit: float,
    excess: float,
) -> Finding:
    uref = ctx.ref(units, u)
    word_zh, word_en, _, act = _COMPARE[compare]
    geoms = ctx.polygons(parcels)[members] if members else np.empty(0, dtype=object)
    geom = shapely.union_all(geoms) if len(geoms) else ctx.polygons(units)[u]
    values = {
        "unit": uref.id_value or f"fid {uref.fid}",
        "measured": total,
        "limit": limit,
        "excess_m2": excess,
        "excess_ha": excess / 10_000,
    }
    zh = {
        "category": str(cat.get("name_zh", "")),
        "compare_zh": f"{word_zh}",
        "action_zh": "核减" if compare == "le" else "增加",
    }
    en = {
        "category": str(cat.get("name_en", "")),
        "compare_en": word_en,
        "action_en": "Cut" if compare == "le" else "Add",
    }
    del act
    return make_finding(
        rule,
        values,
        zh=zh,
        en=en,
        features=(uref,),
        relation=None,
        area_m2=round(excess, 2),
        measured=round(total, 2),
        limit=round(limit, 2),
        unit="m2",
        geometry=geom,
        details={
            "field": str(cat.get("field")),
            "category": cat.get("name_zh"),
            "parcels": [ctx.ref(parcels, p).id_value for p in members],
        },
    )


def unit_share(rule: Rule, ctx: ReviewContext) -> OperatorResult:
    """Per unit: the share of ``args.codes`` in its parcel area against ``max_share_pct``."""
    subject = ctx.subject
    if subject is None:
        return skipped_no_subject(rule)
    role = str(rule.args.get("unit_role", "detailed_unit"))
    units = ctx.layer(role)
    if units is None:
        return skipped_missing(rule, role)
    by_key, keys = _group(ctx, subject, units, str(rule.args.get("join_field", "DYBH")))
    prefixes = tuple(str(c) for c in rule.args.get("codes", ()))  # @sets resolved at parse
    limit = float(rule.args.get("max_share_pct", 100.0))
    codes = ctx.codes(subject)
    areas = ctx.areas(subject)
    usable = ctx.usable(subject)
    total: dict[int, float] = {}
    part: dict[int, float] = {}
    members: dict[int, list[int]] = {}
    for p in np.flatnonzero(usable).tolist():
        u = by_key.get(keys[p]) if keys[p] is not None else None
        if u is None:
            continue
        total[u] = total.get(u, 0.0) + float(areas[p])
        if codes[p] is not None and str(codes[p]).startswith(prefixes):
            part[u] = part.get(u, 0.0) + float(areas[p])
            members.setdefault(u, []).append(p)
    out: list[Finding] = []
    for u in sorted(part):
        pct = 100 * part[u] / total[u] if total.get(u) else 0.0
        if pct <= limit + rule.tol("share_pct"):
            continue
        uref = ctx.ref(units, u)
        excess = part[u] - limit / 100 * total[u]
        geom = shapely.union_all(ctx.polygons(subject)[members[u]])
        values = {
            "unit": uref.id_value or f"fid {uref.fid}",
            "measured": pct,
            "limit": limit,
            "measured_m2": part[u],
            "excess_m2": excess,
        }
        out.append(
            make_finding(
                rule,
                values,
                features=(uref,),
                area_m2=round(part[u], 2),
                share_of_feature=share(part[u], total[u]),
                measured=round(pct, 4),
                limit=limit,
                unit="%",
                geometry=geom,
            )
        )
    return out


def indicator_limits(rule: Rule, ctx: ReviewContext) -> OperatorResult:
    """Each feature's indicators against its parent's (join by field or dominant overlap)."""
    subject = ctx.subject
    if subject is None:
        return skipped_no_subject(rule)
    role = str(rule.args.get("parent_role", "detailed_unit"))
    parent = ctx.layer(role)
    if parent is None:
        return skipped_missing(rule, role)
    join: Mapping[str, Any] = rule.args.get("join") or {"field": "DYBH"}
    usable = ctx.usable(subject)
    parent_of: dict[int, int] = {}
    if "field" in join:
        by_key, keys = _group(ctx, subject, parent, str(join["field"]))
        for p in np.flatnonzero(usable).tolist():
            u = by_key.get(keys[p]) if keys[p] is not None else None
            if u is not None:
                parent_of[p] = u
    else:
        over = dominant(ctx, subject, np.flatnonzero(usable), parent)
        parent_of = {p: items[0][0] for p, items in over.items()}
    tol = rule.tol("value")
    areas = ctx.areas(subject)
    out: list[Finding] = []
    checks: Sequence[Mapping[str, Any]] = rule.args.get("checks") or ()
    usable_checks = [
        c
        for c in checks
        if str(c.get("field")) in subject.attributes
        and str(c.get("parent_field", c.get("field"))) in parent.attributes
    ]
    if checks and not usable_checks:
        names = "、".join(str(c.get("field")) for c in checks)
        names_zh = "、".join(field_label(str(c.get("field"))) for c in checks)
        return Skipped(
            rule.id,
            f"图层 {subject.name} 或 {parent.name} 没有指标字段{names_zh}，规则未运行。",
            f"Layer {subject.name} or {parent.name} has none of the indicator fields "
            f"({names}); the rule did not run.",
        )
    for p in sorted(parent_of):
        u = parent_of[p]
        for chk in checks:
            fld = str(chk.get("field"))
            pfld = str(chk.get("parent_field", fld))
            mine = subject.attributes.get(fld)
            theirs = parent.attributes.get(pfld)
            if mine is None or theirs is None:
                continue
            value, limit = _number(mine[p]), _number(theirs[u])
            if value is None or limit is None:
                continue
            compare = str(chk.get("compare", "le"))
            broken = value > limit + tol if compare == "le" else value < limit - tol
            if not broken:
                continue
            out.append(
                _limit_finding(
                    rule, ctx, subject, parent, p, u, chk, compare, value, limit, float(areas[p])
                )
            )
    return out


def _limit_finding(
    rule: Rule,
    ctx: ReviewContext,
    layer: LayerData,
    parent: LayerData,
    p: int,
    u: int,
    chk: Mapping[str, Any],
    compare: str,
    value: float,
    limit: float,
    area: float,
) -> Finding:
    fref = ctx.ref(layer, p, with_code=True)
    pref = ctx.ref(parent, u)
    word_zh, word_en, word2, _ = _COMPARE[compare]
    unit = str(chk.get("unit", ""))
    values = {
        "measured": f"{value:g}",
        "limit": f"{limit:g}",
        "unit": unit,
        "parent": pref.id_value or f"fid {pref.fid}",
    }
    zh = {
        "feature": feature_text(fref, layer.role, "zh"),
        "indicator": str(chk.get("name_zh")),
        "compare_zh": word_zh,
        "compare_word_zh": word2,
    }
    en = {
        "feature": feature_text(fref, layer.role, "en"),
        "indicator": str(chk.get("name_en")),
        "compare_en": word_en,
    }
    return make_finding(
        rule,
        values,
        zh=zh,
        en=en,
        features=(fref,),
        related=(pref,),
        relation=None,
        area_m2=round(area, 2),
        share_of_feature=1.0,
        measured=value,
        limit=limit,
        unit=unit or None,
        geometry=ctx.polygons(layer)[p],
        is_repaired=not bool(layer.is_valid[p]),
        details={"field": str(chk.get("field")), "indicator": chk.get("name_zh")},
    )


#: The review operators of this module, by name (registered in
#: :data:`guotu.domain.review.operators.OPERATORS`).
OPERATORS: Mapping[str, OperatorFunction] = {
    "use_compatibility": use_compatibility,
    "unit_totals": unit_totals,
    "unit_share": unit_share,
    "indicator_limits": indicator_limits,
}

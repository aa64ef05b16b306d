"""Spatial review operators: forbidden overlaps, required containment, routes through zones.

* ``forbid_overlap``: features of the rule's codes must not overlap the rule's zones (红线,
  永久基本农田, a 开发边界 sub-zone); a feature that declares an exemption (``exempt_if``: every
  listed field holds one of the listed values) gets an ``info`` finding instead.
* ``require_within``: features of the rule's codes must lie inside the union of the zones
  (城镇建设用地 inside the 城镇开发边界); the part outside is the conflict.
* ``route_conflict``: a special plan's centre line, buffered by its width (or its polygon),
  against the zones: length and area inside each zone, crossing segments with chainages, and
  a detour around the zones within a corridor (:func:`guotu.domain.review.routing.find_detour`).

Touching edges and overlaps at or below the rule's ``area_m2`` tolerance are not conflicts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import shapely

from guotu.domain.core.fields import field_label
from guotu.domain.core.findings import Finding, Severity
from guotu.domain.core.layers import LayerData, as_text
from guotu.domain.geometry.area import ellipsoidal_area_m2
from guotu.domain.geometry.overlay import line_overlay, overlay
from guotu.domain.geometry.zone_index import prepare_zones
from guotu.domain.review.evaluate import (
    RELATION_ZH,
    OperatorFunction,
    OperatorResult,
    ReviewContext,
    area_values,
    code_label,
    code_name,
    feature_text,
    make_finding,
    share,
    skipped_missing,
    skipped_no_subject,
    zone_text,
)
from guotu.domain.review.pack import Rule, render_template
from guotu.domain.review.routing import find_detour

__all__ = ["OPERATORS", "forbid_overlap", "require_within", "route_conflict", "suggested_code"]

_LINE_TYPES = (int(shapely.GeometryType.LINESTRING), int(shapely.GeometryType.MULTILINESTRING))


def suggested_code(rule: Rule, code: str | None) -> str | None:
    """The code a rule suggests instead of ``code``: ``args.suggest`` maps code prefixes
    (longest first) to a code, ``"*"`` to the default.

    Examples
    --------
    >>> from guotu.domain.review.pack import LegalBasis
    >>> r = Rule("a.b", "", "", LegalBasis(""), (), "x", Severity.ERROR, "", "",
    ...          args={"suggest": {"0701": "0703", "*": "0103"}})
    >>> suggested_code(r, "070102"), suggested_code(r, "0901")
    ('0703', '0103')
    """
    table: Mapping[str, Any] = rule.args.get("suggest") or {}
    if code is not None:
        for key in sorted((k for k in table if k != "*"), key=len, reverse=True):
            if code.startswith(str(key)):
                return str(table[key])
    default = table.get("*")
    return None if default is None else str(default)


def _selected(rule: Rule, ctx: ReviewContext, layer: LayerData) -> np.ndarray:
    codes = ctx.codes(layer)
    usable = ctx.usable(layer)
    match = np.array([rule.matches_code(c) for c in codes.tolist()], dtype=bool)
    return np.flatnonzero(usable & match)


def _is_exempt(rule: Rule, layer: LayerData, pos: int) -> list[tuple[str, str]] | None:
    """The declared exemption (``[(field, value), …]``) when every ``exempt_if`` condition
    holds."""
    conditions: Sequence[Mapping[str, Any]] = rule.args.get("exempt_if") or ()
    if not conditions:
        return None
    said = []
    for cond in conditions:
        fld = str(cond.get("field"))
        vals = layer.attributes.get(fld)
        value = as_text(vals[pos]) if vals is not None else None
        accepted = {str(v) for v in cond.get("in", ())}
        # an entry naming several activities (管护巡护、保护执法、科学研究 …) accepts each
        accepted |= {part for v in list(accepted) for part in v.split("、")}
        if value is None or value not in accepted:
            return None
        said.append((fld, value))
    return said


def _labels(
    rule: Rule, ctx: ReviewContext, layer: LayerData, pos: int, code: str | None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    ref = ctx.ref(layer, pos, with_code=True)
    sug = suggested_code(rule, code)
    base = {"code": code or "—"}
    zh = {
        "feature": feature_text(ref, layer.role, "zh"),
        "code_name": code_name(code),
        "suggested_code": code_label(sug) if sug else "非建设用途",
    }
    en = {
        "feature": feature_text(ref, layer.role, "en"),
        "code_name": code_name(code, "en"),
        "suggested_code": code_label(sug, "en") if sug else "a non-construction use",
    }
    return base, zh, en


def forbid_overlap(rule: Rule, ctx: ReviewContext) -> OperatorResult:
    """Features of the rule's codes overlapping the rule's zones (one finding per pair)."""
    subject = ctx.subject
    if subject is None:
        return skipped_no_subject(rule)
    zones = ctx.zones(rule)
    if zones is None:
        return skipped_missing(rule, rule.zone_role or "")
    sel = _selected(rule, ctx, subject)
    if not len(sel) or zones.index is None:
        return []
    polys = ctx.polygons(subject)
    res = overlay(polys[sel], zones.index, min_area_m2=rule.tol("area_m2"))
    codes = ctx.codes(subject)
    out: list[Finding] = []
    for k in range(len(res.left)):
        pos = int(sel[res.left[k]])
        zpos = int(zones.positions[res.right[k]])
        zone = ctx.ref(zones.layer, zpos)
        area = float(res.area_m2[k])
        f_area, z_area = float(res.feature_area_m2[k]), float(res.zone_area_m2[k])
        relation = str(res.relation[k])
        base, zh, en = _labels(rule, ctx, subject, pos, codes[pos])
        values = {
            **base,
            **area_values(area, f_area, z_area),
            "zone": zone_text(zone),
            "relation": relation,
        }
        zh["relation_zh"] = RELATION_ZH.get(relation, relation)
        exempt = _is_exempt(rule, subject, pos)
        severity = None
        if exempt is not None:
            severity = Severity.INFO
        finding = make_finding(
            rule,
            values,
            zh=zh,
            en=en,
            severity=severity,
            features=(ctx.ref(subject, pos, with_code=True),),
            related=(zone,),
            relation=relation,
            area_m2=round(area, 2),
            share_of_feature=share(area, f_area),
            share_of_zone=share(area, z_area),
            measured=round(area, 2),
            limit=rule.tol("area_m2"),
            unit="m2",
            geometry=None if res.geometry is None else res.geometry[k],
            is_repaired=not bool(subject.is_valid[pos]),
            details={"exempt": "；".join(f"{k}={v}" for k, v in exempt)} if exempt else {},
        )
        if exempt is not None:
            finding = _exempt_text(finding, exempt)
        out.append(finding)
    return out


def _exempt_text(f: Finding, exempt: list[tuple[str, str]]) -> Finding:
    said_zh = "，".join(f"{field_label(k)}为“{v}”" for k, v in exempt)
    said_en = "; ".join(f"{field_label(k, 'en')}={v}" for k, v in exempt)
    return replace(
        f,
        message_zh=f"{f.message_zh}该地块已申报{said_zh}，按允许情形登记，不计为冲突。",
        message_en=f"{f.message_en} The feature declares {said_en}; recorded as an allowed "
        "case, not a conflict.",
        suggestion_zh="核实申报内容并附相应批准或认定文件（省级人民政府认定意见、不可避让论证或国务院批准文件）。",
        suggestion_en="Verify the declaration and attach the approval or recognition documents.",
    )


def require_within(rule: Rule, ctx: ReviewContext) -> OperatorResult:
    """The part of each feature of the rule's codes outside the union of the zones."""
    subject = ctx.subject
    if subject is None:
        return skipped_no_subject(rule)
    zones = ctx.zones(rule)
    if zones is None:
        return skipped_missing(rule, rule.zone_role or "")
    sel = _selected(rule, ctx, subject)
    if not len(sel):
        return []
    polys = ctx.polygons(subject)
    f_areas = ctx.areas(subject)[sel]
    tol = rule.tol("area_m2")
    zone_geoms = ctx.polygons(zones.layer)[zones.positions]
    union = shapely.union_all(zone_geoms) if len(zone_geoms) else shapely.Polygon()
    inside = np.zeros(len(sel))
    if not union.is_empty:
        res = overlay(
            polys[sel], prepare_zones(np.array([union], dtype=object), ctx.crs), geometry=False
        )
        np.add.at(inside, res.left, res.area_m2)
    # candidates: the outside part may exceed the tolerance (a margin for rounding)
    cand = np.flatnonzero(f_areas - inside > tol - 1e-3)
    if not len(cand):
        return []
    outside = (
        shapely.difference(polys[sel[cand]], union) if not union.is_empty else polys[sel[cand]]
    )
    o_areas = ellipsoidal_area_m2(outside, ctx.crs)
    codes = ctx.codes(subject)
    out: list[Finding] = []
    for c, geom, area in zip(cand.tolist(), outside, o_areas.tolist(), strict=True):
        if area <= tol:
            continue
        pos = int(sel[c])
        f_area = float(f_areas[c])
        relation = "outside" if inside[c] <= 0 else "overlaps"
        base, zh, en = _labels(rule, ctx, subject, pos, codes[pos])
        values = {**base, **area_values(area, f_area, None), "relation": relation}
        out.append(
            make_finding(
                rule,
                values,
                zh=zh,
                en=en,
                features=(ctx.ref(subject, pos, with_code=True),),
                relation=relation,
                area_m2=round(area, 2),
                share_of_feature=share(area, f_area),
                measured=round(area, 2),
                limit=tol,
                unit="m2",
                geometry=geom,
                is_repaired=not bool(subject.is_valid[pos]),
            )
        )
    return out


def _width_m(rule: Rule, layer: LayerData, pos: int) -> float:
    fld = str(rule.args.get("width_field", "KD"))
    vals = layer.attributes.get(fld)
    raw = vals[pos] if vals is not None else None
    text = re.sub(r"\s*(米|m|M)$", "", str(raw).strip()) if raw is not None else ""
    try:
        width = float(text) if text else float("nan")
    except ValueError:
        width = float("nan")
    if not np.isfinite(width) or width <= 0:
        width = float(rule.args.get("default_width_m", 0.0))
    return width


#: How far (m) either side of a route a detour may wander when the rule names no ``corridor_m``.
DEFAULT_CORRIDOR_M = 2000.0

#: What a route finding suggests when the rule pack gives no ``advice`` of its own: the facts
#: only. The legal wording (不可避让论证, 省级认定 …) belongs to the pack, with the rest of the
#: law (``args.advice.found|not_found|not_tried``, each ``{zh, en}``; placeholders as in the
#: message, and ``{detour_length_m}``, ``{extra_length_m}``, ``{detour_reason_zh|en}``).
_FACTUAL_ADVICE = {
    "found": {
        "zh": "建议改线避让：绕行线位长 {detour_length_m:.2f} m，比原线位增加 {extra_length_m:.2f} m（见图中虚线）。",
        "en": "Reroute to avoid it: the detour is {detour_length_m:.2f} m long, "
        "{extra_length_m:.2f} m longer than the route (dashed on the map).",
    },
    "not_found": {"zh": "{detour_reason_zh}。", "en": "{detour_reason_en}."},
    "not_tried": {
        "zh": "调整线位或形态避让该区域。",
        "en": "Move or reshape the route to avoid the zone.",
    },
}


def _advice(rule: Rule, outcome: str, lang: str) -> str:
    """The rule pack's suggestion template for a detour ``outcome``, else the factual one."""
    advice = rule.args.get("advice")
    if isinstance(advice, Mapping):
        entry = advice.get(outcome)
        if isinstance(entry, Mapping) and isinstance(entry.get(lang), str):
            return str(entry[lang])
    return _FACTUAL_ADVICE[outcome][lang]


def route_conflict(rule: Rule, ctx: ReviewContext) -> OperatorResult:
    """Special-plan routes (lines with a width, or polygons) through the rule's zones."""
    subject = ctx.subject
    if subject is None:
        return skipped_no_subject(rule)
    zones = ctx.zones(rule)
    if zones is None:
        return skipped_missing(rule, rule.zone_role or "")
    if zones.index is None:
        return []
    index = zones.index
    geoms = subject.repaired
    kinds = shapely.get_type_id(geoms)
    out: list[Finding] = []
    zone_polys = ctx.polygons(zones.layer)[zones.positions]
    for pos in range(len(geoms)):
        geom = geoms[pos]
        if geom is None or geom.is_empty:
            continue
        is_line = int(kinds[pos]) in _LINE_TYPES
        width = _width_m(rule, subject, pos) if is_line else 0.0
        body = (
            shapely.buffer(geom, width / 2, cap_style="flat")
            if is_line and width > 0
            else (geom if not is_line else None)
        )
        length_total = float(shapely.length(geom)) if is_line else 0.0
        pairs: dict[int, dict[str, Any]] = {}
        if is_line:
            lo = line_overlay(np.array([geom], dtype=object), index)
            for k in range(len(lo.left)):
                pairs.setdefault(int(lo.right[k]), {})["line"] = (
                    float(lo.length_m[k]),
                    lo.geometry[k],
                )
        if body is not None and not body.is_empty:
            res = overlay(np.array([body], dtype=object), index, min_area_m2=rule.tol("area_m2"))
            for k in range(len(res.left)):
                pairs.setdefault(int(res.right[k]), {})["area"] = (
                    float(res.area_m2[k]),
                    res.geometry[k] if res.geometry is not None else None,
                    float(res.feature_area_m2[k]),
                    float(res.zone_area_m2[k]),
                )
        if not pairs:
            continue
        detour = None
        line = shapely.line_merge(geom) if is_line and geom.geom_type != "LineString" else geom
        if is_line and rule.args.get("detour", True) and isinstance(line, shapely.LineString):
            corridor_m = float(rule.args.get("corridor_m", DEFAULT_CORRIDOR_M))
            near = zone_polys[shapely.intersects(zone_polys, shapely.buffer(line, corridor_m))]
            detour = find_detour(
                line,
                near,
                width_m=width,
                corridor_m=corridor_m,
                clearance_m=float(rule.args.get("clearance_m", 0.0)),
                departure_m=float(rule.args.get("departure_m", 0.0)),
            )
        for zi in sorted(pairs):
            out.append(
                _route_finding(
                    rule,
                    ctx,
                    subject,
                    pos,
                    zones.layer,
                    int(zones.positions[zi]),
                    pairs[zi],
                    width,
                    length_total,
                    detour,
                )
            )
    return out


def _segments(line: shapely.Geometry | None, route: shapely.Geometry) -> list[dict[str, Any]]:
    """The parts of ``line`` (inside a zone) with their chainages along ``route``."""
    if line is None or line.is_empty:
        return []
    parts = shapely.get_parts(
        shapely.line_merge(line) if line.geom_type.startswith("Multi") else line
    )
    out: list[dict[str, Any]] = []
    for part in parts:
        coords = shapely.get_coordinates(part)
        a, b = shapely.Point(coords[0]), shapely.Point(coords[-1])
        ca, cb = float(route.project(a)), float(route.project(b))
        if ca > cb:
            ca, cb = cb, ca
            a, b = b, a
        out.append(
            {
                "from_chainage_m": round(ca, 2),
                "to_chainage_m": round(cb, 2),
                "length_m": round(float(part.length), 2),
                "from": [round(a.x, 3), round(a.y, 3)],
                "to": [round(b.x, 3), round(b.y, 3)],
            }
        )
    out.sort(key=lambda s: (s["from_chainage_m"], s["to_chainage_m"]))
    return out


def _route_finding(
    rule: Rule,
    ctx: ReviewContext,
    layer: LayerData,
    pos: int,
    zone_layer: LayerData,
    zpos: int,
    pair: Mapping[str, Any],
    width: float,
    length_total: float,
    detour: Any,
) -> Finding:
    zone = ctx.ref(zone_layer, zpos)
    ref = ctx.ref(layer, pos)
    length, line = pair.get("line", (0.0, None))
    area, geom, f_area, z_area = pair.get("area", (0.0, None, None, None))
    segs = _segments(line, layer.repaired[pos]) if line is not None else []
    values: dict[str, Any] = {
        **area_values(area, f_area, z_area),
        "zone": zone_text(zone),
        "length_m": length,
        "share_of_route_pct": 100 * length / length_total if length_total else None,
        "width_m": width,
        "segments": len(segs),
    }
    details: dict[str, Any] = {
        "length_m": round(length, 2),
        "width_m": width,
        "route_length_m": round(length_total, 2),
        "segments": segs,
    }
    if detour is not None and detour.is_found and detour.route is not None:
        outcome = "found"
        values["detour_length_m"] = round(float(detour.length_m), 2)
        values["extra_length_m"] = round(float(detour.extra_length_m), 2)
        details["alternative"] = detour.route
        details["extra_length_m"] = round(float(detour.extra_length_m), 2)
    elif detour is not None:
        outcome = "not_found"
        values["detour_reason_zh"] = detour.reason_zh
        values["detour_reason_en"] = detour.reason_en
    else:
        outcome = "not_tried"
    for lang in ("zh", "en"):
        values[f"detour_{lang}"] = render_template(_advice(rule, outcome, lang), values)
    zh = {"feature": feature_text(ref, layer.role, "zh")}
    en = {"feature": feature_text(ref, layer.role, "en")}
    if line is not None and width <= 0:
        details["width_missing"] = True
    finding = make_finding(
        rule,
        values,
        zh=zh,
        en=en,
        features=(ref,),
        related=(zone,),
        relation="crosses",
        area_m2=round(area, 2),
        share_of_feature=share(area, f_area),
        share_of_zone=share(area, z_area),
        measured=round(length, 2),
        limit=0.0,
        unit="m",
        geometry=geom if geom is not None else line,
        is_repaired=not bool(layer.is_valid[pos]),
        details=details,
    )
    if details.get("width_missing"):
        fld = str(rule.args.get("width_field", "KD"))
        finding = replace(
            finding,
            message_zh=f"{finding.message_zh}注意：该线路没有有效的{field_label(fld)}，占用面积按 0 m "
            f"宽计算，请补充{field_label(fld)}后重新审查。",
            message_en=f"{finding.message_en} Note: the route has no usable width ({fld}); "
            f"its area was taken at 0 m width. Fill in {fld} and review again.",
        )
    return finding


#: The review operators of this module, by name (registered in
#: :data:`guotu.domain.review.operators.OPERATORS`).
OPERATORS: Mapping[str, OperatorFunction] = {
    "forbid_overlap": forbid_overlap,
    "require_within": require_within,
    "route_conflict": route_conflict,
}

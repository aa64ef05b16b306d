"""What a review report looks like outside: the ``--json`` document and the report document.

:func:`review_json` is the machine interface (``guotu review … --json``): the stamp and the
findings with their geometry as GeoJSON in the workspace CRS. :func:`review_document` adds
what people read (titles, legal basis, summary, a small map per finding) for the writers of
:mod:`guotu.io.review_report` (HTML, PDF, XLSX, GeoPackage).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

import numpy as np
import shapely

from guotu.domain.quality import LayerData
from guotu.domain.roles import ROLES
from guotu.domain.rules.evaluate import FeatureRef, ReviewFinding
from guotu.domain.rules.pack import Rule
from guotu.services.review import ReviewReport

__all__ = ["finding_json", "review_document", "review_json", "summary"]

_TITLES = {
    "master-plan": ("总体规划用地成果审查报告", "Master-plan land-use review report"),
    "detailed-plan": ("详细规划成果审查报告", "Detailed-plan review report"),
    "special-plan": ("专项规划线位审查报告", "Special-plan route review report"),
    "project": ("建设项目规划符合性审查报告", "Construction-project compliance report"),
    "indicators": ("规划指标审查报告", "Plan indicator review report"),
}
_ROLE_NAMES = {r.id: (r.name_zh, r.name_en) for r in ROLES}


def geojson(geom: shapely.Geometry | None) -> dict[str, Any] | None:
    """A geometry as a GeoJSON dict (``None`` for none or empty)."""
    if geom is None or geom.is_empty:
        return None
    result: dict[str, Any] = json.loads(shapely.to_geojson(geom))
    return result


def _basis(rule: Rule | None) -> str:
    return rule.basis.text() if rule is not None else ""


def _num(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return round(float(value), 6)
    return value


def finding_json(f: ReviewFinding, lang: str, rules: dict[str, Rule]) -> dict[str, Any]:
    """One finding as the ``--json`` object (text in ``lang``)."""
    rule = rules.get(f.rule)
    details = {k: (geojson(v) if isinstance(v, shapely.Geometry) else v)
               for k, v in f.details.items()}
    return {
        "rule": f.rule, "severity": f.severity.value,
        "title": rule.title(lang) if rule else f.rule,
        "features": [r.to_dict() for r in f.features],
        "zone": f.zone.to_dict() if f.zone else None,
        "relation": f.relation,
        "area_m2": f.area_m2, "area_ha": None if f.area_m2 is None else round(f.area_m2 / 1e4, 6),
        "share_of_feature": f.share_of_feature, "share_of_zone": f.share_of_zone,
        "measured": _num(f.measured), "limit": _num(f.limit), "unit": f.unit,
        "message": f.message_zh if lang == "zh" else f.message_en,
        "suggestion": f.suggestion_zh if lang == "zh" else f.suggestion_en,
        "basis": _basis(rule), "repaired": f.is_repaired, "details": details,
        "geometry": geojson(f.geometry),
    }


def summary(report: ReviewReport) -> dict[str, Any]:
    """Totals by severity and by rule (count and conflict area)."""
    by_sev = Counter(f.severity.value for f in report.findings)
    by_rule = Counter(f.rule for f in report.findings)
    area: dict[str, float] = {}
    for f in report.findings:
        if f.area_m2 is not None and f.severity.value != "info":
            area[f.rule] = round(area.get(f.rule, 0.0) + f.area_m2, 2)
    return {"total": len(report.findings),
            "by_severity": {s: by_sev.get(s, 0) for s in ("error", "warning", "info")},
            "by_rule": dict(sorted(by_rule.items())), "area_m2_by_rule": dict(sorted(area.items()))}


def review_json(report: ReviewReport, lang: str = "zh") -> dict[str, Any]:
    """The ``--json`` document: stamp, findings (sorted), summary, skipped rules, repairs."""
    rules = {r.id: r for r in report.rules}
    return {
        "stamp": report.stamp(), "kind": report.kind, "source": report.source,
        "workspace": report.workspace, "crs": report.crs,
        "findings": [finding_json(f, lang, rules) for f in report.findings],
        "summary": summary(report),
        "skipped": [{"rule": s.rule, "reason": s.reason_zh if lang == "zh" else s.reason_en}
                    for s in report.skipped],
        "repairs": list(report.repairs),
    }


def _geometry_of(layers: dict[str, LayerData], ref: FeatureRef | None) -> shapely.Geometry | None:
    if ref is None or ref.fid is None or ref.layer not in layers:
        return None
    layer = layers[ref.layer]
    pos = np.flatnonzero(layer.fids == ref.fid)
    return layer.repaired[int(pos[0])] if len(pos) else None


def _map(f: ReviewFinding, layers: dict[str, LayerData], lang: str) -> dict[str, Any] | None:
    conflict = f.geometry
    feature = _geometry_of(layers, f.features[0]) if f.features else None
    zone = _geometry_of(layers, f.zone)
    alt = f.details.get("alternative")
    focus = [g for g in (conflict, feature, alt) if g is not None and not g.is_empty]
    if not focus:
        return None
    x0, y0, x1, y1 = shapely.total_bounds(np.array(focus, dtype=object))
    pad = max(60.0, 0.25 * max(x1 - x0, y1 - y0))
    bbox = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    box = shapely.box(*bbox)

    def clip(g: shapely.Geometry | None) -> list[dict[str, Any]]:
        if g is None or g.is_empty:
            return []
        out = geojson(shapely.intersection(g, box))
        return [out] if out else []

    zh = lang == "zh"
    layers_out = []
    if f.zone is not None:
        role = layers[f.zone.layer].role if f.zone.layer in layers else ""
        name = _ROLE_NAMES.get(role, (f.zone.layer, f.zone.layer))[0 if zh else 1]
        layers_out.append({"name": name, "role": "zone", "geometries": clip(zone)})
    if f.features:
        ref = f.features[0]
        role = layers[ref.layer].role if ref.layer in layers else ""
        name = _ROLE_NAMES.get(role, (ref.layer, ref.layer))[0 if zh else 1]
        layers_out.append({"name": name, "role": "feature", "geometries": clip(feature)})
    layers_out.append({"name": "冲突范围" if zh else "Conflict", "role": "conflict",
                       "geometries": clip(conflict)})
    if alt is not None:
        layers_out.append({"name": "建议线位" if zh else "Suggested route", "role": "alternative",
                           "geometries": clip(alt)})
    return {"bbox": [round(v, 3) for v in bbox], "layers": layers_out}


def review_document(report: ReviewReport, lang: str = "zh",
                    layers: dict[str, LayerData] | None = None) -> dict[str, Any]:
    """The report document the HTML/PDF/XLSX/GeoPackage writers take."""
    doc = review_json(report, lang)
    rules = {r.id: r for r in report.rules}
    counts = Counter(f.rule for f in report.findings)
    doc["lang"] = lang
    doc["title"] = _TITLES[report.kind][0 if lang == "zh" else 1]
    doc["generated_at"] = datetime.now().astimezone().isoformat(timespec="seconds")
    doc["stamp"] = {**doc["stamp"], "data_versions": report.stamp()["data_versions"]}
    doc["rules"] = [{"id": r.id, "title": r.title(lang), "severity": r.severity.value,
                     "basis": r.basis.text(), "count": counts.get(r.id, 0)}
                    for r in report.rules]
    if layers:
        for out, f in zip(doc["findings"], report.findings, strict=True):
            m = _map(f, layers, lang)
            if m is not None:
                out["map"] = m
    for out in doc["findings"]:
        out["basis"] = _basis(rules.get(out["rule"]))
    return doc

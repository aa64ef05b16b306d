"""What a review report looks like outside: the ``--json`` document and the report document.

:func:`review_json` is the machine interface (``guotu review … --json``): the stamp and the
findings with their geometry as GeoJSON in the workspace CRS. :func:`review_document` adds
what people read (titles, legal basis, summary, a small map per finding) for the writers of
:mod:`guotu.io.review_report` (HTML, PDF, XLSX, GeoPackage).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from typing import Any

import numpy as np
import shapely

from guotu.domain.classification import code_label
from guotu.domain.model import VersionStatus
from guotu.domain.quality import LayerData
from guotu.domain.roles import ROLES
from guotu.domain.rules.evaluate import FeatureRef, ReviewFinding
from guotu.domain.rules.pack import Rule
from guotu.domain.topology import validity_reason
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


_STATUS_NAMES = {VersionStatus.DRAFTING: ("编制中", "drafting"),
                 VersionStatus.PUBLICITY: ("公示", "in publicity"),
                 VersionStatus.SUBMITTED: ("报批", "submitted"),
                 VersionStatus.APPROVED: ("已批复", "approved"),
                 VersionStatus.AMENDED: ("已修改", "amended"),
                 VersionStatus.REPEALED: ("已废止", "repealed")}
#: ``{plan} {label}（{status}[，{date} 起施行]）`` as written by the review service.
_VERSION_TEXT = re.compile(r"^(?P<plan>.+) (?P<label>\S+)（(?P<status>[a-z]+)(?P<rest>[^）]*)）$")


def _layer_names(report: ReviewReport, layers: dict[str, LayerData] | None,
                 lang: str) -> dict[str, str]:
    """Each layer's role name (生态保护红线 …), by layer name."""
    names = {}
    for name, data in {**report.layers, **(layers or {})}.items():
        pair = _ROLE_NAMES.get(data.role)
        if pair is not None:
            names[name] = pair[0 if lang == "zh" else 1]
    return names


def _version_text(layer: str, raw: str, lang: str) -> str:
    """A data version as a planner reads it: the automatic plan name ``layer:GHYD`` left
    out, the status in words (``v1（已批复，2023-10-01 起施行）``)."""
    found = _VERSION_TEXT.match(raw)
    if found is None:
        return raw
    try:
        status = _STATUS_NAMES[VersionStatus(found["status"])][0 if lang == "zh" else 1]
    except ValueError:
        return raw
    rest = found["rest"]
    if lang != "zh":
        rest = re.sub(r"，(\S+) 起施行", r", in force from \1", rest)
    plan = found["plan"]
    shown = found["label"] if plan == f"layer:{layer}" else f"{plan} {found['label']}"
    return f"{shown}（{status}{rest}）" if lang == "zh" else f"{shown} ({status}{rest})"


def _code_name(code: Any, lang: str) -> str | None:
    """The label of a code (:func:`~guotu.domain.classification.code_label`); ``None`` for
    no code."""
    if not isinstance(code, str) or not code:
        return None
    zh, en = code_label(code)
    return zh if lang == "zh" else en


def _readable(out: dict[str, Any], f: ReviewFinding, rule: Rule | None,
              names: dict[str, str], lang: str) -> None:
    """Add what a reader needs to a finding of the document: layer names, code names and
    whether the limit is only the rule's area tolerance."""
    for ref in [*out["features"], *([out["zone"]] if out["zone"] else [])]:
        if ref.get("layer") in names:
            ref["layer_name"] = names[ref["layer"]]
        if ref.get("code") and not ref.get("code_name"):
            ref["code_name"] = _code_name(ref["code"], lang)
    if f.unit == "code":
        out["measured_name"] = _code_name(f.measured, lang)
        out["limit_name"] = _code_name(f.limit, lang)
    tolerance = rule.tolerance.get("area_m2") if rule is not None else None
    if (f.unit == "m2" and tolerance is not None and f.limit == tolerance
            and f.area_m2 is not None and f.measured == f.area_m2):
        out["tolerance_m2"] = float(tolerance)


def review_document(report: ReviewReport, lang: str = "zh",
                    layers: dict[str, LayerData] | None = None) -> dict[str, Any]:
    """The report document the HTML/PDF/XLSX/GeoPackage writers take: the ``--json``
    document plus titles, legal basis, the rule pack's title, Chinese layer names and
    readable data versions, code names, tolerances and a small map per finding."""
    doc = review_json(report, lang)
    rules = {r.id: r for r in report.rules}
    counts = Counter(f.rule for f in report.findings)
    doc["lang"] = lang
    doc["title"] = _TITLES[report.kind][0 if lang == "zh" else 1]
    doc["generated_at"] = datetime.now().astimezone().isoformat(timespec="seconds")
    doc["stamp"] = {**doc["stamp"], "data_versions": report.stamp()["data_versions"]}
    doc["rule_pack_title"] = report.pack.title_zh if lang == "zh" else report.pack.title_en
    names = _layer_names(report, layers, lang)
    doc["data_versions"] = [{"layer": layer, "name": names.get(layer),
                             "version": _version_text(layer, raw, lang)}
                            for layer, raw in sorted(report.data_versions.items())]
    if report.source.startswith("workspace:"):
        name = report.source.removeprefix("workspace:")
        role = f"（{names[name]}）" if lang == "zh" and name in names else (
            f" ({names[name]})" if name in names else "")
        doc["source_label"] = (f"工作空间图层 {name}{role}" if lang == "zh"
                               else f"workspace layer {name}{role}")
    for out, f in zip(doc["findings"], report.findings, strict=True):
        _readable(out, f, rules.get(f.rule), names, lang)
    doc["repairs"] = [{**r, "reason": validity_reason(str(r.get("reason") or ""), lang)}
                      for r in doc["repairs"]]
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

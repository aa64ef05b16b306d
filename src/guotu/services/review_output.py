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
from pathlib import PurePath
from typing import Any

import numpy as np
import shapely

from guotu.domain.checks.feature_geometry import validity_reason
from guotu.domain.codes.classification import code_label
from guotu.domain.core.layers import LayerData, as_text
from guotu.domain.core.model import VersionStatus
from guotu.domain.core.plan_labels import is_implicit_plan, plan_version_label
from guotu.domain.core.roles import ROLES
from guotu.domain.review.evaluate import FeatureRef, ReviewFinding
from guotu.domain.review.pack import Rule
from guotu.services.review import LayerRead, ReviewReport

__all__ = [
    "finding_json",
    "review_document",
    "review_json",
    "source_label",
    "summary",
    "summary_text",
]

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
    details = {
        k: (geojson(v) if isinstance(v, shapely.Geometry) else v) for k, v in f.details.items()
    }
    return {
        "rule": f.rule,
        "severity": f.severity.value,
        "title": rule.title(lang) if rule else f.rule,
        "features": [r.to_dict() for r in f.features],
        "zone": f.zone.to_dict() if f.zone else None,
        "relation": f.relation,
        "area_m2": f.area_m2,
        "area_ha": None if f.area_m2 is None else round(f.area_m2 / 1e4, 6),
        "share_of_feature": f.share_of_feature,
        "share_of_zone": f.share_of_zone,
        "measured": _num(f.measured),
        "limit": _num(f.limit),
        "unit": f.unit,
        "message": f.message_zh if lang == "zh" else f.message_en,
        "suggestion": f.suggestion_zh if lang == "zh" else f.suggestion_en,
        "basis": _basis(rule),
        "repaired": f.is_repaired,
        "details": details,
        "geometry": geojson(f.geometry),
    }


def summary(report: ReviewReport) -> dict[str, Any]:
    """What the findings add up to, each count saying what it counts.

    ``total`` findings, ``by_severity`` (findings per severity), ``rules_run`` and
    ``rules_with_findings`` (rules, not findings); per rule: ``by_rule`` (findings of any
    severity), ``area_m2_by_rule`` (conflict area of its errors and warnings: a 提示 is
    not a conflict), and the same split by severity: ``by_rule_severity`` and
    ``area_m2_by_rule_severity`` (rule → severity → count or m²), so that a table row of
    one severity shows that severity's findings and area only.
    """
    by_sev = Counter(f.severity.value for f in report.findings)
    by_rule = Counter(f.rule for f in report.findings)
    split: dict[str, dict[str, int]] = {}
    area: dict[str, float] = {}
    split_area: dict[str, dict[str, float]] = {}
    for f in report.findings:
        sev = f.severity.value
        split.setdefault(f.rule, {})[sev] = split.get(f.rule, {}).get(sev, 0) + 1
        if f.area_m2 is None:
            continue
        cell = split_area.setdefault(f.rule, {})
        cell[sev] = round(cell.get(sev, 0.0) + f.area_m2, 2)
        if sev != "info":
            area[f.rule] = round(area.get(f.rule, 0.0) + f.area_m2, 2)
    return {
        "total": len(report.findings),
        "by_severity": {s: by_sev.get(s, 0) for s in ("error", "warning", "info")},
        "rules_run": len(report.rules),
        "rules_with_findings": len(by_rule),
        "by_rule": dict(sorted(by_rule.items())),
        "area_m2_by_rule": dict(sorted(area.items())),
        "by_rule_severity": dict(sorted(split.items())),
        "area_m2_by_rule_severity": dict(sorted(split_area.items())),
    }


def summary_text(report: ReviewReport, lang: str = "zh") -> str:
    """The one-sentence count of a review, saying what each number counts (findings, and the
    rules they come from).

    Examples
    --------
    >>> # summary_text(report) → '共 10 项问题（涉及 6 条规则，共运行 7 条规则）：错误 7，警告 1，提示 2。'
    """
    s = summary(report)
    sev = s["by_severity"]
    if lang == "en":
        return (
            f"{s['total']} findings (from {s['rules_with_findings']} of the "
            f"{s['rules_run']} rules run): {sev['error']} errors, {sev['warning']} "
            f"warnings, {sev['info']} notes."
        )
    return (
        f"共 {s['total']} 项问题（涉及 {s['rules_with_findings']} 条规则，共运行 "
        f"{s['rules_run']} 条规则）：错误 {sev['error']}，警告 {sev['warning']}，"
        f"提示 {sev['info']}。"
    )


def review_json(report: ReviewReport, lang: str = "zh") -> dict[str, Any]:
    """The ``--json`` document: stamp, findings (sorted), summary, skipped rules, repairs;
    ``source_label`` and ``data_versions`` say what was reviewed and read as a person reads
    it (:func:`~guotu.domain.core.plan_labels.plan_version_label`), ``source`` and the stamp keep
    the ids."""
    rules = {r.id: r for r in report.rules}
    return {
        "stamp": report.stamp(),
        "kind": report.kind,
        "source": report.source,
        "source_label": source_label(report, lang),
        "data_versions": [_read_json(r, lang) for r in report.reads],
        "workspace": report.workspace,
        "crs": report.crs,
        "findings": [finding_json(f, lang, rules) for f in report.findings],
        "summary": summary(report),
        "skipped": [
            {"rule": s.rule, "reason": s.reason_zh if lang == "zh" else s.reason_en}
            for s in report.skipped
        ],
        "repairs": list(report.repairs),
    }


def _geometry_of(layers: dict[str, LayerData], ref: FeatureRef | None) -> shapely.Geometry | None:
    if ref is None or ref.fid is None or ref.layer not in layers:
        return None
    layer = layers[ref.layer]
    pos = np.flatnonzero(layer.fids == ref.fid)
    return layer.repaired[int(pos[0])] if len(pos) else None


#: Features of the finding's own layer drawn around it, at most (the nearest first).
MAP_CONTEXT_FEATURES = 60


class _Maps:
    """The small map of each finding: the zones it is about, the features around it, the
    feature, the conflict and a suggested route, clipped to a box round the finding. Builds
    one spatial index per layer it draws from."""

    def __init__(self, layers: dict[str, LayerData], lang: str) -> None:
        self.layers = layers
        self.zh = lang != "en"
        self._trees: dict[str, shapely.STRtree] = {}

    def _near(self, layer: str, box: shapely.Geometry, focus: shapely.Geometry) -> np.ndarray:
        """Positions of the features of ``layer`` that meet ``box``, nearest to ``focus``
        (what the finding is about) first."""
        if layer not in self._trees:
            self._trees[layer] = shapely.STRtree(self.layers[layer].repaired)
        found = self._trees[layer].query(box, predicate="intersects")
        geoms = self.layers[layer].repaired[found]
        order = np.argsort(shapely.distance(geoms, focus), kind="stable")
        return np.asarray(found[order], dtype=np.intp)

    def _name(self, layer: str) -> str:
        role = self.layers[layer].role if layer in self.layers else ""
        return _ROLE_NAMES.get(role, (layer, layer))[0 if self.zh else 1]

    def _zones(
        self,
        f: ReviewFinding,
        rule: Rule | None,
        box: shapely.Geometry,
        focus: shapely.Geometry,
        clip: Any,
    ) -> list[dict[str, Any]]:
        """The zones the finding is about, and the others of its kind around it.

        A finding with a zone of its own (the red line it enters) draws that zone, with the
        other zones of the rule in the box as context (the nearest few). A ``must lie within``
        finding has none of its own: every zone of the rule in the box is the boundary it
        leaves. A rule on a sub-zone (特别用途区) draws that sub-zone only.
        """
        layer = (
            f.zone.layer
            if f.zone is not None
            else next(
                (
                    n
                    for n, d in self.layers.items()
                    if rule is not None and rule.zone_role and d.role == rule.zone_role
                ),
                None,
            )
        )
        if layer is None or layer not in self.layers:
            return []
        data = self.layers[layer]
        near = self._near(layer, box, focus)
        name = self._name(layer)
        if rule is not None and rule.zone_field and rule.zone_field in data.attributes:
            values = data.attributes[rule.zone_field]
            near = np.asarray(
                [p for p in near if as_text(values[p]) in rule.zone_values], dtype=np.intp
            )
            subs = dict(next((r.sub_zones for r in ROLES if r.id == data.role), ()))
            named = [subs[v] for v in rule.zone_values if v in subs]
            if named and self.zh:
                name = "、".join(named)
        if f.zone is None:
            geoms = [g for p in near for g in clip(data.repaired[p])]
            return [{"name": name, "role": "zone", "geometries": geoms}] if geoms else []
        own = [p for p in near if int(data.fids[p]) == f.zone.fid]
        others = [p for p in near if int(data.fids[p]) != f.zone.fid][:MAP_CONTEXT_FEATURES]
        out = []
        context = [g for p in others for g in clip(data.repaired[p])]
        if context:
            out.append(
                {
                    "name": f"其他{name}" if self.zh else f"Other {name.lower()}",
                    "role": "zone_context",
                    "geometries": context,
                }
            )
        geoms = [g for p in own for g in clip(data.repaired[p])]
        if geoms:
            out.append({"name": name, "role": "zone", "geometries": geoms})
        return out

    def _context(
        self, ref: FeatureRef, box: shapely.Geometry, focus: shapely.Geometry, clip: Any
    ) -> dict[str, Any] | None:
        """The other features of the finding's layer in the box (the nearest few)."""
        if ref.layer not in self.layers:
            return None
        data = self.layers[ref.layer]
        near = [p for p in self._near(ref.layer, box, focus) if int(data.fids[p]) != ref.fid]
        geoms = [g for p in near[:MAP_CONTEXT_FEATURES] for g in clip(data.repaired[p])]
        if not geoms:
            return None
        return {
            "name": f"周边{self._name(ref.layer)}"
            if self.zh
            else f"Neighbouring {self._name(ref.layer).lower()}",
            "role": "context",
            "geometries": geoms,
        }

    def of(self, f: ReviewFinding, rule: Rule | None) -> dict[str, Any] | None:
        """The map of ``f`` (``None`` when it has no geometry)."""
        conflict = f.geometry
        feature = _geometry_of(self.layers, f.features[0]) if f.features else None
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

        layers_out = self._zones(f, rule, box, focus[0], clip)
        if f.features:
            context = self._context(f.features[0], box, focus[0], clip)
            if context is not None:
                layers_out.append(context)
            layers_out.append(
                {
                    "name": self._name(f.features[0].layer),
                    "role": "feature",
                    "geometries": clip(feature),
                }
            )
        layers_out.append(
            {
                "name": "冲突范围" if self.zh else "Conflict",
                "role": "conflict",
                "geometries": clip(conflict),
            }
        )
        if alt is not None:
            layers_out.append(
                {
                    "name": "建议线位" if self.zh else "Suggested route",
                    "role": "alternative",
                    "geometries": clip(alt),
                }
            )
        return {"bbox": [round(v, 3) for v in bbox], "layers": layers_out}


_STATUS_NAMES = {
    VersionStatus.DRAFTING: ("编制中", "drafting"),
    VersionStatus.PUBLICITY: ("公示", "in publicity"),
    VersionStatus.SUBMITTED: ("报批", "submitted"),
    VersionStatus.APPROVED: ("已批复", "approved"),
    VersionStatus.AMENDED: ("已修改", "amended"),
    VersionStatus.REPEALED: ("已废止", "repealed"),
}


def _status_label(read: LayerRead, lang: str) -> str:
    """The state of a version read: ``已批复，2023-10-01 起施行``, ``指定版本``, or that the
    layer has no version."""
    zh = lang != "en"
    if read.version is None:
        return "未登记版本（导入的图层）" if zh else "no recorded version (imported layer)"
    if read.is_pinned:
        return "指定版本" if zh else "version named"
    try:
        status = _STATUS_NAMES[VersionStatus(read.status or "")][0 if zh else 1]
    except ValueError:
        status = read.status or ""
    if read.valid_from is None:
        return status
    day = read.valid_from.isoformat()
    return f"{status}，{day} 起施行" if zh else f"{status}, in force from {day}"


def _read_label(read: LayerRead, lang: str) -> str:
    """A layer read as a person reads it: the plan and version it belongs to
    (:func:`~guotu.domain.core.plan_labels.plan_version_label`), with the layer when the plan is
    the bureau's own (``示范县国土空间总体规划 2021版（规划用地 GHYD）``; an implicit plan already
    names its layer: ``GHYD（规划用地）数据 v1``)."""
    text = plan_version_label(read.plan, read.version, lang, role=read.role)
    if read.plan and not is_implicit_plan(read.plan):
        name = _ROLE_NAMES.get(read.role, (read.layer, read.layer))[0 if lang != "en" else 1]
        text += f"（{name} {read.layer}）" if lang != "en" else f" ({name} {read.layer})"
    return text


def _read_json(read: LayerRead, lang: str) -> dict[str, Any]:
    """One layer read, for people (``label``, ``status_label``) and machines (ids)."""
    names = _ROLE_NAMES.get(read.role)
    return {
        "layer": read.layer,
        "role": read.role,
        "name": None if names is None else names[0 if lang != "en" else 1],
        "plan": read.plan,
        "version": read.version,
        "status": read.status,
        "plan_version_label": plan_version_label(read.plan, read.version, lang, role=read.role),
        "label": _read_label(read, lang),
        "status_label": _status_label(read, lang),
    }


def source_label(report: ReviewReport, lang: str = "zh") -> str:
    """What was reviewed, as a person reads it: the plan and version of the layer reviewed
    (:func:`_read_label`), else the name of the file reviewed."""
    if report.subject is None:
        return PurePath(report.source.replace("\\", "/")).name or report.source
    return _read_label(report.subject, lang)


def _layer_names(
    report: ReviewReport, layers: dict[str, LayerData] | None, lang: str
) -> dict[str, str]:
    """Each layer's role name (生态保护红线 …), by layer name."""
    names = {}
    for name, data in {**report.layers, **(layers or {})}.items():
        pair = _ROLE_NAMES.get(data.role)
        if pair is not None:
            names[name] = pair[0 if lang == "zh" else 1]
    return names


def _code_name(code: Any, lang: str) -> str | None:
    """The label of a code (:func:`~guotu.domain.codes.classification.code_label`); ``None`` for
    no code."""
    if not isinstance(code, str) or not code:
        return None
    zh, en = code_label(code)
    return zh if lang == "zh" else en


def _readable(
    out: dict[str, Any], f: ReviewFinding, rule: Rule | None, names: dict[str, str], lang: str
) -> None:
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
    if (
        f.unit == "m2"
        and tolerance is not None
        and f.limit == tolerance
        and f.area_m2 is not None
        and f.measured == f.area_m2
    ):
        out["tolerance_m2"] = float(tolerance)


def review_document(
    report: ReviewReport, lang: str = "zh", layers: dict[str, LayerData] | None = None
) -> dict[str, Any]:
    """The report document the HTML/PDF/XLSX/GeoPackage writers take: the ``--json``
    document plus titles, legal basis, the rule pack's title, Chinese layer names, code
    names, tolerances, the counts and areas of each rule by severity and a small map per
    finding (its zones and surroundings too, when ``layers`` are given)."""
    doc = review_json(report, lang)
    rules = {r.id: r for r in report.rules}
    split = doc["summary"]["by_rule_severity"]
    split_area = doc["summary"]["area_m2_by_rule_severity"]
    doc["lang"] = lang
    doc["title"] = _TITLES[report.kind][0 if lang == "zh" else 1]
    doc["generated_at"] = datetime.now().astimezone().isoformat(timespec="seconds")
    doc["rule_pack_title"] = report.pack.title_zh if lang == "zh" else report.pack.title_en
    names = _layer_names(report, layers, lang)
    for out, f in zip(doc["findings"], report.findings, strict=True):
        _readable(out, f, rules.get(f.rule), names, lang)
    doc["repairs"] = [
        {**r, "reason": validity_reason(str(r.get("reason") or ""), lang)} for r in doc["repairs"]
    ]
    doc["rules"] = [
        {
            "id": r.id,
            "title": r.title(lang),
            "severity": r.severity.value,
            "basis": r.basis.text(),
            "count": sum(split.get(r.id, {}).values()),
            "by_severity": dict(split.get(r.id, {})),
            "area_m2_by_severity": dict(split_area.get(r.id, {})),
        }
        for r in report.rules
    ]
    if layers:
        maps = _Maps(layers, lang)
        for out, f in zip(doc["findings"], report.findings, strict=True):
            m = maps.of(f, rules.get(f.rule))
            if m is not None:
                out["map"] = m
    for out in doc["findings"]:
        out["basis"] = _basis(rules.get(out["rule"]))
    return doc

"""What a review report looks like outside: the ``--json`` document and the report document.

:func:`review_json` is the machine interface (``guotu review … --json``, the web API): the
stamp and the findings with their geometry as GeoJSON in the workspace CRS; it is the only
place a review becomes JSON. :func:`review_document` builds what people read, a typed
:class:`~guotu.io.review_model.ReviewDocument` (titles, legal basis, names of layers and
codes, a small map per finding, shapely geometries and the pyproj CRS), for the writers of
:mod:`guotu.io.review_report` (HTML, PDF, XLSX, GeoPackage).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import PurePath
from typing import Any

import numpy as np
import shapely

from guotu.domain.checks.feature_geometry import validity_reason
from guotu.domain.codes.classification import code_label, ydyh_2023
from guotu.domain.core.findings import SEVERITY_ORDER, FeatureRef, Finding
from guotu.domain.core.layers import LayerData
from guotu.domain.core.model import VersionStatus
from guotu.domain.core.plan_labels import is_implicit_plan, plan_version_label
from guotu.domain.core.roles import ROLE_NAMES, role_name
from guotu.domain.review.pack import Rule, pack_hash
from guotu.io.review_model import (
    DataVersion,
    ReportFeature,
    ReportFinding,
    ReportRepair,
    ReportRule,
    ReportSkipped,
    ReviewDocument,
    Stamp,
)
from guotu.services.access import RESTRICTED_NOTE
from guotu.services.review import LayerRead, ReviewReport
from guotu.services.review_maps import FindingMaps

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


def _code_json_name(code: str) -> str | None:
    found = ydyh_2023().get(code)
    return found.name_zh if found else None


def feature_json(ref: FeatureRef) -> dict[str, Any]:
    """A feature a finding names, as the ``--json`` object (with the code's name when it
    has a code)."""
    out: dict[str, Any] = {
        "layer": ref.layer,
        "fid": ref.fid,
        "id_field": ref.id_field,
        "id_value": ref.id_value,
    }
    if ref.code is not None:
        out["code"] = ref.code
        out["code_name"] = _code_json_name(ref.code)
    return out


def finding_json(f: Finding, lang: str, rules: Mapping[str, Rule]) -> dict[str, Any]:
    """One finding as the ``--json`` object (text in ``lang``)."""
    rule = rules.get(f.rule)
    details = {
        k: (geojson(v) if isinstance(v, shapely.Geometry) else v) for k, v in f.details.items()
    }
    return {
        "rule": f.rule,
        "severity": f.severity.value,
        "title": rule.title(lang) if rule else f.rule,
        "features": [feature_json(r) for r in f.features],
        "zone": feature_json(f.zone) if f.zone else None,
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
        "by_severity": {s.value: by_sev.get(s.value, 0) for s in SEVERITY_ORDER},
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
        "crs": report.crs.to_string(),
        "findings": [finding_json(f, lang, rules) for f in report.findings],
        "summary": summary(report),
        "skipped": [
            {"rule": s.rule, "reason": s.reason_zh if lang == "zh" else s.reason_en}
            for s in report.skipped
        ],
        "repairs": [
            {
                "layer": r.layer,
                "fid": r.fid,
                "feature": r.feature.label(),
                "reason": r.reason,
                "area_before_m2": round(r.area_before_m2, 2),
                "area_after_m2": round(r.area_after_m2, 2),
            }
            for r in report.repairs
        ],
        "restricted_layers_omitted": report.restricted_layers_omitted,
        **({"restricted_note": dict(RESTRICTED_NOTE)} if report.restricted_layers_omitted else {}),
    }


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
        name = role_name(read.role, lang, default=read.layer)
        text += f"（{name} {read.layer}）" if lang != "en" else f" ({name} {read.layer})"
    return text


def _read_json(read: LayerRead, lang: str) -> dict[str, Any]:
    """One layer read, for people (``label``, ``status_label``) and machines (ids)."""
    return {
        "layer": read.layer,
        "role": read.role,
        "name": role_name(read.role, lang) if read.role in ROLE_NAMES else None,
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
    report: ReviewReport, layers: Mapping[str, LayerData] | None, lang: str
) -> dict[str, str]:
    """Each layer's role name (生态保护红线 …), by layer name."""
    return {
        name: role_name(data.role, lang)
        for name, data in {**report.layers, **(layers or {})}.items()
        if data.role in ROLE_NAMES
    }


def _code_name(code: Any, lang: str) -> str | None:
    """The label of a code (:func:`~guotu.domain.codes.classification.code_label`); ``None`` for
    no code."""
    if not isinstance(code, str) or not code:
        return None
    zh, en = code_label(code)
    return zh if lang == "zh" else en


def _feature(ref: FeatureRef, names: Mapping[str, str], lang: str) -> ReportFeature:
    """A feature of a finding with its layer's role name and its code's name (the 用地用海
    name as ``--json`` gives it, else the code's label in ``lang``)."""
    code_name = None
    if ref.code:
        code_name = _code_json_name(ref.code) or _code_name(ref.code, lang)
    return ReportFeature(
        ref.layer, ref.fid, ref.id_field, ref.id_value, ref.code, code_name, names.get(ref.layer)
    )


def _tolerance(f: Finding, rule: Rule | None) -> float | None:
    """The rule's area tolerance when it is all the finding's limit says (the measured value
    is then the conflict area)."""
    tolerance = rule.tolerance.get("area_m2") if rule is not None else None
    if (
        f.unit == "m2"
        and tolerance is not None
        and f.limit == tolerance
        and f.area_m2 is not None
        and f.measured == f.area_m2
    ):
        return float(tolerance)
    return None


def _report_finding(
    f: Finding, rule: Rule | None, names: Mapping[str, str], lang: str
) -> ReportFinding:
    is_code = f.unit == "code"
    geometry = f.geometry if f.geometry is not None and not f.geometry.is_empty else None
    return ReportFinding(
        rule=f.rule,
        severity=f.severity,
        title=rule.title(lang) if rule else f.rule,
        features=tuple(_feature(r, names, lang) for r in f.features),
        zone=_feature(f.zone, names, lang) if f.zone else None,
        relation=f.relation,
        area_m2=f.area_m2,
        share_of_feature=f.share_of_feature,
        share_of_zone=f.share_of_zone,
        measured=_num(f.measured),
        limit=_num(f.limit),
        unit=f.unit,
        measured_name=_code_name(f.measured, lang) if is_code else None,
        limit_name=_code_name(f.limit, lang) if is_code else None,
        tolerance_m2=_tolerance(f, rule),
        message=f.message(lang),
        suggestion=f.suggestion(lang),
        basis=_basis(rule),
        is_repaired=f.is_repaired,
        geometry=geometry,
    )


def review_document(
    report: ReviewReport, lang: str = "zh", layers: Mapping[str, LayerData] | None = None
) -> ReviewDocument:
    """The report document the HTML/PDF/XLSX/GeoPackage writers read: what was reviewed and
    the stamp, titles and legal basis in ``lang``, the rule pack's title, the layers' and
    codes' names, tolerances and a small map per finding (its zones and surroundings too,
    when ``layers`` are given).
    """
    rules = {r.id: r for r in report.rules}
    names = _layer_names(report, layers, lang)
    maps = FindingMaps(layers, lang) if layers else None
    findings = []
    for f in report.findings:
        rule = rules.get(f.rule)
        found = _report_finding(f, rule, names, lang)
        drawn = maps.of(f, rule) if maps is not None else None
        findings.append(found if drawn is None else replace(found, map=drawn))
    return ReviewDocument(
        lang=lang,
        title=_TITLES[report.kind][0 if lang == "zh" else 1],
        kind=report.kind,
        source=report.source,
        source_label=source_label(report, lang),
        workspace=report.workspace,
        crs=report.crs,
        generated_at=datetime.now().astimezone().replace(microsecond=0),
        stamp=Stamp(
            report.pack.id,
            report.pack.version,
            report.pack.profile,
            pack_hash(report.pack),
            report.as_of,
            report.known_at,
        ),
        rule_pack_title=report.pack.title_zh if lang == "zh" else report.pack.title_en,
        data_versions=tuple(_data_version(r, lang) for r in report.reads),
        rules=tuple(
            ReportRule(r.id, r.title(lang), r.severity, r.basis.text()) for r in report.rules
        ),
        findings=tuple(findings),
        skipped=tuple(ReportSkipped(s.rule, s.reason(lang)) for s in report.skipped),
        repairs=tuple(
            ReportRepair(
                r.layer,
                r.feature.label(),
                validity_reason(r.reason, lang),
                round(r.area_before_m2, 2),
                round(r.area_after_m2, 2),
            )
            for r in report.repairs
        ),
    )


def _data_version(read: LayerRead, lang: str) -> DataVersion:
    return DataVersion(
        layer=read.layer,
        name=role_name(read.role, lang) if read.role in ROLE_NAMES else None,
        label=_read_label(read, lang),
        plan_version_label=plan_version_label(read.plan, read.version, lang, role=read.role),
        status_label=_status_label(read, lang),
        version=read.version,
    )

"""The automatic steps of a procedure: what the system does when a case enters an
``automatic`` stage, and the outcome it records.

* ``review_project``: the site and its planned indicators are reviewed against the one map
  as it stood on the application date (``guotu review project``, the same rule pack). An
  error-level finding makes the case ``non_compliant`` (to 补正), warnings only
  ``conditional`` (where the stage has that outcome), none ``compliant``. Never silently on.
* ``verify_as_built`` (规划核实): the latest 竣工测量 material of the case is compared with
  what the permit allowed (:mod:`guotu.domain.workflow.as_built`); a case without a survey,
  or with one that exceeds a condition beyond its tolerance, is ``non_compliant``.

The result's details (counts, the findings or the comparison, the data versions and rule
pack) go on the record with the outcome, so the case page and the decision document show
what the system saw.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import shapely

from guotu.domain.workflow.definition import Stage
from guotu.domain.workflow.records import ApprovalCase
from guotu.ports import FeatureStore
from guotu.services.review import ReviewOptions, review_plan
from guotu.services.review_source import SourceFile

__all__ = ["run_action"]
_FINDINGS_KEPT = 20


def _site_file(case: ApprovalCase, store: FeatureStore, folder: Path) -> Path:
    crs = store.crs
    props: dict[str, Any] = {"XMMC": case.project, "XMDM": case.id}
    props.update(case.detail.get("indicators", {}))
    feature = {
        "type": "Feature",
        "properties": props,
        "geometry": json.loads(shapely.to_geojson(shapely.from_wkt(case.site_wkt))),
    }
    doc: dict[str, Any] = {"type": "FeatureCollection", "features": [feature]}
    if crs is not None and crs.to_epsg() is not None:
        doc["crs"] = {
            "type": "name",
            "properties": {"name": f"urn:ogc:def:crs:EPSG::{crs.to_epsg()}"},
        }
    path = folder / f"{case.id}.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


#: The documents whose 规划条件 come from the detailed plan (城乡规划法 第三十八条、第四十条 as
#: cited by the rule pack; not verified here): a site no detailed plan in force on the
#: application date covers has no conditions to permit against.
_NEEDS_DETAILED_PLAN = ("建设用地规划许可证", "建设工程规划许可证")
#: The share of the site the detailed plan's parcels must cover.
_COVERED_SHARE = 0.99


def _uncovered(store: FeatureStore, case: ApprovalCase) -> dict[str, Any] | None:
    """A finding when no detailed plan in force on the application date covers the site."""
    site = shapely.from_wkt(case.site_wkt)
    layers = store.layers_with_role("detailed_parcel")
    covered = 0.0
    if layers and site.area > 0:
        parcels = store.read_layer(layers[0].name, bbox=site.bounds, as_of=case.application_date)
        if len(parcels):
            union = shapely.union_all(parcels.geometry.values)
            covered = union.intersection(site).area / site.area
    if covered >= _COVERED_SHARE:
        return None
    day = case.application_date.isoformat()
    return {
        "rule": "approval.detailed_plan_coverage",
        "severity": "error",
        "message_zh": f"用地范围仅 {covered:.0%} 位于 {day} 现行的详细规划地块内，"
        "无法据详细规划确定规划条件。",
        "message_en": f"Only {covered:.0%} of the site lies in detailed-plan parcels in force "
        f"on {day}: there are no planning conditions to permit against.",
        "suggestion_zh": "请核对用地范围和申请日期；详细规划未覆盖的，应先依法编制或修改详细规划。",
        "area_m2": round(site.area * (1 - covered), 2),
    }


def _review(
    store: FeatureStore, case: ApprovalCase, stage: Stage, issues: set[str]
) -> tuple[str, dict[str, Any], str]:
    with tempfile.TemporaryDirectory(prefix="guotu-case-") as tmp:
        path = _site_file(case, store, Path(tmp))
        crs = store.crs
        from guotu.services.review_source import ImportOptions

        options = ImportOptions(crs=None if crs is None else f"EPSG:{crs.to_epsg()}")
        report = review_plan(
            store,
            "project",
            SourceFile(path, options),
            ReviewOptions(as_of=case.application_date),
        )
    errors = [f for f in report.findings if str(f.severity) in ("error", "Severity.ERROR")]
    warnings = [f for f in report.findings if str(f.severity) in ("warning", "Severity.WARNING")]
    extra = _uncovered(store, case) if issues & set(_NEEDS_DETAILED_PLAN) else None
    if errors or extra is not None:
        outcome = "non_compliant"
    elif warnings and "conditional" in stage.outcomes:
        outcome = "conditional"
    else:
        outcome = "compliant"
    stamp = report.stamp()
    detail = {
        "action": "review_project",
        "errors": len(errors) + (extra is not None),
        "warnings": len(warnings),
        "rules": len(report.rules),
        "skipped": len(report.skipped),
        "findings": ([] if extra is None else [extra])
        + [_finding(f) for f in [*errors, *warnings][:_FINDINGS_KEPT]],
        "rule_pack": stamp["rule_pack"],
        "rule_pack_version": stamp["rule_pack_version"],
        "as_of": stamp["as_of"],
        "data_versions": stamp["data_versions"],
    }
    note = (
        f"自动审查：{len(report.rules)} 条规则，{len(errors) + (extra is not None)} 项不符合，"
        f"{len(warnings)} 项提示"
        f"（一张图截至 {case.application_date.isoformat()}）"
    )
    return outcome, detail, note


def _finding(f: Any) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "severity": str(getattr(f.severity, "value", f.severity)),
        "message_zh": f.message_zh,
        "message_en": f.message_en,
        "suggestion_zh": f.suggestion_zh,
        "area_m2": None if f.area_m2 is None else round(float(f.area_m2), 2),
    }


def _as_built(store: FeatureStore, case: ApprovalCase) -> tuple[str, dict[str, Any], str]:
    from guotu.services.approval_as_built import verify_case

    outcome, detail, note = verify_case(store, case)
    return str(outcome), dict(detail), str(note)


def run_action(
    store: FeatureStore, case: ApprovalCase, stage: Stage, issues: set[str] | None = None
) -> tuple[str, Mapping[str, Any], str]:
    """Do ``stage``'s action for ``case``: the outcome, its details, a sentence for the
    record. ``issues``: the documents the procedure issues (a permit whose conditions come
    from the detailed plan asks the site to be covered by one)."""
    if stage.action == "review_project":
        return _review(store, case, stage, issues or set())
    if stage.action == "verify_as_built":
        return _as_built(store, case)
    raise AssertionError(f"unknown action {stage.action}")  # the schema allows no other

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


def _review(
    store: FeatureStore, case: ApprovalCase, stage: Stage
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
    if errors:
        outcome = "non_compliant"
    elif warnings and "conditional" in stage.outcomes:
        outcome = "conditional"
    else:
        outcome = "compliant"
    stamp = report.stamp()
    detail = {
        "action": "review_project",
        "errors": len(errors),
        "warnings": len(warnings),
        "rules": len(report.rules),
        "skipped": len(report.skipped),
        "findings": [_finding(f) for f in [*errors, *warnings][:_FINDINGS_KEPT]],
        "rule_pack": stamp["rule_pack"],
        "rule_pack_version": stamp["rule_pack_version"],
        "as_of": stamp["as_of"],
        "data_versions": stamp["data_versions"],
    }
    note = (
        f"自动审查：{len(report.rules)} 条规则，{len(errors)} 项不符合，{len(warnings)} 项提示"
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
    store: FeatureStore, case: ApprovalCase, stage: Stage
) -> tuple[str, Mapping[str, Any], str]:
    """Do ``stage``'s action for ``case``: the outcome, its details, a sentence for the
    record."""
    if stage.action == "review_project":
        return _review(store, case, stage)
    if stage.action == "verify_as_built":
        return _as_built(store, case)
    raise AssertionError(f"unknown action {stage.action}")  # the schema allows no other

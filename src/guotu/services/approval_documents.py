"""The document a closed case issues (意见书、许可证、核实意见、不予许可决定书), and its public
verification.

When a case reaches an end stage that ``issues`` a document, the document is made from the
record: the applicant and site, the one-map excerpt around the site (the detailed plan's
parcels as of the application date), the planning conditions of the parcel the site lies
mostly in, the automatic review's summary, each department's opinion and conditions, the
legal basis (unverified citations marked so), the data versions and rule pack the review
used, a serial number and a QR code of its permanent verification address. The PDF is kept
with the case's materials (its bytes never change) and an ``issued`` event records its
serial number and verification id.

The verification page (:func:`verify_document`) answers anyone with the id: for a case the
bureau made public (公开) the document's number, title, project, holder and date; for
another case only that the number is genuine.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import shapely

from guotu.domain.workflow.case import CaseEvent
from guotu.domain.workflow.definition import LegalBasis, Stage, Workflow
from guotu.domain.workflow.records import ApprovalCase, RecordedEvent
from guotu.errors import NotFoundError
from guotu.io.decision_model import (
    AsBuiltCheck,
    Bound,
    DataSource,
    DecisionDocument,
    DecisionKind,
    DepartmentOpinion,
    Opinion,
    PlanningCondition,
    ReviewResult,
    RuleOutcome,
    RulePackStamp,
    ZoneExcerpt,
)
from guotu.io.decision_pdf import render_decision_pdf
from guotu.ports import FeatureStore
from guotu.services.approval_setup import SYSTEM, ApprovalSetup, case_flow, replay, status_of

__all__ = ["DOCUMENT_MATERIAL", "decision_document", "issue_document", "verify_document"]

#: The material name issued documents are kept under.
DOCUMENT_MATERIAL = "决定文书"
_KIND_BY_WORKFLOW = {
    "cn-siting-preexam": DecisionKind.SITE_SELECTION,
    "cn-land-use-permit": DecisionKind.LAND_USE_PERMIT,
    "cn-construction-permit": DecisionKind.CONSTRUCTION_PERMIT,
    "cn-rural-construction-permit": DecisionKind.RURAL_PERMIT,
    "cn-completion-verification": DecisionKind.AS_BUILT_VERIFICATION,
}
#: The character of a serial number (建字第…号), by kind.
_SERIAL_WORD = {
    DecisionKind.SITE_SELECTION: "选",
    DecisionKind.LAND_USE_PERMIT: "地",
    DecisionKind.CONSTRUCTION_PERMIT: "建",
    DecisionKind.RURAL_PERMIT: "乡",
    DecisionKind.AS_BUILT_VERIFICATION: "核",
    DecisionKind.REFUSAL: "不许",
}
#: What a refusal tells the applicant (行政许可法 第三十八条第二款 as commonly quoted: a refusal
#: states its reasons and the right to 行政复议 or 行政诉讼; the article's text is not verified
#: here, so neither is the time limit named: docs/design/workflow-research.md).
_REFUSAL_NOTICE = (
    "申请人对本决定不服的，可以依法申请行政复议或者提起行政诉讼（《中华人民共和国行政许可法》"
    "第三十八条第二款；依据条文未经核对，申请期限以法律规定为准）。"
)
_CONDITIONS = ("RJL", "JZMD", "LDL", "JZXG")
_CONDITION_NAMES = {
    "RJL": ("容积率", ""),
    "JZMD": ("建筑密度", "%"),
    "LDL": ("绿地率", "%"),
    "JZXG": ("建筑限高", "m"),
}
_BOUND = {"RJL": "≤", "JZMD": "≤", "LDL": "≥", "JZXG": "≤"}


def _kind(flow: Workflow, stage: Stage) -> DecisionKind:
    refusal = stage.id != "issued" and "不" in (stage.issues or "")
    if refusal and flow.id != "cn-completion-verification":
        return DecisionKind.REFUSAL
    base = flow.extends or flow.id
    return _KIND_BY_WORKFLOW.get(base, DecisionKind.CONSTRUCTION_PERMIT)


def _parcels(
    store: FeatureStore, case: ApprovalCase
) -> tuple[list[ZoneExcerpt], list[PlanningCondition]]:
    site = shapely.from_wkt(case.site_wkt)
    layers = store.layers_with_role("detailed_parcel")
    if not layers:
        return [], []
    x0, y0, x1, y1 = site.buffer(150).bounds
    frame = store.read_layer(layers[0].name, bbox=(x0, y0, x1, y1), as_of=case.application_date)
    zones, best, best_area = [], None, 0.0
    for _, row in frame.iterrows():
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        code = str(row.get("YDYHFLDM") or "")
        label = str(row.get("DKBH") or "")
        zones.append(ZoneExcerpt(label, code, "#e8e4d8", geom))
        shared = geom.intersection(site).area
        if shared > best_area:
            best, best_area = row, shared
    conditions = []
    if best is not None:
        for key in _CONDITIONS:
            value = best.get(key)
            if value is None or value != value:
                continue
            name, unit = _CONDITION_NAMES[key]
            conditions.append(
                PlanningCondition(
                    name, f"{_BOUND[key]}{float(value):g}", unit, f"详细规划地块 {best.get('DKBH')}"
                )
            )
    return zones, conditions


def _opinions(
    store: FeatureStore, events: Sequence[RecordedEvent], known: Mapping[str, str]
) -> list[DepartmentOpinion]:
    names = {**known, **{d.id: d.name for d in store.departments()}}
    out = []
    for e in events:
        if e.event.kind == "opinion":
            text = "；".join(e.detail.get("conditions", [])) or e.event.note
            dept = names.get(e.event.department, e.event.department)
            out.append(DepartmentOpinion(dept, Opinion(e.event.value), text, e.event.at.date()))
    return out


def _review(events: Sequence[RecordedEvent]) -> tuple[list[ReviewResult], dict[str, Any]]:
    last = next((e for e in reversed(events) if e.event.kind == "review"), None)
    if last is None:
        return [], {}
    d = last.detail
    results = [
        ReviewResult(
            f["rule"],
            RuleOutcome.FAILED if f["severity"] == "error" else RuleOutcome.WARNING,
            f["message_zh"],
        )
        for f in d.get("findings", [])
    ]
    if not results and d.get("action") == "review_project":
        results = [
            ReviewResult(f"规则包 {d.get('rule_pack')}", RuleOutcome.PASSED, "全部规则未发现问题")
        ]
    return results, dict(d)


def _as_built(detail: dict[str, Any]) -> list[AsBuiltCheck]:
    return [
        AsBuiltCheck(
            i["name_zh"] + (f"（{i['building_id']}）" if i.get("building_id") else ""),
            float(i["permitted"]),
            None if i.get("measured") is None else float(i["measured"]),
            bool(i["passed"]),
            float(i.get("tolerance") or 0.0),
            i.get("unit", ""),
            Bound(i.get("limit_kind", "max")),
        )
        for i in detail.get("items", [])
    ]


def decision_document(
    store: FeatureStore,
    case: ApprovalCase,
    events: Sequence[RecordedEvent],
    stage: Stage,
    flow: Workflow,
    *,
    serial: str,
    url: str,
    authority: str,
    issued_on: date,
    department_names: Mapping[str, str] | None = None,
) -> DecisionDocument:
    """The document ``stage`` issues for ``case`` after ``events`` (``department_names``:
    names of departments the workspace does not record)."""
    zones, conditions = _parcels(store, case)
    results, review = _review(events)
    opinions = _opinions(store, events, department_names or {})
    kept = [c for e in events if e.event.kind == "opinion" for c in e.detail.get("conditions", [])]
    decision = next(
        (e for e in reversed(events) if e.event.kind == "outcome" and e.event.actor != "system"),
        None,
    )
    kind = _kind(flow, stage)
    reasons = [o.conditions for o in opinions if o.opinion is Opinion.DISAGREE and o.conditions]
    if kind is DecisionKind.REFUSAL and decision is not None and decision.event.note:
        reasons.append(decision.event.note)
    bases: list[LegalBasis] = [*flow.legal_basis]
    decision_stage = flow.stages.get("decision")
    if decision_stage is not None:
        bases += [b for b in decision_stage.legal_basis if b not in bases]
    versions = review.get("data_versions", {})
    return DecisionDocument(
        kind=kind,
        serial=serial,
        title=stage.issues or "",
        issued_on=issued_on,
        authority=authority,
        case_ref=case.id,
        applicant=case.applicant,
        project=case.project,
        location=case.location,
        site_area_m2=case.site_area_m2,
        site=shapely.from_wkt(case.site_wkt),
        crs=store.crs,
        zones=tuple(zones),
        planning_conditions=tuple(conditions),
        as_built=tuple(_as_built(review)),
        conditions=tuple(kept) if kind is not DecisionKind.REFUSAL else (),
        reasons=tuple(reasons) if kind is DecisionKind.REFUSAL else (),
        opinions=tuple(opinions),
        review_results=tuple(results),
        legal_basis=tuple(bases),
        notices=(_REFUSAL_NOTICE,) if kind is DecisionKind.REFUSAL or stage.id != "issued" else (),
        data_versions=tuple(DataSource(k, v) for k, v in sorted(versions.items())),
        rule_pack=RulePackStamp(review["rule_pack"], str(review.get("rule_pack_version", "")))
        if review.get("rule_pack")
        else None,
        verification_url=url,
    )


def issue_document(
    store: FeatureStore,
    case: ApprovalCase,
    events: list[RecordedEvent],
    setup: ApprovalSetup,
    address: str = "",
) -> RecordedEvent:
    """Issue the document of the end stage ``case`` closed in: render it, keep it with the
    case, record an ``issued`` event; the event."""
    flow = case_flow(case)
    now = max(setup.now(), events[-1].event.at if events else case.created_at)
    state = replay(case, events, now)
    stage = flow.stages[state.stage]
    kind = _kind(flow, stage)
    serial = f"{_SERIAL_WORD[kind]}字第{case.id}号"
    token = secrets.token_urlsafe(12)
    url = f"{setup.base_url.rstrip('/')}/verify/{token}"
    doc = decision_document(
        store,
        case,
        events,
        stage,
        flow,
        serial=serial,
        url=url,
        authority=setup.authority,
        issued_on=now.date(),
        department_names=setup.department_names,
    )
    pdf = render_decision_pdf(doc)
    kept = store.put_approval_file(
        case.id,
        material=DOCUMENT_MATERIAL,
        filename=f"{serial}.pdf",
        media_type="application/pdf",
        content=pdf,
        actor=SYSTEM,
        address=address,
    )
    detail = {
        "serial": serial,
        "title": doc.title,
        "kind": kind.value,
        "sha256": kept.sha256,
        "issued_on": now.date().isoformat(),
    }
    event = RecordedEvent(
        case.id,
        len(events) + 1,
        CaseEvent(now, "issued", token, actor=SYSTEM, note=doc.title),
        detail,
    )
    store.append_approval_events(
        case.id,
        [event],
        status_of(case, flow, state, len(events) + 1, setup, now.date()),
        expected=len(events),
        actor=SYSTEM,
        address=address,
    )
    events.append(event)
    return event


def verify_document(store: FeatureStore, token: str) -> dict[str, Any]:
    """What the public verification page shows for ``token`` (see the module docstring).

    Raises
    ------
    NotFoundError
        No document has this id (the page says the number is not genuine).
    """
    found = store.approval_events_with("issued", token) if token else []
    if not found:
        raise NotFoundError(
            "No document has this verification id.",
            message_zh="查无此文书：验证码不存在，文书可能不是本机关核发的。",
            fix="Check the address against the QR code on the document.",
            fix_zh="请核对文书上二维码所示的地址。",
        )
    e = found[0]
    case = store.approval_case(e.case_id)
    assert case is not None
    shown: dict[str, Any] = {"genuine": True, "serial": e.detail["serial"], "public": case.public}
    if case.public:
        shown |= {
            "title": e.detail.get("title", ""),
            "project": case.project,
            "applicant": case.applicant,
            "location": case.location,
            "issued_on": e.detail.get("issued_on", ""),
            "site_area_m2": round(case.site_area_m2, 2),
        }
    return shown

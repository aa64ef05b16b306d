"""Approval cases (审批案件): one intake at the window creates the case, each person of the
procedure records what they did, and the system does the automatic steps (多审合一、多证合一).

Every change is an event appended through the store port; a case is its events replayed on
the procedure it was accepted under (:func:`~guotu.domain.workflow.case.case_state`), so
nothing is overwritten and any case can be seen as of any moment
(:mod:`guotu.services.approval_views`). After each write the case's status (stage, who must
act, due date) is put in place for the 待办 lists. When a case enters an automatic stage the
system runs its action at once (:mod:`guotu.services.approval_checks`) and records the
outcome; when it reaches an end stage that issues a document, the document is issued
(:mod:`guotu.services.approval_documents`).

Who may record what is :func:`guotu.domain.workflow.acting.check_may_act`; a write that raced
another is refused with 409 (:class:`~guotu.errors.ConflictError`) and nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from guotu.domain.access.policy import Principal
from guotu.domain.workflow.acting import check_may_act
from guotu.domain.workflow.case import OPINIONS, CaseEvent, CaseState, case_state
from guotu.domain.workflow.definition import workflow_data
from guotu.domain.workflow.records import (
    STATE_KINDS,
    ApprovalCase,
    CaseFile,
    RecordedEvent,
    amended,
)
from guotu.errors import ConflictError, NotFoundError
from guotu.io.workflows import workflow_by_id
from guotu.ports import FeatureStore
from guotu.services.approval_checks import run_action
from guotu.services.approval_documents import issue_document
from guotu.services.approval_setup import (
    SYSTEM,
    ApprovalSetup,
    append_events,
    case_flow,
    refused,
    replay,
    status_of,
)

__all__ = [
    "SYSTEM",
    "Act",
    "Application",
    "ApprovalSetup",
    "act",
    "attach_material",
    "case_flow",
    "intake",
    "replay",
]


@dataclass(frozen=True)
class Application:
    """What the window takes in (一窗受理): the procedure, who applies for what and where.

    ``site`` is in the workspace's CRS (projected metres); ``indicators`` are the planned
    values the automatic review checks (``YDYHFLDM`` 用地用海分类, ``RJL`` 容积率, ``JZMD`` 建筑
    密度 %, ``LDL`` 绿地率 %, ``JZXG`` 限高 m …, the fields of a 建设项目 layer).
    """

    workflow: str
    applicant: str
    project: str
    location: str
    site: BaseGeometry
    application_date: date
    indicators: Mapping[str, Any] = field(default_factory=dict)
    contact: str = ""
    public: bool = True


@dataclass(frozen=True)
class Act:
    """One thing a person records: ``kind`` ``outcome`` (``value`` the outcome), ``opinion``
    (``value`` 同意 agree / 有条件同意 conditional / 不同意 disagree, with ``conditions``),
    ``pause`` (补正 asked: ``note`` says what is missing), ``resume`` (materials complete),
    ``amend`` (the window corrects the application while it is the window's turn, as 补正
    brings it: ``indicators`` changed, ``None`` removes one; ``site`` a new site in the
    workspace CRS) or ``note``. ``expected``: how many events the actor saw (``None``:
    whatever there are)."""

    kind: str
    value: str = ""
    note: str = ""
    conditions: tuple[str, ...] = ()
    expected: int | None = None
    indicators: Mapping[str, Any] = field(default_factory=dict)
    site: BaseGeometry | None = None


def _run_automatic(
    store: FeatureStore,
    case: ApprovalCase,
    have: list[RecordedEvent],
    state: CaseState,
    setup: ApprovalSetup,
    address: str,
) -> CaseState:
    """Do the automatic stages the case stands in, one after another, and issue the document
    of the end stage it reaches."""
    flow = case_flow(case)
    system = Principal(SYSTEM)
    for _ in range(len(flow.stages)):
        stage = flow.stages[state.stage]
        if stage.kind != "automatic" or state.closed:
            break
        issues = {s.issues for s in flow.stages.values() if s.issues}
        outcome, detail, note = run_action(store, amended(case, have), stage, issues)
        at = max(setup.now(), have[-1].event.at if have else case.created_at)
        events = [
            RecordedEvent(
                case.id, 0, CaseEvent(at, "review", outcome, actor=SYSTEM, note=note), detail
            ),
            RecordedEvent(case.id, 0, CaseEvent(at, "outcome", outcome, actor=SYSTEM, note=note)),
        ]
        state = append_events(store, case, have, events, setup, system, address)
    stage = flow.stages[state.stage]
    if state.closed and stage.issues and not any(e.event.kind == "issued" for e in have):
        issue_document(store, amended(case, have), have, setup, address)
    return state


def intake(
    store: FeatureStore,
    application: Application,
    who: Principal,
    setup: ApprovalSetup,
    *,
    accept: bool = True,
    address: str = "",
) -> tuple[ApprovalCase, CaseState]:
    """Accept an application at the window (一窗受理): the case is recorded in the procedure's
    first stage; with ``accept`` (all materials in order) the window's 受理 is recorded at
    once and the automatic review runs.

    Raises
    ------
    NotFoundError
        No such procedure.
    InputError
        A site that is not a valid polygon, or an empty applicant or project.
    PermissionDeniedError
        ``who`` is not the window of the procedure's first stage.
    """
    flow = workflow_by_id(application.workflow, setup.profiles_dir)
    first = flow.stages[flow.start]
    check_may_act(flow, first, who, "outcome")
    site = application.site
    if site.is_empty or site.geom_type not in ("Polygon", "MultiPolygon") or not site.is_valid:
        raise refused(
            "用地范围须为有效的面（不自相交、闭合）。",
            "The site must be a valid polygon.",
            "site",
        )
    for name, zh in (("applicant", "申请人"), ("project", "项目名称")):
        if not str(getattr(application, name)).strip():
            raise refused(f"请填写{zh}。", f"Give the {name}.", name)
    now = setup.now()
    case = ApprovalCase(
        id="",
        workflow=flow.id,
        procedure=workflow_data(flow),
        applicant=application.applicant.strip(),
        project=application.project.strip(),
        location=application.location.strip(),
        site_wkt=shapely.to_wkt(site, rounding_precision=3),
        site_area_m2=float(site.area),
        application_date=application.application_date,
        created_at=now,
        created_by=who.username or "",
        department=who.department or "",
        public=application.public,
        detail={"indicators": dict(application.indicators), "contact": application.contact},
    )
    state = case_state(flow, now, [], now)
    prefix = f"{setup.serial_prefix}{now:%Y}"
    case = store.create_approval_case(
        case,
        status_of(case, flow, state, 0, setup, now.date()),
        id_prefix=prefix,
        actor=who.username or "",
        actor_department=who.department or "",
        address=address,
    )
    if accept:
        state = act(
            store,
            case.id,
            Act("outcome", "done", "材料齐全，予以受理"),
            who,
            setup,
            address=address,
        )
    return case, state


def _load(store: FeatureStore, case_id: str) -> tuple[ApprovalCase, list[RecordedEvent]]:
    case = store.approval_case(case_id)
    if case is None:
        raise NotFoundError(
            f"No approval case {case_id}.",
            message_zh=f"没有编号为 {case_id} 的审批案件。",
            fix="Check the case number.",
            fix_zh="请核对案件编号。",
        )
    return case, store.approval_events(case_id)


def act(
    store: FeatureStore,
    case_id: str,
    action: Act,
    who: Principal,
    setup: ApprovalSetup,
    *,
    address: str = "",
) -> CaseState:
    """Record ``action`` by ``who`` on the case, then do any automatic step it leads to.

    Raises
    ------
    NotFoundError
        No such case.
    PermissionDeniedError
        ``who`` may not act so in the stage the case is in.
    InputError
        What the procedure does not allow there (an outcome the stage does not have, a
        second opinion), an unknown opinion, a 补正 without saying what is missing.
    ConflictError
        The case changed since ``action.expected``.
    """
    case, have = _load(store, case_id)
    if action.expected is not None and action.expected != len(have):
        raise ConflictError(
            f"Case {case_id} changed meanwhile.",
            message_zh=f"审批案件 {case_id} 已被他人办理。",
            fix="Reload the case and act again.",
            fix_zh="请刷新案件后重新办理。",
        )
    flow = case_flow(case)
    # never before the last event: a server whose clock is behind must not act on an older
    # state of the case than the one recorded
    now = max(setup.now(), have[-1].event.at if have else case.created_at)
    state = replay(case, have, now)
    if flow.stages[state.stage].kind == "automatic" and not state.closed:
        # an automatic step that failed before (an error, a restart) is done now
        state = _run_automatic(store, case, have, state, setup, address)
        now = max(now, have[-1].event.at if have else now)
    stage = flow.stages[state.stage]
    department = who.department or "" if action.kind == "opinion" else ""
    check_may_act(
        flow,
        stage,
        who,
        action.kind,
        department=department,
        opinions=state.opinions,
        closed=state.closed,
    )
    if action.kind == "opinion" and action.value not in OPINIONS:
        raise refused(
            "意见须为 同意（agree）、有条件同意（conditional）或 不同意（disagree）。",
            f"An opinion is agree, conditional or disagree, not {action.value!r}.",
            "value",
        )
    if (
        action.kind == "opinion"
        and action.value != "agree"
        and not (action.conditions or action.note.strip())
    ):
        raise refused(
            "有条件同意须写明条件，不同意须写明理由。",
            "A conditional opinion names its conditions, a disagreement its reasons.",
            "conditions",
        )
    if action.kind == "pause" and not action.note.strip():
        raise refused(
            "要求补正须一次告知需要补正的全部内容。", "Say what is to be supplemented.", "note"
        )
    if action.kind not in (*STATE_KINDS, "note", "amend"):
        raise refused(f"未知的办理事项 {action.kind}。", f"Unknown action {action.kind!r}.", "kind")
    event = CaseEvent(now, action.kind, action.value, department, who.username or "", action.note)
    detail: dict[str, Any] = {"conditions": list(action.conditions)} if action.conditions else {}
    if action.kind == "amend":
        detail = _amendment(action)
    state = append_events(
        store, case, have, [RecordedEvent(case.id, 0, event, detail)], setup, who, address
    )
    return _run_automatic(store, case, have, state, setup, address)


def _amendment(action: Act) -> dict[str, Any]:
    """The detail of an ``amend`` event, checked: something changed, said in the note, and a
    new site a valid polygon."""
    if not (action.indicators or action.site is not None) or not action.note.strip():
        raise refused(
            "补正修改须给出修改的指标或用地范围，并写明修改内容。",
            "An amendment changes indicators or the site, and says what in its note.",
        )
    detail: dict[str, Any] = {"indicators": dict(action.indicators)}
    site = action.site
    if site is not None:
        if site.is_empty or site.geom_type not in ("Polygon", "MultiPolygon") or not site.is_valid:
            raise refused(
                "用地范围须为有效的面（不自相交、闭合）。", "The site must be a valid polygon."
            )
        detail["site_wkt"] = shapely.to_wkt(site, rounding_precision=3)
        detail["site_area_m2"] = float(site.area)
    return detail


def _material_of(flow: Any, name: str) -> Any:
    for stage in flow.stages.values():
        for m in stage.materials:
            if m.name_zh == name:
                return m
    return None


def attach_material(
    store: FeatureStore,
    case_id: str,
    material: str,
    filename: str,
    content: bytes,
    who: Principal,
    setup: ApprovalSetup,
    *,
    media_type: str = "application/octet-stream",
    address: str = "",
) -> CaseFile:
    """Keep a material handed in for an open case (the window, or the current stage's
    actor): one the procedure lists, of a file type it accepts, or the as-built survey.

    Raises
    ------
    InputError
        A material the procedure does not ask for, a file type it does not accept, an
        empty file or a file name with a path in it.
    PermissionDeniedError
        ``who`` is neither the window nor the current stage's actor, or the case is closed.
    """
    from guotu.services.approval_as_built import AS_BUILT_MATERIAL

    case, have = _load(store, case_id)
    flow = case_flow(case)
    state = replay(case, have, max(setup.now(), have[-1].event.at if have else case.created_at))
    stage = flow.stages[state.stage]
    check_may_act(flow, stage, who, "pause", closed=state.closed)
    name = filename.strip()
    if not name or "/" in name or "\\" in name or name in (".", "..") or not content:
        raise refused(
            f"材料文件 {filename!r} 为空或文件名不合法（不得含路径）。",
            f"The file {filename!r} is empty or its name has a path in it.",
            "file",
        )
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    m = _material_of(flow, material)
    if m is None and material != AS_BUILT_MATERIAL:
        listed = "、".join(
            dict.fromkeys(x.name_zh for s in flow.stages.values() for x in s.materials)
        )
        raise refused(
            f"“{flow.name_zh}”不要求“{material}”；可提交的材料：{listed}。",
            f"{flow.name_en} asks for no {material!r}.",
            "material",
        )
    types = m.types if m is not None else ("gpkg", "geojson", "zip")
    if types and suffix not in types:
        raise refused(
            f"“{material}”须为 {'、'.join(types)} 文件，{name} 不是。",
            f"{material} must be a {', '.join(types)} file; {name} is not.",
            "file",
        )
    kept = store.put_approval_file(
        case_id,
        material=material,
        filename=name,
        media_type=media_type,
        content=content,
        actor=who.username or "",
        actor_department=who.department or "",
        address=address,
    )
    at = max(setup.now(), have[-1].event.at if have else case.created_at)
    event = CaseEvent(at, "file", str(kept.seq), "", who.username or "", f"{material}：{name}")
    detail = {"n": kept.seq, "material": material, "filename": name}
    append_events(
        store, case, have, [RecordedEvent(case.id, 0, event, detail)], setup, who, address
    )
    return kept

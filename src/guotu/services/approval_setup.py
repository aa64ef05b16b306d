"""The engine's shared parts: what it needs besides the store (:class:`ApprovalSetup`), a
case's procedure and its replay, the status kept in place, and the one write of events
(checked on the procedure, appended with the status and the stage visits they closed).

:mod:`guotu.services.approvals` (intake and acting), :mod:`guotu.services.approval_documents`
(issuing) and :mod:`guotu.services.approval_views` (reading) build on it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from guotu.domain.access.policy import Principal
from guotu.domain.workflow.acting import waiting_for
from guotu.domain.workflow.case import CaseState, case_state
from guotu.domain.workflow.clock import WorkingDays, stage_clock
from guotu.domain.workflow.definition import Workflow, parse_workflow
from guotu.domain.workflow.notices import Outbox, notices_for
from guotu.domain.workflow.records import (
    STATE_KINDS,
    ApprovalCase,
    CaseStatus,
    RecordedEvent,
    VisitRecord,
)
from guotu.errors import InputError
from guotu.io.outbox import JsonLinesOutbox
from guotu.io.working_days import WorkingCalendar, load_calendar
from guotu.ports import FeatureStore

__all__ = [
    "SYSTEM",
    "ApprovalSetup",
    "append_events",
    "case_flow",
    "notify",
    "refused",
    "replay",
    "setup_from_settings",
    "status_of",
]

log = logging.getLogger(__name__)

#: The actor of automatic steps in the record.
SYSTEM = "system"


@dataclass(frozen=True)
class ApprovalSetup:
    """What the engine needs besides the store: the working-day calendar, where provinces'
    profiles are, and what to call the issuing authority and its documents' numbers.
    ``now`` gives the time events are recorded at (a test fixes it); ``outbox`` is where
    notices leave the app (:mod:`guotu.domain.workflow.notices`; ``None``: nowhere, the
    待办 lists only); ``department_names``: names of departments the workspace does not
    record (yet), for the documents."""

    calendar: WorkingDays = field(default_factory=WorkingCalendar)
    profiles_dir: Path | None = None
    authority: str = "自然资源主管部门"
    serial_prefix: str = ""
    base_url: str = ""
    warn_days: int = 3
    now: Callable[[], datetime] = datetime.now
    outbox: Outbox | None = None
    department_names: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_files(
        cls, *, holidays: Path | None = None, profiles_dir: Path | None = None, **kw: Any
    ) -> ApprovalSetup:
        """A setup reading a bureau's holiday arrangement and profiles folder."""
        return cls(calendar=load_calendar(holidays), profiles_dir=profiles_dir, **kw)


def case_flow(case: ApprovalCase) -> Workflow:
    """The procedure a case was accepted under (kept with the case)."""
    return parse_workflow(f"case {case.id}", case.procedure)


def replay(case: ApprovalCase, events: Sequence[RecordedEvent], as_of: datetime) -> CaseState:
    """Where ``case`` stood at ``as_of`` after its ``events``."""
    moves = [e.event for e in events if e.event.kind in STATE_KINDS]
    return case_state(case_flow(case), case.created_at, moves, as_of)


#: How a refusal names the part of a request it is about (people read it: Chinese).
_FIELD_ZH = {
    "conditions": "条件",
    "note": "说明",
    "kind": "办理事项",
    "value": "意见",
    "material": "材料",
    "file": "文件",
    "site": "用地范围",
    "applicant": "申请人",
    "project": "项目名称",
}


def refused(zh: str, en: str, field_name: str = "") -> InputError:
    """Bad input of an approval request (exit 2, HTTP 400), naming what it is about."""
    return InputError(
        en,
        field=_FIELD_ZH.get(field_name, field_name),
        message_zh=zh,
        fix_zh="请更正后重新提交。",
        fix="Correct it.",
    )


def status_of(
    case: ApprovalCase,
    flow: Workflow,
    state: CaseState,
    events: int,
    setup: ApprovalSetup,
    today: date,
) -> CaseStatus:
    """The status to keep in place for ``case`` in ``state``."""
    visit = state.visits[-1]
    stage = flow.stages[visit.stage]
    due = None
    if not state.closed and stage.deadline_working_days is not None:
        due = stage_clock(
            visit.entered.date(),
            stage.deadline_working_days,
            today,
            setup.calendar,
            pauses=visit.pauses,
            warn_days=setup.warn_days,
        ).due
    return CaseStatus(
        case_id=case.id,
        workflow=case.workflow,
        stage=stage.id,
        stage_kind=stage.kind,
        entered_at=visit.entered,
        due_on=due,
        paused=state.paused,
        closed=state.closed,
        waiting=waiting_for(stage, state.opinions, state.closed),
        events=events,
        project=case.project,
        applicant=case.applicant,
        department=case.department,
        created_at=case.created_at,
        outcome=stage.id if state.closed else "",
    )


def _closed_visits(
    case: ApprovalCase, flow: Workflow, before: CaseState, after: CaseState, setup: ApprovalSetup
) -> list[VisitRecord]:
    out = []
    for i in range(len(before.visits) - 1, len(after.visits) - 1):
        v = after.visits[i]
        assert v.left is not None and v.outcome is not None
        stage = flow.stages[v.stage]
        clock = stage_clock(
            v.entered.date(),
            stage.deadline_working_days or 0,
            v.left.date(),
            setup.calendar,
            pauses=v.pauses,
            left=v.left.date(),
        )
        out.append(
            VisitRecord(
                case.id,
                case.workflow,
                v.stage,
                v.entered,
                v.left,
                v.outcome,
                clock.used,
                clock.late,
                stage.department or "",
            )
        )
    return out


def append_events(
    store: FeatureStore,
    case: ApprovalCase,
    have: list[RecordedEvent],
    new: list[RecordedEvent],
    setup: ApprovalSetup,
    who: Principal,
    address: str,
) -> CaseState:
    """Check ``new`` on the case's procedure, append it with the status and closed visits."""
    flow = case_flow(case)
    now = max(e.event.at for e in new)
    before = replay(case, have, now)
    after = replay(case, [*have, *new], now)  # refuses what the procedure does not allow
    numbered = [
        RecordedEvent(case.id, len(have) + i, e.event, e.detail) for i, e in enumerate(new, 1)
    ]
    previous = (  # what the notices compare with: read only when they go anywhere
        None if setup.outbox is None else next(iter(store.approval_statuses(case_id=case.id)), None)
    )
    status = status_of(case, flow, after, len(have) + len(new), setup, now.date())
    store.append_approval_events(
        case.id,
        numbered,
        status,
        expected=len(have),
        visits=_closed_visits(case, flow, before, after, setup),
        actor=who.username or SYSTEM,
        actor_department=who.department or "",
        address=address,
    )
    have.extend(numbered)
    notify(setup, previous, status, now)
    return after


def notify(
    setup: ApprovalSetup, before: CaseStatus | None, after: CaseStatus, at: datetime
) -> None:
    """Hand the notices of a status change to the outbox; a failing outbox is logged, never
    raised (the change is recorded already)."""
    if setup.outbox is None:
        return
    for notice in notices_for(before, after, at):
        try:
            setup.outbox.send(notice)
        except Exception:  # a gateway's failure must not undo or block the case
            log.exception("outbox failed for case %s", after.case_id)


def setup_from_settings(settings: Any, **kw: Any) -> ApprovalSetup:
    """The setup a server or command uses: the settings' authority, public address,
    profiles folder and holiday arrangement (:class:`guotu.settings.Settings`)."""
    outbox = getattr(settings, "approval_outbox", "")
    if outbox and "outbox" not in kw:
        kw["outbox"] = JsonLinesOutbox(outbox)
    holidays = getattr(settings, "holiday_arrangement", "")
    profiles = getattr(settings, "workflow_profiles", "")
    return ApprovalSetup.from_files(
        holidays=Path(holidays) if holidays else None,
        profiles_dir=Path(profiles) if profiles else None,
        authority=getattr(settings, "approval_authority", "") or "自然资源主管部门",
        base_url=getattr(settings, "approval_base_url", ""),
        **kw,
    )

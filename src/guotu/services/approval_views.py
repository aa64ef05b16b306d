"""Reading approval cases: one case as of any moment, the to-do lists (待办/已办/督办) and the
statistics (cases by stage, working days per stage, overdue by department).

A case page is the case replayed from its events up to the moment asked
(:func:`case_view`), with each stage's clock as it stood then. The lists read the statuses
kept in place (one indexed query, not a replay per case); the statistics read the closed
stage visits. Reading cases needs the 查看 permission (any signed-in user of the bureau);
the public sees documents only through their verification page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np

from guotu.domain.access.policy import Principal
from guotu.domain.access.roles import Permission
from guotu.domain.workflow.acting import OPINION_ROLES
from guotu.domain.workflow.case import CaseState
from guotu.domain.workflow.clock import StageClock, stage_clock
from guotu.domain.workflow.definition import Workflow
from guotu.domain.workflow.records import (
    ApprovalCase,
    CaseFile,
    CaseStatus,
    RecordedEvent,
    amended,
    waiting_department,
    waiting_role,
)
from guotu.errors import NotFoundError, PermissionDeniedError
from guotu.ports import FeatureStore
from guotu.services.approval_documents import DOCUMENT_MATERIAL
from guotu.services.approval_setup import ApprovalSetup, case_flow, replay

__all__ = [
    "CaseView",
    "StageView",
    "case_view",
    "require_case_reader",
    "statistics",
    "todo",
    "waiting_keys",
]


def require_case_reader(who: Principal) -> None:
    """Refuse anyone who may not read cases (anonymous, or without 查看)."""
    if who.is_anonymous or Permission.READ not in who.permissions:
        raise PermissionDeniedError(
            "Reading approval cases needs the viewer permission.",
            message_zh="查看审批案件需要登录并具有查看权限。",
            fix="Sign in with an account of the bureau.",
            fix_zh="请使用本机关的账号登录。",
        )


@dataclass(frozen=True)
class StageView:
    """A stay in a stage with its clock (as it ended, or as of the moment viewed)."""

    stage: str
    name_zh: str
    kind: str
    entered: datetime
    left: datetime | None
    outcome: str | None
    clock: StageClock | None


@dataclass(frozen=True)
class CaseView:
    """A case as of ``as_of``: its record, state, stays with clocks, events and files then."""

    case: ApprovalCase
    flow: Workflow
    as_of: datetime
    state: CaseState
    stages: tuple[StageView, ...]
    events: tuple[RecordedEvent, ...]
    files: tuple[CaseFile, ...]
    status: CaseStatus | None

    @property
    def current(self) -> StageView:
        """The stage the case is in (or closed in)."""
        return self.stages[-1]


def case_view(
    store: FeatureStore,
    case_id: str,
    who: Principal,
    setup: ApprovalSetup,
    *,
    as_of: datetime | None = None,
) -> CaseView:
    """Case ``case_id`` as of ``as_of`` (default: now).

    Raises
    ------
    PermissionDeniedError
        ``who`` may not read cases.
    NotFoundError
        No such case, or it was not yet accepted at ``as_of``.
    """
    require_case_reader(who)
    case = store.approval_case(case_id)
    moment = as_of or setup.now()
    if case is None or case.created_at > moment:
        raise NotFoundError(
            f"No approval case {case_id} (as of {moment:%Y-%m-%d %H:%M}).",
            message_zh=f"没有编号为 {case_id} 的审批案件（截至 {moment:%Y-%m-%d %H:%M}）。",
            fix="Check the case number and the date.",
            fix_zh="请核对案件编号和日期。",
        )
    events = [e for e in store.approval_events(case_id) if e.event.at <= moment]
    flow = case_flow(case)
    state = replay(case, events, moment)
    stays = []
    for v in state.visits:
        stage = flow.stages[v.stage]
        clock = None
        if stage.deadline_working_days is not None:
            clock = stage_clock(
                v.entered.date(),
                stage.deadline_working_days,
                moment.date(),
                setup.calendar,
                pauses=v.pauses,
                left=None if v.left is None else v.left.date(),
                warn_days=setup.warn_days,
            )
        stays.append(
            StageView(v.stage, stage.name_zh, stage.kind, v.entered, v.left, v.outcome, clock)
        )
    files = _files_then(store.approval_files(case_id), events)
    status = next(iter(store.approval_statuses(case_id=case_id)), None)
    shown = amended(case, events)  # as the window had corrected it by then
    return CaseView(shown, flow, moment, state, tuple(stays), tuple(events), tuple(files), status)


def _files_then(files: list[CaseFile], events: list[RecordedEvent]) -> list[CaseFile]:
    """The files handed in or issued by the last of ``events`` (each has its ``file`` or
    ``issued`` event, on the case's clock)."""
    seqs = {int(e.detail.get("n", 0)) for e in events if e.event.kind == "file"}
    shas = {e.detail.get("sha256") for e in events if e.event.kind == "issued"}
    return [
        f for f in files if f.seq in seqs or (f.material == DOCUMENT_MATERIAL and f.sha256 in shas)
    ]


def waiting_keys(who: Principal) -> tuple[str, ...]:
    """The :attr:`CaseStatus.waiting` names that mean ``who`` must act."""
    keys = []
    for role in sorted(who.roles):
        keys.append(waiting_role(role, None))
        if who.department:
            keys.append(waiting_role(role, who.department))
    if who.department and OPINION_ROLES & who.roles:
        keys.append(waiting_department(who.department))
    return tuple(keys)


def todo(
    store: FeatureStore,
    who: Principal,
    *,
    box: str = "todo",
    today: date | None = None,
    limit: int | None = None,
) -> list[CaseStatus]:
    """A user's list: ``todo`` (待办: open cases waiting for them, soonest due first),
    ``done`` (已办: cases they acted on), ``overdue`` (督办: open cases past their due date,
    longest overdue first), ``open`` and ``all``."""
    require_case_reader(who)
    day = today or date.today()
    if box == "todo":
        keys = waiting_keys(who)
        rows = (
            store.approval_statuses(open_only=True, waiting=keys, order="due", limit=limit)
            if keys
            else []
        )
    elif box == "done":
        mine = store.approval_cases_acted_by(who.username or "")
        rows = store.approval_statuses(case_ids=mine, order="updated", limit=limit)
    elif box == "overdue":
        rows = store.approval_statuses(open_only=True, due_before=day, order="due", limit=limit)
    elif box in ("open", "all"):
        rows = store.approval_statuses(open_only=box == "open", order="case_desc", limit=limit)
    else:
        from guotu.errors import InputError

        raise InputError(
            f"Unknown list {box!r} (todo, done, overdue, open, all).",
            message_zh=f"没有“{box}”这一列表（可选 todo 待办、done 已办、overdue 督办、open、all）。",
            field="box",
        )
    return rows


def _mean_p90(hist: Mapping[int, tuple[int, int]]) -> tuple[int, float, float, int]:
    """Stays, mean, 90th percentile (linear between closest ranks, as numpy's default) and
    late stays of a histogram ``{days: (stays, late)}``."""
    values = np.repeat(
        np.fromiter(hist, dtype=float, count=len(hist)),
        [n for n, _ in hist.values()],
    )
    late = sum(k for _, k in hist.values())
    if not len(values):
        return 0, 0.0, 0.0, late
    return len(values), float(values.mean()), float(np.percentile(values, 90)), late


def statistics(
    store: FeatureStore, who: Principal, *, today: date | None = None, workflow: str | None = None
) -> dict[str, Any]:
    """Cases by stage (open), average and 90th-percentile working days per stage (closed
    stays; 补正 pauses not counted), stays past their due date, and open cases overdue by the
    department that must act (counted by the store: :class:`ApprovalFigures`)."""
    require_case_reader(who)
    f = store.approval_figures(today or date.today(), workflow)
    overdue: Counter[str] = Counter()
    for waiting in f.overdue_waiting:
        for w in waiting or ("system",):
            overdue[w.split("@")[-1].removeprefix("dept:")] += 1
    rows = []
    for (wf, st), hist in sorted(f.stay_days.items()):
        n, mean, p90, late = _mean_p90(hist)
        rows.append(
            {"workflow": wf, "stage": st, "stays": n, "mean": round(mean, 2),
             "p90": round(p90, 2), "late": late}
        )  # fmt: skip
    return {
        "cases": sum(f.open_by_stage.values()) + sum(f.closed_by_stage.values()),
        "open": sum(f.open_by_stage.values()),
        "by_stage": [
            {"workflow": w, "stage": st, "open": n}
            for (w, st), n in sorted(f.open_by_stage.items())
        ],
        "closed_in": [
            {"workflow": w, "stage": st, "cases": n}
            for (w, st), n in sorted(f.closed_by_stage.items())
        ],
        "stage_days": rows,
        "overdue_by_department": [
            {"department": d, "cases": n} for d, n in sorted(overdue.items(), key=lambda x: -x[1])
        ],
    }

"""What the store keeps of an approval case (审批案件), in the words the store port speaks.

A case is recorded once at intake (:class:`ApprovalCase`: applicant, project, site, the
procedure as it stood that day) and then only grows: each event (:class:`RecordedEvent`),
each material handed in (:class:`CaseFile`), each stay in a stage that ended
(:class:`VisitRecord`, kept for the statistics). None of these is ever changed or deleted.

:class:`CaseStatus` is the one thing kept in place: where each case stands now (stage, who must
act, the due date), derived from the events after every write so that 待办 lists and counts
do not replay every case. It is never the record: the events are, and
:func:`guotu.domain.workflow.case.case_state` replays them to any moment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from guotu.domain.workflow.case import CaseEvent

__all__ = [
    "STATE_KINDS",
    "ApprovalCase",
    "ApprovalFigures",
    "CaseFile",
    "CaseStatus",
    "RecordedEvent",
    "VisitRecord",
    "amended",
    "waiting_department",
    "waiting_role",
]

#: Event kinds that move a case (replayed by ``case_state``); every other kind (``review``:
#: the automatic review's result, ``issued``: a document issued, ``note``, ``file``: a
#: material handed in, ``amend``: the application corrected in 补正) is on the record without
#: moving it.
STATE_KINDS = frozenset({"outcome", "opinion", "pause", "resume"})


@dataclass(frozen=True)
class ApprovalCase:
    """A case as accepted at the window (一窗受理).

    ``workflow`` is the procedure's id and ``procedure`` the whole definition as it stood at
    intake (the data :func:`~guotu.domain.workflow.definition.parse_workflow` reads), so a
    case is replayed on the rules it was accepted under even after a province changes them.
    ``site_wkt`` is in the workspace's CRS; ``application_date`` is the day the one map is
    read as of for the automatic review. ``public`` says whether the public verification
    page may show the case's decision (公开) or only that the number exists.
    """

    id: str
    workflow: str
    procedure: Mapping[str, Any]
    applicant: str
    project: str
    location: str
    site_wkt: str
    site_area_m2: float
    application_date: date
    created_at: datetime
    created_by: str
    department: str
    public: bool = True
    detail: Mapping[str, Any] = field(default_factory=dict)
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class RecordedEvent:
    """One event of a case with its place (``seq``, 1 for the first event of the case) and
    what it carries besides the state change (``detail``: conditions of an opinion, the
    automatic review's summary, the issued document's serial number and verification id).
    The acting user, their department and the event's kind are on ``event``."""

    case_id: str
    seq: int
    event: CaseEvent
    detail: Mapping[str, Any] = field(default_factory=dict)
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class CaseFile:
    """A material handed in (申请材料) or a document issued, without its bytes."""

    case_id: str
    seq: int
    material: str
    filename: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class VisitRecord:
    """A stay in a stage that ended: how many working days it took (补正 pauses not
    counted), whether after its due date, and which department acted."""

    case_id: str
    workflow: str
    stage: str
    entered: datetime
    left: datetime
    outcome: str
    working_days: int
    late: bool
    department: str = ""


def waiting_role(role: str, department: str | None) -> str:
    """How :attr:`CaseStatus.waiting` names a role (of a department) that must act.

    Examples
    --------
    >>> waiting_role("clerk", "guihua")
    'role:clerk@guihua'
    """
    return f"role:{role}@{department or '*'}"


def waiting_department(department: str) -> str:
    """How :attr:`CaseStatus.waiting` names a department whose opinion is awaited.

    Examples
    --------
    >>> waiting_department("fagai")
    'dept:fagai'
    """
    return f"dept:{department}"


@dataclass(frozen=True)
class CaseStatus:
    """Where a case stands now (kept in place, derived from its events).

    ``waiting``: who must act (:func:`waiting_role`, :func:`waiting_department`), empty when
    closed or when the system acts. ``due_on``: the current stage's due date (``None`` while
    paused or closed). ``events``: how many events the case has (the next one is
    ``events + 1``; a write that expected another number lost a race).
    """

    case_id: str
    workflow: str
    stage: str
    stage_kind: str
    entered_at: datetime
    due_on: date | None
    paused: bool
    closed: bool
    waiting: tuple[str, ...]
    events: int
    project: str
    applicant: str
    department: str
    created_at: datetime
    outcome: str = ""
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ApprovalFigures:
    """What the statistics are made of, counted by the store: cases by (procedure, stage)
    open and closed, the closed stays' working days as a histogram per (procedure, stage)
    (``{days: (stays, late)}``), and the ``waiting`` names of the open cases past their due
    date."""

    open_by_stage: Mapping[tuple[str, str], int]
    closed_by_stage: Mapping[tuple[str, str], int]
    stay_days: Mapping[tuple[str, str], Mapping[int, tuple[int, int]]]
    overdue_waiting: tuple[tuple[str, ...], ...]


def amended(case: ApprovalCase, events: Sequence[RecordedEvent]) -> ApprovalCase:
    """``case`` as its ``amend`` events changed it (the window correcting the application
    during 补正: planned indicators, the site), in order; the record at intake is never
    changed, the amendments are events of their own.

    Examples
    --------
    >>> c = ApprovalCase("1", "p", {}, "a", "b", "c", "POINT (0 0)", 0.0, date(2026, 3, 2),
    ...     datetime(2026, 3, 2), "u", "d", detail={"indicators": {"RJL": 2.6}})
    >>> e = RecordedEvent("1", 5, CaseEvent(datetime(2026, 3, 3), "amend"),
    ...     {"indicators": {"RJL": 2.4}})
    >>> amended(c, [e]).detail["indicators"]
    {'RJL': 2.4}
    """
    changes = [e.detail for e in events if e.event.kind == "amend"]
    if not changes:
        return case
    indicators = dict(case.detail.get("indicators", {}))
    site_wkt, area = case.site_wkt, case.site_area_m2
    for d in changes:
        for key, value in d.get("indicators", {}).items():
            if value in (None, ""):
                indicators.pop(key, None)
            else:
                indicators[key] = value
        if d.get("site_wkt"):
            site_wkt, area = d["site_wkt"], float(d["site_area_m2"])
    detail = {**case.detail, "indicators": indicators}
    return replace(case, site_wkt=site_wkt, site_area_m2=area, detail=detail)

"""Approval cases as table rows (schema 5, :mod:`guotu.store.approvals`).

Cases, their events, materials, the materials' bytes and the closed stage visits are
append-only histories (:class:`~guotu.store.identity_records.History`, the same kind of table
identity records use: a row per record, ``seq`` their order, triggers refusing UPDATE and
DELETE). Mappings are JSON text, dates and times ISO text, booleans 0/1 (read back as bool).
The bytes of a material are kept once per content (``guotu_approval_blobs``, by SHA-256).

The status of each case (``guotu_approval_status``) is kept in place: it is derived from the
events after every write, never the record.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from guotu.domain.workflow.case import CaseEvent
from guotu.domain.workflow.records import (
    ApprovalCase,
    ApprovalFigures,
    CaseFile,
    CaseStatus,
    RecordedEvent,
    VisitRecord,
)
from guotu.store.identity_records import History
from guotu.store.layout import as_timestamp

__all__ = [
    "BLOBS",
    "CASES",
    "EVENTS",
    "FILES",
    "ORDERS",
    "STATUS_COLUMNS",
    "VISITS",
    "StatusQuery",
    "case_of",
    "case_row",
    "event_of",
    "event_row",
    "figures_of",
    "file_of",
    "file_row",
    "status_of",
    "status_row",
    "visit_of",
    "visit_row",
]

CASES = History(
    "guotu_approval_cases",
    "id",
    (
        "id",
        "workflow",
        "procedure",
        "applicant",
        "project",
        "location",
        "site_wkt",
        "site_area_m2",
        "application_date",
        "created_at",
        "created_by",
        "department",
        "public",
        "detail",
        "recorded_at",
    ),
)
EVENTS = History(
    "guotu_approval_events",
    "case_id",
    (
        "case_id",
        "n",
        "at",
        "kind",
        "value",
        "department",
        "actor",
        "note",
        "detail",
        "recorded_at",
    ),
)
FILES = History(
    "guotu_approval_files",
    "case_id",
    (
        "case_id",
        "n",
        "material",
        "filename",
        "media_type",
        "size",
        "sha256",
        "uploaded_by",
        "recorded_at",
    ),
)
BLOBS = History("guotu_approval_blobs", "sha256", ("sha256", "content", "recorded_at"))
VISITS = History(
    "guotu_approval_visits",
    "case_id",
    (
        "case_id",
        "workflow",
        "stage",
        "entered",
        "left_at",
        "outcome",
        "working_days",
        "late",
        "department",
        "recorded_at",
    ),
)
#: Columns of ``guotu_approval_status`` (kept in place; ``case_id`` is the key). ``waiting``
#: is written ``|a|b|`` so that one actor is found with ``LIKE '%|a|%'``.
STATUS_COLUMNS = (
    "case_id",
    "workflow",
    "stage",
    "stage_kind",
    "entered_at",
    "due_on",
    "paused",
    "closed",
    "waiting",
    "events",
    "project",
    "applicant",
    "department",
    "created_at",
    "outcome",
    "updated_at",
)


#: How status lists are ordered: the key columns of each order (``-``: descending).
ORDERS = {
    "case": ("case_id",),
    "case_desc": ("-case_id",),
    "due": ("due_on", "case_id"),
    "updated": ("-updated_at", "-case_id"),
}


@dataclass(frozen=True)
class StatusQuery:
    """Which statuses a list asks for (every filter given must hold), in which order, how
    many: ``waiting`` any of these names, ``due_before`` a due date before that day,
    ``case_ids`` one of these cases."""

    case_id: str | None = None
    open_only: bool = False
    waiting: tuple[str, ...] = ()
    workflow: str | None = None
    due_before: date | None = None
    case_ids: tuple[str, ...] | None = None
    order: str = "case"
    limit: int | None = None


def _time(value: Any) -> datetime:
    return as_timestamp(value)


def _day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def case_row(c: ApprovalCase, recorded: str) -> tuple[Any, ...]:
    """The row recording case ``c``."""
    return (
        c.id,
        c.workflow,
        json.dumps(c.procedure, ensure_ascii=False, sort_keys=True),
        c.applicant,
        c.project,
        c.location,
        c.site_wkt,
        float(c.site_area_m2),
        c.application_date.isoformat(),
        c.created_at.isoformat(),
        c.created_by,
        c.department,
        bool(c.public),
        json.dumps(c.detail, ensure_ascii=False, sort_keys=True),
        recorded,
    )


def case_of(r: Sequence[Any]) -> ApprovalCase:
    """The case a row records."""
    return ApprovalCase(
        id=r[0],
        workflow=r[1],
        procedure=json.loads(r[2]),
        applicant=r[3],
        project=r[4],
        location=r[5],
        site_wkt=r[6],
        site_area_m2=float(r[7]),
        application_date=date.fromisoformat(r[8]),
        created_at=datetime.fromisoformat(r[9]),
        created_by=r[10],
        department=r[11],
        public=bool(r[12]),
        detail=json.loads(r[13]),
        recorded_at=_time(r[14]),
    )


def event_row(e: RecordedEvent, recorded: str) -> tuple[Any, ...]:
    """The row recording event ``e``."""
    v = e.event
    return (
        e.case_id,
        e.seq,
        v.at.isoformat(),
        v.kind,
        v.value,
        v.department,
        v.actor,
        v.note,
        json.dumps(e.detail, ensure_ascii=False, sort_keys=True),
        recorded,
    )


def event_of(r: Sequence[Any]) -> RecordedEvent:
    """The event a row records."""
    return RecordedEvent(
        case_id=r[0],
        seq=int(r[1]),
        event=CaseEvent(datetime.fromisoformat(r[2]), r[3], r[4], r[5], r[6], r[7]),
        detail=json.loads(r[8]),
        recorded_at=_time(r[9]),
    )


def file_row(f: CaseFile, recorded: str) -> tuple[Any, ...]:
    """The row recording material ``f`` (its bytes go to the blobs)."""
    return (
        f.case_id,
        f.seq,
        f.material,
        f.filename,
        f.media_type,
        int(f.size),
        f.sha256,
        f.uploaded_by,
        recorded,
    )


def file_of(r: Sequence[Any]) -> CaseFile:
    """The material a row records."""
    return CaseFile(r[0], int(r[1]), r[2], r[3], r[4], int(r[5]), r[6], r[7], _time(r[8]))


def visit_row(v: VisitRecord, recorded: str) -> tuple[Any, ...]:
    """The row recording a closed stay in a stage."""
    return (
        v.case_id,
        v.workflow,
        v.stage,
        v.entered.isoformat(),
        v.left.isoformat(),
        v.outcome,
        int(v.working_days),
        bool(v.late),
        v.department,
        recorded,
    )


def visit_of(r: Sequence[Any]) -> VisitRecord:
    """The stay a row records."""
    return VisitRecord(
        case_id=r[0],
        workflow=r[1],
        stage=r[2],
        entered=datetime.fromisoformat(r[3]),
        left=datetime.fromisoformat(r[4]),
        outcome=r[5],
        working_days=int(r[6]),
        late=bool(r[7]),
        department=r[8],
    )


def status_row(s: CaseStatus, updated: str) -> tuple[Any, ...]:
    """The row of ``guotu_approval_status`` for ``s``."""
    return (
        s.case_id,
        s.workflow,
        s.stage,
        s.stage_kind,
        s.entered_at.isoformat(),
        None if s.due_on is None else s.due_on.isoformat(),
        bool(s.paused),
        bool(s.closed),
        "|" + "|".join(s.waiting) + "|" if s.waiting else "",
        int(s.events),
        s.project,
        s.applicant,
        s.department,
        s.created_at.isoformat(),
        s.outcome,
        updated,
    )


def status_of(r: Sequence[Any]) -> CaseStatus:
    """The status a row holds."""
    return CaseStatus(
        case_id=r[0],
        workflow=r[1],
        stage=r[2],
        stage_kind=r[3],
        entered_at=datetime.fromisoformat(r[4]),
        due_on=_day(r[5]),
        paused=bool(r[6]),
        closed=bool(r[7]),
        waiting=tuple(w for w in str(r[8]).split("|") if w),
        events=int(r[9]),
        project=r[10],
        applicant=r[11],
        department=r[12],
        created_at=datetime.fromisoformat(r[13]),
        outcome=r[14],
        updated_at=_time(r[15]),
    )


def figures_of(
    counts: Sequence[Sequence[Any]], late: Sequence[Sequence[Any]], days: Sequence[Sequence[Any]]
) -> ApprovalFigures:
    """The figures from the rows of the three counting queries: (workflow, stage, closed,
    count), (waiting,) of the overdue, (workflow, stage, working_days, stays, late)."""
    open_by: dict[tuple[str, str], int] = {}
    closed_by: dict[tuple[str, str], int] = {}
    for wf, stage, closed, n in counts:
        (closed_by if closed else open_by)[(wf, stage)] = int(n)
    hist: dict[tuple[str, str], dict[int, tuple[int, int]]] = {}
    for wf, stage, d, n, k in days:
        hist.setdefault((wf, stage), {})[int(d)] = (int(n), int(k or 0))
    waiting = tuple(tuple(w for w in str(r[0]).split("|") if w) for r in late)
    return ApprovalFigures(open_by, closed_by, hist, waiting)

"""Approval cases (审批案件), written once for every store (the store port's "approval
cases" part, schema 5).

A case is recorded at intake and then only grows by events, materials and closed stage
visits (append-only tables: :mod:`guotu.store.approval_records`). Each write is one
transaction that holds the audit lock from its start (like identity writes), appends, puts
the case's derived status in place, and queues its audit entry. A write of events says how
many events it expects the case to have: if another write came first (two departments
giving opinions at the same moment) it is refused with :class:`~guotu.errors.ConflictError`
and nothing is written, so a decision is never taken on a state its taker did not see.

Backends supply nothing beyond the catalogue's hooks; the memory store replaces the five
primitives below (``_all_states`` … ``_max_case_id``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date
from typing import Any

from guotu.domain.workflow.records import (
    ApprovalCase,
    ApprovalFigures,
    CaseFile,
    CaseStatus,
    RecordedEvent,
    VisitRecord,
)
from guotu.errors import ConflictError, NotFoundError
from guotu.store.approval_records import (
    BLOBS,
    CASES,
    EVENTS,
    FILES,
    ORDERS,
    STATUS_COLUMNS,
    VISITS,
    StatusQuery,
    case_of,
    case_row,
    event_of,
    event_row,
    figures_of,
    file_of,
    file_row,
    status_of,
    status_row,
    visit_of,
    visit_row,
)
from guotu.store.identity import IdentityCatalog
from guotu.store.identity_records import History
from guotu.store.layout import record_time

__all__ = ["ApprovalCatalog"]


def _no_case(case_id: str) -> NotFoundError:
    return NotFoundError(
        f"No approval case {case_id}.",
        fix="Check the case number (guotu case list).",
        message_zh=f"没有编号为 {case_id} 的审批案件。",
        fix_zh="请核对案件编号（guotu case list 列出全部案件）。",
    )


class ApprovalCatalog(IdentityCatalog):
    """Approval cases (see the module docstring)."""

    # -- SQL primitives (the memory store replaces these) ------------------------------------
    def _all_states(self, history: History) -> list[Sequence[Any]]:
        """Every row of ``history``, oldest first."""
        return list(
            self._execute(
                f"SELECT {', '.join(history.columns)} FROM {history.table} ORDER BY seq"
            ).fetchall()
        )

    def _find_states(self, history: History, column: str, value: str) -> list[Sequence[Any]]:
        """The rows of ``history`` whose ``column`` is ``value``, oldest first."""
        assert column in history.columns
        return list(
            self._execute(
                f"SELECT {', '.join(history.columns)} FROM {history.table} WHERE {column} = ? "
                "ORDER BY seq",
                (value,),
            ).fetchall()
        )

    def _put_status(self, row: Sequence[Any]) -> None:
        cols = ", ".join(STATUS_COLUMNS)
        sets = ", ".join(f"{c} = excluded.{c}" for c in STATUS_COLUMNS[1:])
        self._execute(
            f"INSERT INTO guotu_approval_status ({cols}) VALUES "
            f"({', '.join('?' * len(STATUS_COLUMNS))}) ON CONFLICT (case_id) DO UPDATE SET {sets}",
            row,
        )

    def _status_rows(self, q: StatusQuery) -> list[Sequence[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if q.case_id is not None:
            where.append("case_id = ?")
            params.append(q.case_id)
        if q.open_only:
            where.append("closed = ?")  # not NOT closed: SQLite then uses the index
            params.append(False)
        if q.waiting:
            where.append("(" + " OR ".join("waiting LIKE ?" for _ in q.waiting) + ")")
            params += [f"%|{w}|%" for w in q.waiting]
        if q.workflow is not None:
            where.append("workflow = ?")
            params.append(q.workflow)
        if q.due_before is not None:
            where.append("due_on < ?")
            params.append(q.due_before.isoformat())
        if q.case_ids is not None:
            if not q.case_ids:
                return []
            where.append(f"case_id IN ({', '.join('?' * len(q.case_ids))})")
            params += list(q.case_ids)
        sql = f"SELECT {', '.join(STATUS_COLUMNS)} FROM guotu_approval_status"
        if where:
            sql += " WHERE " + " AND ".join(where)
        # NULLs (no due date: paused) last in every store (SQLite and PostgreSQL differ)
        keys = [
            f"{k[1:]} DESC" if k.startswith("-") else f"{k} IS NULL, {k}" for k in ORDERS[q.order]
        ]
        sql += " ORDER BY " + ", ".join(keys)
        if q.limit is not None:
            sql += f" LIMIT {int(q.limit)}"
        return list(self._execute(sql, params).fetchall())

    def _max_case_id(self, prefix: str) -> str | None:
        """The greatest case id starting with ``prefix`` (ids of one prefix have one
        width)."""
        row = self._execute(
            "SELECT max(id) FROM guotu_approval_cases WHERE id LIKE ?", (prefix + "%",)
        ).fetchone()
        return None if row is None else row[0]

    # -- cases -------------------------------------------------------------------------------
    def create_approval_case(
        self,
        case: ApprovalCase,
        status: CaseStatus,
        *,
        id_prefix: str,
        actor: str,
        actor_department: str = "",
        address: str = "",
    ) -> ApprovalCase:
        """Record a new case under the next free number ``<id_prefix><000001>`` (the
        ``id`` given is ignored) with its first status; audited as ``create_case``."""
        with self._identity_write("recording an approval case", "登记审批案件"):
            last = self._max_case_id(id_prefix)
            number = 1 if last is None else int(last[len(id_prefix) :]) + 1
            case_id = f"{id_prefix}{number:06d}"
            recorded = record_time().isoformat()
            stored = ApprovalCase(**{**case.__dict__, "id": case_id})
            self._append_state(CASES, case_row(stored, recorded))
            self._put_status(
                status_row(CaseStatus(**{**status.__dict__, "case_id": case_id}), recorded)
            )
            self._audit(
                actor,
                "create_case",
                f"case:{case_id}",
                case.project,
                {"workflow": case.workflow, "applicant": case.applicant},
                department=actor_department,
                address=address,
            )
        found = self.approval_case(case_id)
        assert found is not None
        return found

    def approval_case(self, case_id: str) -> ApprovalCase | None:
        """The case numbered ``case_id`` as recorded at intake."""
        with self._reading(f"approval case {case_id}", f"审批案件 {case_id}"):
            row = self._latest(CASES, case_id)
        return None if row is None else case_of(row)

    def approval_statuses(
        self,
        *,
        case_id: str | None = None,
        open_only: bool = False,
        waiting: Sequence[str] = (),
        workflow: str | None = None,
        due_before: date | None = None,
        case_ids: Sequence[str] | None = None,
        order: str = "case",
        limit: int | None = None,
    ) -> list[CaseStatus]:
        """Where cases stand now: only open ones (``open_only``), only those waiting for
        any of ``waiting`` (role and department names, see
        :func:`~guotu.domain.workflow.records.waiting_role`), of one procedure, due before a
        day, among ``case_ids``; ordered by ``order`` (``case``, ``case_desc``, ``due``,
        ``updated``: latest first), at most ``limit``."""
        query = StatusQuery(
            case_id,
            open_only,
            tuple(waiting),
            workflow,
            due_before,
            None if case_ids is None else tuple(case_ids),
            order if order in ORDERS else "case",
            limit,
        )
        with self._reading("approval cases", "审批案件"):
            rows = self._status_rows(query)
        return [status_of(r) for r in rows]

    # -- events ------------------------------------------------------------------------------
    def approval_events(self, case_id: str) -> list[RecordedEvent]:
        """Every event of a case, in order."""
        with self._reading(f"approval case {case_id}", f"审批案件 {case_id}"):
            rows = self._states_of(EVENTS, case_id)
        return sorted((event_of(r) for r in rows), key=lambda e: e.seq)

    def approval_events_with(self, kind: str, value: str | None = None) -> list[RecordedEvent]:
        """Events of any case of ``kind`` (whose value is ``value``: an issued document by
        its verification id), oldest first."""
        with self._reading("approval events", "审批事件"):
            if value is None:
                rows = self._find_states(EVENTS, "kind", kind)
            else:
                rows = self._find_states(EVENTS, "value", value)
        return [e for e in map(event_of, rows) if e.event.kind == kind]

    def approval_cases_acted_by(self, username: str) -> list[str]:
        """The cases ``username`` recorded an event on, by number."""
        with self._reading("approval events", "审批事件"):
            rows = self._find_states(EVENTS, "actor", username)
        return sorted({r[0] for r in rows})

    def append_approval_events(
        self,
        case_id: str,
        events: Sequence[RecordedEvent],
        status: CaseStatus,
        *,
        expected: int,
        visits: Sequence[VisitRecord] = (),
        actor: str,
        actor_department: str = "",
        address: str = "",
    ) -> None:
        """Append ``events`` (numbered ``expected + 1`` …) to a case that has ``expected``
        events, with the stage visits they closed and the case's new status; audited as
        ``case_event``.

        Raises
        ------
        NotFoundError
            No such case.
        ConflictError
            The case has another number of events: someone acted on it meanwhile.
        """
        with self._identity_write(f"recording case {case_id}", f"记录审批案件 {case_id}"):
            rows = self._status_rows(StatusQuery(case_id))
            if not rows:
                raise _no_case(case_id)
            have = status_of(rows[0]).events
            if have != expected:
                raise ConflictError(
                    f"Case {case_id} changed meanwhile ({have} events, {expected} expected).",
                    fix="Reload the case and act again.",
                    message_zh=f"审批案件 {case_id} 已被他人办理（现有 {have} 条记录）。",
                    fix_zh="请刷新案件后重新办理。",
                )
            recorded = record_time().isoformat()
            for i, e in enumerate(events, start=expected + 1):
                self._append_state(
                    EVENTS, event_row(RecordedEvent(case_id, i, e.event, e.detail), recorded)
                )
            for v in visits:
                self._append_state(VISITS, visit_row(v, recorded))
            self._put_status(status_row(status, recorded))
            for e in events:
                self._audit(
                    actor,
                    "case_event",
                    f"case:{case_id}",
                    e.event.note,
                    {
                        "kind": e.event.kind,
                        "value": e.event.value,
                        "department": e.event.department,
                    },
                    department=actor_department,
                    address=address,
                )

    def approval_visits(self, workflow: str | None = None) -> list[VisitRecord]:
        """Every closed stay in a stage (of one procedure), oldest first."""
        with self._reading("approval statistics", "审批统计"):
            rows = (
                self._all_states(VISITS)
                if workflow is None
                else self._find_states(VISITS, "workflow", workflow)
            )
        return [visit_of(r) for r in rows]

    def approval_figures(self, today: date, workflow: str | None = None) -> ApprovalFigures:
        """The counts the statistics are made of (:class:`ApprovalFigures`), counted in the
        database: a county-year of cases is 20,000 statuses and 100,000 stays."""
        only = "" if workflow is None else " AND workflow = ?"
        one: list[Any] = [] if workflow is None else [workflow]
        with self._reading("approval statistics", "审批统计"):
            counts = self._execute(
                "SELECT workflow, stage, closed, count(*) FROM guotu_approval_status "
                f"WHERE 1 = 1{only} GROUP BY workflow, stage, closed",
                one,
            ).fetchall()
            late = self._execute(
                "SELECT waiting FROM guotu_approval_status WHERE closed = ? AND due_on < ?" + only,
                [False, today.isoformat(), *one],
            ).fetchall()
            days = self._execute(
                "SELECT workflow, stage, working_days, count(*), "
                "sum(CASE WHEN late THEN 1 ELSE 0 END) FROM guotu_approval_visits "
                f"WHERE 1 = 1{only} GROUP BY workflow, stage, working_days",
                one,
            ).fetchall()
        return figures_of(counts, late, days)

    # -- materials ---------------------------------------------------------------------------
    def put_approval_file(
        self,
        case_id: str,
        *,
        material: str,
        filename: str,
        media_type: str,
        content: bytes,
        actor: str,
        actor_department: str = "",
        address: str = "",
    ) -> CaseFile:
        """Keep a material (or an issued document) of a case; its bytes are kept once per
        content. Audited as ``case_file``."""
        digest = hashlib.sha256(content).hexdigest()
        with self._identity_write(
            f"keeping a file of case {case_id}", f"保存案件 {case_id} 的材料"
        ):
            if self._latest(CASES, case_id) is None:
                raise _no_case(case_id)
            recorded = record_time().isoformat()
            if self._latest(BLOBS, digest) is None:
                self._append_state(BLOBS, (digest, content, recorded))
            n = len(self._states_of(FILES, case_id)) + 1
            f = CaseFile(case_id, n, material, filename, media_type, len(content), digest, actor)
            self._append_state(FILES, file_row(f, recorded))
            self._audit(
                actor,
                "case_file",
                f"case:{case_id}",
                material,
                {"filename": filename, "sha256": digest, "size": len(content)},
                department=actor_department,
                address=address,
            )
        return self.approval_files(case_id)[n - 1]

    def approval_files(self, case_id: str) -> list[CaseFile]:
        """The materials of a case, in the order they were handed in."""
        with self._reading(f"files of case {case_id}", f"案件 {case_id} 的材料"):
            rows = self._states_of(FILES, case_id)
        return sorted((file_of(r) for r in rows), key=lambda f: f.seq)

    def approval_file_content(self, sha256: str) -> bytes | None:
        """The bytes of a kept file, by their SHA-256."""
        with self._reading("a case file", "案件材料"):
            row = self._latest(BLOBS, sha256)
        return None if row is None else bytes(row[1])

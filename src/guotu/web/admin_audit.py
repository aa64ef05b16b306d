"""The audit administrator's part of the administration page (审计管理员, ``read_audit``): the
audit log, searched and exported. The page itself is :mod:`guotu.web.admin`.

* ``GET /admin/audit.json?actor=…&action=…&since=…&until=…&before_id=…&limit=…``: the audit
  log, newest first, a page at a time (``next_before_id`` pages on);
* ``GET /admin/audit.csv`` with the same filters: every matching entry as a CSV file (UTF-8
  with a byte-order mark, so Excel reads the Chinese; a cell that a spreadsheet would take
  for a formula is quoted with ``'``).

Times are UTC, as the audit log records them; a filter time with an offset is converted.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from guotu.domain.core.catalog import AuditEntry
from guotu.errors import InputError
from guotu.services.audit import search_audit
from guotu.web.admin import Store

__all__ = ["AUDIT_CSV_COLUMNS", "AUDIT_PAGE_MAX", "router"]

router = APIRouter(tags=["admin 系统管理"], include_in_schema=False)

#: Most audit entries one page of ``/admin/audit.json`` holds.
AUDIT_PAGE_MAX = 500
#: Entries read at a time while writing the CSV.
_CSV_BATCH = 5_000
#: The columns of ``/admin/audit.csv``, in order.
AUDIT_CSV_COLUMNS = (
    "id",
    "at_utc",
    "actor",
    "department",
    "address",
    "action",
    "object",
    "reason",
    "detail",
    "hash",
)
#: What a spreadsheet reads as the start of a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

ActorName = Annotated[str | None, Query(max_length=200, description="Who acted (exact name)")]
AuditAction = Annotated[str | None, Query(max_length=100, description="What they did")]
Since = Annotated[datetime | None, Query(description="From this time (UTC unless an offset)")]
Until = Annotated[datetime | None, Query(description="Before this time (UTC unless an offset)")]


def _utc(when: datetime | None) -> datetime | None:
    """``when`` as UTC without a time zone, as the audit log records times."""
    if when is None or when.tzinfo is None:
        return when
    return when.astimezone(UTC).replace(tzinfo=None)


def _entry_doc(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at,
        "actor": entry.actor,
        "department": entry.department,
        "address": entry.address,
        "action": entry.action,
        "object": entry.object,
        "reason": entry.reason,
        "detail": entry.detail,
    }


def _filters(
    actor: str | None, action: str | None, since: datetime | None, until: datetime | None
) -> dict[str, Any]:
    since, until = _utc(since), _utc(until)
    if since is not None and until is not None and until <= since:
        raise InputError(
            "The end of the time range is not after its start.",
            field="until",
            fix="Give an end time after the start time.",
            message_zh="时间范围的结束时间不晚于开始时间。",
            fix_zh="请让结束时间晚于开始时间。",
        )
    return {
        "actor": actor.strip() or None if actor else None,
        "action": action.strip() or None if action else None,
        "since": since,
        "until": until,
    }


@router.get("/admin/audit.json", summary="Search the audit log (审计管理员)")
def get_audit(
    store: Store,
    actor: ActorName = None,
    action: AuditAction = None,
    since: Since = None,
    until: Until = None,
    before_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=AUDIT_PAGE_MAX)] = 100,
) -> dict[str, Any]:
    """Entries matching every filter, newest first; ``next_before_id`` gives the next page
    (``null``: this was the last)."""
    found = search_audit(
        store, **_filters(actor, action, since, until), before_id=before_id, limit=limit + 1
    )
    page = found[:limit]
    return {
        "entries": [_entry_doc(e) for e in page],
        "next_before_id": page[-1].id if len(found) > limit else None,
    }


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return "'" + text if text.startswith(_FORMULA_START) else text


@router.get("/admin/audit.csv", summary="Export the audit log as CSV (审计管理员)")
def get_audit_csv(
    store: Store,
    actor: ActorName = None,
    action: AuditAction = None,
    since: Since = None,
    until: Until = None,
) -> Response:
    """Every entry matching the filters, newest first, as a CSV file."""
    filters = _filters(actor, action, since, until)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(AUDIT_CSV_COLUMNS)
    before: int | None = None
    while True:
        batch = search_audit(store, **filters, before_id=before, limit=_CSV_BATCH)
        for e in batch:
            writer.writerow(
                [
                    e.id,
                    e.at,
                    *(
                        _cell(v)
                        for v in (e.actor, e.department, e.address, e.action, e.object, e.reason)
                    ),
                    _cell(e.detail) if e.detail else "",
                    e.hash,
                ]
            )
        if len(batch) < _CSV_BATCH:
            break
        before = batch[-1].id
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Response(
        ("\ufeff" + out.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="audit-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )

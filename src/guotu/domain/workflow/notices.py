"""Notifications of approval cases (通知): what is sent when a case comes to someone, is
overdue, asks the applicant for 补正 or issues its document, and the outbox interface an SMS or
e-mail gateway implements.

Inside the app the 待办 list is the notification (it is read from the cases' statuses). What
leaves the app goes through an :class:`Outbox`: the engine hands it one :class:`Notice` per
change after the change is recorded; an outbox that fails never undoes or blocks the change
(the case is the record, the message a courtesy). ``guotu.io.outbox.JsonLinesOutbox`` is the
shipped one: it appends notices to a file a gateway process reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from guotu.domain.workflow.records import CaseStatus

__all__ = ["Notice", "Outbox", "notices_for"]


@dataclass(frozen=True)
class Notice:
    """One message: to whom (a :attr:`CaseStatus.waiting` name such as ``dept:zhujian`` or
    ``role:approver@guihua``, or ``applicant``), about which case, why (``todo``,
    ``supplement``, ``closed``), and its text."""

    at: datetime
    case_id: str
    to: str
    reason: str
    text_zh: str
    text_en: str


class Outbox(Protocol):
    """Where notices go out of the app (an SMS or e-mail gateway's adapter)."""

    def send(self, notice: Notice) -> None:
        """Hand over one notice (may raise; the engine logs it and goes on)."""
        ...


def notices_for(before: CaseStatus | None, after: CaseStatus, at: datetime) -> list[Notice]:
    """What to send when a case's status goes from ``before`` to ``after``: a 待办 notice to
    each one newly waiting, a 补正 notice to the applicant when the clock stops, and a notice
    to the applicant when the case closes.

    Examples
    --------
    >>> from datetime import date
    >>> s = CaseStatus("2026000001", "p", "co_review", "co_review", datetime(2026, 3, 2),
    ...     date(2026, 3, 16), False, False, ("dept:fagai",), 3, "某项目", "某公司", "guihua",
    ...     datetime(2026, 3, 2))
    >>> [(n.to, n.reason) for n in notices_for(None, s, datetime(2026, 3, 2))]
    [('dept:fagai', 'todo')]
    """
    out = []
    was = set() if before is None else set(before.waiting)
    for who in after.waiting:
        if who not in was:
            due = "" if after.due_on is None else f"，请于 {after.due_on:%Y-%m-%d} 前办理"
            due_en = "" if after.due_on is None else f", due {after.due_on:%Y-%m-%d}"
            out.append(
                Notice(
                    at,
                    after.case_id,
                    who,
                    "todo",
                    f"审批案件 {after.case_id}（{after.project}）待您办理{due}。",
                    f"Approval case {after.case_id} ({after.project}) awaits you{due_en}.",
                )
            )
    if after.paused and not (before is not None and before.paused):
        out.append(
            Notice(
                at,
                after.case_id,
                "applicant",
                "supplement",
                f"您申请的“{after.project}”（案件 {after.case_id}）需要补正材料，请与窗口联系。",
                f"Your application {after.case_id} needs supplementary materials.",
            )
        )
    if after.closed and not (before is not None and before.closed):
        out.append(
            Notice(
                at,
                after.case_id,
                "applicant",
                "closed",
                f"您申请的“{after.project}”（案件 {after.case_id}）已办结，请到窗口领取文书。",
                f"Your application {after.case_id} is decided; the document is ready.",
            )
        )
    return out

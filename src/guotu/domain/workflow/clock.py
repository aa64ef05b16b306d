"""The statutory clock of a stage: working days used, the due date, paused during 补正.

A stage's time limit runs in working days from the day the case entered it (that day not
counted). While the applicant supplements materials (补正) or an excluded step runs (hearing,
expert review: 行政许可法 art. 45, per docs/design/workflow-research.md), the clock stops and
resumes where it was: each paused working day moves the due date one working day later. The
calendar is given (:class:`WorkingDays`; ``guotu.io.working_days.WorkingCalendar`` is one), so
the rule is tested on any calendar.

States: ``running``; ``warning`` (at most ``warn_days`` working days left); ``overdue`` (past
the due date, still open: 督办); ``paused`` (补正 under way: no due date until it resumes);
``done`` (left the stage; ``late`` says whether after the due date).

``provisional`` says the clock stands on a calendar not yet settled: the due date or a day
counted falls in a year whose holiday arrangement (国务院办公厅's notice) the calendar does not
hold, so the day was computed from the holidays' rules alone and may move when the notice
arrives (show it as 暂定). A calendar that can tell implements :class:`ProvisionalDays`
(``WorkingCalendar`` does); on one that cannot, no clock is provisional.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol, runtime_checkable

__all__ = ["Pause", "ProvisionalDays", "StageClock", "WorkingDays", "stage_clock"]


class WorkingDays(Protocol):
    """Working-day arithmetic of a calendar."""

    def add(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` not counted)."""
        ...

    def between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end``."""
        ...


@runtime_checkable
class ProvisionalDays(Protocol):
    """A calendar that knows which of its days are provisional (computed without the year's
    official arrangement)."""

    def has_provisional_days(self, start: date, end: date) -> bool:
        """Whether any day after ``start`` up to and including ``end`` is provisional."""
        ...


@dataclass(frozen=True)
class Pause:
    """The clock stopped on ``start`` (补正 asked) and resumed on ``end`` (materials
    complete; ``None``: still stopped). The working days after ``start`` up to and including
    ``end`` are not counted."""

    start: date
    end: date | None = None


@dataclass(frozen=True)
class StageClock:
    """Where a stage's clock stands on a day; ``provisional``: the due date or a day counted
    lies where the calendar holds no official arrangement (暂定)."""

    state: str
    used: int
    limit: int
    due: date | None
    late: bool = False
    provisional: bool = False

    @property
    def left(self) -> int:
        """Working days left (negative: overdue by that many)."""
        return self.limit - self.used


def stage_clock(
    entered: date,
    limit: int,
    today: date,
    calendar: WorkingDays,
    *,
    pauses: tuple[Pause, ...] = (),
    left: date | None = None,
    warn_days: int = 3,
) -> StageClock:
    """The clock of a stage entered on ``entered`` with a limit of ``limit`` working days,
    as of ``today`` (or as it ended, when the case ``left`` the stage).

    Examples
    --------
    >>> class Weekdays:  # a calendar of Monday to Friday, no holidays
    ...     def add(self, start, days):
    ...         from datetime import timedelta
    ...         day = start
    ...         while days:
    ...             day += timedelta(days=1)
    ...             days -= day.weekday() < 5
    ...         return day
    ...     def between(self, start, end):
    ...         from datetime import timedelta
    ...         return sum((start + timedelta(d)).weekday() < 5 for d in range(1, (end - start).days + 1))
    >>> c = stage_clock(date(2026, 3, 2), 10, date(2026, 3, 4), Weekdays())
    >>> c.state, c.used, c.due
    ('running', 2, datetime.date(2026, 3, 16))
    >>> stage_clock(date(2026, 3, 2), 10, date(2026, 3, 11), Weekdays()).state  # 3 left
    'warning'
    >>> c.provisional  # a calendar that cannot tell: not provisional
    False
    """
    until = left or today
    paused = 0
    open_pause = False
    for p in pauses:
        end = p.end if p.end is not None and p.end <= until else until
        open_pause = open_pause or p.end is None or p.end > until
        paused += calendar.between(p.start, end) if end > p.start else 0
    used = calendar.between(entered, until) - paused
    due = None if open_pause and left is None else calendar.add(entered, limit + paused)
    provisional = isinstance(calendar, ProvisionalDays) and calendar.has_provisional_days(
        entered, max(until, due) if due is not None else until
    )
    if left is not None and due is not None:
        return StageClock("done", used, limit, due, late=left > due, provisional=provisional)
    if open_pause:
        return StageClock("paused", used, limit, None, provisional=provisional)
    state = "overdue" if used > limit else "warning" if limit - used <= warn_days else "running"
    return StageClock(state, used, limit, due, provisional=provisional)

"""The statutory clock of a stage (``guotu.domain.workflow.clock``) on the official calendar of
2026 (``guotu.io.working_days``): across 春节 and its 调休 Saturdays, stopped during 补正; and
provisional (暂定) when it runs into 2027, whose arrangement the calendar does not hold."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from guotu.domain.workflow.clock import Pause, stage_clock
from guotu.io.working_days import CalendarOverride, WorkingCalendar, YearArrangement


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def test_a_limit_across_the_spring_festival(cal: WorkingCalendar) -> None:
    # accepted Tue 10 Feb 2026, 20 working days: due Mon 16 Mar (春节 17-23 Feb off,
    # Saturdays 14 and 28 Feb worked)
    c = stage_clock(date(2026, 2, 10), 20, date(2026, 2, 27), cal)
    assert (c.state, c.used, c.due, c.left) == ("running", 8, date(2026, 3, 16), 12)
    assert not c.provisional
    assert stage_clock(date(2026, 2, 10), 20, date(2026, 3, 11), cal).state == "warning"
    late = stage_clock(date(2026, 2, 10), 20, date(2026, 3, 17), cal)
    assert (late.state, late.used, late.left) == ("overdue", 21, -1)


def test_the_clock_stops_during_supplementing_and_resumes(cal: WorkingCalendar) -> None:
    entered, limit = date(2026, 3, 2), 10  # Monday
    # 补正 asked on Wed 4 Mar, materials complete on Fri 13 Mar: 7 working days not counted
    pause = Pause(date(2026, 3, 4), date(2026, 3, 13))
    stopped = stage_clock(entered, limit, date(2026, 3, 10), cal, pauses=(Pause(pause.start),))
    assert (stopped.state, stopped.used, stopped.due) == ("paused", 2, None)
    resumed = stage_clock(entered, limit, date(2026, 3, 16), cal, pauses=(pause,))
    assert (resumed.state, resumed.used) == ("running", 3)
    # without the pause it would have been due Mon 16 Mar; 7 working days later: Wed 25 Mar
    assert stage_clock(entered, limit, date(2026, 3, 3), cal).due == date(2026, 3, 16)
    assert resumed.due == date(2026, 3, 25)


def test_a_finished_stage_says_whether_it_was_late(cal: WorkingCalendar) -> None:
    on_time = stage_clock(date(2026, 3, 2), 5, date(2026, 4, 1), cal, left=date(2026, 3, 9))
    assert (on_time.state, on_time.used, on_time.late) == ("done", 5, False)
    late = stage_clock(date(2026, 3, 2), 5, date(2026, 4, 1), cal, left=date(2026, 3, 10))
    assert (late.state, late.used, late.late, late.due) == ("done", 6, True, date(2026, 3, 9))


def test_a_clock_running_into_2027_is_provisional(cal: WorkingCalendar) -> None:
    # accepted Mon 7 Dec 2026, 20 working days: 8-31 Dec give 18, Fri 1 Jan 2027 is 元旦 by
    # the statutory rule, Mon 4 and Tue 5 Jan give 19 and 20
    c = stage_clock(date(2026, 12, 7), 20, date(2026, 12, 7), cal)
    assert (c.state, c.used, c.due, c.provisional) == ("running", 0, date(2027, 1, 5), True)


def test_a_stage_that_ended_in_2026_is_not_provisional(cal: WorkingCalendar) -> None:
    done = stage_clock(date(2026, 10, 12), 10, date(2026, 12, 7), cal, left=date(2026, 10, 20))
    assert (done.state, done.due, done.provisional) == ("done", date(2026, 10, 26), False)


def test_the_arrangement_for_2027_clears_the_flag() -> None:
    # a fictitious arrangement (not the State Council's): only 元旦 off, nothing worked
    made_up = YearArrangement(2027, "测试用虚构通知", frozenset({date(2027, 1, 1)}), frozenset())
    cal = WorkingCalendar(CalendarOverride("test", (made_up,)))
    c = stage_clock(date(2026, 12, 7), 20, date(2026, 12, 7), cal)
    assert (c.due, c.provisional) == (date(2027, 1, 5), False)


class Weekdays:
    """A calendar of Monday to Friday that cannot tell what is provisional."""

    def add(self, start: date, days: int) -> date:
        day = start
        while days:
            day += timedelta(days=1)
            days -= day.weekday() < 5
        return day

    def between(self, start: date, end: date) -> int:
        return sum((start + timedelta(d)).weekday() < 5 for d in range(1, (end - start).days + 1))


def test_a_calendar_that_cannot_tell_is_never_provisional() -> None:
    c = stage_clock(date(2026, 12, 7), 20, date(2026, 12, 7), Weekdays())
    assert (c.due, c.provisional) == (date(2027, 1, 4), False)

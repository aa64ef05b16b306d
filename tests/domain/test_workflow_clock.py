"""The statutory clock of a stage (``guotu.domain.workflow.clock``) on the official calendar of
2026 (``guotu.io.working_days``): across 春节 and its 调休 Saturdays, stopped during 补正."""

from __future__ import annotations

from datetime import date

import pytest

from guotu.domain.workflow.clock import Pause, stage_clock
from guotu.io.working_days import WorkingCalendar


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def test_a_limit_across_the_spring_festival(cal: WorkingCalendar) -> None:
    # accepted Tue 10 Feb 2026, 20 working days: due Mon 16 Mar (春节 17-23 Feb off,
    # Saturdays 14 and 28 Feb worked)
    c = stage_clock(date(2026, 2, 10), 20, date(2026, 2, 27), cal)
    assert (c.state, c.used, c.due, c.left) == ("running", 8, date(2026, 3, 16), 12)
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

"""Working days on the official calendar (``guotu.io.working_days``): known answers for 2026,
checked against two independent packages (``holidays`` and ``chinesecalendar`` agree on every
one; docs/design/workflow-research.md), and a year the calendar does not hold refused."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from guotu.io.working_days import CalendarYearNotCovered, WorkingCalendar, last_covered_year

#: The weekend days worked in 2026 (调休), per the State Council's notice for 2026.
WORKED_WEEKENDS_2026 = [
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
]


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def test_the_weekends_worked_in_2026_are_working_days(cal: WorkingCalendar) -> None:
    day, worked = date(2026, 1, 1), []
    while day.year == 2026:
        if day.weekday() >= 5 and cal.is_working_day(day):
            worked.append(day)
        day += timedelta(days=1)
    assert worked == WORKED_WEEKENDS_2026


def test_holidays_are_not_working_days(cal: WorkingCalendar) -> None:
    assert not cal.is_working_day(date(2026, 1, 1))  # 元旦
    assert not cal.is_working_day(date(2026, 2, 17))  # 春节, a Tuesday
    assert not cal.is_working_day(date(2026, 10, 1))  # 国庆节
    assert cal.is_working_day(date(2026, 3, 2))  # an ordinary Monday


def test_a_time_limit_across_the_spring_festival(cal: WorkingCalendar) -> None:
    # accepted Tue 10 Feb 2026: 20 working days run to Mon 16 Mar (not 10 Mar, as calendar
    # weekdays would), the 调休 Saturdays 14 and 28 Feb counted, 春节 not
    assert cal.add(date(2026, 2, 10), 20) == date(2026, 3, 16)
    assert cal.between(date(2026, 2, 10), date(2026, 3, 16)) == 20
    assert cal.between(date(2026, 2, 10), date(2026, 3, 13)) == 19
    # accepted on a Sunday: the day itself is not counted, the next working day is the first
    assert cal.add(date(2026, 2, 15), 20) == date(2026, 3, 20)
    # counting back, for a warning three working days before a deadline
    assert cal.add(date(2026, 3, 16), -3) == date(2026, 3, 11)
    assert cal.add(date(2026, 3, 16), 0) == date(2026, 3, 16)
    assert cal.between(date(2026, 3, 16), date(2026, 2, 10)) == 0


def test_a_year_without_an_arrangement_is_refused_not_guessed(cal: WorkingCalendar) -> None:
    beyond = date(last_covered_year() + 1, 3, 2)
    with pytest.raises(CalendarYearNotCovered) as refused:
        cal.is_working_day(beyond)
    assert refused.value.exit_code == 3  # the environment's: a newer holidays package
    text = refused.value.render("zh")
    assert (
        f"工作日历中没有 {beyond.year} 年的节假日安排" in text and "pip install -U holidays" in text
    )
    with pytest.raises(CalendarYearNotCovered):
        cal.add(date(last_covered_year(), 12, 20), 30)  # runs into the year it lacks
    with pytest.raises(CalendarYearNotCovered):
        cal.is_working_day(date(1999, 5, 4))

"""Working days (工作日) of mainland China: weekends, statutory holidays and 调休 workdays.

Statutory time limits of approvals are counted in working days (行政许可法; the sources, and
what is not yet verified, are in ``docs/design/workflow-research.md``), so a deadline needs the
year's holiday arrangement, which the State
Council's General Office (国务院办公厅) publishes each year around November: which days are off
and which weekend days are worked instead (调休). guotu takes it from the maintained ``holidays``
package (MIT; it cites the notice of every year), not from a list of its own.

That package has one trap: for a year whose notice it does not hold it answers anyway, from the
holidays' rules, without any 调休 workday and without saying so. :class:`WorkingCalendar`
refuses such a year instead (:class:`CalendarYearNotCovered`, an environment failure: the fix is
a newer ``holidays``), because a deadline computed on a guessed calendar is a wrong deadline.
The last covered year is the last one with a 调休 workday in the package's data (the arrangement
of every year since 2001 has had at least one).

Counting: the day something happens (受理) is not counted; the deadline is the n-th working
day after it (:meth:`WorkingCalendar.add`).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

from holidays.countries.china import China

from guotu.errors import EnvironmentSetupError

__all__ = ["CalendarYearNotCovered", "WorkingCalendar", "last_covered_year"]

#: The first year of the package's official 调休 data.
FIRST_YEAR = 2001


class CalendarYearNotCovered(EnvironmentSetupError):
    """A date falls in a year whose holiday arrangement the installed calendar does not hold."""

    code = "calendar-year-not-covered"


@cache
def last_covered_year() -> int:
    """The last year whose 调休 workdays the installed ``holidays`` package holds (the last
    year with an official arrangement in it).

    Examples
    --------
    >>> last_covered_year() >= 2026
    True
    """
    probe = China(years=range(FIRST_YEAR, date.today().year + 3))  # type: ignore[no-untyped-call]
    return int(max(d.year for d in probe.weekend_workdays))


class WorkingCalendar:
    """Working-day arithmetic on mainland China's official calendar.

    Examples
    --------
    >>> cal = WorkingCalendar()
    >>> cal.is_working_day(date(2026, 2, 14))  # a Saturday worked (调休) before 春节
    True
    >>> cal.is_working_day(date(2026, 2, 17))  # 春节
    False
    >>> cal.add(date(2026, 2, 10), 20)  # 20 working days after acceptance on 10 Feb, across 春节
    datetime.date(2026, 3, 16)
    >>> cal.between(date(2026, 2, 10), date(2026, 3, 16))
    20
    """

    def __init__(self) -> None:
        self.last_year = last_covered_year()
        self._days = China(years=range(FIRST_YEAR, self.last_year + 1))  # type: ignore[no-untyped-call]

    def _check(self, day: date) -> None:
        if not FIRST_YEAR <= day.year <= self.last_year:
            raise CalendarYearNotCovered(
                f"The working-day calendar has no holiday arrangement for {day.year} "
                f"(it covers {FIRST_YEAR}-{self.last_year}).",
                fix="Install a newer release of the holidays package (pip install -U "
                "holidays), which carries the State Council's notice for that year.",
                message_zh=f"工作日历中没有 {day.year} 年的节假日安排（现有 "
                f"{FIRST_YEAR}—{self.last_year} 年），无法计算工作日期限。",
                fix_zh="请升级 holidays 软件包（pip install -U holidays），"
                "新版本载有国务院办公厅当年的放假通知。",
            )

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is worked: a weekday that is no holiday, or a 调休 weekend day."""
        self._check(day)
        return bool(self._days.is_working_day(day))

    def add(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself not counted; a
        negative ``days`` counts back, for warnings before a deadline)."""
        if days == 0:
            return start
        step = timedelta(days=1 if days > 0 else -1)
        left, day = abs(days), start
        while left:
            day += step
            if self.is_working_day(day):
                left -= 1
        return day

    def between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not
        after ``start``): how many of a time limit's days have been used."""
        self._check(start)
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count

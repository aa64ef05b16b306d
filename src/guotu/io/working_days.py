"""Working days (工作日) of mainland China: weekends, statutory holidays and 调休 workdays.

Statutory time limits of approvals are counted in working days (行政许可法; the sources, and
what is not yet verified, are in ``docs/design/workflow-research.md``), so a deadline needs the
year's holiday arrangement, which the State Council's General Office (国务院办公厅) publishes
each year around November: which days are off and which weekend days are worked instead (调休).
guotu takes it from the maintained ``holidays`` package (MIT; it cites the notice of every
year), not from a list of its own. The last year the package holds is the last one with a 调休
workday in its data (the arrangement of every year since 2001 has had at least one).

A year the package does not hold yet (in December, every new case's deadline falls in it) is
handled in one of three ways:

* **provisional** (the default): the day is computed from the package's rules (the statutory
  holidays, one falling on a weekend moved to the next workday, no 调休 workday) and
  :meth:`WorkingCalendar.is_provisional` says so; a deadline on it is shown as 暂定 until the
  arrangement arrives. The notice of a year has also moved days at the end of the December
  before (the package's data: 2001-12-29/30, 2005-12-31, 2006-12-30/31, 2011-12-31 were
  worked under the next year's notice), so a December day is provisional too while the next
  year's arrangement is missing;
* **an override**: a bureau copies the notice into a small YAML file (schema ``calendar-v1``;
  :func:`load_calendar`), every day off and every weekend day worked, with the notice's
  number. A year given there replaces the package's data for that year and is not
  provisional;
* **strict** (``WorkingCalendar(strict=True)``): a provisional day is refused
  (:class:`CalendarYearNotCovered`, an environment failure, exit 3), for a caller that must not
  compute on a guessed calendar.

A year before 2001 is refused in every mode, unless the override gives it.

Counting: the day something happens (受理) is not counted; the deadline is the n-th working
day after it (:meth:`WorkingCalendar.add`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from holidays.countries.china import China

from guotu.domain.core.documents import HOLIDAY_ARRANGEMENT, DocumentProblem, document_error
from guotu.errors import EnvironmentSetupError
from guotu.io.yaml_documents import load_document

__all__ = [
    "CalendarOverride",
    "CalendarYearNotCovered",
    "WorkingCalendar",
    "YearArrangement",
    "last_covered_year",
    "load_calendar",
    "parse_override",
]

#: The first year of the package's official 调休 data.
FIRST_YEAR = 2001

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class CalendarYearNotCovered(EnvironmentSetupError):
    """A date falls in a year whose holiday arrangement the calendar does not hold, and the
    calendar may not compute it provisionally (strict mode, or a year before 2001)."""

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


@cache
def _statutory_days(year: int) -> tuple[date, ...]:
    """The statutory holidays of ``year`` by the package's rules (no day moved, no 调休)."""
    rules = China(years=year, observed=False)  # type: ignore[no-untyped-call]
    return tuple(sorted(d for d in rules if d.year == year))


@dataclass(frozen=True)
class YearArrangement:
    """One year's holiday arrangement as a notice gives it: every day off (放假), every
    weekend day worked (调休上班) and the notice (``source``)."""

    year: int
    source: str
    holidays: frozenset[date]
    weekend_workdays: frozenset[date]


@dataclass(frozen=True)
class CalendarOverride:
    """The arrangements of a holiday arrangement file (``file``), by year."""

    file: str
    years: tuple[YearArrangement, ...]


def _day(value: Any) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _day_problem(d: date | None, value: Any, year: int, worked: bool) -> tuple[str, str] | None:
    """What is wrong with one listed day on its own (Chinese, English), if anything."""
    if d is None:
        return f"“{value}”不是日期（应写作 YYYY-MM-DD）", "not a date YYYY-MM-DD"
    if d.year != year and not (d.year == year - 1 and d.month == 12):
        return (
            f"日期 {d} 不在 {year} 年内（也不在其前一年 12 月）",
            f"date not in {year} or the December before",
        )
    if worked and d.weekday() < 5:
        return (
            f"调休上班日 {d} 不是星期六或星期日（工作日本来就上班）",
            "a weekend workday must be a Saturday or Sunday",
        )
    return None


def _year_problems(source: str, at: str, y: YearArrangement) -> list[DocumentProblem]:
    """What the schema cannot see in one year's entry: statutory holidays worked."""
    out = []
    if y.year > last_covered_year():
        for d in _statutory_days(y.year):
            if d in y.weekend_workdays or (d.weekday() < 5 and d not in y.holidays):
                out.append(
                    DocumentProblem(
                        source,
                        f"{at}.holidays",
                        f"法定节假日 {d}（依 holidays 软件包的规则推算）在此文件中是工作日；"
                        "请照通知列出当年全部放假日 (a statutory holiday is a working day here)",
                    )
                )
    return out


def parse_override(source: str, data: Mapping[str, Any]) -> CalendarOverride:
    """The :class:`CalendarOverride` a schema-checked holiday arrangement document gives.

    Refused, each with its YAML path: a value that is not a date; a date outside its year
    (the December before it is allowed: a notice has moved days there); a weekend workday that
    is no Saturday or Sunday; a day both off and worked; a year given twice; for a year the
    package does not hold, a statutory holiday (by the package's rules) left working.

    Raises
    ------
    ConfigError
        Every problem at once (:func:`~guotu.domain.core.documents.document_error`).

    Examples
    --------
    >>> doc = {"schema_version": 1, "years": [{"year": 2026, "source": "示例", "holidays":
    ...        [date(2026, 1, 1)], "weekend_workdays": [date(2026, 1, 4)]}]}
    >>> parse_override("c.yaml", doc).years[0].weekend_workdays
    frozenset({datetime.date(2026, 1, 4)})
    """
    problems: list[DocumentProblem] = []
    years: list[YearArrangement] = []
    first_at: dict[int, str] = {}
    seen: dict[date, tuple[bool, str]] = {}  # day -> (worked, where first listed)
    for i, raw in enumerate(data["years"]):
        at, year = f"$.years[{i}]", int(raw["year"])
        if year in first_at:
            problems.append(
                DocumentProblem(
                    source,
                    f"{at}.year",
                    f"{year} 年重复（另见 {first_at[year]}）(year given twice)",
                )
            )
        first_at.setdefault(year, at)
        days: dict[bool, set[date]] = {False: set(), True: set()}
        for key, worked in (("holidays", False), ("weekend_workdays", True)):
            for j, value in enumerate(raw[key]):
                where = f"{at}.{key}[{j}]"
                d = _day(value)
                wrong = _day_problem(d, value, year, worked)
                if wrong is None and d is not None:
                    other = seen.setdefault(d, (worked, where))
                    if other[0] == worked:
                        days[worked].add(d)
                        continue
                    wrong = (
                        f"{d} 同时列为放假日和调休上班日（另见 {other[1]}）",
                        "a day both off and worked",
                    )
                if wrong is not None:
                    problems.append(DocumentProblem(source, where, f"{wrong[0]} ({wrong[1]})"))
        y = YearArrangement(
            year, str(raw["source"]).strip(), frozenset(days[False]), frozenset(days[True])
        )
        problems += _year_problems(source, at, y)
        years.append(y)
    if problems:
        raise document_error(HOLIDAY_ARRANGEMENT, source, problems)
    return CalendarOverride(source, tuple(years))


class WorkingCalendar:
    """Working-day arithmetic on mainland China's official calendar.

    Parameters
    ----------
    override
        Arrangements a bureau copied from the notices (:func:`load_calendar`); a year given
        there replaces the package's data for that year.
    strict
        Refuse a provisional day (:class:`CalendarYearNotCovered`) instead of computing it.

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
    >>> cal.is_provisional(date(2026, 3, 16))
    False
    >>> cal.is_provisional(date(last_covered_year() + 1, 3, 1))  # no notice held: by the rules
    True
    """

    def __init__(self, override: CalendarOverride | None = None, *, strict: bool = False) -> None:
        self.last_year = last_covered_year()
        self.strict = strict
        self.override = override
        self._days = China(years=range(FIRST_YEAR, self.last_year + 1))  # type: ignore[no-untyped-call]
        self._override_years = (
            frozenset(y.year for y in override.years) if override else frozenset()
        )
        self._fixed: dict[date, bool] = {}  # the days an override gives: worked or not
        for y in override.years if override else ():
            self._fixed.update(dict.fromkeys(y.holidays, False))
            self._fixed.update(dict.fromkeys(y.weekend_workdays, True))

    def _is_settled(self, year: int) -> bool:
        """Whether the arrangement of ``year`` is held (package or override)."""
        return year in self._override_years or FIRST_YEAR <= year <= self.last_year

    def is_provisional(self, day: date) -> bool:
        """Whether ``day`` is computed from the holidays' rules alone: its year's arrangement
        is not held, or it is in December and the next year's is not (a notice may move days
        at the end of the December before). A year before 2001 is refused, never provisional.

        Examples
        --------
        >>> cal = WorkingCalendar()
        >>> cal.is_provisional(date(last_covered_year(), 12, 31))  # the next notice may move it
        True
        >>> cal.is_provisional(date(last_covered_year(), 11, 30))
        False
        """
        if day in self._fixed:
            return False
        if not self._is_settled(day.year):
            return day.year >= FIRST_YEAR
        return day.month == 12 and not self._is_settled(day.year + 1)

    def has_provisional_days(self, start: date, end: date) -> bool:
        """Whether any day after ``start`` up to and including ``end`` is provisional (the
        days :meth:`between` counts): a time limit running over them is 暂定."""
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_provisional(day):
                return True
        return False

    def _check(self, day: date) -> None:
        if day in self._fixed:
            return
        if self._is_settled(day.year) and not (self.strict and self.is_provisional(day)):
            return
        if day.year >= FIRST_YEAR and not self.strict:
            return
        missing = day.year if not self._is_settled(day.year) else day.year + 1
        extra = [str(y) for y in sorted(self._override_years)]
        held = f"{FIRST_YEAR}-{self.last_year}" + (f", {', '.join(extra)}" if extra else "")
        held_zh = f"{FIRST_YEAR}—{self.last_year} 年" + (
            f"，{'、'.join(extra)} 年" if extra else ""
        )
        december = missing != day.year
        raise CalendarYearNotCovered(
            f"The working-day calendar has no holiday arrangement for {missing} (it holds "
            f"{held}), so whether {day} is a working day is not known"
            + (" (a year's notice may move days of the December before)" if december else "")
            + ".",
            fix="Install a newer release of the holidays package (pip install -U holidays), "
            "which carries the State Council's notice for that year, or copy the notice's days "
            "off and weekend days worked into a holiday arrangement file (schema calendar-v1).",
            message_zh=f"工作日历中没有 {missing} 年的节假日安排（现有 {held_zh}），无法确定 "
            f"{day} 是否为工作日"
            + ("（当年的放假通知可能调整上一年 12 月的日子）" if december else "")
            + "，无法计算工作日期限。",
            fix_zh="请升级 holidays 软件包（pip install -U holidays），新版本载有国务院办公厅"
            "当年的放假通知；或把通知中的放假日和调休上班日写入节假日安排文件（模式 calendar-v1）。",
        )

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is worked: a weekday that is no holiday, or a 调休 weekend day."""
        self._check(day)
        if day in self._fixed:
            return self._fixed[day]
        if day.year in self._override_years:
            return day.weekday() < 5
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


def load_calendar(override: Path | None, *, strict: bool = False) -> WorkingCalendar:
    """The working-day calendar, with the arrangements of the holiday arrangement file
    ``override`` (schema ``calendar-v1``) when one is given.

    Raises
    ------
    ConfigError
        The file cannot be read, breaks the schema, or gives impossible days (every problem
        with the file and its YAML path, Chinese first, and the fix; CLI exit 2).

    Examples
    --------
    >>> load_calendar(None).is_working_day(date(2026, 1, 4))  # a Sunday worked in 2026
    True
    """
    if override is None:
        return WorkingCalendar(strict=strict)
    source, data = load_document(override, HOLIDAY_ARRANGEMENT)
    return WorkingCalendar(parse_override(source, data), strict=strict)

"""Working days on the official calendar (``guotu.io.working_days``): known answers for 2026,
checked against two independent packages (``holidays`` and ``chinesecalendar`` agree on every
one; docs/design/workflow-research.md); 2027, which the package does not hold, computed
provisionally by hand-checked answers, refused in strict mode, and settled by a bureau's
holiday arrangement file (a fictitious one made for these tests); bad files refused."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from guotu.errors import ConfigError
from guotu.io.working_days import (
    CalendarYearNotCovered,
    WorkingCalendar,
    last_covered_year,
    load_calendar,
)

#: The weekend days worked in 2026 (调休), per the State Council's notice for 2026.
WORKED_WEEKENDS_2026 = [
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
]

#: The statutory holidays of 2027 as the holidays package's rules give them (元旦, 除夕 and
#: 春节, 清明, 劳动节, 端午, 中秋, 国庆), then a 调休 Saturday that is MADE UP: this is not the
#: State Council's arrangement for 2027, which could not be checked here.
FICTITIOUS_2027 = """\
# 虚构的测试数据，不是国务院办公厅的放假通知：2027-01-09 调休上班是编造的。
schema_version: 1
years:
  - year: 2027
    source: 测试用虚构通知（并非真实文件）
    holidays: [2027-01-01, 2027-01-02, 2027-01-03, 2027-02-05, 2027-02-06, 2027-02-07,
               2027-02-08, 2027-04-05, 2027-05-01, 2027-05-02, 2027-06-09, 2027-09-15,
               2027-10-01, 2027-10-02, 2027-10-03]
    weekend_workdays: [2027-01-09]
"""


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


@pytest.fixture
def fictitious(tmp_path: Path) -> Path:
    path = tmp_path / "holidays-2027.yaml"
    path.write_text(FICTITIOUS_2027, encoding="utf-8")
    return path


def test_the_package_holds_2026_last() -> None:
    # the 2027 answers below are provisional ones; a holidays release with the 2027 notice
    # settles the year: then check its 调休 days and turn these tests into official answers
    assert last_covered_year() == 2026


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
    assert not cal.has_provisional_days(date(2026, 2, 10), date(2026, 3, 16))


def test_a_2027_deadline_is_computed_provisionally(cal: WorkingCalendar) -> None:
    # accepted Mon 28 Dec 2026: 29, 30, 31 Dec are days 1-3; Fri 1 Jan 2027 is 元旦 (by the
    # statutory rule), then 4-8 Jan (4-8), 11-15 (9-13), 18-22 (14-18), 25 and 26 Jan (19, 20)
    assert not cal.is_working_day(date(2027, 1, 1))
    assert cal.add(date(2026, 12, 28), 20) == date(2027, 1, 26)
    assert cal.between(date(2026, 12, 28), date(2027, 1, 26)) == 20
    assert cal.is_provisional(date(2027, 1, 26))
    assert cal.has_provisional_days(date(2026, 12, 28), date(2027, 1, 26))


def test_december_waits_for_the_next_years_notice(cal: WorkingCalendar) -> None:
    # a notice has moved days of the December before (2011-12-31 was worked under 2012's)
    assert cal.is_working_day(date(2011, 12, 31))  # a Saturday
    assert cal.is_provisional(date(2026, 12, 1))
    assert not cal.is_provisional(date(2026, 11, 30))
    assert not cal.has_provisional_days(date(2026, 11, 2), date(2026, 11, 30))


def test_strict_mode_refuses_a_year_without_an_arrangement() -> None:
    strict = WorkingCalendar(strict=True)
    beyond = date(last_covered_year() + 1, 3, 2)
    with pytest.raises(CalendarYearNotCovered) as refused:
        strict.is_working_day(beyond)
    assert refused.value.exit_code == 3  # the environment's: a newer holidays package
    text = refused.value.render("zh")
    assert (
        f"工作日历中没有 {beyond.year} 年的节假日安排" in text and "pip install -U holidays" in text
    )
    with pytest.raises(CalendarYearNotCovered):
        strict.add(date(last_covered_year(), 11, 20), 30)  # runs into the days it lacks


def test_strict_mode_refuses_december_before_a_missing_notice() -> None:
    with pytest.raises(CalendarYearNotCovered) as refused:
        WorkingCalendar(strict=True).is_working_day(date(2026, 12, 31))
    assert "工作日历中没有 2027 年的节假日安排" in refused.value.render("zh")


@pytest.mark.parametrize("strict", [False, True])
def test_a_year_before_2001_is_refused_in_every_mode(strict: bool) -> None:
    with pytest.raises(CalendarYearNotCovered):
        WorkingCalendar(strict=strict).is_working_day(date(1999, 5, 4))


def test_an_override_settles_its_year(fictitious: Path) -> None:
    cal = load_calendar(fictitious)
    # as above, but Sat 9 Jan is worked (made up): it is day 9, and day 20 is Mon 25 Jan
    assert cal.add(date(2026, 12, 28), 20) == date(2027, 1, 25)
    assert not cal.has_provisional_days(date(2026, 12, 28), date(2027, 1, 25))
    assert cal.is_provisional(date(2028, 3, 1))


def test_an_override_replaces_the_packages_guess_for_its_year(fictitious: Path) -> None:
    # the rules move 春节 on Sat 6 and Sun 7 Feb to Tue 9 and Wed 10; the file does not
    assert not WorkingCalendar().is_working_day(date(2027, 2, 9))
    assert load_calendar(fictitious).is_working_day(date(2027, 2, 9))


def test_strict_mode_accepts_a_year_the_override_gives(fictitious: Path) -> None:
    assert load_calendar(fictitious, strict=True).add(date(2026, 12, 28), 20) == date(2027, 1, 25)


def test_an_override_may_move_a_day_of_the_december_before(tmp_path: Path) -> None:
    path = tmp_path / "h.yaml"
    path.write_text(FICTITIOUS_2027.replace("[2027-01-01,", "[2026-12-31, 2027-01-01,"), "utf-8")
    assert not load_calendar(path).is_working_day(date(2026, 12, 31))
    assert WorkingCalendar().is_working_day(date(2026, 12, 31))


def test_no_override_is_the_plain_calendar() -> None:
    assert load_calendar(None).add(date(2026, 2, 10), 20) == date(2026, 3, 16)


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        # the notice must be named
        ("    source: 测试用虚构通知（并非真实文件）\n", "", "$.years[0]"),
        ("source: 测试用虚构通知（并非真实文件）", "source: '  '", "$.years[0].source"),
        # a date outside its year, a value that is no date
        ("2027-10-03]", "2027-10-03, 2028-01-03]", "$.years[0].holidays[15]"),
        ("2027-10-03]", "2027-10-03, 2026-06-01]", "$.years[0].holidays[15]"),
        ("2027-10-03]", "2027-10-03, '2027-13-01']", "$.years[0].holidays[15]"),
        ("2027-10-03]", "2027-10-03, 明天]", "$.years[0].holidays[15]"),
        # a day both off and worked; a 调休 workday that is no weekend day
        ("[2027-01-09]", "[2027-01-09, 2027-01-02]", "$.years[0].weekend_workdays[1]"),
        ("[2027-01-09]", "[2027-01-12]", "$.years[0].weekend_workdays[0]"),
        # a statutory holiday left working (除夕, a Friday)
        ("2027-02-05, ", "", "$.years[0].holidays"),
        # the same year twice
        ("years:\n", "years:\n  - {year: 2027, source: x, holidays: [2027-01-01], "
         "weekend_workdays: []}\n", "$.years[1].year"),
    ],
)  # fmt: skip
def test_a_bad_override_is_refused_with_its_path(
    tmp_path: Path, old: str, new: str, path: str
) -> None:
    assert old in FICTITIOUS_2027
    bad = tmp_path / "bad.yaml"
    bad.write_text(FICTITIOUS_2027.replace(old, new), encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_calendar(bad)
    err = refused.value
    assert err.exit_code == 2 and err.file == str(bad)
    text = err.render("zh")
    assert text.startswith(f"节假日安排 {bad} 有 ")
    assert f"{bad}: {path}: " in text
    assert "解决办法：" in text and "calendar-v1" in text


def test_a_missing_override_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        load_calendar(tmp_path / "none.yaml")
    assert refused.value.exit_code == 2 and "不存在" in refused.value.render("zh")

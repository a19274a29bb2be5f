from datetime import date

import chinese_calendar
import pytest

from automation.policy.workcal import WorkCalendar

NATIONAL_DAY = [date(2026, 10, d) for d in range(1, 8)]


def test_chinese_calendar_data_agrees_with_what_we_assume_for_2026():
    assert not any(chinese_calendar.is_workday(d) for d in NATIONAL_DAY)
    assert chinese_calendar.is_workday(date(2026, 10, 10))  # Saturday make-up day
    assert chinese_calendar.is_workday(date(2026, 9, 20))  # Sunday make-up day


def test_national_day_holiday_is_not_working_and_make_up_saturday_is():
    cal = WorkCalendar()
    assert [cal.is_workday(d) for d in NATIONAL_DAY] == [False] * 7
    assert cal.is_workday(date(2026, 10, 10))
    assert not cal.is_workday(date(2026, 10, 11))


def test_add_workdays_skips_the_holiday_and_counts_the_make_up_day():
    cal = WorkCalendar()
    assert cal.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert cal.add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert cal.add_workdays(date(2026, 9, 30), 4) == date(2026, 10, 12)
    assert cal.add_workdays(date(2026, 10, 8), -1) == date(2026, 9, 30)
    assert cal.add_workdays(date(2026, 10, 3), 0) == date(2026, 10, 3)


def test_workdays_between_counts_days_after_start_up_to_end():
    cal = WorkCalendar()
    assert cal.workdays_between(date(2026, 9, 30), date(2026, 10, 12)) == 4
    assert cal.workdays_between(date(2026, 10, 12), date(2026, 9, 30)) == -4
    assert cal.workdays_between(date(2026, 10, 1), date(2026, 10, 7)) == 0


def test_holiday_from_the_sheet_overrides_the_built_in_calendar():
    cal = WorkCalendar({date(2026, 10, 9): False, date(2026, 10, 11): True})
    assert not cal.is_workday(date(2026, 10, 9))
    assert cal.is_workday(date(2026, 10, 11))
    assert cal.add_workdays(date(2026, 9, 30), 2) == date(2026, 10, 10)
    assert cal.add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 11)


def test_dates_beyond_chinese_calendar_data_fall_back_to_weekends_only():
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2040, 1, 2))
    cal = WorkCalendar()
    assert cal.is_workday(date(2040, 1, 2))  # Monday
    assert not cal.is_workday(date(2040, 1, 7))  # Saturday
    assert cal.add_workdays(date(2040, 1, 6), 1) == date(2040, 1, 9)
    assert WorkCalendar({date(2040, 1, 2): False}).add_workdays(date(2039, 12, 30), 1) == date(2040, 1, 3)

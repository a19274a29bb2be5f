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


def test_workdays_between_from_the_cumulative_count_equals_walking_the_days():
    """The count kept per day (built a year at a time) answers as the walk over the days does:
    across the National Day holiday, make-up days, the sheet's own days, year ends, dates
    beyond chinese-calendar's data, and in whatever order the years are first asked for."""
    import random
    from datetime import timedelta

    from automation.policy import workcal

    extra = {date(2026, 10, 9): False, date(2026, 10, 11): True, date(2031, 1, 2): False, date(2039, 12, 31): True}
    cal = WorkCalendar(extra)
    rng = random.Random(17)
    starts = [date(2026, 9, 28), date(2025, 12, 30), date(2039, 12, 28), date(2019, 6, 1)]
    starts += [date(2018, 1, 1) + timedelta(days=rng.randrange(11 * 365)) for _ in range(40)]
    for start in starts:
        for span in (0, 1, 2, 6, 7, 13, 40, -9, rng.randrange(-400, 400)):
            end = start + timedelta(days=span)
            assert cal.workdays_between(start, end) == cal.walked_workdays_between(start, end), (start, end)
    assert cal.workdays_between(date(2026, 9, 30), date(2026, 10, 12)) == 4  # 10-08, 10-10, 10-11 (sheet), 10-12
    assert cal._first is not None and len(cal._counted) <= workcal.INDEX_SPAN_DAYS
    # a pair beyond what one count may cover is walked, and the count stays as it was
    far = WorkCalendar()
    assert far.workdays_between(date(2020, 1, 1), date(2029, 12, 31)) == far.walked_workdays_between(
        date(2020, 1, 1), date(2029, 12, 31))
    assert far.workdays_between(date(2010, 1, 4), date(2010, 1, 4) + timedelta(days=3000)) == \
        far.walked_workdays_between(date(2010, 1, 4), date(2010, 1, 4) + timedelta(days=3000))
    with pytest.raises(ValueError):
        far.workdays_between(date(2020, 1, 1), date(2031, 1, 1))

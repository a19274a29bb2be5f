"""Working days on the Chinese calendar, overridden by the 节假日 sheet.

chinese-calendar knows the State Council's holidays and make-up working days
for the years it ships data for. For a date outside that range we fall back to
"Monday to Friday are working days", so a far-off due date is computed rather
than crashing; the administrator adds that year's holidays and make-up days in
the 节假日 sheet, which always wins.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Mapping

import chinese_calendar

MAX_SPAN_DAYS = 3660  # ten years: a guard against a typo'd date looping for ever


class WorkCalendar:
    def __init__(self, extra: Mapping[date, bool] | None = None):
        # extra: date → True for an extra working day (调休上班), False for an extra day off
        self.extra = dict(extra or {})

    def is_workday(self, day: date) -> bool:
        if day in self.extra:
            return self.extra[day]
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            return day.weekday() < 5

    def add_workdays(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (before it when n < 0); n = 0 gives ``start``."""
        step = 1 if n >= 0 else -1
        day, left = start, abs(n)
        for _ in range(MAX_SPAN_DAYS):
            if left == 0:
                return day
            day += timedelta(days=step)
            left -= self.is_workday(day)
        raise ValueError(f"工作日数 {n} 超出允许范围")

    def workdays_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (negative when end < start)."""
        if end < start:
            return -self.workdays_between(end, start)
        if (end - start).days > MAX_SPAN_DAYS:
            raise ValueError("日期跨度过大")
        return sum(self.is_workday(start + timedelta(days=i)) for i in range(1, (end - start).days + 1))

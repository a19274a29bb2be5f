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
# workdays_between answers from a cumulative count of working days per day (built a calendar
# year at a time, on demand) instead of walking the days of every pair: registers ask it for
# every row (50,000 rows walked 5.5 s). It covers at most this many days; beyond, the days are walked.
INDEX_SPAN_DAYS = 12 * 366


class WorkCalendar:
    """``extra`` is read when the calendar is made and must not be changed afterwards
    (the calendar remembers what it has counted)."""

    def __init__(self, extra: Mapping[date, bool] | None = None):
        # extra: date → True for an extra working day (调休上班), False for an extra day off
        self.extra = dict(extra or {})
        self._days: dict[date, bool] = {}  # each day's answer, once looked up
        self._first: date | None = None  # the day the cumulative count starts (counted as 0)
        self._counted: list[int] = []  # _counted[i]: working days after _first up to _first + i

    def is_workday(self, day: date) -> bool:
        known = self._days.get(day)
        if known is None:
            known = self._days[day] = self.looked_up_is_workday(day)
        return known

    def looked_up_is_workday(self, day: date) -> bool:
        """The day asked of the sheet and chinese-calendar (which takes ≈ 80 µs a day: ``is_workday``
        remembers each answer)."""
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
        a, b = self._position(start), self._position(end)
        if a is not None and b is not None:
            return self._counted[b] - self._counted[a]
        return _walk(start, end, self.is_workday)

    def walked_workdays_between(self, start: date, end: date) -> int:
        """``workdays_between`` by walking the days, each looked up afresh (the reference the
        count is tested against)."""
        if end < start:
            return -self.walked_workdays_between(end, start)
        return _walk(start, end, self.looked_up_is_workday)

    def _position(self, day: date) -> int | None:
        first = self._first
        if first is not None:
            at = (day - first).days
            if 0 <= at < len(self._counted):
                return at
        return self._cover(day)

    def _cover(self, day: date) -> int | None:
        """Count the calendar years from what is counted already to ``day``'s; None when too far."""
        lo, hi = day, day
        if self._first is not None:
            lo, hi = min(lo, self._first), max(hi, self._first + timedelta(days=len(self._counted) - 1))
        if lo.year <= 1 or hi.year >= 9999:
            return None
        lo, hi = date(lo.year, 1, 1), date(hi.year, 12, 31)
        if (hi - lo).days + 1 > INDEX_SPAN_DAYS:
            return None
        counted, total = [0], 0
        for i in range(1, (hi - lo).days + 1):
            total += self.is_workday(lo + timedelta(days=i))
            counted.append(total)
        self._first, self._counted = lo, counted
        return (day - lo).days


def _walk(start: date, end: date, is_workday) -> int:
    return sum(is_workday(start + timedelta(days=i)) for i in range(1, (end - start).days + 1))

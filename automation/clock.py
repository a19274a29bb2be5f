"""Time, in one place, so that tests may pass a fixed clock and nothing else is faked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Shanghai"


@dataclass
class Clock:
    tz_name: str = DEFAULT_TZ
    fixed: datetime | None = None  # tests only: a frozen "now"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)

    def now(self) -> datetime:
        if self.fixed is not None:
            return self.fixed if self.fixed.tzinfo else self.fixed.replace(tzinfo=self.tz)
        return datetime.now(self.tz)

    def today(self) -> date:
        return self.now().date()

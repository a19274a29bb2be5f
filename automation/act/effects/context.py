"""What every per-form effect is handed, and the few helpers they share."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.engine import Connection

from automation.errors import PolicyError, StoreError
from automation.record.instances import Case

APPROVED, REJECTED, RETURNED = "approved", "rejected", "returned"
OUTCOMES = (APPROVED, REJECTED, RETURNED)


class EffectError(StoreError):
    """A record an effect must update is not in the store (a wiring fault, not bad data)."""

    code = "effect-target-missing"


@dataclass(frozen=True)
class Effect:
    conn: Connection
    case: Case
    values: dict[str, Any]
    policy: Any  # needs only .params (name → Decimal|str) and .people (name → obj with .department)
    today: date
    cal: Any  # add_workdays(d, n), workdays_between(a, b)
    spec: Any = None  # the FormSpec; its ``register`` is what the generic effect records

    @property
    def case_id(self) -> int:
        return self.case.id

    @property
    def number(self) -> str:
        return self.case.number

    def text(self, key: str) -> str | None:
        value = self.values.get(key)
        if value is None:
            return None
        value = str(value).strip()
        return value or None

    def rows(self, key: str = "明细") -> list[dict[str, Any]]:
        return [row for row in (self.values.get(key) or []) if any(v not in (None, "") for v in row.values())]

    def param(self, name: str, default: Any = None) -> Any:
        params = getattr(self.policy, "params", None) or {}
        if name in params and params[name] not in (None, ""):
            return params[name]
        if default is None:
            raise PolicyError(f"制度.xlsx 的「参数」表缺少「{name}」,请补上这一行后再处理。",
                              code="policy-param-missing", location="参数")
        return default

    def param_int(self, name: str, default: int | None = None) -> int:
        raw = self.param(name, default)
        try:
            return int(Decimal(str(raw)))
        except (InvalidOperation, ValueError):
            raise PolicyError(f"制度.xlsx「参数」表中「{name}」的值 {raw} 不是整数,请改正。",
                              code="policy-param-invalid", location="参数") from None

    def department_of(self, person: str | None, fallback: str | None = None) -> str | None:
        # The roster is the authority; the form's own 部门 only fills a gap in it.
        holder = (getattr(self.policy, "people", None) or {}).get(person) if person else None
        return getattr(holder, "department", None) or fallback

    def add_workdays(self, start: date | None, days: int) -> date | None:
        return None if start is None else self.cal.add_workdays(start, days)


def add_months(start: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's end (31 Jan + 1 → 28/29 Feb)."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last))


def touched(table, count: int) -> set[str]:
    """The table's name when the statement changed a row: registers only redraw for real changes."""
    return {table.name} if count else set()

"""The 汇总 sheet: counts and sums of a register's rows, grouped by month, department, person, status."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from automation.record.registers.definitions import Grouping, RegisterDef

BLANK = "(未填)"


@dataclass(frozen=True)
class SummaryBlock:
    title: str
    key_header: str
    measure: str | None
    lines: list[tuple]  # (key, count) or (key, count, sum)
    measure_kind: str = "money"  # the summed column's kind: only money is shown as money


def _key(value: object, by_month: bool) -> str:
    if value is None or value == "":
        return BLANK
    if by_month and isinstance(value, date):
        return f"{value.year:04d}-{value.month:02d}"
    return str(value)


def group(register: RegisterDef, rows: list[tuple], grouping: Grouping) -> SummaryBlock:
    at = register.index(grouping.column)
    then = register.index(grouping.then) if grouping.then else None
    sum_at = register.index(register.measure) if register.measure else None
    counts: dict[str, int] = defaultdict(int)
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        key = _key(row[at], grouping.by_month)
        if then is not None:
            key = f"{key} · {_key(row[then], False)}"
        counts[key] += 1
        if sum_at is not None and row[sum_at] is not None:
            sums[key] += Decimal(row[sum_at])
    keys = sorted(counts)
    if sum_at is None:
        lines = [(k, counts[k]) for k in keys]
    else:
        lines = [(k, counts[k], sums[k]) for k in keys]
    header = f"{grouping.column} · {grouping.then}" if grouping.then else grouping.column
    kind = register.columns[sum_at].kind if sum_at is not None else "money"
    return SummaryBlock(grouping.title, header, register.measure, lines, kind)


def summarize(register: RegisterDef, rows: list[tuple]) -> list[SummaryBlock]:
    return [group(register, rows, g) for g in register.groupings]

"""The 汇总 sheet: counts and sums of a register's rows, grouped by month, department, person, status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from automation.record.registers.definitions import RegisterDef

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


# One tally per grouping: key → [count, sum]. Rows can be counted in and out (the
# incremental render keeps the tallies between renders); a key whose count falls to
# nothing disappears, as if its rows had never been there.
Tally = dict


def _row_key(row: tuple, at: int, then: int | None, by_month: bool) -> str:
    key = _key(row[at], by_month)
    if then is not None:
        key = f"{key} · {_key(row[then], False)}"
    return key


def empty_tallies(register: RegisterDef) -> list[Tally]:
    return [{} for _ in register.groupings]


_PLACES: dict[int, tuple] = {}  # id(register) → (register, places): hashing a RegisterDef walks all its fields


def _places(register: RegisterDef) -> tuple[int | None, list[tuple[int, int | None, bool]]]:
    """Where the measure and each grouping's columns are in a row."""
    known = _PLACES.get(id(register))
    if known is not None and known[0] is register:
        return known[1]
    sum_at = register.index(register.measure) if register.measure else None
    places = sum_at, [(register.index(g.column), register.index(g.then) if g.then else None, g.by_month)
                      for g in register.groupings]
    if len(_PLACES) > 256:
        _PLACES.clear()
    _PLACES[id(register)] = (register, places)
    return places


def tally_row(tallies: list[Tally], register: RegisterDef, row: tuple, sign: int = 1) -> None:
    """Count one row in (``sign`` 1) or out (-1) of every grouping."""
    sum_at, places = _places(register)
    measure = _measure(row, sum_at)
    for tally, (at, then, by_month) in zip(tallies, places):
        _add(tally, _row_key(row, at, then, by_month), measure, sign)


def _measure(row: tuple, sum_at: int | None) -> Decimal | None:
    return Decimal(row[sum_at]) if sum_at is not None and row[sum_at] is not None else None


def _add(tally: Tally, key: str, measure: Decimal | None, sign: int) -> None:
    """One row counted in (``sign`` 1) or out (-1) of one line; an emptied line goes."""
    line = tally.get(key)
    if line is None:
        line = tally[key] = [0, Decimal()]
    line[0] += sign
    if measure is not None:
        line[1] = line[1] + measure if sign > 0 else line[1] - measure
    if line[0] == 0:
        del tally[key]


def same_value(a, b) -> bool:
    """Equal and written alike (Decimal("1.0") == Decimal("1.00"), but they show differently)."""
    return a is b or (type(a) is type(b) and a == b and (type(a) is not Decimal or str(a) == str(b)))


def tally_change(tallies: list[Tally], register: RegisterDef, old: tuple, new: tuple) -> None:
    """``old`` counted out and ``new`` in, only in the groupings whose key or measure differ:
    what ``tally_row(old, -1)`` then ``tally_row(new, 1)`` gives."""
    sum_at, places = _places(register)
    measure_same = sum_at is None or same_value(old[sum_at], new[sum_at])
    for tally, (at, then, by_month) in zip(tallies, places):
        if measure_same and same_value(old[at], new[at]) and (then is None or same_value(old[then], new[then])):
            continue
        for row, sign in ((old, -1), (new, 1)):
            _add(tally, _row_key(row, at, then, by_month), _measure(row, sum_at), sign)


def tallies_by_row(register: RegisterDef, rows: list[tuple]) -> list[Tally]:
    """The tallies row by row through ``tally_row``: the reference ``tallies_of`` is tested against."""
    tallies = empty_tallies(register)
    for row in rows:
        tally_row(tallies, register, row)
    return tallies


def tallies_of(register: RegisterDef, rows: list[tuple]) -> list[Tally]:
    """Every row counted in (what ``tally_row`` gives row by row), grouping by grouping, with
    each distinct value's key made once."""
    sum_at, places = _places(register)
    measures = [None if (v := row[sum_at]) is None else Decimal(v) for row in rows] if sum_at is not None else None
    tallies = []
    for at, then, by_month in places:
        tally: Tally = {}
        keys: dict = {}

        def key_of(value, month: bool):
            kind = type(value)
            if kind not in _PLAIN_KEYS:
                return _key(value, month)
            memo = (kind, value, month)
            key = keys.get(memo)
            if key is None:
                key = keys[memo] = _key(value, month)
            return key

        for r, row in enumerate(rows):
            key = key_of(row[at], by_month)
            if then is not None:
                key = f"{key} · {key_of(row[then], False)}"
            line = tally.get(key)
            if line is None:
                line = tally[key] = [0, Decimal()]
            line[0] += 1
            if measures is not None and (measure := measures[r]) is not None:
                line[1] = line[1] + measure
        tallies.append(tally)
    return tallies


# Values whose equality means an equal key (not Decimal: str(Decimal("1.0")) != str(Decimal("1.00"))).
_PLAIN_KEYS = frozenset({str, date, datetime, int, bool, type(None)})


def blocks_of(register: RegisterDef, tallies: list[Tally]) -> list[SummaryBlock]:
    sum_at = register.index(register.measure) if register.measure else None
    kind = register.columns[sum_at].kind if sum_at is not None else "money"
    blocks = []
    for grouping, tally in zip(register.groupings, tallies):
        keys = sorted(tally)
        if sum_at is None:
            lines = [(k, tally[k][0]) for k in keys]
        else:
            lines = [(k, tally[k][0], tally[k][1]) for k in keys]
        header = f"{grouping.column} · {grouping.then}" if grouping.then else grouping.column
        blocks.append(SummaryBlock(grouping.title, header, register.measure, lines, kind))
    return blocks


def summarize(register: RegisterDef, rows: list[tuple], *, reference: bool = False) -> list[SummaryBlock]:
    return blocks_of(register, (tallies_by_row if reference else tallies_of)(register, rows))

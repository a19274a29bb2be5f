"""Column widths and row heights of a register, from its data, so that it prints readably.

A register prints one page wide. Every column is as wide as its widest value
(no wider), unless its definition fixes a width (a form spec's register column
may say ``width: 16``); when the whole does not fit the page, the longest text
columns wrap, and the rows that need it are made tall enough to show every
line. Widths are measured with the UTF-8 length trick (a CJK character is three
bytes and two columns wide), which runs in C: a 100,000-row register costs a
few tens of milliseconds here.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from automation.printing import LINE_POINTS
from automation.record.registers.definitions import RegisterDef

FILTER_BUTTON = 3  # the header's filter arrow takes about three characters
MIN_WIDTH = 6
WRAP_MIN = 10  # a wrapping column keeps room for five Chinese characters a line
FIXED_WIDTHS = {"date": 11, "datetime": 17, "bool": 6}
# A4 landscape less the margins is about 1,026 pixels at 100 %; a column of width w takes 7w + 5.
PAGE_PIXELS = 1026
SMALLEST_SCALE = 0.8  # fitting the width may shrink the print this far, no further
MEMO_TEXTS = 4096  # line counts remembered per wrapped column (repeated names, not every unique text)


@dataclass(frozen=True)
class ColumnLayout:
    width: float
    wrap: bool = False


def text_width(value: object) -> int:
    text = value if isinstance(value, str) else str(value)
    return len(text) + (len(text.encode("utf-8")) - len(text)) // 2


def _is_number(value: object) -> bool:
    return isinstance(value, (int, Decimal, float)) and not isinstance(value, bool)


def _biggest_width(biggest, kind: str) -> int:
    if kind == "money":
        return len(f"{Decimal(biggest):,.2f}") + 2
    return len(str(biggest)) + 2


def _number_width(values, kind: str) -> int:
    return _biggest_width(max((abs(v) for v in values if _is_number(v)), default=0), kind)


# --- what a column's width depends on, kept as counts so that rows can come and go ----
#
# A column's natural width depends on one figure of its values: the widest text, or the
# number largest in magnitude. ``ColumnStat`` counts the values by that figure, so a row
# added or removed (``count``) keeps it exact without looking at the other rows; the
# incremental render (registers.incremental) keeps these counts between renders.
# Money widths grow with the magnitude, so money is counted by width; other numbers
# (an int column holding Decimals: str(Decimal) is not monotone) by their magnitude.

ColumnStat = dict  # figure → how many values have it; None for the columns of a fixed width


def stat_key(kind: str, value: object):
    """The figure ``value`` contributes to its column's width (None: it does not count)."""
    if kind in FIXED_WIDTHS:
        return None
    if kind in ("money", "int", "decimal"):
        if not _is_number(value):
            return None
        return _biggest_width(abs(value), kind) if kind == "money" else abs(value)
    if value is None or value == "":
        return None
    return text_width(value)


def empty_stats(register: RegisterDef) -> list[ColumnStat | None]:
    return [None if col.kind in FIXED_WIDTHS else {} for col in register.columns]


def count(stats: list[ColumnStat | None], register: RegisterDef, row: tuple, sign: int = 1) -> None:
    """Add (``sign`` 1) or remove (-1) one row's figures."""
    for stat, col, value in zip(stats, register.columns, row):
        if stat is None:
            continue
        _bump(stat, stat_key(col.kind, value), sign)


def _bump(stat: ColumnStat, key, sign: int) -> None:
    """One value's figure counted in (``sign`` 1) or out (-1); a figure no value has any more goes."""
    if key is None:
        return
    n = stat.get(key, 0) + sign
    if n:
        stat[key] = n
    else:
        del stat[key]


def count_change(stats: list[ColumnStat | None], register: RegisterDef, old: tuple, new: tuple, same) -> None:
    """``old`` removed and ``new`` added, only in the columns whose value differs (``same``)."""
    for stat, col, a, b in zip(stats, register.columns, old, new):
        if stat is None or same(a, b):
            continue
        for value, sign in ((a, -1), (b, 1)):
            _bump(stat, stat_key(col.kind, value), sign)


def column_stats(register: RegisterDef, rows: Sequence[tuple]) -> list[ColumnStat | None]:
    """Every column's figures at once (column by column: what ``count`` gives row by row)."""
    stats: list[ColumnStat | None] = []
    for i, col in enumerate(register.columns):
        if col.kind in FIXED_WIDTHS:
            stats.append(None)
        elif col.kind == "money":
            stats.append(dict(Counter(_biggest_width(abs(v), "money") for row in rows if _is_number(v := row[i]))))
        elif col.kind in ("int", "decimal"):
            stats.append(dict(Counter(abs(v) for row in rows if _is_number(v := row[i]))))
        else:
            stats.append(dict(Counter(text_width(v) for row in rows if (v := row[i]) is not None and v != "")))
    return stats


def _natural(kind: str, header: str, figure) -> tuple[float, float | None]:
    """(width the widest value needs, narrowest it may wrap to — None when it must not wrap).

    ``figure``: for text the widest value's width, for numbers the width of the largest."""
    head = text_width(header) + FILTER_BUTTON
    if kind in FIXED_WIDTHS:
        return max(head, FIXED_WIDTHS[kind]), None
    if kind in ("money", "int", "decimal"):
        return max(head, figure), None
    return max(head, figure + 1, MIN_WIDTH), max(head, WRAP_MIN)


def _stat_figure(stat: ColumnStat | None, kind: str):
    if kind in FIXED_WIDTHS:
        return None
    if kind == "money":
        return max(stat, default=_biggest_width(0, kind))
    if kind in ("int", "decimal"):
        return _biggest_width(max(stat, default=0), kind)
    return max(stat, default=0)


def _value_figure(values: list, kind: str):
    """The same figure straight from the values (the full render's way: no counts needed)."""
    if kind in FIXED_WIDTHS:
        return None
    if kind in ("money", "int", "decimal"):
        return _number_width(values, kind)
    # Equal strings are equally wide: each distinct one measured once (other values one by one).
    texts = {v for v in values if type(v) is str and v != ""}
    others = (text_width(v) for v in values if type(v) is not str and v is not None and v != "")
    return max(max(map(text_width, texts), default=0), max(others, default=0))


def page_budget(columns: int) -> float:
    """Character widths that print one page wide at no less than SMALLEST_SCALE."""
    return (PAGE_PIXELS / SMALLEST_SCALE - 5 * columns) / 7


def _water_level(naturals, floors, fixed: float, budget: float) -> float:
    """The widest a wrapping column may stay so that everything fits ``budget``."""
    def total(level: float) -> float:
        return fixed + sum(min(n, max(level, f)) for n, f in zip(naturals, floors))
    low, high = 0.0, max(naturals, default=0.0)
    if total(high) <= budget:
        return high
    for _ in range(30):
        mid = (low + high) / 2
        low, high = (mid, high) if total(mid) <= budget else (low, mid)
    return low


def column_layout(register: RegisterDef, rows: Sequence[tuple]) -> list[ColumnLayout]:
    """Each column as wide as its widest value; when the whole does not fit the page width,
    the widest text columns give way first and wrap."""
    figures = [_value_figure([row[i] for row in rows], col.kind) for i, col in enumerate(register.columns)]
    return _layout(register, figures)


def layout_of_stats(register: RegisterDef, stats: list[ColumnStat | None]) -> list[ColumnLayout]:
    """``column_layout`` from the columns' counted figures (see ``count``)."""
    return _layout(register, [_stat_figure(stat, col.kind) for stat, col in zip(stats, register.columns)])


def _layout(register: RegisterDef, figures: list) -> list[ColumnLayout]:
    measured = [_natural(col.kind, col.header, figure) for figure, col in zip(figures, register.columns)]
    # A width the definition fixes (Column.width) is kept: not measured, never squeezed; text wraps in it.
    fixed_by_definition = {i: col.width for i, col in enumerate(register.columns) if col.width is not None}
    naturals = {i: n for i, (n, _) in enumerate(measured)}
    measured = [(fixed_by_definition[i], None) if i in fixed_by_definition else m for i, m in enumerate(measured)]
    wanted = [n for n, _ in measured]
    flexible = [i for i, (_, floor) in enumerate(measured) if floor is not None]
    fixed = sum(w for i, w in enumerate(wanted) if i not in flexible)
    level = _water_level([wanted[i] for i in flexible], [min(measured[i][1], wanted[i]) for i in flexible], fixed,
                         page_budget(len(wanted)))
    layouts = []
    for i, (natural, floor) in enumerate(measured):
        if i in fixed_by_definition:
            text = register.columns[i].kind == "text"
            layouts.append(ColumnLayout(natural, wrap=text and naturals[i] > natural))
            continue
        if floor is None:
            layouts.append(ColumnLayout(natural))
            continue
        width = min(wanted[i], max(level, min(floor, wanted[i])))
        layouts.append(ColumnLayout(round(width, 1), wrap=width < natural))
    return layouts


def row_heights(rows: Sequence[tuple], layouts: Sequence[ColumnLayout], *, memo: bool = True) -> dict[int, float]:
    """Row index → height in points, for the rows a wrapped column makes taller than one line.

    ``memo`` False counts every value's lines afresh (the reference the memo is tested against)."""
    wrapped = [(i, layout.width - 1, {}) for i, layout in enumerate(layouts) if layout.wrap]
    if not wrapped:
        return {}
    if not memo:
        plain = {}
        for r, row in enumerate(rows):
            lines = max(_lines(row[i], room) for i, room, _ in wrapped)
            if lines > 1:
                plain[r] = LINE_POINTS * lines
        return plain
    heights = {}
    for r, row in enumerate(rows):
        lines = 1
        for i, room, seen in wrapped:  # a text seen before in the column: its line count remembered
            value = row[i]
            if type(value) is str:
                n = seen.get(value)
                if n is None:
                    n = _lines(value, room)
                    if len(seen) < MEMO_TEXTS:
                        seen[value] = n
            else:
                n = _lines(value, room)
            if n > lines:
                lines = n
        if lines > 1:
            heights[r] = LINE_POINTS * lines
    return heights


def _lines(value: object, room: float) -> int:
    if value is None or value == "" or isinstance(value, (date, datetime)):
        return 1
    text = value if type(value) is str else str(value)
    if "\n" not in text:
        return max(1, math.ceil(text_width(text) / room))
    return sum(max(1, math.ceil(text_width(part) / room)) for part in text.split("\n"))

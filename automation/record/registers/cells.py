"""Turning store values into safe cell values.

A register shows what people typed into forms, so a value must never become a
formula, a DDE link or a string Excel refuses to open.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

EXCEL_MAX_CHARS = 32_767
TRUNCATED_MARK = "…(已截断)"
# Excel (and LibreOffice) treat these leading characters as the start of a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_EXCEL_EPOCH = date(1899, 12, 30).toordinal()


def safe_text(value: object) -> str:
    """Any value as text Excel accepts: control characters removed, length capped.

    Formula-looking text needs no change here: the writers store every string as
    a string cell, which Excel never evaluates.
    """
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    if len(text) > EXCEL_MAX_CHARS:
        text = text[: EXCEL_MAX_CHARS - len(TRUNCATED_MARK)] + TRUNCATED_MARK
    return text


def safe_value(value: object) -> object:
    """A value ready for a cell: numbers and dates stay typed, everything else is safe text."""
    if value is None or isinstance(value, (bool, int, Decimal, date)):
        return value
    if isinstance(value, float):
        # Only computed ratios are floats; money never is.
        return value
    return safe_text(value)


def excel_serial(value: date | datetime) -> float | int:
    """The Excel serial day number of a date (or naive local datetime)."""
    if isinstance(value, datetime):
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        return value.toordinal() - _EXCEL_EPOCH + seconds / 86400
    return value.toordinal() - _EXCEL_EPOCH

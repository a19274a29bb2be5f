"""The fingerprint of the FORM data in a task file, so an approver cannot change what they approve.

It covers only what the form's spec reads (defined names / content-control tags and
the 明细 table), never the 审批 sheet, and it normalises cell types so that the
same data saved again by Excel, WPS or openpyxl gives the same fingerprint.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from automation.forms.raw import read_raw
from automation.record import codec


def form_fingerprint(path: Path, spec) -> str:
    raw_values = read_raw(Path(path), spec)[0]
    return codec.fingerprint({str(k): canonical(v) for k, v in raw_values.items()})


def canonical(value: Any) -> Any:
    """One text per meaning: 12345 / 12345.0 / "12345.00" → "12345"; a midnight datetime → its date."""
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        rows = [canonical(v) for v in value]
        while rows and _empty(rows[-1]):
            rows.pop()  # blank rows left at the end of 明细 are not data
        return rows
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.replace(tzinfo=None).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float, Decimal)):
        return _number_text(value)
    text = str(value).strip()
    return text or None


def _number_text(value) -> str:
    try:
        number = Decimal(str(value)).normalize()
    except InvalidOperation:
        return str(value)
    return format(number, "f")


def _empty(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_empty(v) for v in value.values())
    return value in (None, "", [])

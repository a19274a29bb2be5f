"""The fingerprint of the FORM data in a task file, so an approver cannot change what they approve.

It covers only what the form's spec reads (defined names / content-control tags and
the 明细 table), never the 审批 sheet, and never bytes or formatting: each value is
first read as its field's type (text trimmed, money and numbers as Decimal, dates as
dates), so the same data saved again by Excel, WPS, LibreOffice or openpyxl gives the
same fingerprint, and a changed value gives another.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from automation.forms.parsers import ParseProblem, parse_value
from automation.forms.raw import read_raw
from automation.record import codec


def form_fingerprint(path: Path, spec) -> str:
    return fingerprints(path, spec)[0]


def fingerprints(path: Path, spec) -> tuple[str, str]:
    """(fingerprint over typed values, the earlier fingerprint over raw cell values).

    Task files issued before values were typed carry the second; both are accepted.
    """
    raw_values = read_raw(Path(path), spec)[0]
    legacy = codec.fingerprint({str(k): canonical(v) for k, v in raw_values.items()})
    return codec.fingerprint(typed_values(raw_values, spec)), legacy


def fingerprint_of(raw_values: dict, spec) -> str:
    """``form_fingerprint`` of a file whose raw values (``read_raw``) are already known."""
    return codec.fingerprint(typed_values(raw_values, spec))


def typed_values(raw_values: dict, spec) -> dict:
    out: dict[str, Any] = {}
    for field in spec.fields:
        out[field.key] = canonical(_typed(field, raw_values.get(field.key)))
    for table in spec.tables:
        rows = [{col.key: canonical(_typed(col, (row or {}).get(col.key))) for col in table.columns}
                for row in raw_values.get(table.key) or []]
        out[table.key] = canonical(rows)
    return {"v": 2, **{k: _squashed(v) for k, v in out.items()}}


def _squashed(value: Any) -> Any:
    """Whitespace is layout, not data: LibreOffice moves a line break typed in a Word control out of it."""
    if isinstance(value, str):
        return re.sub(r"\s+", "", value) or None
    if isinstance(value, list):
        return [_squashed(v) for v in value]
    if isinstance(value, dict):
        return {k: _squashed(v) for k, v in value.items()}
    return value


def _typed(field, raw: Any) -> Any:
    try:
        return parse_value(field, raw)
    except ParseProblem:
        return raw  # not readable as its type: the text itself is what the approver saw


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

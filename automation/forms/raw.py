"""The raw values a form file carries, exactly as its spec reads them (no typing, no checks).

Shared by the extract stage (which types and checks them) and the decide stage
(which fingerprints a task file's form data), so it lives with the form definitions.
"""

from __future__ import annotations

import copy
import hashlib
from datetime import date, time, timedelta
from decimal import Decimal
from pathlib import Path

from automation.forms.docx_reader import read_docx
from automation.forms import opened
from automation.forms.extracted import Raw
from automation.forms.spec import FormSpec
from automation.forms.xlsx_reader import read_xlsx


def read_raw(path: Path, spec: FormSpec) -> Raw:
    """Raw values (tables as lists of dicts), field locations and line-item cell locations.

    Pure: the same file gives the same result, so it can be fingerprinted. Excel forms
    are remembered by their bytes (SHA-256) for the process: the task file's fingerprint
    (decide.task_files) is taken from the form read at intake instead of reading it again.
    """
    path = Path(path)
    if spec.kind == "docx":
        return read_docx(path, spec)
    try:
        data = opened.read_bytes(path)
        key = (hashlib.sha256(data).digest(), spec)
        hash(key)
    except (OSError, TypeError):
        return read_xlsx(path, spec)
    found = _READ.get(key)
    if found is None:
        found = read_xlsx(path, spec, data)  # the bytes just hashed are the ones read
        if len(_READ) >= _KEEP:
            _READ.pop(next(iter(_READ), None), None)  # (tolerant of another thread doing the same)
        _READ[key] = found
    return _copied(found)


_IMMUTABLE = (str, int, float, Decimal, date, time, timedelta, type(None))  # (bool, datetime: subclasses)


def _copied(raw: Raw) -> Raw:
    """A copy the caller may change: the value dicts and table rows copied, the values themselves (all
    immutable, as are Locations) shared; anything else is deep-copied as before."""
    values, locations, row_locations = raw
    copied = {}
    for key, value in values.items():
        if isinstance(value, _IMMUTABLE):
            copied[key] = value
        elif isinstance(value, list) and all(isinstance(row, dict) and all(isinstance(v, _IMMUTABLE) for v in row.values())
                                             for row in value):
            copied[key] = [dict(row) for row in value]
        else:
            return copy.deepcopy(raw)
    return copied, dict(locations), dict(row_locations)


_READ: dict[tuple, Raw] = {}  # insertion order: the oldest is dropped first
_KEEP = 2048

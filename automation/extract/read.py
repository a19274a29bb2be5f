"""A dropped form → ``ExtractedForm``: raw values, typed values, where each came from.

Bad data never raises here: a value that cannot be read is a Problem at its
cell, and the field's value is None.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from automation.forms.extracted import MISSING, ExtractedForm
from automation.forms.parsers import ParseProblem, parse_value
from automation.forms.raw import Raw, read_raw
from automation.forms.spec import FieldSpec, FormSpec
from automation.problems import Problem

__all__ = ["MISSING", "Raw", "read_form", "read_raw"]


def read_form(path: Path, spec: FormSpec, version: str | None, identified_by: str) -> ExtractedForm:
    raw, locations, row_locations = read_raw(path, spec)
    form = ExtractedForm(spec=spec, path=Path(path), version=version, identified_by=identified_by,
                         raw=raw, locations=locations, row_locations=row_locations)
    for field in spec.fields:
        form.values[field.key] = _typed(field, raw.get(field.key), locations.get(field.key, MISSING), None, form.problems)
    for table in spec.tables:
        form.values[table.key] = [
            {col.key: _typed(col, row.get(col.key), form.location_of(col.key, table.key, n) or MISSING, n, form.problems)
             for col in table.columns}
            for n, row in enumerate(raw.get(table.key) or [], start=1)
        ]
    return form


def _typed(field: FieldSpec, raw: Any, location: str, row: int | None, problems: list[Problem]) -> Any:
    try:
        return parse_value(field, raw)
    except ParseProblem as exc:
        problems.append(exc.problem(field=field.key, location=location, value=raw, row=row))
        return None

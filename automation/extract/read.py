"""A dropped form → ``ExtractedForm``: raw values, typed values, where each came from.

Bad data never raises here: a value that cannot be read is a Problem at its
cell, and the field's value is None.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from automation.forms.extracted import MISSING, ExtractedForm
from automation.forms.parsers import ParseProblem, parse_value
from automation.forms.docx_reader import read_docx_reading
from automation.forms.raw import Raw, read_raw
from automation.forms.spec import FieldSpec, FormSpec
from automation.problems import Location, Problem
from automation.problems.file import CONTROLS_LOST, CONTROLS_LOST_KIND

__all__ = ["MISSING", "Raw", "read_form", "read_raw"]


def read_form(path: Path, spec: FormSpec, version: str | None, identified_by: str) -> ExtractedForm:
    doubt = None
    if spec.kind == "docx":
        (raw, locations, row_locations), reading = read_docx_reading(Path(path), spec)
        doubt = CONTROLS_LOST if reading.doubtful else None
    else:
        raw, locations, row_locations = read_raw(path, spec)
    form = ExtractedForm(spec=spec, path=Path(path), version=version, identified_by=identified_by,
                         raw=raw, places=locations, item_places=row_locations, doubt=doubt)
    for field in spec.fields:
        form.values[field.key] = _typed(field, raw.get(field.key), locations.get(field.key, MISSING), None, form.problems)
    for table in spec.tables:
        form.values[table.key] = [
            {col.key: _typed(col, row.get(col.key), form.location_of(col.key, table.key, n) or MISSING, n, form.problems)
             for col in table.columns}
            for n, row in enumerate(raw.get(table.key) or [], start=1)
        ]
    return form


def _typed(field: FieldSpec, raw: Any, location: Location | str, row: int | None, problems: list[Problem]) -> Any:
    try:
        return parse_value(field, raw)
    except ParseProblem as exc:
        problems.append(exc.problem(field=field.key, location=location, value=raw, row=row))
        return None


def controls_lost_problem(form: ExtractedForm) -> Problem:
    unread = [f.label for f in form.spec.fields if f.key not in form.places]
    return CONTROLS_LOST_KIND(fields="、".join(unread) or "部分项目")


def applicant_readings(form: ExtractedForm) -> list[str]:
    """Every reading of the applicant's name: the typed value, the raw text, the file name's words.

    Task and returned files are named "编号 表单 申请人 金额"; people name their own
    files "出差申请表 王芳.docx" or "王芳-出差申请表.docx".
    """
    found = [form.applicant, form.raw.get(form.spec.applicant_field)]
    found += re.split(r"[\s_\-—·,,()()\[\]【】]+", Path(form.path).stem)
    names = []
    for value in found:
        text = str(value).strip() if value is not None else ""
        if text and text not in names:
            names.append(text)
    return names

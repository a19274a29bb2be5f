"""The fingerprint recorded with a task file written at zip level is taken from what is in hand (the
form as read at intake for Excel, the body just written for Word), not from reading the task file
again. That is only right if it is the same value: for every shipped form, filled with ordinary and
with awkward values, it must equal the fingerprint read back from the written file; the fallback
writers (openpyxl, python-docx) leave it to the file; and a value changed in the file afterwards
still gives another fingerprint.
"""

from __future__ import annotations

from decimal import Decimal

import openpyxl
import pytest
from support import forms
from support import producers as P
from support.decide import CAL, MONDAY, desk, real_form, route, step

from automation.decide import engine, task_files
from automation.decide.integrity import form_fingerprint

_SPECS = forms.repo_specs()
_XLSX = sorted(k for k, v in _SPECS.items() if v.kind == "xlsx")
_DOCX = sorted(k for k, v in _SPECS.items() if v.kind == "docx")


def _ordinary(spec) -> tuple[dict, list[dict] | None]:
    values = {f.key: f"{f.label or f.key}一" for f in spec.fields}
    items = None
    if spec.tables:
        items = [{c.key: f"{c.key}{n}" for c in spec.tables[0].columns} for n in (1, 2)]
    return values, items


def _awkward(spec) -> tuple[dict, list[dict] | None]:
    """Values a person types that no reader should bend: padding, tabs and line breaks, XML's own
    characters, text that looks like a formula or a number, numbers and dates as text, a blank row."""
    odd = (" 拜访客户\t华东 <&> \n", "=SUM(A1)", "  12,345.50 ", "2026/11/30", "0012", "'引号", "")
    values = {f.key: odd[n % len(odd)] for n, f in enumerate(spec.fields)}
    items = None
    if spec.tables:
        columns = spec.tables[0].columns
        items = [{c.key: odd[(n + r) % len(odd)] for n, c in enumerate(columns)} for r in (0, 1)]
        items.append({c.key: Decimal("3.10") if n % 2 else " " for n, c in enumerate(columns)})
    return values, items


def _issue(d, tmp_path, spec_id, values, items, number):
    spec = _SPECS[spec_id]
    source = real_form(d.settings.archive / spec_id / f"{number}.{spec.kind}", spec_id, values, items)
    return _issue_from(d, spec_id, source, number)


@pytest.mark.parametrize("spec_id", _XLSX + _DOCX)
@pytest.mark.parametrize("filling", [_ordinary, _awkward], ids=["ordinary", "awkward"])
def test_fingerprint_in_hand_equals_reading_the_written_task_file(tmp_path, spec_id, filling):
    d = desk(tmp_path)
    spec = _SPECS[spec_id]
    values, items = filling(spec)
    spec, source, path, known = _issue(d, tmp_path, spec_id, values, items, "SQ-2026-0101")
    assert known == form_fingerprint(path, spec)
    if spec.kind == "xlsx":
        assert known is not None  # the zip-level writer wrote it: the form's values were in hand


def test_a_value_changed_in_the_written_task_file_gives_another_fingerprint(tmp_path):
    d = desk(tmp_path)
    spec_id = "sales_contract"
    spec, _, path, known = _issue(d, tmp_path, spec_id, *_ordinary(_SPECS[spec_id]), "SQ-2026-0102")
    assert known == form_fingerprint(path, spec)
    field = next(f for f in spec.fields if f.key != "申请编号")
    wb = openpyxl.load_workbook(path)
    sheet, ref = next(iter(wb.defined_names[field.key].destinations))
    wb[sheet][ref.replace("$", "")] = "改过的值"
    wb.save(path)
    assert form_fingerprint(path, spec) != known


def test_fallback_writers_leave_the_fingerprint_to_the_written_file(tmp_path):
    d = desk(tmp_path)
    spec_id = "sales_contract"
    source = d.settings.archive / "held.xlsx"
    real_form(source, spec_id, *_ordinary(_SPECS[spec_id]))
    wb = openpyxl.load_workbook(source)
    wb.create_sheet("审批")  # the zip-level writer leaves such a package to openpyxl
    wb.save(source)
    spec, _, path, known = _issue_from(d, spec_id, source, "SQ-2026-0103")
    assert known is None  # openpyxl wrote it: issue_task_file reads the file (form_fingerprint), as before

    trip = d.settings.archive / "trip.docx"
    real_form(trip, "trip_request", *_ordinary(_SPECS["trip_request"]))
    P.rewrite(trip, lambda parts: {("word/Styles.xml" if n == "word/styles.xml" else n): v for n, v in parts.items()})
    spec, _, path, known = _issue_from(d, "trip_request", trip, "SQ-2026-0104")
    assert known is None


def _issue_from(d, spec_id, source, number):
    spec = _SPECS[spec_id]
    with d.store.begin() as conn:
        case_id = engine.open_case(conn, number=number, spec=spec, values={}, applicant="李销售", department="销售部",
                                   amount=None, customer=None, route=route(step("部门经理", "王经理")),
                                   submission_id=None, source_file=source.relative_to(d.root).as_posix(),
                                   now=MONDAY, cal=CAL)
    with d.store.read() as conn:
        task, case, tasks = task_files.load_for_issue(conn, engine.case_tasks(conn, case_id)[0].id, case_id)
    path, known = task_files._write_task_file(d.settings, case=case, task=task, history=[], warnings=[],
                                              source_file=source, kind=spec.kind, spec=spec, tasks=tasks)
    return spec, source, path, known

"""The values-only workbook (forms/xlsx_values.py) reads exactly what openpyxl's full load reads.

Compared cell by cell — value, type, merged placeholders, sheet bounds — with
tables, defined names and the raw form values, on every blank form, filled forms,
the re-saved variants the repairs exist for, and real task files (the 审批 sheet
with its merged ranges, names and lists).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest
from support import producers
from support.e2e import CUSTOMER, office  # noqa: F401  (fixture)
from support.forms import build_blank, fill_xlsx, repo_specs

from automation import samples
from automation.forms import xlsx_reader
from automation.forms.raw import read_raw
from automation.forms.repair import load_tolerant
from automation.forms.xlsx_values import load_values


def _projection(book) -> dict:
    sheets = []
    for ws in book.worksheets:
        cells = {coord: (type(cell).__name__, cell.value, cell.data_type) for coord, cell in sorted(ws._cells.items())}
        tables = {t.name: (t.ref, t.displayName, t.headerRowCount, t.totalsRowCount) for t in ws.tables.values()}
        names = {name: d.attr_text for name, d in ws.defined_names.items()}
        sheets.append((ws.title, ws.sheet_state, ws.max_row, ws.max_column, cells, tables, names,
                       sorted(str(r) for r in ws.merged_cells.ranges)))
    return {"sheetnames": book.sheetnames, "epoch": book.epoch, "sheets": sheets,
            "names": {name: d.attr_text for name, d in book.defined_names.items()}}


def _same(path: Path, spec) -> None:
    for data_only in (True, False):
        full = load_tolerant(path, "xlsx", lambda s: openpyxl.load_workbook(s, data_only=data_only))
        light = load_tolerant(path, "xlsx", lambda s: load_values(s, data_only=data_only))
        assert _projection(light) == _projection(full), (path.name, data_only)
    assert read_raw(path, spec) == _raw_by_full_load(path, spec), path.name


def _raw_by_full_load(path: Path, spec):
    with pytest.MonkeyPatch.context() as mp:  # the same reader over openpyxl's full load
        mp.setattr(xlsx_reader, "load_values", lambda s, data_only=True: openpyxl.load_workbook(s, data_only=data_only))
        return read_raw(path, spec)


XLSX_SPECS = sorted(k for k, spec in repo_specs().items() if spec.kind == "xlsx")


@pytest.mark.parametrize("spec_id", XLSX_SPECS)
def test_values_only_load_reads_every_blank_form_as_the_full_load(tmp_path, spec_id):
    _same(build_blank(spec_id, tmp_path), repo_specs()[spec_id])


VARIANTS = ("whole_column_merge", "empty_style_attributes", "style_index_out_of_range", "pivot_cache",
            "parts_outside_xl", "case_different_part_names", "backslash_part_names", "wps_workbook", "dispimg_cell")


def test_values_only_load_reads_filled_and_resaved_forms_as_the_full_load(tmp_path):
    spec = repo_specs()["sales_contract"]
    values, items = samples.sales_contract(CUSTOMER, date(2026, 11, 23))
    form = fill_xlsx(build_blank("sales_contract", tmp_path / "f"), values, items)
    _same(form, spec)
    for name in VARIANTS:
        copy = tmp_path / name / form.name
        copy.parent.mkdir()
        copy.write_bytes(form.read_bytes())
        _same(getattr(producers, name)(copy), spec)


def test_values_only_load_reads_task_files_as_the_full_load(office):  # noqa: F811
    values = samples.customer_registration(3, office.today)
    office.submit("customer_registration", values)
    office.run()
    [task] = [p for p in office.files("approvals") if p.suffix == ".xlsx"]
    _same(task, repo_specs()["customer_registration"])

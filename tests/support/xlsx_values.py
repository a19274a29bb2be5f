"""Compare the readers of a workbook's values with openpyxl's full load, cell for cell.

    assert_reads_alike(path, spec)               # the lean reader takes it, and reads what openpyxl reads
    assert_reads_alike(path, spec, lean=False)   # it falls back to openpyxl's reader, same result

Used by tests/test_xlsx_values.py (forms, variants, task files) and
tests/test_libreoffice_roundtrip.py (files LibreOffice saved).
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from automation.forms import raw as raw_module
from automation.forms import xlsx_reader
from automation.forms.raw import read_raw
from automation.forms.repair import load_tolerant
from automation.forms.xlsx_lean import LeanBook
from automation.forms.xlsx_values import load_values, load_values_openpyxl


def projection(book) -> dict:
    """What the readers use of a workbook: each cell's kind, value and type, bounds, tables, names, merges."""
    sheets = []
    for ws in book.worksheets:
        cells = {coord: (type(cell).__name__, cell.value, cell.data_type) for coord, cell in sorted(ws._cells.items())}
        tables = {t.name: (t.ref, t.displayName, t.headerRowCount, t.totalsRowCount) for t in ws.tables.values()}
        names = {name: d.attr_text for name, d in ws.defined_names.items()}
        sheets.append((ws.title, ws.sheet_state, ws.max_row, ws.max_column, ws.min_row, ws.min_column, cells, tables,
                       names, sorted(str(r) for r in ws.merged_cells.ranges)))
    return {"sheetnames": book.sheetnames, "epoch": book.epoch, "sheets": sheets,
            "names": {name: d.attr_text for name, d in book.defined_names.items()},
            "destinations": {name: list(d.destinations) for name, d in book.defined_names.items()}}


def assert_reads_alike(path: Path, spec, *, lean: bool = True) -> None:
    """Every reader of ``path`` gives what openpyxl's full load gives; ``lean``: the fast path takes it."""
    full = load_tolerant(path, "xlsx", lambda s: openpyxl.load_workbook(s, data_only=True))
    light = load_tolerant(path, "xlsx", lambda s: load_values(s, data_only=True))
    assert isinstance(light, LeanBook) is lean, (path.name, type(light))
    assert projection(light) == projection(full), path.name
    reference = load_tolerant(path, "xlsx", lambda s: load_values_openpyxl(s, data_only=True))
    assert projection(reference) == projection(full), path.name
    formulas = load_tolerant(path, "xlsx", lambda s: load_values(s, data_only=False))
    assert projection(formulas) == projection(load_tolerant(path, "xlsx", openpyxl.load_workbook)), path.name
    xlsx_reader._HANDED_ON.clear()
    book = xlsx_reader.values_book(path)  # the lean reader on the file as it is, before any repair
    assert isinstance(book, LeanBook) is lean, (path.name, type(book))
    assert projection(book) == projection(full), path.name
    assert raw_by(path, spec) == raw_by(
        path, spec, lambda s, data_only=True: openpyxl.load_workbook(s, data_only=data_only)), path.name


def raw_by(path: Path, spec, loader=None):
    """read_raw of ``path`` (over openpyxl's ``loader`` instead of the lean reader when given), nothing
    remembered from an earlier read of the same bytes."""
    raw_module._READ.clear()
    xlsx_reader._HANDED_ON.clear()
    with pytest.MonkeyPatch.context() as mp:
        if loader is not None:
            mp.setattr(xlsx_reader, "_lean", lambda *args: None)
            mp.setattr(xlsx_reader, "load_values", loader)
        return read_raw(path, spec)

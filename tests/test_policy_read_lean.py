"""制度.xlsx is read by the lean reader where it gives exactly what openpyxl's read-only reader gives
(the reference), sheet for sheet and row for row; any other workbook goes through openpyxl as before."""

from __future__ import annotations

import re
import shutil
import zipfile
from datetime import date, datetime
from pathlib import Path

from openpyxl import load_workbook

from automation.policy import workbook as wb
from automation.policy.workbook import _lean_sheets, read_sheets, read_sheets_openpyxl

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "policies" / "制度.xlsx"


def _as_seen(sheets):
    """Everything a reader of the rows sees: sheet, row number, values with their types, column letters."""
    return {title: [(r.sheet, r.row, {k: (type(v).__name__, v) for k, v in r.values.items()}, dict(r.columns))
                    for r in rows] for title, rows in sheets.items()}


def _rewrite_part(path: Path, part: str, change) -> None:
    with zipfile.ZipFile(path) as src:
        items = [(info, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in items:
            dst.writestr(info, change(data) if info.filename == part else data)


def _sheet_part(path: Path, title: str) -> str:
    book = load_workbook(path, read_only=True)
    try:
        index = book.sheetnames.index(title)
    finally:
        book.close()
    return f"xl/worksheets/sheet{index + 1}.xml"


def test_the_shipped_policy_is_read_lean_and_equal_to_openpyxl():
    lean = _lean_sheets(SHIPPED)
    assert lean is not None  # the fast path is taken for the workbook every workspace starts with
    assert _as_seen(lean) == _as_seen(read_sheets_openpyxl(SHIPPED))
    assert sum(len(rows) for rows in lean.values()) > 100


def test_a_policy_edited_and_saved_by_openpyxl_reads_alike(tmp_path):
    """Rows added past a gap, dates, times, numbers, booleans and blanks: the lean rows equal openpyxl's."""
    path = tmp_path / "制度.xlsx"
    shutil.copy(SHIPPED, path)
    book = load_workbook(path)
    ws = book["参数"]
    ws.cell(ws.max_row + 3, 1, "测试日期")  # two blank rows before it
    ws.cell(ws.max_row, 2, datetime(2026, 5, 1, 8, 30))
    ws.cell(ws.max_row + 1, 1, "测试数")
    ws.cell(ws.max_row, 2, 12.5)
    ws.cell(ws.max_row, 3, True)
    ws.cell(ws.max_row + 1, 1, "测试天")
    ws.cell(ws.max_row, 2, date(2026, 5, 2))
    ws.cell(ws.max_row, 2).number_format = "yyyy-mm-dd"
    book["人员"].cell(3, 2).value = None
    book.save(path)
    lean = _lean_sheets(path)
    assert lean is not None
    assert _as_seen(lean) == _as_seen(read_sheets_openpyxl(path))
    assert any(r.get("名称") == "测试日期" for r in lean["参数"])


def test_a_stale_dimension_leaves_the_workbook_to_openpyxl(tmp_path):
    """openpyxl's read-only reader stops at the rows the sheet declares; the lean path cannot say the same, so
    it steps aside and the answer is openpyxl's."""
    path = tmp_path / "制度.xlsx"
    shutil.copy(SHIPPED, path)
    _rewrite_part(path, _sheet_part(path, "角色"), lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:C3"', xml))
    assert _lean_sheets(path) is None
    reference = read_sheets_openpyxl(path)
    assert len(reference["角色"]) == 2  # openpyxl's reading of it: the declared rows only
    assert _as_seen(read_sheets(path)) == _as_seen(reference)


def test_merged_cells_or_no_dimension_leave_the_workbook_to_openpyxl(tmp_path):
    merged, undeclared = tmp_path / "merged.xlsx", tmp_path / "undeclared.xlsx"
    shutil.copy(SHIPPED, merged)
    book = load_workbook(merged)
    book["公司信息"].merge_cells("A9:B9")
    book["公司信息"]["A9"] = "合并"
    book.save(merged)
    shutil.copy(SHIPPED, undeclared)
    _rewrite_part(undeclared, _sheet_part(undeclared, "抄送"), lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', b"", xml))
    for path in (merged, undeclared):
        assert _lean_sheets(path) is None
        assert _as_seen(read_sheets(path)) == _as_seen(read_sheets_openpyxl(path))


def test_a_damaged_workbook_is_refused_as_before(tmp_path):
    path = tmp_path / "制度.xlsx"
    path.write_bytes(b"not a zip")
    assert _lean_sheets(path) is None
    try:
        read_sheets(path)
    except wb.PolicyError as exc:
        assert "无法打开制度工作簿" in exc.message
    else:
        raise AssertionError("a damaged workbook must be refused")

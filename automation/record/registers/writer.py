"""Writing a register workbook: a real Excel table, atomically swapped into place.

XlsxWriter in constant-memory mode streams rows straight to disk, which keeps a
100,000-row register within the time and memory budget. Every form value is
written with ``write_string``/``write_number``, so a form can never plant a
formula: text that looks like one is stored as a plain string cell.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Callable, Sequence

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from automation.errors import RegisterLockedError
from automation.record.registers.cells import excel_serial, safe_text
from automation.record.registers.definitions import RegisterDef
from automation.record.registers.summary import SummaryBlock, summarize

TABLE_STYLE = "Table Style Medium 2"
SUMMARY_SHEET = "汇总"
HEADER_ROW = 1  # row 0 holds the 说明 line
FIRST_DATA_ROW = HEADER_ROW + 1
NUMBER_FORMATS = {"money": "#,##0.00", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm",
                  "int": "0", "decimal": "General;[Red]-General"}
WORKBOOK_OPTIONS = {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                    "strings_to_numbers": False}


def note_text(rendered_at: datetime, count: int) -> str:
    return (f"说明:本表由 OfficeFlow 于 {rendered_at:%Y-%m-%d %H:%M} 根据 {count} 条记录自动生成,"
            "数据以系统为准;请勿在此修改,如需更正请提交相应表单。")


# --- atomic replacement -------------------------------------------------------------

def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def atomic_save(path: Path, save: Callable[[Path], None]) -> None:
    """Let ``save`` write a temporary file beside ``path``, then swap it in.

    A crash or an exception before the swap leaves the previous file untouched;
    a target that cannot be replaced (open in Excel) raises RegisterLockedError.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        save(tmp)
        _fsync(tmp)
        _replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _replace(tmp: Path, path: Path) -> None:
    try:
        os.replace(tmp, path)
    except OSError as exc:  # PermissionError on Windows when Excel holds the file
        raise RegisterLockedError(
            f"台账「{path.stem}」正被打开或无法替换({exc.strerror or exc}),"
            "数据已安全保存在数据库中;关闭该文件后系统会自动重试更新。",
            location=str(path)) from exc


# --- cells --------------------------------------------------------------------------

def _cell_writers(ws, formats: dict) -> dict[str, Callable]:
    def text(r, c, v):
        ws.write_string(r, c, safe_text(v))

    def flag(r, c, v):
        ws.write_string(r, c, ("是" if v else "否") if isinstance(v, bool) else safe_text(v))

    def number(kind):
        fmt = formats[kind]
        return lambda r, c, v: ws.write_number(r, c, v, fmt)

    def serial(kind):
        fmt = formats[kind]
        return lambda r, c, v: ws.write_number(r, c, excel_serial(v), fmt)

    return {"text": text, "bool": flag, "money": number("money"), "int": number("int"),
            "decimal": number("decimal"), "date": serial("date"), "datetime": serial("datetime")}


def _formats(wb) -> dict:
    formats = {kind: wb.add_format({"num_format": fmt}) for kind, fmt in NUMBER_FORMATS.items()}
    formats["note"] = wb.add_format({"italic": True, "font_color": "#595959"})
    formats["flag"] = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
    formats["title"] = wb.add_format({"bold": True, "font_size": 12})
    formats["head"] = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    return formats


def _write_rows(ws, register: RegisterDef, rows: Sequence[tuple], formats: dict) -> list[tuple]:
    writers = [_cell_writers(ws, formats)[col.kind] for col in register.columns]
    written = []
    r = FIRST_DATA_ROW
    for row in rows:
        for c, value in enumerate(row):
            if value is not None and value != "":
                writers[c](r, c, value)
        written.append(row)
        r += 1
    return written


# --- the register sheet -------------------------------------------------------------

def _total(register: RegisterDef, rows: list[tuple], header: str) -> Decimal:
    at = register.index(header)
    return sum((Decimal(row[at]) for row in rows if row[at] is not None), Decimal(0))


def _table_columns(register: RegisterDef, rows: list[tuple], formats: dict) -> list[dict]:
    columns = []
    for i, col in enumerate(register.columns):
        spec: dict = {"header": col.header}
        if col.kind in NUMBER_FORMATS:
            spec["format"] = formats[col.kind]
        if col.header in register.totals:
            spec["total_function"] = "sum"
            spec["total_value"] = _total(register, rows, col.header)
        columns.append(spec)
    return columns


def _add_table(ws, register: RegisterDef, rows: list[tuple], formats: dict) -> None:
    last_row = FIRST_DATA_ROW + max(len(rows), 1)  # Excel needs one data row, even a blank one
    # The label is our own cell, not the table's total_string: XlsxWriter would
    # store that as a shared string, which constant-memory rows cannot hold.
    ws.write_string(last_row, 0, "合计")
    options = {"name": register.table_name, "style": TABLE_STYLE, "total_row": True,
               "columns": _table_columns(register, rows, formats)}
    # XlsxWriter refuses tables in constant-memory mode only because a table
    # normally writes its header and totals out of row order. Ours are already
    # written in order, so here the table adds only metadata and the totals row.
    ws.constant_memory = False
    try:
        result = ws.add_table(HEADER_ROW, 0, last_row, len(register.columns) - 1, options)
    finally:
        ws.constant_memory = True
    if result != 0:
        raise ValueError(f"XlsxWriter refused the table of {register.name}: {result}")


def _highlight(ws, register: RegisterDef, count: int, formats: dict) -> None:
    if not register.highlight or count == 0:
        return
    refs = {col.header: f"${xl_col_to_name(i)}{FIRST_DATA_ROW + 1}" for i, col in enumerate(register.columns)}
    criteria = "=" + register.highlight.format(**refs)
    last = len(register.columns) - 1
    ws.conditional_format(FIRST_DATA_ROW, 0, FIRST_DATA_ROW + count - 1, last,
                          {"type": "formula", "criteria": criteria, "format": formats["flag"]})


def _register_sheet(wb, register, rows, rendered_at, formats) -> list[tuple]:
    ws = wb.add_worksheet(register.name)
    ws.write_string(0, 0, note_text(rendered_at, len(rows)), formats["note"])
    for c, col in enumerate(register.columns):
        ws.write_string(HEADER_ROW, c, col.header)
        ws.set_column(c, c, col.width)
    written = _write_rows(ws, register, rows, formats)
    _add_table(ws, register, written, formats)
    _highlight(ws, register, len(written), formats)
    ws.freeze_panes(FIRST_DATA_ROW, 0)
    return written


# --- the 汇总 sheet -----------------------------------------------------------------

def _summary_sheet(wb, blocks: list[SummaryBlock], note: str, formats: dict) -> None:
    ws = wb.add_worksheet(SUMMARY_SHEET)
    ws.set_column(0, 0, 24)
    ws.set_column(1, 2, 14)
    ws.write_string(0, 0, note, formats["note"])
    r = 2
    for block in blocks:
        ws.write_string(r, 0, block.title, formats["title"])
        heads = [block.key_header, "笔数"] + ([f"{block.measure}合计"] if block.measure else [])
        for c, head in enumerate(heads):
            ws.write_string(r + 1, c, head, formats["head"])
        r += 2
        for line in block.lines:
            ws.write_string(r, 0, safe_text(line[0]))
            ws.write_number(r, 1, line[1])
            if len(line) > 2:
                ws.write_number(r, 2, line[2], formats["money"])
            r += 1
        r += 1


def write_register(path: Path, register: RegisterDef, rows: Sequence[tuple], *, rendered_at: datetime) -> int:
    """Render one register to ``path`` atomically; returns the number of rows written."""
    count = 0

    def save(tmp: Path) -> None:
        nonlocal count
        wb = xlsxwriter.Workbook(str(tmp), WORKBOOK_OPTIONS)
        try:
            formats = _formats(wb)
            written = _register_sheet(wb, register, rows, rendered_at, formats)
            _summary_sheet(wb, summarize(register, written), note_text(rendered_at, len(written)), formats)
        finally:
            wb.close()
        count = len(written)

    atomic_save(Path(path), save)
    return count

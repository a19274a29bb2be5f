"""Raw values of an Excel form: only cells a defined name points at, and the 明细 table.

Nothing else in the workbook is read, so notes scribbled beside the form, an
approval sheet or a pasted picture never become data.
"""

from __future__ import annotations

import hashlib
from datetime import time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from automation.errors import UnsafeFileError
from automation.forms.parsers import ParseProblem, parse_value
from automation.forms import opened
from automation.forms.repair import load_tolerant
from automation.forms.spec import FormSpec, TableSpec
from automation.forms.xlsx_lean import read_lean
from automation.forms.xlsx_values import load_values
from automation.forms.extracted import Raw
from automation.problems import Location

# The one computed column we fill in ourselves when the file was saved by a
# program that does not calculate (openpyxl): 金额 = 数量 × 单价.
PRODUCT = ("金额", "数量", "单价")
MAX_ITEM_ROWS = 5000


def values_book(path: Path, *, hand_on: bool = False, data: bytes | None = None,
                named_rows_only: frozenset[str] = frozenset()) -> Workbook:
    """The workbook's values (``load_values``, formulas as their cached results), through forms.repair.

    ``data``: the file's bytes when the caller has read them already (they are what is read, then).
    ``hand_on``: the caller reads a few cells and the next ``read_xlsx`` of the same bytes takes this
    very workbook instead of loading the file again (a decision's inputs, then its task file's
    fingerprint). A handed-on workbook is taken once only, so no reader sees cells another one added.
    ``named_rows_only``: sheets of which the lean reader takes only the rows defined names point into
    (forms.xlsx_lean.read_lean); a book handed on is then as partial, so only for sheets no later
    reader of the same bytes looks at (a task file's 审批 sheet: the form's fields are on its own sheets).
    Never save or change the result.
    """
    path = Path(path)
    if data is None:
        data = _bytes(path)
    key = hashlib.sha256(data).digest() if data is not None else None
    book = _HANDED_ON.pop(key, None) if key is not None else None
    read_from_key = book is not None
    if book is None and data is not None and path.suffix.lower() in LEAN_SUFFIXES:
        book = _lean(data, path, named_rows_only)  # these very bytes, by the lean reader (forms.xlsx_lean); None when it declines
        read_from_key = book is not None
    if book is None:
        book = load_tolerant(path, "xlsx", lambda source: load_values(source, data_only=True))
    if hand_on and key is not None and (read_from_key or key == _bytes_key(path)):  # unchanged while it was read
        while len(_HANDED_ON) >= 4:
            _HANDED_ON.pop(next(iter(_HANDED_ON), None), None)  # (tolerant of another thread)
        _HANDED_ON[key] = book
    return book


LEAN_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")  # (openpyxl refuses other names: its path says so)


def _lean(data: bytes, path: Path | None = None, named_rows_only: frozenset[str] = frozenset()):
    """The lean reader's book of ``data``; None for a package it does not take (or cannot read): then
    openpyxl's path through forms.repair reads the file, exactly as before the lean reader existed.
    (The zip directory of ``path`` already parsed by another stage is used when it is over ``data``.)"""
    try:
        shared = opened.opened(path) if path is not None else None
        return read_lean(shared.zip if shared is not None and shared.data is data else data,
                         named_rows_only=named_rows_only)
    except MemoryError:
        raise
    except Exception:
        return None


def _bytes(path: Path) -> bytes | None:
    try:
        return opened.read_bytes(path)
    except OSError:
        return None


def _bytes_key(path: Path) -> bytes | None:
    data = _bytes(path)
    return None if data is None else hashlib.sha256(data).digest()


_HANDED_ON: dict[bytes, Workbook] = {}


def read_xlsx(path: Path, spec: FormSpec, data: bytes | None = None) -> Raw:
    """``data``: the file's bytes, when the caller has read them (see ``values_book``)."""
    book = values_book(path, data=data)
    formulas: list[Workbook] = []  # loaded only if a formula cell lacks its cached value
    raw: dict[str, Any] = {}
    locations: dict[str, Location] = {}
    row_locations: dict[tuple[str, int, str], Location] = {}
    for field in spec.fields:
        cell = _named_cell(book, field.key)
        raw[field.key] = None if cell is None else _plain(cell.value)
        if cell is not None:
            locations[field.key] = Location.in_cell(cell.parent.title, cell.coordinate)
    for table in spec.tables:
        rows, where, area = _table_rows(book, table, path, formulas)
        raw[table.key] = rows
        row_locations.update(where)
        if area:
            locations[table.key] = area
    return raw, locations, row_locations


def defined_cell(book: Workbook, name: str) -> tuple[Worksheet, str] | None:
    """The sheet and top-left coordinate a workbook- or sheet-level name points at."""
    scoped = [ws.defined_names[name] for ws in book.worksheets if name in ws.defined_names]
    definition = book.defined_names.get(name) or (scoped[0] if scoped else None)
    if definition is None:
        return None
    for title, ref in definition.destinations:
        if title in book.sheetnames:
            min_col, min_row, _, _ = range_boundaries(ref.replace("$", ""))
            sheet = book[title]
            return sheet, sheet.cell(row=min_row, column=min_col).coordinate
    return None


def _named_cell(book: Workbook, name: str):
    found = defined_cell(book, name)
    return None if found is None else found[0][found[1]]


def find_table(book: Workbook, key: str):
    for ws in book.worksheets:
        for table in ws.tables.values():
            if key in (table.displayName, table.name):
                return ws, table
    return None


def _table_rows(book: Workbook, table: TableSpec, path: Path, formulas: list[Workbook]):
    found = find_table(book, table.key)
    if found is None:
        return [], {}, None
    ws, xl_table = found
    min_col, min_row, max_col, max_row = range_boundaries(xl_table.ref)
    first = min_row + (xl_table.headerRowCount if xl_table.headerRowCount is not None else 1)
    declared_last = max_row - (xl_table.totalsRowCount or 0)
    # A table may claim a million rows; only those that hold cells can hold data.
    last = min(declared_last, ws.max_row)
    if last - first + 1 > MAX_ITEM_ROWS:
        raise UnsafeFileError(f"「{table.key}」有 {last - first + 1} 行,超过了 {MAX_ITEM_ROWS} 行的上限。"
                              "请拆分为几张表单分别提交。", code="table-too-long")
    header = {ws.cell(row=min_row, column=c).value: c for c in range(min_col, max_col + 1)}
    columns = {col.key: header[col.key] for col in table.columns if col.key in header}
    rows, where = [], {}
    for r in range(first, last + 1):
        row = {key: _plain(ws.cell(row=r, column=c).value) for key, c in columns.items()}
        if _blank_row(row):
            continue
        _fill_product(row, ws, r, columns, table, path, formulas)
        rows.append(row)
        for key, c in columns.items():
            where[(table.key, len(rows), key)] = Location.in_cell(ws.title, ws.cell(row=r, column=c).coordinate)
    end = ws.cell(row=max(first, min(declared_last, first + MAX_ITEM_ROWS)), column=max_col).coordinate
    area = Location.in_cell(ws.title, f"{ws.cell(row=first, column=min_col).coordinate}:{end}")
    return rows, where, area


def _fill_product(row: dict, ws: Worksheet, r: int, columns: dict, table: TableSpec, path: Path, formulas: list) -> None:
    total, qty, price = PRODUCT
    if row.get(total) is not None or not all(k in columns for k in PRODUCT) or _blank(row[qty]) or _blank(row[price]):
        return
    if not _is_formula(ws.title, f"{ws.cell(row=r, column=columns[total]).coordinate}", path, formulas):
        return
    try:
        q = parse_value(table.column(qty), row[qty])
        p = parse_value(table.column(price), row[price])
    except ParseProblem:
        return
    if q is not None and p is not None:
        row[total] = (Decimal(q) * Decimal(p)).quantize(Decimal("0.01"))


def _is_formula(title: str, coordinate: str, path: Path, formulas: list[Workbook]) -> bool:
    if not formulas:
        formulas.append(load_tolerant(path, "xlsx", lambda source: load_values(source, data_only=False)))
    return formulas[0][title][coordinate].data_type == "f"


def _blank_row(row: dict) -> bool:
    # Excel shows 0 in the 金额 formula of an untouched line; that line is still blank.
    return all(_blank(v) or (k == PRODUCT[0] and v == 0) for k, v in row.items())


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _plain(value: Any) -> Any:
    """Cell values as they are, except the few types a fingerprint cannot hold."""
    if isinstance(value, (time, timedelta)):
        return str(value)
    return value

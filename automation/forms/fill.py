"""Filling a blank form programmatically, the way a person would type into it.

Used by ``officeflow demo`` (and by the tests): values go into the defined-name
cells or the tagged content controls, line items into the 明细 table.
"""

from __future__ import annotations

import datetime as dt
import re
from copy import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from openpyxl import load_workbook
from openpyxl.formula.translate import Translator
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.workbook.defined_name import DefinedName


def fill(path: Path, spec, values: dict[str, Any], items: list[dict] | None = None) -> Path:
    return (fill_xlsx if spec.kind == "xlsx" else fill_docx)(path, values, items)


# --- Excel -----------------------------------------------------------------


def fill_xlsx(path: Path, values: dict[str, Any], items: list[dict] | None = None) -> Path:
    """Type ``values`` into the named cells and ``items`` into the 明细 table, in place.

    A value is written as given (Decimal, date, str …); a key the form has no
    name for raises KeyError. More items than blank rows extend the table,
    moving whatever lies below it down.
    """
    wb = load_workbook(path)
    for key, value in values.items():
        sheet, coord = _named_cell(wb, key)
        wb[sheet][coord] = value
    if items:
        _fill_table(wb, items)
    wb.save(path)
    return Path(path)


def _named_cell(wb, key: str) -> tuple[str, str]:
    if key not in wb.defined_names:
        raise KeyError(f"表单中没有名为「{key}」的单元格")
    sheet, coord = next(iter(wb.defined_names[key].destinations))
    return sheet, coord.replace("$", "")


def _fill_table(wb, items: list[dict]) -> None:
    ws, table = next((ws, ws.tables[name]) for ws in wb.worksheets for name in ws.tables if name == "明细")
    min_col, header, max_col, last = range_boundaries(table.ref)
    needed = header + len(items)
    if needed > last:
        _make_room(wb, ws, last, needed - last, min_col, max_col)
        table.ref = f"{get_column_letter(min_col)}{header}:{get_column_letter(max_col)}{needed}"
        if table.autoFilter is not None:
            table.autoFilter.ref = table.ref
    columns = {ws.cell(header, col).value: col for col in range(min_col, max_col + 1)}
    for offset, item in enumerate(items, start=1):
        for key, value in item.items():
            if key not in columns:
                raise KeyError(f"明细中没有名为「{key}」的列")
            ws.cell(header + offset, columns[key], value)


def _make_room(wb, ws, last: int, extra: int, min_col: int, max_col: int) -> None:
    """Insert ``extra`` table rows after row ``last``; keep names, merges,
    validations, heights and the print area pointing at the same cells."""
    bottom = max(ws.max_row, last)
    if bottom > last:
        ws.move_range(f"A{last + 1}:{get_column_letter(ws.max_column)}{bottom}", rows=extra)
    for row in range(bottom, last, -1):
        ws.row_dimensions[row + extra].height = ws.row_dimensions[row].height
        ws.row_dimensions[row].height = None
    for merged in ws.merged_cells.ranges:
        if merged.min_row > last:
            merged.shift(0, extra)
    for dv in ws.data_validations.dataValidation:
        for cells in dv.sqref.ranges:
            if cells.min_row > last:
                cells.shift(0, extra)
            elif cells.max_row == last:
                cells.expand(down=extra)
    _shift_names(wb, ws.title, last, extra)
    for row in range(last + 1, last + extra + 1):
        for col in range(min_col, max_col + 1):
            _copy_cell(ws.cell(last, col), ws.cell(row, col))
    if ws.print_area:
        ws.print_area = f"A1:{get_column_letter(ws.max_column)}{ws.max_row}"


def _copy_cell(source, target) -> None:
    """Style, and the template's own formula (金额 = 数量 × 单价) moved to the new row."""
    if isinstance(source.value, str) and source.value.startswith("="):
        target.value = Translator(source.value, origin=source.coordinate).translate_formula(target.coordinate)
    for attr in ("font", "border", "fill", "number_format", "protection", "alignment"):
        setattr(target, attr, copy(getattr(source, attr)))


def _shift_names(wb, sheet: str, last: int, extra: int) -> None:
    for name, dn in list(wb.defined_names.items()):
        places = list(dn.destinations)
        if not places:
            continue  # a constant, such as the form's hidden marker
        title, coord = places[0]
        col, row = re.match(r"\$?([A-Z]+)\$?(\d+)$", coord).groups()
        if title == sheet and int(row) > last:
            wb.defined_names[name] = DefinedName(name, attr_text=f"'{title}'!${col}${int(row) + extra}")


# --- Word ------------------------------------------------------------------


def fill_docx(path: Path, values: dict[str, Any], items: list[dict] | None = None) -> Path:
    """Set the text of the content controls tagged with ``values``' keys, in place;
    ``items`` go into the table whose header row holds their keys."""
    doc = Document(str(path))
    controls = {_tag(sdt): sdt for sdt in doc.element.body.iter(qn("w:sdt"))}
    for key, value in values.items():
        if key not in controls:
            raise KeyError(f"表单中没有标记为「{key}」的内容控件")
        _set_control(controls[key], value)
    if items:
        _fill_docx_table(doc, items)
    doc.save(str(path))
    return Path(path)


def _tag(sdt) -> str | None:
    tag = sdt.find(f"{qn('w:sdtPr')}/{qn('w:tag')}")
    return tag.get(qn("w:val")) if tag is not None else None


def _set_control(sdt, value: Any) -> None:
    props, content = sdt.find(qn("w:sdtPr")), sdt.find(qn("w:sdtContent"))
    for flag in props.findall(qn("w:showingPlcHdr")):
        props.remove(flag)
    date = props.find(qn("w:date"))
    if date is not None and isinstance(value, dt.date):
        date.set(qn("w:fullDate"), f"{value.isoformat()}T00:00:00Z")
    for child in list(content):
        content.remove(child)
    run = OxmlElement("w:r")
    for i, line in enumerate(_text(value).split("\n")):
        if i:
            run.append(OxmlElement("w:br"))
        t = OxmlElement("w:t")
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        t.text = line
        run.append(t)
    content.append(run)


def _text(value: Any) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, Decimal):
        return format(value, "f")
    return "" if value is None else str(value)


def _fill_docx_table(doc, items: list[dict]) -> None:
    keys = set().union(*items)
    table = next(t for t in doc.tables if keys <= {c.text.strip() for c in t.rows[0].cells})
    header = [c.text.strip() for c in table.rows[0].cells]
    while len(table.rows) - 1 < len(items):
        table.add_row()
    for row, item in zip(table.rows[1:], items):
        for key, value in item.items():
            row.cells[header.index(key)].text = _text(value)


# --- properties ------------------------------------------------------------



"""Blank Excel forms built from a ``FormSpec``.

Every input cell carries a workbook-level defined name equal to the field key,
so reading a filled form never depends on cell addresses: a form whose layout
changes between versions is still read by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from openpyxl import Workbook
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from automation.forms import markers
from automation.forms.markers import PROP_FORM, PROP_VERSION
from automation.forms.spec import FieldSpec, FormSpec, TableSpec
from automation.fsutil import atomic_save

SHEET = "表单"
INSTRUCTION = "请在白色格子中填写,带 * 的为必填项;选中格子可看到填写说明。填好后保存,放入 inbox 文件夹即可提交。"

NUMBER_FORMATS = {
    "money": "#,##0.00",
    "number": "#,##0.00",
    "integer": "0",
    "date": "yyyy-mm-dd",
    "percent": "0.00%",
}
# Identifiers typed as text keep their leading zeros and all 18 digits
# (Excel would otherwise turn 身份证号 into 4.4E+17).
TEXT_FORMAT = "@"

_THIN = Side(style="thin", color="A6A6A6")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
LABEL_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_FILL = PatternFill("solid", fgColor="4472C4")
LABEL_FONT = Font(name="宋体", size=11, bold=True)
INPUT_FONT = Font(name="宋体", size=11)
UNLOCKED = Protection(locked=False)


def build_xlsx(spec: FormSpec, dest: Path) -> Path:
    """Write the blank form for ``spec`` to ``dest`` (atomically) and return it."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    grid = _Grid(columns=_grid_columns(spec))
    _title(ws, spec, grid.columns)
    for item in spec.layout():
        if isinstance(item, TableSpec):
            _table(ws, grid, item)
        else:
            _field(wb, ws, grid, item)
    last_row = _footer(ws, spec, grid)
    _column_widths(ws, spec, grid)
    _page_setup(ws, grid.columns, last_row)
    _protect(ws)
    _properties(wb, spec)
    return save_atomically(wb.save, Path(dest))


# --- layout ----------------------------------------------------------------


@dataclass
class _Grid:
    """Two label/input pairs per row; wide fields take a whole row."""

    columns: int
    row: int = 4
    slot: int = 0  # 0 = left pair, 1 = right pair of the current row

    @property
    def half(self) -> int:
        return self.columns // 2

    def place(self, wide: bool) -> tuple[int, int, int, int]:
        """(row, label column, first input column, last input column)."""
        if wide and self.slot:
            self.new_row()
        if wide:
            self.row += 1
            return (self.row - 1, 1, 2, self.columns)
        first = 1 + self.slot * self.half
        spot = (self.row, first, first + 1, first + self.half - 1)
        self.slot = 1 - self.slot
        if not self.slot:
            self.row += 1
        return spot

    def new_row(self) -> None:
        if self.slot:
            self.row += 1
            self.slot = 0


def _grid_columns(spec: FormSpec) -> int:
    widest = max((len(t.columns) for t in spec.tables), default=0)
    columns = max(4, widest)
    return columns + columns % 2


def _title(ws: Worksheet, spec: FormSpec, columns: int) -> None:
    last = get_column_letter(columns)
    ws.merge_cells(f"A1:{last}1")
    ws["A1"] = spec.title
    ws["A1"].font = Font(name="黑体", size=18, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 36
    ws.merge_cells(f"A2:{last}2")
    ws["A2"] = INSTRUCTION
    ws["A2"].font = Font(name="宋体", size=9, color="595959")
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="center")
    ws.row_dimensions[2].height = 30


def _footer(ws: Worksheet, spec: FormSpec, grid: _Grid) -> int:
    grid.new_row()
    row = grid.row + 1
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=grid.columns)
    cell = ws.cell(row, 1, spec.edition_label)
    cell.font = Font(name="宋体", size=8, color="808080")
    cell.alignment = Alignment(horizontal="right")
    return row


# --- fields ----------------------------------------------------------------


def _field(wb: Workbook, ws: Worksheet, grid: _Grid, f: FieldSpec) -> None:
    row, label_col, first, last = grid.place(wide=f.width > 1 or f.multiline)
    label = ws.cell(row, label_col, f"{f.label}*" if f.required else f.label)
    label.font, label.fill, label.border = LABEL_FONT, LABEL_FILL, BORDER
    label.alignment = Alignment(horizontal="right", vertical="center", wrap_text=True)
    if last > first:
        ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
    for col in range(first, last + 1):
        _input_style(ws.cell(row, col), f)
    ws.row_dimensions[row].height = 60 if f.multiline else 22
    ref = f"'{SHEET}'!${get_column_letter(first)}${row}"
    wb.defined_names[f.key] = DefinedName(f.key, attr_text=ref)
    _validation(ws, f, f"{get_column_letter(first)}{row}")


def _input_style(cell, f: FieldSpec) -> None:
    cell.border, cell.font, cell.protection = BORDER, INPUT_FONT, UNLOCKED
    cell.number_format = NUMBER_FORMATS.get(f.type, TEXT_FORMAT)
    cell.alignment = Alignment(vertical="top" if f.multiline else "center", wrap_text=True)


def _validation(ws: Worksheet, f: FieldSpec, sqref: str) -> None:
    dv = _rule(f)
    dv.showInputMessage = True
    dv.promptTitle = f.label[:32]
    dv.prompt = (f.help or f"请填写{f.label}。")[:255]
    dv.add(sqref)
    ws.add_data_validation(dv)


def _rule(f: FieldSpec) -> DataValidation:
    """Excel's own check where it helps; choices stop, the rest only warn
    (OfficeFlow re-checks everything, and a warning never blocks typing)."""
    if f.choices:
        return DataValidation(type="list", formula1='"' + ",".join(f.choices) + '"', allow_blank=True,
                              showErrorMessage=True, errorTitle="请从列表中选择",
                              error=f"「{f.label}」只能是:{'、'.join(f.choices)}。")
    kind = {"integer": "whole", "money": "decimal", "number": "decimal", "percent": "decimal"}.get(f.type)
    if kind and (f.min is not None or f.max is not None):
        return _range_rule(f, kind)
    return DataValidation(allow_blank=True)


def _range_rule(f: FieldSpec, kind: str) -> DataValidation:
    if f.min is not None and f.max is not None:
        op, args, text = "between", (f.min, f.max), f"在 {f.min} 到 {f.max} 之间"
    elif f.min is not None:
        op, args, text = "greaterThanOrEqual", (f.min,), f"不小于 {f.min}"
    else:
        op, args, text = "lessThanOrEqual", (f.max,), f"不大于 {f.max}"
    dv = DataValidation(type=kind, operator=op, formula1=str(args[0]), allow_blank=True,
                        showErrorMessage=True, errorStyle="warning", errorTitle="请核对",
                        error=f"「{f.label}」应为{'整数' if kind == 'whole' else '数字'},{text}。")
    if len(args) > 1:
        dv.formula2 = str(args[1])
    return dv


# --- line items ------------------------------------------------------------


def _table(ws: Worksheet, grid: _Grid, t: TableSpec) -> None:
    grid.new_row()
    caption_row, header_row = grid.row + 1, grid.row + 2
    first_body, last_body = header_row + 1, header_row + t.rows
    caption = ws.cell(caption_row, 1, f"{t.label}*" if t.required else t.label)
    caption.font = Font(name="宋体", size=12, bold=True)
    for col, c in enumerate(t.columns, start=1):
        head = ws.cell(header_row, col, c.key)
        # Explicit fill as well as the table style: LibreOffice and WPS do not
        # draw table styles, and white header text would vanish.
        head.font = Font(name="宋体", size=11, bold=True, color="FFFFFF")
        head.fill, head.border = HEADER_FILL, BORDER
        head.alignment = Alignment(horizontal="center", vertical="center")
        _column_body(ws, c, col, first_body, last_body)
    _amount_formula(ws, t, first_body, last_body)
    ref = f"A{header_row}:{get_column_letter(len(t.columns))}{last_body}"
    table = Table(displayName=t.key, ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    grid.row = last_body + 2


def _column_body(ws: Worksheet, c: FieldSpec, col: int, first: int, last: int) -> None:
    for row in range(first, last + 1):
        cell = ws.cell(row, col)
        cell.protection, cell.font, cell.border = UNLOCKED, INPUT_FONT, BORDER
        cell.number_format = NUMBER_FORMATS.get(c.type, TEXT_FORMAT)
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    letter = get_column_letter(col)
    _validation(ws, c, f"{letter}{first}:{letter}{last}")


def _amount_formula(ws: Worksheet, t: TableSpec, first: int, last: int) -> None:
    """Our own template formula (never user data): 金额 = 数量 × 单价 while both are filled."""
    keys = [c.key for c in t.columns]
    if not {"金额", "数量", "单价"} <= set(keys):
        return
    qty, price = (get_column_letter(keys.index(k) + 1) for k in ("数量", "单价"))
    amount = keys.index("金额") + 1
    for row in range(first, last + 1):
        q, p = f"{qty}{row}", f"{price}{row}"
        ws.cell(row, amount, f'=IF(AND({q}<>"",{p}<>""),ROUND({q}*{p},2),"")')


# --- sheet -----------------------------------------------------------------


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


_TYPE_WIDTH = {"date": 13, "money": 14, "number": 11, "integer": 10, "percent": 10}


def _column_widths(ws: Worksheet, spec: FormSpec, grid: _Grid) -> None:
    widths = [12.0] * grid.columns
    labels = [f.label + "*" for f in spec.fields]
    label_width = max(_display_width(label) for label in labels) + 3
    for col in (0, grid.half):
        widths[col] = max(widths[col], label_width)
    for t in spec.tables:
        for i, c in enumerate(t.columns):
            wanted = max(_display_width(c.key) + 6, _TYPE_WIDTH.get(c.type, 16), _choice_width(c))
            widths[i] = max(widths[i], wanted)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = min(width, 30)


def _choice_width(c: FieldSpec) -> int:
    return max((_display_width(x) + 4 for x in c.choices), default=0)


def _page_setup(ws: Worksheet, columns: int, last_row: int) -> None:
    ws.sheet_view.showGridLines = False
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_area = f"A1:{get_column_letter(columns)}{last_row}"


def _protect(ws: Worksheet) -> None:
    """Labels cannot be overwritten; no password, so IT can still lift it."""
    ws.protection.sheet = True
    ws.protection.formatRows = False
    ws.protection.insertRows = False


def _properties(wb: Workbook, spec: FormSpec) -> None:
    wb.properties.title = spec.title
    wb.properties.creator = "OfficeFlow"
    wb.custom_doc_props.append(StringProperty(name=PROP_FORM, value=spec.id))
    wb.custom_doc_props.append(StringProperty(name=PROP_VERSION, value=spec.version))
    add_marker(wb, spec.id, spec.version)


def add_marker(wb: Workbook, form_id: str, version: str) -> None:
    """The hidden, protected marker sheet and the defined name (see ``forms.markers``)."""
    if markers.MARKER_SHEET in wb.sheetnames:
        del wb[markers.MARKER_SHEET]
    ws = wb.create_sheet(markers.MARKER_SHEET)
    for row, (key, value) in enumerate(((PROP_FORM, form_id), (PROP_VERSION, version)), start=1):
        ws.cell(row, 1, key)
        ws.cell(row, 2, value).data_type = "s"
    ws.sheet_state = "veryHidden"
    ws.protection.sheet = True
    wb.defined_names[markers.MARKER_NAME] = DefinedName(
        markers.MARKER_NAME, attr_text=f'"{markers.marker_value(form_id, version)}"', hidden=True)


def save_atomically(save: Callable[[str], None], dest: Path) -> Path:
    """Write through a temporary file in the same folder, then swap it in, so a
    reader never sees half a form (also used for Word forms)."""
    return atomic_save(dest, lambda tmp: save(str(tmp)))

"""Writing a register workbook: a real Excel table, atomically swapped into place.

XlsxWriter builds the workbook — formats, the table with its totals row, the
highlight rule, frozen header, the 汇总 sheet — around an empty data range;
``sheetxml`` then streams the data rows into that range (see there why). Every
form value is written as a string or number cell, never a formula.
"""

from __future__ import annotations

import glob
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from automation.errors import RegisterLockedError
from automation.fsutil import refuse_links
from automation.printing import lines_needed, row_height, setup_xlsxwriter
from automation.record.registers.cells import safe_text
from automation.record.registers.definitions import RegisterDef
from automation.record.registers.layout import ColumnLayout, column_layout, row_heights, text_width
from automation.record.registers.sheetxml import cell_makers, encode_rows, splice_rows
from automation.record.registers.summary import SummaryBlock, summarize

TABLE_STYLE = "Table Style Medium 2"
SUMMARY_SHEET = "汇总"
HEADER_ROW = 1  # row 0 holds the 说明 line
FIRST_DATA_ROW = HEADER_ROW + 1
NUMBER_FORMATS = {"money": "#,##0.00", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm",
                  "int": "0", "decimal": "General;[Red]-General"}
WORKBOOK_OPTIONS = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                    "strings_to_numbers": False}
REGISTER_PART = "xl/worksheets/sheet1.xml"  # the register is the workbook's first sheet


def note_text(rendered_at: datetime, count: int, anchor: str = "") -> str:
    return (f"说明:本表由 OfficeFlow 于 {rendered_at:%Y-%m-%d %H:%M} 根据 {count} 条记录自动生成,"
            f"数据以系统为准;请勿在此修改,如需更正请提交相应表单。{anchor}")


# --- atomic replacement -------------------------------------------------------------

def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _remove_leftovers(path: Path) -> None:
    """Temporary files of a render that was killed (kill -9, power cut) before its swap.

    ``finally`` never ran for them. No live render of the same register can own
    one: renders are claimed one at a time (see ``render._claim``).
    """
    for old in path.parent.glob(f".{glob.escape(path.stem)}.*.tmp"):
        old.unlink(missing_ok=True)


def atomic_save(path: Path, save: Callable[[Path], None]) -> None:
    """Let ``save`` write a temporary file beside ``path``, then swap it in.

    A crash or an exception before the swap leaves the previous file untouched;
    a target that cannot be replaced (open in Excel) raises RegisterLockedError.
    """
    refuse_links(path.parent)  # outbox/registers swapped for a link: never written through
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(path)
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


# --- formats ------------------------------------------------------------------------

def _formats(wb) -> dict:
    # Top-aligned throughout: in a row made tall by a wrapped column, every value starts on the first line.
    formats = {kind: wb.add_format({"num_format": fmt, "valign": "top"}) for kind, fmt in NUMBER_FORMATS.items()}
    formats["text"] = wb.add_format({"valign": "top"})
    formats["note"] = wb.add_format({"italic": True, "font_color": "#595959"})
    formats["flag"] = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
    formats["title"] = wb.add_format({"bold": True, "font_size": 12})
    formats["head"] = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    formats["wrap"] = wb.add_format({"text_wrap": True, "valign": "top"})
    formats["note_wrap"] = wb.add_format({"italic": True, "font_color": "#595959", "text_wrap": True, "valign": "top"})
    return formats


# --- the register sheet -------------------------------------------------------------

def _total(register: RegisterDef, rows: Sequence[tuple], header: str) -> Decimal:
    at = register.index(header)
    return sum((Decimal(row[at]) for row in rows if row[at] is not None), Decimal(0))


def totals_of(register: RegisterDef, rows: Sequence[tuple]) -> dict[str, Decimal]:
    """The totals row's sums, by column header."""
    return {header: _total(register, rows, header) for header in register.totals}


def _table_columns(register: RegisterDef, totals: dict[str, Decimal], formats: dict) -> list[dict]:
    columns = []
    for i, col in enumerate(register.columns):
        spec: dict = {"header": col.header}
        if col.kind in NUMBER_FORMATS:
            spec["format"] = formats[col.kind]
        if col.header in register.totals:
            spec["total_function"] = "sum"
            spec["total_value"] = totals[col.header]
        columns.append(spec)
    return columns


class _NoOverlapBook(dict):
    """XlsxWriter records every cell of a table's range to refuse overlapping tables
    and merges: 1.2 million entries (about 100 MB) for a 100,000-row register.
    A register sheet holds one table and no merged cells, so there is nothing to
    overlap and nothing worth recording."""

    def __setitem__(self, key, value) -> None:
        pass


def _add_table(ws, register: RegisterDef, count: int, totals: dict[str, Decimal], formats: dict) -> None:
    last_row = FIRST_DATA_ROW + max(count, 1)  # Excel needs one data row, even a blank one
    ws.write_string(last_row, 0, "合计")
    ws.table_cells = _NoOverlapBook()
    options = {"name": register.table_name, "style": TABLE_STYLE, "total_row": True,
               "columns": _table_columns(register, totals, formats)}
    result = ws.add_table(HEADER_ROW, 0, last_row, len(register.columns) - 1, options)
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


def _column_format(col, layout: ColumnLayout, formats: dict):
    if col.kind in NUMBER_FORMATS:
        return formats[col.kind]
    return formats["wrap"] if layout.wrap else formats["text"]


def _note(ws, row: int, last_col: int, text: str, width: float, formats: dict) -> None:
    """The 说明 line, wrapped inside the printed width (an overflowing line prints a page of its own)."""
    ws.merge_range(row, 0, row, last_col, text, formats["note_wrap"])
    ws.set_row(row, row_height(lines_needed(text, width)))


def _register_frame(wb, register, count: int, totals: dict[str, Decimal], rendered_at, formats,
                    layouts: list[ColumnLayout], anchor: str = "", note_count: int | None = None) -> None:
    """The register sheet without its data rows: those are streamed in by ``sheetxml``."""
    ws = wb.add_worksheet(register.name)
    note = note_text(rendered_at, count if note_count is None else note_count, anchor)
    _note(ws, 0, len(register.columns) - 1, note, sum(l.width for l in layouts), formats)
    # XlsxWriter numbers styles in order of first use: the text and wrap styles numbered here, before
    # the columns, keep every style's number whichever columns wrap, so a column that begins or stops
    # wrapping leaves the cached rows' styles valid (registers.incremental._rewrap). (The 汇总 sheet
    # uses the wrap style in any case.)
    formats["text"]._get_xf_index(), formats["wrap"]._get_xf_index()
    for c, (col, layout) in enumerate(zip(register.columns, layouts)):
        ws.write_string(HEADER_ROW, c, col.header)
        # A column format also registers the style our streamed cells refer to.
        ws.set_column(c, c, layout.width, _column_format(col, layout, formats))
    _add_table(ws, register, count, totals, formats)
    _highlight(ws, register, count, formats)
    ws.freeze_panes(FIRST_DATA_ROW, 0)
    # Wide: A4 landscape, all columns on one page width, as many pages long as needed, header on each.
    setup_xlsxwriter(ws, landscape=True, repeat_row=HEADER_ROW)
    ws.set_header(f"&L{register.name}&R{rendered_at:%Y-%m-%d %H:%M}", {"margin": 0.3})


# --- the 汇总 sheet -----------------------------------------------------------------

def _summary_widths(blocks: list[SummaryBlock]) -> tuple[float, float, float]:
    keys = [text_width(line[0]) for block in blocks for line in block.lines] + [text_width(b.key_header) for b in blocks]
    sums = [text_width(_sum_text(line[2], block.measure_kind)) for block in blocks for line in block.lines if len(line) > 2]
    return min(max([16, *keys]) + 2, 40), 8, max([12, *sums]) + 2


def _sum_text(value, kind: str) -> str:
    return f"{value:,.2f}" if kind == "money" else f"{value:,}"


def _summary_sheet(wb, blocks: list[SummaryBlock], note: str, formats: dict) -> None:
    ws = wb.add_worksheet(SUMMARY_SHEET)
    widths = _summary_widths(blocks)
    for c, width in enumerate(widths):
        ws.set_column(c, c, width, formats["wrap"] if c == 0 else None)
    _note(ws, 0, 2, note, sum(widths), formats)
    # Narrow: A4 portrait, one page wide; a long grouping continues on the next page.
    setup_xlsxwriter(ws, landscape=False)
    r = 2
    for block in blocks:
        ws.write_string(r, 0, block.title, formats["title"])
        heads = [block.key_header, "笔数"] + ([f"{block.measure}合计"] if block.measure else [])
        for c, head in enumerate(heads):
            ws.write_string(r + 1, c, head, formats["head"])
        r += 2
        for line in block.lines:
            ws.write_string(r, 0, safe_text(line[0]), formats["wrap"])
            if text_width(line[0]) > widths[0] - 1:
                ws.set_row(r, row_height(lines_needed(str(line[0]), widths[0])))
            ws.write_number(r, 1, line[1])
            if len(line) > 2:
                # money as money; days, counts and other numbers as they are (3 天, not 3.00)
                ws.write_number(r, 2, line[2], formats.get(block.measure_kind, formats["decimal"]))
            r += 1
        r += 1


def frame(register: RegisterDef, *, count: int, totals: dict[str, Decimal], blocks: list[SummaryBlock],
          layouts: list[ColumnLayout], rendered_at: datetime, anchor: str = "", with_styles: bool = False,
          relocate: bool = False):
    """The workbook without its data rows, and the cell makers those rows are encoded with
    (and, ``with_styles``, the style numbers those cells carry).

    Everything here depends on the rows only through ``count``, ``totals``, ``blocks`` and
    ``layouts``, which the incremental render keeps without the rows (registers.incremental).
    XlsxWriter's cost grows with the table's rows (it visits every cell of the range, and every
    row number up to the last); ``relocate`` builds the frame for one row and moves the range
    ends and the totals row to ``count`` (``_relocated``), falling back to the full build if the
    frame does not look as expected. tests/test_registers_incremental.py holds both equal."""
    small = min(count, 1) if relocate else count
    package, makers, styles = _build_frame(register, small, count, totals, blocks, layouts, rendered_at, anchor)
    if small != count:
        moved = _relocated(package, register, small, count)
        package = moved if moved is not None else _build_frame(
            register, count, count, totals, blocks, layouts, rendered_at, anchor)[0]
    return (package, makers, styles) if with_styles else (package, makers)


def _build_frame(register, count, note_count, totals, blocks, layouts, rendered_at, anchor):
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, WORKBOOK_OPTIONS)
    formats = _formats(wb)
    _register_frame(wb, register, count, totals, rendered_at, formats, layouts, anchor, note_count=note_count)
    _summary_sheet(wb, blocks, note_text(rendered_at, note_count), formats)
    wb.close()
    # Style indices are only known once XlsxWriter has laid out the styles.
    styles = {kind: formats[kind].xf_index for kind in NUMBER_FORMATS}
    makers = cell_makers([col.kind for col in register.columns], styles, wrapped=[layout.wrap for layout in layouts],
                         wrap_style=formats["wrap"].xf_index, text_style=formats["text"].xf_index)
    return out.getvalue(), makers, (*sorted(styles.items()), formats["wrap"].xf_index, formats["text"].xf_index)


TABLE_PART = "xl/tables/table1.xml"
SPAN_ROWS = 16  # XlsxWriter gives each row of a block of 16 the span of the block's cells


def column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _relocated(package: bytes, register: RegisterDef, small: int, count: int) -> bytes | None:
    """The frame built for ``small`` rows with its row-dependent references moved to ``count`` rows:
    the sheet's dimension, the totals row (its number and its cells'), the highlight's range, the
    table's and its filter's ranges. None when any of them is not found exactly once."""
    last = xl_col_to_name(len(register.columns) - 1)
    first_data = FIRST_DATA_ROW + 1  # 1-based
    old_total, new_total = first_data + max(small, 1), first_data + max(count, 1)
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        sheet = zf.read(REGISTER_PART).decode("utf-8")
        table = zf.read(TABLE_PART).decode("utf-8")
        infos = zf.infolist()
        parts = {info.filename: zf.read(info) for info in infos}
    edits = [(f'<dimension ref="A1:{last}{old_total}"/>', f'<dimension ref="A1:{last}{new_total}"/>')]
    if register.highlight:  # (only drawn when there are rows: small is 1 here)
        edits.append((f'<conditionalFormatting sqref="A{first_data}:{last}{old_total - 1}">',
                      f'<conditionalFormatting sqref="A{first_data}:{last}{new_total - 1}">'))
    for old, new in edits:
        if sheet.count(old) != 1:
            return None
        sheet = sheet.replace(old, new)
    start = sheet.find(f'<row r="{old_total}" ')
    end = sheet.find("</row>", start)
    if start < 0 or end < 0 or sheet.count(f'<row r="{old_total}" ') != 1:
        return None
    row = sheet[start:end]
    cells = re.findall(rf'<c r="([A-Z]+){old_total}"', row)
    if not cells or len(re.findall(rf'r="[A-Z]*{old_total}"', row)) != len(cells) + 1:
        return None  # something else in the totals row names its number: not the frame we know
    row = re.sub(rf'<c r="([A-Z]+){old_total}"', rf'<c r="\g<1>{new_total}"', row).replace(
        f'<row r="{old_total}" ', f'<row r="{new_total}" ', 1)
    if (new_total - 1) // SPAN_ROWS != (old_total - 1) // SPAN_ROWS:
        # XlsxWriter's spans cover the cells of each 16 rows: alone in its 16, the totals row spans its own cells.
        columns = [column_index(letters) for letters in cells]
        spans = re.findall(r' spans="\d+:\d+"', row[:row.find(">")])
        if len(spans) != 1:
            return None
        row = row.replace(spans[0], f' spans="{min(columns) + 1}:{max(columns) + 1}"', 1)
    sheet = sheet[:start] + row + sheet[end:]
    for old, new in ((f' ref="A{HEADER_ROW + 1}:{last}{old_total}"', f' ref="A{HEADER_ROW + 1}:{last}{new_total}"'),
                     (f'<autoFilter ref="A{HEADER_ROW + 1}:{last}{old_total - 1}"/>',
                      f'<autoFilter ref="A{HEADER_ROW + 1}:{last}{new_total - 1}"/>')):
        if table.count(old) != 1:
            return None
        table = table.replace(old, new)
    parts[REGISTER_PART], parts[TABLE_PART] = sheet.encode("utf-8"), table.encode("utf-8")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dest:
        for info in infos:
            dest.writestr(info, parts[info.filename])
    return out.getvalue()


def write_register(path: Path, register: RegisterDef, rows: Sequence[tuple], *, rendered_at: datetime,
                   anchor: str = "", reference: bool = False) -> int:
    """Render one register to ``path`` atomically; returns the number of rows written.

    ``anchor`` (the audit chain's head, for 审批台账) is appended to the 说明 line.
    ``reference`` takes the plain way throughout (the frame built for every row, every cell
    encoded afresh), which tests/test_registers_fastpaths.py holds the fast one equal to."""
    relocate = not reference
    rows = rows if isinstance(rows, list) else list(rows)

    layouts = column_layout(register, rows)

    def save(tmp: Path) -> None:
        package, makers = frame(register, count=len(rows), totals=totals_of(register, rows),
                                blocks=summarize(register, rows, reference=reference), layouts=layouts, rendered_at=rendered_at,
                                anchor=anchor, relocate=relocate)
        chunks = encode_rows(rows, makers, first_row=FIRST_DATA_ROW + 1, heights=row_heights(rows, layouts, memo=not reference),
                             memo=not reference)
        splice_rows(package, tmp, REGISTER_PART, after_row=HEADER_ROW + 1, chunks=chunks)

    atomic_save(Path(path), save)
    return len(rows)

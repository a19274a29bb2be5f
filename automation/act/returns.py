"""The annotated copy of a form sent back to the person who filled it in.

A copy of the original, never the original: every cell or control with a
problem is marked light red, and a 处理结果 sheet (or table, in Word) at the
very front lists what to fix and why. Form values are written as text, so a
value such as ``=HYPERLINK(...)`` can never turn into a live formula here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm
from openpyxl.cell.cell import MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.workbook.workbook import Workbook

from automation.act import return_docx, return_xlsx
from automation.act.stamp import set_control_text, stamp_book
from automation.forms.docx_reader import find_controls, find_items
from automation.forms.repair import open_docx, open_xlsx
from automation.forms.spec import FormSpec
from automation.fsutil import atomic_save
from automation.printing import lines_needed, row_height, setup_openpyxl
from automation.problems import LEVEL_LABELS, Location, Problem

RESULT_SHEET = "处理结果"
RED = "FFC7CE"
AUTHOR = "OfficeFlow"
COLUMNS = (("序号", 10), ("级别", 8), ("字段", 18), ("单元格", 14), ("填写的值", 22), ("问题说明", 60), ("依据", 24))
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MARK_LIMIT = 200  # cells marked per problem; a whole-table problem marks its first rows only


def annotate_return(src: Path, dest: Path, spec: FormSpec, problems: list[Problem], *,
                    header: dict[str, str] | None = None, stamp: dict[str, str] | None = None) -> Path:
    """Write the annotated copy of ``src`` to ``dest`` (atomically) and return ``dest``.

    ``stamp``: field key → text written into the copy as it is made (``act.stamp.stamp_field`` in the
    same pass, not a second load and save of the copy)."""
    src, dest = Path(src), Path(dest)
    if spec.kind == "docx":
        if return_docx.write(src, dest, lambda doc: _edit_docx(doc, spec, problems, header or {}, stamp or {})):
            return dest  # only the main part rewritten, the ~800 KB styles part copied as stored
        return annotate_docx_with_python_docx(src, dest, spec, problems, header=header, stamp=stamp)
    if return_xlsx.write(src, dest, problems, header or {}, stamp or {}, red=RED, author=AUTHOR,
                         result_sheet=RESULT_SHEET, columns=COLUMNS, mark_limit=MARK_LIMIT, problem_row=_problem_row):
        return dest  # the form's parts copied, only the marks and the 处理结果 sheet written (~10× cheaper)
    return annotate_xlsx_with_openpyxl(src, dest, problems, header=header, stamp=stamp)


def annotate_docx_with_python_docx(src: Path, dest: Path, spec: FormSpec, problems: list[Problem], *,
                                   header: dict[str, str] | None = None, stamp: dict[str, str] | None = None) -> Path:
    """The Word copy through a python-docx load and save: for packages the zip-level writer leaves alone."""
    return _atomic(Path(dest), lambda tmp: _annotate_docx(Path(src), tmp, spec, problems, header or {}, stamp or {}))


def annotate_xlsx_with_openpyxl(src: Path, dest: Path, problems: list[Problem], *, header: dict[str, str] | None = None,
                                stamp: dict[str, str] | None = None) -> Path:
    """The Excel copy through an openpyxl load and save: for packages the zip-level writer leaves alone."""
    return _atomic(Path(dest), lambda tmp: _annotate_xlsx(Path(src), tmp, problems, header or {}, stamp or {}))


def _atomic(dest: Path, write: Callable[[Path], None]) -> Path:
    return atomic_save(dest, write)


# --- Excel ------------------------------------------------------------------------


def clear_xlsx_annotations(book: Workbook) -> None:
    """Remove what an earlier return added: the 处理结果 sheet, our red marks and comments.

    A corrected form submitted again must not carry stale marks into the next
    return or into an approver's task file. Input cells are built without a fill,
    so clearing our red leaves them as the blank form had them.
    """
    if RESULT_SHEET in book.sheetnames:
        del book[RESULT_SHEET]
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.comment is not None and cell.comment.author == AUTHOR:
                    cell.comment = None
                if cell.fill is not None and cell.fill.fill_type == "solid" and str(cell.fill.start_color.rgb).endswith(RED):
                    cell.fill = PatternFill(fill_type=None)


def clear_docx_annotations(doc) -> None:
    """The Word counterpart: our shading and the 处理结果 block at the top."""
    body = doc.element.body
    for shd in list(body.iter(qn("w:shd"))):
        if shd.get(qn("w:fill")) == RED:
            shd.getparent().remove(shd)
    children = list(body)
    start = next((i for i, el in enumerate(children[:5]) if el.tag == qn("w:p") and _para_text(el) == RESULT_SHEET), None)
    if start is None:
        return
    end = next((i for i in range(start, len(children)) if children[i].tag == qn("w:tbl")), None)
    if end is None:
        return
    if end + 1 < len(children) and children[end + 1].tag == qn("w:p") and not _para_text(children[end + 1]):
        end += 1  # the spacer paragraph we add after the table
    for element in children[start:end + 1]:
        body.remove(element)


def _para_text(p) -> str:
    return "".join(t.text or "" for t in p.iter(qn("w:t"))).strip()


def _annotate_xlsx(src: Path, out: Path, problems: list[Problem], header: dict[str, str],
                   stamp: dict[str, str] | None = None) -> None:
    book = open_xlsx(src)
    clear_xlsx_annotations(book)  # a form returned before and submitted again
    for cell, messages in _cells_to_mark(book, problems).items():
        _mark_cell(cell, messages)
    _result_sheet(book, problems, header)
    for key, value in (stamp or {}).items():
        stamp_book(book, key, value)
    book.save(out)


def _cells_to_mark(book: Workbook, problems: Iterable[Problem]) -> dict:
    """Cell → messages for its comment; a range gets its comment on the first cell only."""
    marks: dict = {}
    for p in problems:
        for n, cell in enumerate(_cells_at(book, p.at)):
            marks.setdefault(cell, [])
            if n == 0:
                marks[cell].append(p.message)
    return marks


def _cells_at(book: Workbook, at: Location) -> list:
    """The cells a problem's place covers (表单!C5, or a range such as 表单!A15:E24); none if it is not a cell."""
    bounds = return_xlsx.cell_bounds(at, book.sheetnames)
    if bounds is None:
        return []
    min_col, min_row, max_col, max_row = bounds
    ws = book[at.sheet]
    cells = [ws.cell(row=r, column=c) for r in range(min_row, max_row + 1) for c in range(min_col, max_col + 1)]
    return cells[:MARK_LIMIT]


def _mark_cell(cell, messages: list[str]) -> None:
    cell = _anchor(cell)
    cell.fill = PatternFill(fill_type="solid", start_color=RED, end_color=RED)
    if messages:
        comment = Comment("\n".join(messages), AUTHOR)
        comment.width, comment.height = 320, 40 + 40 * len(messages)
        cell.comment = comment


def _anchor(cell):
    """A cell inside a merged range is read-only: mark the range's top-left cell instead."""
    if not isinstance(cell, MergedCell):
        return cell
    ws = cell.parent
    for merged in ws.merged_cells.ranges:
        if cell.coordinate in merged:
            return ws.cell(row=merged.min_row, column=merged.min_col)
    return cell


def _result_sheet(book: Workbook, problems: list[Problem], header: dict[str, str]) -> None:
    ws = book.create_sheet(RESULT_SHEET, 0)
    for other in book.worksheets:
        other.sheet_view.tabSelected = False
    book.active = 0
    ws.sheet_view.tabSelected = True
    _put(ws.cell(1, 1), "处理结果").font = Font(bold=True, size=14)
    row = 2
    merged_width = sum(width for _, width in COLUMNS[1:])
    for key, value in header.items():
        _put(ws.cell(row, 1), key).font = Font(bold=True)
        _put(ws.cell(row, 2), value).alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=len(COLUMNS))
        if lines_needed(str(value), merged_width) > 1:  # Excel does not grow a merged row to fit its text
            ws.row_dimensions[row].height = row_height(lines_needed(str(value), merged_width))
        row += 1
    _problem_table(ws, row + 1, problems)


def _problem_table(ws, top: int, problems: list[Problem]) -> None:
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for col, (title, width) in enumerate(COLUMNS, start=1):
        cell = _put(ws.cell(top, col), title)
        cell.font, cell.border = Font(bold=True), border
        cell.fill = PatternFill(fill_type="solid", start_color="D9E1F2", end_color="D9E1F2")
        ws.column_dimensions[cell.column_letter].width = width
    for n, p in enumerate(problems, start=1):
        values = _problem_row(n, p)
        for col, value in enumerate(values, start=1):
            cell = _put(ws.cell(top + n, col), value)
            cell.alignment, cell.border = Alignment(wrap_text=True, vertical="top"), border
        ws.row_dimensions[top + n].height = row_height(_lines(values))
    ws.freeze_panes = ws.cell(top + 1, 1)
    # A4 landscape, one page wide, the table's header on every page.
    setup_openpyxl(ws, landscape=True, title_rows=f"{top}:{top}")
    if not problems:
        _put(ws.cell(top + 1, 1), "未发现问题。")


def _lines(values: tuple) -> int:
    """Wrapped lines the tallest cell needs; not every viewer sizes rows to wrapped text."""
    return max(lines_needed(str(v), width) for v, (_, width) in zip(values, COLUMNS))


def _problem_row(n: int, p: Problem) -> tuple:
    field = f"{p.field or ''}(第 {p.row} 行)" if p.row else (p.field or "")
    return (n, LEVEL_LABELS.get(p.level, p.level), field, p.location or "", p.value or "", p.message, p.source or "")


def _put(cell, value):
    """Assign a value; text is always stored as text, never as a formula."""
    cell.value = value
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell.data_type = "s"
    return cell


# --- Word -------------------------------------------------------------------------

# Elements that must come after w:shd in w:rPr / w:tcPr / w:pPr (schema order).
_AFTER_SHD = {
    "w:rPr": ("w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish", "w:oMath"),
    "w:tcPr": ("w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark"),
    "w:pPr": ("w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct", "w:topLinePunct",
              "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind",
              "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection",
              "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr",
              "w:sectPr", "w:pPrChange"),
}


def _annotate_docx(src: Path, out: Path, spec: FormSpec, problems: list[Problem], header: dict[str, str],
                   stamp: dict[str, str] | None = None) -> None:
    doc = open_docx(src)
    _edit_docx(doc, spec, problems, header, stamp)
    doc.save(str(out))


def _edit_docx(doc, spec: FormSpec, problems: list[Problem], header: dict[str, str],
               stamp: dict[str, str] | None = None) -> None:
    clear_docx_annotations(doc)
    body = doc.element.body
    controls = find_controls(body, spec)
    for p in problems:
        for element in _docx_targets(body, controls, spec, p):
            _shade_all(element)
    _docx_summary(doc, problems, header)
    for key, value in (stamp or {}).items():
        set_control_text(doc, key, str(value))


def _docx_targets(body, controls: dict, spec: FormSpec, p: Problem) -> list:
    if p.row and p.field:
        for table in spec.tables:
            items = find_items(body, table) if table.column(p.field) else []
            if 0 < p.row <= len(items):
                return [items[p.row - 1][1][p.field]]
    sdt = controls.get(p.field or "")
    return [sdt] if sdt is not None else []


def _shade_all(element) -> None:
    """Light red behind every run of the element, and behind the cell it fills, if any."""
    runs = list(element.iter(qn("w:r")))
    for run in runs:
        _shade(run, "w:rPr")
    cells = list(element.iter(qn("w:tc"))) or list(element.iterancestors(qn("w:tc")))[:1]
    for cell in cells:
        _shade(cell, "w:tcPr")
    if not runs and not cells:
        for paragraph in element.iter(qn("w:p")):
            _shade(paragraph, "w:pPr")


def _shade(parent, props_tag: str) -> None:
    props = parent.find(qn(props_tag))
    if props is None:
        props = OxmlElement(props_tag)
        parent.insert(0, props)
    for old in props.findall(qn("w:shd")):
        props.remove(old)
    shd = OxmlElement("w:shd", attrs={qn("w:val"): "clear", qn("w:color"): "auto", qn("w:fill"): RED})
    later = [child for child in props if child.tag in {qn(t) for t in _AFTER_SHD[props_tag]}]
    if later:
        later[0].addprevious(shd)
    else:
        props.append(shd)


def _docx_summary(doc, problems: list[Problem], header: dict[str, str]) -> None:
    added = [_docx_heading(doc)]
    for key, value in header.items():
        paragraph = doc.add_paragraph()
        paragraph.add_run(f"{key}:").bold = True
        paragraph.add_run(str(value))
        added.append(paragraph._p)
    added.append(_docx_table(doc, problems)._tbl)
    added.append(doc.add_paragraph()._p)  # keeps the form's first line off the table
    body = doc.element.body
    for index, element in enumerate(added):
        body.insert(index, element)


def _docx_heading(doc):
    try:
        return doc.add_heading(RESULT_SHEET, level=1)._p
    except KeyError:  # a template without the built-in heading style
        paragraph = doc.add_paragraph()
        paragraph.add_run(RESULT_SHEET).bold = True
        return paragraph._p


DOCX_WIDTHS_CM = (1.2, 1.3, 2.4, 2.4, 2.4, 5.0, 2.3)  # a 17 cm line; the message gets the room


def _docx_widths(table) -> None:
    table.autofit = False
    for col, width in enumerate(DOCX_WIDTHS_CM):
        table.columns[col].width = Cm(width)  # the grid, which LibreOffice and WPS follow
    # Row by row: table.cell(r, c) and column.cells lay out the whole grid again on every call.
    for row in table.rows:
        for cell, width in zip(row.cells, DOCX_WIDTHS_CM):
            cell.width = Cm(width)  # the cells, which Word follows


def _docx_table(doc, problems: list[Problem]):
    titles = [("位置" if title == "单元格" else title) for title, _ in COLUMNS]
    table = doc.add_table(rows=1 + max(len(problems), 1), cols=len(titles))
    try:
        table.style = "Table Grid"
    except (KeyError, ValueError):
        pass  # plain table; still readable
    _docx_widths(table)
    rows = [row.cells for row in table.rows]
    for cell, title in zip(rows[0], titles):
        cell.text = ""
        cell.paragraphs[0].add_run(title).bold = True
    for n, p in enumerate(problems, start=1):
        for cell, value in zip(rows[n], _problem_row(n, p)):
            cell.text = str(value)
    if not problems:
        rows[1][0].text = "未发现问题。"
    return table

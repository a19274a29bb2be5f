"""The returned copy of an Excel form written at zip level: the form's parts copied, a few patched.

``returns._annotate_xlsx`` loads the whole workbook with openpyxl and saves it again
(~45 ms a copy). Here only what the copy changes is written:

- the styles part: a red fill, a copy of each marked cell's format with that fill,
  and the formats of the 处理结果 sheet;
- each marked sheet: the ``s`` attribute of the marked cells (a cell the form never
  wrote is added), and a legacy drawing for the notes, whose comments part and VML
  are openpyxl's own comment writers (the same notes the openpyxl path writes);
- a new 处理结果 worksheet part, first and active, laid out as ``returns._result_sheet``
  lays it out; every text is an inline string, so ``=HYPERLINK(...)`` stays text;
- the workbook (the sheet listed, sheet-local names moved one sheet on, its print
  titles), its rels, the content types; ``stamp`` values written as text.

Everything else — the form's other sheets, tables, theme, properties — is copied as
stored. A package this writer does not handle (an earlier return's marks, notes of the
form's own on a sheet to mark, a non-transitional namespace, names needing repair) makes
``write`` return False, and the caller uses the openpyxl path.
"""

from __future__ import annotations

import copy
import posixpath
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree
from openpyxl.comments.comment_sheet import CommentRecord, CommentSheet
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string, range_boundaries
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.xml.functions import tostring

from automation.forms import xlsx_parts
from automation.forms import zip_package as package
from automation.forms.repair import needs_renames
from automation.printing import FOOTER_MARGIN, HEADER_MARGIN, MARGINS, PAGE_FOOTER, lines_needed, row_height
from automation.problems import Location, Problem

MAIN, _M, WORKSHEET_TYPE, WORKSHEET_CT = xlsx_parts.MAIN, xlsx_parts.M, xlsx_parts.WORKSHEET_TYPE, xlsx_parts.WORKSHEET_CT
REL_NS, PKG_REL, CT_NS = package.REL_NS, package.PKG_REL, package.CT_NS
COMMENTS_TYPE = REL_NS + "/comments"
COMMENTS_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
VML_TYPE = REL_NS + "/vmlDrawing"
VML_CT = "application/vnd.openxmlformats-officedocument.vmlDrawing"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_CELL_REF = re.compile(r"^([A-Z]{1,3})([0-9]+)$")
_TAB_SELECTED = re.compile(rb'(<(?:\w+:)?sheetView\b[^>]*?)\stabSelected="(?:1|true)"')
# Worksheet children that come after legacyDrawing (schema order).
_AFTER_LEGACY = {_M + t for t in ("legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
                                  "webPublishItems", "tableParts", "extLst")}

Unsupported = package.Unsupported


def write(src: Path, dest: Path, problems: list[Problem], header: dict[str, str], stamp: dict[str, str], *,
          red: str, author: str, result_sheet: str, columns: tuple, mark_limit: int, problem_row) -> bool:
    """Write the returned copy of ``src`` to ``dest`` (atomically); False (nothing written) when the
    package is left to the openpyxl path. The layout constants and ``problem_row`` are ``returns``'s."""
    try:
        with package.open_package(src) as zf:
            if needs_renames(zf, "xlsx"):
                return False
            changed = _build(zf, problems, header, stamp, red=red, author=author, result_sheet=result_sheet,
                             columns=columns, mark_limit=mark_limit, problem_row=problem_row)
            package.write(src, dest, changed, archive=zf)
    except (Unsupported, KeyError, ValueError, IndexError, etree.XMLSyntaxError, zipfile.BadZipFile):
        return False
    return True


def _build(zf: zipfile.ZipFile, problems, header, stamp, *, red, author, result_sheet, columns, mark_limit,
           problem_row) -> dict[str, bytes]:
    names, main, workbook, wb_rels_name, wb_rels, targets, sheets_el = xlsx_parts.open_workbook(zf)
    sheets = {s.get("name"): targets[s.get("{%s}id" % REL_NS)] for s in sheets_el}
    if result_sheet in sheets:
        raise Unsupported("an earlier return's result sheet")
    styles_name = xlsx_parts.styles_part(main, wb_rels, names)
    styles_data = zf.read(styles_name)
    xlsx_parts.refuse_earlier_return(zf, names, styles_data, red=red, author=author)
    styles = etree.fromstring(styles_data, _PARSER)
    if styles.tag != _M + "styleSheet":
        raise Unsupported("not a transitional styles part")

    changed: dict[str, bytes] = {}
    trees: dict[str, object] = {}  # sheet part -> its parsed tree, for the sheets we change

    def tree(part: str):
        if part not in trees:
            root = etree.fromstring(zf.read(part), _PARSER)
            if root.tag != _M + "worksheet" or root.find(_M + "sheetData") is None:
                raise Unsupported("not a transitional worksheet")
            trees[part] = root
        return trees[part]

    # Which cells, as ``returns._cells_to_mark`` and ``_mark_cell`` pick them: messages gathered per cell,
    # then each cell marked at its merged range's anchor; the last cell anchored to a range gives its note.
    merged: dict[str, list] = {}
    gathered: dict[tuple[str, int, int], list[str]] = {}
    for p in problems:
        for n, (row, col) in enumerate(_cells_at(sheets, p.at)[:mark_limit]):
            key = (sheets[p.at.sheet], row, col)
            gathered.setdefault(key, [])
            if n == 0:
                gathered[key].append(p.message)
    fills: dict[str, dict[tuple[int, int], None]] = {}
    notes: dict[str, dict[tuple[int, int], list[str]]] = {}
    for (part, row, col), messages in gathered.items():
        if part not in merged:
            merged[part] = _merged(tree(part))
        anchor = _anchor(merged[part], row, col)
        fills.setdefault(part, {})[anchor] = None
        if messages:
            notes.setdefault(part, {})[anchor] = messages

    # Styles: the red fill, red copies of the marked cells' formats, the result sheet's formats.
    fills_el, fonts_el, borders_el, xfs = (styles.find(_M + t) for t in ("fills", "fonts", "borders", "cellXfs"))
    if fills_el is None or fonts_el is None or borders_el is None or xfs is None:
        raise Unsupported("styles part without fills, fonts, borders or cell formats")
    red_fill = _append(fills_el, _fill(red))
    reddened: dict[int, int] = {}

    def red_xf(base: int) -> int:
        if base not in reddened:
            xf = copy.deepcopy(xfs[base])
            xf.set("fillId", str(red_fill))
            xf.set("applyFill", "1")
            reddened[base] = _append(xfs, xf)
        return reddened[base]

    for part, cells in fills.items():
        sheet_data = tree(part).find(_M + "sheetData")
        for row, col in sorted(cells):
            cell = _cell(sheet_data, row, col)
            cell.set("s", str(red_xf(int(cell.get("s", "0")))))
    ids = _result_styles(styles, fonts_el, fills_el, borders_el, xfs)
    changed[styles_name] = package.serial(styles)

    # Values stamped into the copy as text (``act.stamp.stamp_book``).
    defined = workbook.find(_M + "definedNames")
    for key, value in stamp.items():
        formula = next((d.text for d in (defined if defined is not None else ())
                        if d.get("name") == key and d.get("localSheetId") is None), None)
        if formula is None:
            continue
        for sheet, ref in DefinedName(key, attr_text=formula).destinations:
            if sheet not in sheets:
                raise Unsupported("stamp on a sheet not there")
            match = _CELL_REF.match(ref.replace("$", "").split(":")[0])
            if not match:
                raise Unsupported("stamp cell")
            cell = _cell(tree(sheets[sheet]).find(_M + "sheetData"), int(match.group(2)),
                         column_index_from_string(match.group(1)))
            xlsx_parts.set_text(cell, str(value))

    # Notes: a comments part and its VML per marked sheet.
    ct = etree.fromstring(zf.read("[Content_Types].xml"), _PARSER)
    taken = set(names)
    for part, marked in notes.items():
        root = tree(part)
        if root.find(_M + "legacyDrawing") is not None:
            raise Unsupported("the sheet has a legacy drawing of its own")
        rels_name = package.rels_of(part)
        rels = etree.fromstring(zf.read(rels_name), _PARSER) if rels_name in names else \
            etree.Element("{%s}Relationships" % PKG_REL, nsmap={None: PKG_REL})
        if any(r.get("Type") in (COMMENTS_TYPE, VML_TYPE) for r in rels):
            raise Unsupported("the sheet has notes of its own")
        n = next(n for n in range(1, 100_000) if f"xl/comments/comment{n}.xml" not in taken
                 and f"xl/drawings/commentsDrawing{n}.vml" not in taken)
        comments_part, vml_part = f"xl/comments/comment{n}.xml", f"xl/drawings/commentsDrawing{n}.vml"
        taken |= {comments_part, vml_part}
        records = []
        for (row, col), messages in sorted(marked.items()):
            record = CommentRecord(ref=f"{get_column_letter(col)}{row}", author=author,
                                   height=40 + 40 * len(messages), width=320)
            record.text.t = "\n".join(messages)
            records.append(record)
        sheet = CommentSheet.from_comments(records)
        changed[comments_part] = tostring(sheet.to_tree())
        changed[vml_part] = sheet.write_shapes(None)
        used = {r.get("Id") for r in rels}
        vml_id = next(f"rId{i}" for i in range(1, 100_000) if f"rId{i}" not in used)
        comments_id = next(f"rId{i}" for i in range(1, 100_000) if f"rId{i}" not in used | {vml_id})
        for rid, kind, target in ((comments_id, COMMENTS_TYPE, comments_part), (vml_id, VML_TYPE, vml_part)):
            etree.SubElement(rels, "{%s}Relationship" % PKG_REL, Type=kind, Target="/" + target, Id=rid)
        changed[rels_name] = package.serial(rels)
        legacy = etree.Element(_M + "legacyDrawing", nsmap={"r": REL_NS})
        legacy.set("{%s}id" % REL_NS, vml_id)
        later = next((child for child in root if child.tag in _AFTER_LEGACY), None)
        if later is not None:
            later.addprevious(legacy)
        else:
            root.append(legacy)
        etree.SubElement(ct, "{%s}Override" % CT_NS, PartName="/" + comments_part, ContentType=COMMENTS_CT)
    if notes and not any(d.get("Extension", "").lower() == "vml" for d in ct.iter("{%s}Default" % CT_NS)):
        default = etree.Element("{%s}Default" % CT_NS, Extension="vml", ContentType=VML_CT)
        first_override = ct.find("{%s}Override" % CT_NS)
        if first_override is not None:
            first_override.addprevious(default)
        else:
            ct.append(default)

    # The form's sheets: no tab but 处理结果 selected.
    for part in sheets.values():
        if part in trees:
            for view in trees[part].iter(_M + "sheetView"):
                view.attrib.pop("tabSelected", None)
            changed[part] = package.serial(trees[part])
        else:
            data = zf.read(part)
            if b"tabSelected" in data:
                changed[part] = _TAB_SELECTED.sub(rb"\1", data)

    # The 处理结果 sheet, its relationship, the workbook.
    folder = posixpath.dirname(next(iter(sheets.values()))) if sheets else "xl/worksheets"
    result_part = next(p for p in (posixpath.join(folder, f"sheet{n}.xml") for n in range(1, 100_000))
                       if p not in taken)
    top = 2 + len(header) + 1
    changed[result_part] = _result_xml(problems, header, ids, top, columns, problem_row, result_sheet)
    used_ids = {r.get("Id") for r in wb_rels}
    rid = next(f"rId{n}" for n in range(1, 100_000) if f"rId{n}" not in used_ids)
    etree.SubElement(wb_rels, "{%s}Relationship" % PKG_REL, Type=WORKSHEET_TYPE, Target="/" + result_part, Id=rid)
    changed[wb_rels_name] = package.serial(wb_rels)
    etree.SubElement(ct, "{%s}Override" % CT_NS, PartName="/" + result_part, ContentType=WORKSHEET_CT)
    changed["[Content_Types].xml"] = package.serial(ct)

    xlsx_parts.insert_first_sheet(sheets_el, result_sheet, rid)
    if defined is None:
        defined = etree.Element(_M + "definedNames")
        sheets_el.addnext(defined)
    for name in defined:
        local = name.get("localSheetId")
        if local is not None:
            name.set("localSheetId", str(int(local) + 1))
    titles = etree.Element(_M + "definedName", name="_xlnm.Print_Titles", localSheetId="0")
    titles.text = f"'{result_sheet}'!${top}:${top}"
    defined.insert(0, titles)
    xlsx_parts.open_on_first_tab(workbook)
    changed[main] = package.serial(workbook)
    return changed


def cell_bounds(at: Location, sheet_names) -> tuple[int, int, int, int] | None:
    """(min_col, min_row, max_col, max_row) of the cells a problem's place covers (表单!C5, or a range such
    as 表单!A15:E24) on one of ``sheet_names``; None if it is not a cell. Both copy writers mark by it."""
    if not at.sheet or not at.cell or at.sheet not in sheet_names:
        return None
    try:
        min_col, min_row, max_col, max_row = range_boundaries(at.cell.replace("$", ""))
    except (ValueError, TypeError):
        return None
    if min_col is None or min_row is None:
        return None
    return min_col, min_row, max_col, max_row


def _cells_at(sheets: dict[str, str], at: Location) -> list[tuple[int, int]]:
    """(row, col) of the cells a problem's place covers, as ``returns._cells_at`` finds them."""
    bounds = cell_bounds(at, sheets)
    if bounds is None:
        return []
    min_col, min_row, max_col, max_row = bounds
    if (max_row - min_row + 1) * (max_col - min_col + 1) > 1_000_000:
        raise Unsupported("a problem over a huge range")
    return [(r, c) for r in range(min_row, max_row + 1) for c in range(min_col, max_col + 1)]


def _merged(root) -> list[tuple[int, int, int, int]]:
    found = root.find(_M + "mergeCells")
    out = []
    for merge in (found if found is not None else ()):
        min_col, min_row, max_col, max_row = range_boundaries(merge.get("ref"))
        out.append((min_row, min_col, max_row, max_col))
    return out


def _anchor(merged, row: int, col: int) -> tuple[int, int]:
    for min_row, min_col, max_row, max_col in merged:
        if min_row <= row <= max_row and min_col <= col <= max_col:
            return min_row, min_col
    return row, col


def _cell(sheet_data, row_number: int, col: int):
    """The ``<c>`` element of the cell, added in row and column order when the form has none."""
    row = None
    for candidate in sheet_data.iterchildren(_M + "row"):
        r = candidate.get("r")
        if r is None:
            raise Unsupported("rows without numbers")
        if int(r) == row_number:
            row = candidate
            break
        if int(r) > row_number:
            row = etree.Element(_M + "row", r=str(row_number))
            candidate.addprevious(row)
            break
    if row is None:
        row = etree.SubElement(sheet_data, _M + "row", r=str(row_number))
    ref = f"{get_column_letter(col)}{row_number}"
    for candidate in row.iterchildren(_M + "c"):
        other = candidate.get("r")
        match = _CELL_REF.match(other or "")
        if not match:
            raise Unsupported("cells without references")
        other_col = column_index_from_string(match.group(1))
        if other_col == col:
            return candidate
        if other_col > col:
            cell = etree.Element(_M + "c", r=ref)
            candidate.addprevious(cell)
            return cell
    return etree.SubElement(row, _M + "c", r=ref)


def _append(parent, element) -> int:
    if isinstance(element, str):
        element = etree.fromstring(element, _PARSER)
    index = len(parent)
    parent.append(element)
    parent.set("count", str(len(parent)))
    return index


def _fill(rgb: str) -> str:
    return (f'<fill xmlns="{MAIN}"><patternFill patternType="solid"><fgColor rgb="00{rgb}"/><bgColor rgb="00{rgb}"/>'
            "</patternFill></fill>")


_BORDER = "".join(f'<{side} style="thin"><color rgb="00999999"/></{side}>' for side in ("left", "right", "top", "bottom"))


def _result_styles(styles, fonts, fills, borders, xfs) -> dict[str, int]:
    """The cell formats of the 处理结果 sheet (``returns._result_sheet``'s fonts, fill, border, wrap)."""
    title = _append(fonts, f'<font xmlns="{MAIN}"><b val="1"/><sz val="14"/></font>')
    bold = _append(fonts, f'<font xmlns="{MAIN}"><b val="1"/></font>')
    head_fill = _append(fills, _fill("D9E1F2"))
    border = _append(borders, f'<border xmlns="{MAIN}">{_BORDER}<diagonal/></border>')
    wrap = '<alignment vertical="top" wrapText="1"/>'

    def xf(font=0, fill=0, border_id=0, align=False) -> int:
        attrs = f'numFmtId="0" fontId="{font}" fillId="{fill}" borderId="{border_id}"'
        if font:
            attrs += ' applyFont="1"'
        if fill:
            attrs += ' applyFill="1"'
        if border_id:
            attrs += ' applyBorder="1"'
        if align:
            attrs += ' applyAlignment="1"'
        return _append(xfs, f'<xf xmlns="{MAIN}" {attrs} xfId="0">{wrap if align else ""}</xf>')

    return {"title": xf(font=title), "key": xf(font=bold), "value": xf(align=True),
            "head": xf(font=bold, fill=head_fill, border_id=border), "body": xf(border_id=border, align=True)}


_cell_xml = xlsx_parts.cell_xml


def _result_xml(problems, header, ids, top: int, columns: tuple, problem_row, title: str) -> bytes:
    last = get_column_letter(len(columns))
    merged_width = sum(width for _, width in columns[1:])
    rows = [f'<row r="1">{_cell_xml("A1", title, ids["title"])}</row>']
    merges = []
    for r, (key, value) in enumerate(header.items(), start=2):
        lines = lines_needed(str(value), merged_width)
        height = f' ht="{row_height(lines):g}" customHeight="1"' if lines > 1 else ""
        rows.append(f'<row r="{r}"{height}>{_cell_xml(f"A{r}", key, ids["key"])}'
                    f'{_cell_xml(f"B{r}", value, ids["value"])}</row>')
        merges.append(f"B{r}:{last}{r}")
    rows.append(f'<row r="{top}">' + "".join(_cell_xml(f"{get_column_letter(c)}{top}", name, ids["head"])
                                             for c, (name, _) in enumerate(columns, start=1)) + "</row>")
    for n, p in enumerate(problems, start=1):
        values = problem_row(n, p)
        lines = max(lines_needed(str(v), width) for v, (_, width) in zip(values, columns))
        r = top + n
        rows.append(f'<row r="{r}" ht="{row_height(lines):g}" customHeight="1">'
                    + "".join(_cell_xml(f"{get_column_letter(c)}{r}", v, ids["body"])
                              for c, v in enumerate(values, start=1)) + "</row>")
    if not problems:
        rows.append(f'<row r="{top + 1}">{_cell_xml(f"A{top + 1}", "未发现问题。", 0)}</row>')
    max_row = top + max(len(problems), 1)
    cols = "".join(f'<col width="{width}" customWidth="1" min="{c}" max="{c}"/>'
                   for c, (_, width) in enumerate(columns, start=1))
    out = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}">',
           '<sheetPr><outlinePr summaryBelow="1" summaryRight="1"/><pageSetUpPr fitToPage="1"/></sheetPr>',
           f'<dimension ref="A1:{last}{max_row}"/>',
           f'<sheetViews><sheetView tabSelected="1" workbookViewId="0"><pane ySplit="{top}" topLeftCell="A{top + 1}" '
           'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" activeCell="A1" sqref="A1"/>'
           '</sheetView></sheetViews>',
           '<sheetFormatPr baseColWidth="8" defaultRowHeight="15"/>', f"<cols>{cols}</cols>",
           "<sheetData>", *rows, "</sheetData>"]
    if merges:
        out.append(f'<mergeCells count="{len(merges)}">' + "".join(f'<mergeCell ref="{m}"/>' for m in merges)
                   + "</mergeCells>")
    out += ['<printOptions horizontalCentered="1"/>',
            f'<pageMargins left="{MARGINS["left"]}" right="{MARGINS["right"]}" top="{MARGINS["top"]}" '
            f'bottom="{MARGINS["bottom"]}" header="{HEADER_MARGIN}" footer="{FOOTER_MARGIN}"/>',
            '<pageSetup orientation="landscape" paperSize="9" fitToHeight="0" fitToWidth="1"/>',
            f"<headerFooter><oddFooter>{escape(PAGE_FOOTER)}</oddFooter></headerFooter>", "</worksheet>"]
    return "".join(out).encode("utf-8")

"""The Excel task file written at zip level: the form's package copied part for part, plus our 审批 sheets.

``task_files.write_task_file`` used to load the submitted form with openpyxl, add
the 审批 sheet and save the whole workbook again (about half the cost of a form
in a burst). Here the form's parts are copied unchanged — its sheets, tables,
theme, drawings, byte for byte — and only what a task file adds is written:

- two new worksheet parts, 审批 (first) and the hidden 审批选项, generated as
  SpreadsheetML from the same ``ApprovalView`` and with the same layout as the
  openpyxl writer (``task_files._xlsx_approval_sheet``; tests compare the two);
  every value is an inline string (``t="inlineStr"``), so a value such as
  ``=HYPERLINK(...)`` is text, never a formula;
- the workbook part: the sheets listed, the approval inputs as defined names,
  the print area, sheet-local names moved one sheet on, the 审批 tab active;
- the styles part: our fonts, fills, border and cell formats appended (kept per
  distinct styles part, so a burst of one form kind edits it once);
- 申请编号 filled in as text in the form's own sheet (that one cell changed);
- the custom properties (task id and case number), content types and rels.

Anything this writer does not handle — an earlier return's marks or 处理结果 sheet,
a sheet already named 审批, a package that needs repairs to open, a macro-enabled
type — makes ``write`` return False and the caller uses the openpyxl writer.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from lxml import etree
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # task_files strips text with it too
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName

from automation.act.returns import AUTHOR, RED, RESULT_SHEET
from automation.forms import xlsx_parts
from automation.forms import zip_package as package
from automation.printing import FOOTER_MARGIN, HEADER_MARGIN, MARGINS, PAGE_FOOTER

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS, PKG_REL, CT_NS = package.REL_NS, package.PKG_REL, package.CT_NS
WORKSHEET_TYPE = REL_NS + "/worksheet"
WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_M = "{%s}" % MAIN
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=False)
_TAB_SELECTED = re.compile(rb'(<(?:\w+:)?sheetView\b[^>]*?)\stabSelected="(?:1|true)"')
_CELL_REF = re.compile(r"^([A-Z]{1,3})([0-9]+)$")
# openpyxl's sheet protection as the openpyxl writer leaves it (only unlocked cells editable).
_PROTECTION = ('<sheetProtection selectLockedCells="0" selectUnlockedCells="0" sheet="1" objects="0" insertRows="1" '
               'insertHyperlinks="1" autoFilter="1" scenarios="0" formatColumns="1" deleteColumns="1" insertColumns="1" '
               'pivotTables="1" deleteRows="1" formatCells="1" formatRows="1" sort="1"/>')

# Cell formats of the 审批 sheet: (font, fill, border, wrap, unlocked) with font/fill in the keys below.
FONTS = {"bold": '<font><b val="1"/></font>', "title": '<font><b val="1"/><sz val="14"/></font>'}
FILLS = {"section": '<fill><patternFill patternType="solid"><fgColor rgb="00D9E1F2"/></patternFill></fill>',
         "input": '<fill><patternFill patternType="solid"><fgColor rgb="00FFF2CC"/></patternFill></fill>'}
BORDER = ('<border><left style="thin"><color rgb="00808080"/></left><right style="thin"><color rgb="00808080"/></right>'
          '<top style="thin"><color rgb="00808080"/></top><bottom style="thin"><color rgb="00808080"/></bottom>'
          '<diagonal/></border>')


Unsupported = package.Unsupported


@dataclass(frozen=True)
class Style:
    font: str | None = None  # a key of FONTS
    fill: str | None = None  # a key of FILLS
    border: bool = False
    wrap: bool = False
    unlocked: bool = False


@dataclass
class SheetModel:
    """Cells, merges, row heights and validations of one generated sheet (1-based rows and columns)."""
    cells: dict = field(default_factory=dict)  # (row, col) -> [value, Style]
    merges: list = field(default_factory=list)
    heights: dict = field(default_factory=dict)
    widths: tuple = ()
    validations: list = field(default_factory=list)  # XML strings
    page: bool = False  # the task file's A4 landscape page setup, print area and footer

    def put(self, row: int, col: int, value, **style) -> None:
        self.set_value(row, col, value)
        if style:
            self.style(row, col, **style)

    def set_value(self, row: int, col: int, value) -> None:
        self.cells.setdefault((row, col), [None, Style()])[0] = value

    def style(self, row: int, col: int, **changes) -> None:
        cell = self.cells.setdefault((row, col), [None, Style()])
        key = (cell[1], tuple(sorted(changes.items())))
        styled = _RESTYLED.get(key)
        if styled is None:
            styled = _RESTYLED[key] = Style(**{**cell[1].__dict__, **changes})
        cell[1] = styled

    def used_styles(self) -> set[Style]:
        return {style for _, style in self.cells.values()}

    def xml(self, ids: dict[Style, int], *, selected: bool) -> bytes:
        return sheet_xml(self, ids, selected=selected)


_RESTYLED: dict[tuple, Style] = {}  # (style, changes) -> the style they give: a few dozen, kept


# --- styles part ------------------------------------------------------------------------

_STYLE_CACHE: dict[bytes, tuple[bytes, dict]] = {}


def _styled(styles: bytes, wanted: set[Style]) -> tuple[bytes, dict[Style, int]]:
    """The styles part with our formats appended, and the cellXfs index of each wanted Style."""
    key = styles + repr(sorted(wanted, key=repr)).encode()
    if key in _STYLE_CACHE:
        return _STYLE_CACHE[key]
    root = etree.fromstring(styles, _PARSER)
    fonts, fills, borders, xfs = (root.find(_M + tag) for tag in ("fonts", "fills", "borders", "cellXfs"))
    if fonts is None or fills is None or borders is None or xfs is None:
        raise Unsupported("styles part without fonts, fills, borders or cell formats")

    def append(parent, xml: str) -> int:
        index = len(parent)
        parent.append(etree.fromstring(xml.replace("<font>", f'<font xmlns="{MAIN}">', 1)
                                       .replace("<fill>", f'<fill xmlns="{MAIN}">', 1)
                                       .replace("<border>", f'<border xmlns="{MAIN}">', 1), _PARSER))
        parent.set("count", str(len(parent)))
        return index

    font_ids = {name: append(fonts, xml) for name, xml in FONTS.items()}
    fill_ids = {name: append(fills, xml) for name, xml in FILLS.items()}
    border_id = append(borders, BORDER)
    ids: dict[Style, int] = {}
    for style in sorted(wanted, key=repr):
        if style == Style():
            ids[style] = 0
            continue
        attrs = (f'numFmtId="0" fontId="{font_ids[style.font] if style.font else 0}" '
                 f'fillId="{fill_ids[style.fill] if style.fill else 0}" borderId="{border_id if style.border else 0}"')
        inner = ""
        if style.wrap:
            attrs += ' applyAlignment="1"'
            inner += '<alignment vertical="top" wrapText="1"/>'
        if style.unlocked:
            attrs += ' applyProtection="1"'
            inner += '<protection locked="0" hidden="0"/>'
        xf = f'<xf xmlns="{MAIN}" {attrs} pivotButton="0" quotePrefix="0" xfId="0">{inner}</xf>'
        ids[style] = len(xfs)
        xfs.append(etree.fromstring(xf, _PARSER))
        xfs.set("count", str(len(xfs)))
    result = (package.serial(root), ids)
    if len(_STYLE_CACHE) > 64:
        _STYLE_CACHE.clear()
    _STYLE_CACHE[key] = result
    return result


# --- sheet XML --------------------------------------------------------------------------


_text, _cell_xml = xlsx_parts.text, xlsx_parts.cell_xml


_LETTERS = [get_column_letter(c) if c else "" for c in range(257)]


def _letter(col: int) -> str:
    return _LETTERS[col] if 0 < col < len(_LETTERS) else get_column_letter(col)


def sheet_xml(model: SheetModel, ids: dict[Style, int], *, selected: bool) -> bytes:
    rows: dict[int, list] = {}
    for (r, c), (value, style) in model.cells.items():
        rows.setdefault(r, []).append((c, value, style))
    max_row = max(rows) if rows else 1
    max_col = max((c for (_, c) in model.cells), default=1)
    body = []
    for r in sorted(rows):
        height = model.heights.get(r)
        attrs = f' ht="{height:g}" customHeight="1"' if height else ""
        body.append(f'<row r="{r}"{attrs}>')
        for c, value, style in sorted(rows[r], key=lambda t: t[0]):
            body.append(_cell_xml(f"{_letter(c)}{r}", value, ids[style]))
        body.append("</row>")
    return framed("".join(body), max_row=max_row, max_col=max_col, widths=model.widths, merges=model.merges,
                  validations=model.validations, page=model.page, selected=selected)


def framed(rows: str, *, max_row: int, max_col: int, widths: tuple, merges: list, validations: list, page: bool,
           selected: bool) -> bytes:
    """A worksheet part around its ``<row>`` elements: what every generated sheet shares (sheet properties,
    view, columns, protection, merges, validations, print setup). One source for ``sheet_xml`` and the
    precompiled 审批 sheet (``task_files.xlsx_addition``)."""
    head = _HEADS.get((max_col, max_row, widths, page, selected))
    if head is None:
        head = _HEADS[max_col, max_row, widths, page, selected] = "".join([
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}">',
            '<sheetPr><outlinePr summaryBelow="1" summaryRight="1"/>',
            '<pageSetUpPr fitToPage="1"/>' if page else "<pageSetUpPr/>", "</sheetPr>",
            f'<dimension ref="A1:{get_column_letter(max_col)}{max_row}"/>',
            f'<sheetViews><sheetView{" tabSelected=" + chr(34) + "1" + chr(34) if selected else ""} workbookViewId="0">'
            '<selection activeCell="A1" sqref="A1"/></sheetView></sheetViews>',
            '<sheetFormatPr baseColWidth="8" defaultRowHeight="15"/>',
            ("<cols>" + "".join(f'<col width="{w}" customWidth="1" min="{c}" max="{c}"/>'
                                for c, w in enumerate(widths, start=1)) + "</cols>") if widths else "",
            "<sheetData>"])
        if len(_HEADS) > 256:
            _HEADS.clear()
    out = [head, rows, "</sheetData>", _PROTECTION]
    if merges:
        out.append(f'<mergeCells count="{len(merges)}">' + "".join(f'<mergeCell ref="{m}"/>' for m in merges)
                   + "</mergeCells>")
    if validations:
        out.append(f'<dataValidations count="{len(validations)}">' + "".join(validations) + "</dataValidations>")
    out.append(_PAGE if page else '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>')
    out.append("</worksheet>")
    return "".join(out).encode("utf-8")


_HEADS: dict[tuple, str] = {}
_PAGE = ('<printOptions horizontalCentered="1"/>'
         f'<pageMargins left="{MARGINS["left"]}" right="{MARGINS["right"]}" top="{MARGINS["top"]}" '
         f'bottom="{MARGINS["bottom"]}" header="{HEADER_MARGIN}" footer="{FOOTER_MARGIN}"/>'
         '<pageSetup orientation="landscape" paperSize="9" fitToHeight="1" fitToWidth="1"/>'
         f"<headerFooter><oddFooter>{escape(PAGE_FOOTER)}</oddFooter></headerFooter>")


def validation_xml(ref: str, *, kind: str, formula: str, label: str, prompt: str, show_error: bool,
                   operator: str | None = None) -> str:
    attrs = [f'sqref="{ref}"', 'showDropDown="0"', 'showInputMessage="1"', f'showErrorMessage="{int(show_error)}"',
             'allowBlank="1"']
    if show_error:
        attrs += [f"errorTitle={quoteattr(label)}", f"error={quoteattr(f'请从下拉列表中选择「{label}」。')}"]
    attrs += [f"promptTitle={quoteattr(label)}", f"prompt={quoteattr(prompt)}", f'type="{kind}"']
    if operator:
        attrs.append(f'operator="{operator}"')
    return f'<dataValidation {" ".join(attrs)}><formula1>{escape(formula)}</formula1></dataValidation>'


# --- the package ------------------------------------------------------------------------


@dataclass
class Addition:
    """What a task file adds to the form: the 审批 sheet (a model, or the precompiled sheet of
    ``task_files.xlsx_addition``: anything with ``used_styles()`` and ``xml(ids, selected=)``), the
    options sheet model, names, properties."""
    approval: SheetModel
    options: SheetModel
    approval_name: str
    options_name: str
    names: dict[str, str]  # global defined names to set (name -> formula text)
    print_area: str  # of the 审批 sheet
    drop_names: tuple[str, ...]  # names of the submitted form that are ignored (removed)
    case_field: str
    case_number: str
    props: dict[str, str]
    filled: tuple[str, str] | None = None  # set by ``write``: (sheet, cell) where 申请编号 was filled in


def write(source: Path, dest: Path, add: Addition) -> bool:
    """Write the task file; False (nothing written) when the package needs the openpyxl writer."""
    from automation.forms.repair import needs_renames  # the names check the openpyxl path would repair

    try:
        with package.open_package(source) as zf:
            if needs_renames(zf, "xlsx"):
                return False
            changed = _build(zf, add)
            package.write(source, dest, changed, archive=zf)
    except (Unsupported, KeyError, ValueError, etree.XMLSyntaxError, zipfile.BadZipFile):
        return False
    return True


def _build(zf: zipfile.ZipFile, add: Addition) -> dict[str, bytes]:
    """Every part that changes or is new, by name: the frame (kept per form shape, see ``_frame``) and
    what is this file's own — the two sheets of ours, 申请编号 in the form's sheet, the custom properties."""
    key = (tuple(zf.namelist()), add.approval_name, add.options_name, tuple(add.names.items()), add.print_area,
           add.drop_names, add.case_field, frozenset(add.approval.used_styles() | add.options.used_styles()))
    frames = _FRAMES.get(key, [])
    frame = next((f for f in frames if _same_inputs(zf, f)), None)
    if frame is None:
        frame = _frame(zf, add)
        frame.stored = _stored_inputs(zf, frame.inputs)
        if len(_FRAMES) >= 64:
            _FRAMES.clear()
        _FRAMES[key] = [frame, *frames[:3]]
    changed = {frame.styles_name: frame.styles, frame.wb_rels_name: frame.wb_rels,
               frame.approval_part: add.approval.xml(frame.ids, selected=True),
               frame.options_part: add.options.xml(frame.ids, selected=False), frame.main: frame.workbook}
    add.filled = frame.filled
    case_sheet, case_cell = frame.filled or (None, None)
    for sheet_name, part in frame.sheets:
        original = data = zf.read(part)
        if sheet_name == case_sheet:
            data = _with_text(data, case_cell, add.case_number)
        if b"tabSelected" in data:
            data = _TAB_SELECTED.sub(rb"\1", data)
        if data != original:
            changed[part] = data
    changed.update(frame.custom_changed)
    changed[frame.custom_name] = package.custom_xml(zf.read(frame.custom_name) if frame.custom_exists else None,
                                                    {k: _text(v) for k, v in add.props.items()})
    changed["[Content_Types].xml"] = frame.content_types
    return changed


@dataclass
class _Frame:
    """What a task file of one form shape adds or changes whatever the file's values, built once from the
    parts in ``inputs`` (by their bytes: a package with other bytes there gets a frame of its own)."""
    inputs: dict[str, bytes]
    styles_name: str
    styles: bytes
    ids: dict
    wb_rels_name: str
    wb_rels: bytes
    approval_part: str
    options_part: str
    main: str
    workbook: bytes
    sheets: list
    filled: tuple | None
    custom_name: str
    custom_exists: bool
    custom_changed: dict
    content_types: bytes
    stored: dict | None = None  # the inputs' CRC and compressed bytes, as stored in the package they came from


def _stored_inputs(zf: zipfile.ZipFile, inputs: dict[str, bytes]) -> dict[str, tuple[int, bytes]] | None:
    try:
        return {name: (zf.getinfo(name).CRC, package.stored_bytes(zf, zf.getinfo(name))) for name in inputs}
    except (KeyError, Unsupported):
        return None


def _same_inputs(zf: zipfile.ZipFile, frame: _Frame) -> bool:
    """Whether ``zf`` holds the frame's inputs: the same compressed bytes (a form's copies, as stored: one
    deflate stream inflates to one text) answer without inflating them; other bytes are compared inflated."""
    stored = frame.stored
    for name, data in frame.inputs.items():
        kept = stored.get(name) if stored is not None else None
        if kept is not None:
            info = zf.getinfo(name)
            if info.CRC == kept[0] and info.compress_size == len(kept[1]) \
                    and package.stored_bytes(zf, info) == kept[1]:
                continue
        if zf.read(name) != data:
            return False
    return True


_FRAMES: dict[tuple, list[_Frame]] = {}  # (part names, what the addition names) -> the last frames built


class _Reading:
    """The package's parts as ``_frame`` reads them, remembered: the frame's inputs."""

    def __init__(self, zf: zipfile.ZipFile):
        self.zf, self.seen = zf, {}

    def read(self, name: str) -> bytes:
        if name not in self.seen:
            self.seen[name] = self.zf.read(name)
        return self.seen[name]

    def namelist(self):
        return self.zf.namelist()


def _frame(source: zipfile.ZipFile, add: Addition) -> _Frame:
    """The frame of ``_build`` for this package and this addition's names (no sheet of the form is read)."""
    zf = _Reading(source)
    names = set(zf.namelist())

    if any(n.lower().endswith(".bin") and "vba" in n.lower() for n in names):
        raise Unsupported("macro-enabled package")
    main, root_rels = package.main_part(zf)
    workbook = etree.fromstring(zf.read(main), _PARSER)
    wb_rels_name = package.rels_of(main)
    wb_rels = etree.fromstring(zf.read(wb_rels_name), _PARSER)
    targets = {r.get("Id"): package.part_name(main, r.get("Target")) for r in wb_rels}
    sheets_el = workbook.find(_M + "sheets")
    sheets = [(s.get("name"), targets[s.get("{%s}id" % REL_NS)]) for s in sheets_el]
    if {add.approval_name, add.options_name, RESULT_SHEET} & {name for name, _ in sheets}:
        raise Unsupported("a sheet of ours is already there")
    styles_name = xlsx_parts.styles_part(main, wb_rels, names)
    styles = zf.read(styles_name)
    xlsx_parts.refuse_earlier_return(zf, names, styles, red=RED, author=AUTHOR)

    changed: dict[str, bytes] = {}
    wanted = add.approval.used_styles() | add.options.used_styles()
    changed[styles_name], ids = _styled(styles, wanted)

    # New worksheet parts and their relationships.
    folder = posixpath.dirname(sheets[0][1]) if sheets else posixpath.join(posixpath.dirname(main), "worksheets")
    free = (part for part in (posixpath.join(folder, f"sheet{n}.xml") for n in range(1, 100_000)) if part not in names)
    approval_part, options_part = next(free), next(free)
    used_ids = {r.get("Id") for r in wb_rels}
    free_ids = (f"rId{n}" for n in range(1, 100_000) if f"rId{n}" not in used_ids)
    approval_rid, options_rid = next(free_ids), next(free_ids)
    for rid, part in ((approval_rid, approval_part), (options_rid, options_part)):
        rel = etree.SubElement(wb_rels, "{%s}Relationship" % PKG_REL)
        rel.set("Type", WORKSHEET_TYPE)
        rel.set("Target", "/" + part)
        rel.set("Id", rid)
    changed[wb_rels_name] = package.serial(wb_rels)

    # The workbook: sheets, names, the active tab.
    sheet_ids = [int(s.get("sheetId")) for s in sheets_el]
    first = etree.Element(_M + "sheet")
    first.set("name", add.approval_name)
    first.set("sheetId", str(max(sheet_ids, default=0) + 1))
    first.set("state", "visible")
    first.set("{%s}id" % REL_NS, approval_rid)
    sheets_el.insert(0, first)
    last = etree.SubElement(sheets_el, _M + "sheet")
    last.set("name", add.options_name)
    last.set("sheetId", str(max(sheet_ids, default=0) + 2))
    last.set("state", "hidden")
    last.set("{%s}id" % REL_NS, options_rid)
    defined = workbook.find(_M + "definedNames")
    if defined is None:
        defined = etree.Element(_M + "definedNames")
        sheets_el.addnext(defined)
    case_text = None
    for name in list(defined):
        if name.get("name") in add.drop_names:
            defined.remove(name)
            continue
        local = name.get("localSheetId")
        if local is not None:
            name.set("localSheetId", str(int(local) + 1))
        elif name.get("name") == add.case_field:
            case_text = name.text
    for key, text in add.names.items():
        etree.SubElement(defined, _M + "definedName", name=key).text = text
    area = etree.SubElement(defined, _M + "definedName", name="_xlnm.Print_Area", localSheetId="0")
    area.text = add.print_area
    xlsx_parts.open_on_first_tab(workbook)
    changed[main] = package.serial(workbook)

    # The form's sheets: 申请编号 filled in, no tab but 审批 selected.
    case_sheet = case_cell = None
    if case_text:
        destinations = list(DefinedName(add.case_field, attr_text=case_text).destinations)
        if destinations:
            case_sheet, ref = destinations[0]
            case_cell = ref.replace("$", "").split(":")[0]
            if case_sheet not in {name for name, _ in sheets}:
                case_sheet = case_cell = None
    filled = (case_sheet, case_cell) if case_sheet else None

    # Content types and where the custom properties go.
    ct = etree.fromstring(zf.read("[Content_Types].xml"), _PARSER)
    for part in (approval_part, options_part):
        etree.SubElement(ct, "{%s}Override" % CT_NS, PartName="/" + part, ContentType=WORKSHEET_CT)
    custom_name, existing, custom_changed = package.custom_target(source, root_rels, ct)  # (its bytes: per file)
    return _Frame(inputs=zf.seen, styles_name=styles_name, styles=changed[styles_name], ids=ids,
                  wb_rels_name=wb_rels_name, wb_rels=changed[wb_rels_name], approval_part=approval_part,
                  options_part=options_part, main=main, workbook=changed[main], sheets=sheets, filled=filled,
                  custom_name=custom_name, custom_exists=existing is not None, custom_changed=custom_changed,
                  content_types=package.serial(ct))


def _with_text(data: bytes, ref: str, text: str) -> bytes:
    """The worksheet with cell ``ref`` holding ``text`` as an inline string (its format kept)."""
    match = _CELL_REF.match(ref or "")
    if not match:
        raise Unsupported("case number cell")
    row_number = int(match.group(2))
    root = etree.fromstring(data, _PARSER)
    sheet_data = root.find(_M + "sheetData")
    if sheet_data is None:
        raise Unsupported("no sheet data")
    row = None
    for candidate in sheet_data.iterchildren(_M + "row"):
        if candidate.get("r") is None:
            raise Unsupported("rows without numbers")
        r = int(candidate.get("r"))
        if r == row_number:
            row = candidate
            break
        if r > row_number:
            row = etree.Element(_M + "row", r=str(row_number))
            candidate.addprevious(row)
            break
    if row is None:
        row = etree.SubElement(sheet_data, _M + "row", r=str(row_number))
    col = _col_index(match.group(1))
    cell = None
    for candidate in row.iterchildren(_M + "c"):
        if candidate.get("r") is None:
            raise Unsupported("cells without references")
        other = _col_index(_CELL_REF.match(candidate.get("r")).group(1))
        if other == col:
            cell = candidate
            break
        if other > col:
            cell = etree.Element(_M + "c", r=ref)
            candidate.addprevious(cell)
            break
    if cell is None:
        cell = etree.SubElement(row, _M + "c", r=ref)
    xlsx_parts.set_text(cell, text)
    return package.serial(root)


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n

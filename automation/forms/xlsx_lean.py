"""A workbook's values read straight from its XML parts with lxml: the fast path of ``load_values``.

What the readers of a form or task file use of a workbook is small: each sheet's cells
(value and type, dates typed through the styles' number formats), the merged ranges'
placeholders, the sheet bounds, the tables (name, ref, header and totals rows) and the
defined names. ``read_lean`` reads exactly that from ``[Content_Types].xml``, the workbook
part and its relationships, ``xl/styles.xml`` (only ``numFmts`` and ``cellXfs``), the shared
strings, the worksheets and their table parts — nothing else is parsed, no openpyxl object
is built — and gives a small read-only model with the attributes those readers use
(``LeanBook``: ``worksheets``, ``sheetnames``, ``book[title]``, ``defined_names``, ``epoch``;
``LeanSheet``: ``_cells``, ``cell()``, ``sheet[coordinate]``, ``max_row`` …, ``tables``,
``merged_cells.ranges``, ``defined_names``).

Each value is typed by the same rules as openpyxl's worksheet reader (``_cast_number``,
``from_excel`` with the timedelta formats, ``from_ISO8601``, booleans, shared and inline
strings with their rich-text runs), and names and tables are bound as openpyxl's
``ExcelReader`` binds them. Anything outside the plain shape our forms, Excel, WPS and
LibreOffice write raises ``NotLean`` (a chartsheet, a sheet without a relationship, a
duplicated or invalid sheet title, a DTD, a cell style missing from the styles, a row
holding something other than cells, a merged range of more than ``MAX_MERGED`` cells,
formulas asked for, …), and so does any error at all: the caller then loads the file
through openpyxl's own reader (``xlsx_values.load_values_openpyxl``), whose result — or
whose error — is what it was before this reader existed. tests/test_xlsx_values.py compares
the two, cell for cell, on every blank form, filled and re-saved forms and task files.
"""

from __future__ import annotations

import functools
import io
import posixpath
import re
import zipfile
from pathlib import Path

from lxml import etree

from automation.forms import opened
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter, range_boundaries
from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH, from_excel, from_ISO8601
from openpyxl.workbook.child import INVALID_TITLE_REGEX
from openpyxl.workbook.defined_name import RESERVED_REGEX, DefinedName
from openpyxl.worksheet.print_settings import PrintArea, PrintTitles

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_WORKBOOK_TYPES = tuple(  # openpyxl's order (reader/excel._find_workbook_part)
    f"application/vnd.{kind}.main+xml" for kind in (
        "ms-excel.template.macroEnabled", "openxmlformats-officedocument.spreadsheetml.template",
        "ms-excel.sheet.macroEnabled", "openxmlformats-officedocument.spreadsheetml.sheet"))
SHARED_STRINGS = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
MAX_MERGED = 100_000  # cells covered by merges; beyond it openpyxl's reader (and the budgets) decide

_Q = "{%s}%s".__mod__
_C, _V, _ROW, _IS, _T, _R = (_Q((MAIN, t)) for t in ("c", "v", "row", "is", "t", "r"))
_RPH, _PHPR = _Q((MAIN, "rPh")), _Q((MAIN, "phoneticPr"))
_SI, _MERGES, _MERGE, _TABLE_PARTS = (_Q((MAIN, t)) for t in ("si", "mergeCells", "mergeCell", "tableParts"))
_RID = _Q((REL_NS, "id"))
_DIMENSION = _Q((MAIN, "dimension"))
_TABLE_REF = re.compile(r"^[$]?([A-Za-z]{1,3})[$]?(\d+)(:[$]?([A-Za-z]{1,3})[$]?(\d+)?)?$|^[A-Za-z]{1,3}:[A-Za-z]{1,3}$")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=False)


class NotLean(Exception):
    """The package is not one this reader takes: openpyxl's reader reads it."""


# --- the model -----------------------------------------------------------------------------


class Cell:
    __slots__ = ("parent", "row", "column", "value", "data_type")

    def __init__(self, parent, row, column, value=None, data_type="n"):
        self.parent, self.row, self.column, self.value, self.data_type = parent, row, column, value, data_type

    @property
    def coordinate(self) -> str:
        return f"{get_column_letter(self.column)}{self.row}"

    @property
    def _value(self):
        return self.value

    def __repr__(self):
        return f"<Cell {self.parent.title!r}.{self.coordinate}>"


class MergedCell(Cell):
    """A cell covered by a merged range, not its top-left one: always empty (openpyxl's MergedCell)."""

    __slots__ = ()

    def __init__(self, parent, row, column):
        super().__init__(parent, row, column, None, "n")

    def __repr__(self):
        return f"<MergedCell {self.parent.title!r}.{self.coordinate}>"


class MergedRange:
    __slots__ = ("min_col", "min_row", "max_col", "max_row")

    def __init__(self, min_col, min_row, max_col, max_row):
        self.min_col, self.min_row, self.max_col, self.max_row = min_col, min_row, max_col, max_row

    @property
    def coord(self) -> str:
        first = f"{get_column_letter(self.min_col)}{self.min_row}"
        if (self.min_col, self.min_row) == (self.max_col, self.max_row):
            return first
        return f"{first}:{get_column_letter(self.max_col)}{self.max_row}"

    __str__ = coord.fget

    def __eq__(self, other):
        return isinstance(other, MergedRange) and self.bounds == other.bounds

    def __hash__(self):
        return hash(self.bounds)

    @property
    def bounds(self):
        return self.min_col, self.min_row, self.max_col, self.max_row


class MergedRanges:
    __slots__ = ("ranges",)

    def __init__(self, ranges=()):
        self.ranges = list(ranges)


class Table:
    __slots__ = ("name", "displayName", "ref", "headerRowCount", "totalsRowCount")

    def __init__(self, name, displayName, ref, headerRowCount, totalsRowCount):
        self.name, self.displayName, self.ref = name, displayName, ref
        self.headerRowCount, self.totalsRowCount = headerRowCount, totalsRowCount


class Name:
    """A defined name: its text and where it points (``destinations``, as openpyxl's DefinedName gives)."""

    __slots__ = ("name", "attr_text", "localSheetId")

    def __init__(self, name, attr_text, localSheetId):
        self.name, self.attr_text, self.localSheetId = name, attr_text, localSheetId

    @property
    def value(self):
        return self.attr_text

    @property
    def destinations(self):
        return _destinations(self.attr_text)

    @property
    def is_reserved(self):
        m = RESERVED_REGEX.match(self.name)
        return m.group("name") if m else None


@functools.lru_cache(maxsize=4096)
def _destinations(text) -> tuple:
    return tuple(DefinedName(name="n", attr_text=text).destinations)


class LeanSheet:
    def __init__(self, parent, title: str, state: str):
        self.parent, self.title, self.sheet_state = parent, title, state
        self._cells: dict[tuple[int, int], Cell] = {}
        self.tables: dict[str, Table] = {}
        self.defined_names: dict[str, Name] = {}
        self.merged_cells = MergedRanges()
        self.dimension: str | None = None  # the ``<dimension ref>`` the file declares, as written (read-only readers size by it)

    def cell(self, row: int, column: int) -> Cell:
        """The cell, created empty when the sheet holds none there (as openpyxl's ``ws.cell``)."""
        if row < 1 or column < 1:
            raise ValueError("Row or column values must be at least 1")
        if not 0 < row < 1048577:
            raise ValueError(f"Row numbers must be between 1 and 1048576. Row number supplied was {row}")
        found = self._cells.get((row, column))
        if found is None:
            found = self._cells[row, column] = Cell(self, row, column)
        return found

    def __getitem__(self, coordinate: str) -> Cell:
        min_col, min_row, max_col, max_row = range_boundaries(coordinate)
        if None in (min_col, min_row) or (min_col, min_row) != (max_col, max_row):
            raise IndexError(f"{coordinate} is not a single cell")
        return self.cell(row=min_row, column=min_col)

    @property
    def min_row(self) -> int:
        return min(self._cells)[0] if self._cells else 1

    @property
    def max_row(self) -> int:
        return max(self._cells)[0] if self._cells else 1

    @property
    def min_column(self) -> int:
        return min(c[1] for c in self._cells) if self._cells else 1

    @property
    def max_column(self) -> int:
        return max(c[1] for c in self._cells) if self._cells else 1

    def __repr__(self):
        return f"<LeanSheet {self.title!r}>"


class LeanBook:
    """The workbook's values, read-only: never saved, never changed by a reader but for ``cell()``."""

    def __init__(self):
        self.worksheets: list[LeanSheet] = []
        self.defined_names: dict[str, Name] = {}
        self.epoch = WINDOWS_EPOCH

    @property
    def sheetnames(self) -> list[str]:
        return [ws.title for ws in self.worksheets]

    def __getitem__(self, title: str) -> LeanSheet:
        for ws in self.worksheets:
            if ws.title == title:
                return ws
        raise KeyError(f"Worksheet {title} does not exist.")

    def __contains__(self, title: str) -> bool:
        return title in self.sheetnames


# --- the reader ----------------------------------------------------------------------------


def read_lean(source, *, named_rows_only: frozenset[str] = frozenset()) -> LeanBook:
    """The values of the workbook at ``source`` (a path, bytes, a binary file or an open ZipFile).

    ``named_rows_only``: sheet titles of which only the rows a workbook-level defined name points
    into get cells (and merged cells); the rest of such a sheet is still parsed and checked as
    always, so a damaged sheet is still refused. A decision reads its inputs by name from the 审批
    sheet (186 cells, 6 of them inputs): taking the whole sheet cost more than the form's data.

    Raises NotLean for a package outside the plain shape, and whatever reading raised otherwise
    (the caller falls back to openpyxl's reader on either)."""
    if isinstance(source, zipfile.ZipFile):
        return _Reader(source, named_rows_only).read()
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = io.BytesIO(source)
    elif isinstance(source, (str, Path)) and Path(source).suffix.lower() not in (".xlsx", ".xlsm", ".xltx", ".xltm"):
        raise NotLean("openpyxl refuses this extension")
    with zipfile.ZipFile(source) as archive:
        return _Reader(archive, named_rows_only).read()


def _xml(data: bytes):
    root = etree.fromstring(data, _PARSER)
    info = root.getroottree().docinfo
    if info.internalDTD is not None or info.doctype:
        raise NotLean("a DTD: openpyxl's parsers decide")
    return root


class _Reader:
    def __init__(self, archive: zipfile.ZipFile, named_rows_only: frozenset[str] = frozenset()):
        self.archive = archive
        self.named_rows_only = named_rows_only
        self.names = set(archive.namelist())
        self.folded = {name.lower() for name in self.names}
        if len(self.folded) != len(self.names) or any("\\" in n or n.startswith("/") for n in self.names):
            raise NotLean("part names forms.repair would rename")

    def has(self, name: str) -> bool:
        """Whether the part exists as spelled; one spelled otherwise (``xl/SharedStrings.xml``) is what
        forms.repair renames before openpyxl reads the package, so that package is left to openpyxl's path."""
        if name in self.names:
            return True
        if name.lower() in self.folded:
            raise NotLean("a part name differing in case from its reference")
        return False

    def part(self, name: str):
        return _xml(opened.read_part(self.archive, name))

    def rels(self, part_name: str) -> dict[str, tuple[str, str]]:
        """Id → (Type, target as a part name), as openpyxl's get_dependents normalises them."""
        folder, obj = posixpath.split(part_name)
        rels_name = posixpath.join(folder, "_rels", f"{obj}.rels")
        if not self.has(rels_name):
            return {}
        root = self.part(rels_name)
        parent = posixpath.split(posixpath.dirname(rels_name))[0]
        found = {}
        for node in root:
            if node.tag != _Q((PKG_REL, "Relationship")):
                raise NotLean("an odd relationship part")
            rid, kind, target = node.get("Id"), node.get("Type"), node.get("Target")
            if rid is None or kind is None or target is None or rid in found:
                raise NotLean("an odd relationship")
            if node.get("TargetMode") != "External":
                target = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(parent, target))
            found[rid] = (kind, target)
        return found

    def read(self) -> LeanBook:
        types = self.part("[Content_Types].xml")
        overrides = [(n.get("PartName"), n.get("ContentType")) for n in types if n.tag == _Q((CT_NS, "Override"))]
        main = next((name for kind in _WORKBOOK_TYPES for name, ct in overrides if ct == kind), None)
        if not main:
            raise NotLean("no workbook override")
        strings_part = next((name for name, ct in overrides if ct == SHARED_STRINGS), None)
        strings = self.shared_strings(strings_part[1:]) if strings_part is not None else []
        book = LeanBook()
        main = main[1:]
        workbook = self.part(main)
        if workbook.tag != _Q((MAIN, "workbook")):
            raise NotLean("not a workbook part")
        pr = workbook.find(_Q((MAIN, "workbookPr")))
        if pr is not None and pr.get("date1904") not in (None, "", "false", "f", "0"):
            book.epoch = CALENDAR_MAC_1904
        date_styles, delta_styles, style_count = self.styles()
        rels = self.rels(main)
        sheets = workbook.find(_Q((MAIN, "sheets")))
        kept = self.named_rows(workbook) if self.named_rows_only else {}
        titles = set()
        for sheet in sheets if sheets is not None else ():
            name, rid, state = sheet.get("name"), sheet.get(_RID), sheet.get("state", "visible")
            if (not rid or not name or INVALID_TITLE_REGEX.search(name) or name in titles
                    or state not in ("visible", "hidden", "veryHidden")):
                raise NotLean("a sheet openpyxl would skip, refuse or rename")
            kind, target = rels[rid]
            if not self.has(target):
                continue
            if "chartsheet" in kind:
                raise NotLean("a chartsheet")
            titles.add(name)
            ws = LeanSheet(book, name, state)
            book.worksheets.append(ws)
            self.worksheet(ws, target, strings, date_styles, delta_styles, style_count, book.epoch, kept.get(name))
        self.assign_names(book, workbook)
        return book

    def named_rows(self, workbook) -> dict[str, set[int]]:
        """Sheet title -> the rows the workbook-level defined names point into, for ``named_rows_only``."""
        rows: dict[str, set[int]] = {title: set() for title in self.named_rows_only}
        defined = workbook.find(_Q((MAIN, "definedNames")))
        for node in defined if defined is not None else ():
            if node.tag != _Q((MAIN, "definedName")) or node.get("localSheetId") is not None:
                continue
            for sheet, ref in _destinations(node.text):
                if sheet in rows:
                    min_col, min_row, max_col, max_row = range_boundaries(ref.replace("$", ""))
                    if min_row is None or max_row is None or max_row - min_row > 1000:
                        raise NotLean("a name over whole columns: the sheet is read whole")
                    rows[sheet].update(range(min_row, max_row + 1))
        return rows

    def shared_strings(self, name: str) -> list[str]:
        strings = []
        for si in self.part(name).iter(_SI):
            if len(si) == 1 and si[0].tag == _T:
                text = si[0].text or ""
            else:
                text = _text_content(si)
            strings.append(text.replace("x005F_", ""))
        return strings

    def styles(self) -> tuple[set, set, int]:
        """(cell styles with a date format, those with a duration format, how many cell styles)."""
        if not self.has("xl/styles.xml"):
            raise NotLean("no styles part where openpyxl reads it")
        root = self.part("xl/styles.xml")
        if len(root.findall(_Q((MAIN, "numFmts")))) > 1 or len(root.findall(_Q((MAIN, "cellXfs")))) > 1:
            raise NotLean("styles in two lists")
        num_fmts = root.find(_Q((MAIN, "numFmts")))
        custom = {}
        for fmt in num_fmts if num_fmts is not None else ():
            if fmt.tag == _Q((MAIN, "numFmt")):
                custom[int(fmt.get("numFmtId"))] = fmt.get("formatCode")
        xfs = root.find(_Q((MAIN, "cellXfs")))
        xfs = [] if xfs is None else [xf for xf in xfs if xf.tag == _Q((MAIN, "xf"))]
        if not xfs:
            raise NotLean("no cell styles: openpyxl keeps its defaults")
        dates, deltas = set(), set()
        for idx, xf in enumerate(xfs):
            fmt_id = int(xf.get("numFmtId", 0))
            fmt = custom[fmt_id] if fmt_id in custom else BUILTIN_FORMATS.get(fmt_id)
            if _is_date(fmt):
                dates.add(idx)
            if _is_delta(fmt):
                deltas.add(idx)
        return dates, deltas, len(xfs)

    def worksheet(self, ws: LeanSheet, name: str, strings, date_styles, delta_styles, style_count, epoch,
                  keep: set[int] | None = None):
        """``keep``: the only rows given cells (see ``read_lean``'s ``named_rows_only``); None: all."""
        root = self.part(name)
        cells = ws._cells
        dimension = root.find(_DIMENSION)
        ws.dimension = dimension.get("ref") if dimension is not None else None
        row_counter = 0
        for row in root.iter(_ROW):
            r = row.get("r")
            if r is not None:
                try:
                    row_counter = int(r)
                except ValueError:
                    value = float(r)
                    if not value.is_integer():
                        raise
                    row_counter = int(value)
            else:
                row_counter += 1
            col_counter = 0
            if keep is not None and row_counter not in keep:
                for el in row:  # not taken, but checked as a taken row is: such a sheet is not lean
                    if el.tag != _C:
                        raise NotLean("a row holding something other than cells")
                    coordinate = el.get("r")
                    if coordinate and _coordinate(coordinate)[0] != row_counter:
                        raise NotLean("a cell placed outside its row: the sheet is read whole")
                    style = el.get("s")
                    if style is not None and style != "0" and (not style.isdigit() or int(style) >= style_count):
                        raise NotLean("a cell style the styles part lacks (repaired by openpyxl's path)")
                continue
            for el in row:
                if el.tag != _C:
                    raise NotLean("a row holding something other than cells")
                get = el.get
                data_type = get("t", "n")
                style = get("s")
                if style is not None and style != "0":
                    if not style.isdigit() or int(style) >= style_count:
                        raise NotLean("a cell style the styles part lacks (repaired by openpyxl's path)")
                    style_id = int(style)
                else:
                    style_id = 0
                coordinate = get("r")
                if coordinate:
                    row_no, column = _coordinate(coordinate)
                    col_counter = column
                else:
                    col_counter += 1
                    row_no, column = row_counter, col_counter
                if data_type == "inlineStr":
                    value = None
                    child = el.find(_IS)
                    if child is not None:
                        data_type = "s"
                        value = _text_content(child)
                else:
                    value = el.findtext(_V) or None
                    if value is not None:
                        if data_type == "n":
                            value = float(value) if ("." in value or "E" in value or "e" in value) else int(value)
                            if style_id in date_styles:
                                data_type = "d"
                                try:
                                    value = from_excel(value, epoch, timedelta=style_id in delta_styles)
                                except (OverflowError, ValueError):
                                    data_type, value = "e", "#VALUE!"
                        elif data_type == "s":
                            value = strings[int(value)]
                        elif data_type == "b":
                            value = bool(int(value))
                        elif data_type == "str":
                            data_type = "s"
                        elif data_type == "d":
                            value = from_ISO8601(value)
                cells[row_no, column] = Cell(ws, row_no, column, value, data_type)
        merges = None
        for merges in root.iter(_MERGES):
            pass  # openpyxl keeps the last
        if merges is not None:
            self.merged(ws, merges, keep)
        parts = None
        for parts in root.iter(_TABLE_PARTS):
            pass
        if parts is not None:
            self.tables(ws, name, parts)

    def merged(self, ws: LeanSheet, merges, keep: set[int] | None = None) -> None:
        ranges, seen, covered = [], set(), 0
        for node in merges:
            if node.tag != _MERGE:
                continue
            min_col, min_row, max_col, max_row = range_boundaries(node.get("ref"))
            if (None in (min_col, min_row, max_col, max_row) or min_col > max_col or min_row > max_row
                    or max_row > 1048576 or max_col > 18278):
                raise NotLean("a merge over whole rows or columns (repaired by openpyxl's path)")
            covered += (max_col - min_col + 1) * (max_row - min_row + 1)
            if covered > MAX_MERGED:
                raise NotLean("merges too large to take here")
            merged = MergedRange(min_col, min_row, max_col, max_row)
            if keep is not None and keep.isdisjoint(range(min_row, max_row + 1)):
                if merged.bounds not in seen:  # the range is listed; its cells lie in rows not taken
                    seen.add(merged.bounds)
                    ranges.append(merged)
                continue
            ws.cell(min_row, min_col)  # the top-left cell exists, empty if the file holds none (as openpyxl's load)
            for row in range(min_row, max_row + 1):
                for col in range(min_col, max_col + 1):
                    if row != min_row or col != min_col:
                        ws._cells[row, col] = MergedCell(ws, row, col)
            if merged.bounds not in seen:
                seen.add(merged.bounds)
                ranges.append(merged)
        ws.merged_cells = MergedRanges(ranges)

    def tables(self, ws: LeanSheet, name: str, parts) -> None:
        rels = self.rels(name)
        taken = {t.lower() for sheet in ws.parent.worksheets for t in sheet.tables}
        for part in parts:
            if part.tag != _Q((MAIN, "tablePart")):
                continue
            _, target = rels[part.get(_RID)]
            root = self.part(target)
            display = root.get("displayName")
            table_name = display if root.get("name") is None else root.get("name")
            ref = root.get("ref")
            ref = None if ref is None else ref.upper()
            if (root.tag != _Q((MAIN, "table")) or not table_name or table_name.lower() in taken
                    or (display is not None and " " in display) or (ref is not None and not _TABLE_REF.match(ref))):
                raise NotLean("a table openpyxl would refuse")
            int(root.get("id", 1))
            header = root.get("headerRowCount")
            totals = root.get("totalsRowCount")
            ws.tables[table_name] = Table(table_name, display, ref, 1 if header is None else int(header),
                                          None if totals is None else int(totals))
            taken.add(table_name.lower())

    def assign_names(self, book: LeanBook, workbook) -> None:
        """Bind the defined names as openpyxl's WorkbookParser.assign_names does."""
        defined = workbook.find(_Q((MAIN, "definedNames")))
        if defined is None:
            return
        for node in defined:
            if node.tag != _Q((MAIN, "definedName")):
                continue
            name, local = node.get("name"), node.get("localSheetId")
            if not name:
                raise NotLean("a nameless defined name")
            definition = Name(name, node.text, None if local is None else int(local))
            if definition.localSheetId is None:
                if name not in ("_xlnm.Print_Titles", "_xlnm.Print_Area", "_xlnm._FilterDatabase"):
                    book.defined_names[name] = definition
                continue
            try:
                sheet = book.worksheets[definition.localSheetId]
            except IndexError:
                continue
            reserved = definition.is_reserved
            if reserved is None:
                sheet.defined_names[name] = definition
            elif reserved == "Print_Titles":
                PrintTitles.from_string(definition.value)  # (raises where openpyxl's load raises)
            elif reserved == "Print_Area":
                try:
                    PrintArea.from_string(definition.value)
                except TypeError:
                    pass


def _text_content(node) -> str:
    """openpyxl's ``Text.from_tree(node).content``: the plain text, then each rich-text run's text."""
    plain, runs = None, []
    seen_plain = False
    for child in node:
        tag = child.tag
        if tag == _T:
            if seen_plain:
                raise NotLean("two plain texts in one string")
            plain, seen_plain = child.text, True
        elif tag == _R:
            texts = [t for t in child if t.tag == _T]
            if len(texts) > 1:
                raise NotLean("two texts in one run")
            if texts and texts[0].text is not None:
                runs.append(texts[0].text)
        elif tag not in (_RPH, _PHPR):
            raise NotLean("an unexpected element in a string")
    return "".join(([plain] if plain is not None else []) + runs)


_coordinate = functools.lru_cache(maxsize=1 << 16)(coordinate_to_tuple)  # the same few hundred, form after form


@functools.lru_cache(maxsize=1024)
def _is_date(fmt) -> bool:
    return is_date_format(fmt)


@functools.lru_cache(maxsize=1024)
def _is_delta(fmt) -> bool:
    return is_timedelta_format(fmt)

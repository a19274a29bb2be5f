"""One-sheet workbooks (回执, 审批单) written at zip level from a package XlsxWriter built once per process.

XlsxWriter costs about 6 ms per receipt: formats, the styles part, the theme, the
package — the same for every receipt — and then the few dozen cells that differ.
Here the layout code stays the one written for XlsxWriter (``add_format``,
``write_string``, ``merge_range``, ``write_url``, ``set_row``, ``set_column`` and the
page setup of ``printing.setup_xlsxwriter``), but it runs on a recording ``Book``:

- what is the same for every file of a kind — the formats, column widths, page
  setup, footer — is replayed once into a real XlsxWriter workbook (the *frame*),
  kept per process by those calls; its styles, theme, properties, ``<cols>`` and
  print setup are reused as they are, the unchanged parts even as compressed bytes;
- what differs — cells, merges, row heights, hyperlinks, the repeated title row —
  is written here as SpreadsheetML, exactly as XlsxWriter writes it (heights rounded
  to pixels, the same text escapes, the same hyperlink targets), but every text as an
  inline string (``t="inlineStr"``): a value from a form is text, never a formula.

Tests compare the two writers cell for cell (values, types, styles, merges, widths,
heights, links, print setup); a call the recording book does not know raises
``Unsupported`` and the caller uses XlsxWriter.
"""

from __future__ import annotations

import functools
import io
import logging
import re
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import xlsxwriter
from xlsxwriter.url import Url
from xlsxwriter.utility import _utf16_len, _utf16_truncate, xl_col_to_name

from automation.forms import zip_package as package
from automation.printing import lines_needed

log = logging.getLogger("officeflow")
Unsupported = package.Unsupported

WORKBOOK_OPTIONS = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
SHEET_PART, WORKBOOK_PART, CORE_PART = "xl/worksheets/sheet1.xml", "xl/workbook.xml", "docProps/core.xml"
SHEET_RELS = "xl/worksheets/_rels/sheet1.xml.rels"
HYPERLINK_TYPE = package.REL_NS + "/hyperlink"
STRING_MAX = 32767
DEFAULT_ROW_PIXELS = 20  # XlsxWriter's default row height (15 pt)
_FRAME_ROW = 1_048_575  # the frame's title row: replaced by the file's own
_STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')
_ESCAPE_THE_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
_TAIL_STARTS = (b"<printOptions", b"<pageMargins", b"<pageSetup", b"<headerFooter", b"</worksheet>")
_LETTERS = [xl_col_to_name(c) for c in range(256)]


# The layouts size every row by its text: the same labels, names and dates again and again.
fitted_lines = functools.lru_cache(maxsize=16_384)(lines_needed)


class Format:
    """A format as the layout asked for it; its XF index comes from the frame."""

    __slots__ = ("props", "index")

    def __init__(self, props: dict | None) -> None:
        self.props = dict(props or {})
        self.index = 0

    def key(self) -> tuple:
        return tuple(sorted(self.props.items()))


class Book:
    """The part of ``xlsxwriter.Workbook`` the one-sheet layouts use, recording."""

    def __init__(self) -> None:
        self.formats: list[Format] = []
        self.sheet: Sheet | None = None

    def add_format(self, props: dict | None = None) -> Format:
        fmt = Format(props)
        self.formats.append(fmt)
        return fmt

    def add_worksheet(self, name: str) -> "Sheet":
        if self.sheet is not None:
            raise Unsupported("more than one sheet")
        self.sheet = Sheet(name)
        return self.sheet


class Sheet:
    """The part of ``xlsxwriter.Worksheet`` the one-sheet layouts use: cells recorded (0-based),
    the frame calls (widths, page setup) kept in order to build the frame from."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.cells: dict[tuple[int, int], tuple[str | None, Format | None]] = {}  # None: a styled blank
        self.heights: dict[int, int] = {}  # row -> pixels, as XlsxWriter keeps them
        self.merges: list[tuple[int, int, int, int]] = []
        self.links: list[tuple[int, int, Url]] = []
        self.frame_calls: list[tuple] = []
        self.title_row: int | None = None

    def __getattr__(self, name: str):
        raise Unsupported(f"worksheet call {name}")

    # --- cells ----------------------------------------------------------------------

    def write_string(self, row: int, col: int, string: str, cell_format: Format | None = None) -> int:
        if not isinstance(string, str):
            raise Unsupported("write_string of a non-text value")
        if len(string) > STRING_MAX // 2 and _utf16_len(string) > STRING_MAX:
            string = _utf16_truncate(string, STRING_MAX)
        self.cells[(row, col)] = (string, cell_format)
        return 0

    def write_blank(self, row: int, col: int, blank=None, cell_format: Format | None = None) -> int:
        if cell_format is None:
            return 0  # XlsxWriter ignores a blank without a format
        self.cells[(row, col)] = (None, cell_format)
        return 0

    def merge_range(self, first_row: int, first_col: int, last_row: int, last_col: int, data,
                    cell_format: Format | None = None) -> int:
        if not isinstance(data, str):
            raise Unsupported("merged range of a non-text value")
        if first_row > last_row:
            first_row, last_row = last_row, first_row
        if first_col > last_col:
            first_col, last_col = last_col, first_col
        if first_row == last_row and first_col == last_col:
            raise Unsupported("a merged range of one cell")
        self.merges.append((first_row, first_col, last_row, last_col))
        if data == "":  # XlsxWriter's write() makes "" a blank
            self.write_blank(first_row, first_col, None, cell_format)
        else:
            self.write_string(first_row, first_col, data, cell_format)
        for r in range(first_row, last_row + 1):
            for c in range(first_col, last_col + 1):
                if (r, c) != (first_row, first_col):
                    self.write_blank(r, c, None, cell_format)
        return 0

    def write_url(self, row: int, col: int, url: str, cell_format: Format | None = None, string: str | None = None,
                  tip: str | None = None) -> int:
        if tip is not None or not isinstance(url, str):
            raise Unsupported("hyperlink with a tip")
        link = Url(url)
        if link._link_type.name != "EXTERNAL":
            raise Unsupported("hyperlink other than to a file")
        if cell_format is None:
            raise Unsupported("hyperlink in XlsxWriter's default link format")
        self.links.append((row, col, link))
        self.write_string(row, col, link.text if string is None else string, cell_format)
        return 0

    def set_row(self, row: int, height: float | None = None, cell_format=None, options=None) -> int:
        if cell_format is not None or options:
            raise Unsupported("row format or options")
        if height is not None:
            self.heights[row] = int(height * 4.0 / 3.0 + 0.5)
        return 0

    def repeat_rows(self, first_row: int, last_row: int | None = None) -> None:
        if last_row not in (None, first_row):
            raise Unsupported("more than one title row")
        self.title_row = first_row

    # --- the frame: the same for every file of a kind --------------------------------

    def set_column(self, first_col: int, last_col: int, width: float | None = None, cell_format=None,
                   options=None) -> int:
        if cell_format is not None or options:
            raise Unsupported("column format or options")
        self.frame_calls.append(("set_column", (first_col, last_col, width)))
        return 0

    def _frame_call(name: str):
        def call(self, *args, **kwargs):
            self.frame_calls.append((name, args, tuple(sorted(kwargs.items()))))
        call.__name__ = name
        return call

    set_paper = _frame_call("set_paper")
    set_portrait = _frame_call("set_portrait")
    set_landscape = _frame_call("set_landscape")
    fit_to_pages = _frame_call("fit_to_pages")
    set_margins = _frame_call("set_margins")
    center_horizontally = _frame_call("center_horizontally")
    del _frame_call

    def set_footer(self, footer: str = "", options: dict | None = None, margin=None) -> None:
        self.frame_calls.append(("set_footer", (footer,), tuple(sorted((options or {}).items()))))

    def set_header(self, header: str = "", options: dict | None = None, margin=None) -> None:
        self.frame_calls.append(("set_header", (header,), tuple(sorted((options or {}).items()))))


# --- the frame --------------------------------------------------------------------------


class Frame:
    """A package XlsxWriter wrote for one sheet's formats and page setup, without cells."""

    def __init__(self, book: Book) -> None:
        sheet = book.sheet
        buffer = io.BytesIO()
        wb = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
        ws = wb.add_worksheet(sheet.name)
        real = [wb.add_format(fmt.props) for fmt in book.formats]
        for call in sheet.frame_calls:
            if call[0] == "set_column":
                ws.set_column(*call[1])
            else:
                getattr(ws, call[0])(*call[1], **dict(call[2]))
        if sheet.title_row is not None:
            ws.repeat_rows(_FRAME_ROW)
        for c, fmt in enumerate(real):
            ws.write_blank(0, c, None, fmt)  # registers every format's XF index
        wb.close()
        self.indices = [fmt.xf_index for fmt in real]
        if any(i is None for i in self.indices):
            raise Unsupported("a format without an XF index")
        with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as zf:
            self.infos = [i for i in zf.infolist() if not i.is_dir()]
            self.raw = {i.filename: package.stored_bytes(zf, i) for i in self.infos}
            sheet_xml, self.workbook, self.core = zf.read(SHEET_PART), zf.read(WORKBOOK_PART), zf.read(CORE_PART)
            names = set(zf.namelist())
        if "xl/sharedStrings.xml" in names or SHEET_RELS in names:
            raise Unsupported("a frame with strings or links")
        start, end = sheet_xml.find(b"<sheetData"), sheet_xml.find(b"</worksheet>")
        if start < 0 or end < 0:
            raise Unsupported("frame without sheet data")
        closed = sheet_xml.find(b"</sheetData>", start)
        after = closed + len(b"</sheetData>") if closed >= 0 else sheet_xml.find(b"/>", start) + 2
        self.head, self.tail = sheet_xml[:start], sheet_xml[after:]
        if not self.tail.startswith(_TAIL_STARTS):
            raise Unsupported("frame with parts between the cells and the print setup")
        if b'xmlns:r="' not in self.head:
            raise Unsupported("frame without the relationships namespace")
        self.title = f"${_FRAME_ROW + 1}:${_FRAME_ROW + 1}<".encode()
        if sheet.title_row is not None and self.title not in self.workbook:
            raise Unsupported("frame without its title row")
        # Parts that differ by file but repeat (the core part's stamp within a second, the workbook's
        # title row): compressed once, then copied as stored bytes.
        self.repeated: dict[tuple[str, bytes], tuple[zipfile.ZipInfo, bytes]] = {}

    def entry(self, name: str, data: bytes, date_time) -> tuple[zipfile.ZipInfo, bytes]:
        """The entry ``package.put`` writes for ``data``, as (info, stored bytes) to copy."""
        key = (name, data)
        known = self.repeated.get(key)
        if known is None:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
                package.put(out, name, data, date_time)
            with zipfile.ZipFile(buffer) as zf:
                info = zf.getinfo(name)
                known = (info, package.stored_bytes(zf, info))
            if len(self.repeated) > 64:
                self.repeated.clear()
            self.repeated[key] = known
        return known


_FRAMES: dict[tuple, Frame] = {}


def frame_of(book: Book) -> Frame:
    sheet = book.sheet
    key = (sheet.name, tuple(f.key() for f in book.formats), tuple(sheet.frame_calls), sheet.title_row is not None)
    frame = _FRAMES.get(key)
    if frame is None:
        if len(_FRAMES) > 32:
            _FRAMES.clear()
        frame = _FRAMES[key] = Frame(book)
    return frame


# --- the per-file parts ------------------------------------------------------------------


# Any character _text_xml changes; a text with none of them (most) is written as it is.
_PLAIN = re.compile(r"[^\x00-\x08\x0b-\x1f&<>\ufffe\uffff]*")


def _text_xml(text: str) -> str:
    """A string as XlsxWriter writes it into the shared strings (control characters as _xHHHH_)."""
    if _PLAIN.fullmatch(text) and "_x" not in text and not (text[:1].isspace() or text[-1:].isspace()):
        return f"<t>{text}</t>"
    if "_x" in text:
        text = _ESCAPE_THE_ESCAPE.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
    text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<t{space}>{text}</t>"


def _attr(value: str) -> str:
    return (value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\n", "&#xA;"))


def _first(item):
    return item[0]


_CELLS_MEMO = 8192
_CELLS_SEEN: dict[tuple[str | None, int], str] = {}


def sheet_xml(book: Book, frame: Frame) -> bytes:
    sheet = book.sheet
    index = {id(fmt): frame.indices[i] for i, fmt in enumerate(book.formats)}
    rows: dict[int, list] = {}
    for (r, c), cell in sheet.cells.items():
        rows.setdefault(r, []).append((c, cell))
    for r in sheet.heights:
        rows.setdefault(r, [])
    out = []
    for r in sorted(rows):
        pixels = sheet.heights.get(r)
        height = f' ht="{pixels * 0.75:.16g}" customHeight="1"' if pixels not in (None, DEFAULT_ROW_PIXELS) else ""
        n = r + 1
        cells = []
        for c, (value, fmt) in sorted(rows[r], key=_first):
            xf = index[id(fmt)] if fmt is not None else 0
            # A cell's XML after its reference depends on its text and style number only: labels,
            # headings and blank merged cells recur on every receipt and 审批单, made once a process.
            key = (value, xf)
            rest = _CELLS_SEEN.get(key)
            if rest is None:
                style = f' s="{xf}"' if xf else ""
                rest = f"{style}/>" if value is None else f'{style} t="inlineStr"><is>{_text_xml(value)}</is></c>'
                if len(_CELLS_SEEN) >= _CELLS_MEMO:
                    _CELLS_SEEN.clear()
                _CELLS_SEEN[key] = rest
            cells.append(f'<c r="{_LETTERS[c] if c < 256 else xl_col_to_name(c)}{n}"{rest}')
        out.append(f'<row r="{n}"{height}>{"".join(cells)}</row>' if cells else f'<row r="{n}"{height}/>')
    if rows:
        last_row = max(rows) + 1
        last_col = max((c for (_, c) in sheet.cells), default=0)
        dimension = f'<dimension ref="A1:{xl_col_to_name(last_col)}{last_row}"/>'
    else:
        dimension = '<dimension ref="A1"/>'
    parts = [_DIMENSION.sub(dimension.encode(), frame.head, count=1),
             ("<sheetData>" + "".join(out) + "</sheetData>" if out else "<sheetData/>").encode("utf-8")]
    if sheet.merges:
        refs = "".join(f'<mergeCell ref="{xl_col_to_name(c1)}{r1 + 1}:{xl_col_to_name(c2)}{r2 + 1}"/>'
                       for r1, c1, r2, c2 in sheet.merges)
        parts.append(f'<mergeCells count="{len(sheet.merges)}">{refs}</mergeCells>'.encode("utf-8"))
    if sheet.links:
        links = []
        for n, (r, c, link) in enumerate(sheet.links, start=1):
            location = f' location="{_attr(link._anchor)}"' if link._anchor else ""
            links.append(f'<hyperlink ref="{xl_col_to_name(c)}{r + 1}" r:id="rId{n}"{location}/>')
        parts.append(("<hyperlinks>" + "".join(links) + "</hyperlinks>").encode("utf-8"))
    parts.append(frame.tail)
    return b"".join(parts)


def _sheet_rels(sheet: Sheet) -> bytes:
    rels = "".join(f'<Relationship Id="rId{n}" Type="{HYPERLINK_TYPE}" Target="{_attr(link._target())}" '
                   f'TargetMode="External"/>' for n, (_, _, link) in enumerate(sheet.links, start=1))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{package.PKG_REL}">{rels}</Relationships>').encode("utf-8")


def render(book: Book, *, created: datetime | None = None) -> bytes:
    """The workbook ``book`` recorded, as .xlsx bytes."""
    if book.sheet is None:
        raise Unsupported("no sheet")
    frame = frame_of(book)
    sheet = book.sheet
    stamp = (created or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    changed = {SHEET_PART: sheet_xml(book, frame)}
    repeated = {CORE_PART: _STAMP.sub(stamp, frame.core)}
    if sheet.title_row is not None:
        repeated[WORKBOOK_PART] = frame.workbook.replace(frame.title, f"${sheet.title_row + 1}:${sheet.title_row + 1}<"
                                                         .encode(), 1)
    if sheet.links:
        changed[SHEET_RELS] = _sheet_rels(sheet)
    out = package.Assembly()
    for info in frame.infos:
        if info.filename in changed:
            package.put(out, info.filename, changed.pop(info.filename), info.date_time)
        elif info.filename in repeated:
            package.copy_entry(out, *frame.entry(info.filename, repeated[info.filename], info.date_time))
        else:
            package.copy_entry(out, info, frame.raw[info.filename])
    for name, data in changed.items():
        package.put(out, name, data, frame.infos[0].date_time)
    return out.getvalue()


def reference_bytes(layout: Callable[[object], None]) -> bytes:
    """``layout`` run on a real XlsxWriter workbook: the reference, and the fallback."""
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    layout(wb)
    wb.close()
    return buffer.getvalue()


def workbook_bytes(layout: Callable[[object], None]) -> bytes:
    """``layout(wb)`` written at zip level, or through XlsxWriter when it uses a call not covered here."""
    book = Book()
    try:
        layout(book)
        return render(book)
    except Unsupported as exc:
        log.debug("改用 XlsxWriter 生成工作簿:%s", exc)
        return reference_bytes(layout)


# --- writing many files ------------------------------------------------------------------

WRITERS = 8  # threads: each file is still written, fsynced and swapped in on its own
_PARALLEL_FROM = 4


def run_all(jobs: Sequence[Callable[[], object]]) -> list[object]:
    """Run ``jobs`` (file writes: a temporary file, its fsync, the swap) several at a time; each
    one's result, or the ``Exception`` it raised, in order. An fsync waits for the disk, not the
    processor: run together, the file system commits their journals together (a pass of 300
    receipts waited 1.2 s for its fsyncs one by one, 0.2 s eight at a time), and every file is
    still on disk before it takes its name, as with one at a time."""
    def guarded(job):
        try:
            return job()
        except Exception as exc:  # handed to the caller, which knows what a failure means
            return exc

    if len(jobs) < _PARALLEL_FROM:
        return [guarded(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=min(WRITERS, len(jobs)), thread_name_prefix="officeflow-write") as pool:
        return list(pool.map(guarded, jobs))

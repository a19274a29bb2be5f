"""The data rows of a register as SpreadsheetML, spliced into a workbook XlsxWriter built.

XlsxWriter spends about 10 µs per cell (argument checks, a cell tuple, an XML
writer call); a 100,000-row register has 1.2 million cells, which alone broke
the 10 s budget. XlsxWriter still builds the whole workbook — styles, table,
totals, conditional formats, the 汇总 sheet — around an empty data range; the
rows are then encoded here, one precompiled cell maker per column, and
streamed into that range while the package is copied. Memory stays flat: the
frame is a few kilobytes and rows are written in chunks.

Every value is written as an inline string or a number, never a formula, and
text is escaped exactly as Excel expects (XML entities, ``_xHHHH_``).
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from xlsxwriter.utility import xl_col_to_name

from automation.record.registers.cells import excel_serial, safe_text

CHUNK_ROWS = 2000
# Excel reads "_x0041_" in a string as "A"; a literal one keeps its underscore escaped.
_ESCAPED_LOOKALIKE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_NON_CHARACTERS = {"\r": "_x000D_", "\ufffe": "_xFFFE_", "\uffff": "_xFFFF_"}

CellMaker = Callable[[str, object], str]


def escape_text(text: str) -> str:
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "_x" in text:
        text = _ESCAPED_LOOKALIKE.sub(r"_x005F\1", text)
    for char, code in _NON_CHARACTERS.items():
        if char in text:
            text = text.replace(char, code)
    return text


def text_cell(ref: str, value: object) -> str:
    text = safe_text(value)
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c r="{ref}" t="inlineStr"><is><t{space}>{escape_text(text)}</t></is></c>'


def wrapped_text_maker(style: int) -> CellMaker:
    """Text with a cell style (wrapping, or top alignment): the same inline string, styled."""
    styled = f' s="{style}" t="inlineStr"><is><t'

    def cell(ref: str, value: object) -> str:
        text = safe_text(value)
        space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
        return f'<c r="{ref}"{styled}{space}>{escape_text(text)}</t></is></c>'
    return cell


def flag_cell(ref: str, value: object) -> str:
    return text_cell(ref, ("是" if value else "否") if isinstance(value, bool) else value)


def _styled_flag(style: int) -> CellMaker:
    styled = wrapped_text_maker(style)

    def cell(ref: str, value: object) -> str:
        return styled(ref, ("是" if value else "否") if isinstance(value, bool) else value)
    return cell


def _number_text(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    return None


def number_maker(style: int) -> CellMaker:
    def cell(ref: str, value: object) -> str:
        number = _number_text(value)
        if number is None:  # not a number after all: show it, as text, rather than fail the register
            return text_cell(ref, value)
        return f'<c r="{ref}" s="{style}"><v>{number}</v></c>'
    return cell


def serial_maker(style: int) -> CellMaker:
    def cell(ref: str, value: object) -> str:
        if not isinstance(value, date):
            return text_cell(ref, value)
        return f'<c r="{ref}" s="{style}"><v>{excel_serial(value)!r}</v></c>'
    return cell


def cell_makers(kinds: Sequence[str], styles: dict[str, int | None], *, wrapped: Sequence[bool] = (),
                wrap_style: int | None = None, text_style: int | None = None) -> list[CellMaker]:
    """One cell maker per column; ``styles`` maps a number kind to its XF index; text columns
    flagged in ``wrapped`` use ``wrap_style``."""
    makers = []
    missing = [kind for kind in kinds if kind in styles and styles[kind] is None]
    if missing:
        raise ValueError(f"no cell style was registered for {missing}")
    wrapped = list(wrapped) or [False] * len(kinds)
    for kind, wrap in zip(kinds, wrapped):
        if wrap and wrap_style is not None and kind == "text":
            makers.append(wrapped_text_maker(wrap_style))
        elif text_style is not None and kind in ("text", "bool"):
            makers.append(wrapped_text_maker(text_style) if kind == "text" else _styled_flag(text_style))
        elif kind in ("date", "datetime"):
            makers.append(serial_maker(styles[kind]))
        elif kind in styles:
            makers.append(number_maker(styles[kind]))
        else:
            makers.append(flag_cell if kind == "bool" else text_cell)
    return makers


# A cell's XML after its reference depends on its value only: a value seen before in the same
# column (a customer, a day, a status) is taken from a memo instead of being made again. Only
# values whose equality means equal text are memoised (str, dates, ints, bools: not Decimal,
# where 1.0 == 1.00); at most MEMO_VALUES per column, so unique values cost no memory.
MEMO_VALUES = 4096
_MEMO_TYPES = frozenset({str, date, datetime, int, bool})


def encode_rows(rows: Iterable[tuple], makers: list[CellMaker], first_row: int,
                heights: dict[int, float] | None = None, *, memo: bool = True) -> Iterator[str]:
    """Rows as ``<row>`` elements, ``CHUNK_ROWS`` at a time; ``first_row`` is 1-based;
    ``heights`` maps a row's index in ``rows`` to its height in points.

    ``memo`` False encodes every cell afresh: the reference the memo is tested against
    (tests/test_registers_fastpaths.py)."""
    if not memo:
        yield from _encode_rows_plain(rows, makers, first_row, heights)
        return
    yield from _chunked(_memo_rows(rows, makers, first_row), heights)


def _chunked(rows: Iterable[tuple[int, str, str]], heights: dict[int, float] | None) -> Iterator[str]:
    """``(index, row number, cells)`` as ``<row>`` elements, ``CHUNK_ROWS`` to a chunk."""
    heights = heights or {}
    chunk: list[str] = []
    for i, n, cells in rows:
        height = heights.get(i)
        tall = f' ht="{height:g}" customHeight="1"' if height else ""
        chunk.append(f'<row r="{n}"{tall}>{cells}</row>')
        if len(chunk) >= CHUNK_ROWS:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def _memo_rows(rows: Iterable[tuple], makers: list[CellMaker], first_row: int) -> Iterator[tuple[int, str, str]]:
    letters = _letters(len(makers))
    columns = [(f'<c r="{letter}', letter, make, {}) for letter, make in zip(letters, makers)]
    for i, row in enumerate(rows):
        n = str(first_row + i)
        cells = []
        for (head, letter, make, seen), v in zip(columns, row):
            if v is None or v == "":
                continue
            kind = type(v)
            if kind in _MEMO_TYPES:
                key = (kind, v)
                rest = seen.get(key)
                if rest is None:
                    cell = make(letter + n, v)
                    cells.append(cell)
                    if len(seen) < MEMO_VALUES and cell.startswith(head + n + '"'):
                        seen[key] = cell[len(head) + len(n):]
                    continue
                cells.append(head + n + rest)
            else:
                cells.append(make(letter + n, v))
        yield i, n, "".join(cells)


_LETTERS: list[str] = []


def _letters(count: int) -> list[str]:
    """Column letters A, B, …: made once (a changed row is encoded alone, thousands of times a render)."""
    while len(_LETTERS) < count:
        _LETTERS.append(xl_col_to_name(len(_LETTERS)))
    return _LETTERS[:count]


def _encode_rows_plain(rows: Iterable[tuple], makers: list[CellMaker], first_row: int,
                       heights: dict[int, float] | None = None) -> Iterator[str]:
    columns = list(zip([xl_col_to_name(i) for i in range(len(makers))], makers))

    def plain() -> Iterator[tuple[int, str, str]]:
        for i, row in enumerate(rows):
            n = str(first_row + i)
            yield i, n, "".join(make(letter + n, v) for (letter, make), v in zip(columns, row) if v is not None and v != "")
    yield from _chunked(plain(), heights)


def split_after_row(sheet_xml: str, row: int) -> tuple[str, str]:
    start = sheet_xml.find(f'<row r="{row}"')
    end = sheet_xml.find("</row>", start) if start >= 0 else -1
    if end < 0:
        raise ValueError(f"row {row} not found in the worksheet frame")
    at = end + len("</row>")
    return sheet_xml[:at], sheet_xml[at:]


def copy_package_around(frame: bytes, dest: Path, part: str,
                        write_part: Callable[[zipfile.ZipFile, zipfile.ZipInfo, bytes], None]) -> None:
    """Copy the package ``frame`` to ``dest`` part for part, ``part`` written by ``write_part(out, info, data)``."""
    with zipfile.ZipFile(io.BytesIO(frame)) as src, \
            zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == part:
                write_part(out, info, data)
            else:
                out.writestr(info, data)


def splice_rows(frame: bytes, dest: Path, part: str, after_row: int, chunks: Iterable[str]) -> None:
    """Copy the package ``frame`` to ``dest``, streaming ``chunks`` into ``part`` after row ``after_row``."""
    def write_part(out: zipfile.ZipFile, _info: zipfile.ZipInfo, data: bytes) -> None:
        head, tail = split_after_row(data.decode("utf-8"), after_row)
        with out.open(part, "w", force_zip64=True) as fh:
            fh.write(head.encode("utf-8"))
            for chunk in chunks:
                fh.write(chunk.encode("utf-8"))
            fh.write(tail.encode("utf-8"))

    copy_package_around(frame, dest, part, write_part)


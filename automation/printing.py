"""How OfficeFlow's workbooks and documents print: A4, margins, titles repeated, rows tall enough.

One place for the page setup of every output (registers, dashboard, task files,
returned copies, receipts, blank forms), so they all print alike. The row-height
estimate exists because neither Excel nor every viewer grows a row to fit
wrapped text that was written by a program: a row left at the default height
shows only the first line of a long message.
"""

from __future__ import annotations

import math

A4_XLSXWRITER = 9  # XlsxWriter's paper index for A4
# Inches, as both libraries take them: narrow enough to give the table room, wide enough for any printer.
MARGINS = {"left": 0.5, "right": 0.5, "top": 0.7, "bottom": 0.7}
HEADER_MARGIN = FOOTER_MARGIN = 0.3
LINE_POINTS = 15.0  # one line of 11 pt text, as Excel spaces it
# One line of wrapped Chinese text: the CJK fonts (Noto Sans CJK, 等线, 宋体) are taller than Calibri,
# and LibreOffice draws a row of two such lines in 30 pt with the bottom of the second one cut off.
CJK_LINE_POINTS = 17.0
PAGE_FOOTER = "&C第 &P 页,共 &N 页"


def display_width(text: str) -> int:
    """Width in Excel character units: CJK and full-width characters count twice."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def lines_needed(text: str, width: float) -> int:
    """Lines ``text`` wraps into in a column ``width`` characters wide (explicit line breaks kept)."""
    room = max(width - 1, 1)
    return sum(max(1, math.ceil(display_width(part) / room)) for part in str(text).split("\n"))


def row_height(lines: int, line: float = LINE_POINTS) -> float:
    return line * max(1, lines)


def setup_openpyxl(ws, *, landscape: bool, fit_height: bool = False, title_rows: str | None = None,
                   footer: bool = True) -> None:
    """A4 page setup of an openpyxl worksheet: one page wide; one page tall only if ``fit_height``."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, (1 if fit_height else 0)
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    for side, inches in MARGINS.items():
        setattr(ws.page_margins, side, inches)
    ws.page_margins.header, ws.page_margins.footer = HEADER_MARGIN, FOOTER_MARGIN
    ws.print_options.horizontalCentered = True
    if title_rows:
        ws.print_title_rows = title_rows
    if footer:
        ws.oddFooter.center.text = "第 &P 页,共 &N 页"


def setup_xlsxwriter(ws, *, landscape: bool, fit_height: bool = False, repeat_row: int | None = None,
                     footer: bool = True) -> None:
    """The same page setup for an XlsxWriter worksheet (``repeat_row`` is 0-based)."""
    ws.set_paper(A4_XLSXWRITER)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(1, 1 if fit_height else 0)
    ws.set_margins(**MARGINS)
    ws.center_horizontally()
    if repeat_row is not None:
        ws.repeat_rows(repeat_row)
    if footer:
        ws.set_footer(PAGE_FOOTER, {"margin": FOOTER_MARGIN})

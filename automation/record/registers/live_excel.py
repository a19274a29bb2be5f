"""Optional live-Excel mode: update a register that is open in Excel instead of replacing it.

Only on Windows or macOS with Excel running and the ``excel`` extra (xlwings)
installed; everywhere else registers are plain files. Everything xlwings-specific
stays in this module.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Sequence

FILE, LIVE = "file", "live"


def _excel_running() -> bool:
    import xlwings  # imported late: an optional extra, absent on most machines

    try:
        return xlwings.apps.count > 0
    except Exception:  # xlwings raises platform-specific errors when Excel is unreachable
        return False


def choose_backend(mode: str) -> str:
    """'live' only when asked for and possible; otherwise the file mode."""
    if mode != LIVE or sys.platform not in ("win32", "darwin"):
        return FILE
    if importlib.util.find_spec("xlwings") is None:
        return FILE
    return LIVE if _excel_running() else FILE


def open_book(path: Path):
    """The running Excel workbook showing ``path``, or None if it is not open."""
    import xlwings  # imported late: an optional extra, absent on most machines

    target = str(Path(path).resolve()).lower()
    for app in xlwings.apps:
        for book in app.books:
            if str(book.fullname).lower() == target:
                return book
    return None


def update_open_workbook(path: Path, sheet: str, rows: Sequence[tuple], *, first_row: int = 3) -> bool:
    """Write ``rows`` into the open workbook's register sheet; False if it is not open.

    Values go through as values: xlwings assigns Python values to cells, and text
    cells are set to the text number format first so Excel never parses them.
    """
    book = open_book(path)
    if book is None:
        return False
    ws = book.sheets[sheet]
    used = ws.used_range.last_cell.row
    if used >= first_row:
        ws.range((first_row, 1), (used, ws.used_range.last_cell.column)).clear_contents()
    if rows:
        target = ws.range((first_row, 1)).resize(len(rows), len(rows[0]))
        target.number_format = "@"
        target.value = [list(r) for r in rows]
    book.save()
    return True

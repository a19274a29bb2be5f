"""The zip-level receipt's cells are remembered across receipts: a warm memo writes what a cold one does.

``sheet_writer.sheet_xml`` keeps each cell's XML after its reference by (text, style number) for the
whole process; the sheet of a receipt written with the memo full of other receipts' cells must be
the bytes of the one written with it empty (the zip-level receipt itself equals XlsxWriter's,
tests/test_sheet_writer.py).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from test_sheet_writer import _views, finished_office  # noqa: F401 (the fixture)

from automation.act import receipts, sheet_writer


def _sheet(view, tz, now) -> bytes:
    book = sheet_writer.Book()
    receipts._layout_receipt(book, view, now=now, tz=tz)
    return sheet_writer.sheet_xml(book, sheet_writer.frame_of(book))


def test_receipt_sheet_written_with_a_warm_memo_equals_one_written_with_a_cold_one(finished_office):
    tz, now = ZoneInfo(finished_office.rt.settings.time.timezone), finished_office.now
    views = _views(finished_office)
    assert len(views) >= 3
    for view in views:
        sheet_writer._CELLS_SEEN.clear()
        cold = _sheet(view, tz, now)
        for other in views:
            _sheet(other, tz, now)
        assert sheet_writer._CELLS_SEEN
        assert _sheet(view, tz, now) == cold, view.number

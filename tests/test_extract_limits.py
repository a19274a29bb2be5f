"""Reading stays bounded whatever a workbook claims about itself."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from support.forms import build_blank, fill_xlsx, repo_specs

from automation import samples
from automation.errors import UnsafeFileError
from automation.forms.xlsx_reader import MAX_ITEM_ROWS, read_xlsx


def _stretch_table(path, last_row):
    book = openpyxl.load_workbook(path)
    for ws in book.worksheets:
        for table in ws.tables.values():
            if table.displayName == "明细":
                start = table.ref.split(":")[0]
                end_col = "".join(ch for ch in table.ref.split(":")[1] if ch.isalpha())
                table.ref = f"{start}:{end_col}{last_row}"
                if table.autoFilter is not None:
                    table.autoFilter.ref = table.ref
    book.save(path)


def test_table_claiming_a_million_rows_reads_only_the_rows_that_exist(tmp_path):
    values, items = samples.sales_contract("上海甲公司", date(2026, 11, 23))
    path = fill_xlsx(build_blank("sales_contract", tmp_path), values, items)
    _stretch_table(path, 1_048_576)
    raw, _, _ = read_xlsx(path, repo_specs()["sales_contract"])
    # The stretched table now also covers the labels printed below it: those rows are read
    # (they hold cells) but nothing past the sheet's last used row is ever touched.
    assert raw["明细"][0]["品名"] == "工业控制器" and Decimal(str(raw["明细"][0]["单价"])) == Decimal("1000")
    assert len(raw["明细"]) < 40


def test_table_with_too_many_filled_rows_is_refused(tmp_path):
    values, items = samples.sales_contract("上海甲公司", date(2026, 11, 23))
    path = fill_xlsx(build_blank("sales_contract", tmp_path), values, items)
    book = openpyxl.load_workbook(path)
    ws = next(ws for ws in book.worksheets if "明细" in ws.tables)
    table = ws.tables["明细"]
    first_row = int("".join(ch for ch in table.ref.split(":")[0] if ch.isdigit()))
    ws.cell(row=first_row + MAX_ITEM_ROWS + 5, column=1, value="填到很远的一行")
    book.save(path)
    _stretch_table(path, first_row + MAX_ITEM_ROWS + 10)
    with pytest.raises(UnsafeFileError) as err:
        read_xlsx(path, repo_specs()["sales_contract"])
    assert err.value.code == "table-too-long"

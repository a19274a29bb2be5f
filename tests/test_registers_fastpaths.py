"""The fast paths of the register writer: 大写 from cached groups, rows streamed as XML.

Each is checked against the slow path it replaces: cn2an for the amounts, and
openpyxl reading back what a user would see.
"""

from datetime import date, datetime
from decimal import Decimal

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st

from automation.forms.parsers import upper_amount
from automation.record.registers.definitions import REGISTERS
from automation.record.registers.upper import upper
from automation.record.registers.writer import write_register

CONTRACTS = REGISTERS["合同台账"]
RENDERED_AT = datetime(2026, 11, 23, 10, 0)


def _row(**changes) -> tuple:
    values = {"合同编号": "HT-2026-0001", "客户名称": "华东机电有限公司", "合同金额": Decimal("120345.67"),
              "大写": upper(Decimal("120345.67")), "签订日期": date(2026, 11, 2), "交货日期": date(2026, 11, 16),
              "应发货日期": date(2026, 11, 3), "付款方式": "账期", "已回款": Decimal("0.00"),
              "未收款": Decimal("120345.67"), "审批完成日期": date(2026, 11, 2),
              "审批人": "李经理", "状态": "已生成", "文件": "outbox/contracts/HT-2026-0001.docx", **changes}
    return tuple(values[h] for h in CONTRACTS.headers)


def _render(tmp_path, rows):
    path = tmp_path / "合同台账.xlsx"
    write_register(path, CONTRACTS, rows, rendered_at=RENDERED_AT)
    return openpyxl.load_workbook(path)["合同台账"]


@settings(max_examples=400, deadline=None)
@given(st.integers(min_value=0, max_value=10**14 - 1))
def test_upper_reads_every_amount_as_cn2an_does(cents):
    amount = Decimal(cents) / 100
    assert upper(amount) == upper_amount(amount)


def test_upper_agrees_on_zero_runs_across_groups():
    for text in ("0", "0.05", "0.5", "10.05", "100010000", "100000001", "400002000.4", "101000000",
                 "200000000.01", "999999999999.99", "1000000000000", "-5"):
        assert upper(Decimal(text)) == upper_amount(Decimal(text)), text
    assert upper(None) == ""


def test_streamed_rows_keep_tricky_text_exactly(tmp_path):
    tricky = ["<r><t>rich</t></r>", " 前后空格 ", "A&B <公司>", "第一行\n第二行", '=HYPERLINK("http://x")']
    ws = _render(tmp_path, [_row(客户名称=text) for text in tricky])
    cells = [ws.cell(r, 2) for r in range(3, 3 + len(tricky))]
    assert [c.value for c in cells] == tricky
    assert all(c.data_type == "s" for c in cells)


def test_streamed_rows_are_typed_with_the_column_formats(tmp_path):
    ws = _render(tmp_path, [_row(), _row(合同金额=Decimal("-0.01"), 签订日期=None)])
    assert (ws["C3"].value, ws["C3"].number_format) == (120345.67, "#,##0.00")
    assert (ws["E3"].value, ws["E3"].number_format) == (datetime(2026, 11, 2), "yyyy-mm-dd")
    assert ws["C4"].value == -0.01 and ws["E4"].value is None
    assert ws["A5"].value == "合计" and ws.max_row == 5


def test_a_value_of_the_wrong_type_is_shown_as_text_not_lost(tmp_path):
    ws = _render(tmp_path, [_row(签订日期="2026年11月2日", 交货日期=12)])
    assert (ws["E3"].value, ws["E3"].data_type) == ("2026年11月2日", "s")
    assert (ws["F3"].value, ws["F3"].data_type) == ("12", "s")


def test_temp_file_of_a_killed_render_is_removed_by_the_next_render(tmp_path):
    # What a render killed with SIGKILL between writing and swapping leaves behind.
    leftover = tmp_path / ".合同台账.k1ll3d.tmp"
    leftover.write_bytes(b"half a workbook")
    other = tmp_path / ".客户台账.abc.tmp"
    other.write_bytes(b"another register's render, maybe still running")
    _render(tmp_path, [_row()])
    assert not leftover.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".客户台账.abc.tmp", "合同台账.xlsx"]


def test_registers_print_landscape_on_one_page_width_with_the_header_repeated(tmp_path):
    from support.registers import make_settings, make_store, populate

    from automation.record.registers.definitions import weekdays_between
    from automation.record.registers.render import rebuild_all

    store, settings = make_store(tmp_path), make_settings(tmp_path)
    populate(store)
    rebuild_all(store, settings, today=date(2026, 11, 23), workdays_between=weekdays_between)
    ws = openpyxl.load_workbook(settings.registers / "合同台账.xlsx")["合同台账"]
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize in (9, "9")
    # fitToWidth defaults to 1 when omitted; fitToHeight 0 means "as many pages as needed".
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1, "1")
    assert ws.page_setup.fitToHeight in (0, "0")
    assert ws.print_title_rows


def _parts(path) -> dict:
    import zipfile

    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        return {name: zf.read(name) for name in zf.namelist() if name != "docProps/core.xml"}


def _tricky_rows(count: int) -> list[tuple]:
    """Repeated customers, terms, days and approvers (the memos' hits), a unique number and file per row
    (their misses, past the memo's size), long text that wraps, Decimals equal but written differently."""
    import random

    from automation.record.registers import sheetxml

    rng = random.Random(5)
    customers = ["华东机电有限公司", "A&B <公司>", " 前后空格 ", "第一行\n第二行", '=HYPERLINK("http://x")', "_x0041_公司",
                 "远方" * 40]
    rows = []
    for i in range(count):
        amount = Decimal(rng.randrange(1, 10**9)) / 100
        rows.append(_row(合同编号=f"HT-2026-{i:06d}", 客户名称=rng.choice(customers),
                         合同金额=rng.choice([amount, Decimal("1.0"), Decimal("1.00"), Decimal(1)]),
                         大写=upper(amount), 签订日期=date(2026, 1 + i % 12, 1 + i % 28),
                         交货日期=rng.choice([None, date(2026, 11, 16), "2026年11月2日"]),
                         付款方式=rng.choice(["账期", "预付", "", None, 30, True]),
                         审批人=rng.choice(["李经理", "李经理、赵财务", "李经理、赵财务、钱总经理、孙董事长、周监事" * 3]),
                         状态=rng.choice(["已生成", "生成失败"]), 文件=f"outbox/contracts/HT-2026-{i:06d}.docx"))
    assert count > sheetxml.MEMO_VALUES
    return rows


def test_the_fast_full_writer_equals_the_plain_one_part_for_part(tmp_path, monkeypatch):
    """write_register's fast way (frame built for one row and moved, cells and line counts from memos,
    tallies grouping by grouping) writes the same package as the plain way, part for part; and a memo
    that drifts (a cached cell answering for another value) is caught by the comparison."""
    from automation.record.registers import layout, sheetxml, summary

    monkeypatch.setattr(sheetxml, "MEMO_VALUES", 50)  # the memos fill up inside a small register
    monkeypatch.setattr(layout, "MEMO_TEXTS", 50)
    rows = _tricky_rows(400)
    fast, plain = tmp_path / "fast.xlsx", tmp_path / "plain.xlsx"
    write_register(fast, CONTRACTS, rows, rendered_at=RENDERED_AT)
    write_register(plain, CONTRACTS, rows, rendered_at=RENDERED_AT, reference=True)
    a, b = _parts(fast), _parts(plain)
    assert sorted(a) == sorted(b) and all(a[n] == b[n] for n in a), [n for n in a if a[n] != b[n]]
    assert summary.tallies_of(CONTRACTS, rows) == summary.tallies_by_row(CONTRACTS, rows)
    ws = openpyxl.load_workbook(fast)["合同台账"]
    assert ws.max_row == len(rows) + 3 and ws["B3"].value == rows[0][1]
    assert any(ws.row_dimensions[r].height for r in range(3, 40))  # rows made tall by the wrapped text

    # the check bites: a memo keyed too loosely (Decimal 1.0 answering for 1.00) shows in the parts
    monkeypatch.setattr(sheetxml, "_MEMO_TYPES", sheetxml._MEMO_TYPES | {Decimal})
    write_register(fast, CONTRACTS, rows, rendered_at=RENDERED_AT)
    assert _parts(fast)["xl/worksheets/sheet1.xml"] != b["xl/worksheets/sheet1.xml"]


def test_each_register_of_a_small_office_is_written_the_same_both_ways(tmp_path):
    from support.registers import make_store, populate

    from automation.record.registers.definitions import REGISTERS as ALL, RenderContext

    store = make_store(tmp_path)
    populate(store)
    ctx = RenderContext(today=date(2026, 11, 23))
    with store.read() as conn:
        for name, register in ALL.items():
            rows = register.rows(conn, ctx)
            write_register(tmp_path / f"{name}.fast.xlsx", register, rows, rendered_at=RENDERED_AT)
            write_register(tmp_path / f"{name}.plain.xlsx", register, rows, rendered_at=RENDERED_AT, reference=True)
            assert _parts(tmp_path / f"{name}.fast.xlsx") == _parts(tmp_path / f"{name}.plain.xlsx"), name

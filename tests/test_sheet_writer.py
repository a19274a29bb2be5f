"""Receipts (回执) and 审批单 written at zip level (act/sheet_writer) are the workbooks XlsxWriter writes, cell for cell.

The layout code is the one written for XlsxWriter; the zip-level writer records it and
writes the sheet as XML into a package XlsxWriter built once. These tests render real
cases of the real pipeline both ways and compare everything a reader or a printer sees;
a drift of the zip-level writer (a height, a style, a link, the print setup) fails them.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from support.e2e import CUSTOMER, MONDAY, Office
from support.sheets import described, differences

from automation import samples
from automation.act import approval_record, receipts, sheet_writer
from automation.clock import Clock
from automation.record import schema as s


def _views(office) -> list:
    with office.rt.store.read() as conn:
        cases = [dict(r) for r in conn.execute(s.cases.select().order_by(s.cases.c.id)).mappings()]
        return [receipts.load_view(conn, case) for case in cases]


def _both(tmp_path, view, name: str, tz: ZoneInfo, now: datetime):
    fast, reference = tmp_path / f"{name}-zip.xlsx", tmp_path / f"{name}-xlsxwriter.xlsx"
    book = sheet_writer.Book()
    receipts._layout_receipt(book, view, now=now, tz=tz)
    fast.write_bytes(sheet_writer.render(book))  # the zip-level writer itself, never its fallback
    reference.write_bytes(receipts.render_receipt_xlsxwriter(view, now=now, tz=tz))
    return fast, reference


@pytest.fixture(scope="module")
def finished_office(tmp_path_factory, customer_workspace):
    """An approved contract (with its contract and 审批单 linked), a rejected one with an awkward comment,
    one waiting in approval. Built once for the module: the tests only read it."""
    root = tmp_path_factory.mktemp("receipts") / "ws"
    shutil.copytree(customer_workspace, root)
    office = Office(root=root, clock=Clock(fixed=datetime.combine(MONDAY, time(9, 30), Clock().tz)))
    for quantity in (3, 7, 9):
        values, items = samples.sales_contract(CUSTOMER, office.today, quantity=quantity)
        office.submit("sales_contract", values, items)
    office.run()
    contracts = [c for c in office.cases() if c["form_id"] == "sales_contract"]
    office.approve_all(contracts[0]["number"])
    office.decide_in_cell("吴强", "驳回", " 价格 <b>&amp; _x0041_ 低于底价\n请核对" + "价格低于底价" * 12,
                          contracts[1]["number"])
    office.run()
    yield office
    office.close()


def test_receipt_at_zip_level_equals_the_xlsxwriter_receipt_cell_for_cell(finished_office, tmp_path):
    office = finished_office
    tz, now = ZoneInfo(office.rt.settings.time.timezone), office.now
    views = _views(office)
    assert {v.status for v in views} >= {"approved", "rejected", "in_approval"}
    assert any(v.approval_record for v in views) and any(len(v.history) > 1 for v in views)
    for view in views:
        fast, reference = _both(tmp_path, view, view.number, tz, now)
        assert differences(reference, fast) == [], view.number
    facts = described(fast)["申请回执"]
    assert facts["print"][:2] == ("portrait", 9) and facts["print"][15]  # A4 portrait, header row repeated
    assert facts["merges"] and facts["heights"] and len(facts["widths"]) == len(receipts.RECEIPT_WIDTHS)


def test_receipt_link_to_the_approval_record_is_the_same_relative_link(finished_office, tmp_path):
    office = finished_office
    tz = ZoneInfo(office.rt.settings.time.timezone)
    view = next(v for v in _views(office) if v.approval_record)
    fast, reference = _both(tmp_path, view, "linked", tz, office.now)
    links = [c.hyperlink.target for row in openpyxl.load_workbook(fast).active.iter_rows() for c in row if c.hyperlink]
    assert links == [c.hyperlink.target for row in openpyxl.load_workbook(reference).active.iter_rows()
                     for c in row if c.hyperlink]
    assert links and links[0].startswith("..\\..\\") and links[0].endswith("审批单.xlsx")


def test_formula_looking_comment_stays_text_in_the_zip_level_receipt(finished_office, tmp_path):
    office = finished_office
    [view] = [v for v in _views(office) if v.status == "rejected"]
    view.history[-1]["comment"] = '=HYPERLINK("http://x","点我")'
    fast, reference = _both(tmp_path, view, "hostile", ZoneInfo(office.rt.settings.time.timezone), office.now)
    with zipfile.ZipFile(fast) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
        assert b"<f>" not in sheet and b"<f " not in sheet and "xl/sharedStrings.xml" not in zf.namelist()
    cells = [c for row in openpyxl.load_workbook(fast).active.iter_rows() for c in row
             if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.data_type == "s" for c in cells)
    assert differences(reference, fast) == []


def test_receipt_written_by_the_pipeline_is_the_zip_level_one(finished_office):
    office = finished_office
    for path in office.receipts("王芳"):
        with zipfile.ZipFile(path) as zf:
            assert b't="inlineStr"' in zf.read("xl/worksheets/sheet1.xml") and "xl/sharedStrings.xml" not in zf.namelist()


def test_parts_copied_from_the_frame_memo_are_the_bytes_a_fresh_compression_gives(finished_office):
    """The core part (its stamp) and the workbook part (its title row) are compressed once per value and
    copied after that: every receipt's package is byte for byte the one compressing them afresh gives."""
    office = finished_office
    tz = ZoneInfo(office.rt.settings.time.timezone)
    created = datetime(2026, 3, 2, 1, 30, 5, tzinfo=ZoneInfo("UTC"))
    for view in _views(office):
        book = sheet_writer.Book()
        receipts._layout_receipt(book, view, now=office.now, tz=tz)
        frame = sheet_writer.frame_of(book)
        frame.repeated.clear()
        fresh = sheet_writer.render(book, created=created)
        assert frame.repeated  # the memo was filled ...
        assert sheet_writer.render(book, created=created) == fresh  # ... and copying from it changes no byte
        later = sheet_writer.render(book, created=created + timedelta(seconds=1))
        with zipfile.ZipFile(io.BytesIO(later)) as zf:
            assert zf.testzip() is None and b"2026-03-02T01:30:06Z" in zf.read("docProps/core.xml")


def _text_xml_every_step(text: str) -> str:
    """The text escapes applied one after another to every text (the plain texts' shortcut skipped)."""
    import re

    if "_x" in text:
        text = re.sub(r"(_x[0-9a-fA-F]{4}_)", r"_x005F\1", text)
    text = re.sub(r"([\x00-\x08\x0b-\x1f])", lambda m: f"_x{ord(m.group(1)):04X}_", text)
    text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<t{space}>{text}</t>"


@pytest.mark.parametrize("text", [
    "", "申请回执", "等待 吴强 审批", " 前导空格", "尾随空格 ", "\t制表", "换行\n第二行", "回车\r", "a&b", "<b>", "x>y",
    "_x0041_", "_x00", "_xZZZZ_", "控制\x01\x1f", "\ufffe\uffff", "\u3000全角空格", "价格 <b>&amp; _x0041_ 低于底价\n请核对",
    "external:../../archive/审批单.xlsx", "2026-03-02 09:30", "1,234.50"])
def test_plain_text_shortcut_writes_what_every_escape_writes(text):
    assert sheet_writer._text_xml(text) == _text_xml_every_step(text)


def test_comparison_of_receipts_sees_a_changed_cell(finished_office, tmp_path):
    office = finished_office
    tz = ZoneInfo(office.rt.settings.time.timezone)
    first, second = _views(office)[-2:]
    a, _ = _both(tmp_path, first, "a", tz, office.now)
    b, _ = _both(tmp_path, second, "b", tz, office.now)
    assert differences(a, b)


def test_layout_call_the_zip_level_writer_lacks_falls_back_to_xlsxwriter():
    def layout(wb):
        ws = wb.add_worksheet("表")
        ws.write_string(0, 0, "冻结", wb.add_format({"bold": True}))
        ws.freeze_panes(1, 0)  # not a call of the one-sheet layouts

    with pytest.raises(sheet_writer.Unsupported):
        layout(sheet_writer.Book())
    data = sheet_writer.workbook_bytes(layout)
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws["A1"].value == "冻结" and ws["A1"].font.b and ws.freeze_panes == "A2"


def _records(office) -> list[dict]:
    return [r for r in office.rows_of(s.outputs) if r["kind"] == approval_record.KIND]


def test_approval_record_at_zip_level_equals_the_xlsxwriter_one_cell_for_cell(finished_office, tmp_path):
    office = finished_office
    records = _records(office)
    finished = [c for c in office.cases() if c["status"] in approval_record.ENDED]
    assert len(records) >= 2 and {c["status"] for c in finished} >= {"approved", "rejected"}
    for case in finished:
        case, inputs = approval_record.record_inputs(office.rt, case["id"])
        fast, reference = tmp_path / f"{case['number']}-zip.xlsx", tmp_path / f"{case['number']}-xlsxwriter.xlsx"
        book = sheet_writer.Book()
        approval_record._layout(book, case, **inputs)
        fast.write_bytes(sheet_writer.render(book))
        reference.write_bytes(approval_record.render_xlsxwriter(case, **inputs))
        assert differences(reference, fast) == [], case["number"]
        facts = described(fast)[approval_record.SHEET]
        assert facts["print"][:2] == ("portrait", 9) and facts["print"][15] and len(facts["merges"]) > 10
    # the sales contract's 明细 table spans the trail's columns: merged cells in its rows
    assert any(c["form_id"] == "sales_contract" and c["status"] == "approved" for c in finished)


def test_approval_record_written_by_the_pipeline_is_the_zip_level_one(finished_office):
    office = finished_office
    for record in _records(office):
        with zipfile.ZipFile(office.root / record["path"]) as zf:
            assert b't="inlineStr"' in zf.read("xl/worksheets/sheet1.xml") and "xl/sharedStrings.xml" not in zf.namelist()


def test_approval_records_read_together_have_the_inputs_read_one_case_at_a_time(finished_office):
    office = finished_office
    ids = [c["id"] for c in office.cases()]  # finished or not: the batch reads whatever it is given
    together = approval_record.records_inputs(office.rt, ids)
    assert [case["id"] for case, _ in together] == sorted(ids)
    for case, inputs in together:
        alone_case, alone = approval_record.record_inputs(office.rt, case["id"])
        assert case == alone_case
        head, alone_head = inputs.pop("last_audit"), alone.pop("last_audit")
        assert (head.id, head.hash) == (alone_head.id, alone_head.hash)
        assert inputs == alone
    assert any(inputs["steps"] for _, inputs in together) and any(inputs["contract"] for _, inputs in together)


def test_receipt_state_keys_of_the_live_cases_equal_those_of_reading_every_case(finished_office):
    office = finished_office
    cases = office.cases()
    receipted = {r["case_id"] for r in office.rows_of(s.receipts)}
    with office.rt.store.read() as conn:
        full = receipts._versions(conn)
        finished = receipts._versions(conn, s.cases.c.status.in_(receipts.FINISHED))
        assert set(finished) == {c["id"] for c in cases if c["status"] in receipts.FINISHED} != set(full)
        for since in (office.now - timedelta(days=400), office.now + timedelta(days=1)):
            history = {c["id"] for c in cases if c["status"] in receipts.FINISHED and c["decided_at"] < since}
            live = receipts._versions(conn, receipts._live(since))
            assert set(live) == (set(full) - history) | receipted
            assert {k: full[k] for k in live} == live

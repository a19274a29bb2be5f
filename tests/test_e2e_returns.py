"""A form with several mistakes comes back to its applicant annotated, and the store links
the archived original to the returned copy."""

from __future__ import annotations

import json

import openpyxl
from support.e2e import (
    set_text,
)

from automation import samples

RED = "FFC7CE"


def _cell_of(wb, key: str):
    sheet, coord = next(iter(wb.defined_names[key].destinations))
    return wb[sheet][coord.replace("$", "")]


def test_form_with_several_bad_values_comes_back_annotated_and_is_linked_in_the_store(office):
    values = samples.customer_registration(71, office.today)
    path = office.form("customer_registration", values)
    bad_code = values["统一社会信用代码"][:-1] + ("0" if values["统一社会信用代码"][-1] != "0" else "1")
    set_text(path, {"统一社会信用代码": bad_code, "联系电话": "12345", "客户等级": "D"})
    office.drop(path, "有错的客户登记.xlsx")
    office.run()

    [sub] = office.submissions()
    assert (sub["status"], sub["reason_code"], sub["case_id"]) == ("returned", "form-invalid", None)
    original = office.root / sub["dest_path"]
    returned = office.root / sub["extra_path"]
    assert original.parent.parent == office.outbox / "archive" and original.exists()
    assert returned.parent == office.outbox / "requests" / "王芳" and returned.exists()
    assert not list((office.root / "inbox").iterdir())
    assert office.cases() == []

    wb = openpyxl.load_workbook(returned)
    assert wb.sheetnames[0] == "处理结果"
    summary = "\n".join(str(c.value) for row in wb["处理结果"].iter_rows() for c in row if c.value is not None)
    for key in ("统一社会信用代码", "联系电话", "客户等级"):
        cell = _cell_of(wb, key)
        assert cell.fill.fgColor.rgb.endswith(RED), key
        assert cell.comment is not None and cell.comment.text.strip(), key
        assert key in summary
    untouched = _cell_of(wb, "客户名称")
    assert not (untouched.fill.fgColor.rgb or "").endswith(RED) and untouched.comment is None
    # The original itself is archived unchanged: no result sheet, no marks.
    assert "处理结果" not in openpyxl.load_workbook(original).sheetnames


def _returned_then_fixed(office) -> dict:
    values = samples.customer_registration(72, office.today)
    path = office.form("customer_registration", values)
    set_text(path, {"联系电话": "12345", "客户等级": "D"})
    office.drop(path, "第一次.xlsx")
    office.run()
    [returned] = office.returned("王芳")
    set_text(returned, {"联系电话": "13812345678", "客户等级": "B"})
    office.drop(returned, "改好了.xlsx")
    office.run()
    return office.case(form_id="customer_registration")


def test_corrected_returned_copy_dropped_back_in_opens_the_case(office):
    case = _returned_then_fixed(office)
    assert [s_["status"] for s_ in office.submissions()] == ["returned", "archived"]
    assert case["status"] == "in_approval" and office.open_holders(case["number"]) == ["吴强"]
    assert office.case_values(case)["联系电话"] == "13812345678"


def test_task_file_of_a_corrected_form_does_not_show_the_old_problems(office):
    case = _returned_then_fixed(office)
    book = openpyxl.load_workbook(office.task("吴强", case["number"]))
    assert "处理结果" not in book.sheetnames
    marks = [c.coordinate for ws in book.worksheets for row in ws.iter_rows() for c in row
             if c.comment is not None or (c.fill.fill_type == "solid" and str(c.fill.start_color.rgb).endswith("FFC7CE"))]
    assert marks == []


def test_complaint_numbers_tie_follow_ups_and_an_invented_one_is_refused(office):
    from automation import samples
    from automation.record import schema as s

    first = samples.complaint(office.today)
    office.submit("complaint", first)
    office.run()
    [record] = office.rows(s.complaints)
    assert record["number"].startswith("TS-")
    follow_up = dict(first, 投诉编号=record["number"], 处理方案="更换风扇组件")
    office.submit("complaint", follow_up)
    invented = dict(samples.complaint(office.today, content="另一件事"), 投诉编号="TS-2099-0001")
    office.submit("complaint", invented)
    office.run()
    outcomes = [(x["status"], x["reason_code"]) for x in office.submissions()]
    assert outcomes == [("archived", "accepted"), ("archived", "accepted"), ("returned", "form-invalid")]
    problems = json.loads(office.submissions()[-1]["problems"])
    assert [p["code"] for p in problems if p["level"] == "error"] == ["complaint-number-unknown"]
    assert len(office.rows(s.complaints)) == 1

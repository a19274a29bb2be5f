"""The printable 审批单 of a finished case, and 抄送 copies that carry the outcome and the trail."""

from __future__ import annotations

import shutil
from decimal import Decimal
from urllib.parse import unquote

import openpyxl
from support.e2e import CUSTOMER, Office, edit_policy

from automation import samples
from automation.record import schema as s

BIG = dict(amount_each=Decimal("60000.00"), payment="账期", special="质保期延长至三年")  # 吴强 → 孙丽 → 周文 → 赵建国


def _contract(office: Office, **options) -> dict:
    values, items = samples.sales_contract(CUSTOMER, office.today, **options)
    office.submit("sales_contract", values, items)
    office.run()
    case = office.case(form_id="sales_contract")
    assert case["status"] == "in_approval", office.submissions()[-1]["reason"]
    return case


def _cells(path) -> list[tuple]:
    ws = openpyxl.load_workbook(path)["审批单"]
    return [tuple(v for v in row) for row in ws.iter_rows(values_only=True)]


def _pairs(rows) -> dict:
    return {r[0]: r[3] for r in rows if r[0] and len(r) > 3 and r[3] is not None and r[1] is None}


def _table(rows, first: str) -> list[tuple]:
    start = next(i for i, r in enumerate(rows) if r[0] == first)
    out = []
    for r in rows[start + 1:]:
        if r[0] is None or r[0] in ("审批记录", "审计指纹", "明细"):
            break
        out.append(r)
    return out


def _record(office: Office, case: dict):
    [row] = [r for r in office.rows_of(s.outputs) if r["kind"] == "approval-record" and r["key"] == case["number"]]
    return office.root / row["path"]


def test_approved_case_has_an_approval_record_with_every_step_and_comment(customer_office):
    office = customer_office
    case = _contract(office, **BIG)
    comments = {"吴强": "同意,注意回款", "孙丽": "账期可以接受", "周文": "条款已审", "赵建国": "同意签订"}
    for person in ("吴强", "孙丽", "周文", "赵建国"):
        office.decide_in_cell(person, "同意", comments[person], case["number"])
        office.run()
    assert office.case(case["number"])["status"] == "approved"
    path = _record(office, case)
    assert path.parent == (office.root / case["source_file"]).parent  # the case's archive folder
    assert path.name == f"{case['number']} 销售合同审批表 审批单.xlsx"
    rows = _cells(path)
    assert rows[0][0] == "销售合同审批表 · 审批单"
    fields = _pairs(rows)
    [contract] = office.rows(s.contracts, s.contracts.c.case_id == case["id"])
    assert (fields["申请编号"], fields["结果"], fields["合同编号"], fields["申请人"]) == \
        (case["number"], "通过", contract["number"], "王芳")
    assert fields["客户名称"] == CUSTOMER and fields["表单数据指纹(SHA-256)"] == case["fingerprint"]
    assert fields["折扣率"] == "2.00%"  # a percent field reads as on the form, not 0.02
    last = office.audit()[-1]
    assert fields["审计链记录"].endswith(office.rows(s.audit_log, s.audit_log.c.subject == case["number"])[-1]["hash"])
    assert last  # the chain exists
    trail = _table(rows, "轮次")
    assert [(r[4], r[5], r[6]) for r in trail] == [(p, "同意", comments[p]) for p in ("吴强", "孙丽", "周文", "赵建国")]
    assert all(r[7] for r in trail)  # every step has its time
    items = _table(rows, "品名")
    assert items and items[0][0] == "工业控制器"
    ws = openpyxl.load_workbook(path)["审批单"]
    assert int(ws.page_setup.paperSize) == 9 and ws.sheet_properties.pageSetUpPr.fitToPage  # A4, fitted
    assert int(ws.page_setup.fitToWidth or 1) == 1 and int(ws.page_setup.fitToHeight) == 0  # one page wide
    receipt = [p for p in office.receipts("王芳") if p.name.startswith(case["number"] + " ")][0]
    receipt_fields = {r[0]: r[1] for r in openpyxl.load_workbook(receipt).worksheets[0].iter_rows(values_only=True)}
    assert receipt_fields["审批单"] == office.rt.rel(path)
    link = next(c for row in openpyxl.load_workbook(receipt).worksheets[0].iter_rows() for c in row
                if c.value == office.rt.rel(path)).hyperlink
    target = unquote(link.target).replace("\\", "/")  # stored the way Excel stores relative links
    assert (receipt.parent / target).resolve() == path.resolve()  # the link opens the 审批单


def test_rejected_and_withdrawn_cases_get_an_approval_record_too(customer_office):
    office = customer_office
    first = _contract(office)
    office.decide_in_cell("吴强", "驳回", "价格低于底价", first["number"])
    office.run()
    rows = _cells(_record(office, first))
    assert _pairs(rows)["结果"] == "驳回"
    assert [(r[4], r[5], r[6]) for r in _table(rows, "轮次")] == [("吴强", "驳回", "价格低于底价")]

    values, items = samples.sales_contract(CUSTOMER, office.today, quantity=3)
    office.submit("sales_contract", values, items)
    office.run()
    second = [c for c in office.cases() if c["form_id"] == "sales_contract" and c["id"] != first["id"]][0]
    [receipt] = [p for p in office.receipts("王芳") if p.name.startswith(second["number"] + " ")]
    (receipt.parent / "撤回").mkdir(exist_ok=True)
    shutil.move(receipt, receipt.parent / "撤回" / receipt.name)
    office.run()
    rows = _cells(_record(office, second))
    assert _pairs(rows)["结果"] == "已撤回" and _pairs(rows).get("合同编号") in (None, "")
    assert [r[8] for r in _table(rows, "轮次")] == ["已取消"]


def test_cc_copy_after_approval_is_marked_with_the_outcome_and_trail_and_no_instructions(customer_office):
    office = customer_office
    case = _contract(office)
    assert office.files("cc", "褚红") == []  # 抄送 时机 通过后 by default
    office.decide_in_cell("吴强", "同意", "可以", case["number"])
    office.run()
    [copy] = office.files("cc", "褚红")
    wb = openpyxl.load_workbook(copy)
    assert wb.sheetnames[0] == "抄送"
    first = [r[0] for r in wb["抄送"].iter_rows(values_only=True)]
    assert first[0] == "抄送 · 仅供知悉" and first[1].startswith(f"已通过 · 编号 {case['number']} · 合同编号 ")
    trail = [r for r in wb["抄送"].iter_rows(min_row=7, values_only=True) if r[0]]
    assert [(r[4], r[5], r[6]) for r in trail] == [("吴强", "同意", "可以")]
    text = "\n".join(str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c)
    assert "放入 inbox" not in text and "即可提交" not in text


def test_cc_timing_at_submission_and_both(customer_office):
    office = customer_office

    def both(ws):
        cols = {str(c.value): c.column for c in ws[1] if c.value} or {}
        if "时机" not in cols:
            cols = next({str(c.value): c.column for c in r if c.value} for r in ws.iter_rows(max_row=6)
                        if any(c.value == "时机" for c in r))
        for row in ws.iter_rows(min_row=2):
            if row[0].value == "销售合同审批表":
                ws.cell(row[0].row, cols["时机"], "两者")

    edit_policy(office.root, "抄送", both)
    case = _contract(office)
    [at_submission] = office.files("cc", "褚红")
    sheet = openpyxl.load_workbook(at_submission)["抄送"]
    assert sheet["A1"].value == "抄送 · 仅供知悉"
    assert sheet["A2"].value.startswith(f"已提交 · 编号 {case['number']} · 等待 吴强 审批")
    office.approve("吴强", case["number"])
    office.run()
    names = sorted(p.name for p in office.files("cc", "褚红"))
    assert names == [f"{case['number']} 销售合同审批表 审批中.xlsx", f"{case['number']} 销售合同审批表 已通过.xlsx"]


def test_approval_record_marks_transfer_and_both_sign_modes_with_who_and_when_and_has_a_pdf(tmp_path):
    """吴强 前加签 周文, gets the task back and 转交 冯磊; 冯磊 同意 and 后加签 卫东; 卫东 同意. The 审批单 says
    who handed the task to whom and who was added before or after, with the time — and, with LibreOffice,
    a PDF of it lies beside it, linked from the receipt."""
    from support.e2e import set_named
    from support.printing import pdf_facts, soffice, squeeze

    office = Office.create(tmp_path, approval_record_pdf=soffice() is not None)
    try:
        office.submit("customer_registration", samples.customer_registration(7, office.today))
        office.run()
        number = office.case(form_id="customer_registration")["number"]
        steps = [("吴强", dict(审批结论="加签", 加签人="周文", 加签方式="前加签", 审批意见="请法务先看")),
                 ("周文", dict(审批结论="同意", 审批意见="资质无误")),
                 ("吴强", dict(审批结论="转交", 转交给="冯磊", 审批意见="本周出差")),
                 ("冯磊", dict(审批结论="加签", 加签人="卫东", 加签方式="后加签", 审批意见="请技术部看看")),
                 ("卫东", dict(审批结论="同意", 审批意见="可以"))]
        for person, inputs in steps:
            set_named(office.task(person, number), inputs)
            office.run()
        case = office.case(number)
        assert case["status"] == "approved"
        path = _record(office, case)
        trail = _table(_cells(path), "轮次")
        when = [r[7] for r in trail]
        assert [(r[4], r[5], r[6]) for r in trail] == [
            ("吴强", "加签", "请法务先看"), ("周文", "同意", "资质无误"), ("吴强", "转交", "本周出差"),
            ("冯磊", "同意", "请技术部看看"), ("卫东", "同意", "可以")]
        assert [r[8] for r in trail] == [
            "前加签 周文,待其审批后返回",
            f"吴强({when[0]}) 前加签加入",
            "前加签人审批后返回本人;转交给 冯磊",
            f"由 吴强({when[2]}) 转交;同意并后加签 卫东",
            f"冯磊({when[3]}) 后加签加入"]
        [receipt] = [p for p in office.receipts("王芳") if p.name.startswith(number + " ")]
        rows = list(openpyxl.load_workbook(receipt).worksheets[0].iter_rows(values_only=True))
        start = next(i for i, r in enumerate(rows) if r[0] == "轮次")
        assert [r[3] for r in rows[start + 1:start + 6]] == ["加签 周文(前加签)", "同意", "转交 冯磊", "同意,后加签 卫东", "同意"]
        if soffice() is None:
            return
        pdf = path.with_suffix(".pdf")
        assert pdf.exists()
        facts = pdf_facts(pdf)
        assert facts.all_a4 and facts.pages == 1
        text = squeeze(facts.text)
        assert squeeze("由 吴强") in text and squeeze(number) in text and squeeze("同意并后加签 卫东") in text
        [receipt] = [p for p in office.receipts("王芳") if p.name.startswith(number + " ")]
        shown = {r[0]: r[1] for r in openpyxl.load_workbook(receipt).worksheets[0].iter_rows(values_only=True)}
        assert shown["审批单 PDF"] == office.rt.rel(pdf)
    finally:
        office.close()


def test_a_failed_pdf_of_the_approval_record_is_reported_once_and_the_excel_one_stands(tmp_path, monkeypatch):
    """A LibreOffice that fails (here a stand-in that exits with an error, first on PATH): the 审批单
    stays as Excel, `officeflow status` shows an alert, and the next passes do not start it again."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.txt"
    fake = bin_dir / "soffice"
    fake.write_text(f"#!/bin/sh\necho run >> '{calls}'\necho 'broken profile' >&2\nexit 3\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    office = Office.create(tmp_path / "office", approval_record_pdf=True)
    try:
        office.submit("customer_registration", samples.customer_registration(9, office.today))
        office.run()
        number = office.case(form_id="customer_registration")["number"]
        office.approve("吴强", number)
        office.run()
        office.run()
        assert office.case(number)["status"] == "approved"
        path = _record(office, office.case(number))
        assert path.exists() and not path.with_suffix(".pdf").exists()
        [alert] = [a for a in office.rows_of(s.alerts) if a["kind"] == "approval-record-pdf-failed"]
        assert alert["subject"] == number and "转换 PDF 失败" in alert["message"]
        assert calls.read_text().count("run") == 1  # tried once, not once per pass
        [receipt] = [p for p in office.receipts("王芳") if p.name.startswith(number + " ")]
        shown = {r[0]: r[1] for r in openpyxl.load_workbook(receipt).worksheets[0].iter_rows(values_only=True)}
        assert shown["审批单"] == office.rt.rel(path) and "审批单 PDF" not in shown
    finally:
        office.close()

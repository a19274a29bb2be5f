"""Issue 6 acceptance through the pipeline: registers rendered from real cases, formula-looking
form values kept as text in every register, and ``officeflow registers rebuild``."""

from __future__ import annotations

from decimal import Decimal

import openpyxl
from support.e2e import (
    CREDIT,
    CUSTOMER,
    Office,
    register_rows,
    set_item_text,
    set_text,
)

from automation import samples

PAYLOADS = ('=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)", "-1+2")
REGISTER_NAMES = ("审批台账", "客户台账", "合同台账", "报销台账", "投诉台账", "退货台账", "坏账台账")


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _expense(office: Office, **overrides) -> dict:
    values, items = samples.expense_claim(office.today)
    line = overrides.pop("line", {})
    path = office.form("expense_claim", values, items)
    if overrides:
        set_text(path, overrides)
    if line:
        set_item_text(path, 1, line)
    office.drop(path)
    office.run()
    return office.case(form_id="expense_claim")


def _complaint(office: Office, **values) -> dict:
    office.submit("complaint", {**samples.complaint(office.today, customer=CUSTOMER), **values})
    office.run()
    return office.case(form_id="complaint")


def test_registers_hold_one_row_per_record_with_the_right_values(customer_office):
    office = customer_office
    claim = _expense(office)
    office.approve_all(claim["number"])
    complaint = _complaint(office)
    office.approve_all(complaint["number"])
    folder = office.outbox / "registers"

    customers = register_rows(folder / "客户台账.xlsx")
    assert [(r["客户名称"], r["等级"], r["负责销售员"], r["部门"], _money(r["信用额度"]), r["账期天数"])
            for r in customers] == [(CUSTOMER, "B", "王芳", "销售一部", CREDIT, 60)]
    expenses = register_rows(folder / "报销台账.xlsx")
    assert [(r["报销单号"], r["报销人"], r["类别"], _money(r["金额"]), r["月份"]) for r in expenses] == [
        (claim["number"], "王芳", "市内交通", Decimal("86.00"), f"{office.today:%Y-%m}")]
    complaints = register_rows(folder / "投诉台账.xlsx")
    assert [(r["客户"], r["类型"], r["严重程度"]) for r in complaints] == [(CUSTOMER, "产品质量", "一般")]
    assert complaints[0]["投诉编号"].startswith(f"TS-{office.today.year}-")
    approvals = register_rows(folder / "审批台账.xlsx")
    assert sorted((r["表单"], r["状态"], r["结果"]) for r in approvals) == sorted([
        ("客户登记表", "已批准", "同意"), ("客户信用额度申请表", "已批准", "同意"),
        ("费用报销单", "已批准", "同意"), ("客户投诉处理单", "已批准", "同意")])

    wb = openpyxl.load_workbook(folder / "审批台账.xlsx")
    ws = wb.worksheets[0]
    table = next(iter(ws.tables.values()))
    assert ws.freeze_panes and table.autoFilter is not None and "汇总" in wb.sheetnames

    # Rebuild from the store: the files come back with the same rows.
    for path in folder.glob("*.xlsx"):
        path.unlink()
    office.close()
    result = office.cli("registers", "rebuild")
    assert result.returncode == 0, result.stderr
    assert {p.stem for p in folder.glob("*.xlsx")} >= {*REGISTER_NAMES, "看板"}
    assert register_rows(folder / "客户台账.xlsx") == customers
    assert register_rows(folder / "审批台账.xlsx") == approvals


def test_form_values_that_look_like_formulas_stay_text_in_every_register(office):
    name, shell, at_sum, minus = PAYLOADS
    values = samples.customer_registration(61, office.today, name=name)
    path = office.form("customer_registration", {**values, "客户名称": "占位"})
    set_text(path, {"客户名称": name, "地址": shell, "备注": at_sum})
    office.drop(path)
    office.run()
    customer = office.case(form_id="customer_registration")
    assert customer["status"] == "in_approval", office.submissions()[-1]["reason"]
    office.approve_all(customer["number"])

    _expense(office, line={"事由": name})
    # 部门 must agree with 人员 now, so a formula-looking 部门 never reaches a register: it is refused.
    path = office.form("expense_claim", *samples.expense_claim(office.today))
    set_text(path, {"部门": minus})
    office.drop(path)
    office.run()
    assert "department-mismatch" in (office.submissions()[-1]["problems"] or "")
    office.submit("complaint", {**samples.complaint(office.today, customer=shell, content=name), "责任部门": at_sum})
    office.submit("complaint", samples.complaint(office.today, customer=minus, content=name))
    office.run()

    found: dict[str, set[str]] = {p: set() for p in PAYLOADS}
    for path in sorted((office.outbox / "registers").glob("*.xlsx")):
        for ws in openpyxl.load_workbook(path).worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if cell.value in PAYLOADS:
                        assert cell.data_type == "s", (path.name, ws.title, cell.coordinate, cell.value)
                        found[cell.value].add(path.stem)
                    elif cell.data_type == "f":
                        assert not any(p[1:] in str(cell.value) for p in PAYLOADS), (path.name, cell.value)
    assert "客户台账" in found[name]
    assert "投诉台账" in found[shell]
    assert "投诉台账" in found[at_sum]
    assert "投诉台账" in found[minus]


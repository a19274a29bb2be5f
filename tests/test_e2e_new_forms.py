"""F9–F13 end to end through real folders: the built blank form filled in and dropped into
inbox/, the real pipeline, each approver deciding by moving the task file into 同意/, then the
store, the task files, the copies and the register workbooks read back."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
from sqlalchemy import select
from support.e2e import CUSTOMER, MONDAY, customer_office, customer_workspace, office, register_rows
from support.new_forms import (
    approve_case,
    approved_contract,
    cell,
    leave,
    loan,
    receipt,
    seal,
    status_change,
    submit_and_route,
    verdict,
)

from automation import samples
from automation.record import codec
from automation.record import schema as s
from automation.record.registers.render import rebuild_all

__all__ = ["office", "customer_office", "customer_workspace"]


def _task_names(office, person: str) -> list[str]:
    return [p.name for p in office.tasks(person)]


def _approval_sheet(path: Path) -> dict[str, object]:
    ws = openpyxl.load_workbook(path)["审批"]
    return {row[0].value: row[1].value for row in ws.iter_rows(min_row=1, max_col=2) if row[0].value}


def _decide_each(office, number: str, chain: list[str]) -> None:
    """Each approver of ``chain`` in turn holds exactly this case's task, approves it, and hands on."""
    for i, person in enumerate(chain):
        assert office.open_holders(number) == [person]
        assert [n for n in _task_names(office, person) if n.startswith(number)], person
        assert all(not office.tasks(later) for later in chain[i + 1:] if later != person)
        office.approve(person, number)
        office.run()
    assert office.open_holders(number) == []


def _summary_lines(path: Path) -> list[tuple]:
    ws = openpyxl.load_workbook(path)["汇总"]
    return [tuple(c.value for c in row) for row in ws.iter_rows() if any(c.value is not None for c in row)]


def _rebuild(office, day) -> None:
    rt = office.rt
    rebuild_all(rt.store, rt.settings, today=day, workdays_between=rt.calendar.workdays_between)


# --- F9 请假单 ------------------------------------------------------------------------------

def test_leave_of_four_days_goes_to_the_manager_then_the_general_manager_and_lands_in_its_register(office):
    # Wed 25 – Mon 30 November: 4 working days, left blank so the form computes them.
    case = submit_and_route(office, "leave_request", leave(MONDAY, 结束日期=MONDAY + timedelta(days=7)))
    number = case["number"]
    assert number.startswith("QJ-202611-")
    assert office.case_values(case)["天数"] == 4

    _decide_each(office, number, ["吴强", "赵建国"])

    assert office.case(number)["status"] == "approved"
    assert [p.name for p in office.files("cc", "孙丽")] == [f"{number} 请假单 已通过.xlsx"]
    [record] = office.rows(s.form_records)
    assert (record["register"], record["status"], codec.loads(record["data"])["天数"]) == ("请假台账", "已批准", 4)
    register = office.outbox / "registers" / "请假台账.xlsx"
    [row] = register_rows(register)
    assert (row["编号"], row["申请人"], row["假别"], row["天数"], row["月份"], row["状态"]) == (
        number, "王芳", "事假", 4, "2026-11", "已批准")
    lines = _summary_lines(register)
    assert ("王芳 · 2026-11", 1, 4) in lines and ("王芳 · 事假", 1, 4) in lines
    summed = [row[2] for row in openpyxl.load_workbook(register)["汇总"].iter_rows() if isinstance(row[2].value, int)]
    assert summed and {c.number_format for c in summed} == {"0"}, "days are summed as days, not as money"


def test_leave_of_a_department_manager_goes_to_the_general_manager_only(office):
    case = submit_and_route(office, "leave_request", leave(MONDAY, 申请人="冯磊", 部门="销售二部", 工作交接人="陈静"))
    assert office.open_holders(case["number"]) == ["赵建国"]
    assert not office.tasks("冯磊")


def test_short_leave_needs_only_the_department_manager(office):
    case = submit_and_route(office, "leave_request", leave(MONDAY))
    _decide_each(office, case["number"], ["吴强"])
    assert office.case(case["number"])["status"] == "approved"
    assert not office.tasks("赵建国")


# --- F12 用印申请单 ---------------------------------------------------------------------------

def test_seal_taken_out_goes_keeper_then_sales_manager_and_is_highlighted_once_overdue(office):
    values = seal(MONDAY, 是否带离="是", 预计归还日期=MONDAY + timedelta(days=2))
    case = submit_and_route(office, "seal_request", values)
    number = case["number"]
    assert number.startswith("YY-202611-")
    _decide_each(office, number, ["褚红", "吴强"])
    assert office.case(number)["status"] == "approved"

    register = office.outbox / "registers" / "用印台账.xlsx"
    [row] = register_rows(register)
    assert (row["编号"], row["印章类型"], row["份数"], row["是否带离"], row["是否超期"], row["状态"]) == (
        number, "公章", 3, "是", "否", "已批准")
    _rebuild(office, MONDAY + timedelta(days=7))
    [row] = register_rows(register)
    assert row["是否超期"] == "是"
    ws = openpyxl.load_workbook(register)["用印台账"]
    [rule] = [r.formula[0] for cf in ws.conditional_formatting for r in cf.rules]
    assert '="是"' in rule


def test_contract_seal_names_an_approved_contract(customer_office):
    office = customer_office
    contract = approved_contract(office, payment="预付款")
    case = approve_case(office, "seal_request", seal(office.today, 印章类型="合同专用章", 关联合同编号=contract))
    assert office.case(case["number"])["status"] == "approved"
    [row] = register_rows(office.outbox / "registers" / "用印台账.xlsx")
    assert row["印章类型"] == "合同专用章"


# --- F11 回款登记单: a receipt frees the customer's credit -----------------------------------

def test_customer_at_its_credit_limit_is_refused_until_a_receipt_is_approved(customer_office):
    office = customer_office
    first = approved_contract(office, amount_each=Decimal("90000.00"), quantity=10)  # 900,000 = the whole limit
    values, items = samples.sales_contract(CUSTOMER, office.today, payment="账期")  # 10,000 more

    office.submit("sales_contract", values, items)
    office.run()
    refused = office.submissions()[-1]
    assert refused["outcome"] == "returned"
    assert any(p["message"] == "超出信用额度,须现款现货或先办理超信审批。" for p in json.loads(refused["problems"]))

    case = submit_and_route(office, "payment_receipt", receipt(first, Decimal("10000.00"), office.today))
    assert case["number"].startswith("HK-202611-")
    _decide_each(office, case["number"], ["吴强", "孙丽"])
    assert office.case(case["number"])["status"] == "approved"
    [paid] = office.rows(s.receivables, s.receivables.c.kind == "receipt")
    assert (paid["contract_number"], paid["amount"]) == (first, Decimal("-10000.00"))

    office.submit("sales_contract", values, items)  # the same contract again
    office.run()
    assert office.submissions()[-1]["outcome"] == "archived"
    assert office.case(form_id="sales_contract")["status"] == "in_approval"

    folder = office.outbox / "registers"
    [receipt_row] = register_rows(folder / "回款台账.xlsx")
    assert (receipt_row["合同"], Decimal(str(receipt_row["回款金额"])), receipt_row["凭证类型"]) == (
        first, Decimal("10000.00"), "银行到款通知单")
    money = [row[2] for row in openpyxl.load_workbook(folder / "回款台账.xlsx")["汇总"].iter_rows()
             if isinstance(row[2].value, (int, float))]
    assert money and {c.number_format for c in money} == {"#,##0.00"}, "amounts are summed as money"
    [contract_row] = [r for r in register_rows(folder / "合同台账.xlsx") if r["合同编号"] == first]
    assert (Decimal(str(contract_row["已回款"])), Decimal(str(contract_row["未收款"]))) == (
        Decimal("10000.00"), Decimal("890000.00"))
    [customer] = [r for r in register_rows(folder / "客户台账.xlsx") if r["客户名称"] == CUSTOMER]
    assert (Decimal(str(customer["已回款"])), Decimal(str(customer["未收款"]))) == (
        Decimal("10000.00"), Decimal("890000.00"))


def test_a_receipt_lowers_what_a_bad_debt_may_write_off(customer_office):
    office = customer_office
    contract = approved_contract(office)  # 10,000.00
    approve_case(office, "payment_receipt", receipt(contract, Decimal("4000.00"), office.today))
    write_off = {"客户名称": CUSTOMER, "原合同编号": contract, "核销金额": Decimal("6000.01"), "账龄天数": 400,
                 "原因": "客户经营困难", "办事处经理": "沈涛", "区域经理": "韩冰", "内务主管": "杨柳", "申请人": "王芳",
                 "申请日期": office.today}
    office.submit("bad_debt", write_off)
    office.run()
    assert office.submissions()[-1]["outcome"] == "returned"
    office.submit("bad_debt", {**write_off, "核销金额": Decimal("6000.00")})
    office.run()
    assert office.submissions()[-1]["outcome"] == "archived"


# --- F13 客户状态变更单: the blacklist takes effect ------------------------------------------

def test_a_customer_put_on_the_blacklist_gets_the_next_contract_back_with_the_blacklist_message(customer_office):
    office = customer_office
    case = submit_and_route(office, "customer_status", status_change(office.today))
    assert case["number"].startswith("KZ-202611-")
    _decide_each(office, case["number"], ["吴强", "赵建国"])
    assert office.case(case["number"])["status"] == "approved"
    [customer] = office.rows(s.customers, s.customers.c.name == CUSTOMER)
    assert customer["status"] == "黑名单"
    [history] = office.rows(s.customer_status_history)
    assert (history["old_status"], history["new_status"], history["number"]) == ("正常", "黑名单", case["number"])
    [row] = [r for r in office.register("客户台账") if r["客户名称"] == CUSTOMER]
    assert row["状态"] == "黑名单" and case["number"] in row["状态变更记录"]

    values, items = samples.sales_contract(CUSTOMER, office.today)
    office.submit("sales_contract", values, items)
    office.run()
    back = office.submissions()[-1]
    assert back["outcome"] == "returned"
    messages = [p["message"] for p in json.loads(back["problems"])]
    assert f"客户「{CUSTOMER}」已列入黑名单,不能签订合同。" in messages


def test_stopping_a_customer_needs_only_the_department_manager(customer_office):
    office = customer_office
    case = submit_and_route(office, "customer_status", status_change(office.today, state="停用", 原因="客户已注销"))
    _decide_each(office, case["number"], ["吴强"])
    [customer] = office.rows(s.customers, s.customers.c.name == CUSTOMER)
    assert customer["status"] == "停用"


# --- F10 借款单 and 冲借款 ---------------------------------------------------------------------

def test_loan_is_paid_out_then_settled_by_an_expense_claim_that_names_it(office):
    case = submit_and_route(office, "loan_request", loan(MONDAY))
    number = case["number"]
    assert number.startswith("JK-202611-")
    _decide_each(office, number, ["吴强", "李娜"])  # within 员工借款上限: no 财务经理
    [row] = office.rows(s.loans)
    assert (row["number"], row["amount"], row["status"], row["due_on"]) == (
        number, Decimal("1500.00"), "未还清", MONDAY + timedelta(days=20))

    values, items = samples.expense_claim(MONDAY)
    claim = approve_case(office, "expense_claim", {**values, "借款单号": number}, items)
    [settled] = office.rows(s.loan_settlements)
    assert (settled["loan_number"], settled["claim_number"], settled["amount"]) == (
        number, claim["number"], Decimal("86.00"))
    register = office.outbox / "registers" / "借款台账.xlsx"
    [line] = register_rows(register)
    assert (Decimal(str(line["已冲销"])), Decimal(str(line["未还"])), line["是否超期"]) == (
        Decimal("86.00"), Decimal("1414.00"), "否")
    _rebuild(office, MONDAY + timedelta(days=21))
    assert register_rows(register)[0]["是否超期"] == "是"


def test_expense_claim_cannot_settle_someone_elses_loan(office):
    """冲借款 offsets the claimant's own loan only: 陈静's claim naming 王芳's loan comes back on 借款单号."""
    case = approve_case(office, "loan_request", loan(MONDAY))
    values, items = samples.expense_claim(MONDAY, claimant="陈静", department="销售二部")
    path, problems = verdict(office, "expense_claim", {**values, "借款单号": case["number"]}, items)
    [problem] = [p for p in problems if p.is_error]
    assert (problem.field, problem.location) == ("借款单号", cell(path, "借款单号"))
    assert problem.message == (f"借款单「{case['number']}」不是报销人「陈静」本人的借款:"
                               "报销只能冲抵本人的借款,请核对借款单号。")
    assert problem.source.endswith(" · 001 · S1-R81 报销冲借款")
    mine, items = samples.expense_claim(MONDAY)  # 王芳 settling her own loan is fine
    _, problems = verdict(office, "expense_claim", {**mine, "借款单号": case["number"]}, items)
    assert not [p for p in problems if p.is_error]


def test_loan_is_decided_by_the_manager_himself_not_his_delegate_nor_handed_on(office):
    """001 · S1-R85 主管无权私自借支现金: while 吴强's 代理人 郑浩 stands in, an expense claim goes to 郑浩,
    but a loan stays with 吴强 (允许代理_借款单 = 否), and its task file offers no 转交 (允许转交_借款单 = 否)."""
    from support.e2e import edit_policy, headers

    def delegate_today(ws):
        cols = headers(ws)
        for row in range(cols["__row__"] + 1, ws.max_row + 1):
            if ws.cell(row, cols["姓名"]).value == "吴强":
                ws.cell(row, cols["代理开始"]).value = MONDAY - timedelta(days=1)
                ws.cell(row, cols["代理结束"]).value = MONDAY + timedelta(days=7)

    edit_policy(office.root, "人员", delegate_today)
    office.rt.policies.refresh(force=True)
    values, items = samples.expense_claim(MONDAY)
    claim = submit_and_route(office, "expense_claim", values, items)
    assert office.open_holders(claim["number"]) == ["郑浩"]
    case = submit_and_route(office, "loan_request", loan(MONDAY))
    assert office.open_holders(case["number"]) == ["吴强"]

    def offered(person: str, number: str) -> set[str]:
        [task] = [p for p in office.tasks(person) if p.name.startswith(number)]
        return {str(dv.formula1) for dv in openpyxl.load_workbook(task)["审批"].data_validations.dataValidation}

    assert any("转交" in f for f in offered("郑浩", claim["number"]))
    assert offered("吴强", case["number"]) and not any("转交" in f for f in offered("吴强", case["number"]))


def test_loan_above_the_staff_limit_also_goes_to_the_finance_manager(office):
    case = submit_and_route(office, "loan_request", loan(MONDAY, amount=Decimal("2000.01")))
    _decide_each(office, case["number"], ["吴强", "孙丽", "李娜"])
    assert office.case(case["number"])["status"] == "approved"


def test_a_loan_settled_in_full_is_closed(office):
    case = approve_case(office, "loan_request", loan(MONDAY, amount=Decimal("86.00")))
    values, items = samples.expense_claim(MONDAY)
    approve_case(office, "expense_claim", {**values, "借款单号": case["number"]}, items)
    with office.rt.store.read() as conn:
        assert conn.execute(select(s.loans.c.status)).scalar() == "已还清"
    # a second claim cannot settle the same loan again
    path, problems = verdict(office, "expense_claim", {**values, "借款单号": case["number"]}, items)
    [problem] = [p for p in problems if p.is_error]
    assert (problem.field, problem.location) == ("借款单号", cell(path, "借款单号"))
    assert problem.message == f"借款单「{case['number']}」已经还清,无需再冲借款。"
    assert problem.source.startswith("校验规则!") and problem.source.endswith(" · 001 · S1-R81 报销冲借款")

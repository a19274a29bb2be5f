"""One test per rule of F9–F13: a real filled form that breaks exactly that rule, checked the
way a submission is (`officeflow check` asks the same function), asserting the cell, the
message and the 依据 it cites."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from support.e2e import CUSTOMER, MONDAY, customer_office, customer_workspace, edit_policy, headers, office
from support.new_forms import (
    approved_contract,
    approved_trip,
    cell,
    errors,
    leave,
    loan,
    receipt,
    seal,
    status_change,
    verdict,
    warnings,
)

from automation import samples
from automation.act.filters import upper_rmb

__all__ = ["office", "customer_office", "customer_workspace"]
D = MONDAY
JAN4 = date(2027, 1, 4)  # a Monday more than a month ahead: 年假 may be asked for


def _only(problems, field, message, basis, path, *, level="error"):
    found = errors(problems) if level == "error" else warnings(problems)
    assert [(p.field, p.message) for p in found] == [(field, message)], [p.to_dict() for p in problems]
    [p] = found
    assert p.location == cell(path, field)
    assert p.source.startswith("校验规则!") and p.source.endswith(f" · {basis}"), p.source
    assert p.at.rule.startswith("校验规则!") and p.source.startswith(f"{p.at.rule} · "), p.at  # set by the rule
    if level == "warning":
        assert errors(problems) == []


# --- F9 请假单 -------------------------------------------------------------------------------

LEAVE_ERRORS = [
    ("end-before-start", dict(开始日期=D + timedelta(days=3), 结束日期=D + timedelta(days=2)), "结束日期",
     "「结束日期」不能早于「开始日期」。", "请假日期"),
    ("not-in-advance", dict(开始日期=D, 结束日期=D + timedelta(days=1)), "申请日期",
     "请假须事先申请:「申请日期」应早于「开始日期」;紧急情况请在「是否紧急」选“是”,可在请假第一天补办。", "001 · S1-R139"),
    ("urgent-too-late", dict(是否紧急="是", 开始日期=D - timedelta(days=3), 结束日期=D + timedelta(days=1)), "申请日期",
     "紧急请假最迟须在请假第一天补办:「申请日期」不能晚于「开始日期」。", "001 · S1-R139"),
    ("annual-not-a-month-ahead", dict(假别="年假", 开始日期=D + timedelta(days=7), 结束日期=D + timedelta(days=8)),
     "开始日期", "年假须提前 1 个月申请,请推迟「开始日期」或改选其他假别。", "001 · S1-R143"),
    ("days-disagree", dict(天数=5), "天数",
     "「天数」5 与开始、结束日期之间的工作日天数不一致;留空时系统会自动计算。", "请假天数按工作日计"),
    ("marriage-over-7", dict(假别="婚假", 开始日期=date(2026, 12, 1), 结束日期=date(2026, 12, 8)), "结束日期",
     "婚假最多 7 天(按自然日计),请核对「结束日期」。", "001 · S1-R143"),
    ("funeral-over-5", dict(假别="丧假", 开始日期=date(2026, 12, 1), 结束日期=date(2026, 12, 6)), "结束日期",
     "丧假最多 5 天(按自然日计),请核对「结束日期」。", "001 · S1-R143"),
    ("maternity-over-90", dict(假别="产假", 开始日期=date(2026, 12, 1), 结束日期=date(2027, 3, 1)), "结束日期",
     "产假最多 90 天(按自然日计),请核对「结束日期」。", "001 · S1-R143"),
    ("nursing-over-7", dict(假别="护理假", 开始日期=date(2026, 12, 1), 结束日期=date(2026, 12, 8)), "结束日期",
     "护理假最多 7 天(按自然日计),请核对「结束日期」。", "001 · S1-R143"),
]


@pytest.mark.parametrize("case,changes,field,message,basis", LEAVE_ERRORS, ids=[c[0] for c in LEAVE_ERRORS])
def test_leave_rule(office, case, changes, field, message, basis):
    path, problems = verdict(office, "leave_request", leave(D, **changes))
    _only(problems, field, message, basis, path)


TAKEN = "本年已申请的年假(审批中和已批准)加上本次 {} 天,超过了这个天数。"
LEAVE_WARNINGS = [
    ("under-3-years", dict(申请人="陈静", 部门="销售二部"), 2, "假别", "申请人工龄不满 3 年,按制度尚无年假。"),
    ("3-to-10-years", dict(), 6, "天数", "工龄满 3 年不满 10 年的年假为每年 5 天;" + TAKEN.format(6)),
    ("10-to-20-years", dict(申请人="孙丽", 部门="财务部"), 11, "天数", "工龄满 10 年不满 20 年的年假为每年 10 天;" + TAKEN.format(11)),
    ("20-years-and-more", dict(申请人="赵建国", 部门="总经办"), 16, "天数", "工龄满 20 年的年假为每年 15 天(默认值);" + TAKEN.format(16)),
]


def _workdays_from(start: date, count: int) -> date:
    day, left = start, count - 1
    while left:
        day += timedelta(days=1)
        left -= day.weekday() < 5
    return day


@pytest.mark.parametrize("case,changes,days,field,message", LEAVE_WARNINGS, ids=[c[0] for c in LEAVE_WARNINGS])
def test_annual_leave_beyond_the_entitlement_for_years_of_service_is_a_warning(office, case, changes, days, field,
                                                                               message):
    values = leave(D, 假别="年假", 开始日期=JAN4, 结束日期=_workdays_from(JAN4, days), **changes)
    path, problems = verdict(office, "leave_request", values)
    basis = "001 · S1-R143;默认值" if "默认值" in message else "001 · S1-R143"
    _only(problems, field, message, basis, path, level="warning")


def test_annual_leave_is_counted_across_the_years_slips_not_per_slip(office):
    """年休假 5 天 is a year's entitlement (001 · S1-R143): 3 days asked for, then 3 more in the same year, warn;
    a slip rejected no longer counts, and next year's leave starts afresh."""
    first = leave(D, 假别="年假", 开始日期=JAN4, 结束日期=_workdays_from(JAN4, 3))
    office.submit("leave_request", first)
    office.run()
    case = office.case(form_id="leave_request")
    assert case["status"] == "in_approval" and office.case_values(case)["天数"] == 3
    feb = date(2027, 2, 1)
    second = leave(D, 假别="年假", 开始日期=feb, 结束日期=_workdays_from(feb, 3))
    path, problems = verdict(office, "leave_request", second)
    _only(problems, "天数", "工龄满 3 年不满 10 年的年假为每年 5 天;" + TAKEN.format(3), "001 · S1-R143", path,
          level="warning")
    next_year = date(2028, 2, 7)
    _, problems = verdict(office, "leave_request", leave(D, 假别="年假", 开始日期=next_year,
                                                         结束日期=_workdays_from(next_year, 3)))
    assert problems == []
    office.decide_in_cell("吴强", "驳回", "工作安排冲突", case["number"])
    office.run()
    assert office.case(case["number"])["status"] == "rejected"
    _, problems = verdict(office, "leave_request", second)
    assert problems == []


def test_annual_leave_of_someone_without_a_hire_date_warns_the_approver(office):
    def blank_hire_date(ws):
        cols = headers(ws)
        for row in ws.iter_rows(min_row=cols["__row__"] + 1):
            if row[cols["姓名"] - 1].value == "王芳":
                row[cols["入职日期"] - 1].value = None
    edit_policy(office.root, "人员", blank_hire_date)
    path, problems = verdict(office, "leave_request", leave(D, 假别="年假", 开始日期=JAN4, 结束日期=JAN4))
    _only(problems, "假别", "人员表中没有申请人的「入职日期」,无法核对年假天数,请审批人留意。", "001 · S1-R143", path,
          level="warning")


def test_leave_within_the_rules_has_no_problem_and_its_days_are_computed(office):
    path, problems = verdict(office, "leave_request", leave(D, 假别="年假", 开始日期=JAN4, 结束日期=JAN4 + timedelta(days=1)))
    assert problems == []


# --- F12 用印申请单 ----------------------------------------------------------------------------

SEAL_ERRORS = [
    ("taken-out-without-return-date", dict(是否带离="是"), "预计归还日期", "印章带离办公室时须填写「预计归还日期」。",
     "004 · S4-R33"),
    ("return-before-application", dict(是否带离="是", 预计归还日期=D - timedelta(days=1)), "预计归还日期",
     "「预计归还日期」不能早于「申请日期」。", "004 · S4-R33"),
    ("contract-seal-without-contract", dict(印章类型="合同专用章", 关联合同编号="HT-2026-9999"), "关联合同编号",
     "使用合同专用章须填写已批准合同的「关联合同编号」。", "004 · S4-R33;默认值"),
]


@pytest.mark.parametrize("case,changes,field,message,basis", SEAL_ERRORS, ids=[c[0] for c in SEAL_ERRORS])
def test_seal_rule(office, case, changes, field, message, basis):
    path, problems = verdict(office, "seal_request", seal(D, **changes))
    _only(problems, field, message, basis, path)


# --- F10 借款单 and 冲借款 on F4 --------------------------------------------------------------

LOAN_ERRORS = [
    ("repay-later-than-a-month", dict(预计还款日期=D + timedelta(days=31)), "预计还款日期",
     "借款须在 1 个月内还清:「预计还款日期」不能晚于借款日期后 1 个月。", "001 · S1-R81, S1-R85"),
    ("travel-advance-without-trip", dict(借款类型="差旅预借", 出差申请单号="CC-202611-0099"), "出差申请单号",
     "差旅预借须填写已批准的「出差申请单号」。", "001 · S1-R157"),
]


@pytest.mark.parametrize("case,changes,field,message,basis", LOAN_ERRORS, ids=[c[0] for c in LOAN_ERRORS])
def test_loan_rule(office, case, changes, field, message, basis):
    path, problems = verdict(office, "loan_request", loan(D, **changes))
    _only(problems, field, message, basis, path)


def test_loan_amount_in_words_must_read_the_same_amount(office):
    path, problems = verdict(office, "loan_request", loan(D, 借款金额大写=upper_rmb(Decimal("1600.00"))))
    [p] = errors(problems)
    assert (p.field, p.location) == ("借款金额大写", cell(path, "借款金额大写"))
    assert "1,500.00" in p.message and "壹仟伍佰元整" in p.message
    assert p.source == "校验规则!B50 · 001 · S1-R152;「借款单」填写要求 ·「借款金额大写」"  # the rule book too
    assert p.at.rule == "校验规则!B50"


def test_travel_advance_with_an_approved_trip_is_accepted(office):
    trip = approved_trip(office)
    _, problems = verdict(office, "loan_request", loan(D, 借款类型="差旅预借", 出差申请单号=trip))
    assert problems == []


def test_expense_claim_naming_an_unknown_loan_is_refused(office):
    values, items = samples.expense_claim(D)
    path, problems = verdict(office, "expense_claim", {**values, "借款单号": "JK-202611-0099"}, items)
    _only(problems, "借款单号", "借款单「JK-202611-0099」不存在或尚未批准,请核对编号。", "001 · S1-R81 报销冲借款", path)


# --- F11 回款登记单 ----------------------------------------------------------------------------

def test_receipt_rules(customer_office):
    office = customer_office
    contract = approved_contract(office)  # 10,000.00 on 账期
    cases = [
        (receipt("HT-2026-9999", Decimal("100.00"), D), "原合同编号",
         "合同「HT-2026-9999」不存在或不属于客户「上海远航机电设备有限公司」。", "000 · R-SD-14"),
        (receipt(contract, Decimal("10000.01"), D), "回款金额",
         f"「回款金额」10,000.01 超过合同「{contract}」的未收款(已扣除之前的回款和核销)。", "001 · S1-R79"),
        (receipt(contract, Decimal("100.00"), D, 回款日期=D + timedelta(days=1)), "回款日期",
         "「回款日期」不能晚于「申请日期」。", "001 · S1-R79"),
    ]
    for values, field, message, basis in cases:
        path, problems = verdict(office, "payment_receipt", values)
        _only(problems, field, message, basis, path)


def test_receipt_without_its_voucher_number_is_refused_by_the_spec(customer_office):
    path, problems = verdict(customer_office, "payment_receipt", receipt("HT-2026-0001", Decimal("1"), D, 凭证号=None))
    found = [p for p in errors(problems) if p.field == "凭证号"]
    assert [(p.code, p.location, p.source) for p in found] == [
        ("required-missing", cell(path, "凭证号"), "「回款登记单」填写要求 ·「凭证号」")]


# --- F13 客户状态变更单 -------------------------------------------------------------------------

def test_status_change_rules(customer_office):
    office = customer_office
    cases = [
        (status_change(D, customer="未登记的客户有限公司"), "客户名称",
         "客户「未登记的客户有限公司」尚未登记,请先提交客户登记表。", "004 · S4-R02"),
        (status_change(D, state="正常"), "变更后状态",
         f"客户「{CUSTOMER}」当前状态已是「正常」,无需变更。", "004 · S4-R02"),
    ]
    for values, field, message, basis in cases:
        path, problems = verdict(office, "customer_status", values)
        _only(problems, field, message, basis, path)

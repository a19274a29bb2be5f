"""Issue 13: parameters are typed (参数!类型), and a value that does not parse is refused by
``officeflow policy check`` naming its cell and the number meant — never at a salesperson's
contract. 审批规则's 时限工作日 may be blank: then 审批时限工作日 applies."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from support.e2e import CUSTOMER, edit_policy

from automation import samples
from automation.policy.workbook import load_policy
from automation.record import schema as s


def _set_param(root, name: str, value, type_: str | None = None) -> str:
    """Write 参数!值 (and 类型) of ``name``; returns the value cell's reference."""
    where = {}

    def edit(ws):
        cols = {c.value: c.column for c in ws[1]}
        for row in range(2, ws.max_row + 1):
            if ws.cell(row, cols["名称"]).value == name:
                cell = ws.cell(row, cols["值"])
                cell.value = value
                if type_ is not None:
                    ws.cell(row, cols["类型"]).value = type_
                where["ref"] = f"参数!{cell.coordinate}"
                return
    edit_policy(root, "参数", edit)
    return where["ref"]


def _lint(office) -> tuple[int, list[dict]]:
    result = office.cli("policy", "check", "--json")
    return result.returncode, json.loads(result.stdout)["problems"]


def test_parameter_written_as_wan_is_refused_by_policy_check(office):
    ref = _set_param(office.root, "重大合同金额", "50万元")
    code, problems = _lint(office)
    assert code == 1
    [problem] = [p for p in problems if p["location"] == ref]
    assert problem["level"] == "error"
    assert f"{ref}「50万元」不是数字,请填写 500000" in problem["message"]
    text = office.cli("policy", "check")
    assert "500000" in text.stdout and text.returncode == 1


def test_parameter_written_as_bare_wan_is_read_and_policy_check_says_how(customer_office):
    """「50万」alone is unambiguous: read as 500000, and policy check prints how it read it."""
    office = customer_office
    ref = _set_param(office.root, "重大合同金额", "50万")
    code, problems = _lint(office)
    assert code == 0, problems
    [note] = [p for p in problems if p["location"] == ref]
    assert note["level"] == "warning" and f"{ref}「50万」读作 500000" in note["message"]
    office.rt.policies.refresh(force=True)
    assert office.rt.policy.param("重大合同金额") == Decimal("500000")
    values, items = samples.sales_contract(CUSTOMER, office.today, amount_each=Decimal("60000.00"), quantity=10)
    office.submit("sales_contract", values, items)
    office.run()
    case = office.case(form_id="sales_contract")
    assert "总经理" in [t["role"] for t in office.rows(s.tasks, s.tasks.c.case_id == case["id"])]


def test_contract_is_routed_by_the_last_good_policy_while_a_parameter_is_mistyped(customer_office):
    office = customer_office
    office.run()  # the good policy is in force
    _set_param(office.root, "重大合同金额", "50万元")
    office.rt.policies.refresh(force=True)
    values, items = samples.sales_contract(CUSTOMER, office.today, amount_each=Decimal("60000.00"), quantity=10)
    office.submit("sales_contract", values, items)
    office.run()
    sub = office.submissions()[-1]
    assert (sub["status"], sub["reason_code"]) == ("archived", "accepted")
    assert office.files("quarantine") == [] and office.returned("王芳") == []
    case = office.case(form_id="sales_contract")
    tasks = office.rows(s.tasks, s.tasks.c.case_id == case["id"])
    assert "总经理" in [t["role"] for t in tasks]  # 600,000 ≥ the last good 500,000
    report = (office.root / "policies" / "制度.检查结果.txt").read_text(encoding="utf-8")
    assert "请填写 500000" in report


@pytest.mark.parametrize("name, value, type_, fix", [
    ("标准折扣上限", "5", "比例", "0.25 或 25%"),
    ("审批时限工作日", "2.5", "工作日", "整数"),
    ("重要合同金额", "100,0000", "金额", "请填写"),
    ("信用复核月数", "十二", "数量", "请填写数字"),
    ("发货工作日", 1, "工期", "只能是 金额、数量"),
])
def test_parameter_that_does_not_parse_as_its_type_names_the_cell(office, name, value, type_, fix):
    _set_param(office.root, name, value, type_)
    code, problems = _lint(office)
    assert code == 1
    assert [p for p in problems if p["location"].startswith("参数!") and fix in p["message"]], problems


def test_typed_parameters_are_read_as_their_type(office):
    _set_param(office.root, "标准折扣上限", "8%")
    _set_param(office.root, "重大合同金额", "800,000")
    policy = load_policy(office.root / "policies" / "制度.xlsx")
    assert policy.param("标准折扣上限") == Decimal("0.08")
    assert policy.param("重大合同金额") == Decimal("800000")
    code, problems = _lint(office)
    assert code == 0, problems


def test_blank_time_limit_means_the_approval_time_limit_parameter(office):
    _set_param(office.root, "审批时限工作日", 4)
    office.submit("customer_registration", samples.customer_registration(5, office.today))
    office.run()
    case = office.case(form_id="customer_registration")
    [task] = office.rows(s.tasks, s.tasks.c.case_id == case["id"])
    assert task["limit_days"] == 4
    assert office.rt.policy.approval_rules_for("客户登记表")[0].limit_days is None

"""Issue 13: the rows' 顺序 orders a form's steps where role rank is not the rule book's order.
F7 退货申请单 goes 销售分部经理 → 技术部经理 (authenticity) → 部门经理 (`000 · R-SD-17`)."""

from __future__ import annotations

import json

from support.e2e import CUSTOMER, edit_policy, headers

from automation import samples
from automation.record import schema as s


def _return_request(office) -> dict:
    values, items = samples.sales_contract(CUSTOMER, office.today, payment="账期")
    office.submit("sales_contract", values, items)
    office.run()
    contract_case = office.approve_all(office.case(form_id="sales_contract")["number"])
    [contract] = office.rows(s.contracts, s.contracts.c.case_id == contract_case["id"])
    office.submit("return_request", {"原合同编号": contract["number"], "客户名称": CUSTOMER, "申请人": "王芳",
                                     "申请日期": office.today},
                  [{"品名": "工业控制器", "规格型号": "KX-200", "退货数量": 1, "退货原因": "外壳破损"}])
    office.run()
    return office.case(form_id="return_request")


def test_return_request_goes_to_the_technical_manager_before_the_department_manager(customer_office):
    office = customer_office
    case = _return_request(office)
    tasks = office.rows(s.tasks, s.tasks.c.case_id == case["id"])
    assert [(t["step_index"], t["role"], t["assignee"]) for t in tasks] == [
        (0, "销售分部经理", "郑浩"), (1, "技术部经理", "卫东"), (2, "部门经理", "吴强")]
    office.approve("郑浩", case["number"])
    office.run()
    assert office.open_holders(case["number"]) == ["卫东"]


def test_order_set_on_only_some_rows_of_a_form_is_warned_by_policy_check(office):
    def drop_one(ws):
        cols = headers(ws)
        for row in range(cols["__row__"] + 1, ws.max_row + 1):
            if ws.cell(row, cols["审批角色"]).value == "技术部经理":
                ws.cell(row, cols["顺序"]).value = None
    edit_policy(office.root, "审批规则", drop_one)
    result = office.cli("policy", "check", "--json")
    problems = json.loads(result.stdout)["problems"]
    assert result.returncode == 0  # a warning, not an error
    [warning] = [p for p in problems if p["code"] == "policy-order-partial"]
    assert warning["level"] == "warning" and "退货申请单" in warning["message"]
    assert warning["location"].startswith("审批规则!G")

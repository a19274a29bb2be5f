"""Issue 13: the blacklist is honoured from the store's customer state wherever it was set, with
its history in 客户台账; 客户交叉 involves both departments' managers; problems from the rule
books cite the rule book as well as the form's requirements."""

from __future__ import annotations

import json

from support.e2e import CUSTOMER, set_text

from automation import samples
from automation.act.effects.customer_state import change_status
from automation.act.filters import upper_rmb
from automation.record import schema as s


def _problems(office) -> list[dict]:
    sub = office.submissions()[-1]
    return json.loads(sub["problems"] or "[]")


def _blacklist(office, reason="长期拖欠货款"):
    with office.rt.store.begin() as conn:
        assert change_status(conn, CUSTOMER, "黑名单", on=office.today, reason=reason, source="导入")


def test_customer_blacklisted_in_the_store_is_refused_by_registration_credit_and_contract(customer_office):
    office = customer_office
    _blacklist(office)
    [customer] = office.rows(s.customers, s.customers.c.name == CUSTOMER)
    office.submit("credit_limit", samples.credit_limit(CUSTOMER, office.today))
    office.run()
    assert ("客户名称", "policy-rule-broken") in [(p["field"], p["code"]) for p in _problems(office) if p["level"] == "error"]
    office.submit("sales_contract", *samples.sales_contract(CUSTOMER, office.today))
    office.run()
    assert any("黑名单" in p["message"] for p in _problems(office))
    # Registering it again under another spelling, with the same credit code, is refused too.
    again = dict(samples.customer_registration(1, office.today, name="远航机电(上海)"),
                 统一社会信用代码=customer["credit_code"])
    office.submit("customer_registration", again)
    office.run()
    assert any("黑名单" in p["message"] and p["level"] == "error" for p in _problems(office))
    assert [x["status"] for x in office.submissions()[-3:]] == ["returned"] * 3

    office.close()
    assert office.cli("registers", "rebuild").returncode == 0
    [line] = [r for r in office.register("客户台账") if r["客户名称"] == CUSTOMER]
    assert line["状态"] == "黑名单"
    assert line["状态变更记录"] == f"{office.today:%Y-%m-%d} 正常→黑名单(长期拖欠货款)"


def test_customer_conflict_goes_to_both_departments_managers_who_see_who_holds_it(office):
    office.register_customer(21, name="杭州宏达电气有限公司", salesperson="陈静")
    values = dict(samples.customer_registration(22, office.today, name="杭州宏达电气"), 统一社会信用代码=None)
    office.submit("customer_registration", values)
    office.run()
    case = office.case(form_id="customer_registration")
    tasks = office.rows(s.tasks, s.tasks.c.case_id == case["id"])
    assert [(t["step_index"], t["assignee"]) for t in tasks] == [(0, "吴强"), (1, "冯磊")]
    [warning] = [w for w in json.loads(case["warnings"]) if w["field"] == "客户名称"]
    assert "陈静(销售二部)" in warning["message"] and f"{office.today:%Y-%m-%d} 起跟进" in warning["message"]
    assert "最近活动" in warning["message"]
    office.approve("吴强", case["number"])
    office.run()
    assert office.open_holders(case["number"]) == ["冯磊"]
    import openpyxl

    book = openpyxl.load_workbook(office.task("冯磊", case["number"]))
    shown = "\n".join(str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value)
    assert "陈静(销售二部)" in shown


def test_rule_book_problems_cite_the_rule_book_as_well_as_the_form(office):
    path = office.form("customer_registration", samples.customer_registration(23, office.today))
    set_text(path, {"客户等级": "D"})
    office.drop(path)
    office.run()
    [grade] = [p for p in _problems(office) if p["field"] == "客户等级"]
    assert "000 · R-CU-01" in grade["source"] and "填写要求" in grade["source"]

    values, items = samples.expense_claim(office.today)
    path = office.form("expense_claim", {**values, "合计金额大写": upper_rmb(values["合计金额"] + 1)}, items)
    office.drop(path)
    office.run()
    [upper] = [p for p in _problems(office) if p["field"] == "合计金额大写"]
    assert "001 · S1-R152" in upper["source"] and "填写要求" in upper["source"]

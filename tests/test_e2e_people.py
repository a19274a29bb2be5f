"""Issue 13: every person field is a reference to 人员. An unknown name comes back on its cell
with the closest roster name suggested; the department that routes a form is the roster's."""

from __future__ import annotations

import json

from support.e2e import CUSTOMER, set_text

from automation import samples
from automation.record import schema as s


def _errors(office) -> list[tuple[str, str, str]]:
    sub = office.submissions()[-1]
    assert (sub["status"], sub["reason_code"]) == ("returned", "form-invalid"), sub
    return [(p["field"], p["code"], p["message"]) for p in json.loads(sub["problems"]) if p["level"] == "error"]


def test_unknown_applicant_is_returned_with_suggestion(customer_office):
    office = customer_office
    values, items = samples.sales_contract(CUSTOMER, office.today)
    office.submit("sales_contract", {**values, "申请人": "王小芳", "销售员": "王小芳"}, items)
    office.run()
    errors = _errors(office)
    assert ("申请人", "person-unknown", "「申请人」王小芳不在人员名单中,您是否想写「王芳」?") in errors
    assert ("销售员", "person-unknown", "「销售员」王小芳不在人员名单中,您是否想写「王芳」?") in errors
    assert not [c for c in office.cases() if c["form_id"] == "sales_contract"]
    assert office.open_holders(office.cases()[-1]["number"]) == []  # routed to nobody
    [returned] = office.returned("王小芳")
    assert returned.suffix == ".xlsx"


def test_name_typed_with_spaces_and_full_width_letters_is_the_roster_name(office):
    values = dict(samples.customer_registration(31, office.today), 销售员=" 王　芳 ", 申请人="王 芳")
    office.submit("customer_registration", values)
    office.run()
    case = office.case(form_id="customer_registration")
    assert case["status"] == "in_approval" and case["applicant"] == "王芳"
    assert office.case_values(case)["销售员"] == "王芳"


def test_name_with_path_characters_is_returned_not_routed(office):
    values = dict(samples.customer_registration(32, office.today), 申请人="../吴强", 销售员="王芳")
    office.submit("customer_registration", values)
    office.run()
    assert ("申请人", "person-unknown") in [(f, c) for f, c, _ in _errors(office)]
    assert office.cases() == []


def test_department_field_that_disagrees_with_the_roster_is_an_error(office):
    values, items = samples.expense_claim(office.today, department="销售二部")
    office.submit("expense_claim", values, items)
    office.run()
    [(field, code, message)] = [e for e in _errors(office) if e[1] == "department-mismatch"]
    assert field == "部门" and "销售一部" in message


def test_role_of_a_department_without_a_holder_goes_to_the_applicants_superior(office):
    """钱明 (总经办) has no 部门经理 in his department: his superior decides, not the 财务部 manager."""
    values = samples.trip_request(office.today, applicant="钱明", department="总经办")
    office.submit("trip_request", values)
    office.run()
    case = office.case(form_id="trip_request")
    [task] = office.rows(s.tasks, s.tasks.c.case_id == case["id"])
    assert (task["role"], task["assignee"]) == ("部门经理", "赵建国")


def test_unknown_salesperson_in_a_typed_text_cell_is_returned(office):
    values = samples.customer_registration(33, office.today)
    path = office.form("customer_registration", values)
    set_text(path, {"销售员": "王方"})
    office.drop(path)
    office.run()
    assert ("销售员", "person-unknown", "「销售员」王方不在人员名单中,您是否想写「王芳」?") in _errors(office)

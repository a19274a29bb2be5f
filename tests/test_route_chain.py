from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest
from support.policy import default_policy, find_row, make_specs, policy_copy

from automation.policy.chain import Assignee
from automation.policy.lookups import NoLookups
from automation.policy.workbook import load_policy
from automation.route.chain import compose_route
from automation.route.resolve import holds_role_alone, resolve_role
from automation.validate.rules import check_rules

TODAY = date(2026, 11, 2)


class KnownCustomer(NoLookups):
    """A registered customer with a limit and open receivables, as the store would answer."""

    def __init__(self, limit="0", owed="0", status="正常"):
        self.limit, self.owed, self.status = D(limit), D(owed), status

    def customer_registered(self, name):
        return True

    def customer_status(self, name):
        return self.status

    def customer_credit_limit(self, name):
        return self.limit

    def customer_open_receivables(self, name):
        return self.owed


@pytest.fixture(scope="module")
def policy(tmp_path_factory):
    return load_policy(policy_copy(tmp_path_factory.mktemp("policy")), make_specs())


SPECS = make_specs()


def contract(amount="100000.00", **extra):
    values = {"客户名称": "上海甲乙有限公司", "合同类型": "销售合同", "合同金额": D(amount), "付款方式": "预付款",
              "签订日期": date(2026, 11, 1), "交货日期": date(2026, 11, 20), "销售员": "王芳", "申请人": "王芳",
              "明细": [{"品名": "水泵", "数量": D(1), "单价": D(amount), "金额": D(amount)}]}
    values.update(extra)
    return values


def route_for(policy, values, spec="sales_contract", applicant="王芳", department=None, today=TODAY, lookups=None):
    """The route, carrying the 校验规则 problems validation found (as the pipeline hands them to the case)."""
    lookups = lookups or KnownCustomer(limit="10000000")
    route = compose_route(policy, SPECS[spec], values, applicant=applicant, department=department, today=today,
                          lookups=lookups)
    return replace(route, problems=check_rules(policy, SPECS[spec], values, lookups=lookups, today=today))


def test_contract_below_every_threshold_needs_the_department_manager_only(policy):
    route = route_for(policy, contract("100000.00"))
    assert [(s.role, [a.name for a in s.assignees]) for s in route.steps] == [("部门经理", ["吴强"])]
    assert route.cc == ["褚红"] and route.unresolved == [] and route.problems == []
    assert route.steps[0].limit_days == 2 and route.steps[0].rule_refs[0].startswith("审批规则!B")


def test_major_contract_on_credit_with_special_terms_goes_up_in_rank_order(policy):
    values = contract("600000.00", 付款方式="账期", 特殊条款="质保期延长至三年")
    route = route_for(policy, values)
    assert [s.role for s in route.steps] == ["部门经理", "财务经理", "法务", "总经理"]
    assert [s.assignees[0].name for s in route.steps] == ["吴强", "孙丽", "周文", "赵建国"]
    assert route.errors == []


def test_salesperson_of_the_other_department_gets_their_own_manager(policy):
    route = route_for(policy, contract(销售员="陈静", 申请人="陈静"), applicant="陈静")
    assert route.steps[0].assignees == (Assignee("冯磊"),)


def test_delegation_applies_only_within_its_dates(policy):
    inside = route_for(policy, contract(), today=date(2026, 10, 12))
    assert inside.steps[0].assignees == (Assignee("郑浩", on_behalf_of="吴强"),)
    assert inside.steps[0].assignees[0].label == "郑浩(代 吴强)"
    assert route_for(policy, contract(), today=date(2026, 10, 16)).steps[0].assignees[0].on_behalf_of == "吴强"
    assert route_for(policy, contract(), today=date(2026, 10, 17)).steps[0].assignees == (Assignee("吴强"),)
    assert route_for(policy, contract(), today=date(2026, 10, 7)).steps[0].assignees == (Assignee("吴强"),)


def test_role_held_by_nobody_goes_to_unresolved_not_dropped(tmp_path):
    path = policy_copy(tmp_path)
    row = find_row(path, "人员", 姓名="周文")
    policy = load_policy(policy_copy(tmp_path, {"人员": {f"J{row}": "否"}}), make_specs())
    route = route_for(policy, contract("1200000.00"))
    assert route.unresolved == ["法务"]
    assert [s.role for s in route.steps] == ["部门经理", "总经理"]


def test_several_rows_for_one_role_take_the_shortest_limit(tmp_path):
    path = policy_copy(tmp_path)
    row = find_row(path, "审批规则", 表单="销售合同审批表", 审批角色="部门经理", 依据="000 · R-SD-20")
    policy = load_policy(policy_copy(tmp_path, {"审批规则": {f"E{row}": 1}}), make_specs())
    step = route_for(policy, contract(折扣率=D("0.08"))).steps[0]
    assert (step.role, step.limit_days, len(step.rule_refs)) == ("部门经理", 1, 2)


def test_mode_会签_assigns_every_holder(tmp_path):
    path = policy_copy(tmp_path)
    row = find_row(path, "审批规则", 表单="坏账核销审批表", 审批角色="财务经理")
    policy = load_policy(policy_copy(tmp_path, {"审批规则": {f"C{row}": "部门经理", f"D{row}": "会签"}}), make_specs())
    assert [a.name for a in resolve_role(policy, "部门经理", "销售一部", TODAY, mode="会签")] == ["吴强"]
    person = find_row(path, "人员", 姓名="郑浩")
    policy = load_policy(policy_copy(tmp_path, {"审批规则": {f"C{row}": "部门经理", f"D{row}": "会签"},
                                                "人员": {f"D{person}": "销售分部经理、部门经理"}}), make_specs())
    assert [a.name for a in resolve_role(policy, "部门经理", "销售一部", TODAY, mode="会签")] == ["吴强", "郑浩"]
    assert [a.name for a in resolve_role(policy, "部门经理", "销售一部", TODAY, mode="依次")] == ["吴强"]


def test_department_role_never_falls_back_to_another_departments_holder(tmp_path):
    """部门经理 is held in many departments: 总经办 has none, so the applicant's superior decides."""
    policy = default_policy(tmp_path)
    assert [a.name for a in resolve_role(policy, "部门经理", "总经办", TODAY, applicant="钱明")] == ["赵建国"]
    assert resolve_role(policy, "部门经理", "总经办", TODAY, applicant=None) == ()
    # 赵建国 heads 总经办 and has no superior: the step is his own, decided by the self-approval rules
    assert resolve_role(policy, "部门经理", "总经办", TODAY, applicant="赵建国") == ()
    assert holds_role_alone(policy, "部门经理", "总经办", "赵建国")
    assert [a.name for a in resolve_role(policy, "财务经理", "销售一部", TODAY, applicant="王芳")] == ["孙丽"]


def test_credit_terms_over_the_limit_is_an_error_with_its_rule(policy):
    values = contract("60000.00", 付款方式="账期")
    problems = route_for(policy, values, lookups=KnownCustomer(limit="100000", owed="50000")).problems
    credit = [p for p in problems if p.field == "合同金额"]
    assert len(credit) == 1 and credit[0].level == "error" and "超出信用额度" in credit[0].message
    assert credit[0].source.startswith("校验规则!B") and "S1-R83" in credit[0].source
    assert route_for(policy, values, lookups=KnownCustomer(limit="200000", owed="50000")).errors == []


def test_line_rules_carry_the_row_number(policy):
    values = contract("300.00", 明细=[
        {"品名": "水泵", "数量": D(2), "单价": D("100"), "金额": D("200.00")},
        {"品名": "阀门", "数量": D(3), "单价": D("10"), "金额": D("31.00")},
    ], 合同金额=D("231.00"))
    problems = check_rules(policy, SPECS["sales_contract"], values, lookups=KnownCustomer(), today=TODAY)
    assert [(p.field, p.row) for p in problems] == [("金额", 2)]


def test_blacklisted_customer_and_unregistered_customer(policy):
    spec = SPECS["sales_contract"]
    black = check_rules(policy, spec, contract(), lookups=KnownCustomer(status="黑名单"), today=TODAY)
    assert any("黑名单" in p.message and p.field == "客户名称" for p in black)
    unknown = check_rules(policy, spec, contract(), lookups=NoLookups(), today=TODAY)
    assert any("尚未登记" in p.message for p in unknown)


def test_expense_claim_route_and_entertainment_needs_the_general_manager(policy):
    values = {"报销人": "王芳", "部门": "销售一部", "报销日期": date(2026, 11, 2), "合计金额": D("800.00"),
              "合计金额大写": "捌佰元整", "明细": [{"费用类别": "招待", "发生日期": date(2026, 10, 30), "金额": D("800.00"),
                                             "招待人数": None}]}
    route = route_for(policy, values, spec="expense_claim", department="销售一部", lookups=NoLookups())
    assert [s.role for s in route.steps] == ["部门经理", "财务经理", "总经理", "出纳"]
    assert [(p.field, p.row) for p in route.errors] == [("招待人数", 1)]


def test_expense_claim_filed_too_late_after_national_day(policy):
    values = {"报销人": "王芳", "部门": "销售一部", "报销日期": date(2026, 10, 12), "合计金额": D("50.00"),
              "合计金额大写": "伍拾元整", "明细": [{"费用类别": "市内交通", "发生日期": date(2026, 9, 29), "金额": D("50.00")}]}
    spec = SPECS["expense_claim"]
    late = check_rules(policy, spec, values, lookups=NoLookups(), today=TODAY)
    assert late == []  # 9-29 + 5 wd: 9-30, 10-8, 10-9, 10-10 (make-up Saturday), 10-12
    values["报销日期"] = date(2026, 10, 13)
    late = check_rules(policy, spec, values, lookups=NoLookups(), today=TODAY)
    assert [(p.field, p.row) for p in late] == [("发生日期", 1)]


def test_complaint_severity_picks_the_approver(policy):
    major = route_for(policy, {"严重程度": "重大", "受理人": "蒋敏"}, spec="complaint", applicant="蒋敏")
    normal = route_for(policy, {"严重程度": "一般", "受理人": "蒋敏"}, spec="complaint", applicant="蒋敏")
    assert [s.role for s in major.steps] == ["总经理"] and [s.role for s in normal.steps] == ["客户服务部经理"]


def test_nobody_approves_their_own_request_the_superior_does(policy):
    # 吴强 is 销售一部's 部门经理 and submits himself: his 直属上级 钱明 approves instead.
    assert [a.name for a in resolve_role(policy, "部门经理", "销售一部", date(2026, 11, 23), applicant="吴强")] == ["钱明"]
    assert [a.name for a in resolve_role(policy, "部门经理", "销售一部", date(2026, 11, 23), applicant="王芳")] == ["吴强"]

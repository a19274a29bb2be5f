from openpyxl import load_workbook
from support.policy import (
    append_row,
    find_row,
    make_specs,
    policy_copy,
    shipped_policy_path,
)

from automation.policy.lint import lint_policy


def test_shipped_workbook_lints_clean():
    report = lint_policy(shipped_policy_path(), make_specs())
    assert report.problems == [] and report.ok
    assert "检查通过" in report.render_text()


def _lint(path):
    return lint_policy(path, make_specs())


def test_broken_copy_reports_each_mistake_at_its_cell(tmp_path):
    path = policy_copy(tmp_path)
    law = find_row(path, "审批规则", 审批角色="法务")
    major = find_row(path, "审批规则", 审批角色="总经理", 表单="销售合同审批表", 依据="000 · R-SD-07")
    black = find_row(path, "校验规则", 表单="客户登记表", 字段="客户名称", 级别="错误")
    wang = find_row(path, "人员", 姓名="王芳")
    wu = find_row(path, "人员", 姓名="吴强")
    wb = load_workbook(path)
    rules, checks, people = wb["审批规则"], wb["校验规则"], wb["人员"]
    rules[f"C{law}"] = "法物"                       # unknown role
    rules[f"D{law}"] = "轮流"                       # bad mode
    rules[f"B{major}"] = "合同金颚 >= 重大合同金额"    # unknown field
    checks[f"B{black}"] = "客户状况(客户名称) == 1"    # unknown function
    checks[f"D{black}"] = "严重"                    # bad level
    checks["B2"] = "客户等级 in (A"                  # syntax error
    people[f"E{wang}"] = "郑皓"                      # superior not in 人员
    people[f"F{wu}"] = "不存在的人"                   # delegate not in 人员
    people[f"G{wu}"] = people[f"H{wu}"].value.replace(day=20)  # start after end
    people[f"J{find_row(path, '人员', 姓名='周文')}"] = "否"   # nobody active holds 法务 any more
    wb.save(path)
    dup = append_row(path, "人员", ["王芳", "E099", "销售二部", "销售员", "冯磊", None, None, None, None, "是"])
    found = set(_lint(path).codes)
    expected = {
        ("policy-unknown-role", f"审批规则!C{law}"), ("policy-bad-mode", f"审批规则!D{law}"),
        ("policy-unknown-name", f"审批规则!B{major}"), ("policy-unknown-function", f"校验规则!B{black}"),
        ("policy-bad-level", f"校验规则!D{black}"), ("policy-expression-invalid", "校验规则!B2"),
        ("policy-superior-unknown", f"人员!E{wang}"), ("policy-delegate-unknown", f"人员!F{wu}"),
        ("policy-delegation-dates", f"人员!G{wu}"), ("policy-person-duplicate", f"人员!A{dup}"),
    }
    assert expected <= found, expected - found
    # each place is also given as fields, set where the problem is made (the syntax error via its exception too)
    placed = [p for p in _lint(path).problems if p.location and "!" in p.location]
    assert len(placed) >= len(expected)
    assert [p.location for p in placed if f"{p.at.sheet}!{p.at.cell}" != p.location] == []


def test_misspelt_role_and_field_get_a_suggestion(tmp_path):
    path = policy_copy(tmp_path)
    row = find_row(path, "审批规则", 审批角色="财务经理", 表单="销售合同审批表")
    path = policy_copy(tmp_path, {"审批规则": {f"C{row}": "财务精力", f"B{row}": '付款方式名 == "账期"'}})
    messages = {p.code: p.message for p in _lint(path).problems}
    assert "您是否想写「财务经理」?" in messages["policy-unknown-role"]
    assert "您是否想写「付款方式」?" in messages["policy-unknown-name"]


def test_role_nobody_holds_is_reported_where_it_is_used(tmp_path):
    path = policy_copy(tmp_path)
    person = find_row(path, "人员", 姓名="李娜")
    rule = find_row(path, "审批规则", 审批角色="出纳")
    path = policy_copy(tmp_path, {"人员": {f"J{person}": "否"}})
    assert ("policy-role-unheld", f"审批规则!C{rule}") in _lint(path).codes


def test_unknown_form_and_check_field(tmp_path):
    path = policy_copy(tmp_path, {"审批规则": {"A2": "客户登记单"}, "校验规则": {"E2": "客户级别"}})
    codes = _lint(path).codes
    assert ("policy-unknown-form", "审批规则!A2") in codes
    assert ("policy-unknown-field", "校验规则!E2") in codes


def test_amount_tiers_with_a_gap_are_reported(tmp_path):
    path = policy_copy(tmp_path)
    finance = find_row(path, "审批规则", 表单="客户信用额度申请表", 审批角色="财务经理")
    path = policy_copy(tmp_path, {"审批规则": {f"B{finance}": "申请信用额度 > 信用额度_部门经理 and 申请信用额度 <= 300000"}})
    report = _lint(path)
    gm = find_row(path, "审批规则", 表单="客户信用额度申请表", 审批角色="总经理")
    gaps = [p for p in report.problems if p.code == "policy-amount-gap"]
    assert [(p.location, p.value) for p in gaps] == [(f"审批规则!B{gm}", "(300,000, 500,000]")]
    assert not report.ok


def test_boundary_left_out_between_tiers_is_a_gap(tmp_path):
    path = policy_copy(tmp_path)
    low = append_row(path, "审批规则", ["坏账核销审批表", "核销金额 < 10000", "财务经理", "依次", 2, "测试"])
    high = append_row(path, "审批规则", ["坏账核销审批表", "10000 < 核销金额", "总经理", "依次", 2, "测试"])
    gaps = [(p.location, p.value) for p in _lint(path).problems if p.code == "policy-amount-gap"]
    assert gaps == [(f"审批规则!B{high}", "10000")]
    assert low < high


def test_overlapping_bands_are_reported(tmp_path):
    path = policy_copy(tmp_path)
    a = append_row(path, "审批规则", ["坏账核销审批表", "核销金额 <= 20000", "财务经理", "依次", 2, "测试"])
    b = append_row(path, "审批规则", ["坏账核销审批表", "核销金额 > 10000 and 核销金额 <= 50000", "总经理", "依次", 2, "测试"])
    found = [p for p in _lint(path).problems if p.code == "policy-amount-overlap"]
    assert [(p.location, p.value) for p in found] == [(f"审批规则!B{b}", "(10,000, 20,000]")]
    assert f"审批规则!B{a}" in found[0].message


def test_stacked_open_ended_thresholds_are_not_an_overlap(tmp_path):
    report = _lint(policy_copy(tmp_path))
    assert not [p for p in report.problems if p.code.startswith("policy-amount")]


def test_report_renders_text_and_dict(tmp_path):
    path = policy_copy(tmp_path, {"审批规则": {"C2": "经历"}})
    report = _lint(path)
    assert not report.ok
    assert "审批规则!C2" in report.render_text()
    assert report.to_dict()["problems"][0]["code"] == "policy-unknown-role"


def test_missing_sheet_is_one_problem_not_a_crash(tmp_path):
    path = policy_copy(tmp_path)
    wb = load_workbook(path)
    del wb["人员"]
    wb.save(path)
    assert _lint(path).codes == [("policy-sheet-missing", "人员")]


def test_broken_compute_expressions_of_a_form_spec_are_reported_by_policy_check(tmp_path):
    """A spec's compute: (a field's, a register column's) is an expression like a 条件: policy check reads it."""
    import shutil

    from support.forms import FORMS

    from automation.forms.spec import load_specs

    forms = tmp_path / "forms"
    shutil.copytree(FORMS, forms, ignore=shutil.ignore_patterns("*.xlsx", "*.docx"))
    spec = forms / "leave_request.yaml"
    text = spec.read_text(encoding="utf-8")
    text = text.replace("compute: 工作日天数(开始日期, 结束日期)", "compute: 工做日天数(开始日期, 结束日期)")
    text = text.replace("compute: 月份(开始日期)", "compute: 月份(开使日期)")
    spec.write_text(text, encoding="utf-8")
    report = lint_policy(shipped_policy_path(), load_specs(forms))
    assert not report.ok
    by_code = {p.code: p for p in report.problems}
    wrong_function = by_code["policy-unknown-function"]
    assert wrong_function.location.startswith("leave_request.yaml 第 ") and "「天数」" in wrong_function.location
    assert "工做日天数" in wrong_function.message and "工作日天数" in wrong_function.message
    wrong_name = by_code["policy-unknown-name"]
    assert wrong_name.location == "leave_request.yaml 台账「月份」" and "开使日期" in wrong_name.message
    assert "开始日期" in wrong_name.message
    # The policy in force is judged on the workbook alone: a spec's mistake does not refuse 制度.xlsx.
    assert lint_policy(shipped_policy_path(), load_specs(forms), spec_expressions=False).ok

from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from support.policy import find_row, make_specs, policy_copy, shipped_policy_path

from automation.errors import ExpressionError, PolicyError
from automation.policy import pack
from automation.policy.workbook import load_policy
from automation.policy.workbook_build import build_policy_workbook

SHEETS = ["说明", "人员", "角色", "审批规则", "校验规则", "抄送", "参数", "节假日", "编号规则", "公司信息", "合同模板"]


def test_built_workbook_has_every_sheet_as_a_filtered_table_with_frozen_header(tmp_path):
    path = build_policy_workbook(tmp_path / "制度.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == SHEETS
    for name in SHEETS[1:]:
        ws = wb[name]
        assert ws.freeze_panes == "A2", name
        assert len(ws.tables) == 1, name
        assert ws.column_dimensions["A"].width >= 10
    assert not list(tmp_path.glob(".~build-*"))


def test_drop_downs_offer_roles_modes_levels_and_forms(tmp_path):
    wb = load_workbook(build_policy_workbook(tmp_path / "制度.xlsx"))
    def lists(sheet):
        return {str(dv.sqref).split(":")[0]: dv.formula1 for dv in wb[sheet].data_validations.dataValidation}
    rules = lists("审批规则")
    assert rules["C2"] == "'角色'!$A$2:$A$200"
    assert rules["D2"] == '"依次,会签,或签"'
    assert "销售合同审批表" in rules["A2"]
    assert lists("校验规则")["D2"] == '"错误,警告"'
    assert lists("人员")["J2"] == '"是,否"'
    assert lists("节假日")["B2"] == '"休息日,工作日"'


def test_guide_sheet_explains_every_sheet_and_the_functions(tmp_path):
    ws = load_workbook(build_policy_workbook(tmp_path / "制度.xlsx"))["说明"]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    for name in SHEETS[1:] + ["已填", "工作日加", "客户冲突"]:
        assert name in text


def test_parameters_are_numbers_and_defaults_are_marked(tmp_path):
    ws = load_workbook(build_policy_workbook(tmp_path / "制度.xlsx"))["参数"]
    rows = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    assert isinstance(rows["重大合同金额"][1].value, (int, float))
    assert "默认值" in rows["重大合同金额"][4].value
    assert "默认值" not in rows["报销时限工作日"][4].value
    assert [rows[n][2].value for n in ("重大合同金额", "标准折扣上限", "报销时限工作日", "客户保护天数")] == [
        "金额", "比例", "工作日", "天数"]


def test_load_policy_reads_people_rules_and_references(tmp_path):
    policy = load_policy(policy_copy(tmp_path), make_specs())
    wu = policy.person("吴强")
    assert wu.department == "销售一部" and wu.roles == ("部门经理",) and wu.delegate == "郑浩"
    assert (wu.delegate_from, wu.delegate_to) == (date(2026, 10, 8), date(2026, 10, 16))
    assert policy.person("孙丽").roles == ("财务经理", "部门经理")
    assert policy.rank("法务") == 35 and policy.rank("销售员") is None
    assert policy.param("标准折扣上限") == Decimal("0.05")
    row = find_row(policy.path, "审批规则", 表单="销售合同审批表", 审批角色="法务")
    rule = next(r for r in policy.approval_rules if r.role == "法务")
    assert rule.ref == f"审批规则!B{row}" and rule.basis.startswith("000 · R-CT-03")
    assert policy.form_by_title("销售合同审批表").id == "sales_contract"
    assert policy.holidays == {date(2027, 1, 1): False}
    assert policy.template_for("销售合同审批表", "框架协议") == "销售合同.docx"
    assert policy.bad_debt_shares() == {"办事处经理": Decimal("0.5"), "区域经理": Decimal("0.25"), "内务主管": Decimal("0.25")}


def test_numbering_rules_render_and_know_their_period(tmp_path):
    policy = load_policy(policy_copy(tmp_path), make_specs())
    contract = policy.numbering_for("合同编号", "销售合同审批表")
    assert contract.render(date(2026, 3, 5), 7) == "HT-2026-0007" and contract.period(date(2026, 3, 5)) == "2026"
    case = policy.numbering_for("申请编号", "费用报销单")
    assert case.render(date(2026, 3, 5), 12) == "BX-202603-0012" and case.period(date(2026, 3, 5)) == "2026-03"
    assert {policy.form_code(t) for t in pack.FORM_TITLES} == set(pack.FORM_CODES.values())
    assert policy.numbering_for("投诉编号", "客户投诉处理单").render(date(2026, 1, 1), 1) == "TS-2026-0001"


def test_company_credit_code_is_valid():
    from stdnum.cn import uscc
    assert uscc.is_valid(dict(pack.COMPANY)["统一社会信用代码"])


def test_missing_sheet_is_refused_with_its_name(tmp_path):
    path = policy_copy(tmp_path)
    wb = load_workbook(path)
    del wb["审批规则"]
    wb.save(path)
    with pytest.raises(PolicyError) as err:
        load_policy(path, make_specs())
    assert err.value.code == "policy-sheet-missing" and "审批规则" in err.value.message


def test_condition_that_does_not_parse_is_refused_at_its_cell(tmp_path):
    path = policy_copy(tmp_path, {"审批规则": {"B5": "申请信用额度 >> ("}})
    with pytest.raises(ExpressionError) as err:
        load_policy(path, make_specs())
    assert err.value.location == "审批规则!B5"


def test_bad_date_is_refused_at_its_cell(tmp_path):
    path = policy_copy(tmp_path, {"人员": {"G7": "下周一"}})
    with pytest.raises(PolicyError) as err:
        load_policy(path, make_specs())
    assert (err.value.code, err.value.location) == ("policy-bad-date", "人员!G7")


def test_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "制度.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(PolicyError):
        load_policy(path, make_specs())


def test_shipped_workbook_is_what_the_builder_writes(tmp_path):
    shipped = load_policy(shipped_policy_path(), make_specs())
    built = load_policy(build_policy_workbook(tmp_path / "制度.xlsx"), make_specs())
    assert shipped.people == built.people and shipped.params == built.params
    assert [r.ref for r in shipped.rules] == [r.ref for r in built.rules]

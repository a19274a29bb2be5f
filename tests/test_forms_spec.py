"""The shipped form specs load, and mistakes in a spec are refused with file and line."""

from __future__ import annotations

import pytest
from support.forms import FORMS

from automation.errors import SpecError
from automation.forms.spec import (
    CASE_FIELD,
    FIELD_TYPES,
    load_spec,
    load_specs,
    name_problem,
)

EXPECTED = {
    "customer_registration": ("客户登记表", "xlsx"),
    "credit_limit": ("客户信用额度申请表", "xlsx"),
    "sales_contract": ("销售合同审批表", "xlsx"),
    "expense_claim": ("费用报销单", "xlsx"),
    "trip_request": ("出差申请表", "docx"),
    "complaint": ("客户投诉处理单", "docx"),
    "return_request": ("退货申请单", "xlsx"),
    "bad_debt": ("坏账核销审批表", "xlsx"),
    "leave_request": ("请假单", "xlsx"),
    "loan_request": ("借款单", "xlsx"),
    "payment_receipt": ("回款登记单", "xlsx"),
    "seal_request": ("用印申请单", "xlsx"),
    "customer_status": ("客户状态变更单", "xlsx"),
}


@pytest.fixture(scope="module")
def specs():
    return load_specs(FORMS)


def test_all_shipped_specs_load(specs):
    assert {k: (s.title, s.kind) for k, s in specs.items()} == EXPECTED
    assert all(s.version == "1.0" for s in specs.values())


@pytest.mark.parametrize("form_id", EXPECTED)
def test_every_spec_ends_with_the_optional_case_field(specs, form_id):
    last = specs[form_id].fields[-1]
    assert (last.key, last.type, last.required) == (CASE_FIELD, "text", False)
    assert last.help == "退回修改后重新提交时由系统保留,请勿修改"


@pytest.mark.parametrize("form_id", EXPECTED)
def test_every_field_has_a_known_type_and_chinese_help(specs, form_id):
    for f in specs[form_id].fields + tuple(c for t in specs[form_id].tables for c in t.columns):
        assert f.type in FIELD_TYPES
        assert f.help and any("\u4e00" <= ch <= "\u9fff" for ch in f.help), f.key


def test_pack_roles_of_fields(specs):
    amounts = {k: s.amount_field for k, s in specs.items() if s.amount_field}
    assert amounts == {"credit_limit": "申请信用额度", "sales_contract": "合同金额", "expense_claim": "合计金额",
                       "trip_request": "预计费用", "bad_debt": "核销金额", "loan_request": "借款金额",
                       "payment_receipt": "回款金额"}
    assert specs["expense_claim"].applicant_field == "报销人"
    assert specs["complaint"].applicant_field == "受理人"
    assert {k for k, s in specs.items() if s.customer_field == "客户名称"} == {
        "customer_registration", "credit_limit", "sales_contract", "complaint", "return_request", "bad_debt",
        "payment_receipt", "customer_status"}


def test_sales_contract_types_follow_the_pack(specs):
    s = specs["sales_contract"]
    assert (s.field("折扣率").type, s.field("折扣率").min, s.field("折扣率").max) == ("percent", 0, 1)
    assert (s.field("账期天数").type, s.field("账期天数").min, s.field("账期天数").max) == ("integer", 0, 180)
    assert (s.field("合同金额大写").type, s.field("合同金额大写").of) == ("amount_upper", "合同金额")
    assert s.field("付款方式").choices == ("预付款", "货到付款", "账期")
    assert s.field("客户名称").type == "customer"
    assert [c.key for c in s.table("明细").columns] == ["品名", "规格型号", "数量", "单价", "金额"]


def test_other_pack_types(specs):
    assert specs["customer_registration"].field("联系电话").type == "phone"
    assert specs["customer_registration"].field("统一社会信用代码").type == "credit_code"
    assert specs["customer_registration"].field("销售员").type == "person"
    assert specs["complaint"].field("回访日期").type == "date_list"
    assert specs["complaint"].field("客户满意度").choices == ("非常满意", "满意", "不满意")
    assert specs["expense_claim"].field("合计金额大写").of == "合计金额"
    assert specs["expense_claim"].table("明细").column("费用类别").choices == (
        "差旅", "住宿", "长途交通", "市内交通", "招待", "通讯", "办公用品", "其他")
    assert specs["trip_request"].field("交通方式").choices == ("火车硬座", "火车硬卧", "飞机", "汽车")


# --- refused mistakes --------------------------------------------------------

HEAD = """\
id: demo
title: 演示表
version: "1.0"
kind: xlsx
fields:
  - key: 申请人
    type: person
"""


def _spec(tmp_path, body: str, name: str = "demo.yaml"):
    path = tmp_path / name
    path.write_text(HEAD + body, encoding="utf-8")
    return path


def _refusal(path) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return info.value


def test_a_minimal_spec_loads(tmp_path):
    spec = load_spec(_spec(tmp_path, ""))
    assert spec.all_keys == ["申请人"] and spec.fields[0].line == 6


def test_summary_fields_is_the_one_key_for_the_summary_an_approver_sees(tmp_path, specs):
    assert specs["sales_contract"].summary_keys[:2] == ("客户名称", "合同类型")  # renamed from summary:
    assert specs["leave_request"].summary_keys[0] == "假别"
    assert all("\nsummary:" not in spec.path.read_text(encoding="utf-8") for spec in specs.values())
    older = load_spec(_spec(tmp_path, "summary: [申请人]\n"))  # a spec written before the rename still loads
    assert older.summary_fields == ("申请人",)
    error = _refusal(_spec(tmp_path, "summary: [申请人]\nsummary_fields: [申请人]\n"))
    assert "只保留 summary_fields" in error.message
    error = _refusal(_spec(tmp_path, "summary_fields: [金额]\n"))
    assert "金额" in error.message and "摘要字段" in error.message


def test_unknown_type_is_refused_with_file_line_and_suggestion(tmp_path):
    error = _refusal(_spec(tmp_path, "  - key: 金额\n    type: mony\n"))
    assert error.location == "demo.yaml 第 8 行"
    assert "money" in error.message and error.code == "spec-invalid"


def test_duplicate_field_key_is_refused(tmp_path):
    error = _refusal(_spec(tmp_path, "  - key: 申请人\n    type: text\n"))
    assert error.location == "demo.yaml 第 8 行" and "申请人" in error.message


def test_duplicate_yaml_key_is_refused(tmp_path):
    error = _refusal(_spec(tmp_path, "  - key: 备注\n    type: text\n    type: integer\n"))
    assert "demo.yaml" in error.location and "第 8 行" in error.location


def test_empty_choices_are_refused(tmp_path):
    error = _refusal(_spec(tmp_path, "  - key: 等级\n    type: choice\n    choices: []\n"))
    assert error.location == "demo.yaml 第 8 行" and "choices" in error.message


def test_bad_yaml_is_refused_with_its_line(tmp_path):
    error = _refusal(_spec(tmp_path, "  - key: 备注\n   type: [text\n"))
    assert error.location.startswith("demo.yaml 第 ") and "YAML" in error.message


@pytest.mark.parametrize("key", ["合同 金额", "A1", "XFD100", "R1C1", "1号", "TRUE"])
def test_key_that_is_no_excel_name_is_refused(tmp_path, key):
    error = _refusal(_spec(tmp_path, f"  - key: \"{key}\"\n    type: text\n"))
    assert error.location == "demo.yaml 第 8 行" and key in error.message


def test_table_key_must_be_an_excel_name_too(tmp_path):
    body = "tables:\n  - key: 明 细\n    columns:\n      - key: 品名\n"
    error = _refusal(_spec(tmp_path, body))
    assert error.location == "demo.yaml 第 9 行"


def test_table_placed_after_an_unknown_field_is_refused(tmp_path):
    body = "tables:\n  - key: 明细\n    after: 客户\n    columns:\n      - key: 品名\n"
    error = _refusal(_spec(tmp_path, body))
    assert error.location == "demo.yaml 第 9 行" and "客户" in error.message


def test_file_name_must_match_id(tmp_path):
    error = _refusal(_spec(tmp_path, "", name="other.yaml"))
    assert "demo.yaml" in error.message


@pytest.mark.parametrize("key", ["客户名称", "明细", "_x", "统一社会信用代码", "ABCD1"])
def test_ordinary_keys_are_valid_names(key):
    assert name_problem(key) is None


def test_layout_puts_the_table_after_its_field(specs):
    order = [item.key for item in specs["expense_claim"].layout()]
    assert order[:4] == ["报销人", "部门", "报销日期", "明细"]

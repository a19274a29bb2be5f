from datetime import date
from decimal import Decimal

import pytest
from support.extract import (
    GOOD,
    GOOD_ITEMS,
    field_cell,
    item_cell,
    make_docx,
    make_xlsx,
    test_spec,
)
from support.forms import build_blank, fill_xlsx, repo_specs

from automation.extract.read import read_form
from automation.problems import WARNING, kind
from automation.validate.fields import check_fields, validate_form


@pytest.fixture
def spec(tmp_path):
    return test_spec(tmp_path)


def checked(tmp_path, spec, values, items=GOOD_ITEMS):
    form = read_form(make_xlsx(tmp_path / "f.xlsx", spec, values, items), spec, "1.0", "properties")
    return form, sorted(((p.location, p.code, p.row) for p in check_fields(form)), key=str)


def cell(spec, key):
    return f"表单!{field_cell(spec, key)}"


def test_a_good_form_has_no_field_problems(tmp_path, spec):
    form, found = checked(tmp_path, spec, GOOD)
    assert found == []
    report = validate_form(form)
    assert report.valid and report.stats["rows"] == {"明细": 2}


def test_required_fields_and_required_table(tmp_path, spec):
    values = dict(GOOD, 客户名称=None, 付款方式="  ", 签订日期=None)
    _, found = checked(tmp_path, spec, values, items=[])
    assert found == sorted([
        (cell(spec, "客户名称"), "required-missing", None),
        (cell(spec, "付款方式"), "required-missing", None),
        (cell(spec, "签订日期"), "required-missing", None),
        (f"表单!{item_cell(spec, 1, '品名')}:{item_cell(spec, 5, '金额')}", "table-required-empty", None),
    ], key=str)


def test_required_column_blank_in_a_filled_row_is_that_cell(tmp_path, spec):
    items = [GOOD_ITEMS[0], {"规格": None, "数量": 2, "单价": 10, "金额": 20}]
    _, found = checked(tmp_path, spec, GOOD, items)
    assert found == [(f"表单!{item_cell(spec, 2, '品名')}", "required-missing", 2)]


def test_min_max_on_fields_and_columns(tmp_path, spec):
    values = dict(GOOD, 合同金额="-5", 合同金额大写=None, 折扣率="120%", 账期天数=181)
    items = [{"品名": "电机", "数量": 0, "单价": "-1", "金额": 0}]
    _, found = checked(tmp_path, spec, values, items)
    assert found == sorted([
        (cell(spec, "合同金额"), "value-below-min", None),
        (cell(spec, "折扣率"), "value-above-max", None),
        (cell(spec, "账期天数"), "value-above-max", None),
        (f"表单!{item_cell(spec, 1, '数量')}", "value-below-min", 1),
        (f"表单!{item_cell(spec, 1, '单价')}", "value-below-min", 1),
    ], key=str)


def test_length_and_pattern(tmp_path, spec):
    form, found = checked(tmp_path, spec, dict(GOOD, 客户名称="很长很长的客户名称有限公司", 报价单号="BJ-12"))
    assert found == sorted([(cell(spec, "客户名称"), "text-too-long", None),
                            (cell(spec, "报价单号"), "pattern-mismatch", None)], key=str)
    pattern = next(p for p in check_fields(form) if p.code == "pattern-mismatch")
    assert "格式如 BJ-0001" in pattern.message


def test_uppercase_amount_must_read_the_same_as_the_figure(tmp_path, spec):
    form, found = checked(tmp_path, spec, dict(GOOD, 合同金额大写="壹仟贰佰叁拾肆元整"))
    assert found == [(cell(spec, "合同金额大写"), "amount-upper-mismatch", None)]
    message = check_fields(form)[0].message
    assert "「合同金额大写」" in message and "「合同金额」" in message and "大写与小写不一致" in message
    assert "壹仟贰佰叁拾肆元伍角" in message  # what it should read


def test_unreadable_value_is_reported_once_not_also_as_missing(tmp_path, spec):
    form, found = checked(tmp_path, spec, dict(GOOD, 签订日期="下周一"))
    assert found == []
    assert [p.code for p in validate_form(form).problems] == ["date-invalid"]


def test_validate_form_combines_parse_field_and_extra_problems(tmp_path, spec):
    extra_kind = kind("test-extra-warning", "测试警告", "「{field}」({location}) 仅供测试。", WARNING)
    form, _ = checked(tmp_path, spec, dict(GOOD, 联系电话="123", 客户名称=None))
    report = validate_form(form, [extra_kind(field="合同金额", location=cell(spec, "合同金额"))])
    assert [p.code for p in report.problems] == ["phone-invalid", "required-missing", "test-extra-warning"]
    assert not report.valid and report.stats["errors"] == 2 and report.stats["warnings"] == 1
    assert report.to_dict()["problems"][0]["location"] == cell(spec, "联系电话")


def test_docx_form_problems_point_at_the_control(tmp_path):
    spec = test_spec(tmp_path, "docx")
    path = make_docx(tmp_path / "f.docx", spec, dict(GOOD, 申请人=None), [{"品名": "x", "数量": "-1", "单价": 1, "金额": 1}])
    found = [(p.location, p.code, p.row) for p in check_fields(read_form(path, spec, None, "names"))]
    assert found == [("控件:申请人", "required-missing", None), ("表格「明细」第 1 行", "value-below-min", 1)]


def test_shipped_sales_contract_form_checks(tmp_path):
    spec = repo_specs()["sales_contract"]
    path = fill_xlsx(build_blank("sales_contract", tmp_path), {
        "客户名称": "上海甲公司", "合同类型": "销售合同", "合同金额": Decimal("1200"), "合同金额大写": "壹仟元整",
        "付款方式": "账期", "签订日期": date(2026, 11, 23), "交货日期": "2026/12/1", "销售员": "李四",
        "申请人": "李四", "申请日期": date(2026, 11, 20), "折扣率": "3%",
    }, items=[{"品名": "水泵", "数量": 2, "单价": Decimal("600")}])
    form = read_form(path, spec, "1.0", "properties")
    assert form.values["明细"][0]["金额"] == Decimal("1200.00")  # template formula, computed for us
    assert [(p.field, p.code) for p in validate_form(form).problems] == [("合同金额大写", "amount-upper-mismatch")]

from datetime import date
from decimal import Decimal

import pytest

from automation.errors import ExpressionError
from automation.policy.expressions import compile_expression, normalise_text
from automation.policy.functions import FUNCTIONS, Context, bind, parse_upper

FNS = bind(Context(today=date(2026, 11, 2)))


def ev(text, **names):
    return compile_expression(text, "审批规则!B5").evaluate(names, FNS)


def test_decimal_arithmetic_never_produces_float():
    result = ev("数量 * 单价 + 0.1", 数量=Decimal("3"), 单价=Decimal("0.1"))
    assert result == Decimal("0.4") and isinstance(result, Decimal)
    assert isinstance(ev("a / b", a=1, b=3), Decimal)
    assert ev("折扣率 > 0.05", 折扣率=Decimal("0.06")) is True
    assert ev("金额 == 100", 金额=Decimal("100.00")) is True


def test_float_values_are_turned_into_the_decimal_they_print_as():
    assert ev("x + 0.2 == 0.3", x=0.1) is True


def test_blank_fields_make_every_comparison_false():
    for text in ("x > 5", "x < 5", "x == 5", "x != 5", 'x in ("A", "B")', 'x not in ("A",)', "x + 1 > 0"):
        assert ev(text, x=None) is False, text
    assert ev("已填(x)", x=None) is False and ev("未填(x)", x="  ") is True
    assert ev("x / 0 > 1", x=Decimal(5)) is False


def test_excel_style_equals_and_full_width_punctuation_are_accepted():
    assert normalise_text('a = "是"') == 'a == "是"'
    assert normalise_text("a <> 1 and b <= 2 and c >= 3") == "a != 1 and b <= 2 and c >= 3"
    assert ev("付款方式 = “账期”", 付款方式="账期") is True
    assert ev("已填(特殊条款)", 特殊条款="保密") is True
    assert normalise_text('x == "a=b"') == 'x == "a=b"'


def test_compiled_expression_lists_its_names_and_functions():
    expr = compile_expression("合同金额 >= 重要合同金额 or 已填(特殊条款)", "审批规则!B11")
    assert expr.names == {"合同金额", "重要合同金额", "特殊条款"}
    assert expr.functions == {"已填"}


@pytest.mark.parametrize("text", [
    "().__class__", "x.__class__.__bases__", '__import__("os")', "9**9**9", "(lambda: 1)()",
    "[c for c in x]", "x[0]", "import os", "a = 1\nb = 2", "{1: 2}", 'f"{x}"',
])
def test_unsafe_or_unsupported_syntax_is_refused_at_compile_time(text):
    with pytest.raises(ExpressionError) as err:
        compile_expression(text, "校验规则!B9")
    assert err.value.location == "校验规则!B9"


def test_runaway_numbers_and_string_repetition_are_refused_at_evaluation():
    with pytest.raises(ExpressionError):
        ev("x * x * x * x > 1", x=Decimal(10) ** 8)
    with pytest.raises(ExpressionError):
        ev('"a" * 100000000 == "b"')


def test_syntax_error_is_reported_in_chinese_with_the_cell():
    with pytest.raises(ExpressionError) as err:
        compile_expression("合同金额 >= (重大合同金额", "审批规则!B7")
    assert err.value.location == "审批规则!B7" and "写法有误" in err.value.message


def test_unknown_name_at_evaluation_is_an_expression_error():
    with pytest.raises(ExpressionError) as err:
        ev("不存在 > 1")
    assert "不存在" in err.value.message


def test_comparing_a_date_with_a_number_is_an_error_not_a_silent_false():
    assert ev("交货日期 < 签订日期", 交货日期=date(2026, 1, 1), 签订日期=date(2026, 1, 2)) is True
    with pytest.raises(ExpressionError):
        ev("交货日期 < 5", 交货日期=date(2026, 1, 1))


def test_line_item_functions():
    items = [{"费用类别": "通讯", "金额": Decimal("100.50")}, {"费用类别": "招待", "金额": Decimal("20")},
             {"费用类别": "通讯", "金额": None}]
    assert ev('合计(明细, "金额")', 明细=items) == Decimal("120.50")
    assert ev('分类合计(明细, "金额", "费用类别", "通讯")', 明细=items) == Decimal("100.50")
    assert ev('任一(明细, "费用类别", "招待")', 明细=items) is True
    assert ev("行数(明细)", 明细=items) == 3 and ev("行数(明细)", 明细=None) == 0
    assert ev("舍入(数量 * 单价, 2)", 数量=Decimal(3), 单价=Decimal("0.335")) == Decimal("1.01")


def test_working_day_functions_use_the_calendar():
    assert ev("工作日加(d, 1)", d=date(2026, 9, 30)) == date(2026, 10, 8)
    assert ev("工作日数(a, b)", a=date(2026, 9, 30), b=date(2026, 10, 12)) == 4
    assert ev("今天()") == date(2026, 11, 2)


@pytest.mark.parametrize("words, amount", [
    ("壹仟贰佰叁拾肆元伍角", "1234.50"), ("人民币壹万零伍拾元零伍分", "10050.05"), ("壹拾万元整", "100000"),
    ("壹亿贰仟万元整", "120000000"), ("叁拾万零伍佰元正", "300500"),
])
def test_amount_in_words(words, amount):
    assert parse_upper(words) == Decimal(amount)
    assert ev("大写一致(w, a)", w=words, a=Decimal(amount)) is True
    assert ev("大写一致(w, a)", w=words, a=Decimal(amount) + 1) is False


def test_every_function_is_documented_with_an_example_that_compiles():
    for fn in FUNCTIONS.values():
        assert fn.doc and fn.args.startswith("(")
        assert fn.name in compile_expression(fn.example, "说明").functions


def test_unknown_function_fails_at_evaluation_with_an_expression_error():
    with pytest.raises(ExpressionError):
        ev("打开文件(1)")

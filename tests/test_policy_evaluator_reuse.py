"""Conditions evaluated one after another with the same functions reuse one evaluator; each
evaluation still sees only its own names, and a function that evaluates a condition itself (with
the same functions) does not disturb the evaluation that called it."""

from datetime import date

from automation.errors import ExpressionError
from automation.policy.expressions import compile_expression
from automation.policy.functions import Context, bind

import pytest


def test_each_evaluation_sees_its_own_names():
    functions = bind(Context(today=date(2026, 11, 2)))
    over = compile_expression("金额 > 100 and 已填(客户)", "t")
    assert over.holds({"金额": 500, "客户": "甲"}, functions)
    assert not over.holds({"金额": 50, "客户": "甲"}, functions)
    assert not over.holds({"金额": 500, "客户": None}, functions)
    with pytest.raises(ExpressionError):  # a name left over from an earlier evaluation is not defined here
        compile_expression("客户 == '甲'", "t").evaluate({}, functions)
    assert compile_expression("今天()", "t").evaluate({}, functions) == date(2026, 11, 2)


def test_a_nested_evaluation_leaves_the_outer_one_alone():
    inner = compile_expression("数量 * 2", "t")
    functions = dict(bind(Context(today=date(2026, 11, 2))))
    functions["翻倍"] = lambda n: inner.evaluate({"数量": n}, functions)
    outer = compile_expression("翻倍(3) + 数量", "t")
    assert outer.evaluate({"数量": 10}, functions) == 16
    assert outer.evaluate({"数量": 1}, functions) == 7

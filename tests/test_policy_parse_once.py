"""A burst of forms parses each condition once per process and groups the policy's rules once;
the answers, and the messages of a faulty condition, stay what they were."""

from datetime import date

import pytest
from support.policy import default_policy

from automation.errors import ExpressionError
from automation.policy.expressions import compile_expression
from automation.policy.functions import Context, bind


def test_the_same_condition_at_the_same_place_is_parsed_once():
    first = compile_expression("金额 > 100 and 已填(客户)", "校验规则!C4")
    assert compile_expression(" 金额 > 100 and 已填(客户) ", "校验规则!C4") is first
    elsewhere = compile_expression("金额 > 100 and 已填(客户)", "校验规则!C9")
    assert elsewhere.where == "校验规则!C9"  # a fault is still blamed on its own cell


def test_a_faulty_condition_says_the_same_every_time():
    messages = []
    for _ in range(3):
        with pytest.raises(ExpressionError) as caught:
            compile_expression("金额 >> (1", "校验规则!C7")
        messages.append((caught.value.message, caught.value.location))
    assert messages[0] == messages[1] == messages[2]
    assert "写法有误" in messages[0][0] and "校验规则!C7" in str(messages[0][1])
    with pytest.raises(ExpressionError, match="不允许使用属性访问"):
        compile_expression("客户.name == 1", "校验规则!C8")
    with pytest.raises(ExpressionError, match="不允许使用属性访问"):
        compile_expression("客户.name == 1", "校验规则!C8")


def test_each_form_binding_is_used_by_the_evaluator_it_reuses():
    # one evaluator serves form after form: each evaluation must call its own form's functions
    cached = compile_expression("今天()", "t")
    monday = bind(Context(today=date(2026, 11, 2)))
    tuesday = bind(Context(today=date(2026, 11, 3)))
    for _ in range(2):
        assert cached.evaluate({}, monday) == date(2026, 11, 2)
        assert cached.evaluate({}, tuesday) == date(2026, 11, 3)


def test_the_rules_of_a_form_are_its_rows_in_sheet_order(tmp_path):
    policy = default_policy(tmp_path)
    titles = {r.form for r in policy.rules}
    assert len(titles) > 1
    for title in titles | {"没有这张表"}:
        assert policy.check_rules_for(title) == [r for r in policy.check_rules if r.form == title]
        assert policy.approval_rules_for(title) == [r for r in policy.approval_rules if r.form == title]
        assert policy.cc_rules_for(title) == [r for r in policy.cc_rules if r.form == title]
    title = policy.check_rules[0].form
    policy.check_rules_for(title).clear()  # a caller's list is its own
    assert policy.check_rules_for(title)

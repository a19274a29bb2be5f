"""The policy's 校验规则 for one form: evaluated once, here, as part of validation.

Every row of the form whose condition holds is a problem (an error returns the form,
a warning goes to the approvers); 明细 rules are evaluated once per line, with the
line's row number. The names in scope are the route's (parameters and form keys).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Mapping

from automation.errors import PolicyError
from automation.forms.spec import FormSpec
from automation.policy.expressions import compile_expression
from automation.policy.lookups import Lookups
from automation.policy.workbook import CheckRule, Policy
from automation.problems import Problem
from automation.problems.form import RULE_BROKEN
from automation.route.chain import form_names, line_table, show

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def check_rules(policy: Policy, spec: FormSpec, values: Mapping[str, Any], *, lookups: Lookups | None,
                today: date) -> list[Problem]:
    """Every 校验规则 problem of the form; 明细 rules once per line, with the line's row number."""
    functions = policy.functions(today, lookups)
    names = form_names(policy, spec, values)
    problems: list[Problem] = []
    for rule in policy.check_rules_for(spec.title):
        if rule.scope == "明细":
            problems.extend(_check_lines(rule, spec, names, functions))
        elif rule.condition.holds(names, functions):
            problems.append(_problem(rule, names, functions))
    return problems


def _check_lines(rule: CheckRule, spec: FormSpec, names: dict, functions: dict) -> list[Problem]:
    table = line_table(spec)
    if table is None:
        return []
    found = []
    for number, line in enumerate(names.get(table.key) or [], start=1):
        scope = {**names, **{c.key: line.get(c.key) for c in table.columns}}
        if rule.condition.holds(scope, functions):
            found.append(_problem(rule, scope, functions, row=number))
    return found


def _problem(rule: CheckRule, names: Mapping[str, Any], functions: Mapping, row: int | None = None) -> Problem:
    message = _PLACEHOLDER.sub(lambda m: _fill(m.group(1), names, functions, rule.ref) or m.group(0), rule.message)
    value = names.get(rule.field) if rule.field else None
    return RULE_BROKEN(message=message, field=rule.field, value=None if value is None else show(value), row=row,
                       source=rule.source, rule=rule.ref, level=rule.level)


def _fill(text: str, names: Mapping[str, Any], functions: Mapping, where: str) -> str | None:
    """{字段} shows a value; {函数(…)} shows what a look-up says (e.g. who holds a customer)."""
    if text in names:
        return show(names[text])
    if "(" not in text:
        return None
    try:
        value = compile_expression(text, where).evaluate(names, functions)
    except PolicyError:
        return None
    return None if value is None else show(value)

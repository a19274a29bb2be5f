"""Fields a spec computes when they are left blank (``compute:``), e.g. a number of working days.

Filled after the field checks and before the policy's 校验规则 and the route,
so rules and approvers see the same number the register will show. A filled
value is kept as typed; a 校验规则 row may compare it with the same expression.
"""

from __future__ import annotations

from decimal import Decimal

from automation.errors import ExpressionError
from automation.policy.expressions import compile_expression


def fill_computed(policy, form, *, today, lookups=None) -> list[str]:
    """Fill every blank computed field of ``form`` in place; returns the keys filled."""
    filled = []
    functions = None
    for field in form.spec.fields:
        if not field.compute or form.values.get(field.key) not in (None, ""):
            continue
        functions = functions or policy.functions(today, lookups)
        expr = compile_expression(field.compute, f"{form.spec.id}.yaml ·「{field.key}」")
        try:
            value = expr.evaluate(_names(policy, form), functions)
        except ExpressionError:
            continue  # a blank input (no dates yet): the field stays blank, the other checks say why
        if value is None:
            continue
        if field.type == "integer" and isinstance(value, Decimal):
            value = int(value)
        form.values[field.key] = value
        filled.append(field.key)
    return filled


def _names(policy, form) -> dict:
    """Parameters, then the form's own keys (blank ones as None), as the policy's conditions see them."""
    return {**dict(policy.params), **{key: form.values.get(key) for key in form.spec.all_keys}}

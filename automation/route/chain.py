"""Compose the approval route for one form from the policy: checks, steps, copies.

Every 审批规则 row of the form whose condition holds contributes its role; the
chain is those roles, once each, ordered by rank (or by the rows' 顺序 where the
form sets it, as F7 does), so independent rules (credit
over limit, major contract, special terms) compose without anyone writing out
every combination. 校验规则 are not evaluated here: validation does that, once
(``validate/rules.py``), before a form is routed.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any, Mapping

from automation.forms.spec import FormSpec, TableSpec
from automation.policy.approver_options import EMPTY_ADMIN, EMPTY_PASS, options_for
from automation.policy.chain import ANY, Route, Step, assignee_for
from automation.policy.lookups import Lookups
from automation.policy.workbook import ApprovalRule, Policy
from automation.route.resolve import holds_role_alone, resolve_role

DEFAULT_LIMIT_DAYS = 2


def compose_route(policy: Policy, spec: FormSpec, values: Mapping[str, Any], *, applicant: str,
                  department: str | None, today: date, lookups: Lookups | None) -> Route:
    route = Route()
    functions = policy.functions(today, lookups)
    names = form_names(policy, spec, values)
    department = department or _department_of(policy, applicant)
    options = options_for(policy, spec.title)
    route.dedup = options.dedup
    for (role, where), rules in _selected_roles(policy, spec.title, names, functions):
        step = replace(_step(policy, role, rules, where or department, today, applicant, options.delegation_allowed),
                       reasons=_reasons(rules, names))
        if step.assignees and _repeats(route.steps, step):
            continue  # the same people as an earlier step: nothing to add
        if not step.assignees and holds_role_alone(policy, role, department, applicant):
            route.self_only.append(role)  # nobody approves their own request, not even the 总经理
            continue
        step = step if step.assignees else _nobody_holds(policy, step, options, today)
        if step is None:
            route.unresolved.append(role)
        else:
            route.steps.append(step)
    route.cc, route.cc_timing = _copies(policy, spec.title, names, functions, department, today)
    return route


def _nobody_holds(policy: Policy, step: Step, options, today: date) -> Step | None:
    """审批人为空时: 暂停并告警 (None: the case waits for the administrator), 自动通过, or 转交管理员."""
    if options.on_empty == EMPTY_PASS:
        return replace(step, on_empty=EMPTY_PASS)
    admin = policy.person(options.admin) if options.on_empty == EMPTY_ADMIN else None
    if admin is None or not admin.active:
        return None
    return replace(step, assignees=(assignee_for(policy, admin, today),), on_empty=EMPTY_ADMIN)


def _reasons(rules: list[ApprovalRule], names: Mapping[str, Any]) -> tuple[dict, ...]:
    """Each row that put the step on the chain: its condition, the values that made it true, its 依据."""
    return tuple({"规则": rule.ref, "条件": rule.condition.text, "依据": rule.basis,
                  "取值": {n: show(names[n]) for n in sorted(rule.condition.names) if names.get(n) is not None}}
                 for rule in rules)


def _selected_roles(policy: Policy, title: str, names: dict, functions: dict
                    ) -> list[tuple[tuple[str, str | None], list[ApprovalRule]]]:
    """(role, department from 部门取自 or None) → its rules; one step per role and department."""
    selected: dict[tuple[str, str | None], list[ApprovalRule]] = {}
    for rule in policy.approval_rules_for(title):
        if rule.condition.holds(names, functions):
            where = rule.department.evaluate(names, functions) if rule.department else None
            selected.setdefault((rule.role, str(where) if where else None), []).append(rule)
    rows = list(selected)
    # 顺序 first where the form sets it, then role rank; roles without either sort last,
    # ties keep the workbook's row order
    return sorted(selected.items(), key=lambda kv: (_order(kv[1]), _rank(policy, kv[0][0]), rows.index(kv[0])))


def _repeats(steps: list[Step], step: Step) -> bool:
    """A 部门取自 row that lands on the same people as an earlier step adds nothing."""
    return any(s.role == step.role and s.assignees == step.assignees for s in steps)


def _order(rules: list[ApprovalRule]) -> float:
    orders = [r.order for r in rules if r.order is not None]
    return min(orders) if orders else math.inf


def _rank(policy: Policy, role: str) -> float:
    rank = policy.rank(role)
    return math.inf if rank is None else rank


def _step(policy: Policy, role: str, rules: list[ApprovalRule], department: str | None, today: date,
          applicant: str | None = None, delegation: bool = True) -> Step:
    limits = [r.limit_days for r in rules if r.limit_days is not None]
    fallback = policy.param("审批时限工作日", DEFAULT_LIMIT_DAYS)
    mode = rules[0].mode
    return Step(role=role, mode=mode, limit_days=min(limits) if limits else int(fallback),
                assignees=resolve_role(policy, role, department, today, mode=mode, applicant=applicant,
                                       delegation=delegation),
                rule_refs=tuple(r.source for r in rules))


def _copies(policy: Policy, title: str, names: dict, functions: dict, department: str | None,
            today: date) -> tuple[list[str], dict[str, str]]:
    cc: list[str] = []
    timing: dict[str, str] = {}
    for rule in policy.cc_rules_for(title):
        if rule.condition.holds(names, functions):
            found = rule.department.evaluate(names, functions) if rule.department else None
            where = str(found) if found else department
            for who in resolve_role(policy, rule.role, where, today, mode=ANY):
                if who.name not in cc:
                    cc.append(who.name)
                # Two rules copying one person at different times: copy at both.
                seen = timing.get(who.name)
                timing[who.name] = rule.timing if seen in (None, rule.timing) else "两者"
    return cc, timing


def _department_of(policy: Policy, applicant: str | None) -> str | None:
    person = policy.person(applicant)
    return person.department if person else None


# --- names in scope ---------------------------------------------------------------


def form_names(policy: Policy, spec: FormSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters, then every key of the form (blank ones as None), the form winning a clash."""
    names: dict[str, Any] = dict(policy.params)
    names.update({key: values.get(key) for key in spec.all_keys})
    return names


def line_table(spec: FormSpec) -> TableSpec | None:
    return spec.table("明细") or (spec.tables[0] if spec.tables else None)


def show(value: Any) -> str:
    """A value as a person reads it in a message."""
    if isinstance(value, Decimal):
        return f"{value:,}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


__all__ = ["compose_route", "form_names", "line_table", "show"]

"""Validation of one form: parse problems, the spec's field checks, the resubmission numbers, the policy's 校验规则.

Never raises for bad data: returns a Report whose problems carry the cell or
control each one concerns, so the returned copy can mark it.
"""

from __future__ import annotations

from dataclasses import replace

from automation.problems import Report
from automation.validate.computed import fill_computed
from automation.validate.fields import check_fields
from automation.validate.people import check_people
from automation.validate.resubmission import resubmission_target
from automation.validate.rules import check_rules


def validate_form(rt, form, extra=(), lookups=None) -> tuple[Report, int | None]:
    """Everything checked about one form — and the returned case it continues, if it does.

    ``extra``: problems found before validation (e.g. a personal inbox's owner check);
    ``lookups``: the register look-ups for this form (one instance remembers its answers)."""
    existing, problems = resubmission_target(rt, form)
    return validate(rt, form, extra=[*problems, *extra], lookups=lookups), existing


def validate(rt, form, extra=(), lookups=None) -> Report:
    report = Report()
    lookups = lookups if lookups is not None else rt.lookups()
    spec_source = f"「{form.spec.title}」填写要求"
    report.extend(_cite(p, spec_source) for p in (*form.problems, *check_fields(form)))
    report.extend(extra)
    fill_computed(rt.policy, form, today=rt.clock.today(), lookups=lookups)
    flagged = {(p.field, p.row) for p in report.errors}
    report.extend(p for p in check_people(rt.policy, form) if (p.field, p.row) not in flagged)
    # All problems at once, so the person fixes the form in one go; rules treat blanks as unknown.
    rules = check_rules(rt.policy, form.spec, form.values, lookups=lookups, today=rt.clock.today())
    # One message per cell: a rule that restates a field check (e.g. 大写 vs 小写) is not repeated,
    # but the cell's problem then cites the rule book (依据) as well as the form's requirements.
    flagged = {(p.field, p.row): i for i, p in enumerate(report.problems) if p.is_error}
    for problem in (locate(p, form) for p in rules):
        at = flagged.get((problem.field, problem.row))
        if at is None:
            report.problems.append(problem)
        elif problem.is_error and problem.source:
            report.problems[at] = _also_cite(report.problems[at], problem.source, problem.rule)
    _cite_rule_books(rt.policy, form, report)
    report.stats = {"fields": len(form.spec.fields), "rows": sum(len(v) for v in form.values.values() if isinstance(v, list))}
    return report


def locate(problem, form):
    """Give a policy problem the cell of its field (or line-item cell) in this form."""
    if problem.location or not problem.field:
        return problem
    table = form.spec.tables[0].key if (problem.row and form.spec.tables) else None
    return problem.placed(form.location_of(problem.field, table, problem.row))


def _cite(problem, source: str):
    """Field checks come from the form's specification: say so in the 依据 column."""
    if problem.source:
        return problem
    where = f"{source} ·「{problem.field}」" if problem.field else source
    return replace(problem, source=where)


# Field checks that say what a rule book rule says (the grade's meaning, 大写 = 小写).
RESTATED = ("choice-invalid", "amount-upper-invalid", "amount-upper-mismatch")


def _cite_rule_books(policy, form, report) -> None:
    """A cell refused by the form's own check (客户等级 D, a wrong 大写) never reached the rule
    that the rule book states for that field: cite that rule's 依据 on the cell too."""
    by_field: dict[str, list] = {}
    for rule in policy.check_rules_for(form.spec.title):
        if rule.field and rule.level == "error" and rule.basis:
            by_field.setdefault(rule.field, []).append(rule)
    for i, problem in enumerate(report.problems):
        if problem.code in RESTATED and problem.field in by_field:
            for rule in by_field[problem.field]:
                report.problems[i] = _also_cite(report.problems[i], rule.source, rule.ref)


def _also_cite(problem, source: str, rule: str | None):
    """The problem cites ``source`` first, and ``rule`` (the policy row it names) becomes the rule it cites."""
    if source in (problem.source or ""):
        return problem
    return replace(problem, source=f"{source};{problem.source}" if problem.source else source,
                   rule=rule or problem.rule)

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


def validate_form(rt, form, extra=()) -> tuple[Report, int | None]:
    """Everything checked about one form — and the returned case it continues, if it does.

    ``extra``: problems found before validation (e.g. a personal inbox's owner check)."""
    existing, problems = resubmission_target(rt, form)
    return validate(rt, form, extra=[*problems, *extra]), existing


def validate(rt, form, extra=()) -> Report:
    report = Report()
    spec_source = f"「{form.spec.title}」填写要求"
    report.extend(_cite(p, spec_source) for p in (*form.problems, *check_fields(form)))
    report.extend(extra)
    fill_computed(rt.policy, form, today=rt.clock.today(), lookups=rt.lookups())
    flagged = {(p.field, p.row) for p in report.errors}
    report.extend(p for p in check_people(rt.policy, form) if (p.field, p.row) not in flagged)
    # All problems at once, so the person fixes the form in one go; rules treat blanks as unknown.
    rules = check_rules(rt.policy, form.spec, form.values, lookups=rt.lookups(), today=rt.clock.today())
    # One message per cell: a rule that restates a field check (e.g. 大写 vs 小写) is not repeated.
    flagged = {(p.field, p.row) for p in report.errors}
    report.extend(p for p in (locate(p, form) for p in rules) if (p.field, p.row) not in flagged)
    report.stats = {"fields": len(form.spec.fields), "rows": sum(len(v) for v in form.values.values() if isinstance(v, list))}
    return report


def locate(problem, form):
    """Give a policy problem the cell of its field (or line-item cell) in this form."""
    if problem.location or not problem.field:
        return problem
    table = form.spec.tables[0].key if (problem.row and form.spec.tables) else None
    return replace(problem, location=form.location_of(problem.field, table, problem.row))


def _cite(problem, source: str):
    """Field checks come from the form's specification: say so in the 依据 column."""
    if problem.source:
        return problem
    where = f"{source} ·「{problem.field}」" if problem.field else source
    return replace(problem, source=where)

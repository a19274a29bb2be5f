"""Opening a case for an accepted form — or continuing one returned for changes.

Runs inside the transaction that plans the file's move, so the case, its first
tasks, the business effects and the submission's destination commit together.
"""

from __future__ import annotations

from dataclasses import replace

from automation.act.effects import on_submitted
from automation.decide.engine import DecisionOutcome, load_case, opened_case
from automation.decide.outcome import record_outcome
from automation.forms.spec import CASE_FIELD
from automation.policy.numbering import CASE, COMPLAINT, allocate
from automation.record import codec
from automation.record.registers.render import mark_dirty, registers_for_tables
from automation.record.status import CaseStatus


def department_of(rt, form) -> str | None:
    """The applicant's department in 人员 (a 部门 field must agree with it; see validate.people)."""
    person = rt.policy.person(form.applicant)
    if person is not None and person.department:
        return person.department
    spec = form.spec
    return str(form.values[spec.department_field]) if spec.department_field and form.values.get(spec.department_field) else None


def case_number(rt, conn, spec, now) -> str:
    """The next 申请编号 from 编号规则, gap-free because it commits with the case."""
    return allocate(conn, rt.policy.numbering_rule(CASE, spec.title, default_code=spec.code or spec.id), now.date())


def open_or_continue(rt, conn, *, form, route, warnings, submission_id, now, existing, source_file=None,
                     file_hash: str | None = None) -> int:
    """``file_hash``: the submission's SHA-256, when the caller has it at hand (else it is read)."""
    spec = form.spec
    values = dict(form.values)
    number = load_case(conn, existing).number if existing else case_number(rt, conn, spec, now)
    values[CASE_FIELD] = number
    if spec.id == "complaint" and not values.get("投诉编号"):
        values["投诉编号"] = allocate(conn, rt.policy.numbering_rule(COMPLAINT, spec.title), now.date())
    route = replace(route, problems=list(warnings))
    cc = [[name, route.cc_timing.get(name, "通过后")] for name in route.cc]
    case = opened_case(  # (the case as it stands: the submission's effects change business records, never it)
        conn, number=number, spec=spec, values=values, applicant=form.applicant,
        department=department_of(rt, form), amount=values.get(spec.amount_field) if spec.amount_field else None,
        customer=values.get(spec.customer_field) if spec.customer_field else None, route=route,
        submission_id=submission_id, source_file=source_file, now=now, cal=rt.calendar, existing_case_id=existing,
        cc=codec.dumps(cc) if cc else None, file_hash=file_hash,
    )
    case_id = case.id
    tables = on_submitted(conn, case=case, values=values, policy=rt.policy, today=now.date(),
                          cal=rt.calendar, spec=spec)
    mark_dirty(conn, registers_for_tables(set(tables) | {"cases", "tasks"}), now, cases=[case_id])
    if case.status == "approved":  # every step passed automatically (审批人为空时:自动通过)
        record_outcome(conn, DecisionOutcome(case_id, CaseStatus.APPROVED, (), (), True), policy=rt.policy,
                       contracts=rt.settings.contracts, now=now, cal=rt.calendar)
    return case_id

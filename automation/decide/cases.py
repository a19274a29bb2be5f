"""Opening a case for an accepted form — or continuing one returned for changes.

Runs inside the transaction that plans the file's move, so the case, its first
tasks, the business effects and the submission's destination commit together.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from automation.act.effects import on_submitted
from automation.decide.engine import case_by_number, load_case, open_case, status_label
from automation.forms.spec import CASE_FIELD
from automation.policy.numbering import format_number
from automation.problems import kind
from automation.record import codec
from automation.record import schema as s
from automation.record.registers.render import mark_dirty, registers_for_tables
from automation.record.store import next_number

case_unknown = kind("case-number-unknown", "申请编号不存在",
                    "「申请编号」填写的 {value} 不存在。新申请请将此格留空;重新提交退回的申请时请保留系统填写的编号。")
case_other_form = kind("case-number-other-form", "申请编号属于其他表单",
                       "「申请编号」{value} 属于「{title}」,不能用于本表单。新申请请将此格留空。")
case_not_returned = kind("case-not-returned", "申请不能重新提交",
                         "申请 {value} 当前状态为「{status}」,只有被「退回修改」的申请才能重新提交。新申请请将「申请编号」留空。")


complaint_unknown = kind("complaint-number-unknown", "投诉编号不存在",
                         "「投诉编号」{value} 在投诉台账中不存在。首次提交投诉时请将此格留空,系统会自动编号;"
                         "后续跟进请填写系统给出的编号。")


def resubmission_target(rt, form) -> tuple[int | None, list]:
    """The returned case this form continues, or problems explaining why it cannot."""
    problems = _unknown_complaint(rt, form)
    number = form.values.get(CASE_FIELD)
    if not number:
        return None, problems
    where = dict(field=CASE_FIELD, location=form.location_of(CASE_FIELD), value=number)
    with rt.store.read() as conn:
        case = case_by_number(conn, str(number).strip())
    if case is None:
        return None, [*problems, case_unknown(**where)]
    if case["form_id"] != form.spec.id:
        return None, [*problems, case_other_form(title=case["form_title"], **where)]
    if case["status"] != "returned":
        return None, [*problems, case_not_returned(status=status_label(case["status"]), **where)]
    return case["id"], problems


def _unknown_complaint(rt, form) -> list:
    """A 投诉编号 ties follow-ups to a complaint the register knows; an invented one would overwrite another."""
    number = form.values.get("投诉编号") if form.spec.id == "complaint" else None
    if not number:
        return []
    with rt.store.read() as conn:
        known = conn.execute(select(s.complaints.c.id).where(s.complaints.c.number == str(number).strip())).first()
    return [] if known else [complaint_unknown(field="投诉编号", location=form.location_of("投诉编号"), value=number)]


def department_of(rt, form) -> str | None:
    spec = form.spec
    if spec.department_field and form.values.get(spec.department_field):
        return str(form.values[spec.department_field])
    person = rt.policy.people.get(form.applicant or "")
    return getattr(person, "department", None)


def case_number(rt, conn, spec, now) -> str:
    """The next 申请编号 from 编号规则, gap-free because it commits with the case."""
    return allocate_number(conn, rt.policy, "申请编号", spec.title, now.date(),
                           default="{表单代码}-{年}{月}-{序号:04d}", default_code=spec.id)


def allocate_number(conn, policy, name: str, title: str | None, day, *, default: str, default_code: str) -> str:
    rule = policy.numbering_for(name, title)
    fmt = rule.format if rule else default
    code = (rule.code if rule else None) or default_code
    period = f"{day:%Y-%m}" if "{月}" in fmt else f"{day:%Y}"
    seq = next_number(conn, f"{name}:{code}", period)
    return format_number(fmt, when=day, seq=seq, form_code=code)


def open_or_continue(rt, conn, *, form, route, warnings, submission_id, now, existing, source_file=None) -> int:
    spec = form.spec
    values = dict(form.values)
    number = load_case(conn, existing)["number"] if existing else case_number(rt, conn, spec, now)
    values[CASE_FIELD] = number
    if spec.id == "complaint" and not values.get("投诉编号"):
        values["投诉编号"] = allocate_number(conn, rt.policy, "投诉编号", spec.title, now.date(),
                                          default="TS-{年}-{序号:04d}", default_code="TS")
    route = replace(route, problems=list(warnings))
    case_id = open_case(
        conn, number=number, spec=spec, values=values, applicant=form.applicant,
        department=department_of(rt, form), amount=values.get(spec.amount_field) if spec.amount_field else None,
        customer=values.get(spec.customer_field) if spec.customer_field else None, route=route,
        submission_id=submission_id, source_file=source_file, now=now, cal=rt.calendar, existing_case_id=existing,
    )
    conn.execute(s.cases.update().where(s.cases.c.id == case_id).values(cc=codec.dumps(list(route.cc)) if route.cc else None))
    tables = on_submitted(conn, case=load_case(conn, case_id), values=values, policy=rt.policy, today=now.date(), cal=rt.calendar)
    mark_dirty(conn, registers_for_tables(set(tables) | {"cases", "tasks"}), now)
    return case_id

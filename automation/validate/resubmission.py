"""A form may continue a case: 申请编号 of a case returned for changes, 投诉编号 of a known complaint.

Checked with the rest of the form, so a wrong number returns the form with the
reason on its cell instead of opening a second case or overwriting another complaint.
"""

from __future__ import annotations

from sqlalchemy import select

from automation.decide.engine import case_by_number, status_label
from automation.forms.spec import CASE_FIELD
from automation.problems.form import (
    case_not_returned,
    case_other_form,
    case_unknown,
    complaint_unknown,
)
from automation.record import schema as s


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
    if case.form_id != form.spec.id:
        return None, [*problems, case_other_form(title=case.form_title, **where)]
    if case.status != "returned":
        return None, [*problems, case_not_returned(status=status_label(case.status), **where)]
    return case.id, problems


def _unknown_complaint(rt, form) -> list:
    """A 投诉编号 ties follow-ups to a complaint the register knows; an invented one would overwrite another."""
    number = form.values.get("投诉编号") if form.spec.id == "complaint" else None
    if not number:
        return []
    with rt.store.read() as conn:
        known = conn.execute(select(s.complaints.c.id).where(s.complaints.c.number == str(number).strip())).first()
    return [] if known else [complaint_unknown(field="投诉编号", location=form.location_of("投诉编号"), value=number)]

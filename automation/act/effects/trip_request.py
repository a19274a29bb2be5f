"""F5 出差申请表: the trip is on record from submission, so an F4 claim can cite it once approved."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from automation.act.effects.context import APPROVED, Effect, touched
from automation.record import schema as s

PENDING, APPROVED_STATUS, REJECTED_STATUS = "审批中", "已批准", "已驳回"


def submitted(fx: Effect) -> set[str]:
    trips = s.trips
    applicant = fx.text("申请人")
    values = {
        "number": fx.number,
        "applicant": applicant,
        "department": fx.text("部门") or fx.department_of(applicant, fx.case.department),
        "destination": fx.text("出差地点"),
        "start_on": fx.values.get("出发日期"),
        "end_on": fx.values.get("返回日期"),
        "status": PENDING,
    }
    # A resubmission after 退回修改 continues the case: same row, corrected dates.
    exists = fx.conn.execute(select(trips.c.id).where(trips.c.case_id == fx.case_id)).first()
    if exists:
        fx.conn.execute(trips.update().where(trips.c.case_id == fx.case_id).values(**values))
    else:
        fx.conn.execute(trips.insert().values(case_id=fx.case_id, **values))
    return {trips.name}


_SETTLE = (s.trips.update().where(s.trips.c.case_id == bindparam("case_id_"), s.trips.c.status == PENDING)
           .values(status=bindparam("status_")))  # built once


def decided(fx: Effect, outcome: str) -> set[str]:
    status = APPROVED_STATUS if outcome == APPROVED else REJECTED_STATUS
    result = fx.conn.execute(_SETTLE, {"case_id_": fx.case_id, "status_": status})
    return touched(s.trips, result.rowcount)

"""F6 客户投诉处理单: one complaint record, updated by every submission of its 投诉编号.

Clocks in working days (`000 · R-CP-01, R-CP-03, R-CP-06`):
答复期限 = 投诉日期 + 投诉答复工作日; 部门答复期限 = the day the case was first
passed to a 责任部门 + 责任部门答复工作日; 回访期限 = 方案完成日期 + 首次回访工作日.
Status follows R-CP-07: it closes only when a satisfied customer's form is
approved; 不满意 sends the case back to investigation (重新调查): the clocks start
again from that day, the plan and revisits of the failed round are cleared, and the
reopen is counted (重新调查次数 in 投诉台账). The 责任部门 is told by the 抄送 row of
the pack that copies an unsatisfied customer's form to that department's manager.
"""

from __future__ import annotations

from sqlalchemy import select

from automation.act.effects.context import APPROVED, Effect, EffectError, touched
from automation.record import schema as s

RECEIVED, INVESTIGATING, AWAITING_REVISIT, CLOSED, REOPENED = "受理", "调查处理", "待回访", "已结案", "重新调查"
SATISFIED = ("满意", "非常满意")
UNSATISFIED = "不满意"


def submitted(fx: Effect) -> set[str]:
    return _record(fx, closing=False)


def decided(fx: Effect, outcome: str) -> set[str]:
    # Only an approval can close a case; a rejected or returned form leaves the
    # record as its submission left it.
    return _record(fx, closing=True) if outcome == APPROVED else set()


def status_of(values: dict, closing: bool) -> str:
    satisfaction = values.get("客户满意度")
    if satisfaction == UNSATISFIED:
        return REOPENED
    if satisfaction in SATISFIED and closing:
        return CLOSED
    if values.get("方案完成日期"):
        return AWAITING_REVISIT
    if values.get("责任部门") or values.get("处理方案"):
        return INVESTIGATING
    return RECEIVED


def _record(fx: Effect, closing: bool) -> set[str]:
    number = fx.text("投诉编号")
    if not number:
        raise EffectError(f"投诉处理单 {fx.number} 没有投诉编号,无法登记投诉台账;"
                          "首次提交时应由系统先分配投诉编号。", location=fx.number)
    table = s.complaints
    existing = fx.conn.execute(select(table).where(table.c.number == number)).first()
    values = _columns(fx, existing, closing)
    if existing is None:
        fx.conn.execute(table.insert().values(number=number, **values))
        return {table.name}
    changed = {k: v for k, v in values.items() if getattr(existing, k) != v}
    if not changed:
        return set()
    fx.conn.execute(table.update().where(table.c.id == existing.id).values(**changed))
    return touched(table, 1)


def _columns(fx: Effect, existing, closing: bool) -> dict:
    status = status_of(fx.values, closing)
    if status == REOPENED:
        return _reopened(fx, existing)
    department = fx.text("责任部门")
    passed_on = _passed_on(fx, existing, department)
    plan_done = fx.values.get("方案完成日期")
    return {
        "case_id": fx.case_id,
        "customer": fx.text("客户名称"),
        "complaint_type": fx.text("投诉类型"),
        "severity": fx.text("严重程度"),
        "complained_on": fx.values.get("投诉日期"),
        "reply_due": fx.add_workdays(_reply_clock_start(fx, existing), fx.param_int("投诉答复工作日", 5)),
        "department": department or (existing.department if existing else None),
        "dept_passed_on": passed_on,
        "dept_reply_due": fx.add_workdays(passed_on, fx.param_int("责任部门答复工作日", 3)),
        "plan_done_on": plan_done,
        "revisit_due": fx.add_workdays(plan_done, fx.param_int("首次回访工作日", 5)),
        "revisits": len(fx.values.get("回访日期") or []),
        "satisfaction": fx.text("客户满意度"),
        "status": status,
        "closed_on": _closed_on(fx, existing, status),
    }


def _reopened(fx: Effect, existing) -> dict:
    """不满意: investigation again, every clock restarted from today (`000 · R-CP-07`).

    Counted once per reopening: later submissions while the case is still 重新调查
    (the same round, or its approval) do not count again.
    """
    department = fx.text("责任部门") or (existing.department if existing else None)
    again = existing is None or existing.status != REOPENED
    restarted = fx.today if again or existing.reopened_on is None else existing.reopened_on
    return {
        "case_id": fx.case_id,
        "customer": fx.text("客户名称"),
        "complaint_type": fx.text("投诉类型"),
        "severity": fx.text("严重程度"),
        "complained_on": fx.values.get("投诉日期"),
        "reply_due": fx.add_workdays(restarted, fx.param_int("投诉答复工作日", 5)),
        "department": department,
        "dept_passed_on": restarted if department else None,
        "dept_reply_due": fx.add_workdays(restarted, fx.param_int("责任部门答复工作日", 3)) if department else None,
        "plan_done_on": None,
        "revisit_due": None,
        "revisits": 0,
        "satisfaction": UNSATISFIED,
        "status": REOPENED,
        "closed_on": None,
        "reopens": ((existing.reopens or 0) if existing else 0) + (1 if again else 0),
        "reopened_on": restarted,
    }


def _reply_clock_start(fx: Effect, existing):
    """The complaint's date, or the day an unsatisfied customer reopened it."""
    reopened = existing.reopened_on if existing is not None else None
    return reopened or fx.values.get("投诉日期")


def _passed_on(fx: Effect, existing, department: str | None):
    """The day of the first submission naming a 责任部门; later ones do not restart the clock."""
    if existing is not None and existing.dept_passed_on is not None:
        return existing.dept_passed_on
    return fx.today if department else None


def _closed_on(fx: Effect, existing, status: str):
    if status != CLOSED:
        return None
    return existing.closed_on if existing is not None and existing.closed_on else fx.today

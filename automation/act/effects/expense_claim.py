"""F4 费用报销单: one expense line per 明细 row, counted from submission on.

Lines enter as 审批中 so the month-to-date caps (办公电话月限额, 办公用品月限额,
`001 · S1-R100, S1-R103`) count pending claims too; the decision turns them
into 已批准 or 已驳回. A claim returned for changes is 已驳回 and its
resubmission brings fresh lines. The month is the month the cost arose in.
An approved claim that names a 借款单号 settles that loan (冲借款, F10).
"""

from __future__ import annotations

from automation.act.effects import loan_request
from automation.act.effects.context import APPROVED, Effect, touched
from automation.record import schema as s

PENDING, APPROVED_STATUS, REJECTED_STATUS = "审批中", "已批准", "已驳回"


def submitted(fx: Effect) -> set[str]:
    lines = s.expense_lines
    # A repeated submission of the same round replaces its pending lines instead of doubling them.
    removed = fx.conn.execute(lines.delete().where(
        lines.c.case_id == fx.case_id, lines.c.status == PENDING)).rowcount
    rows = [_line(fx, row) for row in fx.rows()]
    if rows:
        fx.conn.execute(lines.insert(), rows)
    return touched(lines, removed + len(rows))


def decided(fx: Effect, outcome: str) -> set[str]:
    lines = s.expense_lines
    status = APPROVED_STATUS if outcome == APPROVED else REJECTED_STATUS
    result = fx.conn.execute(lines.update().where(
        lines.c.case_id == fx.case_id, lines.c.status == PENDING).values(status=status))
    settled = loan_request.settle(fx, fx.values.get("合计金额")) if outcome == APPROVED else set()
    return touched(lines, result.rowcount) | settled


def _line(fx: Effect, row: dict) -> dict:
    claimant = fx.text("报销人")
    occurred = row.get("发生日期")
    return {
        "case_id": fx.case_id,
        "claim_number": fx.number,
        "claimant": claimant,
        "department": fx.text("部门") or fx.department_of(claimant, fx.case.department),
        "category": row.get("费用类别"),
        "occurred_on": occurred,
        "amount": row.get("金额"),
        "month": occurred.strftime("%Y-%m") if occurred else None,
        "status": PENDING,
    }

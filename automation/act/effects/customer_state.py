"""A customer's 状态 (正常 / 黑名单 / 停用) changes through one function, with its history.

Whatever sets the state — an approved 客户状态变更单, an import — calls
:func:`change_status`; the blacklist checks of F1, F2 and F3 read
``customers.status`` (`004 · S4-R02`), and 客户台账 shows every change.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.engine import Connection

from automation.act.effects.customer_registration import find_customer
from automation.errors import OfficeFlowError
from automation.record import schema as s
from automation.record.registers import row_marks

STATES = ("正常", "黑名单", "停用")


def change_status(conn: Connection, customer: str, status: str, *, on: date, reason: str | None = None,
                  case_number: str | None = None, source: str | None = None, credit_code: str | None = None,
                  case_id: int | None = None) -> bool:
    """Set the customer's 状态 and record the change; False when it already had that state."""
    if status not in STATES:
        raise OfficeFlowError(f"客户状态只能是 {'、'.join(STATES)},不能设为「{status}」。", code="customer-status-invalid")
    row = find_customer(conn, customer, credit_code)
    if row is None:
        raise OfficeFlowError(f"客户「{customer}」尚未登记,无法变更状态。", code="customer-unknown")
    if row.status == status:
        return False
    conn.execute(s.customers.update().where(s.customers.c.id == row.id).values(status=status))
    conn.execute(s.customer_status_history.insert().values(
        customer=row.name, old_status=row.status, new_status=status, case_id=case_id, number=case_number,
        reason=reason or source, on=on))
    row_marks.customers_changed(conn, [row.id])  # its 状态 and 状态变更记录
    return True


def history(conn: Connection, customer: str) -> list:
    h = s.customer_status_history.c
    return list(conn.execute(select(s.customer_status_history).where(h.customer == customer).order_by(h.id)))

"""F13 客户状态变更单: an approved change sets the customer's 状态 and keeps its history.

From then on the customer's state is what F1, F2 and F3 check: a 黑名单
customer is refused by all three (`004 · S4-R02`). Each change is kept with
its date, case and reason, and 客户台账 shows the history.
"""

from __future__ import annotations

from sqlalchemy import select

from automation.act.effects.context import APPROVED, Effect, EffectError
from automation.act.effects.customer_registration import find_customer
from automation.act.effects.customer_state import change_status
from automation.record import schema as s


def decided(fx: Effect, outcome: str) -> set[str]:
    if outcome != APPROVED or _already_recorded(fx):
        return set()
    customer = find_customer(fx.conn, fx.text("客户名称"))
    if customer is None:
        raise EffectError(f"客户状态变更 {fx.number} 已批准,但客户「{fx.text('客户名称')}」不在客户台账中。",
                          location=fx.number)
    change_status(fx.conn, customer.name, fx.text("变更后状态"), on=fx.today, reason=fx.text("原因"),
                  case_number=fx.number, case_id=fx.case_id, source="客户状态变更单")  # the one door
    return {s.customers.name, s.customer_status_history.name}


def _already_recorded(fx: Effect) -> bool:
    h = s.customer_status_history.c
    return fx.conn.execute(select(h.id).where(h.case_id == fx.case_id)).first() is not None

"""F13 客户状态变更单: an approved change sets the customer's 状态 and keeps its history.

From then on the customer's state is what F1, F2 and F3 check: a 黑名单
customer is refused by all three (`004 · S4-R02`). Each change is kept with
its date, case and reason, and 客户台账 shows the history.
"""

from __future__ import annotations

from sqlalchemy import select

from automation.act.effects.context import APPROVED, Effect, EffectError
from automation.act.effects.customer_registration import find_customer
from automation.record import schema as s


def decided(fx: Effect, outcome: str) -> set[str]:
    if outcome != APPROVED or _already_recorded(fx):
        return set()
    customer = find_customer(fx.conn, fx.text("客户名称"))
    if customer is None:
        raise EffectError(f"客户状态变更 {fx.number} 已批准,但客户「{fx.text('客户名称')}」不在客户台账中。",
                          location=fx.number)
    new_status = fx.text("变更后状态")
    fx.conn.execute(s.customers.update().where(s.customers.c.id == customer.id).values(status=new_status))
    fx.conn.execute(s.customer_status_history.insert().values(
        customer=customer.name, old_status=customer.status, new_status=new_status, case_id=fx.case_id,
        number=fx.number, reason=fx.text("原因"), on=fx.today,
    ))
    return {s.customers.name, s.customer_status_history.name}


def _already_recorded(fx: Effect) -> bool:
    h = s.customer_status_history.c
    return fx.conn.execute(select(h.id).where(h.case_id == fx.case_id)).first() is not None

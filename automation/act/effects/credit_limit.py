"""F2 客户信用额度申请表: an approved application sets the customer's credit terms.

The review date is 信用复核月数 months ahead (`000 · R-CR-03`); the customer
register flags it once it has passed.
"""

from __future__ import annotations

from automation.act.effects.context import (
    APPROVED,
    Effect,
    EffectError,
    add_months,
    touched,
)
from automation.act.effects.customer_registration import find_customer
from automation.record import schema as s
from automation.record.registers import row_marks


def decided(fx: Effect, outcome: str) -> set[str]:
    if outcome != APPROVED:
        return set()
    name = fx.text("客户名称")
    customer = find_customer(fx.conn, name)
    if customer is None:
        raise EffectError(f"信用额度申请 {fx.number} 已批准,但客户台账中没有「{name}」,无法设置额度。"
                          "请先登记该客户,再重新处理此申请。", location=fx.number)
    result = fx.conn.execute(s.customers.update().where(s.customers.c.id == customer.id).values(
        credit_limit=fx.values.get("申请信用额度"),
        terms_days=_whole(fx.values.get("账期天数")),
        credit_grade=fx.text("信用等级"),
        review_due=add_months(fx.today, fx.param_int("信用复核月数", 12)),
    ))
    row_marks.customers_changed(fx.conn, [customer.id])
    return touched(s.customers, result.rowcount)


def _whole(value) -> int | None:
    return None if value in (None, "") else int(value)

"""F11 回款登记单: an approved receipt reduces the contract's open receivable.

`001 · S1-R79` clears the receivable against the 收款收据 or 银行到款通知单 at
once, which frees the customer's credit for the next 销售合同审批表 (F3) and
lowers what a 坏账核销审批表 (F8) may write off. The receipt row is written
against the spelling of the contract's own receivable, so the two net.
The 回款台账 itself is declared in the form's spec (the generic effect).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from automation.act.effects.context import APPROVED, Effect
from automation.act.effects.customer_registration import canonical_name, touch_customer
from automation.record import schema as s
from automation.record.registers import row_marks

RECEIVABLE_KIND = "receipt"
CENT = Decimal("0.01")


def decided(fx: Effect, outcome: str) -> set[str]:
    if outcome != APPROVED or _already_recorded(fx):
        return set()
    contract = fx.text("原合同编号")
    amount = Decimal(fx.values["回款金额"]).quantize(CENT, rounding=ROUND_HALF_UP)
    customer = _receivable_customer(fx, contract)
    fx.conn.execute(s.receivables.insert().values(
        customer=customer, contract_number=contract, amount=-amount,
        kind=RECEIVABLE_KIND, case_id=fx.case_id, on=fx.values.get("回款日期") or fx.today,
    ))
    row_marks.receivable_booked(fx.conn, customer, contract)
    return {s.receivables.name, s.contracts.name} | touch_customer(fx.conn, fx.text("客户名称"), fx.today)


def _already_recorded(fx: Effect) -> bool:
    r = s.receivables.c
    return fx.conn.execute(select(r.id).where(r.case_id == fx.case_id, r.kind == RECEIVABLE_KIND)).first() is not None


def _receivable_customer(fx: Effect, contract: str | None) -> str | None:
    r = s.receivables.c
    row = fx.conn.execute(select(r.customer).where(r.contract_number == contract).order_by(r.id)).first()
    return row.customer if row else canonical_name(fx.conn, fx.text("客户名称"))

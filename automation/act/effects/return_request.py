"""F7 退货申请单: approved returns become red (negative) lines netted against the contract.

Summing ``return_lines.quantity`` with the contract's own quantities gives what
the customer still holds (`000 · R-SD-17`). When the contract was sold on 账期,
the returned goods' value also comes off the customer's open receivable
(kind ``return``), so a later write-off cannot exceed what is really owed.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from automation.act.effects.context import APPROVED, Effect, EffectError, touched
from automation.act.effects.sales_contract import ON_ACCOUNT
from automation.record import codec
from automation.record import schema as s
from automation.record.registers import row_marks

APPROVED_STATUS = "已批准"
RECEIVABLE_KIND = "return"
CENT = Decimal("0.01")


def decided(fx: Effect, outcome: str) -> set[str]:
    if outcome != APPROVED or _already_recorded(fx):
        return set()
    contract = _contract(fx)
    lines = [_line(fx, row) for row in fx.rows()]
    if lines:
        fx.conn.execute(s.return_lines.insert(), lines)
    tables = touched(s.return_lines, len(lines))
    if contract.payment == ON_ACCOUNT:
        tables |= _reduce_receivable(fx, contract)
    return tables


def _already_recorded(fx: Effect) -> bool:
    r = s.return_lines.c
    return fx.conn.execute(select(r.id).where(r.case_id == fx.case_id).limit(1)).first() is not None


def _contract(fx: Effect):
    number = fx.text("原合同编号")
    row = fx.conn.execute(select(s.contracts).where(s.contracts.c.number == number)).first()
    if row is None:
        raise EffectError(f"退货申请 {fx.number} 已批准,但合同台账中没有原合同「{number}」,无法冲减。",
                          location=fx.number)
    return row


def _line(fx: Effect, row: dict) -> dict:
    return {
        "case_id": fx.case_id,
        "number": fx.number,
        "contract_number": fx.text("原合同编号"),
        "product": row.get("品名"),
        "quantity": -Decimal(row.get("退货数量")),
        "reason": row.get("退货原因"),
        "status": APPROVED_STATUS,
    }


def _reduce_receivable(fx: Effect, contract) -> set[str]:
    items = codec.loads(contract.items) or []
    value = sum((_returned_value(row, items) for row in fx.rows()), Decimal("0.00"))
    if not value:
        return set()
    fx.conn.execute(s.receivables.insert().values(
        customer=contract.customer, contract_number=contract.number, amount=-value,
        kind=RECEIVABLE_KIND, case_id=fx.case_id, on=fx.today,
    ))
    row_marks.receivable_booked(fx.conn, contract.customer, contract.number)
    return {s.receivables.name}


def _returned_value(row: dict, items: list[dict]) -> Decimal:
    """退货数量 × the contract's 单价 for that 品名 (and 规格型号 when both give one)."""
    item = next((i for i in items if _same_product(row, i)), None)
    if item is None or item.get("单价") is None:
        return Decimal("0.00")
    return (Decimal(row.get("退货数量")) * Decimal(item["单价"])).quantize(CENT, rounding=ROUND_HALF_UP)  # 四舍五入, as on an invoice


def _same_product(row: dict, item: dict) -> bool:
    if item.get("品名") != row.get("品名"):
        return False
    spec, item_spec = row.get("规格型号"), item.get("规格型号")
    return not spec or not item_spec or spec == item_spec

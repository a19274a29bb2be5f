"""F3 销售合同审批表: an approved contract fills its register row and, on 账期, a receivable.

The row itself (number, year, status) was made by the contracts engine when it
allocated the number; this module writes the business columns. 应发货日期 is
the approval date + 发货工作日 (`000 · R-SD-12`).
"""

from __future__ import annotations

from sqlalchemy import select

from automation.act.effects.context import APPROVED, Effect, EffectError
from automation.act.effects.customer_registration import canonical_name, touch_customer
from automation.record import codec
from automation.record import schema as s
from automation.record.registers import row_marks

ON_ACCOUNT = "账期"
RECEIVABLE_KIND = "contract"


def decided(fx: Effect, outcome: str) -> set[str]:
    if outcome != APPROVED:
        return set()
    number = _fill_contract(fx)
    tables = {s.contracts.name}
    if fx.text("付款方式") == ON_ACCOUNT:
        tables |= _open_receivable(fx, number)
    return tables | touch_customer(fx.conn, fx.text("客户名称"), fx.today)


def _fill_contract(fx: Effect) -> str:
    c = s.contracts.c
    row = fx.conn.execute(select(c.id, c.number).where(c.case_id == fx.case_id)).first()
    if row is None:
        raise EffectError(f"合同审批 {fx.number} 已批准,但还没有分配合同编号,无法登记合同台账。"
                          "请先分配合同编号(allocate_contract_number),再登记。", location=fx.number)
    fx.conn.execute(s.contracts.update().where(c.case_id == fx.case_id).values(
        customer=canonical_name(fx.conn, fx.text("客户名称")),
        amount=fx.values.get("合同金额"),
        contract_type=fx.text("合同类型"),
        signed_on=fx.values.get("签订日期"),
        delivery_on=fx.values.get("交货日期"),
        ship_due_on=fx.add_workdays(fx.today, fx.param_int("发货工作日", 1)),
        payment=fx.text("付款方式"),
        approved_on=fx.today,
        approvers=approvers_of(fx),
        items=codec.dumps(fx.rows()),
    ))
    row_marks.contracts_changed(fx.conn, [row.id])
    return row.number


def approvers_of(fx: Effect) -> str:
    """Who approved, in chain order, from this round's tasks ("王五、赵六(代 钱七)")."""
    t = s.tasks.c
    query = select(t.assignee, t.on_behalf_of).where(t.case_id == fx.case_id, t.status == "approved")
    if fx.case.round is not None:
        query = query.where(t.round == fx.case.round)
    names: list[str] = []
    for row in fx.conn.execute(query.order_by(t.step_index, t.id)):
        label = f"{row.assignee}(代 {row.on_behalf_of})" if row.on_behalf_of else row.assignee
        if label not in names:
            names.append(label)
    return "、".join(names)


def _open_receivable(fx: Effect, contract_number: str) -> set[str]:
    r = s.receivables.c
    # Approval is recorded once, but a receivable counted twice would block the
    # customer's next contract, so be sure.
    exists = fx.conn.execute(select(r.id).where(r.case_id == fx.case_id, r.kind == RECEIVABLE_KIND)).first()
    if exists:
        return set()
    customer = canonical_name(fx.conn, fx.text("客户名称"))
    fx.conn.execute(s.receivables.insert().values(
        customer=customer, contract_number=contract_number, amount=fx.values.get("合同金额"),
        kind=RECEIVABLE_KIND, case_id=fx.case_id, on=fx.today,
    ))
    row_marks.receivable_booked(fx.conn, customer, contract_number)
    return {s.receivables.name}

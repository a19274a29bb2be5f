"""F10 借款单: an approved loan is open in 借款台账 until expense claims settle it.

应还日期 is the 预计还款日期 the form gives (at most a month after the loan,
`001 · S1-R81, S1-R85`); a loan not settled by then is overdue, and the register
highlights it for payroll ("超期自动从工资中扣除"). A 费用报销单 that names the
借款单号 settles (冲借款) up to what is still owed: see :func:`settle`.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from automation.act.effects.context import APPROVED, Effect
from automation.record import schema as s

OPEN, SETTLED = "未还清", "已还清"
LOAN_FIELD = "借款单号"


def decided(fx: Effect, outcome: str) -> set[str]:
    if outcome != APPROVED:
        return set()
    if fx.conn.execute(select(s.loans.c.id).where(s.loans.c.case_id == fx.case_id)).first():
        return set()
    borrower = fx.text("借款人")
    fx.conn.execute(s.loans.insert().values(
        case_id=fx.case_id, number=fx.number, borrower=borrower,
        department=fx.text("部门") or fx.department_of(borrower, fx.case.department),
        loan_type=fx.text("借款类型"), amount=fx.values.get("借款金额"), lent_on=fx.values.get("借款日期"),
        due_on=fx.values.get("预计还款日期"), status=OPEN,
    ))
    return {s.loans.name}


def outstanding(conn, number: str) -> Decimal | None:
    """What is still owed on an approved loan; None when there is no such loan."""
    loan = conn.execute(select(s.loans.c.amount).where(s.loans.c.number == number)).first()
    if loan is None:
        return None
    paid = conn.execute(select(func.sum(s.loan_settlements.c.amount))
                        .where(s.loan_settlements.c.loan_number == number)).scalar()
    return loan.amount - Decimal(paid or 0)


def settle(fx: Effect, amount: Decimal | None) -> set[str]:
    """An approved expense claim naming a 借款单号 settles the loan, up to what is owed."""
    number = fx.text(LOAN_FIELD)
    owed = outstanding(fx.conn, number) if number else None
    if not owed or owed <= 0 or not amount:
        return set()
    ls = s.loan_settlements
    if fx.conn.execute(select(ls.c.id).where(ls.c.case_id == fx.case_id)).first():
        return set()
    paid = min(Decimal(amount), owed)
    fx.conn.execute(ls.insert().values(loan_number=number, case_id=fx.case_id, claim_number=fx.number,
                                       amount=paid, on=fx.today))
    if paid == owed:
        fx.conn.execute(s.loans.update().where(s.loans.c.number == number).values(status=SETTLED))
    return {s.loans.name, ls.name}

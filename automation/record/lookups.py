"""Register look-ups for policy conditions, answered from the store.

Customers are matched by their normalised name (see :func:`normalise_name`),
so 「上海 甲乙 有限公司」 and 「上海甲乙」 are the same customer; whoever writes
``customers.norm_name`` must use the same function.
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager, nullcontext
from datetime import date
from decimal import Decimal

from functools import lru_cache

from sqlalchemy import bindparam, func, or_, select

from automation.clock import Clock
from automation.record import codec
from automation.record import schema as s
from automation.record.names import normalise_customer_name
from automation.record.status import CaseStatus
from automation.record.store import Store

COUNTED_EXPENSES = ("审批中", "已批准")  # a rejected claim no longer uses the month's cap
APPROVED = "已批准"
REJECTED = "已驳回"


def normalise_name(name: str) -> str:
    """One normaliser for the whole program: the register's norm_name is written with it too."""
    return normalise_customer_name(name)


_c = s.customers.c
_CUSTOMER = (select(s.customers).where(or_(_c.name == bindparam("name"), _c.norm_name == bindparam("norm")))
             .order_by((_c.name == bindparam("name")).desc(), _c.id))
_STATUS_BY_CODE = select(_c.status).where(_c.credit_code == bindparam("code"))


@lru_cache(maxsize=8)
def _holder_query(by_name: bool, by_code: bool, other_owner: bool):
    """Who holds a customer: one statement per shape of the question, built once."""
    same = []
    if by_name:
        same.append(_c.norm_name == bindparam("norm"))
    if by_code:
        same.append(_c.credit_code == bindparam("code"))
    active_on = func.coalesce(_c.last_active_on, _c.registered_on)
    query = select(_c.owner, _c.department, _c.registered_on, active_on.label("active_on")).where(
        or_(*same), _c.owner.is_not(None), active_on >= bindparam("since"))
    if other_owner:
        query = query.where(_c.owner != bindparam("salesperson"))
    return query.order_by(_c.id)


class StoreLookups:
    """Answers from the store. One instance answers one question asked twice the same (the
    holder of a customer is asked by three functions of one rule set) from memory: use a fresh
    instance for each form judged, as ``Runtime.lookups()`` gives."""

    def __init__(self, store: Store, clock: Clock | None = None):
        self.store = store
        self.clock = clock or store.clock
        self._memo: dict = {}
        self._held: ExitStack | None = None
        self._conn = None

    @contextmanager
    def held(self):
        """Within the block every question goes over one read connection, opened at the first
        question and given back at the end: a form's three customer questions paid a pool checkout
        and return each (about half their cost). Nothing is remembered across questions but the
        memo: the connection is in autocommit and a statement's snapshot ends with it, so each answer
        is what is committed when it is asked, as with a connection per question."""
        self._held = ExitStack()
        try:
            with self._held:
                yield self
        finally:
            self._held = self._conn = None

    def _reading(self):
        if self._held is None:
            return self.store.read()
        if self._conn is None:
            self._conn = self._held.enter_context(self.store.read())
        else:
            self.store.flush()  # as read() does: this process reads its own deferred writes
        return nullcontext(self._conn)

    def _one(self, query, params=None):
        with self._reading() as conn:
            return conn.execute(query, params).first()

    def _scalar(self, query):
        with self._reading() as conn:
            return conn.execute(query).scalar()

    def _customer(self, name: str):
        key = ("customer", name)
        if key not in self._memo:
            self._memo[key] = self._one(_CUSTOMER, {"name": name, "norm": normalise_name(name)})
        return self._memo[key]

    # --- customers -------------------------------------------------------------

    def customer_registered(self, name: str) -> bool:
        return self._customer(name) is not None

    def customer_status(self, name: str) -> str | None:
        row = self._customer(name)
        return row.status if row else None

    def customer_grade(self, name: str) -> str | None:
        row = self._customer(name)
        return row.grade if row else None

    def customer_credit_limit(self, name: str) -> Decimal:
        row = self._customer(name)
        return row.credit_limit if row and row.credit_limit is not None else Decimal("0.00")

    def customer_open_receivables(self, name: str) -> Decimal:
        row = self._customer(name)
        names = {name, row.name} if row else {name}
        total = self._scalar(select(func.sum(s.receivables.c.amount)).where(s.receivables.c.customer.in_(names)))
        return _yuan(total)

    def customer_conflict(self, name: str | None, credit_code: str | None, salesperson: str | None,
                          since: date) -> str | None:
        holder = self.customer_holder(name, credit_code, salesperson, since)
        return holder["owner"] if holder else None

    def customer_holder(self, name: str | None, credit_code: str | None, salesperson: str | None,
                        since: date) -> dict | None:
        """Who else holds this customer within the protection period: owner, department, dates."""
        if not name and not credit_code:
            return None
        key = ("holder", name, credit_code, salesperson, since)
        if key not in self._memo:
            params = {"since": since, "norm": normalise_name(name) if name else None,
                      "code": credit_code.strip().upper() if credit_code else None, "salesperson": salesperson}
            row = self._one(_holder_query(bool(name), bool(credit_code), bool(salesperson)), params)
            self._memo[key] = None if row is None else {
                "owner": row.owner, "department": row.department, "registered_on": row.registered_on,
                "last_active_on": row.active_on}
        found = self._memo[key]
        return None if found is None else dict(found)

    def customer_status_by_code(self, credit_code: str) -> str | None:
        row = self._one(_STATUS_BY_CODE, {"code": credit_code.strip().upper()})
        return row.status if row else None

    # --- expenses and trips -------------------------------------------------------

    def department_month_expenses(self, department: str, category: str, day: date) -> Decimal:
        e = s.expense_lines.c
        total = self._scalar(select(func.sum(e.amount)).where(
            e.department == department, e.category == category, e.month == f"{day:%Y-%m}",
            e.status.in_(COUNTED_EXPENSES)))
        return _yuan(total)

    def trip_valid(self, number: str, day: date) -> bool:
        t = s.trips.c
        return self._one(select(t.id).where(t.number == number, t.status == APPROVED, t.start_on <= day,
                                            t.end_on >= day)) is not None

    # --- contracts --------------------------------------------------------------------

    def _contract(self, number: str):
        return self._one(select(s.contracts).where(s.contracts.c.number == number))

    def contract_exists(self, number: str, customer: str | None) -> bool:
        row = self._contract(number)
        if row is None:
            return False
        return customer is None or normalise_name(customer) == normalise_name(row.customer or "")

    def contract_returnable(self, number: str, product: str) -> Decimal | None:
        row = self._contract(number)
        items = [i for i in (codec.loads(row.items) or []) if i.get("品名") == product] if row else []
        if not items:
            return None
        contracted = sum((Decimal(i.get("数量") or 0) for i in items), Decimal(0))
        return contracted - self._returned(number, product)

    def _returned(self, number: str, product: str) -> Decimal:
        r = s.return_lines.c
        with self._reading() as conn:
            quantities = conn.execute(select(r.quantity).where(
                r.contract_number == number, r.product == product, r.status != REJECTED)).scalars().all()
        # return lines are red (negative) rows; either sign counts as a quantity returned
        return sum((abs(q) for q in quantities if q is not None), Decimal(0))

    def contract_open_receivable(self, number: str) -> Decimal:
        total = self._scalar(select(func.sum(s.receivables.c.amount)).where(
            s.receivables.c.contract_number == number))
        return _yuan(total)


    # --- trips and loans (F10 借款单) ------------------------------------------------------

    def trip_approved(self, number: str) -> bool:
        t = s.trips.c
        return self._one(select(t.id).where(t.number == number, t.status == APPROVED)) is not None

    def loan_outstanding(self, number: str) -> Decimal | None:
        loan = self._one(select(s.loans.c.amount).where(s.loans.c.number == number))
        if loan is None:
            return None
        paid = self._scalar(select(func.sum(s.loan_settlements.c.amount))
                            .where(s.loan_settlements.c.loan_number == number))
        return _yuan(loan.amount - Decimal(paid or 0))

    def loan_borrower(self, number: str) -> str | None:
        loan = self._one(select(s.loans.c.borrower).where(s.loans.c.number == number))
        return None if loan is None else loan.borrower

    # --- yearly totals (days of leave a year, and the like) ------------------------------

    def year_total(self, form_title: str, field: str, person: str, date_field: str, year: int,
                   where: tuple[str, object] | None) -> Decimal:
        c = s.cases.c
        with self._reading() as conn:
            rows = conn.execute(select(c.data).where(
                c.form_title == form_title, c.applicant == person,
                c.status.in_((CaseStatus.IN_APPROVAL, CaseStatus.APPROVED, CaseStatus.BLOCKED)))).scalars().all()
        total = Decimal(0)
        for data in rows:
            values = codec.loads(data)
            day = values.get(date_field)
            if not isinstance(day, date) or day.year != year:
                continue
            if where is not None and str(values.get(where[0])) != str(where[1]):
                continue
            number = values.get(field)
            if isinstance(number, (int, Decimal)) and not isinstance(number, bool):
                total += Decimal(number)
        return total


def _yuan(total) -> Decimal:
    # SUM over a Money column keeps the column type, so it arrives in yuan already; None when no rows
    return Decimal(total or 0).quantize(Decimal("0.01"))

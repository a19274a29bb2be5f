"""What the policy functions may ask the registers. The store implements it
(:class:`automation.record.lookups.StoreLookups`); tests and ``policy check``
may pass :class:`NoLookups`, which knows no customers, contracts or trips.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Protocol


class Lookups(Protocol):
    def customer_registered(self, name: str) -> bool: ...

    def customer_status(self, name: str) -> str | None: ...

    def customer_grade(self, name: str) -> str | None: ...

    def customer_credit_limit(self, name: str) -> Decimal: ...

    def customer_open_receivables(self, name: str) -> Decimal: ...

    def customer_conflict(self, name: str, credit_code: str | None, salesperson: str | None,
                          since: date) -> str | None:
        """The other salesperson holding the same customer, active on or after ``since``."""

    def department_month_expenses(self, department: str, category: str, day: date) -> Decimal: ...

    def trip_valid(self, number: str, day: date) -> bool: ...

    def contract_exists(self, number: str, customer: str | None) -> bool: ...

    def contract_returnable(self, number: str, product: str) -> Decimal | None:
        """Contracted quantity minus quantities already returned; None when the product is not on it."""

    def contract_open_receivable(self, number: str) -> Decimal: ...

    def trip_approved(self, number: str) -> bool: ...

    def loan_outstanding(self, number: str) -> Decimal | None:
        """What is still owed on an approved loan; None when there is no such loan."""

    def loan_borrower(self, number: str) -> str | None:
        """Who borrowed on an approved loan; None when there is no such loan."""

    def year_total(self, form_title: str, field: str, person: str, date_field: str, year: int,
                   where: tuple[str, object] | None) -> Decimal:
        """The sum of ``field`` over ``person``'s cases of the form (审批中 or 已批准) dated in ``year``."""


class NoLookups:
    """An empty register: nothing registered, nothing owed."""

    def customer_registered(self, name):
        return False

    def customer_status(self, name):
        return None

    def customer_grade(self, name):
        return None

    def customer_credit_limit(self, name):
        return Decimal(0)

    def customer_open_receivables(self, name):
        return Decimal(0)

    def customer_conflict(self, name, credit_code, salesperson, since):
        return None

    def customer_holder(self, name, credit_code, salesperson, since):
        return None

    def customer_status_by_code(self, credit_code):
        return None

    def department_month_expenses(self, department, category, day):
        return Decimal(0)

    def trip_valid(self, number, day):
        return False

    def contract_exists(self, number, customer):
        return False

    def contract_returnable(self, number, product):
        return None

    def contract_open_receivable(self, number):
        return Decimal(0)

    def trip_approved(self, number):
        return False

    def loan_outstanding(self, number):
        return None

    def loan_borrower(self, number):
        return None

    def year_total(self, form_title, field, person, date_field, year, where):
        return Decimal(0)

"""What submitting and deciding a form does to the business records (POLICY-PACK "On approval").

The lead calls :func:`on_submitted` and :func:`on_decided` inside the
transaction that records the event, so an effect commits or rolls back with
it. Each returns the names of the tables it changed; the registers reading
those tables are marked dirty.

``HANDLERS`` is the one registry of form-specific effects, keyed by form id.
A form without an entry gets the generic effect only: when its spec declares
a ``register:``, every case is recorded there (``declared_register``). A form
with an entry gets both, the generic one first.
"""

from __future__ import annotations

from datetime import date
from types import ModuleType
from typing import Any

from sqlalchemy.engine import Connection

from automation.act.effects import (
    bad_debt,
    complaint,
    credit_limit,
    customer_registration,
    customer_status,
    declared_register,
    expense_claim,
    loan_request,
    payment_receipt,
    return_request,
    sales_contract,
    trip_request,
)
from automation.act.effects.context import OUTCOMES, Effect, EffectError
from automation.record.instances import Case
from automation.record.names import normalise_customer_name

__all__ = ["on_submitted", "on_decided", "normalise_customer_name", "EffectError", "HANDLERS"]

HANDLERS: dict[str, ModuleType] = {
    "customer_registration": customer_registration,
    "credit_limit": credit_limit,
    "sales_contract": sales_contract,
    "expense_claim": expense_claim,
    "trip_request": trip_request,
    "complaint": complaint,
    "return_request": return_request,
    "bad_debt": bad_debt,
    "loan_request": loan_request,
    "payment_receipt": payment_receipt,
    "customer_status": customer_status,
}


def _hooks(spec: Any, form_id: str, name: str) -> list:
    hooks = [getattr(declared_register, name)] if getattr(spec, "register", None) is not None else []
    specific = getattr(HANDLERS.get(form_id), name, None)
    return hooks + ([specific] if specific else [])


def on_submitted(conn: Connection, *, case: Case, values: dict, policy: Any, today: date, cal: Any,
                 spec: Any = None) -> set[str]:
    """Effects of a (re)submission: pending expense lines and trips, the complaint record, the form's register."""
    fx = Effect(conn, case, values, policy, today, cal, spec)
    return set().union(*(hook(fx) for hook in _hooks(spec, case.form_id, "submitted")))


def on_decided(conn: Connection, *, case: Case, values: dict, outcome: str, policy: Any, today: date,
               cal: Any, spec: Any = None) -> set[str]:
    """Effects of the final decision on a case ('approved', 'rejected' or 'returned')."""
    if outcome not in OUTCOMES:
        raise EffectError(f"未知的审批结果「{outcome}」,应为 {'、'.join(OUTCOMES)} 之一。", code="effect-outcome-unknown")
    fx = Effect(conn, case, values, policy, today, cal, spec)
    return set().union(*(hook(fx, outcome) for hook in _hooks(spec, case.form_id, "decided")))

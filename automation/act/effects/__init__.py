"""What submitting and deciding a form does to the business records (POLICY-PACK "On approval").

The lead calls :func:`on_submitted` and :func:`on_decided` inside the
transaction that records the event, so an effect commits or rolls back with
it. Each returns the names of the tables it changed; the registers reading
those tables are marked dirty. One module per form; a form with no effects
(or a hook it does not need) simply touches nothing.
"""

from __future__ import annotations

from datetime import date
from types import ModuleType
from typing import Any, Mapping

from sqlalchemy.engine import Connection

from automation.act.effects import (
    bad_debt,
    complaint,
    credit_limit,
    customer_registration,
    expense_claim,
    return_request,
    sales_contract,
    trip_request,
)
from automation.act.effects.context import OUTCOMES, Effect, EffectError
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
}


def on_submitted(conn: Connection, *, case: Mapping, values: dict, policy: Any, today: date, cal: Any) -> set[str]:
    """Effects of a (re)submission: pending expense lines and trips, the complaint record."""
    hook = getattr(HANDLERS.get(case["form_id"]), "submitted", None)
    return hook(Effect(conn, case, values, policy, today, cal)) if hook else set()


def on_decided(conn: Connection, *, case: Mapping, values: dict, outcome: str, policy: Any, today: date,
               cal: Any) -> set[str]:
    """Effects of the final decision on a case ('approved', 'rejected' or 'returned')."""
    if outcome not in OUTCOMES:
        raise EffectError(f"未知的审批结果「{outcome}」,应为 {'、'.join(OUTCOMES)} 之一。", code="effect-outcome-unknown")
    hook = getattr(HANDLERS.get(case["form_id"]), "decided", None)
    return hook(Effect(conn, case, values, policy, today, cal), outcome) if hook else set()

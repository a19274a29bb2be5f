import pytest
from support.effects import (
    MONDAY,
    PolicyStandIn,
    WeekdayCalendar,
    add_case,
    new_store,
    rows,
)

from automation.act.effects import HANDLERS, EffectError, on_decided, on_submitted
from automation.record import schema as s

FORMS = ("customer_registration", "credit_limit", "sales_contract", "expense_claim", "trip_request", "complaint",
         "return_request", "bad_debt", "loan_request", "payment_receipt", "customer_status")


def call(store, form_id, hook, **extra):
    with store.begin() as conn:
        case = add_case(conn, form_id, {}, number="X-1")
        return hook(conn, case=case, values={}, policy=PolicyStandIn(), today=MONDAY, cal=WeekdayCalendar(), **extra)


def test_every_form_of_the_pack_has_an_effects_module():
    assert set(HANDLERS) == set(FORMS)
    assert all(hasattr(module, "decided") for module in HANDLERS.values())


@pytest.mark.parametrize("form_id", ["customer_registration", "credit_limit", "sales_contract", "return_request",
                                     "bad_debt", "leave_request"])
def test_forms_without_submission_effects_touch_nothing_on_submission(tmp_path, form_id):
    store = new_store(tmp_path)
    assert call(store, form_id, on_submitted) == set()
    with store.read() as conn:
        assert all(rows(conn, t) == [] for t in (s.customers, s.contracts, s.return_lines, s.bad_debts))


def test_a_form_without_effects_is_decided_without_touching_anything(tmp_path):
    assert call(new_store(tmp_path), "leave_request", on_decided, outcome="approved") == set()


def test_an_unknown_outcome_is_refused(tmp_path):
    with pytest.raises(EffectError) as raised:
        call(new_store(tmp_path), "expense_claim", on_decided, outcome="同意")
    assert raised.value.code == "effect-outcome-unknown"


@pytest.mark.parametrize("form_id", ["expense_claim", "trip_request"])
@pytest.mark.parametrize("outcome", ["rejected", "returned"])
def test_deciding_a_case_that_left_no_pending_rows_reports_no_table(tmp_path, form_id, outcome):
    assert call(new_store(tmp_path), form_id, on_decided, outcome=outcome) == set()

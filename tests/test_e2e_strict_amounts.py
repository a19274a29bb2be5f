"""Issue 13: amounts are read strictly. A wrong amount is the submitter's to fix, so it comes
back on its cell — never silently rounded, never read as another number, never quarantined."""

from __future__ import annotations

import json

import pytest
from support.e2e import CUSTOMER, set_item_text, set_named, set_text

from automation import samples


def _contract_with(office, *, total=None, unit_price=None, typed=True) -> list[tuple[str, str]]:
    values, items = samples.sales_contract(CUSTOMER, office.today)
    path = office.form("sales_contract", values, items)
    if total is not None:
        (set_text if typed else set_named)(path, {"合同金额": total})
    if unit_price is not None:
        set_item_text(path, 1, {"单价": unit_price})
    office.drop(path)
    office.run()
    sub = office.submissions()[-1]
    assert (sub["status"], sub["reason_code"]) == ("returned", "form-invalid"), sub
    assert office.files("quarantine") == []
    return [(p["field"], p["code"]) for p in json.loads(sub["problems"]) if p["level"] == "error"]


def test_amount_with_scattered_thousands_separators_is_returned_not_read_as_another_number(customer_office):
    assert ("合同金额", "money-invalid") in _contract_with(customer_office, total="1,2,3")
    assert customer_office.cases()[-1]["form_id"] != "sales_contract"


@pytest.mark.parametrize("typed", [True, False], ids=["typed-as-text", "number-cell"])
def test_amount_with_three_decimals_is_an_error_on_its_cell_never_rounded(customer_office, typed):
    problems = _contract_with(customer_office, total="10000.005" if typed else 10000.005, typed=typed)
    assert ("合同金额", "money-too-precise") in problems


def test_absurd_amount_is_returned_on_its_cell_never_quarantined(customer_office):
    problems = _contract_with(customer_office, total=1e20, typed=False)
    assert ("合同金额", "number-out-of-range") in problems
    problems = _contract_with(customer_office, unit_price="1e20")
    assert ("单价", "money-invalid") in problems

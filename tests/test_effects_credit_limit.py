from datetime import date
from decimal import Decimal

import pytest
from support.effects import (
    MONDAY,
    PolicyStandIn,
    WeekdayCalendar,
    add_case,
    new_store,
    rows,
)

from automation.act.effects import EffectError, on_decided
from automation.act.effects.context import add_months
from automation.record import schema as s

CREDIT = {"客户名称": "北京华为科技", "申请信用额度": Decimal("300000.00"), "账期天数": 60, "信用等级": "A",
          "调查人": "张三", "调查日期": MONDAY, "申请人": "张三", "申请日期": MONDAY}


def register(conn, name="北京华为科技有限公司"):
    conn.execute(s.customers.insert().values(name=name, norm_name="北京华为科技", status="正常"))


def decide(conn, values, policy, outcome="approved"):
    case = add_case(conn, "credit_limit", values, number="XY-1")
    return on_decided(conn, case=case, values=values, outcome=outcome, policy=policy, today=MONDAY,
                      cal=WeekdayCalendar())


def test_approved_limit_sets_terms_and_review_date_from_the_parameter(tmp_path):
    store = new_store(tmp_path)
    policy = PolicyStandIn()
    policy.params["信用复核月数"] = Decimal("6")
    with store.begin() as conn:
        register(conn)
        assert decide(conn, CREDIT, policy) == {"customers"}
    with store.read() as conn:
        [row] = rows(conn, s.customers)
    assert (row.credit_limit, row.terms_days, row.credit_grade) == (Decimal("300000.00"), 60, "A")
    assert row.review_due == date(2027, 5, 23)


def test_rejected_limit_changes_nothing(tmp_path):
    store = new_store(tmp_path)
    with store.begin() as conn:
        register(conn)
        assert decide(conn, CREDIT, PolicyStandIn(), outcome="rejected") == set()
    with store.read() as conn:
        assert rows(conn, s.customers)[0].credit_limit is None


def test_unregistered_customer_is_a_system_fault_and_rolls_back(tmp_path):
    store = new_store(tmp_path)
    with pytest.raises(EffectError) as raised:
        with store.begin() as conn:
            decide(conn, CREDIT, PolicyStandIn())
    assert raised.value.code == "effect-target-missing" and "北京华为科技" in raised.value.message
    with store.read() as conn:
        assert rows(conn, s.cases) == []


@pytest.mark.parametrize("start, months, expected", [
    (date(2026, 1, 31), 1, date(2026, 2, 28)), (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2026, 11, 23), 12, date(2027, 11, 23)), (date(2026, 12, 15), 1, date(2027, 1, 15)),
])
def test_add_months_clamps_to_the_end_of_the_month(start, months, expected):
    assert add_months(start, months) == expected

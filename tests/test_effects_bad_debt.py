from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.effects import (
    MONDAY,
    PolicyStandIn,
    WeekdayCalendar,
    add_case,
    new_store,
    rows,
)

from automation.act.effects import on_decided
from automation.act.effects.bad_debt import shares_for
from automation.act.effects.context import Effect
from automation.errors import PolicyError
from automation.record import codec
from automation.record import schema as s

PEOPLE = {"办事处经理": "陈办", "区域经理": "林区", "内务主管": "黄内"}


def write_off(amount):
    return {"客户名称": "华为科技", "原合同编号": "HT-2026-0001", "核销金额": amount, "账龄天数": 400,
            "原因": "客户破产", "申请人": "张三", "申请日期": MONDAY, **PEOPLE}


def effect(amount, policy=None):
    return Effect(None, {"id": 1, "number": "HX-1"}, write_off(amount), policy or PolicyStandIn(), MONDAY,
                  WeekdayCalendar())


def test_approved_write_off_records_shares_and_clears_the_receivable(tmp_path):
    store = new_store(tmp_path)
    values = write_off(Decimal("1000.01"))
    with store.begin() as conn:
        conn.execute(s.receivables.insert().values(customer="华为科技有限公司", contract_number="HT-2026-0001",
                                                   amount=Decimal("5000.00"), kind="contract"))
        case = add_case(conn, "bad_debt", values, number="HX-1")
        assert on_decided(conn, case=case, values=values, outcome="approved", policy=PolicyStandIn(), today=MONDAY,
                          cal=WeekdayCalendar()) == {"bad_debts", "receivables"}
    with store.read() as conn:
        [debt] = rows(conn, s.bad_debts)
        [cleared] = rows(conn, s.receivables, kind="writeoff")
    shares = codec.loads(debt.shares)
    assert (debt.number, debt.amount, debt.status, debt.contract_number) == ("HX-1", Decimal("1000.01"), "已核销", "HT-2026-0001")
    assert [(x["人员"], x["角色"], x["金额"]) for x in shares] == [
        ("陈办", "办事处经理", Decimal("500.01")), ("林区", "区域经理", Decimal("250.00")), ("黄内", "内务主管", Decimal("250.00"))]
    assert (cleared.customer, cleared.amount, cleared.on) == ("华为科技有限公司", Decimal("-1000.01"), MONDAY)


def test_rejected_write_off_records_nothing(tmp_path):
    store = new_store(tmp_path)
    with store.begin() as conn:
        case = add_case(conn, "bad_debt", write_off(Decimal("10")), number="HX-1")
        assert on_decided(conn, case=case, values=write_off(Decimal("10")), outcome="rejected",
                          policy=PolicyStandIn(), today=MONDAY, cal=WeekdayCalendar()) == set()
        assert rows(conn, s.bad_debts) == [] and rows(conn, s.receivables) == []


def test_ratios_come_from_the_parameters_in_any_usual_notation():
    policy = PolicyStandIn(params={"坏账分担比例_办事处经理": "60%", "坏账分担比例_区域经理": Decimal("30"),
                                   "坏账分担比例_内务主管": Decimal("0.1")})
    assert [x["金额"] for x in shares_for(effect(Decimal("100.00"), policy), Decimal("100.00"))] == [
        Decimal("60.00"), Decimal("30.00"), Decimal("10.00")]


def test_ratios_that_do_not_add_up_are_a_policy_fault():
    policy = PolicyStandIn(params={"坏账分担比例_办事处经理": Decimal("0.6")})
    with pytest.raises(PolicyError) as raised:
        shares_for(effect(Decimal("100"), policy), Decimal("100"))
    assert raised.value.code == "bad-debt-shares-invalid"


@settings(max_examples=200)
@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2))
def test_shares_always_sum_exactly_to_the_amount(amount):
    shares = shares_for(effect(amount), amount)
    assert sum(x["金额"] for x in shares) == amount
    assert all(x["金额"].as_tuple().exponent == -2 for x in shares)
    assert abs(shares[0]["金额"] - amount / 2) <= Decimal("0.02")

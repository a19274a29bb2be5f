from datetime import date
from decimal import Decimal

import pytest
from support.effects import (
    PolicyStandIn,
    WeekdayCalendar,
    add_approved_task,
    add_case,
    add_contract_number,
    new_store,
    rows,
)

from automation.act.effects import EffectError, on_decided
from automation.record import codec
from automation.record import schema as s

FRIDAY = date(2026, 11, 27)
ITEMS = [{"品名": "服务器", "规格型号": "X1", "数量": Decimal("2"), "单价": Decimal("15000.00"), "金额": Decimal("30000.00")},
         {"品名": "交换机", "规格型号": None, "数量": Decimal("3"), "单价": Decimal("3333.33"), "金额": Decimal("9999.99")}]


def contract(**overrides):
    values = {"客户名称": "华为科技", "合同类型": "销售合同", "明细": ITEMS, "合同金额": Decimal("39999.99"),
              "付款方式": "账期", "账期天数": 60, "签订日期": date(2026, 11, 20), "交货日期": date(2026, 12, 10),
              "销售员": "张三", "申请人": "张三", "申请日期": date(2026, 11, 20)}
    values.update(overrides)
    return values


def approve(store, values, *, numbered=True, policy=None):
    with store.begin() as conn:
        conn.execute(s.customers.insert().values(name="华为科技有限公司", norm_name="华为科技", status="正常",
                                                 last_active_on=date(2026, 1, 1)))
        case = add_case(conn, "sales_contract", values, number="SQ-1")
        if numbered:
            add_contract_number(conn, case.id, "HT-2026-0001")
        add_approved_task(conn, case.id, 0, "王经理")
        add_approved_task(conn, case.id, 1, "赵财务", on_behalf_of="钱财务")
        add_approved_task(conn, case.id, 1, "孙会计", status="cancelled")
        return on_decided(conn, case=case, values=values, outcome="approved", policy=policy or PolicyStandIn(),
                          today=FRIDAY, cal=WeekdayCalendar())


def test_approved_contract_on_account_fills_the_row_and_opens_a_receivable(tmp_path):
    store = new_store(tmp_path)
    assert approve(store, contract()) == {"contracts", "receivables", "customers"}
    with store.read() as conn:
        [row] = rows(conn, s.contracts)
        [debt] = rows(conn, s.receivables)
        [customer] = rows(conn, s.customers)
    assert (row.customer, row.amount, row.contract_type, row.payment) == ("华为科技有限公司", Decimal("39999.99"), "销售合同", "账期")
    assert (row.signed_on, row.delivery_on, row.approved_on) == (date(2026, 11, 20), date(2026, 12, 10), FRIDAY)
    assert row.ship_due_on == date(2026, 11, 30)  # Friday + 1 working day, over the weekend
    assert row.approvers == "王经理、赵财务(代 钱财务)"
    assert codec.loads(row.items) == ITEMS
    assert (debt.customer, debt.contract_number, debt.amount, debt.kind, debt.on) == (
        "华为科技有限公司", "HT-2026-0001", Decimal("39999.99"), "contract", FRIDAY)
    assert customer.last_active_on == FRIDAY


def test_prepaid_contract_opens_no_receivable(tmp_path):
    store = new_store(tmp_path)
    assert approve(store, contract(付款方式="预付款")) == {"contracts", "customers"}
    with store.read() as conn:
        assert rows(conn, s.receivables) == []


def test_shipping_days_come_from_the_parameter(tmp_path):
    store = new_store(tmp_path)
    policy = PolicyStandIn()
    policy.params["发货工作日"] = Decimal("3")
    approve(store, contract(), policy=policy)
    with store.read() as conn:
        assert rows(conn, s.contracts)[0].ship_due_on == date(2026, 12, 2)


def test_contract_without_an_allocated_number_is_refused(tmp_path):
    store = new_store(tmp_path)
    with pytest.raises(EffectError):
        approve(store, contract(), numbered=False)
    with store.read() as conn:
        assert rows(conn, s.contracts) == [] and rows(conn, s.receivables) == []

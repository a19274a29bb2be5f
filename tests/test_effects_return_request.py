from decimal import Decimal

from sqlalchemy import func, select
from support.effects import (
    MONDAY,
    PolicyStandIn,
    WeekdayCalendar,
    add_case,
    add_contract_number,
    new_store,
    rows,
)

from automation.act.effects import on_decided
from automation.record import codec
from automation.record import schema as s

ITEMS = [{"品名": "服务器", "规格型号": "X1", "数量": Decimal("2"), "单价": Decimal("15000.00"), "金额": Decimal("30000.00")},
         {"品名": "网线", "规格型号": None, "数量": Decimal("10.5"), "单价": Decimal("3.33"), "金额": Decimal("34.97")}]


def seed_contract(conn, payment="账期"):
    case = add_case(conn, "sales_contract", {}, number="SQ-1", status="approved")
    add_contract_number(conn, case.id, "HT-2026-0001")
    conn.execute(s.contracts.update().values(customer="华为科技有限公司", payment=payment, amount=Decimal("30034.97"),
                                             items=codec.dumps(ITEMS)))
    conn.execute(s.receivables.insert().values(customer="华为科技有限公司", contract_number="HT-2026-0001",
                                               amount=Decimal("30034.97"), kind="contract", case_id=case.id))


def return_request(*lines):
    return {"原合同编号": "HT-2026-0001", "客户名称": "华为科技有限公司", "申请人": "张三", "申请日期": MONDAY,
            "明细": [{"品名": p, "规格型号": None, "退货数量": q, "退货原因": "质量问题"} for p, q in lines]}


def decide(store, values, outcome="approved", payment="账期"):
    with store.begin() as conn:
        seed_contract(conn, payment)
        case = add_case(conn, "return_request", values, number="TH-1")
        return on_decided(conn, case=case, values=values, outcome=outcome, policy=PolicyStandIn(), today=MONDAY,
                          cal=WeekdayCalendar())


def test_approved_return_writes_negative_lines_and_reduces_the_receivable(tmp_path):
    store = new_store(tmp_path)
    values = return_request(("服务器", Decimal("1")), ("网线", Decimal("2.5")))
    assert decide(store, values) == {"return_lines", "receivables"}
    with store.read() as conn:
        lines = rows(conn, s.return_lines)
        open_amount = conn.execute(select(func.sum(s.receivables.c.amount))).scalar()
        [credit] = rows(conn, s.receivables, kind="return")
    assert [(l.number, l.contract_number, l.product, l.quantity, l.status) for l in lines] == [
        ("TH-1", "HT-2026-0001", "服务器", Decimal("-1"), "已批准"),
        ("TH-1", "HT-2026-0001", "网线", Decimal("-2.5"), "已批准")]
    assert credit.amount == Decimal("-15008.33")  # 15000.00 + 2.5 × 3.33 = 8.325 → 8.33
    assert open_amount == Decimal("15026.64")


def test_netting_the_lines_against_the_contract_leaves_what_the_customer_holds(tmp_path):
    store = new_store(tmp_path)
    decide(store, return_request(("网线", Decimal("10.5"))))
    with store.read() as conn:
        returned = sum(l.quantity for l in rows(conn, s.return_lines, product="网线"))
    assert ITEMS[1]["数量"] + returned == Decimal("0")


def test_prepaid_contract_return_leaves_receivables_alone(tmp_path):
    store = new_store(tmp_path)
    assert decide(store, return_request(("服务器", Decimal("1"))), payment="预付款") == {"return_lines"}
    with store.read() as conn:
        assert rows(conn, s.receivables, kind="return") == []


def test_rejected_return_records_nothing(tmp_path):
    store = new_store(tmp_path)
    assert decide(store, return_request(("服务器", Decimal("1"))), outcome="rejected") == set()
    with store.read() as conn:
        assert rows(conn, s.return_lines) == []

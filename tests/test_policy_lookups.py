from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from automation.clock import Clock
from automation.record import codec
from automation.record import schema as s
from automation.record.lookups import StoreLookups, normalise_name
from automation.record.store import open_store

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


def _insert(conn, table, rows):
    for row in rows:  # one statement per row: the rows have different columns
        conn.execute(table.insert().values(**row))


@pytest.fixture
def store(tmp_path):
    st = open_store("sqlite:///" + str(tmp_path / "state.db"), Clock(fixed=NOW))
    with st.begin() as conn:
        _insert(conn, s.customers, [
            dict(name="上海甲乙有限公司", norm_name=normalise_name("上海甲乙有限公司"), credit_code="91310000MA1FL8XQ37",
                 grade="A", owner="王芳", credit_limit=Decimal("100000"), status="正常", registered_on=date(2026, 6, 1),
                 last_active_on=date(2026, 10, 1)),
            dict(name="黑名单公司", norm_name="黑名单", status="黑名单", owner="陈静", registered_on=date(2025, 1, 1)),
        ])
        _insert(conn, s.receivables, [
            dict(customer="上海甲乙有限公司", contract_number="HT-2026-0001", amount=Decimal("30000.50"), kind="合同"),
            dict(customer="上海甲乙有限公司", contract_number="HT-2026-0001", amount=Decimal("-10000"), kind="核销"),
            dict(customer="上海甲乙有限公司", contract_number="HT-2026-0002", amount=Decimal("5000"), kind="合同"),
        ])
        _insert(conn, s.expense_lines, [
            dict(case_id=1, department="销售一部", category="通讯", month="2026-11", amount=Decimal("800"), status="已批准"),
            dict(case_id=2, department="销售一部", category="通讯", month="2026-11", amount=Decimal("300"), status="审批中"),
            dict(case_id=3, department="销售一部", category="通讯", month="2026-11", amount=Decimal("900"), status="已驳回"),
            dict(case_id=4, department="销售一部", category="通讯", month="2026-10", amount=Decimal("700"), status="已批准"),
        ])
        _insert(conn, s.trips, [
            dict(case_id=5, number="CC-202610-0001", start_on=date(2026, 10, 12), end_on=date(2026, 10, 15), status="已批准"),
            dict(case_id=6, number="CC-202610-0002", start_on=date(2026, 10, 12), end_on=date(2026, 10, 15), status="审批中"),
        ])
        conn.execute(s.cases.insert().values(id=7, number="HT-202610-0001", form_id="sales_contract", status="approved",
                                             data="{}", fingerprint="x", created_at=NOW, updated_at=NOW))
        conn.execute(s.contracts.insert().values(
            case_id=7, number="HT-2026-0001", year=2026, customer="上海甲乙有限公司", status="已生成", created_at=NOW,
            items=codec.dumps([{"品名": "水泵", "数量": Decimal("10")}, {"品名": "阀门", "数量": Decimal("4")}])))
        _insert(conn, s.return_lines, [
            dict(case_id=8, contract_number="HT-2026-0001", product="水泵", quantity=Decimal("-3"), status="已批准"),
            dict(case_id=9, contract_number="HT-2026-0001", product="水泵", quantity=Decimal("-5"), status="已驳回"),
        ])
    yield StoreLookups(st)
    st.dispose()


def test_normalise_name_strips_spaces_full_width_and_suffixes():
    assert normalise_name(" 上海 甲乙 有限责任公司") == "上海甲乙"
    assert normalise_name("ＡＢＣ股份有限公司") == normalise_name("abc 股份有限公司") == "abc"
    assert normalise_name("公司") == "公司"


def test_customer_look_ups_match_by_normalised_name(store):
    assert store.customer_registered("上海甲乙 有限责任公司")
    assert not store.customer_registered("上海丙丁")
    assert store.customer_status("黑名单有限公司") == "黑名单"
    assert store.customer_grade("上海甲乙") == "A"
    assert store.customer_credit_limit("上海甲乙有限公司") == Decimal("100000.00")
    assert store.customer_credit_limit("黑名单公司") == Decimal("0.00")
    assert store.customer_open_receivables("上海甲乙有限公司") == Decimal("25000.50")


def test_customer_conflict_needs_another_owner_active_within_the_window(store):
    since = date(2026, 5, 6)
    assert store.customer_conflict("上海甲乙公司", None, "陈静", since) == "王芳"
    assert store.customer_conflict("别名", "91310000MA1FL8XQ37", "陈静", since) == "王芳"
    assert store.customer_conflict("上海甲乙公司", None, "王芳", since) is None
    assert store.customer_conflict("上海甲乙公司", None, "陈静", date(2026, 10, 2)) is None


def test_month_expenses_count_pending_and_approved_but_not_rejected(store):
    assert store.department_month_expenses("销售一部", "通讯", date(2026, 11, 20)) == Decimal("1100.00")
    assert store.department_month_expenses("销售二部", "通讯", date(2026, 11, 20)) == Decimal("0.00")


def test_trip_must_be_approved_and_cover_the_date(store):
    assert store.trip_valid("CC-202610-0001", date(2026, 10, 15))
    assert not store.trip_valid("CC-202610-0001", date(2026, 10, 16))
    assert not store.trip_valid("CC-202610-0002", date(2026, 10, 13))


def test_contract_look_ups(store):
    assert store.contract_exists("HT-2026-0001", "上海甲乙")
    assert not store.contract_exists("HT-2026-0001", "别的客户")
    assert not store.contract_exists("HT-2099-0001", None)
    assert store.contract_returnable("HT-2026-0001", "水泵") == Decimal("7")
    assert store.contract_returnable("HT-2026-0001", "阀门") == Decimal("4")
    assert store.contract_returnable("HT-2026-0001", "电机") is None
    assert store.contract_open_receivable("HT-2026-0001") == Decimal("20000.50")

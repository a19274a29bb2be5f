from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from support.effects import PolicyStandIn, WeekdayCalendar, add_case, new_store, rows

from automation.act.effects import on_decided, on_submitted
from automation.record import schema as s

TODAY = date(2026, 12, 2)
POLICY = PolicyStandIn.with_roster(张三="销售一部")


def claim(*amounts, category="通讯"):
    lines = [{"费用类别": category, "发生日期": date(2026, 11, 28 + n), "事由": "话费", "金额": a, "单据张数": 1}
             for n, a in enumerate(amounts)]
    return {"报销人": "张三", "部门": "销售一部", "报销日期": TODAY, "明细": lines,
            "合计金额": sum(amounts, Decimal("0")), "附件张数": len(lines)}


def call(conn, hook, case, values, **extra):
    return hook(conn, case=case, values=values, policy=POLICY, today=TODAY, cal=WeekdayCalendar(), **extra)


def month_total(conn, department, month, statuses=("审批中", "已批准")):
    e = s.expense_lines.c
    return conn.execute(select(func.coalesce(func.sum(e.amount), 0)).where(
        e.department == department, e.month == month, e.status.in_(statuses))).scalar()


def test_submitted_lines_are_pending_and_count_towards_the_month(tmp_path):
    store = new_store(tmp_path)
    values = claim(Decimal("800.50"), Decimal("99.99"))
    with store.begin() as conn:
        case = add_case(conn, "expense_claim", values, number="BX-1")
        assert call(conn, on_submitted, case, values) == {"expense_lines"}
    with store.read() as conn:
        lines = rows(conn, s.expense_lines)
        assert month_total(conn, "销售一部", "2026-11") == Decimal("900.49")
    assert [(l.amount, l.month, l.status, l.claim_number) for l in lines] == [
        (Decimal("800.50"), "2026-11", "审批中", "BX-1"), (Decimal("99.99"), "2026-11", "审批中", "BX-1")]


def test_approval_and_rejection_settle_the_pending_lines(tmp_path):
    store = new_store(tmp_path)
    with store.begin() as conn:
        first = add_case(conn, "expense_claim", claim(Decimal("10")), number="BX-1")
        second = add_case(conn, "expense_claim", claim(Decimal("20")), number="BX-2")
        call(conn, on_submitted, first, claim(Decimal("10")))
        call(conn, on_submitted, second, claim(Decimal("20")))
        assert call(conn, on_decided, first, claim(Decimal("10")), outcome="approved") == {"expense_lines"}
        assert call(conn, on_decided, second, claim(Decimal("20")), outcome="rejected") == {"expense_lines"}
        assert call(conn, on_decided, second, claim(Decimal("20")), outcome="rejected") == set()
    with store.read() as conn:
        assert [(l.claim_number, l.status) for l in rows(conn, s.expense_lines)] == [("BX-1", "已批准"), ("BX-2", "已驳回")]


def test_returned_claim_is_rejected_and_its_resubmission_counts_once(tmp_path):
    store = new_store(tmp_path)
    with store.begin() as conn:
        case = add_case(conn, "expense_claim", claim(Decimal("300")), number="BX-1")
        call(conn, on_submitted, case, claim(Decimal("300")))
        call(conn, on_decided, case, claim(Decimal("300")), outcome="returned")
        call(conn, on_submitted, case, claim(Decimal("250")))
        call(conn, on_submitted, case, claim(Decimal("250")))  # the same round handed in twice
    with store.read() as conn:
        assert [(l.amount, l.status) for l in rows(conn, s.expense_lines)] == [
            (Decimal("300.00"), "已驳回"), (Decimal("250.00"), "审批中")]

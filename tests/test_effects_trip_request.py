from datetime import date

from support.effects import (
    MONDAY,
    PolicyStandIn,
    WeekdayCalendar,
    add_case,
    new_store,
    rows,
)

from automation.act.effects import on_decided, on_submitted
from automation.record import schema as s

POLICY = PolicyStandIn.with_roster(张三="销售一部")


def trip(**overrides):
    values = {"申请人": "张三", "出差地点": "上海", "出发日期": date(2026, 11, 25), "返回日期": date(2026, 11, 27),
              "事由": "拜访客户", "申请日期": MONDAY}
    values.update(overrides)
    return values


def call(conn, hook, case, values, **extra):
    return hook(conn, case=case, values=values, policy=POLICY, today=MONDAY, cal=WeekdayCalendar(), **extra)


def test_trip_is_recorded_pending_then_approved(tmp_path):
    store = new_store(tmp_path)
    with store.begin() as conn:
        case = add_case(conn, "trip_request", trip(), number="CC-1")
        assert call(conn, on_submitted, case, trip()) == {"trips"}
    with store.read() as conn:
        [row] = rows(conn, s.trips)
    assert (row.number, row.applicant, row.department, row.destination, row.status) == ("CC-1", "张三", "销售一部", "上海", "审批中")
    assert (row.start_on, row.end_on) == (date(2026, 11, 25), date(2026, 11, 27))
    with store.begin() as conn:
        assert call(conn, on_decided, case, trip(), outcome="approved") == {"trips"}
    with store.read() as conn:
        assert rows(conn, s.trips)[0].status == "已批准"


def test_returned_trip_is_rejected_until_resubmitted_with_new_dates(tmp_path):
    store = new_store(tmp_path)
    with store.begin() as conn:
        case = add_case(conn, "trip_request", trip(), number="CC-1")
        call(conn, on_submitted, case, trip())
        call(conn, on_decided, case, trip(), outcome="returned")
        assert rows(conn, s.trips)[0].status == "已驳回"
        call(conn, on_submitted, case, trip(返回日期=date(2026, 11, 26)))
    with store.read() as conn:
        [row] = rows(conn, s.trips)
    assert (row.end_on, row.status) == (date(2026, 11, 26), "审批中")

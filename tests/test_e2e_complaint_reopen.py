"""Issue 13: a complaint whose customer is 不满意 is reopened, not returned (`000 · R-CP-07`):
the submission is accepted, the case goes back to 重新调查 with every clock restarted, the
责任部门 is told, and 投诉台账 counts the reopenings."""

from __future__ import annotations

from datetime import date

from support.e2e import CUSTOMER

from automation import samples
from automation.record import schema as s

REOPEN_DAY = date(2026, 12, 7)  # a Monday


def _complaint(office) -> dict:
    office.submit("complaint", samples.complaint(office.today, customer=CUSTOMER))
    office.run()
    office.approve_all(office.case(form_id="complaint")["number"])
    [record] = office.rows(s.complaints)
    return record


def _unsatisfied(office, record: dict, revisited: str = "2026-12-04") -> dict:
    # each round is a new revisit: the same bytes twice would rightly be a duplicate, not a second round
    values = dict(samples.complaint(date(2026, 11, 23), customer=CUSTOMER), 投诉编号=record["number"],
                  处理方案="更换风扇组件", 方案完成日期=date(2026, 12, 1), 回访日期=revisited, 客户满意度="不满意")
    office.submit("complaint", values)
    office.run()
    return office.case(form_id="complaint")


def test_unsatisfied_customer_reopens_the_complaint_with_clocks_restarted(customer_office):
    office = customer_office
    record = _complaint(office)
    office.at(REOPEN_DAY)
    case = _unsatisfied(office, record)

    sub = office.submissions()[-1]
    assert (sub["status"], sub["reason_code"]) == ("archived", "accepted"), sub["problems"]
    assert office.returned("王芳") == []
    [row] = office.rows(s.complaints)
    assert (row["status"], row["reopens"], row["satisfaction"], row["closed_on"]) == ("重新调查", 1, "不满意", None)
    assert row["reply_due"] == office.rt.calendar.add_workdays(REOPEN_DAY, 5)
    assert (row["dept_passed_on"], row["dept_reply_due"]) == (REOPEN_DAY, office.rt.calendar.add_workdays(REOPEN_DAY, 3))
    assert (row["plan_done_on"], row["revisit_due"]) == (None, None)

    office.approve_all(case["number"])
    assert office.rows(s.complaints)[0]["reopens"] == 1  # the approval of the same round does not count again
    copies = [p.name for p in office.files("cc", "卫东")]
    assert copies and all(case["number"] in name for name in copies)
    [line] = office.register("投诉台账")
    assert (line["投诉编号"], line["状态"], line["重新调查次数"]) == (record["number"], "重新调查", 1)


def test_second_unsatisfied_round_counts_a_second_reopening(customer_office):
    office = customer_office
    record = _complaint(office)
    office.at(REOPEN_DAY)
    office.approve_all(_unsatisfied(office, record)["number"])
    office.at(date(2026, 12, 9))
    office.submit("complaint", dict(samples.complaint(date(2026, 11, 23), customer=CUSTOMER), 投诉编号=record["number"],
                                    处理方案="整机更换"))
    office.run()
    office.approve_all(office.case(form_id="complaint")["number"])
    assert office.rows(s.complaints)[0]["status"] == "调查处理"
    office.at(date(2026, 12, 14))
    office.approve_all(_unsatisfied(office, record, revisited="2026-12-04, 2026-12-11")["number"])
    assert office.submissions()[-1]["reason_code"] == "accepted", office.submissions()[-1]["reason"]
    assert office.rows(s.complaints)[0]["reopens"] == 2

from datetime import date

import pytest
from support.effects import PolicyStandIn, WeekdayCalendar, add_case, new_store, rows

from automation.act.effects import EffectError, on_decided, on_submitted
from automation.act.effects.complaint import status_of
from automation.record import schema as s

THURSDAY, FRIDAY = date(2026, 11, 26), date(2026, 11, 27)
FIRST = {"客户名称": "华为科技", "联系方式": "13800138000", "投诉日期": THURSDAY, "投诉类型": "服务质量",
         "严重程度": "一般", "投诉内容": "安装延误", "受理人": "周客服", "投诉编号": "TS-2026-0001"}


class Complaint:
    """Submits successive versions of one complaint the way the lead would: one case per submission."""

    def __init__(self, store, policy=None):
        self.store, self.policy, self.count = store, policy or PolicyStandIn(), 0

    def submit(self, today, outcome=None, **changes):
        self.count += 1
        values = dict(FIRST, **changes)
        kwargs = dict(values=values, policy=self.policy, today=today, cal=WeekdayCalendar())
        with self.store.begin() as conn:
            case = add_case(conn, "complaint", values, number=f"TSCL-{self.count}")
            touched = on_submitted(conn, case=case, **kwargs)
            if outcome:
                touched = touched, on_decided(conn, case=case, outcome=outcome, **kwargs)
        return touched

    def record(self):
        with self.store.read() as conn:
            [row] = rows(conn, s.complaints)
        return row


def test_first_submission_starts_the_reply_clock_over_the_weekend(tmp_path):
    complaint = Complaint(new_store(tmp_path))
    assert complaint.submit(THURSDAY) == {"complaints"}
    row = complaint.record()
    assert (row.number, row.status, row.reply_due) == ("TS-2026-0001", "受理", date(2026, 12, 3))
    assert (row.dept_passed_on, row.dept_reply_due, row.revisit_due, row.revisits) == (None, None, None, 0)


def test_department_clock_starts_when_first_passed_and_does_not_restart(tmp_path):
    complaint = Complaint(new_store(tmp_path))
    complaint.submit(THURSDAY)
    complaint.submit(FRIDAY, 责任部门="工程部", 处理方案="派人复查")
    row = complaint.record()
    assert (row.status, row.department, row.dept_passed_on, row.dept_reply_due) == (
        "调查处理", "工程部", FRIDAY, date(2026, 12, 2))
    complaint.submit(date(2026, 12, 1), 责任部门="工程部", 处理方案="更换设备")
    assert complaint.record().dept_reply_due == date(2026, 12, 2)


def test_satisfied_customer_closes_only_when_the_form_is_approved(tmp_path):
    complaint = Complaint(new_store(tmp_path))
    later = dict(责任部门="工程部", 处理方案="更换设备", 方案完成日期=date(2026, 12, 4))
    complaint.submit(FRIDAY, **later)
    row = complaint.record()
    assert (row.status, row.revisit_due) == ("待回访", date(2026, 12, 11))
    closing = dict(later, 回访日期=[date(2026, 12, 7), date(2026, 12, 9)], 客户满意度="满意")
    assert complaint.submit(date(2026, 12, 9), outcome="rejected", **closing) == ({"complaints"}, set())
    assert complaint.record().status == "待回访"
    complaint.submit(date(2026, 12, 10), outcome="approved", **closing)
    row = complaint.record()
    assert (row.status, row.closed_on, row.revisits, row.satisfaction) == ("已结案", date(2026, 12, 10), 2, "满意")


def test_unsatisfied_customer_reopens_the_investigation(tmp_path):
    complaint = Complaint(new_store(tmp_path))
    complaint.submit(FRIDAY, outcome="approved", 责任部门="工程部", 方案完成日期=date(2026, 12, 4),
                     回访日期=[date(2026, 12, 7)], 客户满意度="不满意")
    row = complaint.record()
    assert (row.status, row.closed_on) == ("重新调查", None)


def test_clock_lengths_come_from_the_parameters(tmp_path):
    policy = PolicyStandIn()
    policy.params.update(投诉答复工作日="2", 责任部门答复工作日="1", 首次回访工作日="10")
    complaint = Complaint(new_store(tmp_path), policy)
    complaint.submit(FRIDAY, 责任部门="工程部", 方案完成日期=date(2026, 12, 4))
    row = complaint.record()
    assert (row.reply_due, row.dept_reply_due, row.revisit_due) == (date(2026, 11, 30), date(2026, 11, 30), date(2026, 12, 18))


def test_complaint_without_a_number_is_a_wiring_fault(tmp_path):
    with pytest.raises(EffectError):
        Complaint(new_store(tmp_path)).submit(THURSDAY, 投诉编号=None)


@pytest.mark.parametrize("values, closing, expected", [
    ({}, True, "受理"), ({"处理方案": "x"}, False, "调查处理"), ({"方案完成日期": THURSDAY}, False, "待回访"),
    ({"方案完成日期": THURSDAY, "客户满意度": "非常满意"}, False, "待回访"),
    ({"客户满意度": "非常满意"}, True, "已结案"), ({"客户满意度": "不满意"}, True, "重新调查"),
])
def test_status_follows_r_cp_07(values, closing, expected):
    assert status_of(values, closing) == expected


def test_reply_clock_skips_national_day_on_the_real_calendar(tmp_path):
    from automation.policy.workcal import WorkCalendar

    store = new_store(tmp_path)
    values = dict(FIRST, 投诉日期=date(2026, 9, 29))
    with store.begin() as conn:
        case = add_case(conn, "complaint", values, number="TSCL-1")
        on_submitted(conn, case=case, values=values, policy=PolicyStandIn(), today=date(2026, 9, 29), cal=WorkCalendar())
        [row] = rows(conn, s.complaints)
    # 9-30, then 10-1…10-7 off, 10-8, 10-9, 10-10 (a Saturday made a working day), 10-12.
    assert row.reply_due == date(2026, 10, 12)

"""Time limits (reminder once, escalation to the superior) and the status report."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from support.decide import CAL, MONDAY, desk, later, route, step

from automation.decide import engine, timers
from automation.decide.status import status_report
from automation.policy.chain import Route
from automation.record import schema as s
from automation.record.audit import verify_chain

SUPERIORS = {"王经理": "陈总监"}


def check(d, now, escalate_after=2):
    return timers.check_deadlines(d.store, d.settings, cal=CAL, now=now, escalate_after=escalate_after,
                                  superior_of=SUPERIORS.get, write_task=d.issue)


def test_overdue_task_is_reminded_once(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理", limit=2)))  # due Wed 25 Nov
    assert check(d, later(MONDAY, 2)) == []
    [action] = check(d, later(MONDAY, 3))  # Thursday: one working day late
    assert (action["action"], action["late_workdays"]) == ("reminded", 1)
    note = d.settings.approvals / "王经理" / "催办 SQ-2026-0001.txt"
    assert "已超时 1 个工作日" in note.read_text(encoding="utf-8")
    assert check(d, later(MONDAY, 3)) == [] and check(d, later(MONDAY, 4)) == []
    assert d.tasks(case_id)[0]["reminded_at"] == later(MONDAY, 3)
    assert len(d.audit("task-reminded")) == 1


def test_task_overdue_beyond_the_delay_escalates_to_the_superior_once(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理", limit=2), step("总经理", "孙总")))
    check(d, later(MONDAY, 3))
    [action] = check(d, later(MONDAY, 8))  # Tue 1 Dec: 4 working days late
    assert (action["action"], action["to"]) == ("escalated", "陈总监")
    tasks = d.tasks(case_id)
    new = next(t for t in tasks if t["assignee"] == "陈总监")
    assert (new["status"], new["escalated_from"], new["step_index"]) == ("open", tasks[0]["id"], 0)
    assert new["due_on"] == date(2026, 12, 3)
    assert (d.settings.approvals / "陈总监").is_dir() and d.task_file(new["id"]).exists()
    assert check(d, later(MONDAY, 8)) == []
    assert len(d.audit("task-escalated")) == 1


def test_no_superior_raises_one_alert_instead(tmp_path):
    d = desk(tmp_path)
    d.open(route(step("总经理", "孙总", limit=1)))
    actions = check(d, later(MONDAY, 8))
    assert {a["action"] for a in actions} == {"no-superior", "reminded"}
    assert [a["action"] for a in check(d, later(MONDAY, 9))] == []
    with d.store.read() as conn:
        assert conn.execute(select(s.alerts.c.kind)).scalars().all() == ["no-superior"]


def test_status_report_lists_open_cases_people_forms_blocked_alerts_and_registers(tmp_path):
    d = desk(tmp_path)
    first = d.open(route(step("部门经理", "王经理", limit=2)), number="SQ-2026-0001")
    d.open(route(step("财务经理", "赵财务", "周财务", mode="会签", limit=5)), number="SQ-2026-0002")
    d.open(Route(unresolved=["法务"]), number="SQ-2026-0003")
    done = d.open(route(step("部门经理", "王经理")), number="SQ-2026-0004")
    with d.store.begin() as conn:
        task_id = engine.case_tasks(conn, done)[0]["id"]
        engine.decide(conn, task_id=task_id, decision="同意", comment=None, actor="王经理", file=None,
                      file_hash=None, now=MONDAY, cal=CAL)
        conn.execute(s.register_state.insert().values(name="审批台账", dirty=True, attempts=2, last_error="文件被占用"))
    report = status_report(d.store, cal=CAL, today=date(2026, 11, 26))
    lines = {c["编号"]: c for c in report.open_cases}
    assert set(lines) == {"SQ-2026-0001", "SQ-2026-0002"}
    assert (lines["SQ-2026-0001"]["已用工作日"], lines["SQ-2026-0001"]["是否超时"]) == (3, "是")
    assert (lines["SQ-2026-0002"]["当前审批人"], lines["SQ-2026-0002"]["是否超时"]) == ("赵财务、周财务", "否")
    assert report.per_person == [{"审批人": "周财务", "待办数": 1, "超时数": 0},
                                 {"审批人": "王经理", "待办数": 1, "超时数": 1},
                                 {"审批人": "赵财务", "待办数": 1, "超时数": 0}]
    [form] = report.per_form
    assert (form["审批中"], form["已批准"], form["待配置"], form["已驳回"]) == (2, 1, 1, 0)
    assert [b["编号"] for b in report.blocked] == ["SQ-2026-0003"] and "法务" in report.blocked[0]["原因"]
    assert [a["kind"] for a in report.alerts] == ["case-blocked"]
    assert [r["name"] for r in report.registers] == ["审批台账"]
    as_json = report.to_dict()
    assert as_json["overdue"] == 1 and as_json["open_cases"][0]["时限"] == "2026-11-25"
    assert first  # the case id is real
    with d.store.read() as conn:
        assert verify_chain(conn).ok

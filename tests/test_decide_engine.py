"""The approval state machine: modes, endings, resubmission, refusals — real store, no files needed."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select
from support.decide import CAL, MONDAY, desk, later, route, step

from automation.decide import engine
from automation.errors import TransitionError
from automation.policy.chain import Route
from automation.record import schema as s
from automation.record.audit import verify_chain
from automation.record.instances import Case, Task
from automation.record.status import (CASE_MOVES, SUBMISSION_MOVES, TASK_MOVES, CaseStatus, SubmissionStatus,
                                      TaskStatus, move_case, move_task)


def decide(d, task_id, decision="同意", actor=None, comment=None, now=MONDAY):
    with d.store.begin() as conn:
        actor = actor or engine.load_task(conn, task_id)["assignee"]
        return engine.decide(conn, task_id=task_id, decision=decision, comment=comment, actor=actor,
                             file=None, file_hash=None, now=now, cal=CAL)


def statuses(d, case_id):
    return [(t["assignee"], t["status"]) for t in d.tasks(case_id)]


def test_sequential_step_with_several_assignees_goes_one_after_another(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理", "钱经理"), step("总经理", "孙总")))
    assert statuses(d, case_id) == [("王经理", "open"), ("钱经理", "waiting"), ("孙总", "waiting")]
    first = decide(d, d.tasks(case_id)[0]["id"])
    assert first.opened_task_ids == (d.tasks(case_id)[1]["id"],) and not first.finished
    decide(d, d.tasks(case_id)[1]["id"])
    assert statuses(d, case_id)[2] == ("孙总", "open")
    last = decide(d, d.tasks(case_id)[2]["id"])
    assert (last.case_status, last.finished) == ("approved", True)
    assert d.case(case_id)["decided_at"] == MONDAY


def test_countersign_needs_every_approver(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("财务经理", "赵财务", "周财务", mode="会签"), step("总经理", "孙总")))
    assert statuses(d, case_id)[:2] == [("赵财务", "open"), ("周财务", "open")]
    outcome = decide(d, d.tasks(case_id)[0]["id"])
    assert outcome.opened_task_ids == () and d.tasks(case_id)[2]["status"] == "waiting"
    outcome = decide(d, d.tasks(case_id)[1]["id"])
    assert outcome.opened_task_ids == (d.tasks(case_id)[2]["id"],)


def test_countersign_ends_on_one_rejection(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("财务经理", "赵财务", "周财务", mode="会签"), step("总经理", "孙总")))
    outcome = decide(d, d.tasks(case_id)[1]["id"], "驳回", comment="价格过低")
    assert outcome.case_status == "rejected"
    assert statuses(d, case_id) == [("赵财务", "cancelled"), ("周财务", "rejected"), ("孙总", "cancelled")]


def test_any_one_closes_on_the_first_and_cancels_the_rest(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("法务", "吴法务", "郑法务", mode="或签")))
    outcome = decide(d, d.tasks(case_id)[1]["id"])
    assert outcome.case_status == "approved"
    assert statuses(d, case_id) == [("吴法务", "cancelled"), ("郑法务", "approved")]
    assert set(outcome.closed_task_ids) == {t["id"] for t in d.tasks(case_id)}


def test_rejection_ends_the_case_and_cancels_later_steps(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理"), step("总经理", "孙总")))
    outcome = decide(d, d.tasks(case_id)[0]["id"], "驳回", comment="客户资信不足")
    assert (outcome.case_status, outcome.finished) == ("rejected", True)
    assert statuses(d, case_id) == [("王经理", "rejected"), ("孙总", "cancelled")]
    assert d.tasks(case_id)[0]["comment"] == "客户资信不足"


def test_returned_case_resubmitted_continues_at_round_two_from_the_first_step(tmp_path):
    d = desk(tmp_path)
    chain = route(step("部门经理", "王经理"), step("财务经理", "赵财务"))
    case_id = d.open(chain)
    decide(d, d.tasks(case_id)[0]["id"])
    decide(d, d.tasks(case_id)[1]["id"], "退回修改", comment="请补充账期说明")
    assert d.case(case_id)["status"] == "returned"
    again = d.open(chain, values={"账期天数": 15}, existing_case_id=case_id)
    assert again == case_id
    case = d.case(case_id)
    assert (case["round"], case["status"], case["decided_at"]) == (2, "in_approval", None)
    rounds = [(t["round"], t["assignee"], t["status"]) for t in d.tasks(case_id)]
    assert rounds == [(1, "王经理", "approved"), (1, "赵财务", "returned"), (2, "王经理", "open"), (2, "赵财务", "waiting")]
    assert [a["action"] for a in d.audit("case-resubmitted")] == ["case-resubmitted"]


def test_resubmitting_a_case_that_was_not_returned_is_refused(tmp_path):
    d = desk(tmp_path)
    chain = route(step("部门经理", "王经理"))
    case_id = d.open(chain)
    with pytest.raises(TransitionError) as err:
        d.open(chain, existing_case_id=case_id)
    assert err.value.code == "resubmit-refused"


def test_deciding_twice_is_refused_and_changes_nothing(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理"), step("总经理", "孙总")))
    task_id = d.tasks(case_id)[0]["id"]
    decide(d, task_id)
    before = statuses(d, case_id)
    with pytest.raises(TransitionError) as err:
        decide(d, task_id, "驳回")
    assert err.value.code == "task-not-open"
    assert statuses(d, case_id) == before and d.case(case_id)["status"] == "in_approval"


def test_waiting_task_cannot_be_decided_and_unknown_decision_is_refused(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理"), step("总经理", "孙总")))
    with pytest.raises(TransitionError):
        decide(d, d.tasks(case_id)[1]["id"])
    with pytest.raises(TransitionError) as err:
        decide(d, d.tasks(case_id)[0]["id"], "可以")
    assert err.value.code == "decision-invalid"


def test_unresolved_role_blocks_the_case_with_an_alert_never_approves(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(Route(steps=[step("部门经理", "王经理")], unresolved=["法务"]))
    case = d.case(case_id)
    assert case["status"] == "blocked" and "「法务」" in case["block_reason"]
    assert d.tasks(case_id) == []
    with d.store.read() as conn:
        alerts = conn.execute(select(s.alerts.c.kind, s.alerts.c.subject)).all()
    assert alerts == [("case-blocked", case["number"])]


def test_empty_route_blocks_and_unblock_routes_it_later(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(Route())
    assert d.case(case_id)["status"] == "blocked"
    with d.store.begin() as conn:
        opened = engine.unblock_case(conn, case_id, route(step("部门经理", "王经理")), MONDAY, CAL)
    assert len(opened) == 1 and d.case(case_id)["status"] == "in_approval"
    with d.store.read() as conn:
        assert conn.execute(select(s.alerts.c.resolved)).scalar_one() is True


def test_escalation_hands_the_step_to_the_superior(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理"), step("总经理", "孙总")))
    old = d.tasks(case_id)[0]["id"]
    with d.store.begin() as conn:
        new = engine.escalate(conn, old, "陈总监", later(MONDAY, 5), CAL, "超时未办理")
    tasks = {t["id"]: t for t in d.tasks(case_id)}
    assert tasks[old]["status"] == "escalated"
    assert (tasks[new]["assignee"], tasks[new]["status"], tasks[new]["escalated_from"]) == ("陈总监", "open", old)
    outcome = decide(d, new, now=later(MONDAY, 5))
    assert d.tasks(case_id)[1]["status"] == "open" and outcome.case_status == "in_approval"
    with pytest.raises(TransitionError):
        with d.store.begin() as conn:
            engine.escalate(conn, old, "陈总监", MONDAY, CAL, "again")


def test_audit_records_every_move_and_the_chain_verifies(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理")))
    decide(d, d.tasks(case_id)[0]["id"], comment="同意签订")
    actions = [a["action"] for a in d.audit("case-opened") + d.audit("task-opened") + d.audit("task-decided")
               + d.audit("case-approved")]
    assert actions == ["case-opened", "task-opened", "task-decided", "case-approved"]
    assert d.audit("task-decided")[0]["actor"] == "王经理"
    with d.store.read() as conn:
        assert verify_chain(conn).ok


def test_illegal_transition_is_refused_by_the_one_door_and_changes_nothing(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理"), step("总经理", "孙总")))
    first, later_task = (t["id"] for t in d.tasks(case_id))
    decide(d, first, "驳回", comment="客户资信不足")
    with pytest.raises(TransitionError) as refused, d.store.begin() as conn:
        move_case(conn, case_id, CaseStatus.IN_APPROVAL)  # a rejected case is never reopened
    assert refused.value.code == "case-transition-refused" and "已驳回" in refused.value.message
    with pytest.raises(TransitionError) as refused, d.store.begin() as conn:
        move_task(conn, later_task, TaskStatus.APPROVED)  # a cancelled task is never approved
    assert refused.value.code == "task-transition-refused" and "已取消" in refused.value.message
    assert d.case(case_id)["status"] == CaseStatus.REJECTED
    assert [t["status"] for t in d.tasks(case_id)] == [TaskStatus.REJECTED, TaskStatus.CANCELLED]


def test_the_transition_tables_name_every_state_and_keep_the_stored_strings():
    for enum, moves in ((CaseStatus, CASE_MOVES), (TaskStatus, TASK_MOVES), (SubmissionStatus, SUBMISSION_MOVES)):
        assert set(moves) == set(enum) and all(targets <= set(enum) for targets in moves.values())
    assert CaseStatus("in_approval") == "in_approval" and TaskStatus.OPEN == "open"
    assert not any(TASK_MOVES[done] for done in (TaskStatus.APPROVED, TaskStatus.REJECTED, TaskStatus.CANCELLED))


def test_the_engine_hands_out_frozen_case_and_task_records_named_like_their_columns(tmp_path):
    assert [f.name for f in dataclasses.fields(Case)] == [c.name for c in s.cases.columns]
    assert [f.name for f in dataclasses.fields(Task)] == [c.name for c in s.tasks.columns]
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理"), step("总经理", "孙总")))
    case, (first, later_task) = d.case(case_id), d.tasks(case_id)
    assert isinstance(case, Case) and case.status is CaseStatus.IN_APPROVAL and case.round == 1
    assert (first.assignee, first.status, later_task.status) == ("王经理", TaskStatus.OPEN, TaskStatus.WAITING)
    assert first["assignee"] == first.assignee and dict(case)["number"] == case.number  # still reads as a row
    with pytest.raises(dataclasses.FrozenInstanceError):
        case.status = CaseStatus.APPROVED  # type: ignore[misc]
    with pytest.raises(KeyError):
        first["no_such_column"]
    with d.store.read() as conn:
        assert engine.case_by_number(conn, case.number) == case

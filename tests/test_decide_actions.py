"""Approver actions in the state machine: 转交, 前加签 / 后加签, 退回到 an earlier step,
审批人去重 and steps nobody holds — real store, one transition door (engine.decide)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from support.decide import CAL, MONDAY, desk, route, step

from automation.decide import engine
from automation.errors import TransitionError


def decide(d, task_id, decision="同意", comment=None, **extra):
    with d.store.begin() as conn:
        actor = engine.load_task(conn, task_id).assignee
        return engine.decide(conn, task_id=task_id, decision=decision, comment=comment, actor=actor,
                             file=None, file_hash=None, now=MONDAY, cal=CAL, **extra)


def open_task(d, case_id, person):
    found = [t for t in d.tasks(case_id) if t.assignee == person and t.status == "open"]
    assert len(found) == 1, [(t.assignee, t.status) for t in d.tasks(case_id)]
    return found[0].id


def states(d, case_id):
    return [(t.step_index + 1, t.assignee, t.status) for t in d.tasks(case_id)]


def test_transfer_moves_the_task_keeps_the_role_and_the_new_holder_decides(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "吴强"), step("总经理", "赵建国")))
    outcome = decide(d, open_task(d, case_id, "吴强"), "转交", comment="出差一周,请冯经理代为审批", to="冯磊")
    new = open_task(d, case_id, "冯磊")
    assert outcome.opened_task_ids == (new,)
    tasks = {t["id"]: t for t in d.tasks(case_id)}
    assert (tasks[new]["role"], tasks[new]["step_index"], tasks[new]["origin"]) == ("部门经理", 0, "transfer")
    old = tasks[new]["origin_task"]
    assert (tasks[old]["status"], tasks[old]["decision"], tasks[old]["target"]) == ("transferred", "转交", "冯磊")
    decide(d, new)
    assert open_task(d, case_id, "赵建国")
    assert [a["detail"] for a in d.audit("task-decided")][0].count("冯磊") == 1


@pytest.mark.parametrize("to, code", [("吴强", "handover-to-self"), ("李销售", "handover-to-applicant"),
                                      ("", "handover-name-missing")])
def test_transfer_to_oneself_the_applicant_or_nobody_is_refused(tmp_path, to, code):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "吴强")))
    with pytest.raises(TransitionError) as caught:
        decide(d, open_task(d, case_id, "吴强"), "转交", to=to)
    assert caught.value.code == code
    assert states(d, case_id) == [(1, "吴强", "open")]


def test_sign_before_the_added_person_decides_first_then_the_task_comes_back(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "吴强"), step("总经理", "赵建国")))
    decide(d, open_task(d, case_id, "吴强"), "加签", comment="请法务先看条款", to="周文", how="前加签")
    assert states(d, case_id) == [(1, "吴强", "addsigned"), (2, "赵建国", "waiting"), (1, "周文", "open"),
                                  (1, "吴强", "waiting")]
    decide(d, open_task(d, case_id, "周文"), comment="条款可接受")
    back = open_task(d, case_id, "吴强")
    assert {t["id"]: t for t in d.tasks(case_id)}[back]["origin"] == "sign-back"
    decide(d, back)
    assert open_task(d, case_id, "赵建国")


def test_sign_after_my_approval_stands_and_the_added_person_decides_before_the_next_step(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "吴强"), step("总经理", "赵建国")))
    decide(d, open_task(d, case_id, "吴强"), "加签", comment="同意,请财务复核", to="孙丽", how="后加签")
    assert states(d, case_id) == [(1, "吴强", "approved"), (2, "赵建国", "waiting"), (1, "孙丽", "open")]
    decide(d, open_task(d, case_id, "孙丽"))
    assert open_task(d, case_id, "赵建国")


def test_sign_without_a_mode_is_refused(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "吴强")))
    with pytest.raises(TransitionError) as caught:
        decide(d, open_task(d, case_id, "吴强"), "加签", to="周文")
    assert caught.value.code == "sign-mode-missing"


def test_countersign_keeps_needing_everyone_when_one_signs_someone_in_before_them(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("财务经理", "孙丽", "钱明", mode="会签"), step("总经理", "赵建国")))
    decide(d, open_task(d, case_id, "孙丽"), "加签", to="李娜", how="前加签")
    decide(d, open_task(d, case_id, "钱明"))
    assert engine.status_label(d.case(case_id)["status"]) == "审批中"
    decide(d, open_task(d, case_id, "李娜"))
    assert [t["assignee"] for t in d.tasks(case_id) if t["status"] == "open"] == ["孙丽"]
    decide(d, open_task(d, case_id, "孙丽"))
    assert open_task(d, case_id, "赵建国")


def test_any_sign_settled_by_a_sign_after_waits_only_for_the_added_person(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("法务", "周文", "卫东", mode="或签"), step("总经理", "赵建国")))
    decide(d, open_task(d, case_id, "周文"), "加签", to="孙丽", how="后加签")
    assert states(d, case_id) == [(1, "周文", "approved"), (1, "卫东", "cancelled"), (2, "赵建国", "waiting"),
                                  (1, "孙丽", "open")]


def test_transfer_of_an_added_person_still_hands_the_task_back_afterwards(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "吴强")))
    decide(d, open_task(d, case_id, "吴强"), "加签", to="周文", how="前加签")
    decide(d, open_task(d, case_id, "周文"), "转交", to="卫东")
    decide(d, open_task(d, case_id, "卫东"))
    decide(d, open_task(d, case_id, "吴强"))
    assert d.case(case_id)["status"] == "approved"


def test_return_to_an_earlier_step_reopens_it_and_every_later_step_runs_again(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "吴强"), step("财务经理", "孙丽"), step("总经理", "赵建国")))
    decide(d, open_task(d, case_id, "吴强"))
    decide(d, open_task(d, case_id, "孙丽"))
    outcome = decide(d, open_task(d, case_id, "赵建国"), "退回修改", comment="账期过长,请财务重新评估", back_to=1)
    assert outcome.case_status == "in_approval"
    assert d.case(case_id)["status"] == "in_approval"
    again = open_task(d, case_id, "孙丽")
    assert outcome.opened_task_ids == (again,)
    returned = [t for t in d.tasks(case_id) if t["status"] == "returned"][0]
    assert (returned["target"], returned["return_to"]) == ("第 2 步 · 财务经理", 1)
    decide(d, again)
    decide(d, open_task(d, case_id, "赵建国"))
    assert d.case(case_id)["status"] == "approved"
    assert [t["assignee"] for t in d.tasks(case_id) if t["status"] == "approved"] == ["吴强", "孙丽", "孙丽", "赵建国"]


@pytest.mark.parametrize("back_to", [1, 2, -1])
def test_return_to_the_current_or_a_later_step_is_refused(tmp_path, back_to):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "吴强"), step("财务经理", "孙丽"), step("总经理", "赵建国")))
    decide(d, open_task(d, case_id, "吴强"))
    with pytest.raises(TransitionError) as caught:
        decide(d, open_task(d, case_id, "孙丽"), "退回修改", comment="x", back_to=back_to)
    assert caught.value.code == "return-step-invalid"


def test_dedup_consecutive_approves_the_repeated_step_and_says_why(tmp_path):
    d = desk(tmp_path)
    chain = replace(route(step("部门经理", "吴强"), step("销售分部经理", "吴强"), step("总经理", "赵建国")),
                    dedup="连续重复时自动同意")
    case_id = d.open(chain)
    decide(d, open_task(d, case_id, "吴强"))
    assert states(d, case_id) == [(1, "吴强", "approved"), (2, "吴强", "approved"), (3, "赵建国", "open")]
    auto = d.tasks(case_id)[1]
    assert (auto["decided_by"], auto["comment"]) == ("OfficeFlow", "系统自动同意:与第 1 步审批人相同")
    assert len(d.audit("task-auto-approved")) == 1


@pytest.mark.parametrize("mode, third", [("连续重复时自动同意", "open"), ("已审批过则自动同意", "approved"),
                                         ("不去重", "open")])
def test_dedup_modes_for_a_person_who_comes_back_after_someone_else(tmp_path, mode, third):
    d = desk(tmp_path)
    case_id = d.open(replace(route(step("部门经理", "吴强"), step("财务经理", "孙丽"), step("总经理", "吴强")), dedup=mode))
    decide(d, open_task(d, case_id, "吴强"))
    decide(d, open_task(d, case_id, "孙丽"))
    assert states(d, case_id)[2] == (3, "吴强", third)
    assert d.case(case_id)["status"] == ("approved" if third == "approved" else "in_approval")


def test_step_nobody_holds_is_passed_automatically_when_the_policy_says_so(tmp_path):
    d = desk(tmp_path)
    empty = replace(step("法务"), on_empty="自动通过")
    case_id = d.open(route(step("部门经理", "吴强"), empty, step("总经理", "赵建国")))
    decide(d, open_task(d, case_id, "吴强"))
    assert states(d, case_id) == [(1, "吴强", "approved"), (2, "OfficeFlow", "approved"), (3, "赵建国", "open")]
    assert "无人担任" in d.tasks(case_id)[1]["comment"]
    assert [a["action"] for a in d.audit("step-nobody-holds")] == ["step-nobody-holds"]


def test_return_to_a_step_undoes_later_approvals_for_dedup(tmp_path):
    d = desk(tmp_path)
    chain = replace(route(step("部门经理", "吴强"), step("财务经理", "孙丽"), step("分管副总", "钱明"),
                          step("总经理", "孙丽")), dedup="已审批过则自动同意")
    case_id = d.open(chain)
    for person in ("吴强", "孙丽"):
        decide(d, open_task(d, case_id, person))
    decide(d, open_task(d, case_id, "钱明"), "退回修改", comment="请财务复核", back_to=1)
    decide(d, open_task(d, case_id, "孙丽"))
    decide(d, open_task(d, case_id, "钱明"))
    assert d.case(case_id)["status"] == "approved"  # 总经理 step: 孙丽 approved step 2 again after the return
    assert d.tasks(case_id)[-1]["comment"] == "系统自动同意:与第 2 步审批人相同"

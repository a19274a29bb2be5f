"""Decisions handed back as files: moved into a folder or with 审批结论 filled, and the ones that must not count."""

from __future__ import annotations

import shutil

from support.decide import CAL, MONDAY, desk, route, set_named, step

from automation.decide import scan
from automation.decide.integrity import form_fingerprint
from automation.decide.task_files import DONE_FOLDER
from automation.record.audit import verify_chain


def apply(d):
    results = scan.apply_decisions(d.store, d.settings, specs={d.spec.id: d.spec}, cal=CAL, now=MONDAY)
    for result in results:
        if result.outcome is not None:
            d.on_decided(result.outcome)  # as the pipeline's outputs step would: issue the next task files
    return results


def drop_into(d, task_id, folder):
    path = d.task_file(task_id)
    return shutil.move(path, path.parent / folder / path.name)


def test_sequential_chain_through_three_approvers_by_moving_files_into_agree(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理"), step("财务经理", "赵财务"), step("总经理", "孙总")))
    for n in range(3):
        task = d.tasks(case_id)[n]
        drop_into(d, task["id"], "同意")
        [result] = apply(d)
        assert result.accepted, result.reason
        assert result.moved_to.parent == d.settings.approvals / task["assignee"] / DONE_FOLDER
    assert d.case(case_id)["status"] == "approved"
    assert [t["decision"] for t in d.tasks(case_id)] == ["同意"] * 3
    assert apply(d) == []
    with d.store.read() as conn:
        assert verify_chain(conn).ok


def test_later_task_file_shows_the_chain_so_far(tmp_path):
    import openpyxl

    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理"), step("财务经理", "赵财务")))
    first = d.tasks(case_id)[0]["id"]
    set_named(d.task_file(first), "审批意见", "同意,注意回款")
    drop_into(d, first, "同意")
    apply(d)
    sheet = openpyxl.load_workbook(d.task_file(d.tasks(case_id)[1]["id"]))["审批"]
    rows = [tuple(c.value for c in row) for row in sheet.iter_rows()]
    assert any(r[1:5] == ("第 1 轮", "第 1 步 · 部门经理", "王经理 同意", "同意,注意回款") for r in rows)


def test_decision_by_filling_the_cell_and_saving(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理")))
    path = d.task_file(d.tasks(case_id)[0]["id"])
    set_named(path, "审批结论", "驳回")
    set_named(path, "审批意见", "客户资信不足")
    [result] = apply(d)
    assert result.accepted and result.file.by == "cell"
    task = d.tasks(case_id)[0]
    assert (task["decision"], task["comment"]) == ("驳回", "客户资信不足")
    assert d.case(case_id)["status"] == "rejected"
    assert not path.exists() and (path.parent / DONE_FOLDER / path.name).exists()


def test_return_for_changes_by_folder(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理"), step("总经理", "孙总")))
    set_named(d.task_file(d.tasks(case_id)[0]["id"]), "审批意见", "请补充交货计划")
    drop_into(d, d.tasks(case_id)[0]["id"], "退回修改")
    results = scan.apply_decisions(d.store, d.settings, specs={d.spec.id: d.spec}, cal=CAL, now=MONDAY)
    outcomes = [r.outcome for r in results if r.outcome is not None]
    assert [o.case_status for o in outcomes] == ["returned"]


def test_changed_amount_is_refused_with_reason_file_and_audit_and_not_retried(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理")))
    task_id = d.tasks(case_id)[0]["id"]
    set_named(d.task_file(task_id), "合同金额", 1234.5)
    moved = drop_into(d, task_id, "同意")
    [result] = apply(d)
    assert not result.accepted and "表单内容在审批过程中被修改" in result.reason
    back = d.settings.approvals / "王经理" / moved.name.replace(".xlsx", "(未计入).xlsx")
    assert result.moved_to == back and back.exists()
    reason = back.with_name(back.name + ".原因.txt").read_text(encoding="utf-8")
    assert "表单内容在审批过程中被修改" in reason and f"「{moved.name}」" in reason
    assert d.tasks(case_id)[0]["status"] == "open"
    fresh = d.settings.approvals / "王经理" / moved.name  # a clean task file, so the approver can still decide
    assert fresh.exists() and d.tasks(case_id)[0]["file_path"].endswith(moved.name)
    assert form_fingerprint(fresh, d.spec) == d.tasks(case_id)[0]["fingerprint"]
    [refusal] = d.audit("decision-refused")
    assert refusal["actor"] == "王经理" and refusal["file_hash"] == scan.sha256(back)
    assert apply(d) == []  # lying in the root with no cell filled: nothing to count, nothing refused again


def test_refused_cell_decision_is_not_refused_again_on_every_scan(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理")))
    path = d.task_file(d.tasks(case_id)[0]["id"])
    set_named(path, "合同金额", 99999)
    set_named(path, "审批结论", "同意")
    assert [r.accepted for r in apply(d)] == [False]
    assert apply(d) == [] and len(d.audit("decision-refused")) == 1
    refused = path.with_name(path.name.replace(".xlsx", "(未计入).xlsx"))
    assert path.exists() and refused.exists()  # a fresh clean copy beside the refused one
    set_named(refused, "合同金额", 12345)  # restored: the same file is a new attempt and now counts
    assert [r.accepted for r in apply(d)] == [True]


def test_file_copied_into_someone_elses_folder_does_not_count(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理"), step("总经理", "孙总")))
    source = d.task_file(d.tasks(case_id)[0]["id"])
    foreign = d.settings.approvals / "孙总" / "同意" / source.name
    foreign.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, foreign)
    [result] = apply(d)
    assert not result.accepted and "王经理" in result.reason
    assert result.moved_to == d.settings.approvals / "孙总" / source.name.replace(".xlsx", "(未计入).xlsx")
    assert [t["status"] for t in d.tasks(case_id)] == ["open", "waiting"]
    assert d.audit("decision-refused")[0]["actor"] == "孙总"


def _dropped_with_a_copy(tmp_path):
    """A two-step case whose first task file is dropped into 同意/, a copy of it kept beside."""
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理"), step("总经理", "孙总")))
    path = d.task_file(d.tasks(case_id)[0]["id"])
    copy = path.with_name("副本 " + path.name)
    shutil.copy(path, copy)
    drop_into(d, d.tasks(case_id)[0]["id"], "同意")
    return d, case_id, path, copy


def test_two_copies_of_one_task_in_agree_and_reject_in_one_pass_are_both_refused(tmp_path):
    """Two different conclusions on one task in the same pass: neither counts (decide/conflicts.py)."""
    d, case_id, path, copy = _dropped_with_a_copy(tmp_path)
    shutil.move(copy, path.parent / "驳回" / copy.name)
    results = apply(d)
    assert [r.accepted for r in results] == [False, False]
    assert [r.problem.code for r in results] == ["decision-conflicting"] * 2
    assert [t["status"] for t in d.tasks(case_id)] == ["open", "waiting"]


def test_a_second_copy_of_an_already_decided_task_is_refused(tmp_path):
    d, case_id, path, copy = _dropped_with_a_copy(tmp_path)
    [first] = apply(d)
    assert first.accepted
    shutil.move(copy, path.parent / "驳回" / copy.name)
    [second] = apply(d)
    assert not second.accepted and second.problem.code == "decision-already-decided"
    assert d.tasks(case_id)[0]["decision"] == "同意"
    assert "已于" in second.reason and "「王经理」办理" in second.reason


def test_lock_and_temp_files_are_ignored(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理")))
    path = d.task_file(d.tasks(case_id)[0]["id"])
    agree = path.parent / "同意"
    for name in ("~$" + path.name, ".~lock." + path.name + "#", "x.tmp", "说明.txt"):
        (agree / name).write_bytes(b"lock")
    assert scan.find_decision_files(d.settings) == []


def test_file_left_behind_after_its_decision_was_recorded_is_just_filed_away(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理"), step("总经理", "孙总")))
    path = d.task_file(d.tasks(case_id)[0]["id"])
    spare = path.with_name("备份.xlsx")
    shutil.copy(path, spare)
    drop_into(d, d.tasks(case_id)[0]["id"], "同意")
    apply(d)
    shutil.move(spare, path.parent / "同意" / path.name)  # as if the move to 已办 had not happened
    [result] = apply(d)
    assert result.accepted and result.outcome is None and result.moved_to.parent.name == DONE_FOLDER
    assert d.audit("decision-refused") == [] and len(d.audit("task-decided")) == 1


def test_folder_and_cell_that_disagree_do_not_count(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理")))
    task_id = d.tasks(case_id)[0]["id"]
    set_named(d.task_file(task_id), "审批结论", "驳回")
    drop_into(d, task_id, "同意")
    [result] = apply(d)
    assert not result.accepted and "不一致" in result.reason
    assert d.tasks(case_id)[0]["status"] == "open"


def _refusal_codes(d) -> list[str]:
    from automation.record import codec

    return [codec.loads(entry["detail"])["code"] for entry in d.audit("decision-refused")]


def test_refusals_are_coded_problems_in_the_result_and_the_audit_entry(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理"), step("总经理", "孙总")))
    changed = d.tasks(case_id)[0]["id"]
    set_named(d.task_file(changed), "合同金额", 1234.5)
    moved = drop_into(d, changed, "同意")
    [result] = apply(d)
    assert (result.problem.code, result.problem.message) == ("decision-data-changed", result.reason)
    assert result.problem.location.endswith(moved.name) and result.to_dict()["code"] == "decision-data-changed"
    assert _refusal_codes(d) == ["decision-data-changed"]
    note = result.moved_to.with_name(result.moved_to.name + ".原因.txt").read_text(encoding="utf-8")
    assert result.problem.message in note and "decision-" not in note  # staff read the words, never the code


def test_each_kind_of_refusal_has_its_own_code(tmp_path):
    d = desk(tmp_path)
    first = d.open(route(step("部门经理", "王经理"), step("总经理", "孙总")))
    source = d.task_file(d.tasks(first)[0]["id"])
    foreign = d.settings.approvals / "孙总" / "同意" / source.name
    foreign.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, foreign)  # not the holder's folder
    second = d.open(route(step("部门经理", "王经理")), number="SQ-2026-0002")
    task = d.tasks(second)[0]["id"]
    set_named(d.task_file(task), "审批结论", "驳回")
    drop_into(d, task, "同意")  # folder and cell disagree
    apply(d)
    assert sorted(_refusal_codes(d)) == ["decision-folder-disagrees", "decision-wrong-folder"]


def test_damaged_decision_file_is_refused_with_a_fresh_copy_and_no_english(tmp_path):
    """A task file that cannot be read at all (truncated, or not a package any more) is refused as
    damaged — and the approver still gets a clean task file beside the reason, in plain Chinese."""
    import re
    from pathlib import Path

    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理")))
    task_id = d.tasks(case_id)[0]["id"]
    moved = drop_into(d, task_id, "同意")
    moved = Path(moved)
    moved.write_bytes(moved.read_bytes()[:300])  # a save cut short: the zip's directory is gone
    [result] = apply(d)
    assert not result.accepted and result.problem.code == "decision-file-damaged"
    back = d.settings.approvals / "王经理" / moved.name.replace(".xlsx", "(未计入).xlsx")
    reason = back.with_name(back.name + ".原因.txt").read_text(encoding="utf-8")
    assert "已在同一文件夹中重新发出一份干净的审批文件" in reason
    assert not re.search(r"[A-Za-z]{3,}(Error|Exception)|Traceback|/tmp/|File is not", reason), reason
    fresh = d.settings.approvals / "王经理" / moved.name
    assert form_fingerprint(fresh, d.spec) == d.tasks(case_id)[0]["fingerprint"]
    assert d.tasks(case_id)[0]["status"] == "open"
    shutil.move(fresh, fresh.parent / "同意" / fresh.name)
    assert [r.accepted for r in apply(d)] == [True]

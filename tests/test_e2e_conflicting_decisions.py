"""Decisions on one task given twice before one pass (a copy dragged into 同意/ and the original's
审批结论 filled in), and a copy of a decided task dropped in later: real files, the real pipeline."""

from __future__ import annotations

import shutil

from support.e2e import Office, named_value

from automation import samples
from automation.record import codec
from automation.record import schema as s

PERSON = "吴强"


def _opened(o: Office):
    o.submit("customer_registration", samples.customer_registration(81, o.today))
    o.run()
    [case] = o.cases()
    return case, o.task(PERSON)


def _folder(o: Office):
    return o.outbox / "approvals" / PERSON


def _files(o: Office) -> list[str]:
    return sorted(p.relative_to(_folder(o)).as_posix() for p in _folder(o).rglob("*") if p.is_file())


def _notes(o: Office) -> list[str]:
    return [p.read_text(encoding="utf-8-sig") for p in sorted(_folder(o).glob("*.原因.txt"))]


def _refused(o: Office) -> list[dict]:
    return [codec.loads(a["detail"]) for a in o.audit("decision-refused")]


def _drag_copy(o: Office, task, name: str | None = None):
    agree = _folder(o) / "同意"
    agree.mkdir(exist_ok=True)
    return shutil.copy2(task, agree / (name or task.name))


def _dragged_and_filled(tmp_path, decision: str, comment: str):
    """A copy of the task file dragged into 同意/ and ``decision`` written in the original, in one pass."""
    o = Office.create(tmp_path)
    case, task = _opened(o)
    _drag_copy(o, task)
    o.decide_in_cell(PERSON, decision, comment)
    o.run()
    return o, case, task


def test_copy_dragged_to_agree_and_reject_in_the_cell_are_both_refused_and_the_task_stays_open(tmp_path):
    o, case, task = _dragged_and_filled(tmp_path, "驳回", "资料不全")

    assert o.case(case["number"])["status"] == "in_approval"
    assert [(t["status"], t["decision"]) for t in o.rows(s.tasks)] == [("open", None)]
    refused = _refused(o)
    assert sorted(d["decision"] for d in refused) == ["同意", "驳回"]
    assert {d["code"] for d in refused} == {"decision-conflicting"}
    assert not o.audit("task-decided")
    # Nothing lost: both files back in the approver's folder, marked, each with its reason; a clean task file.
    name = task.name.removesuffix(".xlsx")
    assert _files(o) == sorted([f"{name}(未计入).xlsx", f"{name}(未计入).xlsx.原因.txt",
                                f"{name}(未计入) (2).xlsx", f"{name}(未计入) (2).xlsx.原因.txt", task.name])
    assert named_value(o.task(PERSON), "审批结论") in (None, "")
    for note in _notes(o):
        assert case["number"] in note and "「同意」(拖入「同意」文件夹" in note
        assert "「驳回」(" in note and "的「审批结论」单元格)" in note and "请只给出一个审批结论" in note

    o.approve(PERSON)  # one clear answer now counts
    o.run()
    assert o.case(case["number"])["status"] == "approved"
    assert len(o.audit("task-decided")) == 1


def test_the_same_conclusion_given_twice_in_one_pass_counts_once(tmp_path):
    o, case, task = _dragged_and_filled(tmp_path, "同意", "同意办理")

    assert o.case(case["number"])["status"] == "approved"
    assert [codec.loads(a["detail"])["decision"] for a in o.audit("task-decided")] == ["同意"]
    assert "decision-conflicting" not in {d["code"] for d in _refused(o)}


def test_a_stale_copy_of_a_decided_task_dropped_into_agree_is_answered_with_who_decided_and_when(tmp_path):
    o = Office.create(tmp_path)
    case, task = _opened(o)
    stale = shutil.copy2(task, tmp_path / "stale.xlsx")
    o.approve(PERSON)
    o.run()
    assert o.case(case["number"])["status"] == "approved"

    _drag_copy(o, stale, "旧的待办.xlsx")
    o.run()

    assert len(o.audit("task-decided")) == 1, "decided once"
    [refused] = _refused(o)
    assert refused["code"] == "decision-already-decided"
    assert "旧的待办(未计入).xlsx" in _files(o)
    [note] = _notes(o)
    assert case["number"] in note and f"由「{PERSON}」办理" in note and "结论为「同意」" in note
    assert f"{o.now:%Y-%m-%d}" in note

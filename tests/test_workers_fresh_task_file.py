"""A refused decision file's fresh task file is written under the task's claim, like every task file:
with the refused file moved away, another worker sees the task without its file and may be writing it
at that moment — then that one is the approver's copy, and the task file is never written twice."""

from __future__ import annotations

import shutil
from pathlib import Path

from support.decide import CAL, MONDAY, desk, route, set_named, step

from automation.decide import scan
from automation.record.store import Store


def test_a_refused_file_is_not_reissued_while_another_worker_holds_the_task(tmp_path, pg_url):
    d = desk(tmp_path, pg_url)
    try:
        case_id = d.open(route(step("部门经理", "王经理")))
        task_id = d.tasks(case_id)[0]["id"]
        path = d.task_file(task_id)
        set_named(path, "合同金额", 1234.5)  # a changed amount: refused
        moved = shutil.move(path, path.parent / "同意" / path.name)
        other = Store(pg_url)  # another worker, writing this task's file now
        try:
            assert other.workers.take("task", str(task_id))
            [result] = scan.apply_decisions(d.store, d.settings, specs={d.spec.id: d.spec}, cal=CAL, now=MONDAY)
        finally:
            other.dispose()
        assert not result.accepted and d.tasks(case_id)[0]["status"] == "open"
        assert not (d.settings.approvals / "王经理" / path.name).exists(), "left to the worker holding the task"
        assert len(d.audit("task-file-written")) == 1, "written once: when the case opened"
        reason = result.moved_to.with_name(result.moved_to.name + ".原因.txt").read_text(encoding="utf-8")
        assert "重新发出" not in reason and not Path(moved).exists()
    finally:
        d.store.dispose()

"""A worker killed with SIGKILL right after an approver action is committed, before any of its
effects (the file's move to 已办, the next holder's task file, the applicant's copy): the next
pass finishes the effects once and decides nothing twice."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap

import pytest
from support.e2e import Office

from automation import samples
from automation.forms.fill import fill_docx
from automation.record import schema as s
from support.e2e import set_named

# The real pipeline in a child process, killed (SIGKILL) at the moment the decision's transaction has
# committed and the scan would move the file: the earliest point where effects are still all missing.
CHILD = textwrap.dedent("""
    import os, signal, sys
    from datetime import datetime
    from pathlib import Path
    from automation.clock import Clock
    from automation.decide import scan
    from automation.pipeline import process_pending
    from automation.runtime import open_runtime

    def killed(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    scan._to_done = killed
    clock = Clock(fixed=datetime.fromisoformat(sys.argv[2]))
    process_pending(open_runtime(Path(sys.argv[1]), clock=clock))
""")


def _kill_after_commit(office: Office) -> None:
    office.close()
    done = subprocess.run([sys.executable, "-c", CHILD, str(office.root), office.now.isoformat()],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]


def _decided(office: Office, number: str) -> list[dict]:
    return [json.loads(a["detail"]) for a in office.audit("task-decided") if a["subject"] == number]


@pytest.mark.parametrize("form, inputs, holder", [
    ("customer_registration", {"审批结论": "转交", "转交给": "冯磊", "审批意见": "请冯经理代批"}, "冯磊"),
    ("trip_request", {"审批结论": "加签", "加签人": "周文", "加签方式": "前加签", "审批意见": "请法务先看"}, "周文"),
    ("customer_registration", {"审批结论": "加签", "加签人": "卫东", "加签方式": "后加签", "审批意见": "请技术部也看"}, "卫东"),
], ids=["transfer-xlsx", "sign-before-docx", "sign-after-xlsx"])
def test_action_killed_after_commit_is_finished_once_by_the_next_pass(office, form, inputs, holder):
    values = samples.trip_request(office.today) if form == "trip_request" else samples.customer_registration(7, office.today)
    office.submit(form, values)
    office.run()
    number = office.case(form_id=form)["number"]
    path = office.task("吴强", number)
    fill_docx(path, inputs) if path.suffix == ".docx" else set_named(path, inputs)
    _kill_after_commit(office)
    assert [d["decision"] for d in _decided(office, number)] == [inputs["审批结论"]]  # committed …
    assert office.tasks("吴强") == [path] and office.tasks(holder) == []  # … and nothing else happened
    office.run()
    office.run()
    assert [d["decision"] for d in _decided(office, number)] == [inputs["审批结论"]]
    assert office.audit("decision-refused") == []
    assert office.open_holders(number) == [holder] and len(office.tasks(holder)) == 1
    assert office.tasks("吴强") == [] and len(office.files("approvals", "吴强", "已办")) == 1
    case = office.case(number)
    assert len(office.rows(s.tasks, s.tasks.c.case_id == case["id"], s.tasks.c.assignee == holder)) == 1


def test_rejection_with_a_reason_killed_after_commit_returns_one_copy(office):
    office.submit("customer_registration", samples.customer_registration(7, office.today))
    office.run()
    number = office.case(form_id="customer_registration")["number"]
    set_named(office.task("吴强", number), {"审批意见": "营业执照已过期"})
    office.move_to("吴强", "驳回", number)
    _kill_after_commit(office)
    assert office.case(number)["status"] == "rejected" and office.returned("王芳") == []
    office.run()
    office.run()
    assert len(office.returned("王芳")) == 1 and len(_decided(office, number)) == 1


def test_return_to_an_earlier_step_killed_after_commit_reissues_that_step_once(office):
    """退回到 in a Word task file (a two-step 出差申请表 for the test): killed after the commit, the
    next pass gives the earlier step's approver one fresh task and files the returner's away."""
    from support.e2e import edit_policy, headers

    def add_step(ws):
        cols = headers(ws)
        row = ws.max_row + 1
        for header, value in (("表单", "出差申请表"), ("审批角色", "财务经理"), ("方式", "依次"), ("依据", "测试")):
            ws.cell(row, cols[header]).value = value
    edit_policy(office.root, "审批规则", add_step)
    office.submit("trip_request", samples.trip_request(office.today))
    office.run()
    number = office.case(form_id="trip_request")["number"]
    office.approve("吴强", number)
    office.run()
    path = office.task("孙丽", number)
    fill_docx(path, {"审批结论": "退回修改", "退回到": "第 1 步 · 部门经理 · 吴强", "审批意见": "天数请再核实"})
    _kill_after_commit(office)
    assert [d["decision"] for d in _decided(office, number)] == ["同意", "退回修改"]
    assert office.tasks("孙丽") == [path] and office.tasks("吴强") == []
    office.run()
    office.run()
    assert [d["decision"] for d in _decided(office, number)] == ["同意", "退回修改"]
    assert office.audit("decision-refused") == [] and office.open_holders(number) == ["吴强"]
    assert len(office.tasks("吴强")) == 1 and office.tasks("孙丽") == []
    assert office.case(number)["status"] == "in_approval" and office.returned("王芳") == []

"""Issue 13: a fault in the policy never blames the submitter.

A form whose rule cannot be evaluated because of the policy is held (等待制度修正):
archived, not quarantined, not returned; the administrator is told in
制度.检查结果.txt and ``officeflow status``; the form is processed by itself once
制度.xlsx is fixed. A broken 制度.xlsx at start-up runs on the last good policy
kept in the store.
"""

from __future__ import annotations

import json
from datetime import date

from support.e2e import set_condition
from support.workspace import running_watcher, wait_for

from automation import samples
from automation.record import schema as s

REPORT = ("policies", "制度.检查结果.txt")
# Compares a date with a number: lint cannot know the types, evaluation fails on every form.
BROKEN_CONDITION = "申请日期 > 1"


def _report(office) -> str:
    path = office.root.joinpath(*REPORT)
    return path.read_text(encoding="utf-8") if path.exists() else ""


def test_policy_fault_holds_forms_until_fixed(office):
    office.close()
    set_condition(office.root, "客户登记表", BROKEN_CONDITION)
    with running_watcher(office.root) as (rt, _):
        office.drop(office.form("customer_registration", samples.customer_registration(61, date.today())), "登记.xlsx")
        wait_for(lambda: any((x["status"], x["reason_code"]) == ("archived", "policy-held") for x in office.submissions()),
                 timeout=30,
                 message="the form held for the policy fault")
        [held] = office.submissions()
        assert (held["status"], held["case_id"]) == ("archived", None)
        assert "等待制度修正" in held["reason"] and "'>'" not in held["reason"]
        assert office.files("quarantine") == [] and office.files("returned") == [] and office.returned("王芳") == []
        wait_for(lambda: "等待制度修正" in _report(office), timeout=20, message="the administrator's report")
        assert "登记.xlsx" in _report(office) and "审批规则!B" in _report(office)
        status = office.cli("status", "--json")
        report = json.loads(status.stdout)
        assert [h["文件"] for h in report["held"]] == ["登记.xlsx"]
        assert any(a["kind"] == "policy-fault" for a in report["alerts"])

        set_condition(office.root, "客户登记表", None)  # the administrator fixes the row
        wait_for(lambda: office.tasks("吴强"), timeout=30, message="the held form routed after the fix")

    [released] = office.submissions()
    assert (released["status"], released["reason_code"]) == ("archived", "accepted")
    case = office.case(form_id="customer_registration")
    assert released["case_id"] == case["id"] and case["status"] == "in_approval"
    assert office.root.joinpath(released["dest_path"]).exists()
    assert not office.root.joinpath(*REPORT).exists()
    assert not office.rows(s.alerts, s.alerts.c.kind == "policy-fault", s.alerts.c.resolved.is_(False))
    assert [a["action"] for a in office.audit() if a["action"] in ("file-released", "held-forms-released")] == [
        "file-released", "held-forms-released"]


def test_held_form_that_is_wrong_goes_back_to_its_applicant_once_the_policy_is_fixed(office):
    set_condition(office.root, "客户登记表", BROKEN_CONDITION, sheet="校验规则")
    # A field error and a policy fault together: nothing can be judged until the policy is fixed.
    office.submit("customer_registration", dict(samples.customer_registration(62, office.today), 联系电话="12345"))
    office.run()
    assert office.submissions()[-1]["reason_code"] == "policy-held"
    assert office.files("returned") == [] and office.returned("王芳") == []

    set_condition(office.root, "客户登记表", '客户等级 == "D"', sheet="校验规则")
    office.rt.policies.refresh(force=True)
    office.run()
    [sub] = office.submissions()
    assert (sub["status"], sub["reason_code"]) == ("returned", "form-invalid")
    assert [p.name for p in office.returned("王芳")] == [office.root.joinpath(sub["extra_path"]).name]
    assert office.cases() == []


def test_same_file_dropped_again_while_held_is_a_duplicate_not_a_second_case(office):
    set_condition(office.root, "客户登记表", BROKEN_CONDITION)
    path = office.form("customer_registration", samples.customer_registration(63, office.today))
    copy = path.with_name("副本.xlsx")
    copy.write_bytes(path.read_bytes())
    office.drop(path)
    office.run()
    office.drop(copy)
    office.run()
    set_condition(office.root, "客户登记表", None)
    office.rt.policies.refresh(force=True)
    office.run()
    assert [x["reason_code"] for x in office.submissions()] == ["accepted", "duplicate"]
    assert len(office.cases()) == 1


def test_broken_policy_at_start_up_runs_on_the_last_good_one_and_says_so(office):
    office.run()  # the good policy passed the checks once: the store keeps it
    office.close()
    workbook = office.root / "policies" / "制度.xlsx"
    workbook.write_bytes(b"PK\x03\x04 not really a workbook")

    process = office.cli("process")
    assert process.returncode == 0, process.stdout + process.stderr
    assert "上一版有效制度" in process.stdout
    status = json.loads(office.cli("status", "--json").stdout)
    assert "上一版有效制度" in (status["policy_note"] or "")
    assert "上一版有效制度" in _report(office)

    office.submit("customer_registration", samples.customer_registration(64, office.today))
    assert office.cli("process").returncode == 0
    case = office.case(form_id="customer_registration")
    assert case["status"] == "in_approval" and office.tasks("吴强")

    lines = _watch_until(office.root, "上一版有效制度")
    assert any("正在监视" in line for line in lines)


def _watch_until(root, text: str, timeout: float = 60) -> list[str]:
    """Start the real ``officeflow watch``, wait for a line holding ``text``, stop it with Ctrl-C."""
    import queue
    import signal
    import subprocess
    import sys
    import threading

    proc = subprocess.Popen([sys.executable, "-m", "automation", "watch", "--workspace", str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                            env={**__import__("os").environ, "COLUMNS": "200"})
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        wait_for(lambda: _drain(lines, seen) or any(text in line for line in seen), timeout=timeout,
                 message=f"watch printing {text}")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        reader.join(timeout=10)
    return seen


def _drain(lines, seen: list[str]) -> None:
    while not lines.empty():
        seen.append(lines.get_nowait())

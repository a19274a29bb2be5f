"""撤回 and 催办 by the applicant: the receipt moved into outbox/requests/<姓名>/撤回/ or 催办/."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal

from support.e2e import CUSTOMER, Office, edit_policy, register_rows

from automation import samples
from automation.decide import gestures
from automation.record import schema as s

BIG = dict(amount_each=Decimal("60000.00"), payment="账期", special="质保期延长至三年")  # 吴强 → 孙丽 → 周文 → 赵建国


def _contract(office: Office, **options) -> dict:
    values, items = samples.sales_contract(CUSTOMER, office.today, **options)
    office.submit("sales_contract", values, items)
    office.run()
    case = office.case(form_id="sales_contract")
    assert case["status"] == "in_approval", office.submissions()[-1]["reason"]
    return case


def _receipt(office: Office, number: str):
    [path] = [p for p in office.receipts("王芳") if p.name.startswith(number + " ")]
    return path


def _gesture(office: Office, number: str, folder: str, person: str = "王芳"):
    receipt = _receipt(office, number)
    target = office.outbox / "requests" / person / folder / receipt.name
    target.parent.mkdir(parents=True, exist_ok=True)
    return shutil.move(receipt, target)


def test_withdraw_before_the_first_decision_closes_the_case_and_clears_the_approvers_folder(customer_office):
    office = customer_office
    case = _contract(office)
    task_file = office.task("吴强", case["number"])
    contracts_before = office.rows(s.contracts)
    _gesture(office, case["number"], "撤回")
    office.run()

    assert office.case(case["number"])["status"] == "withdrawn"
    assert office.open_holders(case["number"]) == [] and office.tasks("吴强") == []
    done = office.outbox / "approvals" / "吴强" / "已办"
    assert (done / task_file.name).exists()
    assert "已由申请人 王芳 撤回" in (done / f"{task_file.name}.说明.txt").read_text(encoding="utf-8-sig")
    assert office.rows(s.contracts) == contracts_before  # nothing numbered or generated
    assert [a["subject"] for a in office.audit("case-withdrawn")] == [case["number"]]
    assert _receipt(office, case["number"]).name.endswith(" 已撤回.xlsx")
    assert not list((office.outbox / "requests" / "王芳" / "撤回").iterdir())
    mine = {r["编号"]: r for r in register_rows(office.outbox / "requests" / "王芳" / "我的申请.xlsx")}
    assert (mine[case["number"]]["状态"], mine[case["number"]]["结果"]) == ("已撤回", "已撤回")
    office.run()  # a second pass changes nothing
    assert len(office.rows(s.applicant_requests)) == 1 and len(office.audit("case-withdrawn")) == 1


def test_withdraw_after_the_first_decision_is_answered_with_the_reason(customer_office):
    office = customer_office
    case = _contract(office, **BIG)
    office.approve("吴强", case["number"])
    office.run()
    _gesture(office, case["number"], "撤回")
    office.run()

    assert office.case(case["number"])["status"] == "in_approval" and office.open_holders(case["number"]) == ["孙丽"]
    note = office.outbox / "requests" / "王芳" / f"撤回未办理 {case['number']}.txt"
    text = note.read_text(encoding="utf-8-sig")
    assert "吴强" in text and "第一位审批人决定之前撤回" in text
    assert [r["accepted"] for r in office.rows(s.applicant_requests)] == [False]
    assert len(office.audit("withdraw-refused")) == 1
    assert _receipt(office, case["number"]).name.endswith(" 等待孙丽审批.xlsx")  # the receipt is back in place


def test_withdraw_until_the_final_decision_when_the_form_allows_it(customer_office):
    office = customer_office

    def allow(ws):
        cols = next({str(c.value): c.column for c in r if c.value} for r in ws.iter_rows(max_row=6)
                    if any(c.value == "名称" for c in r))
        row = ws.max_row + 1
        ws.cell(row, cols["名称"], gestures.UNTIL_FINAL_PARAM + "销售合同审批表")
        ws.cell(row, cols["值"], "是")

    edit_policy(office.root, "参数", allow)
    case = _contract(office, **BIG)
    office.approve("吴强", case["number"])
    office.run()
    sun = office.task("孙丽", case["number"])
    _gesture(office, case["number"], "撤回")
    office.run()
    assert office.case(case["number"])["status"] == "withdrawn"
    assert office.tasks("孙丽") == [] and (office.outbox / "approvals" / "孙丽" / "已办" / sun.name).exists()


def test_remind_writes_one_note_and_refuses_a_second_the_same_day(customer_office):
    office = customer_office
    case = _contract(office)
    _gesture(office, case["number"], "催办")
    office.run()
    note = office.outbox / "approvals" / "吴强" / f"催办 {case['number']}.txt"
    assert "申请人 王芳" in note.read_text(encoding="utf-8-sig") and "请尽快办理" in note.read_text(encoding="utf-8-sig")
    assert not list((office.outbox / "requests" / "王芳" / "催办").iterdir())

    note.unlink()
    _gesture(office, case["number"], "催办")
    office.run()
    assert not note.exists()
    refusal = office.outbox / "requests" / "王芳" / f"催办未办理 {case['number']}.txt"
    assert "每个工作日最多催办一次" in refusal.read_text(encoding="utf-8-sig")
    assert len(office.audit("case-reminded")) == 1 and len(office.audit("remind-refused")) == 1

    office.at(date(2026, 11, 24))
    _gesture(office, case["number"], "催办")
    office.run()
    assert note.exists() and len(office.audit("case-reminded")) == 2
    [line] = [r for r in office.register("审批台账") if r["编号"] == case["number"]]
    assert line["催办次数"] == 2


def test_remind_of_someone_elses_case_is_refused(customer_office):
    office = customer_office
    case = _contract(office)
    _gesture(office, case["number"], "催办", person="李四")
    office.run()
    refusal = office.outbox / "requests" / "李四" / f"催办未办理 {case['number']}.txt"
    assert "只能由申请人本人" in refusal.read_text(encoding="utf-8-sig")
    assert office.audit("case-reminded") == [] and not (office.outbox / "approvals" / "吴强" / f"催办 {case['number']}.txt").exists()


def test_withdraw_recorded_but_killed_before_the_files_is_finished_once(customer_office):
    """As if killed -9 after the commit: the next pass finishes the files and decides nothing again."""
    office = customer_office
    case = _contract(office)
    task_file = office.task("吴强", case["number"])
    moved = _gesture(office, case["number"], "撤回")
    [gesture] = gestures.find_gestures(office.rt.settings)
    rel = office.rt.rel(gesture.path)
    from automation.fsutil import sha256_file

    gestures._record(office.rt, gesture, rel, sha256_file(gesture.path)[0], office.now, office.today)  # commit only
    assert office.case(case["number"])["status"] == "withdrawn" and task_file.exists()
    office.close()
    office.run()  # a new process
    assert not task_file.exists() and not __import__("pathlib").Path(moved).exists()
    assert len(office.audit("case-withdrawn")) == 1 and len(office.rows(s.applicant_requests)) == 1
    assert office.audit("withdraw-refused") == []

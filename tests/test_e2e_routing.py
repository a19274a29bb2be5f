"""Issue 4 acceptance: real forms dropped into a real workspace, decided by real files.

Every test drives the real pipeline (``process_pending``) with a fixed clock, decides
by moving task files or typing into the 审批结论 cell, and reads the store and the
files people see.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
from support.e2e import (
    CUSTOMER,
    Office,
    add_approval_sheet,
    edit_policy,
    headers,
    named_value,
    set_named,
)
from support.workspace import running_watcher, wait_for

from automation import samples
from automation.record import schema as s


def _chain(office: Office, number: str) -> list[tuple[int, str]]:
    case = office.case(number)
    tasks = office.rows(s.tasks, s.tasks.c.case_id == case["id"], s.tasks.c.round == case["round"])
    return [(t["step_index"], t["assignee"]) for t in tasks]


def _contract(office: Office, *, each="1000.00", quantity=10, payment="预付款", special=None):
    values, items = samples.sales_contract(CUSTOMER, office.today, amount_each=Decimal(each), quantity=quantity,
                                           payment=payment, special=special)
    office.submit("sales_contract", values, items)
    office.run()
    return office.case(form_id="sales_contract")


def _customer(office: Office, seq: int = 7, **extra) -> dict:
    office.submit("customer_registration", {**samples.customer_registration(seq, office.today), **extra})
    office.run()
    return office.case(form_id="customer_registration")


# --- chains ---------------------------------------------------------------------------


def test_contract_below_every_threshold_goes_to_the_department_manager_only(customer_office):
    case = _contract(customer_office)
    assert case["status"] == "in_approval"
    assert _chain(customer_office, case["number"]) == [(0, "吴强")]
    holders_with_files = sorted(p.name for p in (customer_office.outbox / "approvals").iterdir()
                                if customer_office.tasks(p.name) and any(
                                    t.name.startswith(case["number"]) for t in customer_office.tasks(p.name)))
    assert holders_with_files == ["吴强"]


def test_major_contract_on_credit_with_special_terms_composes_the_chain_in_rank_order(customer_office):
    office = customer_office
    case = _contract(office, each="60000.00", quantity=10, payment="账期", special="质保期延长至三年")
    number = case["number"]
    assert _chain(office, number) == [(0, "吴强"), (1, "孙丽"), (2, "周文"), (3, "赵建国")]
    seen = []
    for person in ("吴强", "孙丽", "周文"):
        assert office.open_holders(number) == [person]
        assert [p.name.split(" ")[0] for p in office.tasks(person)] == [number]
        seen.append(person)
        office.approve(person, number)
        office.run()
    # The last step is open only now, and nobody else holds the case.
    assert office.open_holders(number) == ["赵建国"]
    assert office.case(number)["status"] == "in_approval"
    sheet = openpyxl.load_workbook(office.task("赵建国", number))["审批"]
    text = "\n".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None)
    for person in seen:
        assert person in text  # the chain so far, with decisions, is shown to the next approver


def _two_managers(office: Office, mode: str) -> None:
    """郑浩 becomes a second 部门经理 of 销售一部; 客户登记表's first rule gets ``mode``."""
    def people(ws):
        cols = headers(ws)
        for row in range(cols["__row__"] + 1, ws.max_row + 1):
            if ws.cell(row, cols["姓名"]).value == "郑浩":
                ws.cell(row, cols["角色"]).value = "销售分部经理、部门经理"

    def rules(ws):
        cols = headers(ws)
        for row in range(cols["__row__"] + 1, ws.max_row + 1):
            if ws.cell(row, cols["表单"]).value == "客户登记表" and not ws.cell(row, cols["条件"]).value:
                ws.cell(row, cols["方式"]).value = mode

    edit_policy(office.root, "人员", people)
    edit_policy(office.root, "审批规则", rules)


def test_countersign_needs_every_approver(office):
    _two_managers(office, "会签")
    case = _customer(office)
    number = case["number"]
    assert office.open_holders(number) == ["吴强", "郑浩"]
    office.approve("吴强", number)
    office.run()
    assert office.case(number)["status"] == "in_approval"
    assert office.open_holders(number) == ["郑浩"]
    office.approve("郑浩", number)
    office.run()
    assert office.case(number)["status"] == "approved"


def test_any_sign_closes_on_the_first_approval(office):
    _two_managers(office, "或签")
    case = _customer(office)
    number = case["number"]
    assert office.open_holders(number) == ["吴强", "郑浩"]
    office.approve("郑浩", number)
    office.run()
    assert office.case(number)["status"] == "approved"
    assert office.open_holders(number) == []
    # 吴强's copy can no longer count, so it leaves his to-do folder.
    assert office.tasks("吴强") == []
    assert [p.name.split(" ")[0] for p in office.files("approvals", "吴强", "已办")] == [number]


def test_overdue_task_escalates_to_the_superior_and_leaves_the_holders_folder(office):
    case = _customer(office, seq=9)
    number = case["number"]
    office.at(office.today + timedelta(days=14))
    office.run()
    assert office.open_holders(number) == ["钱明"]  # 吴强's 直属上级
    assert office.tasks("吴强") == [] and [p.name.split(" ")[0] for p in office.tasks("钱明")] == [number]
    office.approve("钱明", number)
    office.run()
    assert office.case(number)["status"] == "approved"


def test_delegate_receives_the_task_within_the_dates_and_not_outside(office):
    office.at(date(2026, 10, 12))  # 吴强 has delegated to 郑浩 from 10-08 to 10-16
    inside = _customer(office, seq=21)
    tasks = office.rows(s.tasks, s.tasks.c.case_id == inside["id"])
    assert [(t["assignee"], t["on_behalf_of"]) for t in tasks] == [("郑浩", "吴强")]
    assert office.tasks("郑浩") and not office.tasks("吴强")

    office.at(date(2026, 10, 19))
    outside = _customer(office, seq=22)
    tasks = office.rows(s.tasks, s.tasks.c.case_id == outside["id"])
    assert [(t["assignee"], t["on_behalf_of"]) for t in tasks] == [("吴强", None)]


# --- decisions ------------------------------------------------------------------------


def test_rejection_ends_the_case_and_returns_the_form_with_the_decision(office):
    case = _customer(office)
    office.decide_in_cell("吴强", "驳回", "客户资料与营业执照不符", case["number"])
    office.run()
    assert office.case(case["number"])["status"] == "rejected"
    assert office.open_holders(case["number"]) == []
    returned = office.returned("王芳")
    assert len(returned) == 1 and case["number"] in returned[0].name and "驳回" in returned[0].name
    wb = openpyxl.load_workbook(returned[0])
    text = "\n".join(str(c.value) for c in wb.worksheets[0]._cells.values() if c.value is not None)
    assert "驳回" in text and "客户资料与营业执照不符" in text and "吴强" in text
    assert not office.tasks("吴强")  # the decided task moved to 已办
    assert len(office.files("approvals", "吴强", "已办")) == 1


def test_returned_for_changes_then_resubmitted_continues_the_same_case_from_the_first_step(customer_office):
    office = customer_office
    case = _contract(office, payment="账期")
    number = case["number"]
    office.approve("吴强", number)
    office.run()
    office.decide_in_cell("孙丽", "退回修改", "交货期太短,请与客户确认后修改", number)
    office.run()
    assert office.case(number)["status"] == "returned"

    returned = office.returned("王芳")
    assert len(returned) == 1 and "退回修改" in returned[0].name
    assert named_value(returned[0], "申请编号") == number
    # The applicant fixes the delivery date in the returned copy and drops it back in.
    set_named(returned[0], {"交货日期": office.today + timedelta(days=30)})
    office.drop(returned[0], "改好了.xlsx")
    office.run()

    again = office.case(number)
    assert again["id"] == case["id"] and again["status"] == "in_approval" and again["round"] == 2
    assert office.open_holders(number) == ["吴强"]  # from the first step again
    assert office.case_values(again)["交货日期"] == office.today + timedelta(days=30)
    all_tasks = office.rows(s.tasks, s.tasks.c.case_id == case["id"])
    history = [(t["round"], t["assignee"], t["decision"]) for t in all_tasks if t["decision"]]
    assert history == [(1, "吴强", "同意"), (1, "孙丽", "退回修改")]
    assert len([c for c in office.cases() if c["form_id"] == "sales_contract"]) == 1


def test_approver_who_changes_an_amount_has_the_decision_refused(customer_office):
    office = customer_office
    case = _contract(office)
    number = case["number"]
    task = office.task("吴强", number)
    set_named(task, {"合同金额": Decimal("1.00")})
    office.move_to("吴强", "同意", number)
    office.run()

    assert office.case(number)["status"] == "in_approval"
    assert office.open_holders(number) == ["吴强"]
    fresh = office.task("吴强", number)  # a clean copy to decide on, under the task's own name
    back = fresh.with_name(fresh.name.replace(".xlsx", "(未计入).xlsx"))  # the refused file, beside its reason
    reason = back.with_name(back.name + ".原因.txt")
    assert back.exists() and reason.exists() and "修改" in reason.read_text(encoding="utf-8")
    assert named_value(fresh, "合同金额") != Decimal("1.00")
    refused = office.audit("decision-refused")
    assert [(r["actor"], r["subject"]) for r in refused] == [("吴强", number)]


def test_approval_prefilled_by_the_applicant_is_ignored(office):
    path = office.form("customer_registration", samples.customer_registration(31, office.today))
    add_approval_sheet(path, "同意")
    office.drop(path, "自己批了.xlsx")
    office.run()
    case = office.case(form_id="customer_registration")
    assert case["status"] == "in_approval"
    office.run()  # the task file is scanned too: the planted 同意 must not count there either
    assert office.case(case["number"])["status"] == "in_approval"
    assert office.open_holders(case["number"]) == ["吴强"]
    assert not office.audit("task-decided")


def test_task_file_copied_into_someone_elses_folder_does_not_count(office):
    case = _customer(office)
    number = case["number"]
    stranger = office.outbox / "approvals" / "孙丽" / "同意"
    stranger.mkdir(parents=True, exist_ok=True)
    shutil.copy2(office.task("吴强", number), stranger)
    office.run()
    assert office.case(number)["status"] == "in_approval"
    assert office.open_holders(number) == ["吴强"]
    assert [(r["actor"], r["subject"]) for r in office.audit("decision-refused")] == [("孙丽", number)]
    assert not office.audit("task-decided")


# --- status and policy ----------------------------------------------------------------


def test_status_json_shows_the_open_case_its_holder_and_overdue_flag(office):
    today = date.today()  # the CLI runs on the real clock
    cal = office.rt.calendar
    # Started so that its 2-day limit ran out one working day ago: overdue, not yet escalated.
    start = next(today - timedelta(days=n) for n in range(1, 20)
                 if cal.workdays_between(cal.add_workdays(today - timedelta(days=n), 2), today) == 1)
    office.at(start)
    old = _customer(office, seq=41)
    office.at(today)
    new = _customer(office, seq=42)
    assert (office.outbox / "approvals" / "吴强" / f"催办 {old['number']}.txt").exists()
    office.close()  # the CLI is another process

    result = office.cli("status", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    lines = {c["编号"]: c for c in report["open_cases"]}
    assert (lines[old["number"]]["当前审批人"], lines[old["number"]]["是否超时"]) == ("吴强", "是")
    assert (lines[new["number"]]["当前审批人"], lines[new["number"]]["是否超时"]) == ("吴强", "否")
    assert report["overdue"] == 1
    assert {"审批人": "吴强", "待办数": 2, "超时数": 1} in report["per_person"]


def test_policy_broken_while_the_watcher_runs_keeps_the_last_good_policy(office):
    office.close()
    report = office.root / "policies" / "制度.检查结果.txt"
    with running_watcher(office.root):
        def misspell(ws):
            cols = headers(ws)
            for row in range(cols["__row__"] + 1, ws.max_row + 1):
                if ws.cell(row, cols["表单"]).value == "客户登记表":
                    ws.cell(row, cols["审批角色"]).value = "部门精理"
        edit_policy(office.root, "审批规则", misspell)
        wait_for(lambda: report.exists() and "部门精理" in report.read_text(encoding="utf-8-sig"),
                 timeout=20, message="制度.检查结果.txt naming the unknown role")

        path = office.form("customer_registration", samples.customer_registration(51, date.today()))
        office.drop(path, "坏制度期间.xlsx")
        wait_for(lambda: office.tasks("吴强"), timeout=20, message="a task routed by the last good policy")


def test_time_limit_counts_working_days_across_the_national_day_holiday(office):
    import chinese_calendar

    office.at(date(2026, 9, 30))
    case = _customer(office, seq=81)
    [task] = office.rows(s.tasks, s.tasks.c.case_id == case["id"])
    day, left = date(2026, 9, 30), 2
    while left:  # the oracle: chinese-calendar itself, two working days on
        day += timedelta(days=1)
        left -= chinese_calendar.is_workday(day)
    assert task["due_on"] == day and day > date(2026, 10, 7)


def test_reminder_note_leaves_the_to_do_folder_once_the_task_is_decided(office):
    start = office.today
    case = _customer(office, seq=51)
    number = case["number"]
    cal = office.rt.calendar
    office.at(cal.add_workdays(start, 3))  # past the 2-day limit, not yet escalated
    office.run()
    note = office.outbox / "approvals" / "吴强" / f"催办 {number}.txt"
    assert note.exists()
    office.approve("吴强", number)
    office.run()
    assert not note.exists()
    assert (office.outbox / "approvals" / "吴强" / "已办" / note.name).exists()

"""Approver actions through real folders: reasons, 转交, 前加签 / 后加签, 退回到 an earlier step,
审批人去重 and 审批人为空时 — real forms, the real pipeline, xlsx and docx task files, by cell and by drag."""

from __future__ import annotations

import json
from decimal import Decimal

import docx
import openpyxl
import pytest
from support.e2e import CUSTOMER, Office, edit_policy, headers, set_named

from automation import samples
from automation.act.effects.complaint import CLOSED
from automation.forms.fill import fill_docx
from automation.record import schema as s


def fill_task(office: Office, person: str, number: str, **inputs) -> None:
    """What the approver types into the 审批 sheet (xlsx) or the 审批 table's controls (docx), then saves."""
    path = office.task(person, number)
    if path.suffix == ".docx":
        fill_docx(path, inputs)
    else:
        set_named(path, inputs)


def reason_note(office: Office, person: str) -> str:
    notes = sorted((office.outbox / "approvals" / person).glob("*.原因.txt"))
    assert notes, f"no note in {person}'s folder"
    return notes[-1].read_text(encoding="utf-8")


def set_param(office: Office, name: str, value: str) -> None:
    def edit(ws):
        cols = headers_of(ws)
        for row in range(2, ws.max_row + 1):
            if ws.cell(row, cols["名称"]).value == name:
                ws.cell(row, cols["值"]).value = value
                return
        # 参数 rows carry a 类型: a 是/否 switch is read as one, a choice or a name as 文本
        row = {"名称": name, "值": value, "类型": "是/否" if value in ("是", "否") else "文本", "单位": "选项",
               "说明": "测试"}
        ws.append([row.get(h) for h in sorted(cols, key=cols.get)])
    edit_policy(office.root, "参数", edit)


def headers_of(ws) -> dict[str, int]:
    return {str(c.value): c.column for c in ws[1] if c.value}


def _trip(office: Office) -> str:
    office.submit("trip_request", samples.trip_request(office.today))
    office.run()
    return office.case(form_id="trip_request")["number"]


def _customer(office: Office, seq: int = 7) -> str:
    office.submit("customer_registration", samples.customer_registration(seq, office.today))
    office.run()
    return office.case(form_id="customer_registration")["number"]


def _contract(office: Office, applicant: str = "王芳", each: str = "60000.00", special="质保期延长至三年") -> str:
    values, items = samples.sales_contract(CUSTOMER, office.today, amount_each=Decimal(each), quantity=10,
                                           payment="账期", special=special)
    office.submit("sales_contract", {**values, "申请人": applicant}, items)
    office.run()
    case = office.case(form_id="sales_contract")
    assert case["status"] in ("in_approval", "approved", "blocked"), office.submissions()[-1]
    return case["number"]


def _history(office: Office, number: str) -> list[tuple]:
    case = office.case(number)
    tasks = office.rows(s.tasks, s.tasks.c.case_id == case["id"])
    return [(t["assignee"], t["decision"], t["target"]) for t in tasks if t["decision"]]


def _sheet_text(path) -> str:
    if path.suffix == ".docx":
        return "\n".join(c.text for t in docx.Document(str(path)).tables for row in t.rows for c in row.cells)
    ws = openpyxl.load_workbook(path)["审批"]
    return "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)


# --- reasons ---------------------------------------------------------------------------------


@pytest.mark.parametrize("decision", ["驳回", "退回修改"])
def test_drag_without_a_reason_is_not_applied_then_applied_once_the_reason_is_given(office, decision):
    number = _customer(office)
    moved = office.move_to("吴强", decision, number)
    office.run()
    assert office.case(number)["status"] == "in_approval"
    back = office.task("吴强", number)
    assert back.name == moved.name  # back in the approver's folder
    assert f"「{decision}」须写明原因" in reason_note(office, "吴强") and "审批意见" in reason_note(office, "吴强")
    fill_task(office, "吴强", number, 审批意见="客户资料与营业执照不符")
    office.move_to("吴强", decision, number)
    office.run()
    assert office.case(number)["status"] == ("rejected" if decision == "驳回" else "returned")
    [copy] = office.returned("王芳")
    sheet = openpyxl.load_workbook(copy)["处理结果"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = {r[0]: r[1] for r in rows if r[0] and r[1]}
    assert header["原因"] == "客户资料与营业执照不符。" and header["审批人"] == "吴强"
    reasons = [r for r in rows if r[1] == "说明"]
    assert reasons and reasons[0][2] in (None, "") and "原因:客户资料与营业执照不符" in reasons[0][5]
    assert not any(r[2] == "申请编号" for r in rows)  # never an error on 申请编号


def test_return_without_a_reason_where_the_policy_allows_it_says_whom_to_ask(office):
    set_param(office, "驳回需填写意见", "否")
    number = _customer(office)
    office.move_to("吴强", "退回修改", number)
    office.run()
    assert office.case(number)["status"] == "returned"
    [copy] = office.returned("王芳")
    text = "\n".join(str(c.value) for row in openpyxl.load_workbook(copy)["处理结果"].iter_rows() for c in row if c.value)
    assert "审批人未填写意见,如有疑问请联系 吴强" in text


def test_rejection_without_a_reason_in_a_word_task_file_is_not_applied(office):
    number = _trip(office)
    fill_task(office, "吴强", number, 审批结论="驳回")
    office.run()
    assert office.case(number)["status"] == "in_approval"
    assert "「驳回」须写明原因" in reason_note(office, "吴强")
    fill_task(office, "吴强", number, 审批结论="驳回", 审批意见="本月出差预算已用完")
    office.run()
    assert office.case(number)["status"] == "rejected"


# --- 转交 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["xlsx", "docx"])
def test_transfer_gives_the_new_holder_a_task_and_both_show_in_the_history(office, form):
    number = _customer(office) if form == "xlsx" else _trip(office)
    fill_task(office, "吴强", number, 审批结论="转交", 转交给="冯磊", 审批意见="本周出差,请冯经理代批")
    office.run()
    assert office.open_holders(number) == ["冯磊"]
    assert not office.tasks("吴强")
    [row] = [r for r in office.register("审批台账") if r["编号"] == number]
    assert row["当前审批人"] == "冯磊"  # the register shows who holds it now
    shown = json.loads(office.cli("status", "--json").stdout)
    assert [c["当前审批人"] for c in shown["open_cases"] if c["编号"] == number] == ["冯磊(吴强 转交)"]
    text = _sheet_text(office.task("冯磊", number))
    assert "吴强 转交 冯磊" in text and "本周出差,请冯经理代批" in text and "由 吴强 转交" in text
    fill_task(office, "冯磊", number, 审批结论="同意", 审批意见="同意")
    office.run()
    assert office.case(number)["status"] == "approved"
    assert _history(office, number) == [("吴强", "转交", "冯磊"), ("冯磊", "同意", None)]
    decided = [json.loads(a["detail"]) for a in office.audit("task-decided")]
    assert [d["decision"] for d in decided][-2:] == ["转交", "同意"] and decided[-2]["to"] == "冯磊"


def test_transfer_to_a_misspelt_name_comes_back_with_the_closest_name(office):
    number = _customer(office)
    fill_task(office, "吴强", number, 审批结论="转交", 转交给="冯雷")
    office.run()
    assert office.open_holders(number) == ["吴强"]
    note = reason_note(office, "吴强")
    assert "「冯雷」不在人员名单中" in note and "您是否想写「冯磊」?" in note


def test_transfer_forbidden_for_one_form_is_refused_and_offered_for_no_other(office):
    set_param(office, "允许转交_客户登记表", "否")
    number = _customer(office)
    path = office.task("吴强", number)
    [listed] = [v.formula1 for v in openpyxl.load_workbook(path)["审批"].data_validations.dataValidation
                if v.type == "list" and "同意" in (v.formula1 or "")]
    assert listed == '"同意,驳回,退回修改,加签"'
    fill_task(office, "吴强", number, 审批结论="转交", 转交给="冯磊")
    office.run()
    assert office.open_holders(number) == ["吴强"] and "不允许转交" in reason_note(office, "吴强")


# --- 加签 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["xlsx", "docx"])
def test_sign_before_the_added_person_receives_the_task_first_then_it_comes_back(office, form):
    number = _customer(office) if form == "xlsx" else _trip(office)
    fill_task(office, "吴强", number, 审批结论="加签", 加签人="周文", 加签方式="前加签", 审批意见="请法务先看")
    office.run()
    assert office.open_holders(number) == ["周文"]
    assert "吴强 前加签 周文" in _sheet_text(office.task("周文", number))
    office.approve("周文", number)
    office.run()
    assert office.open_holders(number) == ["吴强"]
    assert "已同意 · 周文" in _sheet_text(office.task("吴强", number))
    office.approve("吴强", number)
    office.run()
    assert office.case(number)["status"] == "approved"


def test_sign_after_my_approval_then_the_added_person_before_the_next_step(customer_office):
    office = customer_office
    number = _contract(office)
    fill_task(office, "吴强", number, 审批结论="加签", 加签人="卫东", 加签方式="后加签", 审批意见="请技术部确认交期")
    office.run()
    assert office.open_holders(number) == ["卫东"]
    office.approve("卫东", number)
    office.run()
    assert office.open_holders(number) == ["孙丽"]
    chain = _sheet_text(office.task("孙丽", number))
    assert "已同意 · 吴强" in chain and "并后加签 卫东" in chain and "吴强 后加签" in chain


def test_sign_without_a_mode_is_not_applied(office):
    number = _customer(office)
    fill_task(office, "吴强", number, 审批结论="加签", 加签人="周文")
    office.run()
    assert office.open_holders(number) == ["吴强"] and "加签方式" in reason_note(office, "吴强")


# --- 退回到 an earlier step ------------------------------------------------------------------------


def test_return_to_an_earlier_step_by_drag_reissues_that_step_and_later_steps_run_again(customer_office):
    office = customer_office
    number = _contract(office)
    for person in ("吴强", "孙丽"):
        office.approve(person, number)
        office.run()
    path = office.task("周文", number)
    options = openpyxl.load_workbook(path)["审批选项"]
    assert [c.value for c in options["B"] if c.value] == ["申请人", "第 1 步 · 部门经理 · 吴强", "第 2 步 · 财务经理 · 孙丽"]
    fill_task(office, "周文", number, 退回到="第 2 步 · 财务经理 · 孙丽", 审批意见="账期 30 天须财务重新评估")
    office.move_to("周文", "退回修改", number)
    office.run()
    case = office.case(number)
    assert (case["status"], case["round"]) == ("in_approval", 1)
    assert office.open_holders(number) == ["孙丽"]
    text = _sheet_text(office.task("孙丽", number))
    assert "周文 退回到 第 2 步 · 财务经理" in text and "账期 30 天须财务重新评估" in text
    office.approve("孙丽", number)
    office.run()
    assert office.open_holders(number) == ["周文"]  # the later step runs again
    assert office.returned("王芳") == []  # the applicant was not involved


# --- 审批人去重 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode, approvals_by_hand, auto", [
    ("不去重", ["赵建国", "孙丽", "赵建国", "赵建国"], []),
    ("连续重复时自动同意", ["赵建国", "孙丽", "赵建国"], ["系统自动同意:与第 3 步审批人相同"]),
    ("已审批过则自动同意", ["赵建国", "孙丽"], ["系统自动同意:与第 1 步审批人相同"] * 2),
], ids=["none", "consecutive", "any"])
def test_dedup_modes_on_a_chain_where_the_general_manager_appears_three_times(customer_office, mode,
                                                                              approvals_by_hand, auto):
    office = customer_office
    set_param(office, "审批人去重", mode)
    number = _contract(office, applicant="周文")  # his own 部门经理 and 法务 steps go to his superior 赵建国
    assert [t["assignee"] for t in office.rows(s.tasks, s.tasks.c.case_id == office.case(number)["id"])] == [
        "赵建国", "孙丽", "赵建国", "赵建国"]
    done = []
    while office.open_holders(number):
        [person] = office.open_holders(number)
        done.append(person)
        office.approve(person, number)
        office.run()
    assert office.case(number)["status"] == "approved"
    assert done == approvals_by_hand
    tasks = office.rows(s.tasks, s.tasks.c.case_id == office.case(number)["id"])
    assert [t["comment"] for t in tasks if t["decided_by"]] == auto
    assert len(office.audit("task-auto-approved")) == len(auto)


# --- 审批人为空时 -------------------------------------------------------------------------------------


def _nobody_is_lawyer(office: Office) -> None:
    def people(ws):
        cols = headers(ws)
        for row in range(cols["__row__"] + 1, ws.max_row + 1):
            if ws.cell(row, cols["姓名"]).value == "周文":
                ws.cell(row, cols["角色"]).value = "部门经理"
    edit_policy(office.root, "人员", people)


@pytest.mark.parametrize("mode, status, holders", [("暂停并告警", "blocked", []), ("自动通过", "in_approval", ["吴强"]),
                                                 ("转交管理员", "in_approval", ["吴强"])], ids=["pause", "pass", "admin"])
def test_step_nobody_holds_in_each_mode_and_status_shows_it(customer_office, mode, status, holders):
    office = customer_office
    _nobody_is_lawyer(office)
    set_param(office, "审批人为空时", mode)
    number = _contract(office, each="6000.00")  # special terms: 法务, whom nobody holds now
    case = office.case(number)
    assert (case["status"], office.open_holders(number)) == (status, holders)
    shown = json.loads(office.cli("status", "--json").stdout)
    if mode == "暂停并告警":
        assert shown["blocked"][0]["编号"] == number
    else:
        assert any(a["编号"] == number and mode in a["处理"] for a in shown["automatic"])
    tasks = office.rows(s.tasks, s.tasks.c.case_id == case["id"])
    if mode != "暂停并告警":
        assert [json.loads(a["detail"])["choice"] for a in office.audit("step-nobody-holds")] == [mode]
    if mode == "转交管理员":
        assert [(t["role"], t["assignee"]) for t in tasks][-1] == ("法务", "钱明")
    if mode == "自动通过":
        assert [(t["role"], t["assignee"]) for t in tasks] == [("部门经理", "吴强"), ("财务经理", "孙丽"), ("法务", "OfficeFlow")]
        office.approve("吴强", number)
        office.run()
        office.approve("孙丽", number)
        office.run()
        assert office.case(number)["status"] == "approved"
        auto = office.rows(s.tasks, s.tasks.c.case_id == case["id"], s.tasks.c.role == "法务")[0]
        assert auto["decided_by"] == "OfficeFlow" and "无人担任" in auto["comment"]


def test_form_whose_every_step_nobody_holds_is_approved_at_once_with_its_effects(office):
    def people(ws):
        cols = headers(ws)
        for row in range(cols["__row__"] + 1, ws.max_row + 1):
            if ws.cell(row, cols["姓名"]).value == "蒋敏":
                ws.cell(row, cols["角色"]).value = "部门经理"
    edit_policy(office.root, "人员", people)
    set_param(office, "审批人为空时", "自动通过")
    office.submit("complaint", {**samples.complaint(office.today), "客户满意度": "满意"})
    office.run()
    case = office.case(form_id="complaint")
    assert case["status"] == "approved"
    [row] = office.rows(s.complaints)
    assert row["status"] == CLOSED  # the approval's effect was recorded, although nobody decided by hand


# --- the same actions in a Word task file ------------------------------------------------------


def _two_step_trip(office: Office) -> str:
    """A 出差申请表 (Word) that goes 部门经理 吴强 → 财务经理 孙丽: a second rule row for the test."""
    def add_step(ws):
        cols = headers(ws)
        row = ws.max_row + 1
        for header, value in (("表单", "出差申请表"), ("审批角色", "财务经理"), ("方式", "依次"), ("依据", "测试")):
            ws.cell(row, cols[header]).value = value
    edit_policy(office.root, "审批规则", add_step)
    number = _trip(office)
    assert office.task("吴强", number).suffix == ".docx"
    return number


def test_return_to_an_earlier_step_in_a_word_task_file_reissues_it_and_the_later_step_runs_again(office):
    number = _two_step_trip(office)
    office.approve("吴强", number)
    office.run()
    assert office.open_holders(number) == ["孙丽"]
    fill_task(office, "孙丽", number, 退回到="第 1 步 · 部门经理 · 吴强", 审批意见="出差天数请再核实")
    office.move_to("孙丽", "退回修改", number)
    office.run()
    case = office.case(number)
    assert (case["status"], case["round"]) == ("in_approval", 1) and office.open_holders(number) == ["吴强"]
    text = _sheet_text(office.task("吴强", number))
    assert "孙丽 退回到 第 1 步 · 部门经理" in text and "出差天数请再核实" in text
    office.approve("吴强", number)
    office.run()
    assert office.open_holders(number) == ["孙丽"]  # the later step runs again
    office.approve("孙丽", number)
    office.run()
    assert office.case(number)["status"] == "approved" and office.returned("王芳") == []


def test_sign_after_in_a_word_task_file_puts_the_added_person_before_the_next_step(office):
    number = _two_step_trip(office)
    fill_task(office, "吴强", number, 审批结论="加签", 加签人="卫东", 加签方式="后加签", 审批意见="请技术部确认行程")
    office.run()
    assert office.open_holders(number) == ["卫东"]
    assert "吴强 后加签" in _sheet_text(office.task("卫东", number))
    office.approve("卫东", number)
    office.run()
    assert office.open_holders(number) == ["孙丽"]
    chain = _sheet_text(office.task("孙丽", number))
    assert "已同意 · 吴强" in chain and "并后加签 卫东" in chain
    assert _history(office, number) == [("吴强", "后加签", "卫东"), ("卫东", "同意", None)]


def _resave_in_place(paths, tmp) -> None:
    """What an approver using LibreOffice does: open the task file, fill it in, save (tags and names lost)."""
    import shutil

    from support.libreoffice import resave

    for kind in ("xlsx", "docx"):
        group = [p for p in paths if p.suffix == f".{kind}"]
        staged = []
        for n, p in enumerate(group):
            stage = tmp / f"in-{kind}" / f"t{n}{p.suffix}"
            stage.parent.mkdir(parents=True, exist_ok=True)
            staged.append(shutil.copy(p, stage))
        for p, out in zip(group, resave(staged, kind, tmp / f"out-{kind}") if group else []):
            shutil.copyfile(out, p)


def test_transfer_sign_and_return_to_a_step_filled_in_libreoffice_are_applied(office, tmp_path, soffice):
    """转交给, 加签人 / 加签方式 and 退回到 read back from task files saved by LibreOffice, Word and Excel alike."""
    first = _two_step_trip(office)
    office.submit("trip_request", {**samples.trip_request(office.today), "出差地点": "南京"})
    office.run()
    second = office.cases()[-1]["number"]
    assert second != first, office.submissions()[-1]["reason"]
    office.approve("吴强", second)
    office.run()
    customer = _customer(office, seq=11)
    fill_task(office, "吴强", first, 审批结论="转交", 转交给="冯磊", 审批意见="本周出差")
    fill_task(office, "孙丽", second, 审批结论="退回修改", 退回到="第 1 步 · 部门经理 · 吴强", 审批意见="天数请再核实")
    fill_task(office, "吴强", customer, 审批结论="加签", 加签人="周文", 加签方式="前加签", 审批意见="请法务先看")
    paths = [office.task("吴强", first), office.task("孙丽", second), office.task("吴强", customer)]
    _resave_in_place(paths, tmp_path)
    office.run()
    assert not office.audit("decision-refused")
    assert (office.open_holders(first), office.open_holders(second), office.open_holders(customer)) == \
        (["冯磊"], ["吴强"], ["周文"])
    assert _history(office, first) == [("吴强", "转交", "冯磊")]
    assert _history(office, customer) == [("吴强", "前加签", "周文")]
    assert _history(office, second)[-1] == ("孙丽", "退回修改", "第 1 步 · 部门经理")

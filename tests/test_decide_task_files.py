"""Task files: where they go, what the 审批 part holds, and the fingerprint that guards them."""

from __future__ import annotations

from decimal import Decimal

import docx
import openpyxl
import pytest
from support.decide import (
    CAL,
    CONTRACT_ITEMS,
    CONTRACT_VALUES,
    MONDAY,
    desk,
    real_form,
    route,
    set_named,
    step,
    trip_task_file,
)
from support.forms import fill_docx

from automation.decide import engine, scan
from automation.decide.integrity import canonical, form_fingerprint
from automation.decide.officefile import read_decision, read_props
from automation.decide.task_files import safe_name, task_file_path


def named_cell(wb, name):
    sheet, ref = next(wb.defined_names[name].destinations)
    return wb[sheet][ref.replace("$", "")]


def test_task_file_path_names_case_form_applicant_and_amount(tmp_path):
    d = desk(tmp_path)
    path = task_file_path(d.settings, "王经理", "SQ-2026-0007", "销售合同审批表", "李销售", Decimal("1234567.5"))
    assert path == d.settings.approvals / "王经理" / "SQ-2026-0007 销售合同审批表 李销售 1,234,567.50.xlsx"
    bare = task_file_path(d.settings, "王经理", "SQ-2026-0008", "出差申请表", "李销售", None, "docx")
    assert bare.name == "SQ-2026-0008 出差申请表 李销售.docx"
    assert safe_name('a/b:c*?"<>|. ') == "a_b_c_"


def test_xlsx_task_file_keeps_the_form_and_adds_the_approval_sheet_first(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理")))
    task = d.tasks(case_id)[0]
    path = d.task_file(task["id"])
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["审批", "表单", "_officeflow", "审批选项"] and wb.active.title == "审批"
    assert wb["审批选项"].sheet_state == "hidden"
    assert "明细" in wb["表单"].tables and "合同金额" in wb.defined_names
    sheet, ref = next(wb.defined_names["审批结论"].destinations)
    cell = wb[sheet][ref.replace("$", "")]
    assert sheet == "审批" and cell.protection.locked is False and wb["审批"].protection.sheet
    lists = {str(v.sqref): v.formula1 for v in wb["审批"].data_validations.dataValidation if v.type == "list"}
    assert lists[cell.coordinate] == '"同意,驳回,退回修改,转交,加签"'
    assert named_cell(wb, "加签方式").coordinate in lists and lists[named_cell(wb, "加签方式").coordinate] == '"前加签,后加签"'
    assert lists[named_cell(wb, "转交给").coordinate].startswith("'审批选项'!$A$1")
    sheet_c, ref_c = next(wb.defined_names["审批意见"].destinations)
    assert wb[sheet_c][ref_c.replace("$", "")].protection.locked is False
    labels = {row[0].value: row[1].value for row in wb["审批"].iter_rows(min_row=4, max_row=24)}
    assert labels["申请编号"] == "SQ-2026-0001" and labels["合同金额"] == "12,345.00"
    assert named_cell(wb, "申请编号").value == "SQ-2026-0001"  # filled in the form sheet too
    assert labels["当前步骤/角色"] == "第 1 步 · 部门经理(依次)"
    assert "拖入 同意/驳回/退回修改 文件夹" in wb["审批"]["A2"].value
    props = read_props(path)
    assert (props["officeflow.task"], props["officeflow.case"], props["officeflow.form"]) == (str(task["id"]), "SQ-2026-0001", "sales_contract")
    assert all((path.parent / sub).is_dir() for sub in ("同意", "驳回", "退回修改", "已办"))


def test_warnings_and_delegation_are_shown_to_the_approver(tmp_path):
    from automation.policy.chain import Assignee, Route, Step
    from automation.problems import kind

    warn = kind("decide-test-warning", "测试警告", "折扣率 {value} 超过标准折扣上限", level="warning")
    d = desk(tmp_path)
    chain = Route(steps=[Step("部门经理", "依次", 2, (Assignee("钱副理", on_behalf_of="王经理"),))],
                  problems=[warn(value="8%", source="校验规则!B5 · 000 · R-SD-20")])
    case_id = d.open(chain)
    values = [c.value for row in openpyxl.load_workbook(d.task_file(d.tasks(case_id)[0]["id"]))["审批"].iter_rows()
              for c in row if c.value]
    assert "钱副理(代 王经理)" in values
    assert "警告:折扣率 8% 超过标准折扣上限(依据:校验规则!B5 · 000 · R-SD-20)" in values


def test_fingerprint_ignores_the_approval_sheet_and_resaving_but_sees_the_data(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理")))
    task = d.tasks(case_id)[0]
    path = d.task_file(task["id"])
    source = d.root / d.case(case_id)["source_file"]
    assert form_fingerprint(source, d.spec) == form_fingerprint(path, d.spec) == task["fingerprint"]
    set_named(path, "审批意见", "已核对")
    assert form_fingerprint(path, d.spec) == task["fingerprint"]
    set_named(path, "交货日期", "2026-12-31")
    assert form_fingerprint(path, d.spec) != task["fingerprint"]


def test_canonical_values_do_not_depend_on_cell_types():
    from datetime import date, datetime

    assert canonical(12345) == canonical(12345.0) == canonical(Decimal("12345.00")) == "12345"
    assert canonical(datetime(2026, 11, 23)) == canonical(date(2026, 11, 23)) == "2026-11-23"
    assert canonical([{"a": 1}, {"a": None}]) == [{"a": "1"}]
    assert canonical(" 文本 ") == "文本" and canonical("") is None


def test_form_value_that_looks_like_a_formula_stays_text_and_submitted_approval_cells_are_ignored(tmp_path):
    d = desk(tmp_path)
    source = real_form(tmp_path / "in.xlsx", "sales_contract", CONTRACT_VALUES, CONTRACT_ITEMS)
    wb = openpyxl.load_workbook(source)
    wb["表单"]["Z1"] = "同意"  # an applicant who pre-approved their own form
    from openpyxl.workbook.defined_name import DefinedName

    wb.defined_names["审批结论"] = DefinedName("审批结论", attr_text="'表单'!$Z$1")
    wb.save(source)
    with d.store.begin() as conn:
        case_id = engine.open_case(conn, number="SQ-2026-0009", spec=d.spec, values=CONTRACT_VALUES, applicant="=HYPERLINK(\"x\")",
                                   department="销售部", amount=Decimal("12345"), customer="华东机电有限公司",
                                   route=route(step("部门经理", "王经理")), submission_id=None,
                                   source_file=str(source), now=MONDAY, cal=CAL)
    path = d.issue(d.tasks(case_id)[0]["id"])
    assert read_decision(path) == (None, None)
    assert scan.find_decision_files(d.settings) == []
    shown = {row[0].value: row[1] for row in openpyxl.load_workbook(path)["审批"].iter_rows(min_row=4, max_row=24)}
    assert (shown["申请人"].value, shown["申请人"].data_type) == ('=HYPERLINK("x")', "s")


def test_docx_task_file_has_tagged_controls_and_counts_a_filled_decision(tmp_path):
    d = desk(tmp_path)
    case_id, task, path = trip_task_file(d, "CC-2026-0001")
    assert path.name == "CC-2026-0001 出差申请表 李销售.docx"
    document = docx.Document(str(path))
    assert document.paragraphs[0].text == "出差申请表 · 审批单"
    tables = [t._tbl for t in document.tables]
    decision_table = next(t for t in tables if "审批结论" in t.xml)
    assert "dropDownList" in decision_table.xml and "转交给" in decision_table.xml
    assert tables.index(decision_table) == 3  # after the summary, the chain and the history
    assert read_props(path)["officeflow.task"] == str(task["id"]) and read_props(path)["officeflow.form"] == "trip_request"
    assert read_decision(path) == (None, None)
    assert form_fingerprint(path, d.spec) == d.tasks(case_id)[0]["fingerprint"]
    assert "CC-2026-0001" in document.element.body.xml.split("申请编号", 1)[1]  # 申请编号 filled in the form
    fill_docx(path, {"审批结论": "同意", "审批意见": "按标准报销"})  # what Word does when the approver picks and types
    [result] = scan.apply_decisions(d.store, d.settings, specs={d.spec.id: d.spec}, cal=CAL, now=MONDAY)
    assert result.accepted, result.reason
    assert (d.tasks(case_id)[0]["decision"], d.tasks(case_id)[0]["comment"]) == ("同意", "按标准报销")


@pytest.mark.parametrize("name", ["~$SQ.xlsx", ".~lock.SQ.xlsx#", "SQ.xlsx.tmp", "SQ.xlsx.原因.txt"])
def test_office_lock_and_reason_files_are_never_candidates(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"x")
    assert not scan.is_candidate(path)

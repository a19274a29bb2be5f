"""Excel task files written at zip level: the form's parts copied, the 审批 sheets added as XML.

The zip-level writer (decide.task_xlsx) must give the same workbook as the openpyxl
writer it replaces for ordinary forms, keep the form's own parts byte for byte, and
never let a value become a formula.
"""

from __future__ import annotations

import re
import zipfile
from decimal import Decimal

import openpyxl
from support.decide import CAL, CONTRACT_ITEMS, CONTRACT_VALUES, MONDAY, desk, real_form, route, step

from automation.decide import engine, task_files
from automation.decide.approval_view import build_view
from automation.decide.integrity import form_fingerprint
from automation.decide.officefile import read_decision, read_props
from automation.record import codec


def _parts(path):
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _sheet_part(path, title):
    """The worksheet part of the sheet called ``title``, through workbook.xml and its rels."""
    parts = _parts(path)
    rid = re.search(rf'<sheet [^>]*name="{title}"[^>]*r:id="(\w+)"'.encode(), parts["xl/workbook.xml"]).group(1)
    target = re.search(rb'Target="([^"]+)" Id="' + rid + rb'"', parts["xl/_rels/workbook.xml.rels"]).group(1).decode()
    return parts[target.lstrip("/") if target.startswith("/") else "xl/" + target]


def _described(path):
    """Everything an approver sees or the decision reader uses, sheet by sheet, as openpyxl reads it."""
    wb = openpyxl.load_workbook(path)
    out = {"sheets": [(ws.title, ws.sheet_state) for ws in wb.worksheets], "active": wb.active.title,
           "names": sorted((n, d.attr_text) for n, d in wb.defined_names.items()),
           "props": sorted((p.name, p.value) for p in wb.custom_doc_props.props)}
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is None and not c.has_style:
                    continue
                cells[c.coordinate] = (c.value, c.data_type if c.value is not None else None, c.font.b, c.font.sz,
                                       c.fill.fill_type, c.fill.fgColor.rgb, c.border.left.style, c.border.bottom.style,
                                       c.alignment.wrap_text, c.alignment.vertical, c.protection.locked, c.number_format)
        out[ws.title] = {
            "cells": cells, "merges": sorted(str(m) for m in ws.merged_cells.ranges),
            "heights": {k: v.height for k, v in ws.row_dimensions.items() if v.height},
            "widths": {k: v.width for k, v in ws.column_dimensions.items() if v.customWidth},
            "validations": sorted((str(v.sqref), v.type, v.formula1, v.showErrorMessage, v.showInputMessage, v.prompt,
                                   v.promptTitle, v.error, v.errorTitle, v.operator, v.allow_blank)
                                  for v in ws.data_validations.dataValidation),
            "protected": ws.protection.sheet, "print_area": ws.print_area,
            "page": (ws.page_setup.orientation, ws.page_setup.paperSize, ws.page_setup.fitToHeight,
                     ws.page_setup.fitToWidth, ws.page_margins.left, ws.page_margins.top, ws.oddFooter.center.text),
            "tables": sorted(ws.tables.keys())}
    return out


def _case_with_applicant(d, tmp_path, applicant):
    source = real_form(d.settings.archive / "2026-11" / "in.xlsx", "sales_contract", CONTRACT_VALUES, CONTRACT_ITEMS)
    chain = route(step("部门经理", "王经理"), step("财务", "赵会计"))
    with d.store.begin() as conn:
        case_id = engine.open_case(conn, number="SQ-2026-0009", spec=d.spec, values=CONTRACT_VALUES, applicant=applicant,
                                   department="销售部", amount=Decimal("12345"), customer="华东机电有限公司",
                                   route=chain, submission_id=None, source_file=source.relative_to(d.root).as_posix(),
                                   now=MONDAY, cal=CAL)
    return case_id, source


def test_formula_looking_value_stays_text_in_the_zip_level_task_file(tmp_path):
    d = desk(tmp_path)
    case_id, source = _case_with_applicant(d, tmp_path, '=HYPERLINK("http://x","点我")')
    path = d.issue(d.tasks(case_id)[0]["id"])
    parts, original = _parts(path), _parts(source)
    # Written at zip level: the form's hidden data sheet, table and theme are the submitted bytes.
    assert _sheet_part(path, "_officeflow") == _sheet_part(source, "_officeflow")
    assert parts["xl/tables/table1.xml"] == original["xl/tables/table1.xml"]
    approval = _sheet_part(path, "审批")
    assert b"<f>" not in approval and b"<f " not in approval
    cell = re.search(rb'<c r="B6"[^>]*>.*?</c>', approval).group(0)
    assert b't="inlineStr"' in cell and b"=HYPERLINK(&quot;http://x&quot;,&quot;" in cell.replace(b'"', b"&quot;")
    shown = {row[0].value: row[1] for row in openpyxl.load_workbook(path)["审批"].iter_rows(min_row=4, max_row=24)}
    assert (shown["申请人"].value, shown["申请人"].data_type) == ('=HYPERLINK("http://x","点我")', "s")
    assert read_decision(path) == (None, None)


def test_zip_level_task_file_equals_the_openpyxl_one_and_keeps_the_fingerprint(tmp_path):
    d = desk(tmp_path)
    case_id, source = _case_with_applicant(d, tmp_path, "李销售")
    task = d.tasks(case_id)[0]
    path = d.issue(task["id"])
    with d.store.read() as conn:
        case, tasks = engine.load_case(conn, case_id), engine.case_tasks(conn, case_id)
        history = engine.case_history(conn, case_id)
    view = build_view(case=case, task=task, tasks=tasks, history=history, warnings=codec.loads(case["warnings"]) or [],
                      spec=d.spec, people=("王经理", "赵会计", "钱副理"))
    props = {"officeflow.task": str(task["id"]), "officeflow.case": case["number"]}
    zipped, reference = tmp_path / "zip.xlsx", tmp_path / "openpyxl.xlsx"
    assert task_files.task_xlsx.write(source, zipped, task_files.xlsx_addition(view, case["number"], props))
    task_files.write_xlsx_with_openpyxl(source, reference, view, case["number"], props)
    assert _described(zipped) == _described(reference)
    assert read_props(zipped)["officeflow.case"] == "SQ-2026-0009"
    assert form_fingerprint(path, d.spec) == form_fingerprint(reference, d.spec) == d.tasks(case_id)[0]["fingerprint"]


def test_form_already_holding_an_approval_sheet_falls_back_to_openpyxl(tmp_path):
    d = desk(tmp_path)
    case_id, source = _case_with_applicant(d, tmp_path, "李销售")
    wb = openpyxl.load_workbook(source)
    wb.create_sheet("审批")["A1"] = "旧的审批页"
    wb.save(source)
    path = d.issue(d.tasks(case_id)[0]["id"])
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "审批" and "审批(原表)" in wb.sheetnames and wb["审批(原表)"]["A1"].value == "旧的审批页"


def test_word_task_file_at_zip_level_has_the_same_body_and_copies_the_other_parts(tmp_path):
    from support.decide import trip_task_file

    d = desk(tmp_path)
    case_id, task, path = trip_task_file(d, "SQ-2026-0003")
    source = d.settings.archive / "trip.docx"  # the form the task file was made from
    with d.store.read() as conn:
        case, tasks = engine.load_case(conn, case_id), engine.case_tasks(conn, case_id)
        history = engine.case_history(conn, case_id)
    view = build_view(case=case, task=task, tasks=tasks, history=history, warnings=[], spec=d.spec, people=("王经理",))
    props = {"officeflow.task": str(task["id"]), "officeflow.case": case["number"]}
    reference = tmp_path / "python-docx.docx"
    task_files.write_docx_with_python_docx(source, reference, view, case["number"], props)
    zipped = tmp_path / "zip.docx"
    assert task_files.write_docx_at_zip_level(source, zipped, view, case["number"], props)
    ours, theirs, original = _parts(zipped), _parts(reference), _parts(source)
    assert ours["word/document.xml"] == theirs["word/document.xml"]
    assert ours["word/styles.xml"] == original["word/styles.xml"] and set(ours) == set(original)
    assert read_props(zipped) == read_props(reference) and read_props(path)["officeflow.case"] == "SQ-2026-0003"
    assert read_decision(path) == (None, None)
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None


def test_word_task_file_fingerprint_comes_from_the_body_written_and_equals_reading_the_file(tmp_path):
    from support.decide import TRIP_VALUES, trip_task_file

    d = desk(tmp_path)
    case_id, task, path = trip_task_file(d, "SQ-2026-0004")
    assert d.tasks(case_id)[0]["fingerprint"] == form_fingerprint(path, d.spec)
    with d.store.read() as conn:
        case, tasks = engine.load_case(conn, case_id), engine.case_tasks(conn, case_id)
        history = engine.case_history(conn, case_id)
    # Awkward values in the form's controls: the body's fingerprint is still the file's.
    source = real_form(d.settings.archive / "odd.docx", "trip_request",
                       {**TRIP_VALUES, "事由": " 拜访客户\t华东 <&> \n=SUM(A1) ", "出差地点": "上海 "})
    again, known = task_files._write_task_file(d.settings, case=case, task=task, history=history, warnings=[],
                                               source_file=source, kind="docx", spec=d.spec, tasks=tasks)
    assert known is not None and known == form_fingerprint(again, d.spec)
    assert known != d.tasks(case_id)[0]["fingerprint"]  # other values, another fingerprint
    assert _parts(again)["word/styles.xml"] == _parts(source)["word/styles.xml"]  # written at zip level


def test_word_approval_block_written_as_xml_equals_python_docx_for_awkward_texts(tmp_path):
    from support.decide import TRIP_VALUES

    from automation.decide.approval_view import ApprovalView

    source = real_form(tmp_path / "trip.docx", "trip_request", TRIP_VALUES)
    view = ApprovalView(title="出差申请表 · 审批单", header=[("申请编号", "SQ-1"), ("事由", " 前后有空格\t制表\n换行 "),
                                                         ("<&>", ""), ("空值", None)],
                        summary=[("备注", "a\r\nb")], items_title="明细", items_header=("品名", "数量"),
                        items=[("电机", "5"), ("", "3")], warnings=["警告:折扣率 8% 超过上限"],
                        chain=[("第 1 步", "王经理", "当前", "依据 审批规则!A2")], history=[], people=("王经理", "钱副理"))
    props = {"officeflow.task": "7", "officeflow.case": "SQ-1"}
    zipped, reference = tmp_path / "zip.docx", tmp_path / "python-docx.docx"
    assert task_files.write_docx_at_zip_level(source, zipped, view, "SQ-1", props)
    task_files.write_docx_with_python_docx(source, reference, view, "SQ-1", props)
    assert _parts(zipped)["word/document.xml"] == _parts(reference)["word/document.xml"]


# --- the precompiled 审批 sheet and the repair check per package shape ---------------------------------------------

def _awkward_views(d, case_id):
    """The real view of a case, and views that stretch every row kind of the 审批 sheet."""
    from automation.decide.approval_view import ApprovalView

    with d.store.read() as conn:
        case, tasks = engine.load_case(conn, case_id), engine.case_tasks(conn, case_id)
        history = engine.case_history(conn, case_id)
    real = build_view(case=case, task=tasks[0], tasks=tasks, history=history, warnings=[], spec=d.spec,
                      people=("王经理", "赵会计", "钱副理"))
    long = "很长的说明文字" * 20
    wide = ApprovalView(
        title="销售合同审批表 · 审批单", header=[("申请编号", "SQ-1"), ("申请人", '=HYPERLINK("http://x","点我")'),
                                          ("空值", ""), ("<&>", " 前后空格\t制表\n换行 "), ("很长", long)],
        summary=[("备注", "a\r\nb"), ("数字", "12,345.00")], items_title="明细(共 7 行,显示前 5 行)",
        items_header=("品名", "规格", "数量", "单价", "金额", "备注", "产地", "批次"),  # wider than A:F
        items=[("电机", "Y2-90", "5", "2,469.00", "12,345.00", long, "上海", "B1"), ("", "", "", "", "", "", "", ""),
               ("阀门",), ("合计", "", "", "", "12,345.00", "", "", "")],
        warnings=["警告:折扣率 8% 超过上限(依据:价格政策!B3)", long, "=1+1"],
        chain=[("第 1 步", "王经理", "当前", "依据 审批规则!A2\n金额 ≥ 10,000"), ("第 2 步", "赵会计", "待办", long)],
        history=[("2026-11-23 09:30", "第 1 轮", "第 1 步", "同意", long), ("2026-11-24 10:00", "第 1 轮", "", "", "")],
        people=("王经理", "钱副理"), back_to=("申请人", "第 1 步 · 部门经理"))
    bare = ApprovalView(title="审批单", header=[("申请编号", "SQ-2")], summary=[], people=())
    return [real, wide, bare]


def test_precompiled_approval_sheet_equals_the_cell_model_part_for_part(tmp_path):
    from automation.decide.task_files import _PrecompiledApproval
    from automation.decide.task_xlsx import SheetModel

    d = desk(tmp_path)
    case_id, source = _case_with_applicant(d, tmp_path, "李销售")
    props = {"officeflow.task": "7", "officeflow.case": "SQ-2026-0009"}
    for n, view in enumerate(_awkward_views(d, case_id)):
        fast = task_files.xlsx_addition(view, "SQ-2026-0009", props)
        model = task_files.xlsx_addition(view, "SQ-2026-0009", props, precompiled=False)
        assert isinstance(fast.approval, _PrecompiledApproval) and isinstance(model.approval, SheetModel)
        assert fast.approval.used_styles() | fast.options.used_styles() == \
            model.approval.used_styles() | model.options.used_styles()
        assert (fast.names, fast.print_area) == (model.names, model.print_area)
        a, b = tmp_path / f"fast{n}.xlsx", tmp_path / f"model{n}.xlsx"
        assert task_files.task_xlsx.write(source, a, fast) and task_files.task_xlsx.write(source, b, model)
        ours, theirs = _parts(a), _parts(b)
        assert list(ours) == list(theirs)
        for name in ours:  # the 审批 sheet with its heights, merges, validations and print setup included
            assert ours[name] == theirs[name], name
        assert _described(a) == _described(b)
    reference = tmp_path / "openpyxl.xlsx"  # and the cell model is the openpyxl writer's workbook
    task_files.write_xlsx_with_openpyxl(source, reference, _awkward_views(d, case_id)[1], "SQ-2026-0009", props)
    assert _described(tmp_path / "fast1.xlsx") == _described(reference)


def test_row_longer_than_its_header_is_laid_out_by_the_cell_model(tmp_path):
    from dataclasses import replace

    from automation.decide.task_files import _PrecompiledApproval
    from automation.decide.task_xlsx import SheetModel

    d = desk(tmp_path)
    case_id, source = _case_with_applicant(d, tmp_path, "李销售")
    view = replace(_awkward_views(d, case_id)[0], items_title="明细", items_header=("品名", "数量"),
                   items=[("电机", "5", "多", "出", "的", "列", "还有", "一列")])
    assert _PrecompiledApproval.of(view) is None
    props = {"officeflow.task": "7", "officeflow.case": "SQ-2026-0009"}
    addition = task_files.xlsx_addition(view, "SQ-2026-0009", props)
    assert isinstance(addition.approval, SheetModel)
    zipped, reference = tmp_path / "zip.xlsx", tmp_path / "openpyxl.xlsx"
    assert task_files.task_xlsx.write(source, zipped, addition)
    task_files.write_xlsx_with_openpyxl(source, reference, view, "SQ-2026-0009", props)
    assert _described(zipped) == _described(reference)


def test_repair_check_per_package_shape_answers_as_the_names_repair(tmp_path):
    from support import producers as P

    from automation.forms import zip_package
    from automation.forms.repair import needs_renames, repaired

    d = desk(tmp_path)
    _, source = _case_with_applicant(d, tmp_path, "李销售")
    variants = {"plain": source}
    for maker in (P.case_different_part_names, P.backslash_part_names):
        copy = tmp_path / f"{maker.__name__}.xlsx"
        copy.write_bytes(source.read_bytes())
        variants[maker.__name__] = maker(copy)
    for name, path in variants.items():
        for _ in range(2):  # the second answer comes from the shape cache
            with zip_package.open_package(path) as zf:
                assert needs_renames(zf, "xlsx") == (repaired(path, "xlsx", deep=False) is not None) == (name != "plain")
    # A package needing repairs still gets its task file, through openpyxl.
    view = _awkward_views(d, 1)[2]
    props = {"officeflow.task": "7", "officeflow.case": "SQ-2"}
    out = tmp_path / "renamed-task.xlsx"
    assert not task_files.task_xlsx.write(variants["case_different_part_names"], out,
                                          task_files.xlsx_addition(view, "SQ-2", props))
    assert not out.exists()


def test_word_form_needing_name_repairs_is_written_by_python_docx(tmp_path):
    from support import producers as P
    from support.decide import trip_task_file

    d = desk(tmp_path)
    case_id, task, _ = trip_task_file(d, "SQ-2026-0005")
    source = d.settings.archive / "trip.docx"
    P.rewrite(source, lambda parts: {("word/Styles.xml" if n == "word/styles.xml" else n): v for n, v in parts.items()})
    with d.store.read() as conn:
        case, tasks = engine.load_case(conn, case_id), engine.case_tasks(conn, case_id)
    view = build_view(case=case, task=task, tasks=tasks, history=[], warnings=[], spec=d.spec, people=("王经理",))
    props = {"officeflow.task": str(task["id"]), "officeflow.case": case["number"]}
    assert not task_files.write_docx_at_zip_level(source, tmp_path / "zip.docx", view, case["number"], props)
    assert not (tmp_path / "zip.docx").exists()
    path, known = task_files._write_task_file(d.settings, case=case, task=task, history=[], warnings=[],
                                              source_file=source, kind="docx", spec=d.spec, tasks=tasks)
    assert known is None  # python-docx wrote it: the fingerprint is read from the file
    assert read_props(path)["officeflow.case"] == "SQ-2026-0005" and read_decision(path) == (None, None)
    with zipfile.ZipFile(path) as zf:
        assert "word/styles.xml" in zf.namelist()  # written from the repaired package


def test_frame_kept_per_form_shape_gives_the_parts_of_a_fresh_build(tmp_path):
    from automation.decide import task_xlsx
    from automation.forms import zip_package

    d = desk(tmp_path)
    case_id, source = _case_with_applicant(d, tmp_path, "李销售")
    view = _awkward_views(d, case_id)[0]
    other = real_form(tmp_path / "other.xlsx", "sales_contract", {**CONTRACT_VALUES, "客户名称": "另一家公司"}, CONTRACT_ITEMS)
    renamed = tmp_path / "renamed.xlsx"  # same part names, another workbook part: a frame of its own
    renamed.write_bytes(source.read_bytes())
    wb = openpyxl.load_workbook(renamed)
    wb.defined_names["另一个名称"] = openpyxl.workbook.defined_name.DefinedName("另一个名称", attr_text="'销售合同审批表'!$A$1")
    wb.save(renamed)

    def build(path, number, fresh):
        if fresh:
            task_xlsx._FRAMES.clear()
            zip_package._DEFLATED.clear()
        out = tmp_path / f"{path.stem}-{number}-{fresh}.xlsx"
        assert task_xlsx.write(path, out, task_files.xlsx_addition(view, number, {"officeflow.case": number}))
        with zipfile.ZipFile(out) as zf:
            assert zf.testzip() is None
        return _parts(out)

    for path in (source, other, renamed, source):  # each against a build with nothing kept
        kept = build(path, "SQ-2026-0011", fresh=False)
        again = build(path, "SQ-2026-0012", fresh=False)  # the frame and the deflated parts of the first
        assert kept == build(path, "SQ-2026-0011", fresh=True)
        assert again == build(path, "SQ-2026-0012", fresh=True)
    name = "另一个名称".encode()
    assert name in build(renamed, "SQ-2026-0013", fresh=False)["xl/workbook.xml"]
    assert name not in build(source, "SQ-2026-0013", fresh=False)["xl/workbook.xml"]


def _word_case(d, number):
    from support.decide import trip_task_file

    case_id, task, _ = trip_task_file(d, number)
    with d.store.read() as conn:
        case, tasks = engine.load_case(conn, case_id), engine.case_tasks(conn, case_id)
    return case, task, tasks, d.settings.archive / "trip.docx"


def test_word_block_spliced_as_text_equals_the_block_inserted_as_a_tree(tmp_path):
    from dataclasses import replace

    d = desk(tmp_path)
    case, task, tasks, source = _word_case(d, "SQ-2026-0006")
    real = build_view(case=case, task=task, tasks=tasks, history=[], warnings=[], spec=d.spec, people=("王经理",))
    awkward = replace(real, header=real.header + [("引号", '他说"好"和\'行\''), ("符号", "<&> a>b"), ("空", "")],
                      summary=[("多行", " 前后空格\t制表\n换行\r\n回车 ")], items_title="明细", items=[("电机", "", "5")],
                      warnings=["警告:折扣率 8% 超过上限"], chain=[("第 1 步", '王"经理', "当前", "")],
                      history=[("2026-11-23 09:30", "第 1 轮", "", "同意", "")],
                      people=('王"经理', "钱'副理", "赵&<>会计", "换\n行\t人"), back_to=("申请人", '第 1 步 · "部门"'))
    nobody = replace(real, people=(), history=[])
    props = {"officeflow.task": str(task["id"]), "officeflow.case": case["number"]}
    for n, view in enumerate((real, awkward, nobody)):
        spliced, tree, reference = tmp_path / f"s{n}.docx", tmp_path / f"t{n}.docx", tmp_path / f"p{n}.docx"
        written = task_files._write_docx_at_zip_level(source, spliced, view, case["number"], props, spec=d.spec)
        assert written is not None
        assert task_files._write_docx_at_zip_level(source, tree, view, case["number"], props, spec=d.spec,
                                                   splice=False) is not None
        task_files.write_docx_with_python_docx(source, reference, view, case["number"], props)
        assert _parts(spliced) == _parts(tree)
        assert _parts(spliced)["word/document.xml"] == _parts(reference)["word/document.xml"]
        assert written[1] == form_fingerprint(spliced, d.spec) is not None  # read from the form's body alone
        assert read_decision(spliced) == (None, None)


def test_word_block_that_could_answer_the_reader_leaves_the_fingerprint_to_the_file(tmp_path):
    from dataclasses import replace

    d = desk(tmp_path)
    case, task, tasks, source = _word_case(d, "SQ-2026-0007")
    real = build_view(case=case, task=task, tasks=tasks, history=[], warnings=[], spec=d.spec, people=("王经理",))
    label = d.spec.fields[0].label or d.spec.fields[0].key
    clashing = replace(real, chain=[(f"{label}:", "王经理", "当前", "")])  # a chain cell labelled like a field
    assert not task_files._block_may_answer(real, d.spec) and task_files._block_may_answer(clashing, d.spec)
    props = {"officeflow.task": str(task["id"]), "officeflow.case": case["number"]}
    written = task_files._write_docx_at_zip_level(source, tmp_path / "c.docx", clashing, case["number"], props,
                                                  spec=d.spec)
    assert written == (True, None)  # written at zip level, fingerprint to be read from the file
    path = d.issue(task["id"])
    assert d.tasks(case["id"])[0]["fingerprint"] == form_fingerprint(path, d.spec)


def test_word_block_holding_what_xml_cannot_is_not_spliced(tmp_path):
    from dataclasses import replace

    d = desk(tmp_path)
    case, task, tasks, source = _word_case(d, "SQ-2026-0008")
    view = replace(build_view(case=case, task=task, tasks=tasks, history=[], warnings=[], spec=d.spec),
                   people=("王\x01经理",))
    props = {"officeflow.task": str(task["id"]), "officeflow.case": case["number"]}
    assert task_files._write_docx_at_zip_level(source, tmp_path / "x.docx", view, case["number"], props) is None
    assert not (tmp_path / "x.docx").exists()

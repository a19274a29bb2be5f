from datetime import date
from decimal import Decimal

import pytest
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook
from support.extract import (
    GOOD,
    GOOD_ITEMS,
    field_cell,
    item_cell,
    make_docx,
    make_xlsx,
    test_spec,
)
from support.forms import build_blank, fill_docx, fill_xlsx, repo_specs

from automation.act.returns import RED, RESULT_SHEET, annotate_return
from automation.extract.read import read_form
from automation.fsutil import unique_path
from automation.validate.fields import validate_form

HEADER = {"处理时间": "2026-11-23 09:30", "申请编号": "=HT-2026-0001", "结论": "请修改后重新提交"}


@pytest.fixture
def spec(tmp_path):
    return test_spec(tmp_path)


def returned_xlsx(tmp_path, spec, values, items=GOOD_ITEMS):
    src = make_xlsx(tmp_path / "原表.xlsx", spec, values, items)
    problems = validate_form(read_form(src, spec, "1.0", "properties")).problems
    dest = annotate_return(src, tmp_path / "returned" / "原表.xlsx", spec, problems, header=HEADER)
    return src, dest, problems


def is_red(cell) -> bool:
    return cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb.endswith(RED)


def test_offending_cells_are_red_with_the_message_as_comment(tmp_path, spec):
    values = dict(GOOD, 合同金额="一千", 联系电话="123")
    items = [GOOD_ITEMS[0], {"品名": "线缆", "数量": 0, "单价": 1, "金额": 0}]
    _, dest, problems = returned_xlsx(tmp_path, spec, values, items)
    ws = load_workbook(dest)["表单"]
    marked = {c.coordinate for row in ws.iter_rows() for c in row if is_red(c)}
    assert marked == {field_cell(spec, "合同金额"), field_cell(spec, "联系电话"), item_cell(spec, 2, "数量")}
    comment = ws[field_cell(spec, "合同金额")].comment
    assert comment.author == "OfficeFlow" and "「合同金额」" in comment.text and "不是有效金额" in comment.text


def test_result_sheet_comes_first_and_lists_every_problem(tmp_path, spec):
    _, dest, problems = returned_xlsx(tmp_path, spec, dict(GOOD, 合同金额="一千", 申请人=None))
    book = load_workbook(dest)
    assert book.sheetnames == [RESULT_SHEET, "表单"]
    assert book.active.title == RESULT_SHEET
    ws = book[RESULT_SHEET]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    header_row = next(i for i, r in enumerate(rows) if r[0] == "序号")
    assert rows[header_row] == ["序号", "级别", "字段", "单元格", "填写的值", "问题说明", "依据"]
    listed = rows[header_row + 1:]
    assert [(r[0], r[1], r[2], r[3]) for r in listed] == [
        (1, "错误", "合同金额", f"表单!{field_cell(spec, '合同金额')}"),
        (2, "错误", "申请人", f"表单!{field_cell(spec, '申请人')}"),
    ]
    assert listed[0][4] == "一千" and listed[0][5] == problems[0].message
    assert ws.freeze_panes == f"A{header_row + 2}"
    assert ["处理时间", "2026-11-23 09:30"] == rows[1][:2]


def test_formula_looking_text_is_stored_as_text(tmp_path, spec):
    values = dict(GOOD, 客户名称='=HYPERLINK("http://x","点我")', 报价单号="+1+1", 合同金额大写="@SUM(1)")
    src = make_xlsx(tmp_path / "原表.xlsx", spec, {k: v for k, v in values.items() if k != "客户名称"}, GOOD_ITEMS)
    book = load_workbook(src)  # a typed value, as Excel would store text starting with '
    ws = book["表单"]
    ws[field_cell(spec, "客户名称")].value = values["客户名称"]
    ws[field_cell(spec, "客户名称")].data_type = "s"
    book.save(src)
    problems = validate_form(read_form(src, spec, "1.0", "properties")).problems
    assert {p.field for p in problems} >= {"客户名称", "报价单号", "合同金额大写"}
    dest = annotate_return(src, tmp_path / "out.xlsx", spec, problems, header=HEADER)
    result = load_workbook(dest)[RESULT_SHEET]
    texts = [c for row in result.iter_rows() for c in row if isinstance(c.value, str) and c.value[:1] in "=+@"]
    assert {c.value for c in texts} >= {values["客户名称"], "+1+1", "@SUM(1)", "=HT-2026-0001"}
    assert all(c.data_type == "s" for c in texts)


def test_original_names_table_props_and_file_are_kept(tmp_path, spec):
    src, dest, _ = returned_xlsx(tmp_path, spec, dict(GOOD, 合同金额="一千"))
    before = src.read_bytes()
    book = load_workbook(dest)
    assert set(book.defined_names) == {f.key for f in spec.fields}
    assert "明细" in book["表单"].tables
    props = {p.name: p.value for p in book.custom_doc_props}
    assert props == {"officeflow.form": spec.id, "officeflow.version": "1.0"}
    assert src.read_bytes() == before
    assert not [p for p in dest.parent.iterdir() if p.name != dest.name]  # no temp file left behind
    # the copy reads back as the same form, with the same problem
    again = read_form(dest, spec, "1.0", "properties")
    assert [p.code for p in again.problems] == ["money-invalid"]


def test_returning_a_returned_form_replaces_the_old_result_sheet(tmp_path, spec):
    _, first, _ = returned_xlsx(tmp_path, spec, dict(GOOD, 合同金额="一千"))
    second = annotate_return(first, tmp_path / "again.xlsx", spec, [], header={"结论": "已通过"})
    book = load_workbook(second)
    assert book.sheetnames == [RESULT_SHEET, "表单"]
    assert book[RESULT_SHEET]["B2"].value == "已通过"


def test_shipped_form_annotated_keeps_protection_and_validations(tmp_path):
    spec = repo_specs()["sales_contract"]
    src = fill_xlsx(build_blank("sales_contract", tmp_path), {"合同金额": "abc", "签订日期": date(2026, 11, 23)},
                    items=[{"品名": "水泵", "数量": 2, "单价": Decimal("600")}])
    problems = validate_form(read_form(src, spec, "1.0", "properties")).problems
    dest = annotate_return(src, tmp_path / "out" / src.name, spec, problems)
    book = load_workbook(dest)
    form_sheet = book.worksheets[1]
    assert book.sheetnames[0] == RESULT_SHEET
    assert form_sheet.protection.sheet and form_sheet.data_validations.dataValidation
    location = next(p.location for p in problems if p.field == "合同金额")
    assert is_red(form_sheet[location.split("!")[1]])


def test_docx_copy_has_result_table_first_and_controls_shaded(tmp_path):
    spec = test_spec(tmp_path, "docx")
    src = make_docx(tmp_path / "原表.docx", spec, dict(GOOD, 合同金额="一千"),
                    [GOOD_ITEMS[0], {"品名": "线缆", "数量": 0, "单价": 1, "金额": 0}])
    problems = validate_form(read_form(src, spec, None, "names")).problems
    dest = annotate_return(src, tmp_path / "out" / "原表.docx", spec, problems, header=HEADER)
    doc = Document(str(dest))
    body = list(doc.element.body)
    assert body[0].xpath("string(.)") == RESULT_SHEET
    first_table = next(el for el in body if el.tag == qn("w:tbl"))
    assert body.index(first_table) == 1 + len(HEADER)  # heading, header lines, then the table
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells][:4] == ["序号", "级别", "字段", "位置"]
    assert [r.cells[3].text for r in table.rows[1:]] == ["控件:合同金额", "表格「明细」第 2 行"]
    fills = {el.get(qn("w:fill")) for el in doc.element.body.iter(qn("w:shd"))}
    assert RED in fills
    shaded = _shaded_tags(doc)
    assert shaded == {"合同金额"}
    items = doc.tables[1]
    assert RED in {s.get(qn("w:fill")) for s in items.rows[2].cells[1]._tc.iter(qn("w:shd"))}
    assert RED not in {s.get(qn("w:fill")) for s in items.rows[1].cells[1]._tc.iter(qn("w:shd"))}


def _shaded_tags(doc) -> set:
    tags = set()
    for sdt in doc.element.body.iter(qn("w:sdt")):
        if any(s.get(qn("w:fill")) == RED for s in sdt.iter(qn("w:shd"))):
            tags.add(sdt.find(f"{qn('w:sdtPr')}/{qn('w:tag')}").get(qn("w:val")))
    return tags


def test_shipped_docx_form_annotated_still_reads(tmp_path):
    spec = repo_specs()["trip_request"]
    src = fill_docx(build_blank("trip_request", tmp_path), {"申请人": "张三", "出发日期": "明天"})
    problems = validate_form(read_form(src, spec, "1.0", "properties")).problems
    dest = annotate_return(src, tmp_path / "out" / src.name, spec, problems)
    again = read_form(dest, spec, "1.0", "properties")
    assert again.values["申请人"] == "张三"
    assert [p.code for p in again.problems] == ["date-invalid"]
    assert "出发日期" in _shaded_tags(Document(str(dest)))


def test_unique_path_numbers_taken_names(tmp_path):
    assert unique_path(tmp_path, "表.xlsx") == tmp_path / "表.xlsx"
    (tmp_path / "表.xlsx").touch()
    assert unique_path(tmp_path, "表.xlsx") == tmp_path / "表 (2).xlsx"
    (tmp_path / "表 (2).xlsx").touch()
    assert unique_path(tmp_path, "表.xlsx") == tmp_path / "表 (3).xlsx"

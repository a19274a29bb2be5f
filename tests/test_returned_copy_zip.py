"""The returned copy of an Excel form written at zip level reads as the openpyxl-written one.

``annotate_return`` copies the form's parts and writes only the marks, the notes and the
处理结果 sheet; ``annotate_xlsx_with_openpyxl`` is the old load-and-save path, kept for
packages the zip writer leaves alone. Both are compared cell by cell here: values, fills,
fonts, borders, alignment, notes, merges, heights, widths, names, print setup.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from support.extract import GOOD, GOOD_ITEMS, field_cell, make_xlsx, test_spec
from support.forms import build_blank, fill_xlsx, repo_specs
from support.sheets import differences

from automation.act.returns import AUTHOR, RED, RESULT_SHEET, annotate_return, annotate_xlsx_with_openpyxl
from automation.extract.read import read_form
from automation.forms.spec import CASE_FIELD
from automation.problems import Location, Problem
from automation.validate.fields import validate_form

HEADER = {"处理时间": "2026-11-23 09:30", "申请编号": "=HT-2026-0001",
          "结论": "表单有需要修改的地方,请按下列说明修改后重新放入 inbox/ 提交。" * 3}


def _problems(src, spec):
    return validate_form(read_form(src, spec, "1.0", "properties")).problems


def _zip_level(src, problems, tmp_path, **kw) -> bool:
    """Whether the zip-level writer takes this package (it writes a throwaway copy to say so)."""
    from automation.act import return_xlsx
    from automation.act.returns import COLUMNS, MARK_LIMIT, _problem_row

    return return_xlsx.write(src, tmp_path / "probe" / src.name, problems, kw.get("header") or {},
                             kw.get("stamp") or {}, red=RED, author=AUTHOR, result_sheet=RESULT_SHEET,
                             columns=COLUMNS, mark_limit=MARK_LIMIT, problem_row=_problem_row)


def _both(tmp_path, src, problems, **kw):
    fast = annotate_return(src, tmp_path / "fast" / src.name, _spec_of(src), problems, **kw)
    slow = annotate_xlsx_with_openpyxl(src, tmp_path / "slow" / src.name, problems, **kw)
    return fast, slow


_SPECS = {}


def _spec_of(src):
    return _SPECS[src]


def _cell_view(cell):
    fill = cell.fill
    return (cell.value if cell.value != "" else None,
            fill.fill_type, fill.fgColor.rgb if fill.fill_type else None,
            bool(cell.font.b), cell.font.sz if cell.font.b else None,
            cell.border.left.style, cell.border.left.color.rgb if cell.border.left.color is not None else None,
            bool(cell.alignment.wrap_text), cell.alignment.vertical, cell.number_format, cell.protection.locked,
            (cell.comment.text, cell.comment.author, cell.comment.width, cell.comment.height) if cell.comment else None)


def _book_view(path):
    book = load_workbook(path)
    out = {"sheets": book.sheetnames, "active": book.active.title,
           "names": {n: d.attr_text for n, d in book.defined_names.items()},
           "props": {p.name: p.value for p in book.custom_doc_props}}
    for ws in book.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for cell in row:
                view = _cell_view(cell)
                if any(v not in (None, False) for v in view[:3]) or view[11] or cell.has_style and cell.style_id:
                    cells[cell.coordinate] = view
        out[ws.title] = {
            "cells": cells, "merged": sorted(str(m) for m in ws.merged_cells.ranges),
            "heights": {r: d.height for r, d in ws.row_dimensions.items() if d.height},
            "widths": {c: d.width for c, d in ws.column_dimensions.items() if d.customWidth},
            "freeze": ws.freeze_panes, "titles": ws.print_title_rows, "area": ws.print_area,
            "page": (ws.page_setup.orientation, ws.page_setup.paperSize, ws.page_setup.fitToWidth,
                     ws.page_setup.fitToHeight, ws.sheet_properties.pageSetUpPr.fitToPage,
                     ws.print_options.horizontalCentered, ws.oddFooter.center.text,
                     ws.page_margins.left, ws.page_margins.top),
            "selected": bool(ws.sheet_view.tabSelected), "state": ws.sheet_state,
            "protected": ws.protection.sheet, "validations": len(ws.data_validations.dataValidation),
            "tables": sorted(ws.tables),
        }
    return out


def _same(fast, slow):
    # A sheet view without tabSelected is one not selected: openpyxl writes it as "0" on every sheet.
    assert [d for d in differences(fast, slow) if not re.search(r"view: \(None, (.*)\) != \(False, \1\)$", d)] == []
    a, b = _book_view(fast), _book_view(slow)
    assert a.keys() == b.keys()
    for key in a:
        assert a[key] == b[key], key


def _at(code, level, message, sheet, cell):
    text = f"{sheet}!{cell}" if cell else sheet
    return Problem(code=code, title=code, message=message, level=level, location=text,
                   where=Location(text=text, sheet=sheet, cell=cell))


@pytest.fixture
def spec(tmp_path):
    return test_spec(tmp_path)


def test_test_form_copy_reads_as_the_openpyxl_copy(tmp_path, spec):
    values = dict(GOOD, 合同金额="一千", 联系电话="123", 客户名称='=HYPERLINK("http://x","点我")')
    items = [GOOD_ITEMS[0], {"品名": "线缆", "数量": 0, "单价": 1, "金额": 0}]
    src = make_xlsx(tmp_path / "原表.xlsx", spec, values, items)
    _SPECS[src] = spec
    problems = _problems(src, spec)
    assert _zip_level(src, problems, tmp_path, header=HEADER)
    fast, slow = _both(tmp_path, src, problems, header=HEADER)
    _same(fast, slow)
    ws = load_workbook(fast)["表单"]
    comment = ws[field_cell(spec, "合同金额")].comment
    assert comment.author == AUTHOR and "不是有效金额" in comment.text
    assert ws[field_cell(spec, "合同金额")].fill.fgColor.rgb.endswith(RED)
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(fast) as b:
        untouched = [n for n in a.namelist() if n.startswith(("xl/tables/", "xl/theme/", "docProps/"))]
        assert untouched and all(a.read(n) == b.read(n) for n in untouched)  # copied as they were


def test_shipped_form_copy_with_stamp_reads_as_the_openpyxl_copy(tmp_path):
    spec = repo_specs()["sales_contract"]
    src = fill_xlsx(build_blank("sales_contract", tmp_path), {"合同金额": "abc", "签订日期": date(2026, 11, 23)},
                    items=[{"品名": "水泵", "数量": 2, "单价": Decimal("600")}])
    _SPECS[src] = spec
    problems = _problems(src, spec)
    assert _zip_level(src, problems, tmp_path, header=HEADER, stamp={CASE_FIELD: "HT-2026-0007"})
    fast, slow = _both(tmp_path, src, problems, header=HEADER, stamp={CASE_FIELD: "HT-2026-0007"})
    _same(fast, slow)
    assert read_form(fast, spec, "1.0", "properties").values[CASE_FIELD] == "HT-2026-0007"
    again = _problems(fast, spec)
    assert [p.code for p in again] == [p.code for p in problems]


def test_no_problems_ranges_merged_cells_and_repeated_cells(tmp_path, spec):
    src = make_xlsx(tmp_path / "原表.xlsx", spec, GOOD, GOOD_ITEMS)
    book = load_workbook(src)
    book["表单"].merge_cells("H2:J3")
    book.save(src)
    _SPECS[src] = spec
    fast, slow = _both(tmp_path, src, [], header={"结论": "已通过"})
    _same(fast, slow)
    assert load_workbook(fast)[RESULT_SHEET]["A" + str(2 + 1 + 1 + 1)].value == "未发现问题。"
    problems = [_at("x", "error", "第一", "表单", "I3"),
                _at("y", "error", "第二", "表单", "H2:K3"),
                _at("z", "warning", "第三", "表单", "K3"),
                _at("w", "error", "无处", "无此表", "A1"),
                _at("v", "error", "无格", "表单", None)]
    assert _zip_level(src, problems, tmp_path, header=HEADER)
    fast, slow = _both(tmp_path / "2", src, problems, header=HEADER)
    _same(fast, slow)
    ws = load_workbook(fast)["表单"]
    assert ws["H2"].comment.text == "第二" and ws["K3"].comment.text == "第三" and ws["I3"].fill.fill_type is None


def test_a_returned_copy_returned_again_takes_the_openpyxl_path_and_keeps_one_result_sheet(tmp_path, spec):
    src = make_xlsx(tmp_path / "原表.xlsx", spec, dict(GOOD, 合同金额="一千"), GOOD_ITEMS)
    _SPECS[src] = spec
    first = annotate_return(src, tmp_path / "first.xlsx", spec, _problems(src, spec), header=HEADER)
    assert not _zip_level(first, [], tmp_path)
    second = annotate_return(first, tmp_path / "second.xlsx", spec, [], header={"结论": "已通过"})
    book = load_workbook(second)
    assert book.sheetnames == [RESULT_SHEET, "表单"]
    assert not [c for row in book["表单"].iter_rows() for c in row if c.comment is not None]


def test_a_sheet_with_notes_of_its_own_falls_back_to_openpyxl_and_keeps_them(tmp_path, spec):
    from openpyxl.comments import Comment

    src = make_xlsx(tmp_path / "原表.xlsx", spec, dict(GOOD, 合同金额="一千"), GOOD_ITEMS)
    book = load_workbook(src)
    book["表单"]["A1"].comment = Comment("填表说明", "表单作者")
    book.save(src)
    _SPECS[src] = spec
    problems = _problems(src, spec)
    assert not _zip_level(src, problems, tmp_path, header=HEADER)
    fast, slow = _both(tmp_path, src, problems, header=HEADER)
    _same(fast, slow)
    assert load_workbook(fast)["表单"]["A1"].comment.text == "填表说明"


def test_strict_ooxml_falls_back_to_openpyxl(tmp_path, spec):
    from automation.act import return_xlsx

    src = make_xlsx(tmp_path / "原表.xlsx", spec, dict(GOOD, 合同金额="一千"), GOOD_ITEMS)
    strict = tmp_path / "strict.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(strict, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/workbook.xml":
                data = data.replace(b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
                                    b"http://purl.oclc.org/ooxml/spreadsheetml/main")
            zout.writestr(info, data)
    problems = _problems(src, spec)
    assert not return_xlsx.write(strict, tmp_path / "never.xlsx", problems, HEADER, {}, red=RED, author=AUTHOR,
                                 result_sheet=RESULT_SHEET, columns=(("序号", 10),), mark_limit=200,
                                 problem_row=lambda n, p: (n,))
    assert not (tmp_path / "never.xlsx").exists()


def test_libreoffice_opens_the_zip_level_copy_with_its_marks_notes_and_result_sheet(tmp_path, soffice):
    from support.libreoffice import resave

    spec = repo_specs()["sales_contract"]
    src = fill_xlsx(build_blank("sales_contract", tmp_path), {"合同金额": "abc", "签订日期": date(2026, 11, 23)},
                    items=[{"品名": "水泵", "数量": 2, "单价": Decimal("600")}])
    _SPECS[src] = spec
    problems = _problems(src, spec)
    assert _zip_level(src, problems, tmp_path, header=HEADER)
    fast, slow = _both(tmp_path, src, problems, header=HEADER)
    (lo_fast,), (lo_slow,) = resave([fast], "xlsx", tmp_path / "lo-fast"), resave([slow], "xlsx", tmp_path / "lo-slow")
    a, b = load_workbook(lo_fast), load_workbook(lo_slow)
    assert a.sheetnames == b.sheetnames and a.sheetnames[0] == RESULT_SHEET
    for name in a.sheetnames:
        va = {c.coordinate: (c.value, c.fill.fill_type, c.fill.fgColor.rgb if c.fill.fill_type else None,
                             c.comment.text if c.comment else None) for row in a[name].iter_rows() for c in row}
        vb = {c.coordinate: (c.value, c.fill.fill_type, c.fill.fgColor.rgb if c.fill.fill_type else None,
                             c.comment.text if c.comment else None) for row in b[name].iter_rows() for c in row}
        assert va == vb, name
    location = next(p.location for p in problems if p.field == "合同金额").split("!")[1]
    marked = a["表单"][location]
    assert marked.fill.fgColor.rgb.endswith(RED) and "不是有效金额" in marked.comment.text

"""The returned copy of a Word form written at zip level equals the python-docx-written one.

``annotate_return`` rewrites only the main part (edited by the same code on python-docx's
element classes) and copies every other part as stored; ``annotate_docx_with_python_docx``
is the old load-and-save path, kept for packages the zip writer leaves alone. The main
parts must be byte for byte the same.
"""

from __future__ import annotations

import zipfile

import docx
import pytest
from docx.oxml.ns import qn
from support.extract import GOOD, GOOD_ITEMS, make_docx, test_spec
from support.forms import build_blank, fill_docx, repo_specs

from automation.act import return_docx
from automation.act.returns import RED, RESULT_SHEET, _edit_docx, annotate_docx_with_python_docx, annotate_return
from automation.extract.read import read_form
from automation.forms.spec import CASE_FIELD
from automation.validate.fields import validate_form

HEADER = {"处理时间": "2026-11-23 09:30", "申请编号": "=HT-2026-0001", "结论": "请修改后重新提交"}
MAIN = "word/document.xml"


def _parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _zip_level(src, spec, problems, tmp_path, **kw) -> bool:
    return return_docx.write(src, tmp_path / "probe.docx",
                             lambda doc: _edit_docx(doc, spec, problems, kw.get("header") or {}, kw.get("stamp") or {}))


def _check(tmp_path, src, spec, problems, **kw):
    assert _zip_level(src, spec, problems, tmp_path, **kw)
    fast = annotate_return(src, tmp_path / "fast" / src.name, spec, problems, **kw)
    slow = annotate_docx_with_python_docx(src, tmp_path / "slow" / src.name, spec, problems, **kw)
    original, a, b = _parts(src), _parts(fast), _parts(slow)
    assert a[MAIN] == b[MAIN]
    assert list(a) == list(original)
    assert all(a[name] == original[name] for name in original if name != MAIN)  # copied as stored
    return fast


@pytest.mark.parametrize("spec_id,values", [
    ("trip_request", {"申请人": "张三", "出发日期": "明天"}),
    ("complaint", {"客户名称": "华东机电有限公司"}),
])
def test_shipped_word_forms_returned_at_zip_level_equal_the_python_docx_copy(tmp_path, spec_id, values):
    spec = repo_specs()[spec_id]
    src = fill_docx(build_blank(spec_id, tmp_path / "blank"), values)
    problems = validate_form(read_form(src, spec, "1.0", "properties")).problems
    assert problems
    fast = _check(tmp_path, src, spec, problems, header=HEADER, stamp={CASE_FIELD: "KH-202611-0007"})
    body = list(docx.Document(str(fast)).element.body)
    assert body[0].xpath("string(.)") == RESULT_SHEET
    assert read_form(fast, spec, "1.0", "properties").values[CASE_FIELD] == "KH-202611-0007"


def test_test_form_with_line_items_and_no_problems(tmp_path):
    spec = test_spec(tmp_path, "docx")
    src = make_docx(tmp_path / "原表.docx", spec, dict(GOOD, 合同金额="一千"),
                    [GOOD_ITEMS[0], {"品名": "线缆", "数量": 0, "单价": 1, "金额": 0}])
    problems = validate_form(read_form(src, spec, None, "names")).problems
    fast = _check(tmp_path, src, spec, problems, header=HEADER)
    document = docx.Document(str(fast))
    assert RED in {s.get(qn("w:fill")) for s in document.tables[1].rows[2].cells[1]._tc.iter(qn("w:shd"))}
    _check(tmp_path / "none", src, spec, [], header={"结论": "已通过"})


def _with_styles(src, dest, change):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, change(data) if info.filename == "word/styles.xml" else data)
    return dest


def test_a_form_without_heading_style_gets_a_bold_title_on_both_paths(tmp_path):
    spec = test_spec(tmp_path, "docx")
    src = make_docx(tmp_path / "原表.docx", spec, dict(GOOD, 合同金额="一千"), GOOD_ITEMS)
    bare = _with_styles(src, tmp_path / "bare.docx",
                        lambda d: d.replace(b'w:val="heading 1"', b'w:val="my heading"')
                        .replace(b'w:styleId="Heading1"', b'w:styleId="MyHeading"'))
    problems = validate_form(read_form(bare, spec, None, "names")).problems
    fast = _check(tmp_path, bare, spec, problems, header=HEADER)
    first = docx.Document(str(fast)).paragraphs[0]
    assert first.text == RESULT_SHEET and first.runs[0].bold and first.style.name == "Normal"


def test_a_style_name_written_otherwise_is_left_to_python_docx(tmp_path):
    spec = test_spec(tmp_path, "docx")
    src = make_docx(tmp_path / "原表.docx", spec, dict(GOOD, 合同金额="一千"), GOOD_ITEMS)
    odd = _with_styles(src, tmp_path / "odd.docx", lambda d: d.replace(b'<w:name w:val="Table Grid"/>',
                                                                       b'<w:name w:val="Table Grid" />'))
    problems = validate_form(read_form(odd, spec, None, "names")).problems
    assert not _zip_level(odd, spec, problems, tmp_path, header=HEADER)
    dest = annotate_return(odd, tmp_path / "out.docx", spec, problems, header=HEADER)
    assert docx.Document(str(dest)).tables[0].style.name == "Table Grid"


def test_a_returned_word_copy_returned_again_keeps_one_result_block(tmp_path):
    spec = test_spec(tmp_path, "docx")
    src = make_docx(tmp_path / "原表.docx", spec, dict(GOOD, 合同金额="一千"), GOOD_ITEMS)
    problems = validate_form(read_form(src, spec, None, "names")).problems
    first = annotate_return(src, tmp_path / "first.docx", spec, problems, header=HEADER)
    second = _check(tmp_path / "again", first, spec, [], header={"结论": "已通过"})
    body = docx.Document(str(second)).element.body
    assert len([p for p in body.iter(qn("w:p")) if p.xpath("string(.)") == RESULT_SHEET]) == 1
    assert RED not in {s.get(qn("w:fill")) for s in body.iter(qn("w:shd"))}


def test_libreoffice_reads_the_zip_level_word_copy_as_the_python_docx_copy(tmp_path, soffice):
    from support.libreoffice import resave

    spec = repo_specs()["trip_request"]
    src = fill_docx(build_blank("trip_request", tmp_path / "blank"), {"申请人": "张三", "出发日期": "明天"})
    problems = validate_form(read_form(src, spec, "1.0", "properties")).problems
    fast = annotate_return(src, tmp_path / "fast" / src.name, spec, problems, header=HEADER)
    slow = annotate_docx_with_python_docx(src, tmp_path / "slow" / src.name, spec, problems, header=HEADER)
    (lo_fast,), (lo_slow,) = resave([fast], "docx", tmp_path / "lo-fast"), resave([slow], "docx", tmp_path / "lo-slow")

    def seen(path):
        document = docx.Document(str(path))
        return ([p.text for p in document.paragraphs], [[c.text for c in r.cells] for t in document.tables for r in t.rows],
                sorted(s.get(qn("w:fill")) or "" for s in document.element.body.iter(qn("w:shd"))))

    assert seen(lo_fast) == seen(lo_slow)
    assert RED in seen(lo_fast)[2]

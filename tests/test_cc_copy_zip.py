"""抄送 copies written at zip level equal the ones written through python-docx / openpyxl.

``cc_copy.write_file`` rewrites only what a copy changes and copies the other parts as
stored; ``cc_copy.write_with_library`` is the old load-and-save path, kept for packages
the zip writers leave alone.
"""

from __future__ import annotations

import zipfile

import docx
import pytest
from support.forms import build_blank, fill_docx, repo_specs

from automation.act import cc_copy, return_docx

LINES = [cc_copy.MARK, "出差申请表 CC-202611-0001 审批中,当前在 王经理", "抄送给:李四。本副本仅供知悉,无需填写或提交。"]
STEPS = [("1", "经理", "王经理", "同意", "2026-11-23 09:30", "好的"), ("2", "财务", "赵会计", "同意", "2026-11-23 10:30", "")]


def _parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.mark.parametrize("steps", [STEPS, []])
@pytest.mark.parametrize("spec_id", ["trip_request", "complaint"])
def test_word_copy_at_zip_level_equals_the_python_docx_copy(tmp_path, spec_id, steps):
    src = fill_docx(build_blank(spec_id, tmp_path / "blank"), {"申请人": "张三"} if spec_id == "trip_request" else {})
    assert return_docx.write(src, tmp_path / "probe.docx", lambda d: cc_copy._edit_docx(d, LINES, steps))
    fast = cc_copy.write_file(src, tmp_path / "fast" / src.name, LINES, steps)
    slow = cc_copy.write_with_library(src, tmp_path / "slow" / src.name, LINES, steps)
    original, a, b = _parts(src), _parts(fast), _parts(slow)
    assert a["word/document.xml"] == b["word/document.xml"]
    assert list(a) == list(original)
    assert all(a[n] == original[n] for n in original if n != "word/document.xml")
    document = docx.Document(str(fast))
    assert document.tables[0].cell(0, 0).text == cc_copy.MARK
    assert not [p for p in document.paragraphs if "即可提交" in p.text]


def _cc_xlsx_takes(src, tmp_path, steps) -> bool:
    from automation.act import cc_xlsx
    from automation.act.approval_record import TRAIL_HEADER

    return cc_xlsx.write(src, tmp_path / "probe.xlsx", sheet=cc_copy.SHEET, mark=cc_copy.MARK,
                         replacement=f"{cc_copy.MARK}:{LINES[1]}", hints=cc_copy._SUBMIT_HINTS, lines=LINES,
                         trail_header=TRAIL_HEADER, steps=steps)


def _same_books(fast, slow):
    import re

    from support.sheets import differences

    # A sheet view without tabSelected is one not selected: openpyxl writes it as "0".
    assert [d for d in differences(fast, slow) if not re.search(r"view: \(None, (.*)\) != \(False, \1\)$", d)] == []


@pytest.mark.parametrize("steps", [STEPS, []])
@pytest.mark.parametrize("spec_id", ["sales_contract", "expense_claim"])
def test_excel_copy_at_zip_level_reads_as_the_openpyxl_copy(tmp_path, spec_id, steps):
    from openpyxl import load_workbook
    from support.forms import fill_xlsx

    src = fill_xlsx(build_blank(spec_id, tmp_path / "blank"), {})
    assert _cc_xlsx_takes(src, tmp_path, steps)
    fast = cc_copy.write_file(src, tmp_path / "fast" / src.name, LINES, steps)
    slow = cc_copy.write_with_library(src, tmp_path / "slow" / src.name, LINES, steps)
    _same_books(fast, slow)
    book = load_workbook(fast)
    assert book.sheetnames[0] == cc_copy.SHEET and book.active.title == cc_copy.SHEET
    texts = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert f"{cc_copy.MARK}:{LINES[1]}" in texts and not [t for t in texts if "即可提交" in t]
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(fast) as b:
        kept = [n for n in a.namelist() if n.startswith(("xl/tables/", "xl/theme/", "docProps/"))]
        assert kept and all(a.read(n) == b.read(n) for n in kept)


def test_excel_copy_of_a_form_with_shared_strings_and_a_sheet_named_like_ours(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "表单"
    book["表单"]["A1"] = "填好后放入 inbox 文件夹即可提交。"
    book["表单"]["B2"] = 12
    book.save(tmp_path / "plain.xlsx")
    # Excel's own files keep their text in sharedStrings.xml; make one that does.
    src = tmp_path / "shared.xlsx"
    with zipfile.ZipFile(tmp_path / "plain.xlsx") as zin, zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<c r="A1" t="inlineStr"><is><t>', b'<c r="A1" t="s"><v>0</v></c><!--')
                data = data.replace(b"</t></is></c>", b"-->", 1)
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.openxmlformats'
                                    b'.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                                    b"</Relationships>")
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            zout.writestr(info, data)
        zout.writestr("xl/sharedStrings.xml", '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                      'count="1" uniqueCount="1"><si><r><t>填好后放入 inbox </t></r><r><t>文件夹即可提交。</t></r></si></sst>')
    assert _cc_xlsx_takes(src, tmp_path, STEPS)
    fast = cc_copy.write_file(src, tmp_path / "fast.xlsx", LINES, STEPS)
    slow = cc_copy.write_with_library(src, tmp_path / "slow.xlsx", LINES, STEPS)
    _same_books(fast, slow)
    from openpyxl import load_workbook
    assert load_workbook(fast)["表单"]["A1"].value == f"{cc_copy.MARK}:{LINES[1]}"

    taken = tmp_path / "taken.xlsx"
    book = Workbook()
    book.active.title = cc_copy.SHEET
    book.save(taken)
    assert not _cc_xlsx_takes(taken, tmp_path, STEPS)
    assert load_workbook(cc_copy.write_file(taken, tmp_path / "taken-copy.xlsx", LINES, STEPS)).sheetnames[:2] == \
        [f"{cc_copy.SHEET}1", cc_copy.SHEET]


def test_libreoffice_reads_the_zip_level_excel_copy_as_the_openpyxl_copy(tmp_path, soffice):
    from openpyxl import load_workbook
    from support.forms import fill_xlsx
    from support.libreoffice import resave

    src = fill_xlsx(build_blank("sales_contract", tmp_path / "blank"), {})
    fast = cc_copy.write_file(src, tmp_path / "fast" / "copy.xlsx", LINES, STEPS)
    slow = cc_copy.write_with_library(src, tmp_path / "slow" / "copy.xlsx", LINES, STEPS)
    (lo_fast,), (lo_slow,) = resave([fast], "xlsx", tmp_path / "lo-fast"), resave([slow], "xlsx", tmp_path / "lo-slow")

    def seen(path):
        book = load_workbook(path)
        return book.sheetnames, {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in book.worksheets}

    assert seen(lo_fast) == seen(lo_slow)

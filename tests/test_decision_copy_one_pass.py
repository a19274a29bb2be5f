"""The copy returned after 退回修改 gets the case number in 「申请编号」 in the pass that annotates it
(``annotate_return(..., stamp=...)``), not by loading and saving the copy a second time. The reference is the
two-pass way (annotate, then ``act.stamp.stamp_field`` on the copy); both are compared part for part (Word)
and cell for cell with print setup (Excel) on real forms."""

from __future__ import annotations

import re
import zipfile

import docx
from docx.oxml.ns import qn
import openpyxl
import pytest
from support.e2e import DOCX_FORMS
from support.forms import build_blank, fill_docx, fill_xlsx, repo_specs
from support.sheets import differences

from automation import samples
from automation.act.decision_copy import reason_text
from automation.act.returns import annotate_return, annotate_xlsx_with_openpyxl
from automation.act.stamp import stamp_field
from automation.forms.spec import CASE_FIELD
from automation.problems.decision import returned_for_changes

NUMBER = "KH-202611-0007"
HEADER = {"申请编号": NUMBER, "结论": "退回修改", "审批人": "吴强", "原因": "请补充联系电话。",
          "处理时间": "2026-11-23 10:00"}


def _form(tmp_path, spec_id: str, values: dict, items=None):
    path = build_blank(spec_id, tmp_path / "blank")
    filler = fill_docx if spec_id in DOCX_FORMS else fill_xlsx
    return filler(path, {k: v for k, v in values.items() if v is not None}, items)


def _both(tmp_path, spec_id: str, values: dict, items=None, annotate=annotate_return):
    spec = repo_specs()[spec_id]
    source = _form(tmp_path, spec_id, values, items)
    problem = returned_for_changes(location=None, who="吴强", comment=reason_text("吴强", "请补充联系电话"),
                                   source="办事处经理审批")
    suffix = source.suffix
    reference, one_pass = tmp_path / f"reference{suffix}", tmp_path / f"one-pass{suffix}"
    annotate(source, reference, spec, [problem], header=HEADER)
    stamp_field(reference, spec, CASE_FIELD, NUMBER)
    annotate(source, one_pass, spec, [problem], header=HEADER, stamp={CASE_FIELD: NUMBER})
    return reference, one_pass


def _parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.mark.parametrize("spec_id,values", [
    ("customer_registration", lambda today: samples.customer_registration(8, today)),
    ("expense_claim", samples.expense_claim),
])
def test_excel_copy_returned_for_changes_in_one_pass_equals_the_two_pass_copy(tmp_path, spec_id, values):
    from datetime import date
    made = values(date(2026, 11, 23))
    reference, one_pass = _both(tmp_path, spec_id, *(made if isinstance(made, tuple) else (made,)))
    assert differences(reference, one_pass) == []
    wb = openpyxl.load_workbook(one_pass)
    sheet, ref = next(iter(wb.defined_names[CASE_FIELD].destinations))
    cell = wb[sheet][ref.replace("$", "")]
    assert (cell.value, cell.data_type) == (NUMBER, "s")
    assert wb.sheetnames[0] == "处理结果"
    # Part for part on the openpyxl path (the zip-level copy is re-serialized by stamp_field's save).
    reference, one_pass = _both(tmp_path / "openpyxl", spec_id, *(made if isinstance(made, tuple) else (made,)),
                                annotate=lambda src, dest, spec, problems, **kw:
                                annotate_xlsx_with_openpyxl(src, dest, problems, **kw))
    ref_parts, new_parts = _parts(reference), _parts(one_pass)
    assert sorted(ref_parts) == sorted(new_parts)
    for name in ref_parts:
        if name != "docProps/core.xml":  # openpyxl stamps the save time there
            assert _without_empty_rows(ref_parts[name]) == _without_empty_rows(new_parts[name]), name


def _without_empty_rows(xml: bytes) -> bytes:
    """A ``<row>`` without attributes or cells says nothing; openpyxl drops it when it loads a file again,
    so the two-pass copy has none (the copy of a 驳回, made in one pass as before, has them too)."""
    return re.sub(rb'<row r="\d+"(?:/>|></row>)', b"", xml)


@pytest.mark.parametrize("spec_id,values", [
    ("trip_request", samples.trip_request),
    ("complaint", samples.complaint),
])
def test_word_copy_returned_for_changes_in_one_pass_equals_the_two_pass_copy(tmp_path, spec_id, values):
    from datetime import date
    made = values(date(2026, 11, 23))
    reference, one_pass = _both(tmp_path, spec_id, *(made if isinstance(made, tuple) else (made,)))
    assert _parts(reference) == _parts(one_pass)
    body = docx.Document(str(one_pass)).element.body
    tagged = [sdt for sdt in body.iter(qn("w:sdt"))
              if (tag := sdt.find(f"{qn('w:sdtPr')}/{qn('w:tag')}")) is not None and tag.get(qn("w:val")) == CASE_FIELD]
    assert tagged and all("".join(t.text or "" for t in sdt.iter(qn("w:t"))) == NUMBER for sdt in tagged)

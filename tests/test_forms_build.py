"""Blank forms built from the specs: real files, opened with openpyxl / python-docx."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter, range_boundaries
from support.forms import FORMS, build_blank, fill_docx, fill_xlsx, repo_specs

from automation.forms.build import build_all, build_blank_forms_into
from automation.forms.docx_props import (
    CONTENT_TYPE,
    read_custom_properties,
    set_custom_properties,
)

XLSX = [k for k, s in repo_specs().items() if s.kind == "xlsx"]
DOCX = [k for k, s in repo_specs().items() if s.kind == "docx"]
FORMATS = {"money": "#,##0.00", "date": "yyyy-mm-dd", "percent": "0.00%", "integer": "0", "text": "@"}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("forms")
    build_all(repo_specs(), folder)
    return {k: folder / s.file_name for k, s in repo_specs().items()}


def _cell(wb, key):
    sheet, coord = next(iter(wb.defined_names[key].destinations))
    return wb[sheet][coord.replace("$", "")]


# --- Excel -------------------------------------------------------------------


@pytest.mark.parametrize("form_id", XLSX)
def test_every_field_has_a_defined_name_on_an_unlocked_input_cell(built, form_id):
    spec, wb = repo_specs()[form_id], load_workbook(built[form_id])
    assert wb.sheetnames == ["表单", "_officeflow"]  # the second: the hidden form marker
    for f in spec.fields:
        cell = _cell(wb, f.key)
        assert cell.parent.title == "表单" and cell.protection.locked is False, f.key
        label = cell.parent.cell(cell.row, cell.column - 1)
        assert label.value == (f.label + "*" if f.required else f.label)
        assert label.protection.locked is True
        assert cell.number_format == FORMATS.get(f.type, "@")


@pytest.mark.parametrize("form_id", XLSX)
def test_title_row_and_custom_properties(built, form_id):
    spec, wb = repo_specs()[form_id], load_workbook(built[form_id])
    ws = wb["表单"]
    assert ws["A1"].value == spec.title and ws["A1"].font.b
    assert any(str(r).startswith("A1:") for r in ws.merged_cells.ranges)
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    assert props == {"officeflow.form": form_id, "officeflow.version": "1.0"}


@pytest.mark.parametrize("form_id", XLSX)
def test_form_id_and_version_also_sit_in_a_hidden_protected_marker(built, form_id):
    wb = load_workbook(built[form_id])
    marker = wb["_officeflow"]
    assert marker.sheet_state == "veryHidden" and marker.protection.sheet is True
    assert [[c.value for c in row] for row in marker.iter_rows()] == [
        ["officeflow.form", form_id], ["officeflow.version", "1.0"]]
    assert wb.defined_names["OfficeFlow.form"].attr_text == f'"{form_id}|1.0"'


@pytest.mark.parametrize("form_id", XLSX)
def test_sheet_is_protected_but_lets_people_add_rows(built, form_id):
    ws = load_workbook(built[form_id])["表单"]
    assert ws.protection.sheet is True and ws.protection.password is None
    assert ws.protection.insertRows is False and ws.protection.formatRows is False
    assert int(ws.page_setup.paperSize) == 9 and ws.page_setup.orientation == "portrait"
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_area


@pytest.mark.parametrize("form_id", XLSX)
def test_choice_fields_get_a_dropdown_and_every_field_a_prompt(built, form_id):
    spec, wb = repo_specs()[form_id], load_workbook(built[form_id])
    ws = wb["表单"]
    by_cell = {str(r): dv for dv in ws.data_validations.dataValidation for r in dv.sqref.ranges}
    for f in spec.fields:
        dv = by_cell[_cell(wb, f.key).coordinate]
        assert dv.showInputMessage and dv.promptTitle == f.label and dv.prompt == f.help
        if f.choices:
            assert (dv.type, dv.formula1) == ("list", '"' + ",".join(f.choices) + '"')


@pytest.mark.parametrize("form_id", [k for k in XLSX if repo_specs()[k].tables])
def test_line_items_are_a_real_excel_table(built, form_id):
    t = repo_specs()[form_id].table("明细")
    ws = load_workbook(built[form_id])["表单"]
    table = ws.tables["明细"]
    assert table.tableStyleInfo.name == "TableStyleMedium2"
    min_col, top, max_col, bottom = range_boundaries(table.ref)
    assert [ws.cell(top, c).value for c in range(min_col, max_col + 1)] == [c.key for c in t.columns]
    assert bottom - top == t.rows
    assert all(ws.cell(r, c).protection.locked is False for r in range(top + 1, bottom + 1) for c in range(min_col, max_col + 1))
    ranges = {str(r) for dv in ws.data_validations.dataValidation for r in dv.sqref.ranges}
    for i, c in enumerate(t.columns):
        letter = get_column_letter(min_col + i)
        assert f"{letter}{top + 1}:{letter}{bottom}" in ranges
        assert ws.cell(top + 1, min_col + i).number_format == FORMATS.get(c.type, "@" if c.type != "number" else "#,##0.00")


def test_contract_amount_column_carries_the_template_formula(built):
    ws = load_workbook(built["sales_contract"])["表单"]
    _, top, _, _ = range_boundaries(ws.tables["明细"].ref)
    assert ws.cell(top + 1, 5).value == f'=IF(AND(C{top + 1}<>"",D{top + 1}<>""),ROUND(C{top + 1}*D{top + 1},2),"")'


def test_expense_category_column_has_the_dropdown(built):
    ws = load_workbook(built["expense_claim"])["表单"]
    lists = [dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert '"差旅,住宿,长途交通,市内交通,招待,通讯,办公用品,其他"' in lists


# --- Word --------------------------------------------------------------------


def _controls(path) -> dict:
    body = Document(str(path)).element.body
    return {sdt.find(f"{qn('w:sdtPr')}/{qn('w:tag')}").get(qn("w:val")): sdt for sdt in body.iter(qn("w:sdt"))}


@pytest.mark.parametrize("form_id", DOCX)
def test_every_field_is_a_tagged_content_control_of_its_type(built, form_id):
    spec, controls = repo_specs()[form_id], _controls(built[form_id])
    assert list(controls) == [f.key for f in spec.fields]
    for f in spec.fields:
        props = controls[f.key].find(qn("w:sdtPr"))
        assert props.find(qn("w:alias")).get(qn("w:val")) == f.label
        assert props.find(qn("w:showingPlcHdr")) is not None
        if f.choices:
            items = props.findall(f"{qn('w:dropDownList')}/{qn('w:listItem')}")
            assert [i.get(qn("w:value")) for i in items] == list(f.choices)
        elif f.type == "date":
            date = props.find(qn("w:date"))
            assert date.find(qn("w:dateFormat")).get(qn("w:val")) == "yyyy-MM-dd"
            assert date.find(qn("w:lid")).get(qn("w:val")) == "zh-CN"
        else:
            text = props.find(qn("w:text"))
            assert (text.get(qn("w:multiLine")) == "1") == f.multiline


@pytest.mark.parametrize("form_id", DOCX)
def test_word_form_has_title_a4_and_custom_properties(built, form_id):
    spec, doc = repo_specs()[form_id], Document(str(built[form_id]))
    assert doc.paragraphs[0].text == spec.title
    assert round(doc.sections[0].page_width.mm) == 210 and round(doc.sections[0].page_height.mm) == 297
    assert read_custom_properties(built[form_id]) == {"officeflow.form": form_id, "officeflow.version": "1.0"}
    with zipfile.ZipFile(built[form_id]) as zf:
        assert CONTENT_TYPE in zf.read("[Content_Types].xml").decode()
        assert "custom-properties" in zf.read("_rels/.rels").decode()


def test_word_line_items_table_has_the_column_keys_as_header(tmp_path):
    spec = repo_specs()["return_request"]
    from dataclasses import replace

    from automation.forms.build_docx import build_docx

    path = build_docx(replace(spec, kind="docx"), tmp_path / "退货.docx")
    table = Document(str(path)).tables[1]
    assert [c.text for c in table.rows[0].cells] == ["品名", "规格型号", "退货数量", "退货原因"]
    assert len(table.rows) == 1 + spec.table("明细").rows


def test_custom_properties_merge_and_survive_a_save(tmp_path):
    path = build_blank("trip_request", tmp_path)
    set_custom_properties(path, {"officeflow.version": "2.0", "部门代码": "<销售&一部>"})
    assert read_custom_properties(path) == {"officeflow.form": "trip_request", "officeflow.version": "2.0",
                                            "部门代码": "<销售&一部>"}
    Document(str(path)).save(str(path))
    assert read_custom_properties(path)["部门代码"] == "<销售&一部>"


# --- building ----------------------------------------------------------------


def test_build_all_without_overwrite_leaves_existing_forms_alone(tmp_path):
    first = build_all(repo_specs(), tmp_path)
    assert sorted(p.name for p in first) == sorted(s.file_name for s in repo_specs().values())
    target = tmp_path / "费用报销单.xlsx"
    target.write_bytes(b"edited by the office")
    assert build_all(repo_specs(), tmp_path, overwrite=False) == []
    assert target.read_bytes() == b"edited by the office"
    assert not list(tmp_path.glob("*.tmp"))


def test_build_blank_forms_into_a_new_workspace(tmp_path):
    for yaml in FORMS.glob("*.yaml"):
        shutil.copy(yaml, tmp_path)
    written = build_blank_forms_into(tmp_path)
    assert len(written) == len(list(FORMS.glob("*.yaml"))) and all(p.parent == tmp_path for p in written)


def test_shipped_blank_forms_match_their_specs():
    for form_id, spec in repo_specs().items():
        path = FORMS / spec.file_name
        assert path.exists(), f"请运行 officeflow forms build 生成 {spec.file_name}"
        assert read_custom_properties(path) == {"officeflow.form": form_id, "officeflow.version": spec.version}


# --- fixtures other tests rely on ---------------------------------------------


def test_fill_xlsx_beyond_the_blank_rows_moves_the_fields_below(tmp_path):
    path = build_blank("sales_contract", tmp_path)
    items = [{"品名": f"水泵{i}", "数量": i + 1, "单价": Decimal("10.00")} for i in range(14)]
    fill_xlsx(path, {"合同金额": Decimal("1050.00"), "申请日期": dt.date(2026, 11, 23)}, items)
    wb = load_workbook(path)
    ws = wb["表单"]
    _, top, _, bottom = range_boundaries(ws.tables["明细"].ref)
    assert bottom - top == 14 and ws.cell(bottom, 1).value == "水泵13"
    assert _cell(wb, "合同金额").value == 1050 and _cell(wb, "申请日期").value == dt.datetime(2026, 11, 23)
    assert ws.cell(_cell(wb, "合同金额").row, 1).value == "合同金额*"
    assert ws.cell(bottom, 5).value.startswith(f'=IF(AND(C{bottom}<>""')


def test_fill_docx_sets_text_and_clears_the_placeholder(tmp_path):
    path = build_blank("complaint", tmp_path)
    fill_docx(path, {"客户名称": "乙公司", "投诉日期": dt.date(2026, 1, 5), "投诉内容": "漏水\n二次上门"})
    controls = _controls(path)
    # itertext() repeats run text on python-docx elements; read the w:t nodes.
    assert "".join(t.text for t in controls["客户名称"].iter(qn("w:t"))) == "乙公司"
    assert controls["客户名称"].find(f"{qn('w:sdtPr')}/{qn('w:showingPlcHdr')}") is None
    assert controls["投诉日期"].find(f"{qn('w:sdtPr')}/{qn('w:date')}").get(qn("w:fullDate")).startswith("2026-01-05")
    assert controls["投诉内容"].find(f".//{qn('w:br')}") is not None
    assert controls["受理人"].find(f"{qn('w:sdtPr')}/{qn('w:showingPlcHdr')}") is not None


# --- LibreOffice -------------------------------------------------------------


@pytest.mark.usefixtures("soffice")  # skipped when absent, a failure under CI (conftest)
def test_libreoffice_converts_every_form_to_pdf(built, tmp_path):
    # A private profile: several test runs may use soffice at once.
    profile = f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}"
    files = [str(p) for p in built.values()]
    subprocess.run(["soffice", profile, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), *files],
                   check=True, timeout=180, capture_output=True)
    for path in built.values():
        pdf = tmp_path / (path.stem + ".pdf")
        assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF"), path.name


@pytest.mark.parametrize("form_id", [*XLSX, *DOCX])
def test_footer_names_the_form_and_edition_in_chinese_not_its_id(built, form_id):
    """The footer used to read 「OfficeFlow 表单 sales_contract · 版本 1.0」."""
    spec, path = repo_specs()[form_id], built[form_id]
    if spec.kind == "xlsx":
        texts = [str(c.value) for row in load_workbook(path)["表单"].iter_rows() for c in row if c.value]
    else:
        texts = [p.text for p in Document(str(path)).paragraphs]
    assert f"{spec.title} · 第 1 版" in texts
    assert not any(form_id in t or "版本" in t for t in texts)

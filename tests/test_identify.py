"""Identifying a dropped form: by its properties, else by title and names."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from docx import Document
from openpyxl import Workbook, load_workbook
from openpyxl.packaging.custom import StringProperty
from openpyxl.workbook.defined_name import DefinedName
from support.forms import (
    build_blank,
    fill_docx,
    fill_xlsx,
    repo_specs,
    strip_custom_properties,
    strip_markers,
)

from automation.errors import UnrecognisedFormError
from automation.forms.docx_props import set_custom_properties
from automation.identify.identify import identify

ALL = list(repo_specs())


@pytest.mark.parametrize("form_id", ALL)
def test_blank_form_is_identified_by_its_properties(tmp_path, form_id):
    spec = repo_specs()[form_id]
    path = build_blank(form_id, tmp_path)
    found, version, how = identify(path, spec.kind, repo_specs())
    assert (found.id, version, how) == (form_id, "1.0", "properties")


@pytest.mark.parametrize("form_id", ALL)
def test_form_without_properties_is_identified_by_its_hidden_marker(tmp_path, form_id):
    spec = repo_specs()[form_id]
    path = strip_custom_properties(build_blank(form_id, tmp_path))
    found, version, how = identify(path, spec.kind, repo_specs())
    assert (found.id, version, how) == (form_id, "1.0", "marker")


@pytest.mark.parametrize("form_id", ALL)
def test_form_without_properties_or_marker_is_identified_by_names(tmp_path, form_id):
    spec = repo_specs()[form_id]
    path = strip_markers(strip_custom_properties(build_blank(form_id, tmp_path)))
    found, version, how = identify(path, spec.kind, repo_specs())
    assert (found.id, version, how) == (form_id, None, "names")


def test_filled_forms_stay_identified_after_losing_properties(tmp_path):
    xlsx = fill_xlsx(build_blank("expense_claim", tmp_path), {"报销人": "张三", "合计金额": Decimal("120")},
                     [{"费用类别": "市内交通", "金额": Decimal("120")}])
    docx = fill_docx(build_blank("trip_request", tmp_path), {"申请人": "李四", "出差地点": "广州"})
    for path, kind, form_id in ((xlsx, "xlsx", "expense_claim"), (docx, "docx", "trip_request")):
        strip_custom_properties(path)
        assert identify(path, kind, repo_specs())[0].id == form_id


def test_title_alone_is_enough(tmp_path):
    wb = Workbook()
    wb.active["A1"] = " 费用 报销单 "
    wb.save(tmp_path / "手工表.xlsx")
    assert identify(tmp_path / "手工表.xlsx", "xlsx", repo_specs())[0].id == "expense_claim"


def test_sixty_percent_of_the_names_without_title_is_enough(tmp_path):
    spec = repo_specs()["customer_registration"]
    wb = Workbook()
    keys = [f.key for f in spec.fields]
    share = -(-len(keys) * 6 // 10)  # ceil: just enough
    for row, key in enumerate(keys[:share], start=1):
        wb.defined_names[key] = DefinedName(key, attr_text=f"'Sheet'!$B${row}")
    wb.save(tmp_path / "a.xlsx")
    assert identify(tmp_path / "a.xlsx", "xlsx", repo_specs())[0].id == "customer_registration"
    del wb.defined_names[keys[share - 1]]
    wb.save(tmp_path / "a.xlsx")
    with pytest.raises(UnrecognisedFormError) as info:
        identify(tmp_path / "a.xlsx", "xlsx", repo_specs())
    assert info.value.code == "form-unknown"


def test_unknown_workbook_is_refused_listing_the_known_forms(tmp_path):
    wb = Workbook()
    wb.active["A1"] = "年度预算"
    wb.save(tmp_path / "预算.xlsx")
    with pytest.raises(UnrecognisedFormError) as info:
        identify(tmp_path / "预算.xlsx", "xlsx", repo_specs())
    assert info.value.code == "form-unknown" and info.value.location == "预算.xlsx"
    assert all(spec.title in info.value.message for spec in repo_specs().values())


def test_unknown_word_document_is_refused(tmp_path):
    doc = Document()
    doc.add_paragraph("会议纪要")
    doc.save(tmp_path / "纪要.docx")
    with pytest.raises(UnrecognisedFormError) as info:
        identify(tmp_path / "纪要.docx", "docx", repo_specs())
    assert info.value.code == "form-unknown"


def test_properties_naming_a_form_of_the_other_kind_do_not_count(tmp_path):
    path = build_blank("trip_request", tmp_path)
    with pytest.raises(UnrecognisedFormError) as info:
        identify(path, "xlsx", repo_specs())
    assert info.value.code in ("form-unknown", "form-unreadable")


def test_unsupported_xlsx_version_is_refused_naming_both_versions(tmp_path):
    path = build_blank("sales_contract", tmp_path)
    wb = load_workbook(path)
    wb.custom_doc_props = type(wb.custom_doc_props)()
    wb.custom_doc_props.append(StringProperty(name="officeflow.form", value="sales_contract"))
    wb.custom_doc_props.append(StringProperty(name="officeflow.version", value="0.9"))
    wb.save(path)
    with pytest.raises(UnrecognisedFormError) as info:
        identify(path, "xlsx", repo_specs())
    assert info.value.code == "form-version-unsupported"
    assert "0.9" in info.value.message and "1.0" in info.value.message


def test_unsupported_docx_version_is_refused(tmp_path):
    path = build_blank("complaint", tmp_path)
    set_custom_properties(path, {"officeflow.version": "0.5"})
    with pytest.raises(UnrecognisedFormError) as info:
        identify(path, "docx", repo_specs())
    assert info.value.code == "form-version-unsupported" and "0.5" in info.value.message


def test_an_older_version_listed_as_accepted_is_taken(tmp_path):
    path = build_blank("complaint", tmp_path)
    set_custom_properties(path, {"officeflow.version": "0.5"})
    specs = {**repo_specs(), "complaint": replace(repo_specs()["complaint"], accepted_versions=("0.5",))}
    assert identify(path, "docx", specs)[1:] == ("0.5", "properties")


def test_a_file_that_is_no_office_package_is_unrecognised(tmp_path):
    path = tmp_path / "假表单.xlsx"
    path.write_text("这不是 Excel 文件", encoding="utf-8")
    with pytest.raises(UnrecognisedFormError) as info:
        identify(path, "xlsx", repo_specs())
    assert info.value.code == "form-unreadable" and info.value.location == "假表单.xlsx"

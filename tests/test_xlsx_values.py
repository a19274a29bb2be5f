"""The values-only workbook (forms/xlsx_values.py) reads exactly what openpyxl's full load reads.

Compared cell by cell — value, type, merged placeholders, sheet bounds — with
tables, defined names and the raw form values, on every blank form, filled forms,
the re-saved variants the repairs exist for, and real task files (the 审批 sheet
with its merged ranges, names and lists). Both of its readers are held to the full
load: the lean lxml reader (forms/xlsx_lean.py, the fast path) and openpyxl's own
parsers (``load_values_openpyxl``, the path for packages the lean reader does not
take); each comparison says which path it expects, so a fast path that silently
stopped applying fails too.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from support import producers
from support.e2e import CUSTOMER, office  # noqa: F401  (fixture)
from support.forms import build_blank, fill_xlsx, repo_specs
from support.xlsx_values import assert_reads_alike, projection

from automation import samples
from automation.forms import xlsx_lean
from automation.forms.xlsx_lean import NotLean, read_lean
from automation.forms.xlsx_values import load_values


_same = assert_reads_alike


XLSX_SPECS = sorted(k for k, spec in repo_specs().items() if spec.kind == "xlsx")


@pytest.mark.parametrize("spec_id", XLSX_SPECS)
def test_values_only_load_reads_every_blank_form_as_the_full_load(tmp_path, spec_id):
    _same(build_blank(spec_id, tmp_path), repo_specs()[spec_id])


VARIANTS = ("whole_column_merge", "empty_style_attributes", "style_index_out_of_range", "pivot_cache",
            "parts_outside_xl", "case_different_part_names", "backslash_part_names", "wps_workbook", "dispimg_cell",
            "libreoffice_calc", "x14_data_validations")


def test_values_only_load_reads_filled_and_resaved_forms_as_the_full_load(tmp_path):
    spec = repo_specs()["sales_contract"]
    values, items = samples.sales_contract(CUSTOMER, date(2026, 11, 23))
    form = fill_xlsx(build_blank("sales_contract", tmp_path / "f"), values, items)
    _same(form, spec)
    for name in VARIANTS:
        copy = tmp_path / name / form.name
        copy.parent.mkdir()
        copy.write_bytes(form.read_bytes())
        _same(getattr(producers, name)(copy), spec)


def test_values_only_load_reads_task_files_as_the_full_load(office):  # noqa: F811
    values = samples.customer_registration(3, office.today)
    office.submit("customer_registration", values)
    office.run()
    [task] = [p for p in office.files("approvals") if p.suffix == ".xlsx"]
    _same(task, repo_specs()["customer_registration"])


def _filled_sales_contract(folder: Path) -> Path:
    values, items = samples.sales_contract(CUSTOMER, date(2026, 11, 23))
    return fill_xlsx(build_blank("sales_contract", folder), values, items)


def test_a_package_with_a_dtd_is_read_by_openpyxls_reader_alike(tmp_path):
    form = _filled_sales_contract(tmp_path)

    def with_doctype(parts):
        for name in [n for n in parts if n.startswith("xl/worksheets/sheet")]:
            xml = parts[name].decode("utf-8")
            at = xml.index("?>") + 2 if xml.startswith("<?xml") else 0
            parts[name] = f'{xml[:at]}<!DOCTYPE worksheet [<!ELEMENT worksheet ANY>]>{xml[at:]}'.encode("utf-8")
        return parts

    producers.rewrite(form, with_doctype)
    with pytest.raises(NotLean):
        read_lean(form)
    _same(form, repo_specs()["sales_contract"], lean=False)


def test_merges_too_large_for_the_lean_reader_fall_back_alike(tmp_path, monkeypatch):
    form = _filled_sales_contract(tmp_path)
    monkeypatch.setattr(xlsx_lean, "MAX_MERGED", 10)
    with pytest.raises(NotLean):
        read_lean(form)
    _same(form, repo_specs()["sales_contract"], lean=False)


def test_lean_reader_types_dates_durations_booleans_errors_and_rich_text_as_openpyxl(tmp_path):
    """Cells our forms rarely hold, written by openpyxl and then edited at the XML level: each typed alike."""
    import openpyxl
    from datetime import datetime, time, timedelta

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "表单"
    ws["A1"], ws["B1"], ws["C1"], ws["D1"] = date(2026, 11, 23), datetime(2026, 11, 23, 9, 30), time(8, 15), True
    ws["E1"] = timedelta(hours=30)
    ws["E1"].number_format = "[h]:mm"
    ws["F1"], ws["G1"], ws["H1"] = 1.5, 12345678901, "=1/0"
    ws["A2"] = 2958466  # a "date" beyond datetime's range: openpyxl's reader makes it an error cell
    ws["A2"].number_format = "yyyy-mm-dd"
    ws["B2"], ws["C2"] = "x005F_文本", "  空格  "
    ws.merge_cells("A3:C4")
    path = tmp_path / "types.xlsx"
    wb.save(path)

    def edit(parts):
        xml = parts["xl/worksheets/sheet1.xml"].decode("utf-8")
        xml = xml.replace("</sheetData>", '<row r="6"><c r="A6" t="inlineStr"><is><r><t>富</t></r><r><t>文本</t></r>'
                          '<rPh sb="0" eb="1"><t>ふ</t></rPh></is></c><c r="B6" t="e"><v>#N/A</v></c>'
                          '<c r="C6" t="d"><v>2026-11-23T10:00:00</v></c><c r="D6" t="str"><v>公式文本</v></c>'
                          '<c r="E6" t="b"><v>0</v></c><c r="F6"><v>1E3</v></c><c r="G6" t="n"><v></v></c></row>'
                          '<row><c><v>7</v></c><c t="inlineStr"/></row></sheetData>')
        parts["xl/worksheets/sheet1.xml"] = xml.encode("utf-8")
        return parts

    producers.rewrite(path, edit)
    book = read_lean(path)
    full = openpyxl.load_workbook(path, data_only=True)
    assert projection(book) == projection(full)
    assert book["表单"]["A2"].data_type == "e" and book["表单"]["E1"].value == timedelta(hours=30)

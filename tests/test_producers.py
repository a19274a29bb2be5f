"""Files saved by other producers than Word and Excel, imitated structure by structure.

The fixtures (tests/support/producers.py) edit our own built forms so that
they carry what each producer really writes:

LibreOffice (Writer/Calc 7.x; the real program is exercised in
test_libreoffice_roundtrip.py):
- content controls with ``w:alias`` and no ``w:tag``; date and drop-down
  controls with neither; ``w:showingPlcHdr`` dropped, prompts left as text
  (``libreoffice_controls``);
- ``docProps/app.xml`` naming "LibreOffice…Calc"; no ``sharedStrings`` part when
  a workbook holds no text; a row-only ``<dimension ref="1:4"/>``.

Converters: content controls flattened to plain runs (``flattened_controls``);
label|value tables lost as well (``untabled_form``), where nothing can be read
with confidence.

Excel itself, as found in public test corpora: pivot caches, whole-column merges
(``A:A``), ``s=""``, a style index out of range, parts outside ``xl/``, part names
differing in case or written with backslashes, a workbook with no sheets, x14
data validations in a sheet's ``extLst`` (``x14_data_validations``), and "Strict
Open XML" (``strict_open_xml``: every namespace and three relationship types under
``http://purl.oclc.org/ooxml/``, ``conformance="strict"``), read after the
pipeline converts its private copy (automation/intake/strict.py).

WPS Office: ``KSOProductBuildVer`` and ``ICV`` custom properties beside ours,
an ``app.xml`` still naming the earlier producer, a ``wps.cn`` namespace on
sheets, fonts with ``charset="134"`` and 宋体, directory entries inside the zip,
images in cells as ``DISPIMG`` formulas with ``xl/cellimages.xml``, and a wrong
``<dimension ref="A1"/>``.
"""

from __future__ import annotations

import json
import shutil

import pytest
from docx import Document
from docx.oxml.ns import qn
from support.e2e import Office
from support.forms import build_blank, fill_docx, repo_specs
from support.producers import flattened_controls, libreoffice_controls, untabled_form

from automation import samples
from automation.extract.read import read_form
from automation.record import codec

TRIP = repo_specs()["trip_request"]


def _trip(office: Office, name: str, quirk) -> tuple[dict, object]:
    values = samples.trip_request(office.today)
    path = fill_docx(build_blank("trip_request", office.root.parent / name), values)
    quirk(path)
    shutil.move(str(path), office.root / "inbox" / name)
    office.run()
    return values, office.submissions()[-1]


@pytest.mark.parametrize("quirk", [libreoffice_controls, flattened_controls], ids=["alias-only", "flattened"])
def test_word_form_without_tags_is_read_by_alias_or_label(office, quirk):
    values, sub = _trip(office, "出差申请表.docx", quirk)
    assert (sub["outcome"], sub["reason_code"]) == ("archived", "accepted"), sub["reason"]
    case = office.case(form_id="trip_request")
    data = codec.loads(case["data"])
    assert data["申请人"] == "王芳" and data["出差地点"] == values["出差地点"]
    assert data["出发日期"] == values["出发日期"].isoformat() or data["出发日期"] == values["出发日期"]
    assert data["交通方式"] == values["交通方式"]
    archived = office.root / sub["dest_path"]
    assert read_form(archived, TRIP, "1.0", "properties").raw["申请编号"] is None  # its prompt text is not a value


def test_word_form_that_cannot_be_read_with_confidence_gets_the_specific_message(office):
    _, sub = _trip(office, "出差申请表 王芳.docx", untabled_form)
    assert (sub["outcome"], sub["reason_code"]) == ("returned", "form-controls-lost")
    assert "此文件可能由 WPS/LibreOffice 另存,表单控件已丢失。请用 Word 填写,或改用 Excel 版表单。" in sub["reason"]
    problems = json.loads(sub["problems"])
    assert [p["code"] for p in problems] == ["form-controls-lost"]  # never "every field missing"
    assert "表单中未找到该项" not in sub["reason"]
    # to the applicant's own folder: the file name names someone on the roster
    returned = office.root / sub["extra_path"]
    assert returned.parent == office.outbox / "requests" / "王芳"
    text = "".join(t.text or "" for t in Document(str(returned)).element.body.iter(qn("w:t")))
    assert "杭州" in text and "拜访客户" in text  # what the user typed is still there
    assert "表单控件已丢失" in text


def test_unreadable_word_form_without_a_name_on_the_roster_goes_to_unsigned(office):
    _, sub = _trip(office, "出差申请表.docx", untabled_form)
    assert sub["reason_code"] == "form-controls-lost"
    assert (office.root / sub["extra_path"]).parent == office.outbox / "requests" / "未署名"


def test_returned_copy_of_an_alias_only_form_keeps_every_typed_value(office):
    values = dict(samples.trip_request(office.today), 申请人="王芳", 返回日期=office.today)  # 返回 before 出发: invalid
    path = fill_docx(build_blank("trip_request", office.root.parent / "x"), values)
    libreoffice_controls(path)
    shutil.move(str(path), office.root / "inbox" / "出差.docx")
    office.run()
    sub = office.submissions()[-1]
    assert (sub["outcome"], sub["reason_code"]) == ("returned", "form-invalid")
    returned = office.root / sub["extra_path"]
    assert returned.parent == office.outbox / "requests" / "王芳"
    again = read_form(returned, TRIP, "1.0", "properties")
    assert again.raw["出差地点"] == "杭州" and again.raw["事由"] == values["事由"] and again.raw["申请人"] == "王芳"
    # the 处理结果 table on top names the fields too; its rows are never taken for the form's labels
    assert again.raw["返回日期"] == values["返回日期"].isoformat()


# --- Excel: real-world quirks, WPS and LibreOffice Calc ------------------------------------

from datetime import date  # noqa: E402
from decimal import Decimal  # noqa: E402

from support import producers as P  # noqa: E402
from support.forms import fill_xlsx  # noqa: E402

from automation.identify.identify import identify  # noqa: E402
from automation.intake.safety import inspect_file  # noqa: E402
from automation.settings import Limits  # noqa: E402

CLAIM = repo_specs()["expense_claim"]
READABLE = [P.whole_column_merge, P.empty_style_attributes, P.style_index_out_of_range, P.x14_data_validations, P.pivot_cache,
            P.parts_outside_xl, P.case_different_part_names, P.backslash_part_names, P.wps_workbook,
            P.libreoffice_calc]
CONVERTED = [P.strict_open_xml]  # read through the pipeline, which converts our private copy first
REFUSED = {P.no_sheets: "form-no-sheets"}
ENGLISH = __import__("re").compile(r"[A-Za-z]{3,}Error|Traceback|/tmp/|/work/|\\\\")


def _claim(folder, quirk=None):
    values, items = samples.expense_claim(date(2026, 11, 23))
    path = fill_xlsx(build_blank("expense_claim", folder), values, items)
    return quirk(path) if quirk else path


@pytest.mark.parametrize("quirk", READABLE, ids=lambda q: q.__name__)
def test_valid_workbook_quirks_are_read_like_the_clean_file(tmp_path, quirk):
    clean = read_form(_claim(tmp_path / "clean"), CLAIM, "1.0", "properties")
    path = _claim(tmp_path / "quirk", quirk)
    kind = inspect_file(path, Limits())
    spec, version, how = identify(path, kind, repo_specs())
    assert (spec.id, version, how) == ("expense_claim", "1.0", "properties")
    form = read_form(path, spec, version, how)
    assert form.values == clean.values and form.problems == []


@pytest.mark.parametrize("quirk", list(REFUSED), ids=lambda q: q.__name__)
def test_sheetless_workbook_gets_a_chinese_answer_saying_how_to_resave(office, quirk):
    path = _claim(office.root.parent / "q", quirk)
    shutil.move(str(path), office.root / "inbox" / "报销.xlsx")
    office.run()
    sub = office.submissions()[-1]
    assert (sub["outcome"], sub["reason_code"]) == ("returned", REFUSED[quirk])
    assert "另存为" in sub["reason"] and "Excel 工作簿 (*.xlsx)" in sub["reason"]
    assert not ENGLISH.search(sub["reason"])


@pytest.mark.parametrize("quirk", READABLE + CONVERTED + list(REFUSED), ids=lambda q: q.__name__)
def test_unknown_workbook_with_a_quirk_is_unrecognised_never_an_internal_error(office, quirk):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active["A1"] = "年度预算"
    wb.active["B2"] = 12
    wb.save(office.root.parent / "预算.xlsx")
    quirk(office.root.parent / "预算.xlsx")
    shutil.move(str(office.root.parent / "预算.xlsx"), office.root / "inbox" / "预算.xlsx")
    office.run()
    sub = office.submissions()[-1]
    assert sub["outcome"] == "returned" and sub["reason_code"] in ("form-unknown", *REFUSED.values()), sub["reason"]
    assert not ENGLISH.search(sub["reason"])


def test_check_answers_every_file_of_the_list_with_the_verdict_of_processing(office, tmp_path):
    files = [_claim(tmp_path / q.__name__, q) for q in READABLE + CONVERTED + list(REFUSED)]
    broken = tmp_path / "坏的.docx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    files.insert(1, broken)
    files.append(tmp_path / "不存在.xlsx")
    done = office.cli("check", "--json", *map(str, files))
    assert done.returncode in (0, 1), done.stderr
    answers = json.loads(done.stdout)["files"]
    assert [a["path"] for a in answers] == [str(f) for f in files]
    by_name = {a["path"]: a for a in answers}
    for quirk in READABLE + CONVERTED:
        answer = by_name[str(tmp_path / quirk.__name__ / "费用报销单.xlsx")]
        assert answer["form"] == "费用报销单", (quirk.__name__, answer)
        assert answer["problems"] == [], (quirk.__name__, answer)
    for quirk, code in REFUSED.items():
        answer = by_name[str(tmp_path / quirk.__name__ / "费用报销单.xlsx")]
        assert "另存为" in answer["problems"][0]["message"]
    for answer in answers[:-1]:  # (the missing file is named as the user typed it)
        for p in answer["problems"]:
            assert not ENGLISH.search(p["message"]), p["message"]


@pytest.mark.filterwarnings("ignore::UserWarning")  # openpyxl on the Strict original, asserted empty
def test_strict_open_xml_workbook_is_converted_read_and_routed_like_the_clean_file(office, tmp_path):
    from openpyxl import load_workbook

    from automation.intake.strict import is_strict

    clean = read_form(_claim(tmp_path / "clean"), CLAIM, "1.0", "properties")
    path = _claim(tmp_path / "strict", P.strict_open_xml)
    assert is_strict(path) and load_workbook(path).sheetnames == []  # what openpyxl alone makes of it
    shutil.move(str(path), office.root / "inbox" / "报销.xlsx")
    office.run()
    sub = office.submissions()[-1]
    assert (sub["outcome"], sub["reason_code"]) == ("archived", "accepted"), sub["reason"]
    assert "Strict Open XML" in sub["reason"] and "转换" in sub["reason"]
    archived = office.root / sub["dest_path"]
    assert not is_strict(archived)  # what was read is what is archived, and what task files are made from
    assert read_form(archived, CLAIM, "1.0", "properties").values == clean.values
    case = office.case(form_id="expense_claim")
    assert case["status"] == "in_approval"
    [entry] = office.audit("file-archived")
    assert "Strict Open XML" in codec.loads(entry["detail"])["原因"]


def test_strict_open_xml_word_form_is_converted_and_read(office):
    values, sub = _trip(office, "出差申请表.docx", P.strict_open_xml)
    assert (sub["outcome"], sub["reason_code"]) == ("archived", "accepted"), sub["reason"]
    data = codec.loads(office.case(form_id="trip_request")["data"])
    assert data["出差地点"] == values["出差地点"] and data["申请人"] == "王芳"


def test_xlsm_without_a_vba_project_is_a_workbook_not_a_macro_file(office, tmp_path):
    path = _claim(tmp_path)

    def macro_type(parts):
        parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
            b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
        return parts

    P.rewrite(path, macro_type)
    shutil.move(str(path), office.root / "inbox" / "报销.xlsm")
    office.run()
    sub = office.submissions()[-1]
    assert sub["reason_code"] != "file-macro" and sub["outcome"] == "archived", sub["reason"]


def test_workbook_with_a_vba_project_part_is_refused_whatever_its_content_type(office, tmp_path):
    path = _claim(tmp_path)
    P.rewrite(path, lambda parts: {**parts, "xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\x00" * 60})
    shutil.move(str(path), office.root / "inbox" / "报销.xlsx")
    office.run()
    assert office.submissions()[-1]["reason_code"] == "file-macro"


def test_genuine_sheet_compressing_121_times_is_not_a_zip_bomb(tmp_path):
    path = _claim(tmp_path)
    import random
    import zipfile

    noise = random.Random(7).randbytes(21000).hex()  # what makes a real sheet less than perfectly repetitive

    def padded(parts):
        sheet = parts["xl/worksheets/sheet1.xml"].decode("utf-8")
        rows = '<row><c t="inlineStr"><is><t>重复的内容</t></is></c></row>' * 80000
        parts["xl/worksheets/sheet1.xml"] = sheet.replace(
            "</sheetData>", rows + "</sheetData><!--" + noise + "-->").encode("utf-8")
        return parts

    P.rewrite(path, padded)
    info = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size > 4 * 1024 * 1024 and 110 < info.file_size / info.compress_size < 190
    assert inspect_file(path, Limits()) == "xlsx"


@pytest.mark.parametrize("suffix,mimetype", [(".ods", "application/vnd.oasis.opendocument.spreadsheet"),
                                             (".odt", "application/vnd.oasis.opendocument.text")])
def test_odf_files_are_answered_please_save_as_xlsx_or_docx(office, suffix, mimetype):
    import zipfile

    path = office.root / "inbox" / f"报销{suffix}"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), mimetype)
        zf.writestr("content.xml", "<office:document-content xmlns:office='urn:oasis:names:tc:opendocument:xmlns:office:1.0'/>")
    office.run()
    sub = office.submissions()[-1]
    assert (sub["outcome"], sub["reason_code"]) == ("returned", "file-legacy-format")
    assert "请另存为 .xlsx/.docx" in sub["reason"] and "OpenDocument" in sub["reason"]


@pytest.mark.parametrize("suffix,label", [(".et", "WPS 表格"), (".wps", "WPS 文字"), (".xls", "Excel 97-2003"),
                                          (".doc", "Word 97-2003")])
def test_wps_and_legacy_files_are_answered_please_save_as_xlsx_or_docx(office, suffix, label):
    from support import bad_files

    stream = "WordDocument" if suffix in (".doc", ".wps") else "Workbook"
    legacy = bad_files.legacy_ole(office.root.parent, stream=stream)
    shutil.move(str(legacy), office.root / "inbox" / f"旧表{suffix}")
    office.run()
    sub = office.submissions()[-1]
    assert (sub["outcome"], sub["reason_code"]) == ("returned", "file-legacy-format")
    assert label in sub["reason"] and "请另存为 .xlsx/.docx" in sub["reason"]


def test_wps_workbook_keeps_its_kso_properties_and_is_read(office, tmp_path):
    path = _claim(tmp_path, P.wps_workbook)
    from automation.identify.package import Package

    with Package(path) as pkg:
        props = pkg.custom_properties()
        assert props["KSOProductBuildVer"].startswith("2052-") and "ICV" in props
        assert pkg.has("xl/cellimages.xml")
    shutil.move(str(path), office.root / "inbox" / "报销.xlsx")
    office.run()
    sub = office.submissions()[-1]
    assert (sub["outcome"], sub["reason_code"]) == ("archived", "accepted"), sub["reason"]
    assert office.case(form_id="expense_claim")["amount"] in (Decimal("86.00"), 86, "86.00")


def test_form_identified_by_its_hidden_marker_says_so_in_the_audit_entry(office, tmp_path):
    from support.forms import strip_custom_properties

    path = strip_custom_properties(_claim(tmp_path))
    shutil.move(str(path), office.root / "inbox" / "报销.xlsx")
    office.run()
    sub = office.submissions()[-1]
    assert (sub["outcome"], sub["reason_code"]) == ("archived", "accepted")
    [entry] = [a for a in office.audit("file-archived")]
    assert "按表单内的隐藏标记识别" in codec.loads(entry["detail"])["原因"]


@pytest.mark.parametrize("quirk", [flattened_controls], ids=["flattened"])
def test_word_task_file_without_controls_keeps_its_fingerprint_despite_the_summary_table(customer_office, quirk):
    """A complaint's 投诉编号 is blank in the form but shown (the case's number) in the task file's
    申请信息 summary above it; once the controls are gone (ODF round trip, flattening converters)
    the summary's rows must not be taken for the form's label cells, or a kept value reads as changed."""
    from support.e2e import CUSTOMER

    from automation.decide.integrity import fingerprints
    from automation.decide.officefile import read_inputs
    from automation.record import schema as s

    office = customer_office
    office.submit("complaint", samples.complaint(office.today, customer=CUSTOMER))
    office.run()
    case = office.case(form_id="complaint")
    [task] = office.rows(s.tasks, s.tasks.c.case_id == case["id"], s.tasks.c.status == "open")
    path = office.root / task["file_path"]
    spec = repo_specs()["complaint"]
    assert task["fingerprint"] in fingerprints(path, spec)
    quirk(path)
    assert task["fingerprint"] in fingerprints(path, spec)
    assert set(read_inputs(path).values()) == {None}  # the inputs' prompts, left as plain text, are blank

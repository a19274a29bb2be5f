from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
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

from automation.extract.read import read_form, read_raw
from automation.record.codec import fingerprint

D = Decimal


@pytest.fixture
def spec(tmp_path):
    return test_spec(tmp_path)


@pytest.fixture
def docx_spec(tmp_path):
    return test_spec(tmp_path, "docx")


EXPECTED = {
    "客户名称": "华东机电有限公司", "统一社会信用代码": "91350100M000100Y43", "合同金额": D("1234.50"),
    "合同金额大写": D("1234.50"), "折扣率": D("0.05"), "账期天数": 30, "付款方式": "账期",
    "签订日期": date(2026, 11, 23), "联系电话": "13812345678", "报价单号": "BJ-0001",
    "回访日期": [date(2026, 11, 30), date(2026, 12, 5)], "申请人": "张三",
    "明细": [{"品名": "电机", "数量": D("2"), "单价": D("500.00"), "金额": D("1000.00")},
           {"品名": "线缆", "数量": D("3"), "单价": D("78.17"), "金额": D("234.51")}],
}


def test_xlsx_round_trip_gives_typed_values_and_cells(tmp_path, spec):
    path = make_xlsx(tmp_path / "f.xlsx", spec, GOOD, GOOD_ITEMS)
    form = read_form(path, spec, "1.0", "properties")
    assert form.problems == []
    assert form.values == EXPECTED
    assert form.locations["合同金额"] == f"表单!{field_cell(spec, '合同金额')}"
    assert form.row_locations[("明细", 2, "单价")] == f"表单!{item_cell(spec, 2, '单价')}"
    assert form.version == "1.0" and form.identified_by == "properties" and form.applicant == "张三"


def test_docx_round_trip_gives_the_same_values(tmp_path, docx_spec):
    path = make_docx(tmp_path / "f.docx", docx_spec, GOOD, GOOD_ITEMS)
    form = read_form(path, docx_spec, None, "names")
    assert form.problems == []
    assert form.values == EXPECTED
    assert form.locations["客户名称"] == "控件:客户名称"


def test_docx_placeholder_is_blank_and_line_breaks_are_kept(tmp_path, docx_spec):
    values = dict(GOOD, 客户名称=None, 回访日期="2026-11-30\n2026-12-05")
    path = make_docx(tmp_path / "f.docx", docx_spec, values, GOOD_ITEMS)
    raw, _, _ = read_raw(path, docx_spec)
    assert raw["客户名称"] is None
    assert raw["回访日期"] == "2026-11-30\n2026-12-05"


def test_each_bad_value_is_caught_at_its_own_cell(tmp_path, spec):
    values = dict(GOOD, 合同金额="一千", 签订日期="2026-02-30", 联系电话="12345", 统一社会信用代码="91350100M000100Y44")
    items = [GOOD_ITEMS[0], {"品名": "线缆", "数量": "三", "单价": "78.17", "金额": "234.51"}]
    form = read_form(make_xlsx(tmp_path / "f.xlsx", spec, values, items), spec, "1.0", "properties")
    found = sorted((p.location, p.code, p.row) for p in form.problems)
    assert found == sorted([
        (f"表单!{field_cell(spec, '合同金额')}", "money-invalid", None),
        (f"表单!{field_cell(spec, '签订日期')}", "date-invalid", None),
        (f"表单!{field_cell(spec, '联系电话')}", "phone-invalid", None),
        (f"表单!{field_cell(spec, '统一社会信用代码')}", "credit-code-invalid", None),
        (f"表单!{item_cell(spec, 2, '数量')}", "number-invalid", 2),
    ])
    assert form.values["合同金额"] is None and form.values["明细"][1]["数量"] is None


def test_blank_rows_are_skipped_and_rows_numbered_by_position_among_filled_ones(tmp_path, spec):
    items = [GOOD_ITEMS[0], {}, {"品名": "  "}, GOOD_ITEMS[1]]
    form = read_form(make_xlsx(tmp_path / "f.xlsx", spec, GOOD, items), spec, "1.0", "properties")
    assert [row["品名"] for row in form.values["明细"]] == ["电机", "线缆"]
    assert form.row_locations[("明细", 2, "品名")] == f"表单!{item_cell(spec, 4, '品名')}"


def test_uncalculated_amount_formula_is_computed_from_quantity_and_price(tmp_path, spec):
    items = [{"品名": "电机", "数量": 3, "单价": "33.33"}]
    path = make_xlsx(tmp_path / "f.xlsx", spec, GOOD, items, amount_formula=True)
    form = read_form(path, spec, "1.0", "properties")
    assert form.values["明细"] == [{"品名": "电机", "数量": D("3"), "单价": D("33.33"), "金额": D("99.99")}]


def test_formula_in_a_field_without_cached_value_is_blank(tmp_path, spec):
    path = make_xlsx(tmp_path / "f.xlsx", spec, dict(GOOD, 合同金额="=SUM(1,2)"), GOOD_ITEMS)
    form = read_form(path, spec, "1.0", "properties")
    assert form.values["合同金额"] is None and form.problems == []


def test_sheet_scoped_names_are_found(tmp_path, spec):
    path = make_xlsx(tmp_path / "f.xlsx", spec, GOOD, GOOD_ITEMS, scoped_names=True)
    assert read_form(path, spec, "1.0", "properties").values == EXPECTED


def test_cells_outside_defined_names_are_never_read(tmp_path, spec):
    path = make_xlsx(tmp_path / "f.xlsx", spec, GOOD, GOOD_ITEMS)
    raw, locations, _ = read_raw(path, spec)
    assert "旁注:这里的字不应被读取" not in repr(raw)
    assert set(raw) == {f.key for f in spec.fields} | {"明细"}


def test_field_missing_from_the_file_reads_as_blank(tmp_path, spec):
    path = make_xlsx(tmp_path / "f.xlsx", spec, GOOD, GOOD_ITEMS)
    book = load_workbook(path)
    del book.defined_names["报价单号"]
    book.save(path)
    form = read_form(path, spec, "1.0", "properties")
    assert form.values["报价单号"] is None and "报价单号" not in form.locations


def test_read_raw_is_stable_and_does_not_touch_the_file(tmp_path, spec):
    path = make_xlsx(tmp_path / "f.xlsx", spec, GOOD, GOOD_ITEMS)
    before = path.read_bytes()
    first, second = read_raw(path, spec), read_raw(Path(str(path)), spec)
    assert first == second
    assert fingerprint(first[0]) == fingerprint(second[0])
    assert path.read_bytes() == before


def test_changed_value_changes_the_fingerprint(tmp_path, spec):
    a = make_xlsx(tmp_path / "a.xlsx", spec, GOOD, GOOD_ITEMS)
    b = make_xlsx(tmp_path / "b.xlsx", spec, dict(GOOD, 合同金额="1234.51"), GOOD_ITEMS)
    assert fingerprint(read_raw(a, spec)[0]) != fingerprint(read_raw(b, spec)[0])

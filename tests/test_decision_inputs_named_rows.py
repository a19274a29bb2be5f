"""An Excel task file's inputs are read from the 审批 sheet's named rows only (forms.xlsx_lean's
``named_rows_only``): the inputs and the form's values are those of the whole read, a row that would make
the lean reader decline still does so (the slow path then decides), and the decision stands either way.
Real task files written by the real writer, decided with the approver's own gesture (set_named)."""

from __future__ import annotations

import re
import shutil
import zipfile

import pytest
from support.e2e import Office, set_named

from automation import samples
from automation.decide.officefile import APPROVAL_SHEETS, INPUT_NAMES, read_inputs, xlsx_named_value
from automation.forms import raw as raw_module
from automation.forms import xlsx_reader
from automation.forms.xlsx_lean import NotLean, read_lean
from automation.forms.raw import read_raw
from automation.forms.xlsx_reader import read_xlsx

INPUTS = {"审批结论": "同意", "审批意见": "可以 & <好>", "转交给": "张三"}


@pytest.fixture(scope="module")
def task_file(tmp_path_factory):
    office = Office.create(tmp_path_factory.mktemp("named_rows"))
    office.submit("customer_registration", samples.customer_registration(7, office.today))
    office.run()
    approvals = office.outbox / "approvals"
    path = next(p for person in approvals.iterdir() if person.is_dir() for p in person.iterdir() if p.suffix == ".xlsx")
    filled = tmp_path_factory.mktemp("filled") / path.name
    shutil.copy(path, filled)
    set_named(filled, INPUTS)
    yield office, filled
    office.close()


def _clear():
    xlsx_reader._HANDED_ON.clear()
    raw_module._READ.clear()


def test_named_rows_give_the_inputs_of_the_whole_read(task_file):
    _, path = task_file
    whole, part = read_lean(path), read_lean(path, named_rows_only=APPROVAL_SHEETS)
    for name in INPUT_NAMES:
        assert xlsx_named_value(part, name) == xlsx_named_value(whole, name), name
    assert xlsx_named_value(part, "审批意见") == "可以 & <好>"
    # Only the inputs' rows hold cells on 审批; every other sheet is whole.
    assert {r for r, _ in part["审批"]._cells} <= set(range(29, 35)) < {r for r, _ in whole["审批"]._cells}
    for title in whole.sheetnames:
        if title not in APPROVAL_SHEETS:
            assert {k: (c.value, c.data_type) for k, c in part[title]._cells.items()} == \
                   {k: (c.value, c.data_type) for k, c in whole[title]._cells.items()}, title


def test_read_inputs_and_the_form_handed_on_match_the_whole_read(task_file):
    office, path = task_file
    _clear()
    inputs = read_inputs(path)
    assert inputs["审批结论"] == "同意" and inputs["转交给"] == "张三"
    spec = office.rt.specs["customer_registration"]
    assert len(xlsx_reader._HANDED_ON) == 1
    handed = read_xlsx(path, spec)  # takes the (partial) book read_inputs handed on
    assert not xlsx_reader._HANDED_ON
    _clear()
    assert handed == read_xlsx(path, spec) == read_raw(path, spec)  # the whole read, twice


def _with_approval_sheet(path, tmp_path, edit) -> bytes:
    """The task file's bytes with the 审批 sheet's XML changed by ``edit``."""
    with zipfile.ZipFile(path) as z:
        workbook = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        rid = re.search(r'name="审批"[^>]*r:id="(rId\d+)"', workbook).group(1)
        target = re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"|Target="([^"]+)"[^>]*Id="{rid}"', rels)
        part = "xl/" + (target.group(1) or target.group(2)).lstrip("/").removeprefix("xl/")
        out = tmp_path / "edited.xlsx"
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as w:
            for info in z.infolist():
                data = z.read(info.filename)
                w.writestr(info, edit(data.decode()).encode() if info.filename == part else data)
    return out.read_bytes()


@pytest.mark.parametrize("damage", [
    lambda xml: xml.replace('<c r="A2"', '<x/><c r="A2"', 1),  # not a cell, in row 2 (not an input's)
    lambda xml: xml.replace('<c r="A2" s="15"', '<c r="A2" s="9999"', 1),  # a style the styles part lacks
])
def test_a_row_not_taken_still_makes_the_lean_reader_decline(task_file, tmp_path, damage):
    _, path = task_file
    data = _with_approval_sheet(path, tmp_path, damage)
    assert data != path.read_bytes()
    with pytest.raises(NotLean):
        read_lean(data)
    with pytest.raises(NotLean):
        read_lean(data, named_rows_only=APPROVAL_SHEETS)


def test_a_cell_of_an_input_row_written_under_another_row_is_read_whole(task_file, tmp_path):
    _, path = task_file
    data = _with_approval_sheet(path, tmp_path, lambda xml: xml.replace('<c r="A2"', '<c r="A29"', 1))
    read_lean(data)  # the whole read takes it
    with pytest.raises(NotLean):
        read_lean(data, named_rows_only=APPROVAL_SHEETS)  # so the inputs are read whole (the slow path: openpyxl)


def test_a_malformed_approval_sheet_is_refused_by_the_lean_reader(task_file, tmp_path):
    _, path = task_file
    data = _with_approval_sheet(path, tmp_path, lambda xml: xml.replace("</sheetData>", "<row></sheetData>", 1))
    with pytest.raises(Exception):
        read_lean(data, named_rows_only=APPROVAL_SHEETS)

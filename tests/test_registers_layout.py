"""Register columns sized from their data so that they print one page wide at a readable size."""

from datetime import datetime

import openpyxl
from support.printing import populate_many
from support.registers import TODAY, make_settings, make_store

from automation.record.registers.definitions import REGISTERS, weekdays_between
from automation.record.registers.layout import column_layout, page_budget, text_width
from automation.record.registers.render import rebuild_all
from automation.record.registers.writer import write_register

RETURNS = REGISTERS["退货台账"]


def test_short_values_get_narrow_columns_and_nothing_wraps():
    rows = [("TH-1", "HT-1", "螺丝", 1, "坏了", "已批准")]
    layouts = column_layout(RETURNS, rows)
    assert not any(layout.wrap for layout in layouts)
    assert layouts[4].width == text_width("原因") + 3  # the header (and its filter button) decides


def test_a_register_wider_than_the_page_wraps_its_longest_text_columns(tmp_path):
    store = make_store(tmp_path)
    populate_many(store, 50)
    settings = make_settings(tmp_path)
    rebuild_all(store, settings, today=TODAY, workdays_between=weekdays_between)
    ws = openpyxl.load_workbook(settings.registers / "合同台账.xlsx")["合同台账"]
    header = [c.value for c in ws[2]]
    widths = [ws.column_dimensions[openpyxl.utils.get_column_letter(i + 1)].width for i in range(len(header))]
    assert sum(widths) <= page_budget(len(header)) + len(header)  # files store each width plus padding
    wrapped = {h for h, cell in zip(header, ws[3]) if cell.alignment.wrap_text}
    assert "文件" in wrapped and "合同编号" not in wrapped
    assert ws.row_dimensions[3].height and ws.row_dimensions[3].height >= 30  # tall enough for every line
    assert ws.print_title_rows.replace("$", "") == "2:2" and ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)
    assert ws.page_setup.fitToHeight == 0  # as many pages long as needed


def test_the_note_is_wrapped_inside_the_printed_width(tmp_path):
    path = tmp_path / "退货台账.xlsx"
    write_register(path, RETURNS, [("TH-1", "HT-1", "螺丝", 1, "坏了", "已批准")], rendered_at=datetime(2026, 11, 23, 9))
    wb = openpyxl.load_workbook(path)
    assert any(str(r).startswith("A1:") for r in wb["退货台账"].merged_cells.ranges)
    summary = wb["汇总"]
    assert any(str(r) == "A1:C1" for r in summary.merged_cells.ranges) and summary["A1"].alignment.wrap_text
    assert summary.page_setup.paperSize in (9, "9") and summary.sheet_properties.pageSetUpPr.fitToPage


def test_a_width_fixed_by_the_definition_is_kept_and_longer_text_wraps_in_it():
    """A form spec's register column may fix its width (``width: 16``); without one the data decides."""
    from automation.record.registers.definitions import Column, RegisterDef

    register = RegisterDef("测试台账", "Test", (Column("编号"), Column("备注", "text", 16)), rows=lambda conn, ctx: [],
                           tables=frozenset())
    [number, note] = column_layout(register, [("QJ-202611-0001", "短")])
    assert (note.width, note.wrap) == (16, False) and number.width == text_width("QJ-202611-0001") + 1
    [_, note] = column_layout(register, [("QJ-202611-0001", "很长的备注文字" * 4)])
    assert (note.width, note.wrap) == (16, True)

from collections import Counter
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from support.printing import populate_many
from support.registers import INJECTIONS, TODAY, cell_rows, make_settings, make_store, populate

from automation.record.registers.dashboard import DATA_SHEET, NO_DATA, render_dashboard, week_label
from automation.record.registers.definitions import weekdays_between
from automation.record.registers.render import rebuild_all

TOPICS = ["待办", "超时", "审批用时", "合同与回款", "投诉", "每周申请"]


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    root = tmp_path_factory.mktemp("dash")
    store = make_store(root)
    populate(store)
    path = make_settings(root).registers / "看板.xlsx"
    render_dashboard(store, path, today=TODAY, workdays_between=weekdays_between)
    return path


def blocks(ws) -> dict[str, list[tuple]]:
    """The 数据 sheet's blocks: title → rows (first column and the values beside it)."""
    found, title, rows = {}, None, None
    for row in ws.iter_rows(min_row=3, values_only=True):
        if row[0] is None:
            title = None
            continue
        if title is None:
            title, rows, header = row[0], [], True
            found[title] = rows
            continue
        if header:
            header = False
            continue
        rows.append(tuple(v for v in row if v is not None) if row[0] != NO_DATA else ())
    return found


def test_dashboard_has_one_sheet_per_topic_each_with_its_chart(board):
    wb = openpyxl.load_workbook(board)
    assert wb.sheetnames == [*TOPICS, DATA_SHEET]
    for name in TOPICS:
        ws = wb[name]
        assert len(ws._charts) == 1, name
        assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
        assert ws.page_setup.fitToHeight == 1 and ws.page_setup.fitToWidth == 1  # one page: the chart is never split
    assert wb["待办"]._charts[0].grouping == "stacked" and wb["审批用时"]._charts[0].type == "bar"
    labels = [c for row in wb[DATA_SHEET].iter_rows() for c in row if isinstance(c.value, str)]
    assert all(c.data_type == "s" for c in labels)
    assert any(c.value.startswith(INJECTIONS[0]) for c in labels)


def test_dashboard_figures(board):
    data = blocks(openpyxl.load_workbook(board)[DATA_SHEET])
    assert data["超时未办的申请(按部门)"] == [("销售一部", 1)]
    assert data["审批用时(按审批步骤)"] == [("部门经理", 3, 1)]
    assert data["投诉办结情况(按投诉月份)"] == [("2026-10", 4, 0, 0, 1), ("2026-11", 0, 0, 1)]
    holders = dict((row[0], row[-1]) for row in data["待办申请(按审批人与已等待工作日)"])
    assert holders["李经理"] >= 1 and holders["王经理"] >= 1


def test_weeks_are_labelled_by_the_dates_they_cover():
    assert week_label(date(2026, 11, 25)) == "2026-11-23 至 11-29"
    assert week_label(date(2026, 12, 31)) == "2026-12-28 至 2027-01-03"


def test_an_empty_office_says_no_data_instead_of_empty_axes(tmp_path):
    store = make_store(tmp_path)
    path = tmp_path / "看板.xlsx"
    render_dashboard(store, path, today=TODAY, workdays_between=weekdays_between)
    wb = openpyxl.load_workbook(path)
    for name in TOPICS:
        assert wb[name]._charts == [], name
        assert any(NO_DATA in str(c.value) for row in wb[name].iter_rows() for c in row if c.value), name


def _register(folder, name):
    ws = openpyxl.load_workbook(folder / f"{name}.xlsx")[name]
    header = [c.value for c in ws[2]]
    return [dict(zip(header, (c.value for c in row))) for row in cell_rows(ws)]


def test_dashboard_counts_agree_with_the_registers(tmp_path):
    """看板 said 「根据 2 条记录」 while 审批台账 listed 4 cases."""
    store = make_store(tmp_path)
    populate_many(store, 120)
    settings = make_settings(tmp_path)
    rebuild_all(store, settings, today=TODAY, workdays_between=weekdays_between)
    folder = settings.registers
    wb = openpyxl.load_workbook(folder / "看板.xlsx")
    data = blocks(wb[DATA_SHEET])
    cases = _register(folder, "审批台账")
    assert f"根据 {len(cases)} 件申请" in wb[DATA_SHEET]["A1"].value
    assert sum(sum(row[1:]) for row in data["每周提交的申请(按表单)"]) == len(cases)
    overdue = Counter(r["部门"] for r in cases if r["是否超时"] == "是")
    assert dict(data["超时未办的申请(按部门)"]) == dict(overdue)
    holders = Counter(name for r in cases if r["当前审批人"] for name in r["当前审批人"].split("、"))
    assert {row[0]: row[-1] for row in data["待办申请(按审批人与已等待工作日)"]} == dict(holders)
    contracts = _register(folder, "合同台账")
    by_month = Counter(f"{r['签订日期']:%Y-%m}" for r in contracts)
    amounts = {row[0]: Decimal(str(row[1])) for row in data["合同与回款(按签订月份)"]}
    assert {row[0]: row[3] for row in data["合同与回款(按签订月份)"] if row[0] in by_month} == dict(by_month)
    assert sum(amounts.values()) == sum(Decimal(str(r["合同金额"])) for r in contracts)
    customers = _register(folder, "客户台账")
    assert sum(Decimal(str(row[2])) for row in data["合同与回款(按签订月份)"]) == \
        sum(Decimal(str(r["未收款"])) for r in customers)
    complaints = _register(folder, "投诉台账")
    assert sum(sum(row[1:4]) for row in data["投诉办结情况(按投诉月份)"]) == len(complaints)

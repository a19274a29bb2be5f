import shutil
import subprocess

import openpyxl
import pytest
from support.registers import INJECTIONS, TODAY, make_settings, make_store, populate

from automation.record.registers.dashboard import render_dashboard
from automation.record.registers.definitions import weekdays_between


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    root = tmp_path_factory.mktemp("dash")
    store = make_store(root)
    populate(store)
    path = make_settings(root).registers / "看板.xlsx"
    render_dashboard(store, path, today=TODAY, workdays_between=weekdays_between)
    return path


def test_dashboard_has_four_charts_beside_its_data(board):
    wb = openpyxl.load_workbook(board)
    assert wb.sheetnames == ["看板", "数据"]
    charts = wb["看板"]._charts
    assert [type(c).__name__ for c in charts] == ["BarChart", "BarChart", "BarChart", "LineChart"]
    assert charts[0].grouping == "stacked" and charts[1].type == "bar"
    data = wb["数据"]
    assert data["A1"].value == "每周案件数(按表单与结果)"
    labels = [c for row in data.iter_rows() for c in row if isinstance(c.value, str)]
    assert all(c.data_type == "s" for c in labels)
    assert any(c.value.startswith(INJECTIONS[0]) for c in labels)


def _pairs(ws, header: str) -> list[tuple]:
    col = next(c.column for c in ws[2] if c.value == header)
    return [(ws.cell(r, col).value, ws.cell(r, col + 1).value)
            for r in range(3, ws.max_row + 1) if ws.cell(r, col).value is not None]


def test_dashboard_figures(board):
    data = openpyxl.load_workbook(board)["数据"]
    assert _pairs(data, "部门") == [("销售一部", 1)]
    assert _pairs(data, "审批人") == [("赵财务", 3)]
    assert _pairs(data, "月份") == [("2026-10", 1)]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_libreoffice_renders_the_dashboard_to_pdf(board, tmp_path):
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(board)],
                   check=True, capture_output=True, timeout=120)
    pdf = tmp_path / "看板.pdf"
    assert pdf.stat().st_size > 10_000 and pdf.read_bytes().startswith(b"%PDF")

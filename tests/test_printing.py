"""What OfficeFlow writes, looked at as paper: every kind of output converted by a real
LibreOffice to PDF, then page size, orientation, page count and text checked.

One LibreOffice run converts every file (a start costs seconds on a busy machine).
Skipped where LibreOffice is not installed; CI installs it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from datetime import datetime, time
from decimal import Decimal

import openpyxl
import pytest
from support.e2e import CUSTOMER, MONDAY, Office
from support.printing import pdf_facts, populate_many, soffice, squeeze, to_pdfs
from support.registers import TODAY, make_settings, make_store

from automation import samples
from automation.clock import Clock
from automation.record import schema as s
from automation.record.registers.definitions import REGISTERS, weekdays_between
from automation.record.registers.render import rebuild_all

pytestmark = pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
ROWS = 1000
LONG_ADDRESS = "上海市浦东新区世纪大道100号环球金融中心写字楼第七十二层东侧A区7201至7208室" * 2


@pytest.fixture(scope="module")
def printed(tmp_path_factory, customer_workspace):
    """Every kind of output, and its PDF facts: registers of ROWS rows, the dashboard, a returned
    form with long problem texts, task files (Excel and Word), blank forms, a receipt, 我的申请, the
    审批单 of a finished case, a 抄送 copy, a copy returned after 驳回 and a generated contract."""
    root = tmp_path_factory.mktemp("print")
    store = make_store(root / "busy")
    populate_many(store, ROWS)
    settings = make_settings(root / "busy")
    rebuild_all(store, settings, today=TODAY, workdays_between=weekdays_between)
    store.dispose()
    files = {name: settings.registers / f"{name}.xlsx" for name in (*REGISTERS, "看板")}

    shutil.copytree(customer_workspace, root / "office" / "ws")
    office = Office(root=root / "office" / "ws", clock=Clock(fixed=datetime.combine(MONDAY, time(9, 30), Clock().tz)))
    bad = dict(samples.customer_registration(1, office.today), 联系电话="12345", 客户等级="D", 地址=LONG_ADDRESS,
               统一社会信用代码="91310000ABC")
    office.submit("customer_registration", bad, name="填错的客户登记.xlsx")
    values, items = samples.expense_claim(office.today, amount=Decimal("2600.00"), reason="年度展会展位费与搭建费" * 4)
    office.submit("expense_claim", values, items, name="报销.xlsx")
    office.submit("trip_request", samples.trip_request(office.today), name="出差.docx")
    office.submit("customer_registration", samples.customer_registration(41, office.today), name="将被驳回.xlsx")
    values, items = samples.sales_contract(CUSTOMER, office.today, payment="账期", special=LONG_ADDRESS)
    office.submit("sales_contract", values, items, name="合同.xlsx")
    office.run()
    rejected = office.case(form_id="customer_registration")
    office.decide_in_cell("吴强", "驳回", "客户资质材料不全,请补充营业执照副本与开户许可证后重新提交" * 2, rejected["number"])
    office.run()
    contract = office.approve_all(office.case(form_id="sales_contract")["number"])
    assert contract["status"] == "approved"
    mine = office.outbox / "requests" / "王芳"
    [record] = [r for r in office.rows_of(s.outputs) if r["kind"] == "approval-record" and r["key"] == contract["number"]]
    [contract_row] = office.rows(s.contracts, s.contracts.c.case_id == contract["id"])
    files["returned"] = mine / "填错的客户登记.xlsx"
    files["task"] = office.task("吴强", office.case(form_id="expense_claim")["number"])
    files["task-docx"] = office.task("吴强", office.case(form_id="trip_request")["number"])
    files["blank-xlsx"] = office.root / "forms" / "销售合同审批表.xlsx"
    files["blank-docx"] = office.root / "forms" / "出差申请表.docx"
    files["receipt"] = next(mine.glob(f"{contract['number']} *.xlsx"))
    files["my-requests"] = mine / "我的申请.xlsx"
    files["approval-record"] = office.root / record["path"]
    files["cc"] = office.files("cc", "褚红")[0]
    [files["rejected-copy"]] = mine.glob(f"{rejected['number']} * 第1轮 已驳回.xlsx")  # the form, marked
    files["contract"] = office.root / contract_row["file_path"]
    office.close()
    staged = root / "staged"  # a receipt and its 抄送 copy share a name: one PDF each, under the kind's name
    staged.mkdir()
    copies = {key: Path(shutil.copy(path, staged / f"{key}{path.suffix}")) for key, path in files.items()}
    pdfs = to_pdfs(list(copies.values()), root / "pdf")
    return {key: pdf_facts(pdfs[copies[key]]) for key in files}, files


def test_every_output_prints_on_a4(printed):
    facts, _ = printed
    not_a4 = {key: f.sizes[0] for key, f in facts.items() if not f.all_a4}
    assert not not_a4


# Pages for ROWS rows: at least a readable size (no longer squeezed onto one page), at most
# what wrapped columns may need; the 汇总 sheet's groupings (e.g. 1,000 customers) come on top.
REGISTER_PAGES = {"审批台账": (10, 35), "客户台账": (10, 35), "合同台账": (40, 140), "报销台账": (12, 50),
                  "投诉台账": (15, 60), "退货台账": (20, 75), "坏账台账": (20, 75)}


@pytest.mark.parametrize("name", REGISTER_PAGES)
def test_register_of_a_thousand_rows_prints_readably_landscape_and_whole(printed, name):
    facts, files = printed
    low, high = REGISTER_PAGES[name]
    f = facts[name]
    assert low <= f.pages <= high, f.pages
    assert all(w > h for w, h in f.sizes[:low]), "the register pages are landscape"
    sheet = openpyxl.load_workbook(files[name], read_only=True)[name]
    rows = list(sheet.iter_rows(min_row=3, max_row=2 + ROWS, values_only=True))
    text = squeeze(f.text)
    # Every row's first value printed in full (a wrapped one across its lines): nothing fell off or was cut.
    missing = [row[0] for row in rows if squeeze(str(row[0])) not in text]
    assert not missing[:5]


def test_wrapped_long_values_print_in_full(printed):
    facts, files = printed
    text = squeeze(facts["合同台账"].text)
    sheet = openpyxl.load_workbook(files["合同台账"], read_only=True)["合同台账"]
    header = [c for c in next(sheet.iter_rows(min_row=2, max_row=2, values_only=True))]
    row = next(sheet.iter_rows(min_row=3, max_row=3, values_only=True))
    for column in ("客户名称", "大写", "文件"):
        value = row[header.index(column)]
        assert squeeze(value) in text, column


def test_register_header_is_repeated_on_every_page(printed):
    facts, _ = printed
    f = facts["审批台账"]
    pages = f.text.split("第 ")  # the footer 「第 N 页,共 M 页」 closes every page
    assert f.text.count("当前审批人") >= 10 and len(pages) > 10


def test_dashboard_is_one_landscape_page_per_topic_then_its_figures(printed):
    facts, files = printed
    f = facts["看板"]
    topics = openpyxl.load_workbook(files["看板"]).sheetnames[:-1]
    assert len(topics) == 6
    assert len(topics) < f.pages <= len(topics) + 3
    assert all(w > h for w, h in f.sizes[:len(topics)])
    for title in ("谁手上有待办,等了多久", "投诉是否按时办结", "每个审批步骤用了多久"):
        assert title in f.text


def test_returned_form_result_sheet_is_a4_and_shows_long_problems_whole(printed):
    facts, files = printed
    f = facts["returned"]
    assert f.landscape is False or f.sizes[0][0] > f.sizes[0][1]
    assert f.pages <= 4
    result = openpyxl.load_workbook(files["returned"])["处理结果"]
    messages = [c.value for c in result["F"] if isinstance(c.value, str) and c.value != "问题说明"]
    assert messages
    text = squeeze(f.text)
    for message in messages:
        assert squeeze(message) in text, message


def test_task_file_and_blank_forms_print_on_few_pages(printed):
    facts, _ = printed
    assert facts["task"].pages <= 2  # the 审批 sheet on one A4 page, then the form itself
    assert facts["task"].sizes[0][0] > facts["task"].sizes[0][1]  # the 审批 sheet: landscape
    assert facts["blank-xlsx"].pages <= 2 and facts["blank-docx"].pages <= 2
    assert "销售合同审批表 · 第 1 版" in facts["blank-xlsx"].text


def _texts(path) -> list[str]:
    """Every text a person would read on the printed page: string cells of the visible sheets, the
    paragraphs and table cells of a document."""
    if path.suffix == ".docx":
        import docx

        def shown(paragraph) -> str:  # hidden runs (the form's identity marker) are not printed
            return "".join(r.text for r in paragraph.runs if not r.font.hidden)

        document = docx.Document(str(path))
        cells = [shown(p) for t in document.tables for row in t.rows for c in row.cells for p in c.paragraphs]
        return [t for t in [shown(p) for p in document.paragraphs] + cells if t.strip()]
    wb = openpyxl.load_workbook(path)
    return [c.value for ws in wb.worksheets if ws.sheet_state == "visible" for row in ws.iter_rows() for c in row
            if isinstance(c.value, str) and c.value.strip() and c.data_type != "f"]  # a formula shows its result


# Every kind of output but the 1,000-row registers (whose values are checked above, column by column).
WHOLE = ("看板", "returned", "task", "task-docx", "blank-xlsx", "blank-docx", "receipt", "my-requests",
         "approval-record", "cc", "rejected-copy", "contract")


@pytest.mark.parametrize("kind", WHOLE)
def test_no_text_of_any_output_is_cut_off_on_paper(printed, kind):
    """LibreOffice prints only what fits a cell: a value cut by its neighbour or by the row height is
    missing from the PDF's text. Every text of every kind of output must be there, whole."""
    facts, files = printed
    text = squeeze(facts[kind].text)
    missing = [t for t in dict.fromkeys(_texts(files[kind])) if squeeze(t) not in text]
    assert not missing, missing[:5]

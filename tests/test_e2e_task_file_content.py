"""The task file tells the approver enough to decide: key fields, line items, warnings, the whole
chain with each step's state and why it is there, the time limit and every comment (real pipeline)."""

from __future__ import annotations

from decimal import Decimal

import docx
import openpyxl
from support.e2e import CUSTOMER, named_value

from automation import samples


def _sheet_rows(path) -> list[list[str]]:
    ws = openpyxl.load_workbook(path)["审批"]
    return [[str(c.value) for c in row if c.value not in (None, "")] for row in ws.iter_rows()]


def _section(rows: list[list[str]], title: str) -> list[list[str]]:
    start = next(i for i, r in enumerate(rows) if r and r[0].startswith(title))
    end = next((i for i in range(start + 1, len(rows)) if len(rows[i]) == 1 and i > start + 1
                and rows[i + 1:i + 2] and rows[i][0].startswith(("审批", "您的", "提示", "合同明细"))), len(rows))
    return rows[start + 1:end]


def _major_contract(office):
    values, items = samples.sales_contract(CUSTOMER, office.today, amount_each=Decimal("60000.00"), quantity=10,
                                           payment="账期", special="质保期延长至三年")
    office.submit("sales_contract", values, items)
    office.run()
    return office.case(form_id="sales_contract")


def test_major_contract_on_credit_with_special_terms_shows_key_fields_chain_states_and_reasons(customer_office):
    office = customer_office
    number = _major_contract(office)["number"]
    office.decide_in_cell("吴强", "同意", "价格合理,同意", number)
    office.run()
    path = office.task("孙丽", number)
    rows = _sheet_rows(path)
    pairs = {r[0]: r[1] for r in rows if len(r) == 2}
    assert pairs["申请编号"] == number
    assert pairs["客户名称"] == CUSTOMER and pairs["合同金额"] == "600,000.00"
    assert pairs["付款方式"] == "账期" and pairs["特殊条款"] == "质保期延长至三年"
    assert pairs["办理时限"].endswith("(2 个工作日)")
    chain = {r[0]: r[1:] for r in rows if r and r[0].startswith("第 ") and "步" in r[0]}
    assert chain["第 1 步 · 部门经理"][0] == "吴强" and chain["第 1 步 · 部门经理"][1].startswith("已同意 · 吴强 · ")
    assert chain["第 2 步 · 财务经理"][:2] == ["孙丽", "当前 · 请您审批"]
    assert chain["第 3 步 · 法务"][:2] == ["周文", "待审批"]
    assert chain["第 4 步 · 总经理"][:2] == ["赵建国", "待审批"]
    assert "本表单每份都需此步审批 · 依据 000 · R-SD-08, R-SD-09" in chain["第 1 步 · 部门经理"][2]
    assert '付款方式 = "账期"(付款方式 = 账期) · 依据 001 · S1-R76' in chain["第 2 步 · 财务经理"][2]
    assert "已填(特殊条款)" in chain["第 3 步 · 法务"][2] and "特殊条款 = 质保期延长至三年" in chain["第 3 步 · 法务"][2]
    why_gm = chain["第 4 步 · 总经理"][2]
    assert "合同金额 ≥ 重大合同金额(合同金额 = 600,000.00、重大合同金额 = 500,000) · 依据 000 · R-SD-07" in why_gm
    assert "审批规则!B" in why_gm  # the row of 制度.xlsx that put the step there
    history = [r for r in rows if "吴强 同意" in r]
    assert history and history[0][-1] == "价格合理,同意"
    items = [r for r in rows if r and r[0] == "合计"]
    assert items == [["合计", "600,000.00"]]
    assert any(r and r[0].startswith("合同明细(共 1 行") for r in rows)
    assert named_value(path, "申请编号") == number  # filled in on the form sheet as well


def test_word_task_file_has_a_summary_table_then_a_decision_table_with_the_same_content(office):
    office.submit("trip_request", samples.trip_request(office.today))
    office.run()
    case = office.case(form_id="trip_request")
    document = docx.Document(str(office.task("吴强", case["number"])))
    tables = document.tables
    summary = {row.cells[0].text: row.cells[1].text for row in tables[0].rows}
    assert (summary["申请编号"], summary["申请人"], summary["出差地点"]) == (case["number"], "王芳", "杭州")
    chain = [[c.text for c in row.cells] for row in tables[1].rows]
    assert chain[0] == ["步骤", "审批人", "状态", "为何需要此步"]
    assert chain[1][:3] == ["第 1 步 · 部门经理", "吴强", "当前 · 请您审批"] and "001 · S1-R156" in chain[1][3]
    decision = [row.cells[0].text for row in tables[3].rows]
    assert decision == ["项目", "审批结论(请选择)", "审批意见", "转交给", "加签人", "加签方式", "退回到"]
    assert "冯磊" in tables[3]._tbl.xml and "王芳" not in tables[3]._tbl.xml.split("转交给", 1)[1].split("加签人")[0]

"""Issue 5 acceptance through the pipeline: an approved F3 becomes a numbered Word contract
(and a PDF when LibreOffice is installed); a broken template never costs the approval."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import cn2an
import docx
from support.e2e import (
    CUSTOMER,
    Office,
    env_has_soffice,
)

import automation
from automation import samples
from automation.record import schema as s

ITEMS = [
    {"品名": "工业控制器", "规格型号": "KX-200", "数量": 3, "单价": Decimal("12345.67"), "金额": Decimal("37037.01")},
    {"品名": "温度传感器", "规格型号": "S-10", "数量": 5, "单价": Decimal("99.99"), "金额": Decimal("499.95")},
    {"品名": "安装调试服务", "规格型号": "现场", "数量": 1, "单价": Decimal("0.05"), "金额": Decimal("0.05")},
]
TOTAL = Decimal("37537.01")
SHIPPED_TEMPLATE = Path(automation.__file__).parent / "resources" / "contracts" / "销售合同.docx"


def _approved_contract(office: Office, payment: str = "账期") -> dict:
    values, _ = samples.sales_contract(CUSTOMER, office.today, payment=payment)
    values["合同金额"] = TOTAL
    office.submit("sales_contract", values, ITEMS)
    office.run()
    case = office.case(form_id="sales_contract")
    assert case["status"] == "in_approval", office.submissions()[-1]["reason"]
    assert office.approve_all(case["number"])["status"] == "approved"
    return case


def _text(path) -> str:
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def _item_rows(path) -> list[list[str]]:
    document = docx.Document(str(path))
    table = next(t for t in document.tables if "品名" in [c.text.strip() for c in t.rows[0].cells])
    return [[c.text.strip() for c in row.cells] for row in table.rows[1:]]


def test_approved_contract_is_rendered_numbered_complete_and_regenerated_the_same(customer_office):
    office = customer_office
    case = _approved_contract(office)
    year = office.today.year
    number = f"HT-{year}-0001"
    path = office.outbox / "contracts" / f"{number} {CUSTOMER}.docx"
    assert path.exists(), office.files("contracts")

    text = _text(path)
    assert number in text
    assert "上海示例贸易有限公司" in text and CUSTOMER in text  # both parties
    rows = _item_rows(path)
    for item in ITEMS:
        row = next(r for r in rows if item["品名"] in r)
        assert item["规格型号"] in row and str(item["数量"]) in row
        assert f"{item['单价']:,.2f}" in row and f"{item['金额']:,.2f}" in row
    assert f"{TOTAL:,.2f}" in text
    assert cn2an.an2cn(str(TOTAL), "rmb") in text  # 叁万柒仟伍佰叁拾柒元零壹分
    assert f"{office.today.year}年{office.today.month}月{office.today.day}日" in text
    delivery = office.today + timedelta(days=14)
    assert f"{delivery.year}年{delivery.month}月{delivery.day}日" in text
    assert "账期" in text and "30" in text

    contract = office.rows(s.contracts, s.contracts.c.case_id == case["id"])[0]
    assert contract["number"] == number and contract["amount"] == TOTAL
    register = office.register("合同台账")
    assert [(r["合同编号"], r["客户名称"], Decimal(str(r["合同金额"])).quantize(Decimal("0.01")))
            for r in register] == [(number, CUSTOMER, TOTAL)]
    assert register[0]["文件"] and f"{number} {CUSTOMER}.docx" in register[0]["文件"]
    assert register[0]["审批人"] == "吴强、孙丽"
    assert [p.name.split(" ")[0] for p in office.files("cc", "褚红")] == [case["number"]]  # 抄送 销售内勤
    if env_has_soffice():
        assert path.with_suffix(".pdf").stat().st_size > 1000

    before = text
    mtime = path.stat().st_mtime_ns
    office.close()
    result = office.cli("contracts", "render", number)
    assert result.returncode == 0, result.stderr
    assert path.stat().st_mtime_ns != mtime  # written again …
    assert _text(path) == before  # … with the same number and content
    assert [p.name for p in office.files("contracts") if p.suffix == ".docx"] == [path.name]

    # On 账期 the amount is now open: 900,000.00 − 37,537.01 = 862,462.99 of credit left,
    # so 870,000.00 more on 账期 is refused.
    [customer] = office.register("客户台账")
    assert _money(customer["未收款"]) == TOTAL
    values, items = samples.sales_contract(CUSTOMER, office.today, amount_each=Decimal("87000.00"), quantity=10,
                                           payment="账期")
    office.submit("sales_contract", values, items)
    office.run()
    last = office.submissions()[-1]
    assert (last["status"], last["reason_code"]) == ("returned", "form-invalid")
    assert "超出信用额度" in last["problems"]
    assert len([c for c in office.cases() if c["form_id"] == "sales_contract"]) == 1


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def test_broken_template_leaves_the_case_approved_with_a_reason_file_and_an_alert(customer_office):
    office = customer_office
    template = office.root / "contracts" / "销售合同.docx"
    document = docx.Document(str(template))
    document.add_paragraph("补充条款:{{ 不存在的变量 }}")
    document.save(str(template))

    case = _approved_contract(office, payment="预付款")
    assert office.case(case["number"])["status"] == "approved"
    number = f"HT-{office.today.year}-0001"
    reasons = [p for p in office.files("contracts") if p.name.endswith(".原因.txt")]
    assert [p.name for p in reasons] == [f"{number} 生成失败.原因.txt"]
    assert "不存在的变量" in reasons[0].read_text(encoding="utf-8-sig")
    assert not [p for p in office.files("contracts") if p.suffix == ".docx"]

    office.close()
    result = office.cli("status", "--json")
    assert result.returncode == 0, result.stderr
    alerts = json.loads(result.stdout)["alerts"]
    assert [a["subject"] for a in alerts if a["kind"] == "contract-render-failed"] == [number]
    text = office.cli("status")
    assert number in text.stdout

    # The administrator repairs the template and regenerates: same number, alert gone.
    shutil.copyfile(SHIPPED_TEMPLATE, template)
    result = office.cli("contracts", "render", number)
    assert result.returncode == 0, result.stderr
    assert (office.outbox / "contracts" / f"{number} {CUSTOMER}.docx").exists()
    assert not (office.outbox / "contracts" / f"{number} 生成失败.原因.txt").exists()
    assert not [a for a in json.loads(office.cli("status", "--json").stdout)["alerts"]
                if a["kind"] == "contract-render-failed"]

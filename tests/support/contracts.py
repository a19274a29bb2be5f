"""Factories for contract tests: a realistic F3 case, a real store, a workspace with the shipped template."""

from __future__ import annotations

import shutil
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from docx import Document

from automation.clock import Clock
from automation.forms.spec import FormSpec, load_spec
from automation.record import codec
from automation.record import schema as s
from automation.record.store import Store, open_store
from automation.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
SHIPPED_TEMPLATES = REPO / "contracts"
SHIPPED_TEMPLATE = SHIPPED_TEMPLATES / "销售合同.docx"
F3_SPEC_PATH = REPO / "forms" / "sales_contract.yaml"
NOW = datetime(2026, 11, 23, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))

COMPANY = {
    "公司名称": "福州闽江贸易有限公司", "地址": "福建省福州市鼓楼区五四路 158 号", "统一社会信用代码": "91350102MA31XK8U2L",
    "法定代表人": "林建华", "电话": "0591-87561234", "开户行": "中国工商银行福州五四支行", "账号": "1402020009001234567",
    "签订地点": "福州市鼓楼区",
}
CUSTOMER_ROW = {
    "name": "厦门海沧精密机械有限公司", "credit_code": "91350205MA2Y3L6F8K", "contact": "陈思远", "phone": "13906001234",
    "address": "福建省厦门市海沧区新阳工业区 66 号",
}


def f3_values(**changes) -> dict:
    """Typed values as the extractor gives them: Decimal money, date dates, 明细 rows."""
    values = {
        "客户名称": CUSTOMER_ROW["name"], "合同类型": "销售合同",
        "明细": [
            {"品名": "数控车床", "规格型号": "CK6150/1000", "数量": Decimal("2"), "单价": Decimal("48000.00"), "金额": Decimal("96000.00")},
            {"品名": "液压卡盘", "规格型号": "KH-250", "数量": Decimal("5"), "单价": Decimal("3469.13"), "金额": Decimal("17345.65")},
            {"品名": "刀具套装", "规格型号": None, "数量": Decimal("3"), "单价": Decimal("2333.34"), "金额": Decimal("7000.02")},
        ],
        "合同金额": Decimal("120345.67"), "合同金额大写": None, "折扣率": Decimal("0.03"),
        "付款方式": "账期", "账期天数": 45, "签订日期": date(2026, 11, 20), "交货日期": date(2026, 12, 15),
        "报价单号": "BJ-2026-1107", "偏离报价": "否", "偏离说明": None, "特殊条款": None,
        "销售员": "王小明", "申请人": "王小明", "申请日期": date(2026, 11, 18),
    }
    values.update(changes)
    return values


def f3_spec() -> FormSpec:
    return load_spec(F3_SPEC_PATH)


def make_store(tmp_path: Path, url: str | None = None) -> Store:
    """A store on ``url`` (a SQLite file in ``tmp_path`` unless given: see the ``store_url`` fixture)."""
    return open_store(url or "sqlite:///" + str(tmp_path / "state.db"), Clock(fixed=NOW))


def add_case(conn, number: str, values: dict | None = None, status: str = "approved") -> int:
    values = f3_values() if values is None else values
    result = conn.execute(s.cases.insert().values(
        number=number, form_id="sales_contract", form_title="销售合同审批表", status=status, round=1,
        data=codec.dumps(values), fingerprint=codec.fingerprint(values), customer=values.get("客户名称"),
        amount=values.get("合同金额"), applicant=values.get("申请人"), created_at=NOW, updated_at=NOW,
    ))
    return result.inserted_primary_key[0]


def add_customer(conn, row: dict | None = None) -> None:
    row = {**CUSTOMER_ROW, **(row or {})}
    columns = {k: v for k, v in row.items() if k in s.customers.c}
    conn.execute(s.customers.insert().values(norm_name=row["name"], status="正常", **columns))


def workspace(tmp_path: Path, template: Path = SHIPPED_TEMPLATE) -> Settings:
    """A workspace folder with the template and the F3 spec; settings resolved from it."""
    root = tmp_path / "ws"
    (root / "contracts").mkdir(parents=True)
    (root / "forms").mkdir()
    shutil.copy(template, root / "contracts" / template.name)
    shutil.copy(F3_SPEC_PATH, root / "forms" / F3_SPEC_PATH.name)
    return load_settings(root)


def docx_text(path: Path) -> str:
    """Every paragraph, table cell, header and footer of a .docx, one per line."""
    doc = Document(str(path))
    lines = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        lines += [cell.text for row in table.rows for cell in row.cells]
    for section in doc.sections:
        lines += [p.text for p in section.footer.paragraphs]
    return "\n".join(lines)


def table_rows(path: Path, index: int = 0) -> list[list[str]]:
    doc = Document(str(path))
    return [[cell.text for cell in row.cells] for row in doc.tables[index].rows]


def write_template(path: Path, *paragraphs: str) -> Path:
    """A minimal template: one paragraph per string (each tag stays in one run)."""
    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


@pytest.fixture
def no_opened_templates():
    """No template package lent from an earlier test (imported with autouse by the tests that count opens)."""
    from automation.act import contract_docx  # docxtpl and Jinja only for the tests that render

    contract_docx._OPENED.clear()
    yield
    contract_docx._OPENED.clear()


def package_parts(path) -> dict[str, bytes]:
    """Every part of a package, checked whole (CRCs) first."""
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        return {name: zf.read(name) for name in zf.namelist()}

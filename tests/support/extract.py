"""Tiny real forms for the extract/validate/returns tests, built with the form conventions.

XLSX: sheet 表单, one defined name per field, an Excel table 明细 whose header
cells are the column keys. DOCX: one content control per field (tag = key),
line items in a table whose header row holds the column keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from openpyxl import Workbook
from openpyxl.packaging.custom import StringProperty
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.table import Table

from automation.forms.spec import FormSpec, load_spec

SPEC_YAML = """
id: {id}
title: 测试申请表
version: "1.0"
kind: {kind}
fields:
  - {{key: 客户名称, type: customer, required: true, max_length: 10}}
  - {{key: 统一社会信用代码, type: credit_code}}
  - {{key: 合同金额, type: money, required: true, min: 0}}
  - {{key: 合同金额大写, type: amount_upper, of: 合同金额}}
  - {{key: 折扣率, type: percent, min: 0, max: 1}}
  - {{key: 账期天数, type: integer, min: 0, max: 180}}
  - {{key: 付款方式, type: choice, required: true, choices: [预付款, 货到付款, 账期]}}
  - {{key: 签订日期, type: date, required: true}}
  - {{key: 联系电话, type: phone}}
  - {{key: 报价单号, type: text, pattern: "BJ-\\\\d{{4}}", help: 格式如 BJ-0001}}
  - {{key: 回访日期, type: date_list}}
  - {{key: 申请人, type: person, required: true}}
tables:
  - key: 明细
    label: 合同明细
    required: true
    rows: 5
    columns:
      - {{key: 品名, type: text, required: true}}
      - {{key: 数量, type: number, required: true, min: 0.001}}
      - {{key: 单价, type: money, required: true, min: 0}}
      - {{key: 金额, type: money, required: true, min: 0}}
"""

GOOD = {
    "客户名称": "华东机电有限公司",
    "统一社会信用代码": "91350100M000100Y43",
    "合同金额": "¥1,234.50",
    "合同金额大写": "壹仟贰佰叁拾肆元伍角",
    "折扣率": "5%",
    "账期天数": 30,
    "付款方式": "账期",
    "签订日期": "2026年11月23日",
    "联系电话": "138-1234-5678",
    "报价单号": "BJ-0001",
    "回访日期": "2026-11-30、2026/12/05",
    "申请人": "张三",
}
GOOD_ITEMS = [
    {"品名": "电机", "数量": 2, "单价": 500, "金额": 1000},
    {"品名": "线缆", "数量": "3", "单价": "78.17", "金额": "234.51"},
]


def test_spec(folder: Path, kind: str = "xlsx") -> FormSpec:
    form_id = f"test_{kind}"
    path = Path(folder) / f"{form_id}.yaml"
    path.write_text(SPEC_YAML.format(id=form_id, kind=kind), encoding="utf-8")
    return load_spec(path)


test_spec.__test__ = False  # a factory, not a test


# --- xlsx -------------------------------------------------------------------------

FIRST_FIELD_ROW = 3


def field_cell(spec: FormSpec, key: str) -> str:
    """Where make_xlsx puts a field's input cell."""
    return f"B{FIRST_FIELD_ROW + [f.key for f in spec.fields].index(key)}"


def item_cell(spec: FormSpec, row: int, column: str) -> str:
    """Where make_xlsx puts line item ``row`` (1-based), column ``column``."""
    table = spec.tables[0]
    col = [c.key for c in table.columns].index(column) + 1
    return f"{get_column_letter(col)}{_table_header_row(spec) + row}"


def _table_header_row(spec: FormSpec) -> int:
    return FIRST_FIELD_ROW + len(spec.fields) + 1


def make_xlsx(path: Path, spec: FormSpec, values: dict[str, Any], items: list[dict] | None = None,
              *, amount_formula: bool = False, scoped_names: bool = False) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "表单"
    ws["A1"] = spec.title
    ws["D3"] = "旁注:这里的字不应被读取"
    for f in spec.fields:
        ref = field_cell(spec, f.key)
        ws[ref.replace("B", "A")] = f.key
        if values.get(f.key) is not None:
            ws[ref] = values[f.key]
        name = DefinedName(f.key, attr_text=f"'表单'!${ref[0]}${ref[1:]}")
        if scoped_names:
            ws.defined_names[f.key] = name
        else:
            wb.defined_names[f.key] = name
    for table in spec.tables:
        _xlsx_table(ws, spec, table, items or [], amount_formula)
    wb.custom_doc_props.append(StringProperty(name="officeflow.form", value=spec.id))
    wb.custom_doc_props.append(StringProperty(name="officeflow.version", value=spec.version))
    wb.save(path)
    return path


def _xlsx_table(ws, spec: FormSpec, table, items: list[dict], amount_formula: bool) -> None:
    top = _table_header_row(spec)
    keys = [c.key for c in table.columns]
    for col, key in enumerate(keys, start=1):
        ws.cell(top, col, key)
    for n in range(1, table.rows + 1):
        item = items[n - 1] if n <= len(items) else {}
        for col, key in enumerate(keys, start=1):
            if key == "金额" and amount_formula:
                q, p = (f"{get_column_letter(keys.index(k) + 1)}{top + n}" for k in ("数量", "单价"))
                ws.cell(top + n, col, f'=IF(AND({q}<>"",{p}<>""),ROUND({q}*{p},2),"")')
            elif item.get(key) is not None:
                ws.cell(top + n, col, item[key])
    ref = f"A{top}:{get_column_letter(len(keys))}{top + table.rows}"
    ws.add_table(Table(displayName=table.key, ref=ref))


# --- docx -------------------------------------------------------------------------


def make_docx(path: Path, spec: FormSpec, values: dict[str, Any], items: list[dict] | None = None) -> Path:
    doc = Document()
    doc.add_heading(spec.title, level=1)
    for f in spec.fields:
        paragraph = doc.add_paragraph()
        paragraph.add_run(f"{f.key}:")
        paragraph._p.append(_control(f.key, values.get(f.key)))
    for table in spec.tables:
        keys = [c.key for c in table.columns]
        grid = doc.add_table(rows=1 + len(items or []) + 1, cols=len(keys))
        for col, key in enumerate(keys):
            grid.cell(0, col).text = key
        for n, item in enumerate(items or [], start=1):
            for col, key in enumerate(keys):
                grid.cell(n, col).text = "" if item.get(key) is None else str(item[key])
    doc.save(str(path))
    return path


def _control(tag: str, value: Any):
    """A run-level plain-text content control; blank ones show their placeholder."""
    sdt, props, content = OxmlElement("w:sdt"), OxmlElement("w:sdtPr"), OxmlElement("w:sdtContent")
    props.append(OxmlElement("w:tag", attrs={qn("w:val"): tag}))
    if value is None:
        props.append(OxmlElement("w:showingPlcHdr"))
    sdt.append(props)
    run = OxmlElement("w:r")
    for n, line in enumerate(("单击此处输入文字。" if value is None else str(value)).split("\n")):
        if n:
            run.append(OxmlElement("w:br"))
        text = OxmlElement("w:t")
        text.text = line
        run.append(text)
    content.append(run)
    sdt.append(content)
    return sdt

"""The README's 「新增一种表单」 works from the README alone: this test follows its steps literally
in a fresh workspace (the commands it shows, the spec it shows, the rows it shows), then submits
the new form, approves it and finds its row in the register."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import openpyxl
from support.e2e import MONDAY, Office, office, register_rows

from automation.forms.build import build_form
from automation.forms.fill import fill_xlsx
from automation.forms.spec import load_spec

__all__ = ["office"]
README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = "## 新增一种表单"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return text[start:end if end != -1 else None]


def _blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


def _commands(block: str) -> list[list[str]]:
    return [shlex.split(line)[1:] for line in block.splitlines() if line.startswith("officeflow ")]


def _sheet_tables(section: str) -> dict[str, list[dict[str, str]]]:
    """工作表「X」 followed by a markdown table → X: rows as {header: cell}."""
    tables = {}
    for sheet, body in re.findall(r"工作表「([^」]+)」[^\n]*\n\n((?:\|.*\|\n)+)", section):
        lines = [[c.strip() for c in line.strip().strip("|").split("|")] for line in body.strip().splitlines()]
        header, rows = lines[0], lines[2:]
        tables[sheet] = [dict(zip(header, row)) for row in rows]
    return tables


def _append_rows(policy: Path, tables: dict[str, list[dict[str, str]]]) -> None:
    wb = openpyxl.load_workbook(policy)
    for sheet, rows in tables.items():
        ws = wb[sheet]
        columns = {c.value: c.column for c in ws[1] if c.value}
        for row in rows:
            at = ws.max_row + 1
            for header, value in row.items():
                ws.cell(at, columns[header], int(value) if value.isdigit() else (value or None))
    wb.save(policy)


def _run(office: Office, args: list[str]) -> str:
    result = office.cli(*args)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def test_readme_example_form_works_from_the_readme_alone(office):
    section = _section()
    step1, step4 = _blocks(section, "shell")
    [spec_text] = _blocks(section, "yaml")
    tables = _sheet_tables(section)
    assert set(tables) == {"审批规则", "校验规则", "抄送", "编号规则"}

    for args in _commands(step1):                                           # 第 1 步
        assert "meeting_room.yaml" in _run(office, args)
    scaffold = office.root / "forms" / "meeting_room.yaml"
    assert "# " in scaffold.read_text(encoding="utf-8")  # the scaffold explains itself in Chinese
    scaffold.write_text(spec_text, encoding="utf-8")                         # 第 2 步
    _append_rows(office.root / "policies" / "制度.xlsx", tables)             # 第 3 步
    outputs = [_run(office, args) for args in _commands(step4)]              # 第 4 步
    assert "会议室预订单.xlsx" in outputs[0] and "没有发现任何问题" in outputs[1]
    assert (office.root / "forms" / "会议室预订单.xlsx").exists()

    spec = load_spec(scaffold)
    staging = office.root.parent / "staging"
    blank = build_form(spec, staging)
    shutil.copy(office.root / "forms" / "会议室预订单.xlsx", blank)  # staff fill the workspace's own blank form
    values = {"申请人": "王芳", "部门": "销售一部", "会议室": "大会议室", "会议主题": "年度销售总结会",
              "会议日期": MONDAY, "开始时间": "14:00", "结束时间": "16:30", "参会人数": 40, "是否需要投影": "是",
              "申请日期": MONDAY}
    office.drop(fill_xlsx(blank, values))
    office.run()
    case = office.case(form_id="meeting_room")
    assert case["status"] == "in_approval" and case["number"].startswith("HY-202611-")
    assert office.open_holders(case["number"]) == ["吴强"]
    assert office.approve_all(case["number"])["status"] == "approved"
    assert office.files("cc", "褚红")

    [row] = register_rows(office.outbox / "registers" / "会议室台账.xlsx")
    assert (row["编号"], row["会议室"], row["参会人数"], row["月份"], row["状态"]) == (
        case["number"], "大会议室", 40, "2026-11", "已批准")


def test_readme_example_rules_return_a_booking_that_ends_before_it_starts(office):
    section = _section()
    for args in _commands(_blocks(section, "shell")[0]):
        _run(office, args)
    (office.root / "forms" / "meeting_room.yaml").write_text(_blocks(section, "yaml")[0], encoding="utf-8")
    _append_rows(office.root / "policies" / "制度.xlsx", _sheet_tables(section))
    for args in _commands(_blocks(section, "shell")[1]):
        _run(office, args)
    spec = load_spec(office.root / "forms" / "meeting_room.yaml")
    blank = build_form(spec, office.root.parent / "staging")
    values = {"申请人": "王芳", "部门": "销售一部", "会议室": "一号会议室", "会议主题": "周会", "会议日期": MONDAY,
              "开始时间": "10:00", "结束时间": "09:00", "参会人数": 6, "申请日期": MONDAY}
    office.drop(fill_xlsx(blank, values))
    office.run()
    [sub] = office.submissions()
    assert sub["outcome"] == "returned" and "「结束时间」应晚于「开始时间」。" in sub["problems"]

"""Small adapters over openpyxl and python-docx for what approvals need: the task id in
the file's custom properties, and the two approval inputs (审批结论 / 审批意见) read by
defined name or content-control tag.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
from docx.oxml.ns import qn
from openpyxl.packaging.custom import StringProperty
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

from automation import fsutil
from automation.forms.docx_props import read_custom_properties, set_custom_properties
from automation.forms.docx_reader import (
    DECISION_HEADER,
    DocxIndex,
    cell_value,
    control_value,
    indexed_body,
    is_approval_table,
    normal_label,
    table_header,
)
from automation.forms.markers import MARKER_SHEET
from automation.forms.xlsx_reader import values_book

DECISION_NAME = "审批结论"
DECISION_TABLE_HEADER = DECISION_HEADER  # header row of the Word task file's decision table
COMMENT_NAME = "审批意见"
TRANSFER_NAME = "转交给"
SIGNER_NAME = "加签人"
SIGN_MODE_NAME = "加签方式"
BACK_TO_NAME = "退回到"
INPUT_NAMES = (DECISION_NAME, COMMENT_NAME, TRANSFER_NAME, SIGNER_NAME, SIGN_MODE_NAME, BACK_TO_NAME)
# The prompt each input of a Word task file shows until filled in (decide.task_files). A program that
# drops the controls' placeholder flag, or flattens the controls, leaves it as plain text: it is blank.
PROMPTS = {DECISION_NAME: "请选择", COMMENT_NAME: "请填写审批意见(驳回、退回修改须写明原因)",
           TRANSFER_NAME: "转交时请选择", SIGNER_NAME: "加签时请选择", SIGN_MODE_NAME: "前加签 或 后加签",
           BACK_TO_NAME: "默认退回申请人"}
# The sheets an Excel task file adds to the form: 审批 holding its inputs (task_files.SHEET), the hidden
# 审批选项 (task_files.OPTIONS_SHEET; task_files imports this module) and the form's marker sheet. The
# form's fingerprint never reads them, so a decision takes only the rows defined names point into.
APPROVAL_SHEETS = frozenset({"审批", "审批选项", MARKER_SHEET})
TASK_PROP = "officeflow.task"
CASE_PROP = "officeflow.case"


def atomic_save(save, path: Path) -> None:
    """``save(str_path)`` through a temporary sibling, swapped in (see automation.fsutil)."""
    fsutil.atomic_save(path, lambda tmp: save(str(tmp)))


# --- custom document properties (the forms stage owns the .docx adapter) ----------------


def set_docx_props(document, changes: dict[str, str]) -> None:
    set_custom_properties(document, {k: str(v) for k, v in changes.items()})


def set_xlsx_props(wb, changes: dict[str, str]) -> None:
    keep = [p for p in wb.custom_doc_props.props if p.name not in changes]
    wb.custom_doc_props.props = keep + [StringProperty(name=k, value=str(v)) for k, v in changes.items()]


def read_props(path: Path) -> dict[str, str]:
    return read_custom_properties(path)


# --- the approval inputs ---------------------------------------------------------------


def xlsx_named_value(wb, name: str):
    defined = wb.defined_names.get(name)
    if defined is None:
        return None
    for sheet, ref in defined.destinations:
        if sheet in wb.sheetnames:  # read without adding the cell when it is not there
            col, row = coordinate_from_string(ref.replace("$", "").split(":")[0])
            cell = wb[sheet]._cells.get((row, column_index_from_string(col)))
            return None if cell is None else cell.value
    return None


def docx_control_text(document, tag: str, index: DocxIndex | None = None) -> str | None:
    """An approval input of a Word task file: by tag, else beside its label in our 审批 table, else by alias.

    LibreOffice drops every tag, and the alias of drop-down controls too, so a task
    file decided and saved there is read from the cell next to 「审批结论」. ``index``: the
    body's ``DocxIndex`` when the caller reads several inputs (it is built once, not per input).
    """
    return docx_body_text(document.element.body, tag, index)


def docx_body_text(body, tag: str, index: DocxIndex | None = None) -> str | None:
    """``docx_control_text`` of a document body."""
    index = index if index is not None else DocxIndex(body)
    if tag in index.by_tag:
        return control_value(index.by_tag[tag])
    for tbl in filter(_holds_inputs, body.iter(qn("w:tbl"))):
        for tr in tbl.findall(qn("w:tr")):
            cells = tr.findall(qn("w:tc"))
            if len(cells) >= 2 and _input_label(_text(cells[0])) == tag:
                return cell_value(cells[1])
    sdt = index.by_alias.get(tag)
    return control_value(sdt) if sdt is not None else None


def _holds_inputs(tbl) -> bool:
    """Our 审批 table, or the decision table under 「您的审批」 (its header row is DECISION_TABLE_HEADER)."""
    return is_approval_table(tbl) or table_header(tbl)[:3] == DECISION_TABLE_HEADER


def _input_label(text: str) -> str:
    """「审批结论(请选择)」 → 「审批结论」: the hint in brackets is not part of the name."""
    return normal_label(re.sub(r"[((][^))]*[))]", "", text))


def _text(element) -> str:
    return "".join(t.text or "" for t in element.iter(qn("w:t")))


def read_decision(path: Path) -> tuple[str | None, str | None]:
    """(审批结论, 审批意见) as filled in by the approver, stripped; None when blank."""
    inputs = read_inputs(path)
    return inputs[DECISION_NAME], inputs[COMMENT_NAME]


def read_inputs(path: Path) -> dict[str, str | None]:
    """Every approval input (审批结论, 审批意见, 转交给, 加签人, 加签方式, 退回到), stripped; None when blank."""
    if path.suffix.lower() == ".docx":
        # The body as python-docx gives it, nothing else parsed; handed on to the fingerprint check of the same bytes.
        body, index = indexed_body(path, hand_on=True)
        values = {name: docx_body_text(body, name, index) for name in INPUT_NAMES}
    else:
        # Values only (no formatting bound), handed on to the fingerprint check of the same bytes.
        # On the 审批 sheet only the inputs' rows are taken (the rest is parsed and checked, not kept).
        wb = values_book(path, hand_on=True, named_rows_only=APPROVAL_SHEETS)
        values = {name: xlsx_named_value(wb, name) for name in INPUT_NAMES}
    return {name: _blank_to_none(value, PROMPTS.get(name)) for name, value in values.items()}


def _blank_to_none(value, prompt: str | None = None) -> str | None:
    text = "" if value is None else str(value).strip()
    return text if text and text != prompt else None

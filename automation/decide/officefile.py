"""Small adapters over openpyxl and python-docx for what approvals need: the task id in
the file's custom properties, and the two approval inputs (审批结论 / 审批意见) read by
defined name or content-control tag.
"""

from __future__ import annotations

from pathlib import Path

import docx
import openpyxl
from docx.oxml.ns import qn
from openpyxl.packaging.custom import StringProperty

from automation import fsutil
from automation.forms.docx_props import read_custom_properties, set_custom_properties

DECISION_NAME = "审批结论"
COMMENT_NAME = "审批意见"
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
        if sheet in wb.sheetnames:
            return wb[sheet][ref.replace("$", "").split(":")[0]].value
    return None


def docx_control_text(document, tag: str) -> str | None:
    for sdt in document.element.body.iter(qn("w:sdt")):
        pr = sdt.find(qn("w:sdtPr"))
        tag_el = pr.find(qn("w:tag")) if pr is not None else None
        if tag_el is None or tag_el.get(qn("w:val")) != tag:
            continue
        if pr.find(qn("w:showingPlcHdr")) is not None:
            return None  # still showing the "请选择" placeholder
        content = sdt.find(qn("w:sdtContent"))
        return "".join(t.text or "" for t in content.iter(qn("w:t"))) if content is not None else None
    return None


def read_decision(path: Path) -> tuple[str | None, str | None]:
    """(审批结论, 审批意见) as filled in by the approver, stripped; None when blank."""
    if path.suffix.lower() == ".docx":
        document = docx.Document(str(path))
        values = docx_control_text(document, DECISION_NAME), docx_control_text(document, COMMENT_NAME)
    else:
        wb = openpyxl.load_workbook(path)
        values = xlsx_named_value(wb, DECISION_NAME), xlsx_named_value(wb, COMMENT_NAME)
        wb.close()
    return tuple(_blank_to_none(v) for v in values)  # type: ignore[return-value]


def _blank_to_none(value) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None

"""Task files: the submitted form, copied into the approver's folder with an 审批 part on top.

The form's own sheets, names and tables are kept as submitted (its data is what
the fingerprint covers); the 审批 sheet or table is ours and shows the case, the
chain so far, the warnings, and the two inputs the approver may fill.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from automation import fsutil
from automation.act.returns import clear_docx_annotations, clear_xlsx_annotations
from automation.decide import engine
from automation.decide.engine import DECISIONS, status_label
from automation.decide.integrity import form_fingerprint
from automation.forms.repair import open_docx, open_xlsx
from automation.decide.officefile import (
    CASE_PROP,
    COMMENT_NAME,
    DECISION_NAME,
    TASK_PROP,
    atomic_save,
    set_docx_props,
    set_xlsx_props,
)
from automation.fsutil import file_stamp
from automation.printing import lines_needed, row_height, setup_openpyxl
from automation.record import audit, codec
from automation.record import schema as s

SHEET = "审批"
DECISION_FOLDERS = DECISIONS  # 同意/ 驳回/ 退回修改/
DONE_FOLDER = "已办"
INSTRUCTION = "请在下方填写审批结论(同意/驳回/退回修改)和审批意见后保存;或将本文件拖入 同意/驳回/退回修改 文件夹。"
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')
_BOLD = Font(bold=True)
_INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")


def safe_name(text: str) -> str:
    """A file-name component that Windows, macOS and network shares all accept."""
    return fsutil.safe_name(text, fallback="_")


def money_text(amount) -> str:
    return f"{Decimal(amount):,.2f}"


def task_file_path(settings, assignee: str, number: str, form_title: str, applicant, amount, kind: str = "xlsx") -> Path:
    parts = [number, form_title, applicant or "", money_text(amount) if amount is not None else ""]
    stem = " ".join(safe_name(p) for p in parts if p)
    return person_folder(settings, assignee) / f"{stem}.{kind}"


def person_folder(settings, name: str) -> Path:
    return settings.approvals / safe_name(name)


def ensure_person_folders(settings, name: str) -> Path:
    root = person_folder(settings, name)
    for sub in (*DECISION_FOLDERS, DONE_FOLDER):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def write_task_file(settings, *, case: dict, task: dict, history: list[dict], warnings: list[dict],
                    source_file: Path, kind: str) -> Path:
    ensure_person_folders(settings, task["assignee"])
    path = task_file_path(settings, task["assignee"], case["number"], case["form_title"], case["applicant"],
                          case["amount"], kind)
    props = {TASK_PROP: str(task["id"]), CASE_PROP: case["number"]}
    if kind == "docx":
        document = open_docx(source_file)
        clear_docx_annotations(document)
        _docx_approval_table(document, case, task, history, warnings)
        set_docx_props(document, props)
        atomic_save(document.save, path)
    else:
        wb = open_xlsx(source_file)
        _xlsx_approval_sheet(wb, case, task, history, warnings)
        set_xlsx_props(wb, props)
        atomic_save(wb.save, path)
    return path


def issue_task_file(store, settings, task_id: int, *, spec) -> Path:
    """Write the task file of an open task and record its path and form fingerprint on the task."""
    with store.read() as conn:
        task = engine.load_task(conn, task_id)
        case = engine.load_case(conn, task["case_id"])
        history = engine.case_history(conn, case["id"])
    path = write_task_file(settings, case=case, task=task, history=history, warnings=codec.loads(case["warnings"]) or [],
                           source_file=settings.root / case["source_file"], kind=case["file_kind"] or spec.kind)
    fingerprint = form_fingerprint(path, spec)
    rel = path.relative_to(settings.root).as_posix()
    with store.begin() as conn:
        conn.execute(s.tasks.update().where(s.tasks.c.id == task_id).values(
            file_path=rel, fingerprint=fingerprint, file_stamp=file_stamp(path)))
        audit.append(conn, at=store.now(), actor=engine.SYSTEM, action="task-file-written", subject=case["number"],
                     detail={"task": task_id, "assignee": task["assignee"], "fingerprint": fingerprint}, file=rel)
    return path


# --- what the 审批 part shows ----------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return money_text(value)
    return str(value)


def _summary(case: dict, task: dict) -> list[tuple[str, str]]:
    step = f"第 {task['step_index'] + 1} 步 · {task['role']}({task['mode']})"
    if case.get("round", 1) > 1:
        step += f" · 第 {case['round']} 轮(退回修改后重新提交)"
    approver = f"{task['assignee']}(代 {task['on_behalf_of']})" if task.get("on_behalf_of") else task["assignee"]
    return [("申请编号", case["number"]), ("表单", case["form_title"]), ("申请人", _text(case["applicant"])),
            ("部门", _text(case["department"])), ("金额", _text(case["amount"])),
            ("提交时间", _text(case.get("updated_at") or case.get("created_at"))),
            ("当前步骤/角色", step), ("审批人", approver), ("办理时限", _text(task.get("due_on")))]


HISTORY_HEADER = ("轮次", "角色", "审批人", "结论", "意见", "时间")


def _history_rows(history: list[dict]) -> list[tuple[str, ...]]:
    rows = []
    for h in history:
        who = f"{h['assignee']}(代 {h['on_behalf_of']})" if h.get("on_behalf_of") else h["assignee"]
        outcome = h.get("decision") or status_label(h["status"])
        rows.append((str(h["round"]), h["role"], who, outcome, _text(h.get("comment")), _text(h.get("decided_at"))))
    return rows


def _warning_lines(warnings: list[dict]) -> list[str]:
    return [f"警告:{w.get('message', '')}" + (f"(依据:{w['source']})" if w.get("source") else "") for w in warnings]


# --- xlsx --------------------------------------------------------------------------------


def _put(cell, value, bold: bool = False) -> None:
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # a form value is never a formula
    if bold:
        cell.font = _BOLD


def _forget_submitted_inputs(wb) -> None:
    # Approval cells in a submitted form are ignored: only the ones we add below count.
    for name in (DECISION_NAME, COMMENT_NAME):
        wb.defined_names.pop(name, None)
        for ws in wb.worksheets:
            ws.defined_names.pop(name, None)


def _xlsx_approval_sheet(wb, case: dict, task: dict, history: list[dict], warnings: list[dict]) -> None:
    clear_xlsx_annotations(wb)  # a resubmitted form: the approver sees the form, not old errors
    _forget_submitted_inputs(wb)
    if SHEET in wb.sheetnames:
        wb[SHEET].title = f"{SHEET}(原表)"
    ws = wb.create_sheet(SHEET, 0)
    _put(ws["A1"], f"{case['form_title']} · 审批单", bold=True)
    _put(ws["A2"], INSTRUCTION)
    row = 4
    for label, value in _summary(case, task):
        _put(ws.cell(row, 1), label, bold=True)
        _put(ws.cell(row, 2), value)
        row += 1
    row = _xlsx_inputs(wb, ws, row + 1)
    row = _xlsx_table(ws, row + 1, "审批记录", HISTORY_HEADER, _history_rows(history) or [("—", "尚无审批记录")])
    for line in _warning_lines(warnings):
        _put(ws.cell(row + 1, 1), line)
        row += 1
    _xlsx_layout(wb, ws)


def _xlsx_inputs(wb, ws, row: int) -> int:
    choice = DataValidation(type="list", formula1='"' + ",".join(DECISIONS) + '"', allow_blank=True,
                            showErrorMessage=True, errorTitle="审批结论", error="请从 同意、驳回、退回修改 中选择。",
                            promptTitle="审批结论", prompt="请选择 同意、驳回 或 退回修改")
    ws.add_data_validation(choice)
    for offset, (name, label) in enumerate(((DECISION_NAME, "审批结论(请选择)"), (COMMENT_NAME, "审批意见"))):
        r = row + offset
        _put(ws.cell(r, 1), label, bold=True)
        cell = ws.cell(r, 2)
        cell.protection = Protection(locked=False)
        cell.fill = _INPUT_FILL
        wb.defined_names[name] = DefinedName(name, attr_text=f"'{SHEET}'!${cell.column_letter}${r}")
        if name == DECISION_NAME:
            choice.add(cell.coordinate)
    return row + 2


COLUMN_WIDTHS = (18, 40, 14, 10, 30, 18)
_WRAP = Alignment(wrap_text=True, vertical="top")


def _xlsx_table(ws, row: int, title: str, header: tuple, rows: list[tuple]) -> int:
    _put(ws.cell(row, 1), title, bold=True)
    for c, text in enumerate(header, start=1):
        _put(ws.cell(row + 1, c), text, bold=True)
    for r, values in enumerate(rows, start=row + 2):
        for c, value in enumerate(values, start=1):
            _put(ws.cell(r, c), value)
            ws.cell(r, c).alignment = _WRAP  # a long comment wraps instead of running off the page
        lines = max(lines_needed(str(v), w) for v, w in zip(values, COLUMN_WIDTHS) if v is not None)
        if lines > 1:
            ws.row_dimensions[r].height = row_height(lines)
    return row + 2 + len(rows)


def _xlsx_layout(wb, ws) -> None:
    for letter, width in zip("ABCDEF", COLUMN_WIDTHS):
        ws.column_dimensions[letter].width = width
    ws.merge_cells("A2:F2")
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[2].height = 32  # Excel does not grow a merged row to fit its text
    ws.protection.sheet = True  # only the two input cells are unlocked
    setup_openpyxl(ws, landscape=True)
    wb.active = 0
    for other in wb.worksheets[1:]:
        other.sheet_view.tabSelected = False


# --- docx --------------------------------------------------------------------------------

_W = nsdecls("w")


def _dropdown_xml(tag: str) -> str:
    items = "".join(f'<w:listItem w:displayText="{d}" w:value="{d}"/>' for d in DECISIONS)
    return (f'<w:sdt {_W}><w:sdtPr><w:alias w:val="{tag}"/><w:tag w:val="{tag}"/><w:showingPlcHdr/>'
            f'<w:dropDownList>{items}</w:dropDownList></w:sdtPr>'
            f'<w:sdtContent><w:r><w:t>请选择</w:t></w:r></w:sdtContent></w:sdt>')


def _text_control_xml(tag: str) -> str:
    return (f'<w:sdt {_W}><w:sdtPr><w:alias w:val="{tag}"/><w:tag w:val="{tag}"/><w:showingPlcHdr/><w:text/>'
            f'</w:sdtPr><w:sdtContent><w:r><w:t>请填写审批意见</w:t></w:r></w:sdtContent></w:sdt>')


def _forget_submitted_controls(document) -> None:
    for tag in document.element.body.iter(qn("w:tag")):
        if tag.get(qn("w:val")) in (DECISION_NAME, COMMENT_NAME):
            tag.set(qn("w:val"), f"已忽略-{tag.get(qn('w:val'))}")


def _docx_approval_table(document, case: dict, task: dict, history: list[dict], warnings: list[dict]) -> None:
    _forget_submitted_controls(document)
    rows = [(label, value) for label, value in _summary(case, task)]
    rows += [("审批记录", ";".join(" ".join(r) for r in _history_rows(history)) or "尚无审批记录")]
    rows += [("警告", line) for line in _warning_lines(warnings)]
    table = document.add_table(rows=len(rows) + 3, cols=2)
    table.style = document.styles["Table Grid"] if "Table Grid" in [s.name for s in document.styles] else None
    table.cell(0, 0).merge(table.cell(0, 1)).text = f"{case['form_title']} · 审批单\n{INSTRUCTION}"
    for i, (label, value) in enumerate(rows, start=1):
        table.cell(i, 0).text, table.cell(i, 1).text = label, value
    for offset, (label, xml) in enumerate((("审批结论", _dropdown_xml(DECISION_NAME)), ("审批意见", _text_control_xml(COMMENT_NAME)))):
        r = len(rows) + 1 + offset
        table.cell(r, 0).text = label
        table.cell(r, 1).paragraphs[0]._p.append(parse_xml(xml))
    body = document.element.body
    body.insert(0, table._tbl)
    body.insert(1, parse_xml(f"<w:p {_W}/>"))  # keep the form's own first table apart from ours

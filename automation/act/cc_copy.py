"""抄送 copies that inform: the form as submitted, marked 「抄送 · 仅供知悉」 on top, with the
outcome (or where the case stands, for a copy made at submission) and the approval trail,
and without the blank form's submission instructions — a copy is not for filling in.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import openpyxl
from openpyxl.styles import Alignment, Font

from automation.act import cc_xlsx, return_docx
from automation.act.approval_record import TRAIL_HEADER, trail
from automation.act.receipts import load_view
from automation.fsutil import atomic_save, safe_name
from automation.record import schema as s
from automation.record.instances import Case

MARK = "抄送 · 仅供知悉"
SHEET = "抄送"
SUBMIT, APPROVED, BOTH = "提交时", "通过后", "两者"
TIMINGS = (SUBMIT, APPROVED, BOTH)
_SUBMIT_HINTS = ("放入 inbox", "即可提交")


def entries(raw) -> list[tuple[str, str]]:
    """``cases.cc`` as (name, 时机): plain names (stored before 时机 existed) mean 通过后."""
    out = []
    for item in raw or []:
        if isinstance(item, str):
            out.append((item, APPROVED))
        elif isinstance(item, (list, tuple)) and item:
            out.append((str(item[0]), str(item[1]) if len(item) > 1 and item[1] in TIMINGS else APPROVED))
    return out


def due_at(timing: str, stage: str) -> bool:
    """Is a copy due for this 时机 at ``stage`` (提交时 | 通过后)?"""
    return timing == BOTH or timing == stage


def copy_path(settings, name: str, case: Case, stage: str, suffix: str) -> Path:
    word = "审批中" if stage == SUBMIT else "已通过"
    return settings.cc / safe_name(name) / f"{safe_name(case.number)} {safe_name(case.form_title)} {word}{suffix}"


def write_copy(rt, name: str, case: Case, stage: str) -> Path:
    source = rt.abs(case.source_file)
    tz = ZoneInfo(rt.settings.time.timezone)
    with rt.store.read() as conn:
        fresh = dict(conn.execute(s.cases.select().where(s.cases.c.id == case.id)).mappings().one())
        view = load_view(conn, fresh)
        steps = trail(conn, case.id, tz)
    lines = [MARK, view.headline(), f"抄送给:{name}。本副本仅供知悉,无需填写或提交。"]
    return write_file(source, copy_path(rt.settings, name, case, stage, source.suffix), lines, steps)


def write_file(source: Path, target: Path, lines: list[str], steps: list[tuple]) -> Path:
    """The copy of ``source`` at ``target`` (atomically): ``lines`` on top, ``steps`` the approval trail."""
    if source.suffix.lower() == ".docx":
        if return_docx.write(source, target, lambda document: _edit_docx(document, lines, steps)):
            return target  # only the main part rewritten, the others copied as stored
        return write_with_library(source, target, lines, steps)
    if cc_xlsx.write(source, target, sheet=SHEET, mark=MARK, replacement=f"{MARK}:{lines[1]}", hints=_SUBMIT_HINTS,
                     lines=lines, trail_header=TRAIL_HEADER, steps=steps):
        return target  # the form's parts copied, only the instructions and the 抄送 sheet written
    return write_with_library(source, target, lines, steps)


def write_with_library(source: Path, target: Path, lines: list[str], steps: list[tuple]) -> Path:
    """The copy through an openpyxl / python-docx load and save: for packages the zip-level writers leave alone."""
    if source.suffix.lower() == ".docx":
        return atomic_save(target, lambda tmp: _docx(source, tmp, lines, steps))
    return atomic_save(target, lambda tmp: _xlsx(source, tmp, lines, steps))


def _xlsx(source: Path, tmp: Path, lines: list[str], steps: list[tuple]) -> None:
    wb = openpyxl.load_workbook(source)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and any(h in cell.value for h in _SUBMIT_HINTS):
                    cell.value = f"{MARK}:{lines[1]}"
    ws = wb.create_sheet(SHEET, 0)
    ws["A1"], ws["A1"].font = MARK, Font(bold=True, size=16, color="C00000")
    for r, text in enumerate(lines[1:], start=2):
        ws.cell(r, 1, text).alignment = Alignment(wrap_text=False)
    ws.cell(5, 1, "审批记录").font = Font(bold=True)
    for c, head in enumerate(TRAIL_HEADER, start=1):
        ws.cell(6, c, head).font = Font(bold=True)
    for r, values in enumerate(steps or [("—", "", "", "", "", "尚无审批记录")], start=7):
        for c, value in enumerate(values, start=1):
            cell = ws.cell(r, c, value)
            cell.data_type = "s"  # a comment is text, never a formula
    for letter, width in zip("ABCDEFGHI", (6, 6, 12, 7, 10, 8, 26, 16, 14)):
        ws.column_dimensions[letter].width = width
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    wb.active = 0
    for other in wb.worksheets[1:]:
        other.sheet_view.tabSelected = False
    wb.save(tmp)


def _docx(source: Path, tmp: Path, lines: list[str], steps: list[tuple]) -> None:
    document = docx.Document(str(source))
    _edit_docx(document, lines, steps)
    document.save(str(tmp))


def _edit_docx(document, lines: list[str], steps: list[tuple]) -> None:
    for para in document.paragraphs:
        if any(h in para.text for h in _SUBMIT_HINTS):
            for run in para.runs[1:]:
                run.text = ""
            if para.runs:
                para.runs[0].text = f"{MARK}:{lines[1]}"
    rows = [(text,) for text in lines] + [("审批记录:" + ";".join(" ".join(v for v in r if v) for r in steps),)] \
        if steps else [(text,) for text in lines]
    table = document.add_table(rows=len(rows), cols=1)
    for i, (text,) in enumerate(rows):
        table.cell(i, 0).text = text
    if table.rows:
        table.cell(0, 0).paragraphs[0].runs[0].bold = True
    body = document.element.body
    body.insert(0, table._tbl)

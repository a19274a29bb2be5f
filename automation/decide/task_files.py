"""Task files: the submitted form, copied into the approver's folder with an 审批 part on top.

The form's own sheets, names and tables are kept as submitted (its data is what
the fingerprint covers; only 申请编号 is filled in); the 审批 sheet or table is ours
and shows what ``approval_view`` gathers — key fields, line items, warnings, the
whole chain with why each step is on it, the history — and the inputs the approver
may fill: 审批结论, 审批意见, 转交给, 加签人, 加签方式, 退回到.
"""

from __future__ import annotations

import functools
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import docx
import docx.document
import openpyxl
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Emu, Pt
from lxml import etree
from sqlalchemy import bindparam
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from automation import fsutil
from automation.act.returns import clear_docx_annotations, clear_xlsx_annotations
from automation.act.stamp import set_control_text
from automation.decide import engine, task_xlsx
from automation.forms import zip_package as package
from automation.decide.approval_view import CHAIN_HEADER, HISTORY_HEADER, ApprovalView, build_view
from automation.decide.engine import FOLDER_DECISIONS, SIGN_MODES
from automation.decide.integrity import fingerprint_of, form_fingerprint
from automation.decide.officefile import (
    BACK_TO_NAME,
    CASE_PROP,
    COMMENT_NAME,
    DECISION_NAME,
    DECISION_TABLE_HEADER,
    INPUT_NAMES,
    PROMPTS,
    SIGN_MODE_NAME,
    SIGNER_NAME,
    TASK_PROP,
    TRANSFER_NAME,
    atomic_save,
    set_docx_props,
    set_xlsx_props,
)
from automation.forms.docx_reader import SUMMARY_HEADER, normal_label, read_body_reading
from automation.forms.raw import read_raw
from automation.forms.spec import CASE_FIELD
from automation.forms.repair import needs_renames, open_docx, open_xlsx
from automation.fsutil import file_stamp, sha256_file
from automation.printing import setup_openpyxl
from automation.record import audit, codec
from automation.record import schema as s
from automation.record.instances import Case, Task

SHEET = "审批"
DECISION_FOLDERS = FOLDER_DECISIONS  # 同意/ 驳回/ 退回修改/
DONE_FOLDER = "已办"
INSTRUCTION = ("请阅读下方申请信息和审批流程,在本页最下方「您的审批」中填写审批结论和审批意见后保存;"
               "或将本文件拖入 同意/驳回/退回修改 文件夹(驳回和退回修改须先写明审批意见)。")
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


def write_task_file(settings, *, case: Case, task: Task, history: list[Task], warnings: list[dict],
                    source_file: Path, kind: str, spec=None, tasks: list[Task] | None = None,
                    people: tuple[str, ...] = (), transfer_allowed: bool = True) -> Path:
    return _write_task_file(settings, case=case, task=task, history=history, warnings=warnings,
                            source_file=source_file, kind=kind, spec=spec, tasks=tasks, people=people,
                            transfer_allowed=transfer_allowed)[0]


def _write_task_file(settings, *, case: Case, task: Task, history: list[Task], warnings: list[dict],
                     source_file: Path, kind: str, spec=None, tasks: list[Task] | None = None,
                     people: tuple[str, ...] = (), transfer_allowed: bool = True) -> tuple[Path, str | None]:
    """(the task file, its form fingerprint when known without reading the file again)."""
    ensure_person_folders(settings, task.assignee)
    path = task_file_path(settings, task.assignee, case.number, case.form_title, case.applicant,
                          case.amount, kind)
    props = {TASK_PROP: str(task.id), CASE_PROP: case.number}
    view = build_view(case=case, task=task, tasks=tasks if tasks is not None else [task], history=history,
                      warnings=warnings, spec=spec, people=people, transfer_allowed=transfer_allowed)
    if kind == "docx":
        written = _write_docx_at_zip_level(source_file, path, view, case.number, props, spec=spec)
        if written is None:
            write_docx_with_python_docx(source_file, path, view, case.number, props)
            return path, None
        return path, written[1]
    addition = xlsx_addition(view, case.number, props)
    if not task_xlsx.write(source_file, path, addition):
        write_xlsx_with_openpyxl(source_file, path, view, case.number, props)
        return path, None
    return path, _zip_fingerprint(source_file, spec, addition)


def _zip_fingerprint(source_file: Path, spec, addition: task_xlsx.Addition) -> str | None:
    """The fingerprint of an Excel task file written at zip level, from the form's own values: its sheets
    are the form's bytes but for 申请编号, filled in as text (the form was read at intake, and
    ``read_raw`` remembers a file by its bytes). None when it must be read from the task file."""
    if spec is None or spec.kind != "xlsx":
        return None
    raw, locations, _ = read_raw(source_file, spec)
    if addition.filled is not None:
        sheet, cell = addition.filled
        found = locations.get(CASE_FIELD)
        if getattr(found, "text", found) != f"{sheet}!{cell}":
            return None
        raw[CASE_FIELD] = addition.case_number
    elif CASE_FIELD in locations:
        return None
    return fingerprint_of(raw, spec)


def write_xlsx_with_openpyxl(source_file: Path, path: Path, view: ApprovalView, number: str, props: dict) -> None:
    """The Excel task file through an openpyxl load and save: for packages the zip-level writer leaves alone."""
    wb = open_xlsx(source_file)
    _xlsx_approval_sheet(wb, view, number)
    set_xlsx_props(wb, props)
    atomic_save(wb.save, path)


def write_docx_with_python_docx(source_file: Path, path: Path, view: ApprovalView, number: str, props: dict) -> None:
    """The Word task file through a python-docx load and save: for packages the zip-level writer leaves alone."""
    document = open_docx(source_file)
    _docx_in_place(document, view, number)
    set_docx_props(document, props)
    atomic_save(document.save, path)


def _docx_in_place(document, view: ApprovalView, number: str) -> None:
    clear_docx_annotations(document)
    set_control_text(document, CASE_FIELD, number)
    _docx_approval_block(document, view)


def _docx_fingerprint(body, spec) -> str | None:
    """The fingerprint of a Word task file written at zip level, from the body it was written from (the
    main part is that tree serialized, and ``read_raw`` parses the main part alone with python-docx's
    element classes): no second read of the file. None when it must be read from the task file."""
    if spec is None or spec.kind != "docx":
        return None
    return fingerprint_of(read_body_reading(body, spec)[0][0], spec)


def _block_may_answer(view: ApprovalView, spec) -> bool:
    """Whether the 审批 block of ``view`` could answer a look-up of the form's reader for ``spec``: a
    field named like one of the block's controls, or labelled like a cell of its 审批流程 / 审批记录
    tables (the reader skips the 申请信息 and decision tables), or a line-item table whose columns all
    head one of its tables. When it cannot, the form's own body, read without the block, gives the
    task file's values (the block comes first in the body, so only its own entries could differ)."""
    labels = {normal_label(task_xlsx.ILLEGAL_CHARACTERS_RE.sub("", str(value or "")))
              for header, rows in ((CHAIN_HEADER, view.chain),
                                   (HISTORY_HEADER, view.history or [("—", "", "", "尚无审批记录", "")]))
              for line in (header, *rows) for value in line[:len(header) - 1]}
    labels.discard("")
    for field in spec.fields:
        names = {field.key, field.label or field.key}
        if names & set(INPUT_NAMES) or {normal_label(n) for n in names} & labels:
            return True
    headers = (SUMMARY_HEADER, CHAIN_HEADER, HISTORY_HEADER, DECISION_TABLE_HEADER)
    return any(all(c.key in header for c in table.columns) for table in spec.tables for header in headers)


def write_docx_at_zip_level(source_file: Path, path: Path, view: ApprovalView, number: str, props: dict) -> bool:
    """The Word task file with only the main part (and the custom properties) rewritten; every other part —
    styles, numbering, fonts, images — copied as stored. The body is edited by the same code as
    ``write_docx_with_python_docx`` on python-docx's element classes, without loading the package.
    False (nothing written) when the package needs python-docx's own load."""
    return _write_docx_at_zip_level(source_file, path, view, number, props) is not None


def _write_docx_at_zip_level(source_file: Path, path: Path, view: ApprovalView, number: str, props: dict,
                              spec=None, *, splice: bool = True) -> tuple[bool, str | None] | None:
    """``write_docx_at_zip_level``: None when nothing was written, else (True, the form fingerprint of the
    file written when known without reading it; None if not).

    The form's body is edited as a tree; the 审批 block is not parsed into it but written as text right
    after ``<w:body>`` in the serialized part (``_docx_block_xml`` writes it as lxml would serialize it;
    tests/test_task_file_zip.py compares the two), and the fingerprint is read from the form's body alone
    when the block cannot answer the reader (``_block_may_answer``). A body that does not serialize
    with a plain ``<w:body>`` under the ``w`` prefix gets the block inserted as a tree, as before."""
    try:
        with package.open_package(source_file) as zf:
            if needs_renames(zf, "docx"):
                return None
            main, root_rels, styles = package.main_and_styles(zf)
            grid = _table_grid(zf, styles)
            root = parse_xml(zf.read(main))
            document = docx.document.Document(root, _TableStyles(grid))
            document.__dict__["_officeflow_grid"] = grid is not None
            clear_docx_annotations(document)
            set_control_text(document, CASE_FIELD, number)
            _forget_submitted_controls(document)
            body = document.element.body
            block = _docx_block_xml(document, view, grid)
            main_xml = package.serial(root) if splice and root.nsmap.get("w") == _W_NS else b""
            at = main_xml.find(b"<w:body>")
            if at >= 0 and main_xml.find(b"<w:body>", at + 1) < 0 and not _NOT_XML.search(block):
                at += len(b"<w:body>")
                main_xml = main_xml[:at] + block.encode("utf-8") + main_xml[at:]
                fingerprint = None if spec is None or spec.kind != "docx" or _block_may_answer(view, spec) \
                    else fingerprint_of(read_body_reading(body, spec)[0][0], spec)
            else:
                for index, element in enumerate(_parsed_block(block)):
                    body.insert(index, element)
                main_xml, fingerprint = package.serial(root), _docx_fingerprint(body, spec)
            types = etree.fromstring(zf.read("[Content_Types].xml"), package.PARSER)
            changed = {main: main_xml}
            changed.update(package.custom_properties(zf, root_rels, types, props))
            changed["[Content_Types].xml"] = package.serial(types)
            package.write(source_file, path, changed, archive=zf)
    except (package.Unsupported, KeyError, ValueError, etree.XMLSyntaxError, zipfile.BadZipFile):
        return None
    return True, fingerprint


def _docx_block(document, view: ApprovalView, grid) -> list:
    """The elements ``_docx_approval_block`` inserts, written as XML directly (python-docx's table and run
    objects cost most of a Word task file): the same paragraphs, tables, widths, style and controls,
    byte for byte (tests/test_task_file_zip.py compares the two)."""
    return _parsed_block(_docx_block_xml(document, view, grid))


def _parsed_block(xml: str) -> list:
    return list(parse_xml(f"<w:body {_W}>{xml}</w:body>"))


def _attr(value: str) -> str:
    """An attribute value quoted as lxml serializes it."""
    return '"' + escape(value, _ATTR_ESCAPES) + '"'


_ATTR_ESCAPES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
# What XML 1.0 cannot hold (a parse would refuse it; the tree path then leaves the file to python-docx).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _docx_block_xml(document, view: ApprovalView, grid) -> str:
    """The 审批 block as the XML text of its elements, in lxml's serialization (attributes in double
    quotes, ``>`` escaped), so that it can stand in the serialized main part as it is."""
    style = f'<w:tblStyle w:val={_attr(grid[0])}/>' if grid is not None and grid[0] is not None else ""
    width = document._block_width
    out = [_heading_xml(view.title, size=14), f"<w:p>{_run_xml(INSTRUCTION)}</w:p>"]
    summary = view.header + view.summary
    if view.items:
        summary += [(view.items_title, "\n".join(" · ".join(v for v in line if v) for line in view.items))]
    summary += [("提示与警告", line) for line in view.warnings]
    out += [_heading_xml("申请信息"), _table_xml(SUMMARY_HEADER, summary, width, style)]
    out += [_heading_xml("审批流程"), _table_xml(CHAIN_HEADER, view.chain, width, style)]
    out += [_heading_xml("审批记录"),
            _table_xml(HISTORY_HEADER, view.history or [("—", "", "", "尚无审批记录", "")], width, style)]
    controls = _decision_controls_xml(view)
    rows = [(label, None, prompt) for _, label, prompt in INPUTS]
    inner = {r: controls[name].replace(f"<w:sdt {_W}>", "<w:sdt>") for r, (name, _, _) in enumerate(INPUTS, start=1)}
    out += [_heading_xml("您的审批(填写后保存即可)"),
            _table_xml(DECISION_TABLE_HEADER, rows, width, style, bold_header=False, inner=inner), "<w:p/>"]
    return _EMPTY_ELEMENT.sub(r"<\1\2/>", "".join(out))


_EMPTY_ELEMENT = re.compile(r"<(w:\w+)((?: [^<>]*)?)></\1>")  # written <w:r/>, as lxml does


def _heading_xml(text: str, size: int | None = None) -> str:
    props = "<w:b/>" + (f'<w:sz w:val="{size * 2}"/>' if size else "")
    return f"<w:p>{_run_xml(text, props)}</w:p>"


_RUN_SPLIT = re.compile(r"(\t|\n|\r)")


@functools.lru_cache(maxsize=4096)  # labels, headers and chain lines recur on every Word task file
def _run_xml(text: str, props: str = "") -> str:
    """A run as python-docx's ``run.text = text`` writes it: tabs and line breaks as elements."""
    rpr = f"<w:rPr>{props}</w:rPr>" if props else ""
    content = []
    for piece in _RUN_SPLIT.split(text or ""):
        if piece == "\t":
            content.append("<w:tab/>")
        elif piece in ("\n", "\r"):
            content.append("<w:br/>")
        elif piece:
            piece = task_xlsx.ILLEGAL_CHARACTERS_RE.sub("", piece)
            space = ' xml:space="preserve"' if piece != piece.strip() else ""
            content.append(f"<w:t{space}>{escape(piece)}</w:t>")
    return f"<w:r>{rpr}{''.join(content)}</w:r>"


def _table_xml(header: tuple, rows: list[tuple], width: int, style: str, *, bold_header: bool = True,
               inner: dict | None = None) -> str:
    cols = len(header)
    twips = Emu(width // cols).twips if cols > 0 else 0
    cell_start = f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{twips}"/></w:tcPr>'
    out = [f'<w:tbl><w:tblPr>{style}<w:tblW w:type="auto" w:w="0"/><w:tblLook w:firstColumn="1" w:firstRow="1" '
           'w:lastColumn="0" w:lastRow="0" w:noHBand="0" w:noVBand="1" w:val="04A0"/></w:tblPr><w:tblGrid>'
           + f'<w:gridCol w:w="{twips}"/>' * cols + "</w:tblGrid>"]
    for r, values in enumerate([header, *rows]):
        out.append("<w:tr>")
        for c in range(cols):
            if r and inner and c == 1 and r in inner:
                paragraph = f"<w:p>{inner[r]}</w:p>"
            elif c < len(values):
                value = values[c] if r == 0 else (values[c] or "")
                paragraph = f"<w:p>{_run_xml(value, '<w:b/>' if r == 0 and bold_header else '')}</w:p>"
            else:
                paragraph = "<w:p/>"
            out.append(f"{cell_start}{paragraph}</w:tc>")
        out.append("</w:tr>")
    out.append("</w:tbl>")
    return "".join(out)


_GRID_CACHE: dict[tuple, tuple[str | None] | None] = {}
_STYLE_START = re.compile(rb"<w:style\b[^>]*>")


def _table_grid(zf: zipfile.ZipFile, styles: str | None) -> tuple[str | None] | None:
    """Where the form's styles define 「Table Grid」: (its style id, or None when it is the default table
    style — python-docx then writes no style); None when there is none. Kept per styles part (CRC, size)."""
    if styles is None or styles not in zf.namelist():
        return None
    info = zf.getinfo(styles)
    key = (info.CRC, info.file_size)
    if key not in _GRID_CACHE:
        data = zf.read(styles)
        found = None
        at = data.find(b'<w:name w:val="Table Grid"/>')
        start = data.rfind(b"<w:style ", 0, at) if at >= 0 else -1
        if start >= 0:
            tag = _STYLE_START.match(data, start).group(0)
            style_id = re.search(rb'w:styleId="([^"]*)"', tag)
            if b'w:type="table"' not in tag or style_id is None:
                raise package.Unsupported("Table Grid is not a table style")
            found = (None if re.search(rb'w:default="(1|true)"', tag) else style_id.group(1).decode(),)
        _GRID_CACHE[key] = found
    return _GRID_CACHE[key]


class _TableStyles:
    """What python-docx's table code asks of the document part, answered for 「Table Grid」 alone."""

    def __init__(self, grid):
        self.styles = {"Table Grid": "Table Grid"}
        self._grid = grid

    def get_style_id(self, style, style_type):
        if style is None:
            return None
        if style != "Table Grid" or self._grid is None:
            raise package.Unsupported(f"style {style}")
        return self._grid[0]


def load_for_issue(conn, task_id: int, case_id: int | None = None) -> tuple[Task, Case, list[Task]]:
    """(the task, its case, every task of the case): what ``issue_task_file`` writes from, in two queries
    when the case is known (the task is one of its case's tasks)."""
    if case_id is None:
        case_id = engine.load_task(conn, task_id).case_id
    case = engine.load_case(conn, case_id)
    tasks = engine.case_tasks(conn, case_id)
    task = next((t for t in tasks if t.id == task_id), None) or engine.load_task(conn, task_id)
    return task, case, tasks


def issue_task_file(store, settings, task_id: int, *, spec, people: tuple[str, ...] = (),
                    transfer_allowed: bool = True, loaded: tuple[Task, Case, list[Task]] | None = None) -> Path:
    """Write the task file of an open task and record its path and form fingerprint on the task.

    ``people`` are the active names offered for 转交给 and 加签人. ``loaded``: ``load_for_issue``'s answer,
    when the caller has just read it (one read per task file, not three)."""
    if loaded is None:
        with store.read() as conn:
            loaded = load_for_issue(conn, task_id)
    task, case, tasks = loaded
    history = sorted((t for t in tasks if t.decision), key=lambda t: (t.decided_at, t.id))  # engine.case_history
    path, known = _write_task_file(settings, case=case, task=task, history=history,
                                   warnings=codec.loads(case.warnings) or [],
                                   source_file=settings.root / case.source_file, kind=case.file_kind or spec.kind,
                                   spec=spec, tasks=tasks, people=people, transfer_allowed=transfer_allowed)
    fingerprint = known or form_fingerprint(path, spec)
    rel = path.relative_to(settings.root).as_posix()
    stamp, file_hash = _stamp_and_hash(path)  # (read before the write transaction, not in it)
    with store.begin() as conn:
        conn.execute(_RECORD, {"task_id": task_id, "rel": rel, "fp": fingerprint, "stamp": stamp})
        audit.append(conn, at=store.now(), actor=engine.SYSTEM, action="task-file-written", subject=case.number,
                     detail={"task": task_id, "assignee": task.assignee, "fingerprint": fingerprint}, file=rel,
                     file_hash=file_hash)  # a decision by move of these very bytes needs no re-read
    return path


def _stamp_and_hash(path: Path) -> tuple[str | None, str | None]:
    """The new task file's stamp and SHA-256, or (None, None) when its approver has already moved it away:
    the decision is then read from the file as it stands, the slower way, never refused for it."""
    try:
        return file_stamp(path), sha256_file(path)[0]
    except FileNotFoundError:
        return None, None


# The statement recording a task file, built once (building it per file cost more than running it).
_RECORD = s.tasks.update().where(s.tasks.c.id == bindparam("task_id")).values(
    file_path=bindparam("rel"), fingerprint=bindparam("fp"), file_stamp=bindparam("stamp"))


# --- xlsx --------------------------------------------------------------------------------

INPUTS = ((DECISION_NAME, "审批结论(请选择)", "请选择 同意、驳回、退回修改、转交 或 加签"),
          (COMMENT_NAME, "审批意见", "驳回和退回修改须写明原因"),
          (TRANSFER_NAME, "转交给", "审批结论选「转交」时,从名单中选择接手的人"),
          (SIGNER_NAME, "加签人", "审批结论选「加签」时,从名单中选择加签的人"),
          (SIGN_MODE_NAME, "加签方式", "前加签:加签人先审批,再回到您;后加签:您同意后,加签人在下一步之前审批"),
          (BACK_TO_NAME, "退回到", "退回修改时退回给谁:默认申请人,也可选本步骤之前的某一步"))
OPTIONS_SHEET = "审批选项"
_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_SECTION_FILL = PatternFill("solid", fgColor="D9E1F2")
_WRAP = Alignment(wrap_text=True, vertical="top")
_WIDTHS = (18, 18, 26, 30, 22, 16)


def _put(cell, value, bold: bool = False) -> None:
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # a form value is never a formula
    if bold:
        cell.font = _BOLD


def _forget_submitted_inputs(wb) -> None:
    # Approval cells in a submitted form are ignored: only the ones we add below count.
    for name in INPUT_NAMES:
        wb.defined_names.pop(name, None)
        for ws in wb.worksheets:
            ws.defined_names.pop(name, None)


def _fill_case_number(wb, number: str) -> None:
    defined = wb.defined_names.get(CASE_FIELD)
    for sheet, ref in (defined.destinations if defined is not None else ()):
        if sheet in wb.sheetnames:
            cell = wb[sheet][ref.replace("$", "").split(":")[0]]
            cell.value, cell.data_type = number, "s"


def _xlsx_approval_sheet(wb, view: ApprovalView, number: str) -> None:
    clear_xlsx_annotations(wb)  # a resubmitted form: the approver sees the form, not old errors
    _forget_submitted_inputs(wb)
    _fill_case_number(wb, number)
    for name in (SHEET, OPTIONS_SHEET):
        if name in wb.sheetnames:
            wb[name].title = f"{name}(原表)"
    ws = wb.create_sheet(SHEET, 0)
    _put(ws["A1"], view.title, bold=True)
    ws["A1"].font = Font(bold=True, size=14)
    _put(ws["A2"], INSTRUCTION)
    row = _xlsx_pairs(ws, 3, "申请信息", view.header + view.summary)
    if view.items:
        row = _xlsx_table(ws, row + 1, view.items_title, view.items_header, view.items)
    if view.warnings:
        row = _xlsx_lines(ws, row + 1, "提示与警告", view.warnings)
    row = _xlsx_table(ws, row + 1, "审批流程", CHAIN_HEADER, view.chain, wide=4)
    row = _xlsx_table(ws, row + 1, "审批记录", HISTORY_HEADER, view.history or [("—", "", "", "尚无审批记录", "")], wide=5)
    row = _xlsx_inputs(wb, ws, row + 1, view)
    _xlsx_layout(wb, ws, row - 1)


def _section(ws, row: int, title: str, last_col: int = 6) -> None:
    _put(ws.cell(row, 1), title, bold=True)
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last_col)
    fill, border = _style_id(ws, "_fills", _SECTION_FILL), _style_id(ws, "_borders", _BORDER)
    for c in range(1, last_col + 1):
        style = _style_array(ws.cell(row, c))
        style.fillId, style.borderId = fill, border


def _style_array(cell) -> StyleArray:
    if not cell._style:  # as openpyxl's style descriptors do for a cell never styled
        cell._style = StyleArray()
    return cell._style


def _style_id(ws, collection: str, value) -> int:
    """The workbook's index of a border/fill/alignment: what ``cell.border = value`` stores, found
    once per workbook instead of hashing the style object again for every cell."""
    cache = ws.parent.__dict__.setdefault("_officeflow_style_ids", {})
    key = (collection, id(value))
    if key not in cache:
        cache[key] = getattr(ws.parent, collection).add(value)
    return cache[key]


def _boxed(ws, row: int, first: int, last: int) -> None:
    border, wrap = _style_id(ws, "_borders", _BORDER), _style_id(ws, "_alignments", _WRAP)
    for c in range(first, last + 1):
        style = _style_array(ws.cell(row, c))
        style.borderId, style.alignmentId = border, wrap
    _fit_height(ws, row, last)


def _fit_height(ws, row: int, last: int) -> None:
    """Excel does not grow a row with merged cells to fit wrapped text: set the height from the text."""
    lines = 1
    for merged in ws.merged_cells.ranges:
        if merged.min_row == row:
            width = sum(_WIDTHS[c - 1] if c <= len(_WIDTHS) else 12 for c in range(merged.min_col, merged.max_col + 1))
            lines = max(lines, _lines(ws.cell(row, merged.min_col).value, width))
    for c in range(1, last + 1):
        if not any(m.min_row == row and m.min_col <= c <= m.max_col for m in ws.merged_cells.ranges):
            lines = max(lines, _lines(ws.cell(row, c).value, _WIDTHS[c - 1] if c <= len(_WIDTHS) else 12))
    if lines > 1:
        ws.row_dimensions[row].height = 15 * lines


def _lines(value, width: int) -> int:
    if value is None or value == "":
        return 1
    if type(value) is str:  # labels, names and chain lines recur on every task file: each counted once
        key = (value, width)
        lines = _LINES_SEEN.get(key)
        if lines is None:
            if len(_LINES_SEEN) >= _LINES_MEMO:
                _LINES_SEEN.clear()
            lines = _LINES_SEEN[key] = _count_lines(value, width)
        return lines
    return _count_lines(value, width)


def _count_lines(value, width: int) -> int:
    units = sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(value))
    return max(1, -(-units // max(1, width - 2)), str(value).count("\n") + 1)


_LINES_MEMO = 8192
_LINES_SEEN: dict[tuple[str, int], int] = {}


def _xlsx_pairs(ws, row: int, title: str, pairs: list[tuple[str, str]]) -> int:
    _section(ws, row, title)
    for r, (label, value) in enumerate(pairs, start=row + 1):
        _put(ws.cell(r, 1), label, bold=True)
        _put(ws.cell(r, 2), value)
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=6)
        _boxed(ws, r, 1, 6)
    return row + 1 + len(pairs)


def _xlsx_lines(ws, row: int, title: str, lines: list[str]) -> int:
    _section(ws, row, title)
    for r, line in enumerate(lines, start=row + 1):
        _put(ws.cell(r, 1), line)
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=6)
        _boxed(ws, r, 1, 6)
    return row + 1 + len(lines)


def _xlsx_table(ws, row: int, title: str, header: tuple, rows: list[tuple], wide: int | None = None) -> int:
    """A bordered table; its last column ``wide`` (1-based) spans to F so long texts have room."""
    last = max(6, len(header))
    _section(ws, row, title, last)
    for r, values in enumerate([header, *rows], start=row + 1):
        for c, value in enumerate(values, start=1):
            _put(ws.cell(r, c), value, bold=r == row + 1)
        if wide and wide < 6:
            ws.merge_cells(start_row=r, start_column=wide, end_row=r, end_column=6)
        _boxed(ws, r, 1, last)
    return row + 2 + len(rows)


def _xlsx_inputs(wb, ws, row: int, view: ApprovalView) -> int:
    _section(ws, row, "您的审批(填写后保存即可)")
    lists = _options_sheet(wb, view)
    for offset, (name, label, prompt) in enumerate(INPUTS, start=1):
        r = row + offset
        _put(ws.cell(r, 1), label, bold=True)
        cell = ws.cell(r, 2)
        cell.protection = Protection(locked=False)
        cell.fill = _INPUT_FILL
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=6)
        _boxed(ws, r, 1, 6)
        wb.defined_names[name] = DefinedName(name, attr_text=f"'{SHEET}'!${cell.column_letter}${r}")
        source = lists.get(name)
        validation = DataValidation(type="list", formula1=source, allow_blank=True, showErrorMessage=name != COMMENT_NAME,
                                    errorTitle=label, error=f"请从下拉列表中选择「{label}」。", promptTitle=label,
                                    prompt=prompt, showInputMessage=True) if source else \
            DataValidation(type="textLength", operator="lessThanOrEqual", formula1="2000", allow_blank=True,
                           promptTitle=label, prompt=prompt, showInputMessage=True)
        ws.add_data_validation(validation)
        validation.add(cell.coordinate)
    return row + 1 + len(INPUTS)


def _options_sheet(wb, view: ApprovalView) -> dict[str, str]:
    """Drop-down sources: short lists inline, the roster and the earlier steps on a hidden sheet."""
    sheet = wb.create_sheet(OPTIONS_SHEET)
    sheet.sheet_state = "hidden"
    sheet.protection.sheet = True
    for column, values in enumerate((view.people or ("—",), view.back_to), start=1):
        for r, value in enumerate(values, start=1):
            _put(sheet.cell(r, column), value)
    people = f"'{OPTIONS_SHEET}'!$A$1:$A${max(1, len(view.people))}"
    return {DECISION_NAME: '"' + ",".join(view.decisions) + '"', TRANSFER_NAME: people, SIGNER_NAME: people,
            SIGN_MODE_NAME: '"' + ",".join(SIGN_MODES) + '"',
            BACK_TO_NAME: f"'{OPTIONS_SHEET}'!$B$1:$B${len(view.back_to)}"}


def _xlsx_layout(wb, ws, last_row: int) -> None:
    for c, width in enumerate(_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.merge_cells("A1:F1")
    ws.merge_cells("A2:F2")
    ws["A2"].alignment = _WRAP
    ws.row_dimensions[2].height = 32  # Excel does not grow a merged row to fit its text
    ws.protection.sheet = True  # only the input cells are unlocked
    setup_openpyxl(ws, landscape=True, fit_height=True)  # everything needed to decide, on one A4 page
    ws.print_area = f"A1:F{last_row}"
    wb.active = 0
    for other in wb.worksheets[1:]:
        other.sheet_view.tabSelected = False


# --- xlsx at zip level: the same sheet as a model (decide.task_xlsx writes it) ------------


def xlsx_addition(view: ApprovalView, number: str, props: dict, *, precompiled: bool = True) -> task_xlsx.Addition:
    """The 审批 and 审批选项 sheets as ``_xlsx_approval_sheet`` lays them out, as data.

    ``precompiled``: the 审批 sheet as rows of a precompiled layout (``_PrecompiledApproval``) instead of
    a cell model; the same bytes (tests/test_task_file_zip.py compares the two), used when it applies."""
    if precompiled:
        fast = _PrecompiledApproval.of(view)
        if fast is not None:
            return _addition(view, number, props, fast, fast.inputs_row)
    sheet = task_xlsx.SheetModel(widths=_WIDTHS, page=True)

    def put(row, col, value, is_bold=False):
        sheet.set_value(row, col, value)
        if is_bold:
            sheet.style(row, col, font="bold")

    def merge(row, first, last):
        sheet.merges.append(f"{get_column_letter(first)}{row}:{get_column_letter(last)}{row}")

    def section(row, title, last_col=6):
        put(row, 1, title, True)
        merge(row, 1, last_col)
        for c in range(1, last_col + 1):
            sheet.style(row, c, fill="section", border=True)

    def boxed(row, first, last, spans):
        for c in range(first, last + 1):
            sheet.style(row, c, border=True, wrap=True)
        lines = 1
        for lo, hi in spans:
            width = sum(_WIDTHS[c - 1] if c <= len(_WIDTHS) else 12 for c in range(lo, hi + 1))
            lines = max(lines, _lines(sheet.cells.get((row, lo), [None])[0], width))
        for c in range(1, last + 1):
            if not any(lo <= c <= hi for lo, hi in spans):
                lines = max(lines, _lines(sheet.cells.get((row, c), [None])[0], _WIDTHS[c - 1] if c <= len(_WIDTHS) else 12))
        if lines > 1:
            sheet.heights[row] = 15 * lines

    sheet.put(1, 1, view.title, font="title")
    sheet.put(2, 1, INSTRUCTION, wrap=True)
    row = 3
    section(row, "申请信息")
    pairs = view.header + view.summary
    for r, (label, value) in enumerate(pairs, start=row + 1):
        put(r, 1, label, True)
        put(r, 2, value)
        merge(r, 2, 6)
        boxed(r, 1, 6, [(2, 6)])
    row = row + 1 + len(pairs)

    def table(row, title, header, rows, wide=None):
        last = max(6, len(header))
        section(row, title, last)
        for r, values in enumerate([header, *rows], start=row + 1):
            for c, value in enumerate(values, start=1):
                put(r, c, value, r == row + 1)
            spans = []
            if wide and wide < 6:
                merge(r, wide, 6)
                spans = [(wide, 6)]
            boxed(r, 1, last, spans)
        return row + 2 + len(rows)

    def lines_block(row, title, lines):
        section(row, title)
        for r, line in enumerate(lines, start=row + 1):
            put(r, 1, line)
            merge(r, 1, 6)
            boxed(r, 1, 6, [(1, 6)])
        return row + 1 + len(lines)

    if view.items:
        row = table(row + 1, view.items_title, view.items_header, view.items)
    if view.warnings:
        row = lines_block(row + 1, "提示与警告", view.warnings)
    row = table(row + 1, "审批流程", CHAIN_HEADER, view.chain, wide=4)
    row = table(row + 1, "审批记录", HISTORY_HEADER, view.history or [("—", "", "", "尚无审批记录", "")], wide=5)

    row += 1
    section(row, "您的审批(填写后保存即可)")
    for offset, (name, label, prompt) in enumerate(INPUTS, start=1):
        r = row + offset
        put(r, 1, label, True)
        sheet.style(r, 2, unlocked=True, fill="input")
        for c in range(3, 7):
            sheet.style(r, c, unlocked=True)  # as openpyxl leaves the cells the input's merge covers
        merge(r, 2, 6)
        boxed(r, 1, 6, [(2, 6)])
    sheet.merges += ["A1:F1", "A2:F2"]
    sheet.heights[2] = 32
    return _addition(view, number, props, sheet, row)


def _addition(view: ApprovalView, number: str, props: dict, sheet, row: int) -> task_xlsx.Addition:
    """The Addition around a laid-out 审批 sheet whose 「您的审批」 section starts at ``row``: the
    options sheet, the input names and their validations, the print area."""
    options = task_xlsx.SheetModel()
    for column, values in enumerate((view.people or ("—",), view.back_to), start=1):
        for r, value in enumerate(values, start=1):
            options.set_value(r, column, value)
    people = f"'{OPTIONS_SHEET}'!$A$1:$A${max(1, len(view.people))}"
    lists = {DECISION_NAME: '"' + ",".join(view.decisions) + '"', TRANSFER_NAME: people, SIGNER_NAME: people,
             SIGN_MODE_NAME: '"' + ",".join(SIGN_MODES) + '"',
             BACK_TO_NAME: f"'{OPTIONS_SHEET}'!$B$1:$B${len(view.back_to)}"}
    names = {}
    for offset, (name, label, prompt) in enumerate(INPUTS, start=1):
        r = row + offset
        names[name] = f"'{SHEET}'!$B${r}"
        source = lists.get(name)
        ref = f"B{r}"
        sheet.validations.append(
            task_xlsx.validation_xml(ref, kind="list", formula=source, label=label, prompt=prompt,
                                     show_error=name != COMMENT_NAME) if source else
            task_xlsx.validation_xml(ref, kind="textLength", formula="2000", label=label, prompt=prompt,
                                     show_error=False, operator="lessThanOrEqual"))
    last_row = row + len(INPUTS)
    return task_xlsx.Addition(approval=sheet, options=options, approval_name=SHEET, options_name=OPTIONS_SHEET,
                              names=names, print_area=f"'{SHEET}'!$A$1:$F${last_row}", drop_names=INPUT_NAMES,
                              case_field=CASE_FIELD, case_number=number, props=props)


_S = task_xlsx.Style
_TITLE, _WRAP_ONLY = _S(font="title"), _S(wrap=True)
_SECTION_TITLE, _SECTION_REST = _S(font="bold", fill="section", border=True), _S(fill="section", border=True)
_LABEL, _BOX = _S(font="bold", border=True, wrap=True), _S(border=True, wrap=True)
_INPUT, _COVERED = _S(fill="input", border=True, wrap=True, unlocked=True), _S(border=True, wrap=True, unlocked=True)
_PRECOMPILED_STYLES = frozenset((_TITLE, _WRAP_ONLY, _SECTION_TITLE, _SECTION_REST, _LABEL, _BOX, _INPUT, _COVERED))
_SPAN_WIDTH = {(lo, hi): sum(_WIDTHS[c - 1] if c <= len(_WIDTHS) else 12 for c in range(lo, hi + 1))
               for lo in range(1, 7) for hi in range(lo, 7)}


class _PrecompiledApproval:
    """The 审批 sheet of ``xlsx_addition`` laid out row by row from a few precompiled row kinds (section,
    pair, table header and line, warning, input) instead of a cell model: the same cells, formats,
    merges, heights and validations, written into the same frame (``task_xlsx.framed``). Every value is
    an inline string (``task_xlsx._cell_xml``). ``of`` answers None for a view it does not lay out the
    same way (a row longer than its table's header); the cell model is used then."""

    __slots__ = ("rows", "merges", "heights", "validations", "inputs_row", "max_col")
    widths, page = _WIDTHS, True

    def __init__(self):
        self.rows: list[tuple[int, list]] = []  # (row, [(col, value, Style)]) in row order, columns ascending
        self.merges: list[str] = []
        self.heights: dict[int, float] = {}
        self.validations: list[str] = []
        self.inputs_row = 0
        self.max_col = 6

    @classmethod
    def of(cls, view: ApprovalView):
        for header, rows in ((view.items_header, view.items), (CHAIN_HEADER, view.chain), (HISTORY_HEADER, view.history)):
            if len(header) >= len(_COL) or any(len(values) > max(6, len(header)) for values in rows):
                return None
        sheet = cls()
        sheet.rows += [(1, [(1, view.title, _TITLE)]), (2, [(1, INSTRUCTION, _WRAP_ONLY)])]
        sheet._section(3, "申请信息")
        pairs = view.header + view.summary
        for r, (label, value) in enumerate(pairs, start=4):
            sheet._line(r, [(1, label, _LABEL), (2, value, _BOX), (3, None, _BOX), (4, None, _BOX), (5, None, _BOX),
                            (6, None, _BOX)], label, value, 2)
        row = 4 + len(pairs)
        if view.items:
            row = sheet._table(row + 1, view.items_title, view.items_header, view.items)
        if view.warnings:
            start = row + 1
            sheet._section(start, "提示与警告")
            for r, line in enumerate(view.warnings, start=start + 1):
                cells = [(1, line, _BOX), (2, None, _BOX), (3, None, _BOX), (4, None, _BOX), (5, None, _BOX),
                         (6, None, _BOX)]
                sheet._line(r, cells, None, line, 1)
            row = start + 1 + len(view.warnings)
        row = sheet._table(row + 1, "审批流程", CHAIN_HEADER, view.chain, wide=4)
        row = sheet._table(row + 1, "审批记录", HISTORY_HEADER, view.history or [("—", "", "", "尚无审批记录", "")],
                           wide=5)
        row += 1
        sheet._section(row, "您的审批(填写后保存即可)")
        for offset, (_, label, _) in enumerate(INPUTS, start=1):
            sheet._line(row + offset, [(1, label, _LABEL), (2, None, _INPUT), (3, None, _COVERED),
                                       (4, None, _COVERED), (5, None, _COVERED), (6, None, _COVERED)], label, None, 2)
        sheet.inputs_row = row
        sheet.merges += ["A1:F1", "A2:F2"]
        sheet.heights[2] = 32
        return sheet

    def _section(self, row: int, title: str, last: int = 6) -> None:
        self.rows.append((row, [(1, title, _SECTION_TITLE), *((c, None, _SECTION_REST) for c in range(2, last + 1))]))
        self.merges.append(f"A{row}:{get_column_letter(last)}{row}")

    def _line(self, row: int, cells: list, first, spanned, lo: int) -> None:
        """A six-column row whose columns ``lo``..F are merged: ``first`` in A (when lo is 2), ``spanned`` in
        the merge; its height from both texts as ``boxed`` sets it."""
        lines = _lines(spanned, _SPAN_WIDTH[lo, 6])
        if lo == 2:
            lines = max(lines, _lines(first, _WIDTHS[0]))
        self.rows.append((row, cells))
        self.merges.append(f"{_COL[lo]}{row}:F{row}")
        if lines > 1:
            self.heights[row] = 15 * lines

    def _table(self, row: int, title: str, header: tuple, rows: list[tuple], wide: int | None = None) -> int:
        last = max(6, len(header))
        self.max_col = max(self.max_col, last)
        self._section(row, title, last)
        spans = [(wide, 6)] if wide and wide < 6 else []
        for r, values in enumerate([header, *rows], start=row + 1):
            style = _LABEL if r == row + 1 else _BOX
            n = len(values)
            cells = [(c, values[c - 1] if c <= n else None, style if c <= n else _BOX) for c in range(1, last + 1)]
            lines = 1
            for lo, hi in spans:
                lines = max(lines, _lines(values[lo - 1] if lo <= n else None, _SPAN_WIDTH[lo, hi]))
            for c in range(1, last + 1):
                if not any(lo <= c <= hi for lo, hi in spans):
                    lines = max(lines, _lines(values[c - 1] if c <= n else None, _WIDTHS[c - 1] if c <= len(_WIDTHS) else 12))
            if spans:
                self.merges.append(f"{_COL[wide]}{r}:F{r}")
            if lines > 1:
                self.heights[r] = 15 * lines
            self.rows.append((r, cells))
        return row + 2 + len(rows)

    def used_styles(self) -> set:
        return set(_PRECOMPILED_STYLES)

    def xml(self, ids: dict, *, selected: bool) -> bytes:
        cell, letters, heights, seen = task_xlsx._cell_xml, _COL, self.heights, _CELLS_SEEN
        body = []
        for r, cells in self.rows:
            height = heights.get(r)
            body.append(f'<row r="{r}" ht="{height:g}" customHeight="1">' if height else f'<row r="{r}">')
            for c, value, style in cells:
                # A cell's XML after its reference depends on its value and style only: the sections,
                # labels and empty boxed cells recur on every task file and are made once.
                ref = f"{letters[c]}{r}"
                kind = type(value)
                if kind not in _MEMO_TYPES:
                    body.append(cell(ref, value, ids[style]))
                    continue
                key = (kind, value, ids[style])
                rest = seen.get(key)
                if rest is None:
                    made = cell(ref, value, ids[style])
                    if len(seen) >= _CELLS_MEMO:
                        seen.clear()
                    rest = seen[key] = made[len(ref) + 7:]  # after '<c r="' + ref + '"'
                body.append(f'<c r="{ref}"{rest}')
            body.append("</row>")
        return task_xlsx.framed("".join(body), max_row=self.rows[-1][0], max_col=self.max_col, widths=self.widths,
                                merges=self.merges, validations=self.validations, page=True, selected=selected)


_COL = [get_column_letter(c) if c else "" for c in range(64)]
_CELLS_MEMO = 8192
_CELLS_SEEN: dict[tuple, str] = {}
_MEMO_TYPES = frozenset({str, type(None), int, bool})


# --- docx --------------------------------------------------------------------------------

_W = nsdecls("w")


def _dropdown_xml(tag: str, choices: tuple[str, ...], placeholder: str = "请选择") -> str:
    return _dropdown_xml_of(tag, tuple(choices), placeholder)


@functools.lru_cache(maxsize=256)  # the roster offered for 转交给 and 加签人 is the same on task file after task file
def _dropdown_xml_of(tag: str, choices: tuple[str, ...], placeholder: str) -> str:
    items = "".join(f"<w:listItem w:displayText={_attr(d)} w:value={_attr(d)}/>" for d in choices)
    return (f'<w:sdt {_W}><w:sdtPr><w:alias w:val="{tag}"/><w:tag w:val="{tag}"/><w:showingPlcHdr/>'
            f'<w:dropDownList>{items}</w:dropDownList></w:sdtPr>'
            f'<w:sdtContent><w:r><w:t>{escape(placeholder)}</w:t></w:r></w:sdtContent></w:sdt>')


def _text_control_xml(tag: str, placeholder: str) -> str:
    return (f'<w:sdt {_W}><w:sdtPr><w:alias w:val="{tag}"/><w:tag w:val="{tag}"/><w:showingPlcHdr/><w:text/>'
            f'</w:sdtPr><w:sdtContent><w:r><w:t>{escape(placeholder)}</w:t></w:r></w:sdtContent></w:sdt>')


def _forget_submitted_controls(document) -> None:
    for tag in document.element.body.iter(qn("w:tag")):
        if tag.get(qn("w:val")) in INPUT_NAMES:
            tag.set(qn("w:val"), f"已忽略-{tag.get(qn('w:val'))}")


def _docx_approval_block(document, view: ApprovalView) -> None:
    """Title, then the summary table, the chain, the history, and last the decision table with the controls."""
    _forget_submitted_controls(document)
    parts = [_docx_heading(document, view.title, size=14), _docx_para(document, INSTRUCTION)]
    summary = view.header + view.summary
    if view.items:
        summary += [(view.items_title, "\n".join(" · ".join(v for v in line if v) for line in view.items))]
    summary += [("提示与警告", line) for line in view.warnings]
    parts += [_docx_heading(document, "申请信息"), _docx_table(document, SUMMARY_HEADER, summary)]
    parts += [_docx_heading(document, "审批流程"), _docx_table(document, CHAIN_HEADER, view.chain)]
    parts += [_docx_heading(document, "审批记录"),
              _docx_table(document, HISTORY_HEADER, view.history or [("—", "", "", "尚无审批记录", "")])]
    parts += [_docx_heading(document, "您的审批(填写后保存即可)"), _docx_decision_table(document, view)]
    parts.append(parse_xml(f"<w:p {_W}/>"))  # keep the form's own first table apart from ours
    body = document.element.body
    for index, element in enumerate(parts):
        body.insert(index, element)


def _docx_heading(document, text: str, size: int | None = None):
    paragraph = document.add_paragraph()
    run = paragraph.add_run(text)
    run.bold = True
    if size:
        run.font.size = Pt(size)
    return paragraph._p


def _docx_para(document, text: str):
    return document.add_paragraph(text)._p


def _docx_table(document, header: tuple, rows: list[tuple]):
    table = document.add_table(rows=len(rows) + 1, cols=len(header))
    _grid_style(document, table)
    # Row by row: table.cell(r, c) lays out the whole grid again on every call.
    lines = list(table.rows)
    for cell, label in zip(lines[0].cells, header):
        cell.text = label
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for line, values in zip(lines[1:], rows):
        for cell, value in zip(line.cells, values):
            cell.text = value or ""
    return table._tbl


def _grid_style(document, table) -> None:
    """Table Grid when the form's styles have it (looked up once per document, not per table)."""
    found = document.__dict__.get("_officeflow_grid")
    if found is None:
        found = document.__dict__["_officeflow_grid"] = any(s.name == "Table Grid" for s in document.styles)
    if found:
        table.style = document.styles["Table Grid"]


def _decision_controls_xml(view: ApprovalView) -> dict[str, str]:
    """The content controls of the 审批 block, by input name (one source for both Word writers)."""
    return {
        DECISION_NAME: _dropdown_xml(DECISION_NAME, view.decisions, PROMPTS[DECISION_NAME]),
        COMMENT_NAME: _text_control_xml(COMMENT_NAME, PROMPTS[COMMENT_NAME]),
        TRANSFER_NAME: _dropdown_xml(TRANSFER_NAME, view.people, PROMPTS[TRANSFER_NAME]),
        SIGNER_NAME: _dropdown_xml(SIGNER_NAME, view.people, PROMPTS[SIGNER_NAME]),
        SIGN_MODE_NAME: _dropdown_xml(SIGN_MODE_NAME, SIGN_MODES, PROMPTS[SIGN_MODE_NAME]),
        BACK_TO_NAME: _dropdown_xml(BACK_TO_NAME, view.back_to, PROMPTS[BACK_TO_NAME]),
    }


def _docx_decision_table(document, view: ApprovalView):
    controls = _decision_controls_xml(view)
    table = document.add_table(rows=len(INPUTS) + 1, cols=3)
    _grid_style(document, table)
    lines = list(table.rows)
    for cell, label in zip(lines[0].cells, DECISION_TABLE_HEADER):
        cell.text = label
    for line, (name, label, prompt) in zip(lines[1:], INPUTS):
        cells = line.cells
        cells[0].text = label
        cells[1].paragraphs[0]._p.append(parse_xml(controls[name]))
        cells[2].text = prompt
    return table._tbl

"""The printable 审批单 of a finished case (通过, 驳回, 撤回), in the case's archive folder.

What an office files on paper: the form's key fields and line items, every step with
its approver, decision, comment and time, delegation and escalation marks, and the
audit fingerprint that ties the sheet to the store. Rendered from the store once the
case ends (an ``outputs`` row remembers it), on A4 portrait, one page wide.
"""

from __future__ import annotations

import functools
import logging
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from automation.act import pdf, sheet_writer
from automation.errors import OfficeFlowError
from automation.fsutil import atomic_write_bytes, safe_name
from automation.printing import CJK_LINE_POINTS, row_height, setup_xlsxwriter
from automation.record import codec
from automation.record import schema as s

log = logging.getLogger("officeflow")

KIND = "approval-record"
SHEET = "审批单"
ENDED = ("approved", "rejected", "withdrawn")
OUTCOME = {"approved": "通过", "rejected": "驳回", "withdrawn": "已撤回"}
TRAIL_HEADER = ("轮次", "步骤", "角色", "方式", "审批人", "结论", "意见", "时间", "标记")
_CLOSED = {"approved": None, "rejected": None, "returned": None, "escalated": "已上报", "cancelled": "已取消"}
SIGN_BEFORE, SIGN_AFTER = "前加签", "后加签"  # tasks.decision of a 加签, as the decide stage records it
_DECISION_SHOWN = {SIGN_BEFORE: "加签", SIGN_AFTER: "同意"}


def file_name(case: dict) -> str:
    return f"{safe_name(case['number'])} {safe_name(case['form_title'] or case['form_id'])} 审批单.xlsx"


def record_path(rt, case: dict) -> Path:
    """Beside the archived original (outbox/archive/YYYY-MM/), or this month's archive folder."""
    if case.get("source_file"):
        folder = rt.abs(case["source_file"]).parent
    else:
        folder = rt.settings.archive / rt.clock.now().strftime("%Y-%m")
    return folder / file_name(case)


# --- the trail ---------------------------------------------------------------------------------


def _text(value, tz: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def trail(conn, case_id: int, tz: ZoneInfo) -> list[tuple[str, ...]]:
    """Every step that was closed, in time order: decided, handed on, escalated or cancelled."""
    t = s.tasks.c
    every = [dict(r) for r in conn.execute(select(s.tasks).where(t.case_id == case_id).order_by(t.id)).mappings()]
    return trail_of(every, tz)


def trail_of(every: list[dict], tz: ZoneInfo) -> list[tuple[str, ...]]:
    """``trail`` of a case whose tasks (in id order) are already read."""
    by_id = {r["id"]: r for r in every}
    rows = sorted((r for r in every if r["decided_at"] is not None), key=lambda r: (r["decided_at"], r["id"]))
    out = []
    for r in rows:
        decision = _DECISION_SHOWN.get(r["decision"], r["decision"]) or _CLOSED.get(r["status"]) or ""
        out.append((str(r["round"]), str(r["step_index"] + 1), r["role"], r["mode"], r["assignee"], decision,
                    r["comment"] or "", _text(r["decided_at"], tz), ";".join(marks(r, by_id, tz))))
    return out


def marks(task: dict, by_id: dict[int, dict], tz: ZoneInfo) -> list[str]:
    """How a step came to its holder and how it left: 代批, 上报, 转交, 加签, 退回到, automatic approvals."""
    out = []
    if task["on_behalf_of"]:
        out.append(f"代 {task['on_behalf_of']} 审批")
    if task["escalated_from"]:
        earlier = by_id.get(task["escalated_from"])
        out.append(f"由 {earlier['assignee']} 上报转来" if earlier else "上报转来")
    source = by_id.get(task.get("origin_task"))
    handed = f"{source['assignee']}({_text(source['decided_at'], tz)})" if source else ""
    origin = task.get("origin")
    if origin == "transfer" and source:
        out.append(f"由 {handed} 转交")
    elif origin in ("sign-before", "sign-after") and source:
        out.append(f"{handed} {'前加签' if origin == 'sign-before' else '后加签'}加入")
    elif origin == "sign-back":
        out.append("前加签人审批后返回本人")
    elif origin == "empty-pass":
        out.append("审批角色无人担任,系统自动通过")
    elif origin == "empty-admin":
        out.append("审批角色无人担任,转交管理员")
    target = task.get("target")
    if task["status"] == "transferred":
        out.append(f"转交给 {target}")
    elif task["decision"] == SIGN_BEFORE:
        out.append(f"前加签 {target},待其审批后返回")
    elif task["decision"] == SIGN_AFTER:
        out.append(f"同意并后加签 {target}")
    elif task["status"] == "returned" and target:
        out.append(f"退回到 {target}")
    if task.get("decided_by") and origin != "empty-pass":
        out.append("系统自动同意")
    if _CLOSED.get(task["status"]):
        out.append(_CLOSED[task["status"]])
    return out


def _last_audit(conn, number: str):
    a = s.audit_log.c
    return conn.execute(select(a.id, a.hash).where(a.subject == number).order_by(a.id.desc()).limit(1)).first()


def _fields(values: dict, tz: ZoneInfo, spec=None) -> tuple[list[tuple[str, str]], list[str], list[list[str]]]:
    """The form's fields in the order of its spec, and its line items (明细) as a table."""
    order = [f.key for f in getattr(spec, "fields", ())]
    percent = {f.key for f in getattr(spec, "fields", ()) if f.type == "percent"}
    keys = [k for k in order if k in values] + [k for k in values if k not in order]
    scalars, items = [], []
    for key in keys:
        value = values[key]
        if isinstance(value, list):
            items.extend(v for v in value if isinstance(v, dict))
        elif key in percent and isinstance(value, (Decimal, int, float)):
            scalars.append((key, f"{Decimal(value) * 100:.2f}%"))  # 折扣率 0.02 reads 2.00%, as on the form
        elif value not in (None, ""):
            scalars.append((key, _text(value, tz)))
    spec_columns = [c.key for table in getattr(spec, "tables", ()) for c in table.columns]
    seen = list(dict.fromkeys(k for item in items for k in item))
    columns = [k for k in spec_columns if k in seen] + [k for k in seen if k not in spec_columns]
    return scalars, columns, [[_text(item.get(k), tz) for k in columns] for item in items]


# --- writing ---------------------------------------------------------------------------------


def write_record(rt, case_id: int) -> Path:
    case, inputs = record_inputs(rt, case_id)
    path = record_path(rt, case)
    atomic_write_bytes(path, render(case, **inputs))
    return path


def write_records(rt, case_ids: list[int]) -> dict[int, Path | None]:
    """``write_record`` of several cases, their inputs read together (a few queries, not four per case);
    a record that cannot be written (None) is logged and tried again on the next pass."""
    out: dict[int, Path | None] = {}
    for at in range(0, len(case_ids), BATCH):
        jobs, cases = [], []
        for case, inputs in records_inputs(rt, case_ids[at:at + BATCH]):
            try:
                path = record_path(rt, case)
                data = render(case, **inputs)
            except Exception:  # one broken record must not stop the others
                log.exception("生成 %s 的审批单时出错,下次处理时重试。", case["number"])
                out[case["id"]] = None
                continue
            jobs.append(functools.partial(atomic_write_bytes, path, data))
            cases.append(case)
        # Written several at a time: each file still written, fsynced and swapped in on its own.
        for case, outcome in zip(cases, sheet_writer.run_all(jobs)):
            if isinstance(outcome, Exception):
                log.error("生成 %s 的审批单时出错,下次处理时重试:%s", case["number"], outcome)
                out[case["id"]] = None
            else:
                out[case["id"]] = outcome
    return out


BATCH = 200


def records_inputs(rt, case_ids: list[int]) -> list[tuple[dict, dict]]:
    """``record_inputs`` of each of ``case_ids`` (in id order), read in one query per table."""
    tz, now = ZoneInfo(rt.settings.time.timezone), rt.clock.now()
    c, t, k, a = s.cases.c, s.tasks.c, s.contracts.c, s.audit_log.c
    with rt.store.read() as conn:
        cases = [dict(r) for r in conn.execute(select(s.cases).where(c.id.in_(case_ids)).order_by(c.id)).mappings()]
        tasks: dict[int, list[dict]] = {}
        for row in conn.execute(select(s.tasks).where(t.case_id.in_(case_ids)).order_by(t.id)).mappings():
            tasks.setdefault(row["case_id"], []).append(dict(row))
        contracts: dict[int, str] = {}
        for case_id, number in conn.execute(select(k.case_id, k.number).where(k.case_id.in_(case_ids))):
            contracts.setdefault(case_id, number)
        numbers = [case["number"] for case in cases]
        heads = select(func.max(a.id)).where(a.subject.in_(numbers)).group_by(a.subject)
        last = {r.subject: r for r in conn.execute(select(a.id, a.hash, a.subject).where(a.id.in_(heads)))}
    return [(case, dict(steps=trail_of(tasks.get(case["id"], []), tz), contract=contracts.get(case["id"]),
                        last_audit=last.get(case["number"]), now=now, tz=tz, spec=rt.specs.get(case["form_id"])))
            for case in cases]


def record_inputs(rt, case_id: int) -> tuple[dict, dict]:
    """The case and the keyword arguments of ``render`` for it, read from the store."""
    tz = ZoneInfo(rt.settings.time.timezone)
    with rt.store.read() as conn:
        case = dict(conn.execute(select(s.cases).where(s.cases.c.id == case_id)).mappings().one())
        steps = trail(conn, case_id, tz)
        contract = conn.execute(select(s.contracts.c.number).where(s.contracts.c.case_id == case_id)).scalar()
        last = _last_audit(conn, case["number"])
    return case, dict(steps=steps, contract=contract, last_audit=last, now=rt.clock.now(), tz=tz,
                      spec=rt.specs.get(case["form_id"]))


# --- the PDF beside it --------------------------------------------------------------------------

PDF_KIND = "approval-record-pdf"
PDF_ALERT_KIND = "approval-record-pdf-failed"


def convert_pending(rt) -> list[Path]:
    """A PDF beside every 审批单 that has none yet, where LibreOffice is installed and the workspace
    wants it ([outputs] approval_record_pdf). Each is tried once: a failure leaves an alert for
    ``officeflow status`` and the Excel 审批单 stands, rather than one LibreOffice start per pass."""
    if not rt.settings.outputs.approval_record_pdf or not pdf.available():
        return []
    o = s.outputs.c
    done = select(o.key).where(o.kind == PDF_KIND)
    with rt.store.read() as conn:
        pending = list(conn.execute(select(o.key, o.path).where(o.kind == KIND, o.path.is_not(None), o.key.not_in(done))))
    sources = [(number, rt.abs(rel)) for number, rel in pending if rt.abs(rel).exists()]  # else: next pass
    if len(sources) <= 1:
        return [made for number, source in sources if (made := _one_pdf(rt, number, source))]
    try:  # one LibreOffice run for the pass's records; one by one only to find which one failed
        pdf.to_pdfs([source for _, source in sources])
    except OfficeFlowError:
        return [made for number, source in sources if (made := _one_pdf(rt, number, source))]
    for number, source in sources:
        _pdf_done(rt, number, source.with_suffix(".pdf"))
    return [source.with_suffix(".pdf") for _, source in sources]


def _one_pdf(rt, number: str, source: Path) -> Path | None:
    try:
        produced = pdf.to_pdf(source)
    except OfficeFlowError as exc:
        log.warning("审批单 %s 转换 PDF 失败:%s", number, exc)
        _pdf_done(rt, number, None, message=f"审批单 {number} 已生成 Excel 文件,但转换 PDF 失败:{exc}")
        return None
    _pdf_done(rt, number, produced)
    return produced


def _pdf_done(rt, number: str, path: Path | None, *, message: str | None = None) -> None:
    now = rt.clock.now()
    with rt.store.begin() as conn:
        conn.execute(s.outputs.insert().values(kind=PDF_KIND, key=number, path=rt.rel(path) if path else None, at=now))
        if message:
            conn.execute(s.alerts.insert().values(at=now, kind=PDF_ALERT_KIND, subject=number, message=message,
                                                  resolved=False))


def header_fields(case: dict, contract: str | None, tz: ZoneInfo) -> list[tuple[str, str]]:
    return [("申请编号", case["number"]), ("表单", case["form_title"] or case["form_id"]),
            ("申请人", _text(case["applicant"], tz)), ("部门", _text(case["department"], tz)),
            ("金额", _text(case["amount"], tz)), ("客户", _text(case["customer"], tz)),
            ("提交时间", _text(case["created_at"], tz)), ("结果", OUTCOME.get(case["status"], case["status"])),
            ("完成时间", _text(case["decided_at"], tz)), ("合同编号", contract or "")]


WIDTHS = (5, 5, 12, 5, 8, 6, 22, 17, 24)  # one per TRAIL_HEADER column; A4 portrait, fitted to its width
LABEL_COLUMNS = 3  # a field's label spans the first three columns, its value the rest


def render(case: dict, steps: list[tuple], *, contract, last_audit, now: datetime, tz: ZoneInfo, spec=None) -> bytes:
    """The 审批单 as .xlsx bytes: written at zip level from a frame built once per process
    (``sheet_writer``); through XlsxWriter where the layout uses a call not covered there."""
    return sheet_writer.workbook_bytes(lambda wb: _layout(wb, case, steps, contract=contract, last_audit=last_audit,
                                                          now=now, tz=tz, spec=spec))


def render_xlsxwriter(case: dict, steps: list[tuple], *, contract, last_audit, now: datetime, tz: ZoneInfo,
                      spec=None) -> bytes:
    """The reference rendering: the same layout through XlsxWriter."""
    return sheet_writer.reference_bytes(lambda wb: _layout(wb, case, steps, contract=contract, last_audit=last_audit,
                                                           now=now, tz=tz, spec=spec))


def _layout(wb, case: dict, steps: list[tuple], *, contract, last_audit, now: datetime, tz: ZoneInfo, spec=None) -> None:
    """The 审批单's layout on ``wb``: an ``xlsxwriter.Workbook`` or a recording ``sheet_writer.Book``."""
    ws = wb.add_worksheet(SHEET)
    f = {"title": wb.add_format({"bold": True, "font_size": 16, "align": "center"}),
         "head": wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True, "valign": "top"}),
         "cell": wb.add_format({"border": 1, "text_wrap": True, "valign": "top"}),
         "label": wb.add_format({"bold": True, "border": 1, "bg_color": "#F2F2F2", "valign": "top"}),
         "section": wb.add_format({"bold": True, "font_size": 12}),
         "small": wb.add_format({"font_size": 8, "font_color": "#595959", "text_wrap": True, "valign": "top"})}
    width = len(TRAIL_HEADER)
    ws.merge_range(0, 0, 0, width - 1, f"{case['form_title'] or case['form_id']} · 审批单", f["title"])
    ws.set_row(0, 24)
    row = _pairs(ws, 2, header_fields(case, contract, tz), f)
    scalars, columns, items = _fields(codec.loads(case["data"]) or {}, tz, spec)
    ws.write_string(row + 1, 0, "表单内容", f["section"])
    row = _pairs(ws, row + 2, scalars, f)
    if items:
        ws.write_string(row + 1, 0, "明细", f["section"])
        row = _table(ws, row + 2, columns, items, f)
    ws.write_string(row + 1, 0, "审批记录", f["section"])
    trail_at = row + 2
    row = _table(ws, trail_at, list(TRAIL_HEADER), [list(r) for r in steps] or [["—", "", "", "", "", "尚无审批记录"]], f)
    ws.write_string(row + 1, 0, "审计指纹", f["section"])
    proof = [("表单数据指纹(SHA-256)", case["fingerprint"]),
             ("审计链记录", f"#{last_audit.id} · {last_audit.hash}" if last_audit else ""),
             ("生成时间", _text(now, tz))]
    row = _pairs(ws, row + 2, proof, f)
    ws.merge_range(row + 1, 0, row + 2, width - 1, FOOTNOTE, f["small"])
    for c, w in enumerate(WIDTHS):
        ws.set_column(c, c, w)
    # A long trail continues on the next page under its own header row.
    setup_xlsxwriter(ws, landscape=False, repeat_row=trail_at)


FOOTNOTE = ("本审批单由 OfficeFlow 根据数据库生成;可用 officeflow audit verify 校验审计链,"
            "指纹与数据库记录一致即证明本单内容未被改动。")


def _pairs(ws, row: int, pairs: list[tuple[str, str]], f: dict) -> int:
    label_width, value_width = sum(WIDTHS[:LABEL_COLUMNS]), sum(WIDTHS[LABEL_COLUMNS:])
    for label, value in pairs:
        ws.merge_range(row, 0, row, LABEL_COLUMNS - 1, label, f["label"])
        ws.merge_range(row, LABEL_COLUMNS, row, len(WIDTHS) - 1, value, f["cell"])
        lines = max(sheet_writer.fitted_lines(label, label_width), sheet_writer.fitted_lines(value, value_width))
        ws.set_row(row, row_height(lines, CJK_LINE_POINTS))
        row += 1
    return row


def spans(count: int) -> list[tuple[int, int]]:
    """(first, last) grid column of each of ``count`` table columns: the 明细 table shares the trail's
    columns, each of its columns spanning as many of them as fit (the first ones the widest)."""
    grid = len(WIDTHS)
    if count > grid:
        return [(c, c) for c in range(count)]
    base, extra = divmod(grid, count)
    out, at = [], 0
    for i in range(count):
        size = base + (1 if i < extra else 0)
        out.append((at, at + size - 1))
        at += size
    return out


def _table(ws, row: int, header: list[str], rows: list[list[str]], f: dict) -> int:
    where = spans(len(header))
    widths = [sum(WIDTHS[a:b + 1]) or 8.43 for a, b in where]
    for r, values in enumerate([header, *rows], start=row):
        style = f["head"] if r == row else f["cell"]
        for (first, last), value in zip(where, values):
            if first == last:
                ws.write_string(r, first, str(value), style)
            else:
                ws.merge_range(r, first, r, last, str(value), style)
        ws.set_row(r, row_height(max((sheet_writer.fitted_lines(v, w) for v, w in zip(values, widths)), default=1), CJK_LINE_POINTS))
    return row + 1 + len(rows)

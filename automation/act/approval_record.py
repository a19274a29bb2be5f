"""The printable 审批单 of a finished case (通过, 驳回, 撤回), in the case's archive folder.

What an office files on paper: the form's key fields and line items, every step with
its approver, decision, comment and time, delegation and escalation marks, and the
audit fingerprint that ties the sheet to the store. Rendered from the store once the
case ends (an ``outputs`` row remembers it), on A4 portrait, one page wide.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import xlsxwriter
from sqlalchemy import select

from automation.fsutil import atomic_write_bytes, safe_name
from automation.record import codec
from automation.record import schema as s

KIND = "approval-record"
SHEET = "审批单"
ENDED = ("approved", "rejected", "withdrawn")
OUTCOME = {"approved": "通过", "rejected": "驳回", "withdrawn": "已撤回"}
TRAIL_HEADER = ("轮次", "步骤", "角色", "方式", "审批人", "结论", "意见", "时间", "标记")
_CLOSED = {"approved": None, "rejected": None, "returned": None, "escalated": "已上报", "cancelled": "已取消"}


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
    """Every step that was closed, in time order: decided, escalated or cancelled."""
    t = s.tasks.c
    rows = [dict(r) for r in conn.execute(select(s.tasks).where(t.case_id == case_id, t.decided_at.is_not(None))
                                          .order_by(t.decided_at, t.id)).mappings()]
    by_id = {r["id"]: r for r in rows}
    out = []
    for r in rows:
        marks = []
        if r["on_behalf_of"]:
            marks.append(f"代 {r['on_behalf_of']} 审批")
        if r["escalated_from"]:
            earlier = by_id.get(r["escalated_from"])
            marks.append(f"由 {earlier['assignee']} 上报转来" if earlier else "上报转来")
        if _CLOSED.get(r["status"]):
            marks.append(_CLOSED[r["status"]])
        out.append((str(r["round"]), str(r["step_index"] + 1), r["role"], r["mode"], r["assignee"],
                    r["decision"] or _CLOSED.get(r["status"]) or "", r["comment"] or "", _text(r["decided_at"], tz),
                    ";".join(marks)))
    return out


def _last_audit(conn, number: str):
    a = s.audit_log.c
    return conn.execute(select(a.id, a.hash).where(a.subject == number).order_by(a.id.desc()).limit(1)).first()


def _fields(values: dict, tz: ZoneInfo, spec=None) -> tuple[list[tuple[str, str]], list[str], list[list[str]]]:
    """The form's fields in the order of its spec, and its line items (明细) as a table."""
    order = [f.key for f in getattr(spec, "fields", ())]
    keys = [k for k in order if k in values] + [k for k in values if k not in order]
    scalars, items = [], []
    for key in keys:
        value = values[key]
        if isinstance(value, list):
            items.extend(v for v in value if isinstance(v, dict))
        elif value not in (None, ""):
            scalars.append((key, _text(value, tz)))
    spec_columns = [c.key for table in getattr(spec, "tables", ()) for c in table.columns]
    seen = list(dict.fromkeys(k for item in items for k in item))
    columns = [k for k in spec_columns if k in seen] + [k for k in seen if k not in spec_columns]
    return scalars, columns, [[_text(item.get(k), tz) for k in columns] for item in items]


# --- writing ---------------------------------------------------------------------------------


def write_record(rt, case_id: int) -> Path:
    tz = ZoneInfo(rt.settings.timezone)
    with rt.store.read() as conn:
        case = dict(conn.execute(select(s.cases).where(s.cases.c.id == case_id)).mappings().one())
        steps = trail(conn, case_id, tz)
        contract = conn.execute(select(s.contracts.c.number).where(s.contracts.c.case_id == case_id)).scalar()
        last = _last_audit(conn, case["number"])
    path = record_path(rt, case)
    atomic_write_bytes(path, render(case, steps, contract=contract, last_audit=last, now=rt.clock.now(), tz=tz,
                                    spec=rt.specs.get(case["form_id"])))
    return path


def header_fields(case: dict, contract: str | None, tz: ZoneInfo) -> list[tuple[str, str]]:
    return [("申请编号", case["number"]), ("表单", case["form_title"] or case["form_id"]),
            ("申请人", _text(case["applicant"], tz)), ("部门", _text(case["department"], tz)),
            ("金额", _text(case["amount"], tz)), ("客户", _text(case["customer"], tz)),
            ("提交时间", _text(case["created_at"], tz)), ("结果", OUTCOME.get(case["status"], case["status"])),
            ("完成时间", _text(case["decided_at"], tz)), ("合同编号", contract or "")]


def render(case: dict, steps: list[tuple], *, contract, last_audit, now: datetime, tz: ZoneInfo, spec=None) -> bytes:
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    ws = wb.add_worksheet(SHEET)
    f = {"title": wb.add_format({"bold": True, "font_size": 16, "align": "center"}),
         "head": wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True}),
         "cell": wb.add_format({"border": 1, "text_wrap": True, "valign": "top"}),
         "label": wb.add_format({"bold": True, "border": 1, "bg_color": "#F2F2F2"}),
         "section": wb.add_format({"bold": True, "font_size": 12}),
         "small": wb.add_format({"font_size": 8, "font_color": "#595959", "text_wrap": True})}
    width = len(TRAIL_HEADER)
    ws.merge_range(0, 0, 0, width - 1, f"{case['form_title'] or case['form_id']} · 审批单", f["title"])
    row = _pairs(ws, 2, header_fields(case, contract, tz), f, width)
    scalars, columns, items = _fields(codec.loads(case["data"]) or {}, tz, spec)
    ws.write_string(row + 1, 0, "表单内容", f["section"])
    row = _pairs(ws, row + 2, scalars, f, width)
    if items:
        ws.write_string(row + 1, 0, "明细", f["section"])
        row = _table(ws, row + 2, columns, items, f)
    ws.write_string(row + 1, 0, "审批记录", f["section"])
    row = _table(ws, row + 2, list(TRAIL_HEADER), [list(r) for r in steps] or [["—", "", "", "", "", "尚无审批记录"]], f)
    ws.write_string(row + 1, 0, "审计指纹", f["section"])
    proof = [("表单数据指纹(SHA-256)", case["fingerprint"]),
             ("审计链记录", f"#{last_audit.id} · {last_audit.hash}" if last_audit else ""),
             ("生成时间", _text(now, tz))]
    row = _pairs(ws, row + 2, proof, f, width)
    ws.merge_range(row + 1, 0, row + 2, width - 1, "本审批单由 OfficeFlow 根据数据库生成;可用 officeflow audit verify "
                   "校验审计链,指纹与数据库记录一致即证明本单内容未被改动。", f["small"])
    for c, w in enumerate((6, 6, 12, 7, 10, 8, 26, 16, 14)):
        ws.set_column(c, c, w)
    ws.set_paper(9)  # A4
    ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    wb.close()
    return buffer.getvalue()


def _pairs(ws, row: int, pairs: list[tuple[str, str]], f: dict, width: int) -> int:
    for label, value in pairs:
        ws.merge_range(row, 0, row, 2, label, f["label"])
        ws.merge_range(row, 3, row, width - 1, value, f["cell"])
        row += 1
    return row


def _table(ws, row: int, header: list[str], rows: list[list[str]], f: dict) -> int:
    for c, text in enumerate(header):
        ws.write_string(row, c, str(text), f["head"])
    for r, values in enumerate(rows, start=row + 1):
        for c, value in enumerate(values):
            ws.write_string(r, c, value, f["cell"])
    return row + 1 + len(rows)

"""What the applicant sees in ``outbox/requests/<姓名>/``: one receipt (回执) per case and 我的申请.xlsx.

Both are renderings of the store, like the registers: a receipt records which state
of its case it shows (``receipts.version``), and when the case moves on it is
rewritten — under a new name that says the new state — and the old file removed,
so each case has exactly one receipt. Anything here can be rebuilt at any time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import secrets
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, func, or_, select

from automation.act import sheet_writer
from automation.act.approval_record import KIND as RECORD_KIND
from automation.act.approval_record import PDF_KIND as RECORD_PDF_KIND
from automation.errors import RegisterLockedError
from automation.fsutil import atomic_write_bytes, safe_name
from automation.printing import CJK_LINE_POINTS, row_height, setup_xlsxwriter
from automation.record import schema as s
from automation.record.registers import incremental
from automation.record.registers.definitions import Column, RegisterDef, RenderContext
from automation.record.registers.writer import write_register

log = logging.getLogger("officeflow")

RECEIPT_TITLE = "申请回执"
MY_REQUESTS = "我的申请"
WITHDRAW_FOLDER = "撤回"
REMIND_FOLDER = "催办"
GESTURE_FOLDERS = (WITHDRAW_FOLDER, REMIND_FOLDER)
UNSIGNED = "未署名"
STATE_WORDS = {"in_approval": "审批中", "approved": "已通过", "rejected": "已驳回", "returned": "退回修改",
               "blocked": "待配置", "withdrawn": "已撤回"}
RESULT_WORDS = {"approved": "同意", "rejected": "驳回", "returned": "退回修改", "withdrawn": "已撤回"}
FINISHED = ("approved", "rejected", "withdrawn")
HISTORY_HEADER = ("轮次", "角色", "审批人", "结论", "意见", "时间")
FOOTNOTE = ("本回执由 OfficeFlow 根据数据库自动生成,申请状态变化时自动更新(文件名中的状态随之改变)。"
            "把本回执移入「撤回」文件夹可撤回申请;移入「催办」文件夹可提醒当前审批人(每个工作日一次)。")


def person_folder(settings, person: str | None) -> Path:
    return settings.requests / (safe_name(person) if person else UNSIGNED)


def ensure_folders(settings, person: str | None) -> Path:
    root = person_folder(settings, person)
    for sub in GESTURE_FOLDERS:
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


# --- what a case looks like to its applicant ------------------------------------------------


@dataclass
class CaseView:
    case: dict
    open_tasks: list[dict] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    contract: dict | None = None
    approval_record: str | None = None  # the 审批单, relative to the root
    approval_pdf: str | None = None  # its PDF, where LibreOffice made one
    reminders: int = 0
    task_key: tuple = (0, 0)  # (highest task id, decided tasks): what the state key counts

    @property
    def number(self) -> str:
        return self.case["number"]

    @property
    def status(self) -> str:
        return self.case["status"]

    @property
    def holders(self) -> str:
        return "、".join(dict.fromkeys(_who(t) for t in self.open_tasks))

    @property
    def due(self) -> date | None:
        return min((t["due_on"] for t in self.open_tasks if t["due_on"]), default=None)

    @property
    def last(self) -> dict:
        return self.history[-1] if self.history else {}

    def state_word(self) -> str:
        """The state as the file name says it: 等待吴强审批, 已通过, 已撤回 …"""
        if self.status == "in_approval" and self.open_tasks:
            return f"等待{safe_name(self.holders, limit=30)}审批"
        return STATE_WORDS.get(self.status, self.status)

    def headline(self) -> str:
        n = self.number
        if self.status == "in_approval":
            decided = any(t["round"] == self.case["round"] for t in self.history)
            start = "审批中" if decided else ("已重新提交" if self.case["round"] > 1 else "已提交")
            due = f" · 办理时限 {self.due:%Y-%m-%d}" if self.due else ""
            return f"{start} · 编号 {n} · 等待 {self.holders} 审批{due}"
        if self.status == "blocked":
            return f"已提交 · 编号 {n} · 等待管理员补充制度后继续审批:{self.case.get('block_reason') or ''}"
        who, comment = self.last.get("assignee", "审批人"), self.last.get("comment") or "(未填写意见)"
        if self.status == "returned":
            return f"退回修改 · 编号 {n} · {who}退回修改,意见:{comment} · 请修改本文件夹中的退回表单后重新提交"
        if self.status == "rejected":
            return f"已驳回 · 编号 {n} · {who}驳回,原因:{comment}"
        if self.status == "withdrawn":
            return f"已撤回 · 编号 {n} · 申请已由您撤回,没有生成任何编号或文件"
        if self.status == "approved" and self.contract:
            where = self.contract.get("file_path") or "合同正在生成,稍后更新"
            return f"已通过 · 编号 {n} · 合同编号 {self.contract['number']} · 合同文件 {where}"
        return f"已通过 · 编号 {n}" if self.status == "approved" else f"{self.state_word()} · 编号 {n}"

    def next_step(self) -> str:
        return _next_step(self.status, self.holders)

    def version(self) -> str:
        return version_key(self.case, self.task_key, self.contract, _record_key(self.approval_record, self.approval_pdf))


def _who(task: dict) -> str:
    return f"{task['assignee']}(代 {task['on_behalf_of']})" if task.get("on_behalf_of") else task["assignee"]


def _record_key(record: str | None, pdf: str | None) -> str | None:
    return f"{record}|{pdf}" if pdf else record


def version_key(case: dict, tasks: tuple, contract: dict | None, record: str | None) -> str:
    c = contract or {}
    return "|".join(str(x) for x in (case["status"], case["round"], *tasks, c.get("number"), c.get("file_path"), record))


def load_view(conn, case: dict) -> CaseView:
    t = s.tasks.c
    rows = [dict(r) for r in conn.execute(select(s.tasks).where(t.case_id == case["id"]).order_by(t.id)).mappings()]
    contract = conn.execute(select(s.contracts).where(s.contracts.c.case_id == case["id"])).mappings().first()
    records = dict(conn.execute(select(s.outputs.c.kind, s.outputs.c.path).where(
        s.outputs.c.kind.in_((RECORD_KIND, RECORD_PDF_KIND)), s.outputs.c.key == case["number"])).all())
    reminders = conn.execute(select(func.count()).select_from(s.applicant_requests).where(
        s.applicant_requests.c.case_id == case["id"], s.applicant_requests.c.kind == "remind",
        s.applicant_requests.c.accepted.is_(True))).scalar()
    return _view(case, rows, dict(contract) if contract else None, records.get(RECORD_KIND), reminders or 0,
                 pdf=records.get(RECORD_PDF_KIND))


def _view(case: dict, rows: list[dict], contract: dict | None, record: str | None, reminders: int,
          pdf: str | None = None) -> CaseView:
    history = sorted((r for r in rows if r["decision"]), key=lambda r: (r["decided_at"], r["id"]))
    return CaseView(case=case, open_tasks=[r for r in rows if r["status"] == "open"], history=history,
                    contract=contract, approval_record=record, approval_pdf=pdf, reminders=reminders,
                    task_key=(max((r["id"] for r in rows), default=0), len(history)))


def started_at(rt, feature: str) -> datetime:
    """When this workspace first ran ``feature``: cases that had ended before are history, and
    an upgraded workspace with years of cases does not spend its first pass re-rendering them."""
    with rt.store.begin() as conn:
        at = conn.execute(select(s.outputs.c.at).where(s.outputs.c.kind == "since", s.outputs.c.key == feature)).scalar()
        if at is None:
            at = rt.clock.now()
            conn.execute(s.outputs.insert().values(kind="since", key=feature, path=None, at=at))
    return at


def _live(since: datetime):
    """The cases whose receipts are kept: all but those that had ended before the applicant's side existed
    (an upgraded workspace's years of cases), and any case that has a receipt already."""
    c = s.cases.c
    return or_(c.status.is_(None), c.status.not_in(FINISHED), c.decided_at.is_(None), c.decided_at >= since,
               c.id.in_(select(s.receipts.c.case_id)))


def _versions(conn, which=None) -> dict[int, str]:
    """The state key of every case (or of the cases ``which`` selects) in a few queries: deciding which
    receipts changed is not a scan of files, and a pass costs what is live, not the whole history."""
    t, c, k, o = s.tasks.c, s.cases.c, s.contracts.c, s.outputs.c
    ids = select(c.id).where(which) if which is not None else None
    numbers = select(c.number).where(which) if which is not None else None

    def only(query, column, among):
        return query if among is None else query.where(column.in_(among))

    tasks = {r.case_id: (r.top or 0, r.decided or 0) for r in conn.execute(only(
        select(t.case_id, func.max(t.id).label("top"), func.count(t.decision).label("decided")), t.case_id, ids)
        .group_by(t.case_id))}
    contracts = {r.case_id: {"number": r.number, "file_path": r.file_path} for r in conn.execute(
        only(select(k.case_id, k.number, k.file_path), k.case_id, ids))}
    records = dict(conn.execute(only(select(o.key, o.path).where(o.kind == RECORD_KIND), o.key, numbers)).all())
    pdfs = dict(conn.execute(only(select(o.key, o.path).where(o.kind == RECORD_PDF_KIND, o.path.is_not(None)),
                                  o.key, numbers)).all())
    cases = select(c.id, c.number, c.status, c.round)
    return {case_id: version_key({"status": status, "round": round_}, tasks.get(case_id, (0, 0)), contracts.get(case_id),
                                 _record_key(records.get(number), pdfs.get(number)))
            for case_id, number, status, round_ in conn.execute(cases if which is None else cases.where(which))}


# --- refreshing ---------------------------------------------------------------------------------


def refresh(rt) -> list[str]:
    """Rewrite every receipt whose case changed, then 我的申请 of each person concerned (each person
    marked in the store, so one that could not be written — open in Excel — is tried again next pass)."""
    since = started_at(rt, "receipts")
    r = s.receipts.c
    with rt.store.read() as conn:
        current = _versions(conn, _live(since))
        written = {row.case_id: row for row in conn.execute(select(r.case_id, r.path, r.version))}
    changed = [cid for cid, v in current.items() if cid not in written
               or written[cid].version != v or not rt.abs(written[cid].path).exists()
               and not _in_gesture_folder(rt, written[cid].path)]
    for at in range(0, len(changed), BATCH):
        _write_receipts(rt, changed[at:at + BATCH], written)
    people = []
    for due in due_people(rt):
        try:
            write_my_requests(rt, due.person, due.cases, mark=due.mark)
        except (OSError, RegisterLockedError) as exc:
            log.info("暂时无法更新 %s 的我的申请,下次处理时重试:%s", due.person or UNSIGNED, exc)
            continue
        people.append(due.person)
    return [str(p) for p in people]


def _in_gesture_folder(rt, rel: str) -> bool:
    """A receipt moved into 撤回/ or 催办/ is waiting to be acted on: not missing."""
    path = rt.abs(rel)
    return any((path.parent / folder / path.name).exists() for folder in GESTURE_FOLDERS)


BATCH = 200  # receipts read, written and recorded together


def write_receipt(rt, case_id: int, previous=None) -> str | None:
    """One case's receipt; the applicant it belongs to (OSError when it cannot be written)."""
    with rt.store.read() as conn:
        case = dict(conn.execute(select(s.cases).where(s.cases.c.id == case_id)).mappings().one())
        view = load_view(conn, case)
    row = _write_one(rt, case, view, previous, {}, now=rt.clock.now(), tz=ZoneInfo(rt.settings.time.timezone))
    _record(rt, [row])
    return case["applicant"]


def _write_receipts(rt, case_ids: list[int], written: dict) -> set[str | None]:
    """The receipts of ``case_ids``: their views read in a few queries, the files written one by one (one
    that cannot be written — open in Excel on a share — is tried again next pass), the rows recorded in
    one transaction. A crash before it leaves rows older than their files: the next pass rewrites them."""
    c = s.cases.c
    with rt.store.read() as conn:
        cases = [dict(r) for r in conn.execute(select(s.cases).where(c.id.in_(case_ids)).order_by(c.id)).mappings()]
        views = _views_of(conn, c.id.in_(case_ids), cases)
    now, tz = rt.clock.now(), ZoneInfo(rt.settings.time.timezone)
    folders: dict[str | None, Path] = {}
    prepared = []
    for case in cases:
        try:
            prepared.append(_prepare(rt, case, views[case["id"]], written.get(case["id"]), folders, now=now, tz=tz))
        except OSError as exc:
            log.info("暂时无法更新申请#%s 的回执:%s", case["id"], exc)
    rows = []
    # Rendered here, written several at a time (each file still written, fsynced and swapped in on its own).
    for (put, row), outcome in zip(prepared, sheet_writer.run_all([put for put, _ in prepared])):
        if isinstance(outcome, OSError):
            log.info("暂时无法更新申请#%s 的回执:%s", row["case_id"], outcome)
        elif isinstance(outcome, Exception):
            raise outcome
        else:
            rows.append(row)
    _record(rt, rows)
    return {row["person"] for row in rows}


def _write_one(rt, case: dict, view: CaseView, previous, folders: dict, *, now: datetime, tz: ZoneInfo) -> dict:
    put, row = _prepare(rt, case, view, previous, folders, now=now, tz=tz)
    put()
    return row


def _prepare(rt, case: dict, view: CaseView, previous, folders: dict, *, now: datetime, tz: ZoneInfo):
    """The receipt rendered, and what writes it (and removes the one it supersedes), and its row."""
    person = case["applicant"]
    if person not in folders:
        folder = ensure_folders(rt.settings, person)
        folders[person] = (folder, rt.rel(folder))  # (a plain file in it is stored as the folder's path + its name)
    folder, folder_rel = folders[person]
    name = f"{safe_name(view.number)} {safe_name(case['form_title'] or case['form_id'])} {view.state_word()}.xlsx"
    path = folder / name
    data = render_receipt(view, now=now, tz=tz)
    old = rt.abs(previous.path) if previous is not None and previous.path else None

    def put() -> None:
        atomic_write_bytes(path, data)
        if old is not None and old != path and old.exists():
            old.unlink()  # our own rendering, superseded: one receipt per case

    return put, dict(case_id=case["id"], person=person, path=f"{folder_rel}/{name}", version=view.version(), at=now)


def _record(rt, rows: list[dict]) -> None:
    if not rows:
        return
    r = s.receipts.c
    with rt.store.begin() as conn:
        known = set(conn.execute(select(r.case_id).where(r.case_id.in_([row["case_id"] for row in rows]))).scalars())
        updates = [{f"_{k}": v for k, v in row.items()} for row in rows if row["case_id"] in known]
        if updates:
            conn.execute(s.receipts.update().where(r.case_id == bindparam("_case_id")).values(
                person=bindparam("_person"), path=bindparam("_path"), version=bindparam("_version"),
                at=bindparam("_at")), updates)
        inserts = [row for row in rows if row["case_id"] not in known]
        if inserts:
            conn.execute(s.receipts.insert(), inserts)
        changed: dict[str | None, list[int]] = {}
        for row in rows:
            changed.setdefault(row["person"], []).append(row["case_id"])
        _mark_due(conn, changed, rows[0]["at"])


def receipt_path(rt, case_id: int) -> Path | None:
    with rt.store.read() as conn:
        rel = conn.execute(select(s.receipts.c.path).where(s.receipts.c.case_id == case_id)).scalar()
    return rt.abs(rel) if rel else None


# --- rendering ----------------------------------------------------------------------------------


def _text(value, tz: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value)


def receipt_fields(view: CaseView, tz: ZoneInfo) -> list[tuple[str, str]]:
    case, contract = view.case, view.contract or {}
    return [
        ("申请编号", view.number), ("表单", case["form_title"] or case["form_id"]), ("申请人", _text(case["applicant"], tz)),
        ("金额", _text(case["amount"], tz)), ("提交时间", _text(case["updated_at"] if case["round"] > 1 else case["created_at"], tz)),
        ("当前状态", STATE_WORDS.get(view.status, view.status)), ("当前审批人", view.holders),
        ("办理时限", _text(view.due, tz)), ("下一步", view.next_step()), ("结果", RESULT_WORDS.get(view.status, "")),
        ("合同编号", contract.get("number") or ""), ("合同文件", contract.get("file_path") or ""),
        ("审批单", view.approval_record or ""), ("审批单 PDF", view.approval_pdf or ""),
        ("完成时间", _text(case["decided_at"], tz) if view.status in FINISHED else ""),
        ("催办次数", str(view.reminders)),
    ]


def history_rows(view: CaseView, tz: ZoneInfo) -> list[tuple[str, ...]]:
    return [(str(h["round"]), h["role"], _who(h), _conclusion(h), h.get("comment") or "", _text(h["decided_at"], tz))
            for h in view.history]


# A 转交 or 加签 names whom the task went to; 后加签 is an approval that adds someone after it.
_WITH_TARGET = {"转交": "转交 {}", "前加签": "加签 {}(前加签)", "后加签": "同意,后加签 {}", "退回修改": "退回到 {}"}


def _conclusion(task: dict) -> str:
    decision, target = task.get("decision") or "", task.get("target")
    return _WITH_TARGET[decision].format(target) if target and decision in _WITH_TARGET else decision


RECEIPT_WIDTHS = (12, 14, 16, 10, 34, 17)  # one per HISTORY_HEADER column; A4 portrait, fitted to its width
LINKS = ("审批单", "审批单 PDF")


def render_receipt(view: CaseView, *, now: datetime, tz: ZoneInfo) -> bytes:
    """The receipt as .xlsx bytes: written at zip level from a frame built once per process
    (``sheet_writer``); through XlsxWriter where the layout uses a call not covered there."""
    return sheet_writer.workbook_bytes(lambda wb: _layout_receipt(wb, view, now=now, tz=tz))


def render_receipt_xlsxwriter(view: CaseView, *, now: datetime, tz: ZoneInfo) -> bytes:
    """The reference rendering: the same layout through XlsxWriter."""
    return sheet_writer.reference_bytes(lambda wb: _layout_receipt(wb, view, now=now, tz=tz))


def _layout_receipt(wb, view: CaseView, *, now: datetime, tz: ZoneInfo) -> None:
    """The receipt's layout on ``wb``: an ``xlsxwriter.Workbook`` or a recording ``sheet_writer.Book``."""
    ws = wb.add_worksheet(RECEIPT_TITLE)
    title, bold, wrap = wb.add_format({"bold": True, "font_size": 14}), wb.add_format({"bold": True, "valign": "top"}), \
        wb.add_format({"text_wrap": True, "valign": "top"})
    last, value_width = len(RECEIPT_WIDTHS) - 1, sum(RECEIPT_WIDTHS[1:])
    ws.write_string(0, 0, f"{RECEIPT_TITLE} · {view.case['form_title'] or view.case['form_id']}", title)
    ws.set_row(0, 21)
    headline = view.headline()
    ws.merge_range(1, 0, 1, last, headline, wb.add_format({"bold": True, "text_wrap": True, "valign": "top",
                                                            "font_color": "#1F4E79"}))
    ws.set_row(1, row_height(sheet_writer.fitted_lines(headline, sum(RECEIPT_WIDTHS)), CJK_LINE_POINTS))
    row = 3
    for label, value in receipt_fields(view, tz):
        if label == "审批单 PDF" and not value:
            continue  # LibreOffice not installed, or the PDF not made yet
        ws.write_string(row, 0, label, bold)
        if value and label in LINKS:
            ws.merge_range(row, 1, row, last, "", wrap)
            # The receipt lies in outbox/requests/<姓名>/: the link is relative, so it works on any share.
            ws.write_url(row, 1, "external:../../" + value.split("/", 1)[-1], wrap, string=value)
        elif value:
            ws.merge_range(row, 1, row, last, value, wrap)
        ws.set_row(row, row_height(sheet_writer.fitted_lines(value, value_width), CJK_LINE_POINTS))
        row += 1
    row += 1
    ws.write_string(row, 0, "审批记录", bold)
    header_row = row + 1
    lines = [HISTORY_HEADER, *(history_rows(view, tz) or [("—", "尚无审批记录")])]
    for r, values in enumerate(lines, start=header_row):
        for c, value in enumerate(values):
            ws.write_string(r, c, value, bold if r == header_row else wrap)
        needed = max(sheet_writer.fitted_lines(v, w) for v, w in zip(values, RECEIPT_WIDTHS))
        ws.set_row(r, row_height(needed, CJK_LINE_POINTS))
    row = header_row + len(lines) + 1
    ws.merge_range(row, 0, row, last, FOOTNOTE, wrap)
    ws.set_row(row, row_height(sheet_writer.fitted_lines(FOOTNOTE, sum(RECEIPT_WIDTHS)), CJK_LINE_POINTS))
    ws.write_string(row + 2, 0, f"更新时间:{now.astimezone(tz):%Y-%m-%d %H:%M}")
    for c, width in enumerate(RECEIPT_WIDTHS):
        ws.set_column(c, c, width)
    setup_xlsxwriter(ws, landscape=False, repeat_row=header_row)  # a long history repeats its header


# --- 我的申请.xlsx ------------------------------------------------------------------------------
#
# Each applicant's overview of every case of theirs: with years of history, thousands of rows,
# of which a pass changes a handful. It is written like the registers that are rendered by
# change (registers.incremental): a cache per person in .officeflow/register-cache/ holds the
# rows, per block of 256, with their sheet XML deflated; a pass reads only the rows of the cases
# whose receipts it wrote (marked in the same transaction that records the receipts, so a pass
# killed in between leaves the mark for the next one) and splices them in. The store stays the
# truth and the cache is disposable: a missing, damaged, foreign or stale cache (its generation is
# not the one the store names), a mark naming no cases, or a count of cases that disagrees means the
# whole sheet is built again. On a new day the open cases are read again too (已等待工作日 moves on).
# The output equals a full render by the registers' writer cell for cell
# (tests/test_my_requests_incremental.py).

MY_COLUMNS = (("编号", "text"), ("表单", "text"), ("提交时间", "datetime"), ("金额", "money"), ("状态", "text"),
              ("当前审批人", "text"), ("已等待工作日", "int"), ("下一步", "text"), ("结果", "text"),
              ("合同编号", "text"), ("完成时间", "datetime"), ("回执", "text"))
MY_REGISTER = RegisterDef(MY_REQUESTS, "MyRequests", tuple(Column(h, k) for h, k in MY_COLUMNS),
                          rows=lambda conn, ctx: [], tables=frozenset({"cases", "tasks"}))
DUE_KIND = "my-requests-due"  # outputs row per person: the cases whose rows changed since the last write
GENERATION_KIND = "my-requests"  # outputs row per person: the generation the person's cache was written under
MAX_DUE = 5_000  # more cases marked than this: build the whole sheet (about the same cost)
_KEY_BATCH = 500
_MY_CODE = hashlib.blake2b(Path(__file__).read_bytes(), digest_size=16).hexdigest()  # the rows depend on this code


def _next_step(status: str, holders: str) -> str:
    return {"in_approval": f"等待 {holders} 审批", "returned": "请修改退回的表单后保留「申请编号」重新提交",
            "blocked": "等待管理员补充制度"}.get(status, "已结束")


def _applied_by(person: str | None):
    c = s.cases.c
    return c.applicant.is_(None) if person is None else c.applicant == person


def my_request_rows(conn, person: str | None, *, today: date, workdays_between, tz: ZoneInfo) -> list[tuple]:
    """The rows of 我的申请: what ``_views_of`` would show of each case, read with only what the sheet
    shows (a person with 10,000 cases: their open tasks, not every task and approval of every case)."""
    return [row for _, row in my_request_keyed_rows(conn, person, today=today, workdays_between=workdays_between, tz=tz)]


def my_request_keyed_rows(conn, person: str | None, *, today: date, workdays_between, tz: ZoneInfo,
                          keys: Collection[int] | None = None) -> list[tuple[int, tuple]]:
    """(case id, row) of 我的申请 for the person's cases ``keys`` (all of them when None), in case order."""
    c, t, k, r = s.cases.c, s.tasks.c, s.contracts.c, s.receipts.c
    who = _applied_by(person)
    ordered = None if keys is None else sorted(set(keys))
    batches = [None] if ordered is None else [ordered[at:at + _KEY_BATCH] for at in range(0, len(ordered), _KEY_BATCH)]
    waited_since: dict[date, int] = {}
    same: dict = {}
    out = []

    def local(moment):
        return moment.astimezone(tz).replace(tzinfo=None) if moment else None

    for ids in batches:
        where = who if ids is None else and_(who, c.id.in_(ids))
        cases = conn.execute(select(c.id, c.number, c.form_title, c.form_id, c.created_at, c.amount, c.status,
                                    c.decided_at).where(where).order_by(c.id)).all()
        open_tasks: dict[int, list] = {}
        for row in conn.execute(select(t.case_id, t.assignee, t.on_behalf_of, t.opened_at)
                                .join(s.cases, c.id == t.case_id).where(where, t.status == "open").order_by(t.id)):
            open_tasks.setdefault(row.case_id, []).append(row)
        contracts: dict[int, str | None] = {}
        for case_id, number in conn.execute(select(k.case_id, k.number).join(s.cases, c.id == k.case_id).where(where)):
            contracts.setdefault(case_id, number)
        receipts = dict(conn.execute(select(r.case_id, r.path).join(s.cases, c.id == r.case_id).where(where)).all())
        for case in cases:
            status = case.status
            tasks = open_tasks.get(case.id)
            holders, waited = "", None
            if tasks:
                holders = "、".join(dict.fromkeys(_who(task._asdict()) for task in tasks))
                started = min((task.opened_at for task in tasks if task.opened_at), default=None)
                if started:
                    day = started.astimezone(tz).date()
                    if day not in waited_since:
                        waited_since[day] = workdays_between(day, today)
                    waited = waited_since[day]
            receipt = receipts.get(case.id)
            title = case.form_title or case.form_id
            out.append((case.id, (case.number, same.setdefault(title, title), local(case.created_at), case.amount,
                                  STATE_WORDS.get(status, status), holders, waited, _next_step(status, holders),
                                  RESULT_WORDS.get(status, ""), contracts.get(case.id),
                                  local(case.decided_at) if status in FINISHED else None,
                                  _file_name(receipt) if receipt else None)))
    return out


def _file_name(rel: str) -> str:
    return rel.rsplit("/", 1)[-1] if "\\" not in rel else Path(rel).name


def my_request_extent(conn, person: str | None) -> tuple[int, int | None]:
    c = s.cases.c
    return tuple(conn.execute(select(func.count(), func.max(c.id)).where(_applied_by(person))).one())


def _views_of(conn, who, cases: list[dict]) -> dict[int, CaseView]:
    """``load_view`` of every case matching ``who``, in one query per table."""
    t, k, r = s.tasks.c, s.contracts.c, s.applicant_requests.c
    tasks: dict[int, list[dict]] = {}
    for row in conn.execute(select(s.tasks).join(s.cases, s.cases.c.id == t.case_id).where(who).order_by(t.id)).mappings():
        tasks.setdefault(row["case_id"], []).append(dict(row))
    contracts: dict[int, dict] = {}
    for row in conn.execute(select(s.contracts).join(s.cases, s.cases.c.id == k.case_id).where(who)).mappings():
        contracts.setdefault(row["case_id"], dict(row))
    o = s.outputs.c
    records: dict[str, str] = {}
    pdfs: dict[str, str] = {}
    numbers = [case["number"] for case in cases]
    for at in range(0, len(numbers), 500):
        for kind, key, path in conn.execute(select(o.kind, o.key, o.path).where(
                o.kind.in_((RECORD_KIND, RECORD_PDF_KIND)), o.key.in_(numbers[at:at + 500]))):
            (records if kind == RECORD_KIND else pdfs)[key] = path
    reminders = dict(conn.execute(select(r.case_id, func.count()).join(s.cases, s.cases.c.id == r.case_id)
                                  .where(who, r.kind == "remind", r.accepted.is_(True)).group_by(r.case_id)).all())
    return {case["id"]: _view(case, tasks.get(case["id"], []), contracts.get(case["id"]), records.get(case["number"]),
                              reminders.get(case["id"], 0), pdf=pdfs.get(case["number"])) for case in cases}


def _register_of(person: str | None, args: dict) -> RegisterDef:
    """我的申请 of ``person`` as a register the registers' cache can build on: its rows by case, the
    number of its cases and the last, and the cases whose row depends on the day (an open task)."""
    def keyed_rows(conn, ctx, keys):
        return my_request_keyed_rows(conn, person, keys=keys, **args)

    def day_keys(conn, ctx) -> set[int]:
        c, t = s.cases.c, s.tasks.c
        return set(conn.execute(select(t.case_id).join(s.cases, c.id == t.case_id).where(
            _applied_by(person), t.status == "open", t.opened_at.is_not(None)).distinct()).scalars())

    return dataclasses.replace(MY_REGISTER, keyed_rows=keyed_rows, extent=lambda conn: my_request_extent(conn, person),
                               day_keys=day_keys)


def _person_key(person: str | None) -> str:
    """The person's key in the outputs table (at most 120 characters) and in the cache's name."""
    if person is None:
        return "-"
    return f"={person}" if len(person) <= 100 else "#" + hashlib.blake2b(person.encode(), digest_size=16).hexdigest()


def _cache_file(rt, person: str | None) -> Path:
    digest = hashlib.blake2b(_person_key(person).encode(), digest_size=16).hexdigest()
    return incremental.cache_path(rt.settings.state, f"{MY_REQUESTS}-{digest}")


@dataclass(frozen=True)
class Due:
    person: str | None
    cases: list[int] | None  # None: every case (build the whole sheet)
    mark: str  # the mark as read, to clear exactly it


def _due_text(person: str | None, cases: list[int] | None) -> str:
    return json.dumps({"person": person, "cases": cases}, ensure_ascii=False)


def _mark_due(conn, changed: dict[str | None, list[int]], at: datetime) -> None:
    """Inside the transaction that records receipts: the cases whose 我的申请 rows changed, per person."""
    o = s.outputs.c
    for person, ids in changed.items():
        key = _person_key(person)
        old = conn.execute(select(o.path).where(o.kind == DUE_KIND, o.key == key)).scalar()
        cases: list[int] | None = sorted({int(i) for i in ids})
        if old is not None:
            before = _read_due(old)
            cases = None if before is None or before.cases is None else sorted({*before.cases, *cases})
        if cases is not None and len(cases) > MAX_DUE:
            cases = None
        text = _due_text(person, cases)
        if old is None:
            conn.execute(s.outputs.insert().values(kind=DUE_KIND, key=key, path=text, at=at))
        else:
            conn.execute(s.outputs.update().where(o.kind == DUE_KIND, o.key == key).values(path=text, at=at))


def _read_due(text: str | None) -> Due | None:
    try:
        data = json.loads(text or "")
        person, cases = data["person"], data["cases"]
        if person is not None and not isinstance(person, str):
            return None
        if cases is not None:
            cases = [int(i) for i in cases]
    except (ValueError, TypeError, KeyError):
        return None
    return Due(person, cases, text)


def due_people(rt) -> list[Due]:
    """The marks waiting: each person whose 我的申请 is behind the store."""
    o = s.outputs.c
    with rt.store.read() as conn:
        marks = conn.execute(select(o.key, o.path).where(o.kind == DUE_KIND).order_by(o.key)).all()
    due = []
    for key, text in marks:
        mark = _read_due(text)
        if mark is None:  # unreadable: the person cannot be told from it; drop it
            log.info("忽略无法读取的我的申请更新标记:%s", key)
            with rt.store.begin() as conn:
                conn.execute(s.outputs.delete().where(o.kind == DUE_KIND, o.key == key, o.path == text))
            continue
        due.append(mark)
    return due


@dataclass(frozen=True)
class MyRequestsWritten:
    path: Path
    incremental: bool  # built on the cache: only the marked rows read
    rows_read: int


def write_my_requests(rt, person: str | None, cases: Collection[int] | None = None, *,
                      mark: str | None = None) -> MyRequestsWritten:
    """Write the person's 我的申请: the rows of ``cases`` spliced into the cached sheet when the cache
    applies, else every row; then clear the person's mark ``mark`` (the text read) and name the cache."""
    tz = ZoneInfo(rt.settings.time.timezone)
    today = rt.clock.today()
    ctx = RenderContext(today=today, workdays_between=rt.calendar.workdays_between, tz=tz)
    identity = incremental.identity(MY_REGISTER, ctx)
    identity = None if identity is None else (*identity, _MY_CODE)
    register = _register_of(person, dict(today=today, workdays_between=rt.calendar.workdays_between, tz=tz))
    cache_file = _cache_file(rt, person)
    key, o = _person_key(person), s.outputs.c
    with rt.store.read() as conn:
        generation = conn.execute(select(o.path).where(o.kind == GENERATION_KIND, o.key == key)).scalar()
        generation = int(generation) if generation and generation.isdigit() else None
        if identity is None:  # the holiday calendar cannot be told apart: no cache
            plan, rows = None, [row for _, row in register.keyed_rows(conn, ctx, None)]
        else:
            cache = incremental.load(cache_file, identity, generation) if generation is not None else None
            # On another day than the cache's, the open cases (已等待工作日) are read again with the marked ones.
            plan = incremental.read_plan(conn, ctx, register, cache, cases)
    path = ensure_folders(rt.settings, person) / f"{MY_REQUESTS}.xlsx"
    rendered_at = rt.clock.now().astimezone(tz).replace(tzinfo=None)
    # Each write names its cache anew (the first from a random number, as the registers' claims): a cache
    # left by a write killed before the store names it, or one copied from another store, is not used.
    after = generation + 1 if generation else secrets.randbelow(2 ** 30) + 1
    if plan is None:
        incremental.discard(cache_file)
        write_register(path, MY_REGISTER, rows, rendered_at=rendered_at)
        written = MyRequestsWritten(path, False, len(rows))
    else:
        incremental.write(path, cache_file, plan, identity=identity, generation=after, rendered_at=rendered_at)
        written = MyRequestsWritten(path, plan.incremental, plan.changed)
    if written.incremental:
        log.debug("我的申请(%s)已按变化更新:读取 %d 行,共 %d 行", person or UNSIGNED, written.rows_read, len(plan))
    else:
        log.debug("我的申请(%s)已整表重建:%d 行", person or UNSIGNED, written.rows_read)
    with rt.store.begin() as conn:
        _name_generation(conn, key, after, rt.clock.now())
        if mark is not None:
            _clear_due(conn, key, mark)
    return written


def _name_generation(conn, key: str, generation: int, at: datetime) -> None:
    o = s.outputs.c
    done = conn.execute(s.outputs.update().where(o.kind == GENERATION_KIND, o.key == key).values(
        path=str(generation), at=at)).rowcount
    if not done:
        conn.execute(s.outputs.insert().values(kind=GENERATION_KIND, key=key, path=str(generation), at=at))


def _clear_due(conn, key: str, mark: str) -> None:
    """Remove the mark this write served. A mark changed since it was read (cases marked while this
    write ran) is left whole: the next pass reads those rows again, which costs little and misses nothing."""
    o = s.outputs.c
    conn.execute(s.outputs.delete().where(o.kind == DUE_KIND, o.key == key, o.path == mark))

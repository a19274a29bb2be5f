"""The append-only audit log, chained: each entry carries the SHA-256 of the previous one.

Editing or deleting any row breaks the chain from that row on, and
``verify_chain`` names the first row whose hash no longer matches. Cutting
the tail is caught by the anchors outside the store (see below).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import String, select, type_coerce
from sqlalchemy.engine import Connection

from automation.forms import zip_package
from automation.fsutil import atomic_save, atomic_write_bytes
from automation.record import codec
from automation.record import schema as s
from automation.record.audit_head import GENESIS, head_in_scope, known_head
from automation.record.dialect import AUDIT_LOCK, serialise


def _digest(prev_hash: str, entry_id: int, at: str, actor: str, action: str, subject: str | None,
            detail: str | None, file: str | None, file_hash: str | None) -> str:
    payload = codec.dumps([prev_hash, entry_id, at, actor, action, subject, detail, file, file_hash])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


_HEAD = select(s.audit_log.c.id, s.audit_log.c.hash).order_by(s.audit_log.c.id.desc()).limit(1).with_for_update()
_INSERT = s.audit_log.insert()
_AT = s.AwareDateTime()
_COLUMNS = tuple(c.name for c in s.audit_log.columns)
_FAST_DIALECTS = ("sqlite", "postgresql")


@dataclass(frozen=True)
class _Driver:
    """The two statements of ``append`` as the dialect compiles them, sent with ``exec_driver_sql``:
    an entry costs the driver's execute, not SQLAlchemy's per-statement cache-key walk and compile
    lookup (the hottest statements of intake: about one in four of a form's). The SQL text, the
    parameter order and the bind processors are SQLAlchemy's own, taken once per dialect."""

    head: str
    head_params: Any
    insert: str
    names: tuple[str, ...] | None  # positional order (qmark), or None: named parameters
    processors: dict


_DRIVER: dict[tuple, _Driver | None] = {}


def _driver(dialect) -> _Driver | None:
    """The compiled statements for ``dialect``; None (the reference path, ``conn.execute``) for a dialect
    other than SQLite and PostgreSQL, or whatever compiling them raises."""
    name = (dialect.name, dialect.driver, dialect.paramstyle)
    if name not in _DRIVER:
        found = None
        if dialect.name in _FAST_DIALECTS:
            try:
                head = _HEAD.compile(dialect=dialect)
                insert = _INSERT.compile(dialect=dialect, column_keys=list(_COLUMNS))
                head_params = head.construct_params()
                processors = {c.name: proc for c in s.audit_log.columns
                              if (proc := c.type.dialect_impl(dialect).bind_processor(dialect)) is not None}
                if head.positional:
                    head_params = tuple(head_params[k] for k in head.positiontup)
                names = tuple(insert.positiontup) if insert.positional else None
                if names is not None and set(names) != set(_COLUMNS):
                    raise ValueError("the insert's parameters are not the table's columns")
                found = _Driver(str(head), head_params, str(insert), names, processors)
            except Exception:  # never worse than before: the reference path
                found = None
        _DRIVER[name] = found
    return _DRIVER[name]


def _read_head(conn: Connection):
    driver = _driver(conn.dialect)
    if driver is None:
        return conn.execute(_HEAD).first()
    return conn.exec_driver_sql(driver.head, driver.head_params).first()


def _insert(conn: Connection, values: dict) -> None:
    driver = _driver(conn.dialect)
    if driver is None:
        conn.execute(_INSERT, values)
        return
    procs = driver.processors
    bound = {k: (procs[k](v) if k in procs else v) for k, v in values.items()}
    conn.exec_driver_sql(driver.insert, tuple(bound[k] for k in driver.names) if driver.names is not None else bound)


def append(conn: Connection, *, at, actor: str, action: str, subject: str | None = None,
           detail: dict[str, Any] | None = None, file: str | None = None, file_hash: str | None = None) -> int:
    """Append one entry inside the caller's transaction (which holds the write lock).

    The head is serialised: on PostgreSQL by a transaction-level advisory lock held until the
    caller commits, so two workers can never both chain onto the same last entry. Within one
    transaction the head is read once: the lock (SQLite's write lock from ``BEGIN IMMEDIATE``, the
    advisory lock on PostgreSQL) is held until commit, so nobody else can append meanwhile, and the
    entry just written is the head. A savepoint begun or ended since means reading it again."""
    known = head_in_scope(conn)
    if known is not None:
        entry_id, prev_hash = known[0] + 1, known[1]
    else:
        serialise(conn, AUDIT_LOCK)
        last = _read_head(conn)
        prev_hash = last.hash if last else GENESIS
        entry_id = (last.id + 1) if last else 1
    detail_text = codec.dumps(codec.plain(detail)) if detail is not None else None
    at_text = _AT.process_bind_param(at, None)
    digest = _digest(prev_hash, entry_id, at_text, actor, action, subject, detail_text, file, file_hash)
    _insert(conn, {"id": entry_id, "at": at, "actor": actor, "action": action, "subject": subject,
                   "detail": detail_text, "file": file, "file_hash": file_hash, "prev_hash": prev_hash, "hash": digest})
    known_head(conn, entry_id, digest)
    return entry_id


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    broken_at: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict:
        return {"ok": self.ok, "entries": self.entries, "broken_at": self.broken_at, "reason": self.reason}


def verify_chain(conn: Connection) -> ChainReport:
    prev_hash = GENESIS
    expected_id = 1
    count = 0
    # Read as raw text so that a tampered value is hashed exactly as stored.
    c = s.audit_log.c
    rows = conn.execute(select(c.id, type_coerce(c.at, String), c.actor, c.action, c.subject, c.detail, c.file,
                               c.file_hash, c.prev_hash, c.hash).order_by(c.id))
    for row in rows:
        count += 1
        if row[0] != expected_id:
            return ChainReport(False, count, row[0], f"编号不连续:缺少第 {expected_id} 条记录")
        if row[8] != prev_hash:
            return ChainReport(False, count, row[0], "记录的“上一条哈希”与上一条记录不符")
        digest = _digest(row[8], row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7])
        if digest != row[9]:
            return ChainReport(False, count, row[0], "记录内容已被修改(哈希不符)")
        prev_hash = row[9]
        expected_id += 1
    return ChainReport(True, count)


# --- the head, anchored outside the store -------------------------------------------
#
# A chain proves that no entry was changed or removed *in the middle*; cutting off its
# tail (or rewriting a suffix consistently, since the hash is public) leaves a shorter,
# valid chain. So the head (count and hash) is written out after every pass: to a
# checkpoint file beside the store, optionally HMAC-signed with a key kept outside the
# store, and into the 说明 line of 审批台账. ``verify_trail`` compares the chain with
# those anchors and with the business tables, which must each have their entries.

CHECKPOINT_FILE = "audit-checkpoint.json"
KEY_ENV = "OFFICEFLOW_AUDIT_KEY"
_ANCHOR = re.compile(r"审计链:共\s*(\d+)\s*条,末条哈希\s*([0-9a-f]{64})")


@dataclass(frozen=True)
class ChainHead:
    entries: int
    hash: str

    def anchor_text(self) -> str:
        return f"审计链:共 {self.entries} 条,末条哈希 {self.hash}。"


def head(conn: Connection) -> ChainHead:
    last = conn.execute(select(s.audit_log.c.id, s.audit_log.c.hash).order_by(s.audit_log.c.id.desc()).limit(1)).first()
    return ChainHead(last.id, last.hash) if last else ChainHead(0, GENESIS)


def hash_at(conn: Connection, entry_id: int) -> str | None:
    if entry_id == 0:
        return GENESIS
    return conn.execute(select(s.audit_log.c.hash).where(s.audit_log.c.id == entry_id)).scalar()


def load_key(key_file: str | None = None) -> bytes | None:
    """The HMAC key: ``OFFICEFLOW_AUDIT_KEY``, else the file named in settings; None when neither."""
    value = os.environ.get(KEY_ENV)
    if value:
        return value.encode("utf-8")
    if key_file:
        return Path(key_file).expanduser().read_bytes().strip() or None
    return None


def _signature(key: bytes, entries: int, digest: str) -> str:
    return hmac.new(key, f"{entries}:{digest}".encode("ascii"), hashlib.sha256).hexdigest()


def read_checkpoint(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"unreadable": True}
    return data if isinstance(data, dict) else {"unreadable": True}


def refresh_checkpoint(conn: Connection, path: Path, *, key: bytes | None, at,
                       register: Path | None = None) -> str | None:
    """Move the checkpoint forward to the chain's head. Never backwards, never onto another
    history: then the old checkpoint is kept as evidence and the reason is returned. A missing
    checkpoint is written anew only if the chain extends the head in ``register``'s 说明 line
    (deleting the checkpoint together with the tail must not let the next pass bless the cut)."""
    current = head(conn)
    old = read_checkpoint(path)
    if old is None and register is not None:
        kept = stored_anchor(register)
        problem = kept and _against(conn, current, {"entries": kept[0], "hash": kept[1]}, None, what="审批台账的说明行")
        if problem:
            return problem
    if old and not old.get("unreadable"):
        problem = _against(conn, current, old, key)
        if problem:
            return problem
        if old.get("entries") == current.entries and old.get("hash") == current.hash and (not key or old.get("hmac")):
            return None
    data = {"entries": current.entries, "hash": current.hash, "at": at.isoformat(timespec="seconds")}
    if key:
        data["hmac"] = _signature(key, current.entries, current.hash)
    atomic_write_bytes(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))
    return None


def _against(conn: Connection, current: ChainHead, anchor: dict, key: bytes | None, what: str = "检查点") -> str | None:
    """Why the chain does not extend ``anchor`` (None if it does)."""
    try:
        entries, digest = int(anchor["entries"]), str(anchor["hash"])
    except (KeyError, TypeError, ValueError):
        return f"{what}文件内容不完整,无法核对"
    if key and anchor.get("hmac") is not None and not hmac.compare_digest(str(anchor["hmac"]), _signature(key, entries, digest)):
        return f"{what}的签名与密钥不符,{what}可能被改动过"
    if current.entries < entries:
        return (f"审计链现有 {current.entries} 条记录,但{what}记录过 {entries} 条:"
                f"第 {current.entries + 1}–{entries} 条已被删除")
    found = hash_at(conn, entries)
    if found != digest:
        return f"审计链第 {entries} 条记录的哈希与{what}不符:该记录或其之前的记录被改写过"
    return None


@dataclass
class TrailReport:
    chain: ChainReport
    problems: list[str] = field(default_factory=list)
    anchors: list[str] = field(default_factory=list)  # which anchors were checked

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems

    def to_dict(self) -> dict:
        return {"ok": self.ok, **{k: v for k, v in self.chain.to_dict().items() if k != "ok"},
                "problems": self.problems, "anchors": self.anchors}


def verify_trail(conn: Connection, *, checkpoint: Path | None = None, register: Path | None = None,
                 key: bytes | None = None) -> TrailReport:
    """The chain itself, its anchors outside the store, and the business tables against it."""
    report = TrailReport(verify_chain(conn))
    current = head(conn)
    if checkpoint is not None:
        data = read_checkpoint(checkpoint)
        if data is None:
            if key:
                report.problems.append("找不到审计链检查点文件,无法确认审计链没有被截短")
        elif data.get("unreadable"):
            report.problems.append("审计链检查点文件已损坏,无法读取")
        else:
            report.anchors.append("检查点")
            if key and data.get("hmac") is None:
                report.problems.append("检查点没有签名,但已配置签名密钥:检查点可能被替换过")
            problem = _against(conn, current, data, key)
            if problem:
                report.problems.append(problem)
    if register is not None:
        anchor = register_anchor(register)
        if anchor is not None:
            report.anchors.append("审批台账")
            problem = _against(conn, current, {"entries": anchor[0], "hash": anchor[1]}, None, what="审批台账的说明行")
            if problem:
                report.problems.append(problem)
    report.problems.extend(cross_check(conn))
    return report


def register_anchor(path: Path) -> tuple[int, str] | None:
    """(count, hash) from the 说明 line (A1) of a rendered register, if it carries one."""

    try:
        book = openpyxl.load_workbook(path, read_only=True)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None
    try:
        first = next(book.worksheets[0].iter_rows(min_row=1, max_row=1, max_col=1, values_only=True), (None,))
    finally:
        book.close()
    found = _ANCHOR.search(str(first[0] or ""))
    return (int(found.group(1)), found.group(2)) if found else None


# --- the 说明 line of 审批台账, kept current on every pass ---------------------------------
#
# The register is rendered only when its rows change, but the chain grows on every pass
# (files received, returned, reminders). So after each pass the anchor in the 说明 line is
# brought up to the head in place: only the workbook's shared-strings part changes (the data
# rows are inline strings in the sheet, copied compressed as stored), so no render and no
# re-compression: a few milliseconds even for a register of tens of thousands of rows. An
# anchor the chain no longer extends is never overwritten: it is the evidence.

SHARED_STRINGS = "xl/sharedStrings.xml"
_ANCHOR_BYTES = re.compile(r"审计链:共\s*(\d+)\s*条,末条哈希\s*([0-9a-f]{64})。".encode("utf-8"))


def stored_anchor(path: Path) -> tuple[int, str] | None:
    """(count, hash) in a rendered register's shared strings, read without opening the workbook."""
    try:
        with zipfile.ZipFile(path) as book:
            found = _ANCHOR_BYTES.search(book.read(SHARED_STRINGS))
    except (OSError, KeyError, zipfile.BadZipFile):
        return None
    return (int(found.group(1)), found.group(2).decode("ascii")) if found else None


def register_anchor_text(conn: Connection, path: Path) -> str:
    """The anchor a render of ``path`` writes: the head, unless the chain no longer extends the
    anchor the register already carries (then that one is kept, as evidence)."""
    current = head(conn)
    kept = stored_anchor(path)
    if kept and _against(conn, current, {"entries": kept[0], "hash": kept[1]}, None):
        return ChainHead(*kept).anchor_text()
    return current.anchor_text()


def refresh_register_anchor(conn: Connection, path: Path) -> str | None:
    """Bring the 说明 line of an already rendered register up to the chain's head, in place.

    A register not (yet) rendered with an anchor is left to its render. Returns why the anchor
    was kept instead (the chain does not extend it), else None."""
    kept = stored_anchor(path)
    current = head(conn)
    if kept is None or kept == (current.entries, current.hash):
        return None
    problem = _against(conn, current, {"entries": kept[0], "hash": kept[1]}, None, what="审批台账的说明行")
    if problem:
        return problem
    new = current.anchor_text().encode("utf-8")
    with zipfile.ZipFile(path) as book:
        strings = _ANCHOR_BYTES.sub(lambda _: new, book.read(SHARED_STRINGS), count=1)
    try:  # the other parts (the sheet with every row) are copied compressed, as they are stored
        zip_package.write(path, path, {SHARED_STRINGS: strings})
        return None
    except zip_package.Unsupported:
        pass

    def save(tmp: Path) -> None:
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
            for info in src.infolist():
                data = src.read(info)
                if info.filename == SHARED_STRINGS:
                    data = strings
                out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)

    atomic_save(path, save)
    return None


# --- the business tables against the chain ------------------------------------------

_SHOW = 5


def cross_check(conn: Connection) -> list[str]:
    """Every submission, case, task, decision and contract must have its entries in the chain."""
    seen: dict[str, set] = {}
    for action, subject, detail in conn.execute(select(s.audit_log.c.action, s.audit_log.c.subject, s.audit_log.c.detail)):
        seen.setdefault(action, set()).add(subject)
        if action in ("task-opened", "task-decided") and detail:
            task = _task_of(detail)
            if task is not None:
                seen.setdefault(f"{action}#", set()).add(task)
    problems = []
    subs = conn.execute(select(s.submissions.c.id, s.submissions.c.status)).all()
    _missing(problems, "收到的文件", [f"提交#{r.id}" for r in subs if f"提交#{r.id}" not in seen.get("file-received", ())],
             "没有收件记录")
    _missing(problems, "处理完的文件", [f"提交#{r.id}" for r in subs if r.status in ("archived", "returned", "quarantined")
                                       and f"提交#{r.id}" not in seen.get(f"file-{r.status}", ())], "没有去向记录")
    cases = conn.execute(select(s.cases.c.number, s.cases.c.status)).all()
    _missing(problems, "申请", [r.number for r in cases if r.number not in seen.get("case-opened", ())], "没有立案记录")
    _missing(problems, "已结束的申请", [r.number for r in cases if r.status in ("approved", "rejected")
                                       and r.number not in seen.get(f"case-{r.status}", ())], "没有结案记录")
    tasks = conn.execute(select(s.tasks.c.id, s.tasks.c.opened_at, s.tasks.c.decision, s.tasks.c.case_id)).all()
    _missing(problems, "审批任务", [f"任务#{t.id}" for t in tasks if t.opened_at is not None
                                   and t.id not in seen.get("task-opened#", ())], "没有派发记录")
    _missing(problems, "审批决定", [f"任务#{t.id}" for t in tasks if t.decision is not None
                                   and t.id not in seen.get("task-decided#", ())], "没有决定记录")
    contracts = conn.execute(select(s.contracts.c.number, s.contracts.c.status)).all()
    _missing(problems, "合同", [c.number for c in contracts if c.status == "已生成"
                               and c.number not in seen.get("contract-rendered", ())], "没有生成记录")
    # …and the other way: what the chain recorded must still be in its table (nothing is ever deleted
    # from them), so emptying or cutting a whole table is reported too.
    _gone(problems, "收到的文件", seen.get("file-received", ()), {f"提交#{r.id}" for r in subs}, "提交记录")
    _gone(problems, "申请", seen.get("case-opened", ()), {r.number for r in cases}, "申请记录")
    _gone(problems, "审批任务", {f"任务#{t}" for t in seen.get("task-opened#", ())}, {f"任务#{t.id}" for t in tasks},
          "任务记录")
    _gone(problems, "合同", seen.get("contract-rendered", ()), {c.number for c in contracts}, "合同记录")
    return problems


def _gone(problems: list[str], what: str, recorded, present: set, table: str) -> None:
    """Items the chain recorded that their table no longer holds."""
    _missing_in(problems, what, sorted(x for x in recorded if x is not None and x not in present), table)


def _missing_in(problems: list[str], what: str, items: list[str], table: str) -> None:
    if items:
        shown = "、".join(items[:_SHOW]) + (f" 等 {len(items)} 项" if len(items) > _SHOW else "")
        problems.append(f"审计链记录过的{what} {shown} 在{table}中已不存在(数据可能被删除)")


def _task_of(detail: str) -> int | None:
    try:
        value = json.loads(detail).get("task")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


def _missing(problems: list[str], what: str, items: list[str], gap: str) -> None:
    if items:
        shown = "、".join(items[:_SHOW]) + (f" 等 {len(items)} 项" if len(items) > _SHOW else "")
        problems.append(f"{what} {shown} 在审计链中{gap}")

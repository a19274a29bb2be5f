"""When registers are rendered: dirty marks, coalescing, back-off for locked files.

Cases mark the registers they touch (``mark_dirty``) inside their own
transaction. ``render_due`` renders each dirty register once its coalescing
delay has passed, so a burst of cases costs one render per register. A claim
clears the dirty mark in the same transaction that reads the rows, so a case
committed during the render marks the register dirty again and is never lost.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Iterable, Mapping

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from automation.errors import RegisterLockedError
from automation.record import audit
from automation.record import schema as s
from automation.record.registers.dashboard import (
    DASHBOARD,
    dashboard_data,
    write_dashboard,
)
from automation.record.registers import generic, incremental, row_marks
from automation.record.registers.definitions import (
    REGISTERS,
    RegisterDef,
    RenderContext,
    WorkdaysBetween,
)
from automation.record.registers.live_excel import (
    LIVE,
    choose_backend,
    update_open_workbook,
)
from automation.record.registers.writer import FIRST_DATA_ROW, write_register

DASHBOARD_TABLES = frozenset({"cases", "tasks", "complaints", "contracts", "receivables"})
ALL_NAMES = (*REGISTERS, DASHBOARD)
# How long a claimed render may take before another run assumes it died and redoes it.
CLAIM_LEASE = timedelta(minutes=5)
AUDIT_ANCHORED = "审批台账"  # its 说明 line carries the audit chain's head
rs = s.register_state


@dataclass
class RenderResult:
    rendered: dict[str, int] = field(default_factory=dict)  # name → rows
    pending: dict[str, str] = field(default_factory=dict)  # name → why not rendered
    # name → rows read from the store, for the registers rendered incrementally (registers.incremental)
    incremental: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"rendered": dict(self.rendered), "pending": dict(self.pending)}


def tables_of(name: str) -> frozenset[str]:
    return DASHBOARD_TABLES if name == DASHBOARD else REGISTERS[name].tables


def registers_for_tables(tables: Iterable[str]) -> set[str]:
    """Registers reading any of ``tables``; a form's declared register is named by its mark."""
    touched = set(tables)
    return {name for name in ALL_NAMES if tables_of(name) & touched} | generic.marked_names(touched)


def definition(conn: Connection, name: str) -> RegisterDef | None:
    """A coded register, or one a form spec declared (kept in the store)."""
    if name in REGISTERS:
        return REGISTERS[name]
    declared = generic.definitions(conn).get(name)
    return generic.register_def(declared) if declared else None


def register_path(registers_dir: Path, name: str) -> Path:
    return Path(registers_dir) / f"{name}.xlsx"


# --- dirty marks --------------------------------------------------------------------

# Row keys waiting for one register are kept as "12,15,16" (appended to, never parsed while
# marking); past this length the register is rendered in full and the list is dropped.
MAX_KEY_TEXT = 200_000


# Registers whose rows are keyed by case id (``mark_dirty(..., cases=…)``).
CASE_KEYED = ("审批台账",)


def mark_dirty(conn: Connection, names: Iterable[str], at: datetime,
               rows: Mapping[str, Iterable[int]] | None = None, *, cases: Iterable[int] | None = None) -> None:
    """Mark registers for rendering, inside the caller's transaction.

    The first mark of a burst sets ``dirty_since``; later marks keep it, so the
    coalescing delay bounds latency instead of being pushed back forever.
    ``rows`` names, per register, the keys of the rows that changed, ``cases`` the cases that
    changed (the keys of 审批台账); a register marked without keys is rendered in full (see
    registers.incremental), so a caller that cannot tell which rows changed passes none — except
    合同台账 and 客户台账, whose writers name their rows themselves (registers.row_marks: the
    transaction's named rows are added here, their registers marked too); for those, ``rows``
    mapping one to None asks for the comparison of every row.
    """
    rows = dict(rows or {})
    if cases is not None:
        ids = [int(c) for c in cases]
        rows.update({name: ids for name in CASE_KEYED})
    named = row_marks.take(conn)  # the rows the transaction's writers named (合同台账, 客户台账)
    order = sorted({*names, *named})
    if not order:
        return
    # One read and one (executemany) update for all of them, not two statements per register: the
    # rows are still locked in name order (ORDER BY under FOR UPDATE), as one at a time did.
    found = {row.name: row for row in conn.execute(_MARK_READ, {"names": order})}
    marks = []
    for name in order:
        row = found.get(name)
        if row is None and _insert_state(conn, name, at):
            continue
        since = row.dirty_since if row is not None and row.dirty_since is not None else at
        keys = _merged(row.row_keys if row is not None else None, _named_keys(name, rows, named))
        marks.append({"b_name": name, "dirty": True, "dirty_since": since, "row_keys": keys})
    if marks:
        conn.execute(_MARK, marks)


# Built once (a mark is made for every form and decision; building costs more than running).
_MARK_READ = (select(rs.c.name, rs.c.dirty_since, rs.c.row_keys)
              .where(rs.c.name.in_(bindparam("names", expanding=True))).order_by(rs.c.name).with_for_update())
_MARK = rs.update().where(rs.c.name == bindparam("b_name"))


def _named_keys(name: str, rows: Mapping[str, Iterable[int] | None], named: Mapping[str, set[int]]) -> list[int] | None:
    """The keys this mark adds for ``name``; None: unknown (render in full). The writers name the rows
    of the registers in row_marks.WRITER_NAMED, so a mark without keys adds none for those; ``rows``
    giving None for one asks for its full comparison (RegisterDef.sources)."""
    if name in rows:
        given = rows[name]
        return None if given is None else [*given, *named.get(name, ())]
    if name in row_marks.WRITER_NAMED:
        return sorted(named.get(name, ()))
    return None


def _merged(stored: str | None, keys: Iterable[int] | None) -> str | None:
    """The stored keys with ``keys`` added; None (render in full) when either is unknown or too many."""
    if stored is None or keys is None:
        return None
    added = ",".join(str(int(k)) for k in keys)
    merged = f"{stored},{added}" if stored and added else stored or added
    return merged if len(merged) <= MAX_KEY_TEXT else None


def _keys(stored: str | None) -> list[int] | None:
    """The keys a claim takes; None (render in full) when unknown or unreadable."""
    try:
        return None if stored is None else sorted({int(k) for k in stored.split(",") if k})
    except ValueError:
        return None


def _insert_state(conn: Connection, name: str, at: datetime) -> bool:
    """Insert a first mark; False when another worker inserted it first."""
    try:
        with conn.begin_nested():
            conn.execute(rs.insert().values(name=name, dirty=True, dirty_since=at, attempts=0))
        return True
    except IntegrityError:
        return False


def _is_due(state, now: datetime, coalesce: timedelta, force: bool) -> bool:
    if not state.dirty:
        # Claimed but never finished (the process died): redo once the lease is over.
        return state.dirty_since is not None and state.next_try_at is not None and state.next_try_at <= now
    if force:
        return True
    if state.next_try_at is not None and state.next_try_at > now:
        return False
    return state.dirty_since is None or state.dirty_since + coalesce <= now


@dataclass(frozen=True)
class Claim:
    previous: int  # the generation the previous claim's render wrote its cache under
    generation: int
    keys: list[int] | None  # rows marked since the previous claim; None: unknown (render in full)


def _claim(conn: Connection, name: str, now: datetime, coalesce: timedelta, force: bool) -> Claim | None:
    state = conn.execute(select(rs).where(rs.c.name == name).with_for_update()).first()
    if state is None or not _is_due(state, now, coalesce, force):
        return None
    previous = state.generation or 0
    # The first claim starts at a random number: a cache names the store it was built from by its
    # generation (a copy of the workspace keeps both; another store's cache does not match).
    generation = previous + 1 if previous else secrets.randbelow(2 ** 30) + 1  # an INTEGER on PostgreSQL (32 bits)
    conn.execute(rs.update().where(rs.c.name == name).values(dirty=False, next_try_at=now + CLAIM_LEASE,
                                                            row_keys="", generation=generation))
    return Claim(previous, generation, _keys(state.row_keys))


# --- rendering ----------------------------------------------------------------------

def _backoff(attempts: int, limit: float) -> timedelta:
    return timedelta(seconds=min(limit, 2.0 ** attempts))


def _succeeded(store, name: str, rows: int) -> None:
    with store.begin() as conn:
        state = conn.execute(select(rs.c.dirty, rs.c.dirty_since).where(rs.c.name == name)).first()
        # Marked again while rendering: keep the mark so the next run picks it up.
        since = state.dirty_since if state.dirty else None
        conn.execute(rs.update().where(rs.c.name == name).values(
            rendered_at=store.now(), rows=rows, attempts=0, next_try_at=None, last_error=None, dirty_since=since))


def _failed(store, settings, name: str, error: str) -> None:
    with store.begin() as conn:
        attempts = conn.execute(select(rs.c.attempts).where(rs.c.name == name)).scalar() or 0
        retry_at = store.now() + _backoff(attempts + 1, settings.register_writing.retry_max_seconds)
        # The rows this claim read are lost with it: the retry renders in full.
        conn.execute(rs.update().where(rs.c.name == name).values(
            dirty=True, attempts=attempts + 1, next_try_at=retry_at, last_error=error, row_keys=None))


def _write(settings, name: str, register: RegisterDef | None, data, ctx: RenderContext, now: datetime,
           anchor: str = "", claim: Claim | None = None, key: tuple | None = None) -> int:
    path = register_path(settings.registers, name)
    if isinstance(data, incremental.Plan):
        return incremental.write(path, incremental.cache_path(settings.state, name), data, identity=key,
                                 generation=claim.generation, rendered_at=ctx.local(now), anchor=anchor)
    if name == DASHBOARD:
        write_dashboard(path, data, rendered_at=ctx.local(now))
        return data.records
    if choose_backend(settings.register_writing.mode) == LIVE and update_open_workbook(
            path, name, data, first_row=FIRST_DATA_ROW + 1):
        return len(data)
    return write_register(path, register, data, rendered_at=ctx.local(now), anchor=anchor)


def _incremental_key(settings, register: RegisterDef | None, ctx: RenderContext) -> tuple | None:
    """The cache identity when ``register`` is rendered incrementally, else None (a full render).

    Not while Excel holds the register open on Windows (live mode updates the open workbook)."""
    if register is None or register.keyed_rows is None or register.extent is None:
        return None
    if choose_backend(settings.register_writing.mode) == LIVE:
        return None
    return incremental.identity(register, ctx)


def _render_one(store, settings, name: str, ctx: RenderContext, force: bool, result: RenderResult) -> None:
    now = store.now()
    coalesce = timedelta(seconds=settings.register_writing.coalesce_seconds)
    with store.begin() as conn:
        claim = _claim(conn, name, now, coalesce, force)
        if claim is None:
            return
        register = None if name == DASHBOARD else definition(conn, name)
        key = _incremental_key(settings, register, ctx)
        if name == DASHBOARD:
            data = dashboard_data(conn, ctx)
        elif key is not None:
            cache = incremental.load(incremental.cache_path(settings.state, name), key, claim.previous)
            data = incremental.read_plan(conn, ctx, register, cache, claim.keys)
        else:
            data = register.rows(conn, ctx)
        # The approval register carries the audit chain's head: a printed copy anchors the trail.
        anchor = audit.register_anchor_text(conn, register_path(settings.registers, name)) if name == AUDIT_ANCHORED else ""
    try:
        rows = _write(settings, name, register, data, ctx, now, anchor, claim, key)
    except (RegisterLockedError, OSError) as exc:
        # Never raise for a locked file: the data is in the store and the next run retries.
        _failed(store, settings, name, str(exc))
        result.pending[name] = str(exc)
        return
    except BaseException:
        _failed(store, settings, name, "渲染中断,将自动重试。")
        raise
    _succeeded(store, name, rows)
    result.rendered[name] = rows
    if isinstance(data, incremental.Plan) and data.incremental:
        result.incremental[name] = data.changed


def _context(store, today: date, workdays_between: WorkdaysBetween) -> RenderContext:
    return RenderContext(today=today, workdays_between=workdays_between, tz=store.clock.tz)


def render_due(store, settings, *, today: date, workdays_between: WorkdaysBetween, force: bool = False) -> RenderResult:
    """Render every register that is due; a locked one is left pending with a back-off."""
    ctx = _context(store, today, workdays_between)
    result = RenderResult()
    with store.read() as conn:
        known = {*ALL_NAMES, *generic.definitions(conn)}
        names = [n for n in conn.execute(select(rs.c.name).order_by(rs.c.name)).scalars() if n in known]
    for name in names:
        _render_one(store, settings, name, ctx, force, result)
    return result


def rebuild_all(store, settings, *, today: date, workdays_between: WorkdaysBetween) -> RenderResult:
    """Re-render every register and the dashboard from the store, now: whole, every cache set aside
    (the writers' named rows, registers.row_marks, are then not what the register is built on)."""
    with store.begin() as conn:
        names = {*ALL_NAMES, *generic.definitions(conn)}
        mark_dirty(conn, names, store.now(), rows={name: None for name in names})
    for name in names:
        incremental.discard(incremental.cache_path(settings.state, name))
    return render_due(store, settings, today=today, workdays_between=workdays_between, force=True)


def pending(store) -> list[dict]:
    """Registers not yet current, for ``officeflow status``."""
    with store.read() as conn:
        states = conn.execute(select(rs).where((rs.c.dirty.is_(True)) | (rs.c.last_error.is_not(None)))
                              .order_by(rs.c.name)).all()
    return [{"name": st.name, "dirty": bool(st.dirty), "since": _iso(st.dirty_since), "attempts": st.attempts,
             "next_try_at": _iso(st.next_try_at), "last_error": st.last_error,
             "rendered_at": _iso(st.rendered_at), "rows": st.rows} for st in states]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()

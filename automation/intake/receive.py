"""Taking one file in: record it, decide where it goes, move it, and say so — crash-safely.

The order matters. (0) The file is opened once (never through a symlink, never a
FIFO) and copied privately while hashed; only that copy is parsed and filed.
(1) A submission row is written before anything else. (2) The destination and
every business effect (case, tasks) are committed together, with status
``moving``. (3) Only then are files written, the copy filed and the original
retired — if it still holds the hashed bytes; otherwise it is a new arrival.
(4) The row is marked final. A run killed anywhere resumes from the row.
``pipeline.process_file`` calls these steps in that order; the verdict in between is its own.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import stat
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from automation.faults import is_system_fault
from automation.fsutil import (
    atomic_write_text,
    move_file,
    safe_name,
    sweep_temp_files,
    unique_path,
)
from automation.intake import dispositions as d
from automation.intake import entries, names, private
from automation.intake.dispositions import Disposition
from automation.intake.reasons import reason_file_name
from automation.intake.safety import ADVICE
from automation.record import submissions as subs
from automation.runtime import Runtime

log = logging.getLogger("officeflow")
MAX_ATTEMPTS = 5


@dataclass
class Arrival:
    """A file taken in: its submission row, and — unless intake already knows its verdict — our private copy."""

    row: subs.Row
    name: str  # the readable name it is filed under, unless the copy is renamed by content (see filed_name)
    copy: Path | None = None
    verdict: Disposition | None = None  # refused, unreadable or too large: decided without parsing


def receive(rt: Runtime, path: Path, first_seen: float | None = None,
            stable: tuple[int, int] | None = None) -> Arrival | None:
    """(0)+(1) Copy one stable entry privately and record it. None if it vanished, changed or is still locked.

    ``stable`` is the (size, mtime_ns) the stability check saw; bytes copied with another size or
    time were written after that check (a save begun in between): they wait their own quiet period.
    """
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return _refuse(rt, path, st, _seen_at(rt, first_seen))
    try:
        taken = private.take_copy(path, rt.settings.state, rt.settings.limits.max_file_bytes)
    except FileNotFoundError:
        return None
    except private.NotRegularFile as exc:  # swapped for a link or FIFO at the last moment
        return _refuse(rt, path, exc.st or st, _seen_at(rt, first_seen))
    except private.ChangedWhileReading:  # still being written, or replaced: a new arrival, read again later
        log.info("%s 在读取时被修改,稍后重新读取。", names.readable(path.name))
        return None
    except OSError as exc:  # locked by the copying program, or unreadable: bounded retries
        return _unreadable(rt, path, st, exc, _seen_at(rt, first_seen))
    if stable is not None and (taken.size, taken.mtime_ns) != stable:
        if taken.temp is not None:
            taken.temp.unlink(missing_ok=True)
        log.info("%s 在确认稳定后又被改写,等它保存完成后再读取。", names.readable(path.name))
        return None
    entries.forget_failures(path, rt.settings.inbox)
    return _take(rt, path, taken, _seen_at(rt, first_seen))


def _seen_at(rt: Runtime, first_seen: float | None) -> datetime:
    now = rt.clock.now()
    seen = datetime.fromtimestamp(first_seen, now.tzinfo) if first_seen and rt.clock.fixed is None else now
    return min(seen, now)


def _take(rt: Runtime, path: Path, taken: private.Taken, seen: datetime) -> Arrival:
    now = rt.clock.now()
    rel = names.stored(path.relative_to(rt.settings.inbox).as_posix())
    name = names.readable(path.name)
    with rt.store.begin() as conn:
        row = subs.receive(conn, original_path=rel, name=name, size=taken.size, sha256=taken.sha256,
                           seen_at=seen, stable_at=now)
    if row.status == subs.MOVING:  # planned by a run that died: finish that plan, with its copy
        if taken.temp is not None:
            taken.temp.unlink(missing_ok=True)
        return Arrival(row, names.clean_for_copy(path.name))
    copy = private.place(taken.temp, rt.settings.state, row.id, names.clean_for_copy(path.name)) if taken.temp else None
    too_large = None if copy is not None else d.quarantine(
        "file-too-large", _too_large(taken.size, rt.settings.limits.max_file_bytes))
    return Arrival(row, names.clean_for_copy(path.name), copy, too_large)


def _refuse(rt: Runtime, path: Path, st: os.stat_result, seen: datetime) -> Arrival | None:
    """A symlink, FIFO, socket or device: never opened; a reason file in quarantine/, gone from inbox/."""
    code = entries.kind_of(st)
    digest = entries.identity(path, st, code)
    rel = names.stored(path.relative_to(rt.settings.inbox).as_posix())
    with rt.store.begin() as conn:
        if subs.already_final(conn, rel, digest):  # reported before but could not be removed
            return None
        row = subs.receive(conn, original_path=rel, name=names.readable(path.name), size=0, sha256=digest,
                           seen_at=seen, stable_at=rt.clock.now())
    return Arrival(row, reason_file_name(names.clean_for_copy(path.name)),
                   verdict=d.refused(code, entries.refusal_message(path, code)))


def _unreadable(rt: Runtime, path: Path, st: os.stat_result, exc: OSError, seen: datetime) -> Arrival | None:
    """A file we may not or cannot read: retried for a while, then quarantined unread."""
    attempts, waited = entries.record_failure(path, rt.settings.inbox)
    if attempts < entries.UNREADABLE_ATTEMPTS or waited < rt.settings.limits.unreadable_after_seconds:
        log.info("暂时无法读取 %s:%s", names.readable(path.name), exc)
        return None
    entries.forget_failures(path, rt.settings.inbox)
    rel = names.stored(path.relative_to(rt.settings.inbox).as_posix())
    with rt.store.begin() as conn:
        row = subs.receive(conn, original_path=rel, name=names.readable(path.name), size=st.st_size,
                           sha256=entries.unreadable_identity(st), seen_at=seen, stable_at=rt.clock.now())
    return Arrival(row, names.clean_for_copy(path.name),
                   verdict=d.quarantine("file-unreadable", entries.unreadable_message(path, exc, attempts)))


class TimeBudgetExceeded(BaseException):
    """One file took longer than ``max_seconds_per_file`` (a BaseException, so no parser's
    ``except Exception`` can swallow it)."""


@contextmanager
def time_budget(seconds: float):
    """Interrupt the block after ``seconds`` (SIGALRM; main thread on POSIX only, as in
    ``officeflow process`` and ``watch``; elsewhere the crash-loop guard still bounds a file)."""
    usable = (seconds and seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def _expired(signum, frame):
        raise TimeBudgetExceeded()

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _too_large(size: int, limit: int) -> str:
    def mb(n: int) -> str:
        return f"{n / 1024 / 1024:,.2f}".rstrip("0").rstrip(".")

    return f"文件大小为 {mb(size)} MB,超过了系统允许的上限 {mb(limit)} MB。{ADVICE['file-too-large']}"


def screen(rt: Runtime, row: subs.Row) -> Disposition | None:
    """The verdict a copied file gets before anyone parses it: a crash loop, or a copy of one already taken."""
    if row.attempts > MAX_ATTEMPTS:
        return d.quarantine(
            "file-crashes-processing", f"处理此文件时程序已连续 {MAX_ATTEMPTS} 次意外中断,为保护其他文件的处理已将其隔离。"
            "文件原样保存,没有丢失;请联系管理员检查(可能文件过大或结构异常)。")
    return twin(rt, row)


def twin(rt: Runtime, row: subs.Row) -> Disposition | None:
    """A duplicate, if the same bytes were already taken in."""
    with rt.store.read() as conn:
        return twin_in(conn, row)


def twin_in(conn, row: subs.Row) -> Disposition | None:
    """``twin`` inside the caller's transaction: checked again where a case is opened, under the store's
    write lock, so that two workers never both open a case for the same bytes — even when one of them
    paused so long that its claim on the content ran out."""
    found = subs.processed_twin(conn, row.sha256, row.id)
    return d.duplicate(found) if found is not None else None


def filed_name(rt: Runtime, arrival: Arrival) -> str:
    """Filed under the copy's name: readable, and with the suffix its content has (see ``private.with_kind``)."""
    filed = private.copy_of(rt.settings.state, arrival.row.id) if arrival.copy is not None else None
    return filed.name if filed else arrival.name


@dataclass(frozen=True)
class Move:
    """Where the original goes and where its companion file (reason file, annotated copy) goes."""

    dest: Path
    extra: Path | None


def plan_move(rt: Runtime, name: str, disposition: Disposition) -> Move:
    dest = unique_path(disposition.dest_folder(rt), name)
    disposition.dest_rel = rt.rel(dest)
    return Move(dest, disposition.extra_path(rt, dest))


def record_plan(rt: Runtime, conn, submission_id: int, disposition: Disposition, move: Move, *,
                case_id: int | None, now: datetime) -> subs.Row:
    """(2) Inside the transaction that also commits the case: the planned destination, status ``moving``.
    Returns the submission's row as planned (what ``complete`` needs, once committed)."""
    disposition.commit(rt, conn, submission_id, now)
    return subs.plan(conn, submission_id, _plan(rt, disposition, move, case_id), at=now)


def record_release(rt: Runtime, conn, submission_id: int, disposition: Disposition, move: Move, *,
                   case_id: int | None, now: datetime) -> None:
    """A held form (already archived at ``move.dest``) gets the outcome the corrected policy gives it."""
    disposition.commit(rt, conn, submission_id, now)
    subs.release(conn, submission_id, _plan(rt, disposition, move, case_id), at=now)


def _plan(rt: Runtime, disposition: Disposition, move: Move, case_id: int | None) -> subs.Plan:
    return subs.Plan(
        outcome=disposition.outcome, dest_path=rt.rel(move.dest), extra_path=rt.rel(move.extra) if move.extra else None,
        reason_code=disposition.code, reason=disposition.reason, form_id=disposition.form_id,
        form_version=disposition.form_version, case_id=case_id, duplicate_of=disposition.duplicate_of,
        problems=json.dumps([p.to_dict() for p in disposition.problems], ensure_ascii=False) if disposition.problems else None,
    )


def archived_move(rt: Runtime, archived: Path, disposition: Disposition) -> Move:
    """The move of a form that is already where it belongs (a held form, released)."""
    disposition.dest_rel = rt.rel(archived)
    return Move(archived, disposition.extra_path(rt, archived))


def complete(rt: Runtime, submission_id: int, disposition: Disposition | None = None, *, retire: bool = True,
             planned: subs.Row | None = None) -> str:
    """(3) Write the companion file, file the validated copy, retire the original, (4) mark final. Safe to repeat.

    ``planned``: the row as the committed plan left it, when the caller has it (else it is read)."""
    if planned is not None and planned.id == submission_id and planned.status == subs.MOVING:
        row = planned
    else:
        with rt.store.read() as conn:
            row = subs.get(conn, submission_id)
    src = rt.settings.inbox / names.from_stored(row.original_path)
    dest = rt.abs(row.dest_path)
    if entries.is_refusal(row.reason_code):
        entries.complete_refusal(rt, row, src, dest)
    else:
        _file_original(rt, row, src, dest, disposition or d.from_row(rt, row), retire=retire)
    # (4) committed with the store's next write (the next file's receipt, as a rule): a kill before
    # then leaves the row ``moving``, and recovery finishes it again — every step above is safe to repeat.
    rt.store.defer(_finish(submission_id, rt.clock.now(), row))
    return row.outcome


def _finish(submission_id: int, at: datetime, row: subs.Row):
    def write(conn) -> None:
        subs.finish(conn, submission_id, at=at, row=row)
    return write


def _file_original(rt: Runtime, row, src: Path, dest: Path, disposition: Disposition, *, retire: bool = True) -> None:
    copy = private.copy_of(rt.settings.state, row.id)
    extra = rt.abs(row.extra_path) if row.extra_path else None
    if extra is not None and not extra.exists():
        source = copy or dest
        try:
            disposition.write_extra(rt, row, source, extra)
        except Exception as exc:  # e.g. an annotated copy of a damaged workbook: say it in plain text instead
            if isinstance(exc, OSError) and is_system_fault(exc):  # a full disk, a folder become a link: wait
                raise
            log.error("无法生成 %s:%s", extra.name, exc)
            d.write_plain_reason(rt, row, source, extra)
    # The file's private folder says its original is not retired yet: it goes only after the original,
    # so a run killed after both (its final mark still unwritten) finishes without touching the inbox,
    # where the same bytes under the same name are by then a new arrival to be received, not deleted.
    kept = private.kept(rt.settings.state, row.id)
    if copy is not None:
        move_file(copy, dest)
    elif not kept and not dest.exists() and private.is_regular(src):  # no copy was kept (too large to copy)
        move_file(src, dest)
        return
    if retire and kept and not private.retire_original(src, row.sha256) and private.is_regular(src):
        log.info("%s 在处理期间被修改,将作为新文件重新受理。", row.name)
    private.discard(rt.settings.state, row.id)


def recover(rt: Runtime) -> int:
    """Finish what a killed run left half-done, and sweep its temporary files."""
    # Several workers on one PostgreSQL share these folders: only files older than a lease are left-overs.
    age = 2 * rt.store.lease_seconds if rt.store.is_shared else 0.0
    sweep_temp_files(rt.settings.outbox, age)
    sweep_temp_files(rt.settings.inbox, age)
    sweep_temp_files(private.intake_folder(rt.settings.state), age)
    with rt.store.read() as conn:
        rows = subs.unfinished(conn)
    for row in rows:
        try:
            with rt.store.workers.claim("inbox", row.original_path) as mine:
                if mine and _still_moving(rt, row.id):  # not another worker's file in hand, nor finished by it meanwhile
                    complete(rt, row.id)
        except OSError as exc:  # the share is unavailable for now; the next pass tries again
            if is_system_fault(exc):  # a full disk or read-only share: the pass waits, said once
                raise
            log.warning("暂时无法完成提交#%s 的文件移动:%s", row.id, exc)
    return len(rows)


def _still_moving(rt: Runtime, submission_id: int) -> bool:
    with rt.store.read() as conn:
        return subs.get(conn, submission_id).status == subs.MOVING


def returned_folder(rt: Runtime, person: str | None) -> Path:
    return rt.settings.requests / (safe_name(person) if person else "未署名")


def write_reason(path: Path, text: str) -> Path:
    return atomic_write_text(path, text)


__all__ = ["MAX_ATTEMPTS", "Arrival", "Move", "archived_move", "complete", "filed_name", "plan_move", "reason_file_name",
           "receive", "record_plan", "record_release", "recover", "returned_folder", "screen", "twin", "twin_in",
           "write_reason"]

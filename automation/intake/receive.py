"""Taking one file in: record it, decide where it goes, move it, and say so — crash-safely.

The order matters. (1) A submission row is written before anything else. (2) The
destination and every business effect (case, tasks) are committed together,
with status ``moving``. (3) Only then are files written and the original moved.
(4) The row is marked final. A run killed anywhere resumes from the row.
"""

from __future__ import annotations

import json
import logging
import traceback
from datetime import datetime
from pathlib import Path

from automation.errors import OfficeFlowError
from automation.fsutil import (
    atomic_write_text,
    move_file,
    safe_name,
    sha256_file,
    sweep_temp_files,
    unique_path,
)
from automation.intake.dispositions import Disposition
from automation.intake.reasons import reason_file_name
from automation.record import submissions as subs
from automation.runtime import Runtime

log = logging.getLogger("officeflow")
MAX_ATTEMPTS = 5


def process_file(rt: Runtime, path: Path, first_seen: float | None = None) -> str | None:
    """Take in one stable file. Returns its outcome, or None if it vanished meanwhile."""
    try:
        sha, size = sha256_file(path)
    except FileNotFoundError:
        return None
    except OSError as exc:  # locked by the copying program: try again on the next pass
        log.info("暂时无法读取 %s:%s", path.name, exc)
        return None
    now = rt.clock.now()
    seen = datetime.fromtimestamp(first_seen, now.tzinfo) if first_seen and rt.clock.fixed is None else now
    rel = path.relative_to(rt.settings.inbox).as_posix()
    with rt.store.begin() as conn:
        row = subs.receive(conn, original_path=rel, name=path.name, size=size, sha256=sha, seen_at=min(seen, now), stable_at=now)
    if row.status == subs.MOVING:
        return complete(rt, row.id)
    if row.attempts > MAX_ATTEMPTS:
        from automation.intake import dispositions as d

        return settle(rt, row.id, path, d.quarantine(
            "file-crashes-processing", f"处理此文件时程序已连续 {MAX_ATTEMPTS} 次意外中断,为保护其他文件的处理已将其隔离。"
            "文件原样保存,没有丢失;请联系管理员检查(可能文件过大或结构异常)。"))
    disposition = _assess_safely(rt, row, path)
    return settle(rt, row.id, path, disposition)


def _assess_safely(rt: Runtime, row, path: Path) -> Disposition:
    from automation.intake import dispositions as d
    from automation.pipeline import assess

    with rt.store.read() as conn:
        twin = subs.processed_twin(conn, row.sha256, row.id)
    if twin is not None:
        return d.duplicate(twin)
    try:
        return assess(rt, path, row)
    except OfficeFlowError as exc:
        return d.quarantine(exc.code, exc.message)
    except Exception as exc:  # the watcher must never die on a file; keep the evidence
        log.error("处理 %s 时发生内部错误:%s\n%s", path.name, exc, traceback.format_exc())
        return d.quarantine("internal-error",
                            "处理此文件时程序发生了内部错误,文件已原样隔离保存,没有丢失。"
                            f"请联系管理员查看日志(错误类型:{type(exc).__name__})。")


def settle(rt: Runtime, submission_id: int, path: Path, disposition: Disposition) -> str:
    """Commit the outcome (and its case) with the planned destination, then carry it out."""
    now = rt.clock.now()
    dest_folder = disposition.dest_folder(rt)
    dest = unique_path(dest_folder, path.name)
    extra = disposition.extra_path(rt, dest)
    disposition.dest_rel = rt.rel(dest)
    with rt.store.begin() as conn:
        case_id = disposition.commit(rt, conn, submission_id, now)
        subs.plan(conn, submission_id, subs.Plan(
            outcome=disposition.outcome, dest_path=rt.rel(dest), extra_path=rt.rel(extra) if extra else None,
            reason_code=disposition.code, reason=disposition.reason, form_id=disposition.form_id,
            form_version=disposition.form_version, case_id=case_id, duplicate_of=disposition.duplicate_of,
            problems=json.dumps([p.to_dict() for p in disposition.problems], ensure_ascii=False) if disposition.problems else None,
        ), at=now)
    return complete(rt, submission_id, disposition)


def complete(rt: Runtime, submission_id: int, disposition: Disposition | None = None) -> str:
    """Write the companion file, move the original, mark the row final. Safe to repeat."""
    from automation.intake import dispositions as d

    with rt.store.read() as conn:
        row = subs.get(conn, submission_id)
    src = rt.settings.inbox / row.original_path
    dest = rt.abs(row.dest_path)
    extra = rt.abs(row.extra_path) if row.extra_path else None
    if extra is not None and not extra.exists():
        source = src if src.exists() else dest
        try:
            (disposition or d.from_row(rt, row)).write_extra(rt, row, source, extra)
        except Exception as exc:  # e.g. an annotated copy of a damaged workbook: say it in plain text instead
            log.error("无法生成 %s:%s", extra.name, exc)
            d.write_plain_reason(rt, row, source, extra)
    if src.exists():
        move_file(src, dest)
    with rt.store.begin() as conn:
        subs.finish(conn, submission_id, at=rt.clock.now())
    return row.outcome


def recover(rt: Runtime) -> int:
    """Finish what a killed run left half-done, and sweep its temporary files."""
    sweep_temp_files(rt.settings.outbox)
    sweep_temp_files(rt.settings.inbox)
    with rt.store.read() as conn:
        rows = subs.unfinished(conn)
    for row in rows:
        try:
            complete(rt, row.id)
        except OSError as exc:  # the share is unavailable for now; the next pass tries again
            log.warning("暂时无法完成提交#%s 的文件移动:%s", row.id, exc)
    return len(rows)


def returned_folder(rt: Runtime, person: str | None) -> Path:
    return rt.settings.returned / (safe_name(person) if person else "未署名")


def write_reason(path: Path, text: str) -> Path:
    return atomic_write_text(path, text)


__all__ = ["process_file", "recover", "settle", "complete", "returned_folder", "write_reason", "reason_file_name"]

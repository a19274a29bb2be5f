"""The append-only audit log, chained: each entry carries the SHA-256 of the previous one.

Editing or deleting any row breaks the chain from that row on, and
``verify_chain`` names the first row whose hash no longer matches.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from automation.record import codec
from automation.record import schema as s

GENESIS = "0" * 64


def _digest(prev_hash: str, entry_id: int, at: str, actor: str, action: str, subject: str | None,
            detail: str | None, file: str | None, file_hash: str | None) -> str:
    payload = codec.dumps([prev_hash, entry_id, at, actor, action, subject, detail, file, file_hash])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append(conn: Connection, *, at, actor: str, action: str, subject: str | None = None,
           detail: dict[str, Any] | None = None, file: str | None = None, file_hash: str | None = None) -> int:
    """Append one entry inside the caller's transaction (which holds the write lock)."""
    last = conn.execute(
        select(s.audit_log.c.id, s.audit_log.c.hash).order_by(s.audit_log.c.id.desc()).limit(1).with_for_update()
    ).first()
    prev_hash = last.hash if last else GENESIS
    entry_id = (last.id + 1) if last else 1
    detail_text = codec.dumps(codec.plain(detail)) if detail is not None else None
    at_text = s.AwareDateTime().process_bind_param(at, None)
    digest = _digest(prev_hash, entry_id, at_text, actor, action, subject, detail_text, file, file_hash)
    conn.execute(s.audit_log.insert().values(
        id=entry_id, at=at, actor=actor, action=action, subject=subject, detail=detail_text,
        file=file, file_hash=file_hash, prev_hash=prev_hash, hash=digest,
    ))
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
    rows = conn.exec_driver_sql(
        "SELECT id, at, actor, action, subject, detail, file, file_hash, prev_hash, hash FROM audit_log ORDER BY id"
    )
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

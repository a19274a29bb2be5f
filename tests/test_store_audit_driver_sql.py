"""Audit entries are written with the SQL SQLAlchemy compiles, sent straight to the driver: the stored
rows are the very rows ``conn.execute`` writes (text for text, on SQLite and PostgreSQL), the chain
verifies, and a dialect other than the two takes the reference path."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import String, select, type_coerce
from sqlalchemy.dialects import mysql

from automation.record import audit
from automation.record import schema as s
from automation.record.store import open_store

AT = datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8)))


def _raw(conn):
    c = s.audit_log.c
    return [tuple(r) for r in conn.execute(select(*(type_coerce(col, String) for col in c)).order_by(c.id))]


def _write(store, via_driver: bool, monkeypatch):
    if not via_driver:  # the reference: SQLAlchemy's own execute for both statements
        monkeypatch.setattr(audit, "_driver", lambda dialect: None)
    try:
        with store.begin() as conn:
            audit.append(conn, at=AT, actor="系统", action="file-received", subject="表 (1).xlsx",
                         detail={"大小": 10, "说明": "含 % 与 ' 的文字"}, file="inbox/表.xlsx", file_hash="ab" * 32)
            audit.append(conn, at=AT + timedelta(seconds=1), actor="王芳", action="case-opened", subject=None, detail=None)
        with store.begin() as conn:  # a new transaction: the head is read again
            audit.append(conn, at=AT + timedelta(days=1), actor="系统", action="file-archived", subject="KH-1",
                         detail={"列表": [1, 2.5, None]})
    finally:
        monkeypatch.undo()
    with store.read() as conn:
        return _raw(conn), audit.verify_chain(conn)


def test_entries_written_through_the_driver_equal_those_of_execute(store_url, tmp_path, monkeypatch):
    first = open_store(store_url)
    try:
        assert audit._driver(first.engine.dialect) is not None  # the fast path is taken on this backend
        fast, report = _write(first, True, monkeypatch)
        with first.begin() as conn:
            conn.execute(s.audit_log.delete())
        reference, reference_report = _write(first, False, monkeypatch)
    finally:
        first.dispose()
    assert report.ok and reference_report.ok and report.entries == 3
    assert fast == reference  # every column, as stored text
    assert fast[0][1] == AT.isoformat(timespec="microseconds")


def test_another_dialect_takes_the_reference_path():
    assert audit._driver(mysql.dialect()) is None

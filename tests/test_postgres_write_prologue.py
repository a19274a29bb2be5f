"""A PostgreSQL write transaction opens in one round trip — BEGIN, the write lock and the audit head
together — and the chain stays one chain with several workers appending at once, each entry chained
onto the head as it was once the lock was held, savepoints and rollbacks included."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from support.threads import run_threads

from automation.clock import Clock
from automation.record import audit
from automation.record import schema as s
from automation.record.dialect import WRITE_LOCK
from automation.record.store import Store, open_store


def test_the_chain_stays_one_chain_when_workers_append_through_store_begin_at_once(pg_url):
    stores = [open_store(pg_url, Clock()) for _ in range(4)]

    def worker(i):
        for n in range(15):
            with stores[i].begin() as conn:
                audit.append(conn, at=stores[i].now(), actor=f"工作进程{i}", action="step", subject=f"#{i}-{n}")
                if n % 5 == 0:  # a savepoint rolled back: the head is read again after it
                    savepoint = conn.begin_nested()
                    audit.append(conn, at=stores[i].now(), actor=f"工作进程{i}", action="undone")
                    savepoint.rollback()
                audit.append(conn, at=stores[i].now(), actor=f"工作进程{i}", action="again", subject=f"#{i}-{n}")
            if n % 7 == 0:
                with pytest.raises(RuntimeError):
                    with stores[i].begin() as conn:
                        audit.append(conn, at=stores[i].now(), actor=f"工作进程{i}", action="lost")
                        raise RuntimeError("rolled back")

    try:
        assert run_threads(worker, 4, timeout=120) == []
        with stores[0].read() as conn:
            report = audit.verify_chain(conn)
            actions = list(conn.execute(select(s.audit_log.c.action)).scalars())
    finally:
        for store in stores:
            store.dispose()
    assert report.ok and report.entries == 4 * 15 * 2
    assert "undone" not in actions and "lost" not in actions


def test_a_write_transaction_holds_the_write_lock_and_knows_the_head_without_reading_it(pg_url):
    store = open_store(pg_url, Clock())
    try:
        with store.begin() as conn:
            audit.append(conn, at=store.now(), actor="系统", action="first")
        with store.begin() as conn:
            held = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
                f" AND (classid::bigint << 32 | objid::bigint) = {WRITE_LOCK}").scalar()
            seen: list[str] = []
            from sqlalchemy import event

            event.listen(conn, "before_cursor_execute", lambda *a: seen.append(a[2]))
            audit.append(conn, at=store.now(), actor="系统", action="second")
        assert held == 1
        assert not any("audit_log.id DESC" in sql for sql in seen)  # the head came with BEGIN
        with store.read() as conn:
            assert audit.verify_chain(conn).ok and audit.head(conn).entries == 2
    finally:
        store.dispose()


def test_a_store_not_yet_upgraded_writes_without_reading_a_head_it_does_not_have(pg_url):
    store = Store(pg_url)
    try:
        assert store.upgrade(target=1)  # step 1 itself ran in such transactions
        with store.begin() as conn:
            audit.append(conn, at=store.now(), actor="系统", action="early")
        with store.read() as conn:
            assert audit.verify_chain(conn).ok
    finally:
        store.dispose()

"""Reading the SQLite store takes no lock: a reader neither waits for a writer nor makes one wait
(WAL gives each statement a consistent snapshot), and writes still take the write lock at BEGIN."""

from __future__ import annotations

import sqlite3
import threading

from sqlalchemy import select

from automation.record import schema as s
from automation.record.store import open_store


def test_a_read_opens_no_transaction_and_a_write_takes_the_lock_at_begin(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        with store.read() as conn:
            assert conn.execute(select(s.schema_version.c.version)).first() is not None
            assert not conn.connection.driver_connection.in_transaction  # no BEGIN IMMEDIATE sent
        with store.begin() as conn:
            assert conn.connection.driver_connection.in_transaction  # the writer's lock, from BEGIN on
            # another connection cannot start writing meanwhile
            other = sqlite3.connect(tmp_path / "state.db", timeout=0, isolation_level=None)
            try:
                try:
                    other.execute("BEGIN IMMEDIATE")
                    locked = False
                except sqlite3.OperationalError:
                    locked = True
                assert locked
            finally:
                other.close()
    finally:
        store.dispose()


def test_a_read_sees_committed_rows_while_another_process_holds_the_write_lock(tmp_path):
    path = tmp_path / "state.db"
    store = open_store(f"sqlite:///{path}")
    writer = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO counters (name, period, value) VALUES ('n', '2026', 7)")
        seen: list = []

        def read() -> None:
            with store.read() as conn:
                seen.append(conn.execute(select(s.counters.c.value)).all())

        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=20)  # a reader that waited for the write lock would still be waiting
        assert not reader.is_alive() and seen == [[]]  # the uncommitted row is not seen
        writer.execute("COMMIT")
        read()
        assert seen[-1] == [(7,)]
    finally:
        writer.close()
        store.dispose()

"""A write handed to ``Store.defer`` is committed with the store's next write transaction (a file's final
mark with the next file's receipt: one transaction fewer per file), is seen by any later read of the
same process, survives a rolled-back transaction, and a failing one never blocks the writes after it."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import event, select
from support.threads import run_threads

from automation.record import schema as s
from automation.record.store import next_number, open_store


def _value(store, name="n"):
    with store.engine.connect() as conn:  # not Store.read: that would commit the deferred writes first
        return conn.execute(select(s.counters.c.value).where(s.counters.c.name == name)).scalar()


def _value_reopened(store_url, name="n"):
    """The value as another process opening the store finds it."""
    again = open_store(store_url)
    try:
        return _value(again, name)
    finally:
        again.dispose()


def _bump(name="n"):
    return lambda conn: next_number(conn, name, "2026")


@pytest.fixture
def store(store_url):
    store = open_store(store_url)
    yield store
    store.dispose()


def test_a_deferred_write_commits_with_the_next_transaction_not_one_of_its_own(store):
    commits = []
    event.listen(store.engine, "commit", lambda conn: commits.append(1))
    store.defer(_bump())
    assert _value(store) is None and commits == []
    with store.begin() as conn:
        next_number(conn, "other", "2026")
    assert _value(store) == 1 and _value(store, "other") == 1
    assert len(commits) == 1


def test_a_read_sees_the_deferred_write_and_dispose_commits_it(store_url):
    store = open_store(store_url)
    try:
        store.defer(_bump())
        with store.read() as conn:
            assert conn.execute(select(s.counters.c.value)).scalar() == 1
        store.defer(_bump())
    finally:
        store.dispose()
    assert _value_reopened(store_url) == 2


def test_a_deferred_write_outlives_a_rolled_back_transaction(store):
    store.defer(_bump())
    with pytest.raises(RuntimeError):
        with store.begin() as conn:
            next_number(conn, "other", "2026")
            raise RuntimeError("rolled back")
    assert _value(store) is None and _value(store, "other") is None
    with store.begin():
        pass
    assert _value(store) == 1 and _value(store, "other") is None


def test_a_failing_deferred_write_is_dropped_and_the_transaction_runs_without_it(store, caplog):
    def broken(conn):
        next_number(conn, "lost", "2026")
        raise ValueError("this write cannot be done")

    store.defer(broken)
    with caplog.at_level(logging.WARNING, logger="officeflow"):
        with store.begin() as conn:
            next_number(conn, "other", "2026")
    assert "this write cannot be done" in caplog.text
    assert _value(store, "other") == 1 and _value(store, "lost") is None
    with store.begin() as conn:  # nothing left over
        next_number(conn, "other", "2026")
    assert _value(store, "other") == 2 and _value(store, "lost") is None


def test_a_read_inside_a_write_transaction_does_not_wait_for_it(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        with store.begin() as conn:
            store.defer(_bump())  # deferred while this thread writes: it waits for the next transaction
            with store.read() as reader:
                reader.execute(select(s.counters.c.value)).all()
            next_number(conn, "other", "2026")
        assert _value(store) is None
        store.flush()
        assert _value(store) == 1
    finally:
        store.dispose()


def test_deferred_writes_are_kept_when_their_transaction_is_interrupted_before_it_commits(store):
    interrupted = []

    def interrupt_once(conn):
        next_number(conn, "second", "2026")
        if not interrupted:
            interrupted.append(1)
            raise KeyboardInterrupt  # Ctrl-C (or a time budget) while the deferred writes run

    store.defer(_bump())
    store.defer(interrupt_once)
    with pytest.raises(KeyboardInterrupt):
        with store.begin():
            pass
    assert _value(store) is None and _value(store, "second") is None
    with store.begin():
        pass
    assert _value(store) == 1 and _value(store, "second") == 1


def test_only_the_failing_deferred_write_is_dropped(store, caplog):
    def broken(conn):
        raise ValueError("this write cannot be done")

    store.defer(_bump("before"))
    store.defer(broken)
    store.defer(_bump("after"))
    with caplog.at_level(logging.WARNING, logger="officeflow"):
        with store.begin():
            pass
    assert "this write cannot be done" in caplog.text
    assert _value(store, "before") == 1 and _value(store, "after") == 1


def test_another_threads_transaction_leaves_this_threads_deferred_write_to_this_thread(store):
    store.defer(_bump())

    def other_thread(_):
        with store.begin() as conn:
            next_number(conn, "other", "2026")

    assert run_threads(other_thread, 1) == []
    assert _value(store, "other") == 1 and _value(store) is None  # still this thread's to commit
    with store.read() as conn:  # this thread reads its own writes: flushed first
        assert conn.execute(select(s.counters.c.value).where(s.counters.c.name == "n")).scalar() == 1


def test_dispose_commits_the_deferred_writes_of_every_thread(store_url):
    store = open_store(store_url)
    assert run_threads(lambda _: store.defer(_bump()), 2) == []
    store.dispose()
    assert _value_reopened(store_url) == 2


def test_a_snapshot_reads_one_moment_while_another_connection_commits(store):
    with store.begin() as conn:
        next_number(conn, "n", "2026")
    with store.snapshot() as snap:
        assert snap.execute(select(s.counters.c.value)).scalar() == 1

        def writer(_):
            with store.begin() as conn:
                next_number(conn, "n", "2026")

        assert run_threads(writer, 1) == []  # a writer is not kept waiting by the snapshot
        assert snap.execute(select(s.counters.c.value)).scalar() == 1
    with store.read() as conn:
        assert conn.execute(select(s.counters.c.value)).scalar() == 2

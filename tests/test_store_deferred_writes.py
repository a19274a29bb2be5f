"""A write handed to ``Store.defer`` is committed with the store's next write transaction (a file's final
mark with the next file's receipt: one transaction fewer per file), is seen by any later read of the
same process, survives a rolled-back transaction, and a failing one never blocks the writes after it."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import event, select

from automation.record import schema as s
from automation.record.store import next_number, open_store


def _value(store, name="n"):
    with store.engine.connect() as conn:  # not Store.read: that would commit the deferred writes first
        return conn.execute(select(s.counters.c.value).where(s.counters.c.name == name)).scalar()


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
    again = open_store(store_url)
    try:
        assert _value(again) == 2
    finally:
        again.dispose()


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

"""The bookkeeping per form stays cheap and correct: statements built once, the audit head read
once per transaction, counters moved on in one statement — on SQLite and PostgreSQL alike."""

from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import date, datetime, timezone

from sqlalchemy import event, select
from support.forms import customers_and_a_trip
from support.workspace import make_workspace

from automation.pipeline import process_pending
from automation.record import audit
from automation.record import schema as s
from automation.record.store import next_number, open_store
from automation.runtime import open_runtime

AT = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def _entries(conn):
    c = s.audit_log.c
    return [tuple(r) for r in conn.execute(select(c.id, c.action, c.prev_hash, c.hash).order_by(c.id))]


def test_audit_entries_of_one_transaction_chain_around_a_savepoint_rolled_back(store_url):
    store = open_store(store_url)
    try:
        with store.begin() as conn:
            audit.append(conn, at=AT, actor="系统", action="one")
        with store.begin() as conn:
            audit.append(conn, at=AT, actor="系统", action="two")
            audit.append(conn, at=AT, actor="系统", action="three")
            savepoint = conn.begin_nested()
            audit.append(conn, at=AT, actor="系统", action="undone")
            savepoint.rollback()
            audit.append(conn, at=AT, actor="系统", action="four")
            with conn.begin_nested():
                audit.append(conn, at=AT, actor="系统", action="five")
            audit.append(conn, at=AT, actor="系统", action="six")
        try:  # a transaction rolled back: its entries are gone and the next one chains onto the head
            with store.begin() as conn:
                audit.append(conn, at=AT, actor="系统", action="lost")
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        with store.begin() as conn:
            audit.append(conn, at=AT, actor="系统", action="seven")
        with store.read() as conn:
            entries = _entries(conn)
            report = audit.verify_chain(conn)
        assert [e[1] for e in entries] == ["one", "two", "three", "four", "five", "six", "seven"]
        assert [e[0] for e in entries] == list(range(1, 8))
        assert all(entries[i][2] == entries[i - 1][3] for i in range(1, len(entries)))
        assert report.ok and report.entries == 7
    finally:
        store.dispose()


def test_audit_entries_written_one_by_one_and_in_one_transaction_hash_alike(tmp_path):
    """The head remembered within a transaction gives the very chain a fresh read per entry gives."""
    chains = []
    for name, together in (("apart", False), ("together", True)):
        store = open_store(f"sqlite:///{tmp_path / name}.db")
        try:
            if together:
                with store.begin() as conn:
                    for n in range(4):
                        audit.append(conn, at=AT, actor="张三", action="step", subject=f"#{n}", detail={"n": n})
            else:
                for n in range(4):
                    with store.begin() as conn:
                        audit.append(conn, at=AT, actor="张三", action="step", subject=f"#{n}", detail={"n": n})
            with store.read() as conn:
                chains.append(_entries(conn))
        finally:
            store.dispose()
    assert chains[0] == chains[1]


def test_counters_count_from_one_per_name_and_period_and_roll_back_with_the_work(store_url):
    store = open_store(store_url)
    try:
        with store.begin() as conn:
            assert [next_number(conn, "合同", "2026") for _ in range(3)] == [1, 2, 3]
            assert next_number(conn, "合同", "2027") == 1
            assert next_number(conn, "申请", "2026") == 1
        try:
            with store.begin() as conn:
                assert next_number(conn, "合同", "2026") == 4
                raise RuntimeError("the work failed")
        except RuntimeError:
            pass
        with store.begin() as conn:
            assert next_number(conn, "合同", "2026") == 4  # gap-free: the failed number is given again
        with store.read() as conn:
            rows = sorted(tuple(r) for r in conn.execute(select(s.counters.c.name, s.counters.c.period,
                                                                s.counters.c.value)))
        assert rows == [("合同", "2026", 4), ("合同", "2027", 1), ("申请", "2026", 1)]
    finally:
        store.dispose()


@contextmanager
def _counting(engine):
    seen: list[str] = []

    def count(conn, cursor, statement, params, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


# Measured 2026-12: 70 statements per form on main before statements were built once and the
# reads after writes were removed, 43 after (this test's count: each form beyond the first in a
# pass; the pass's fixed work — registers, anchors — is not the forms').
STATEMENTS_PER_FORM = 50


def test_taking_in_a_form_costs_a_bounded_number_of_statements(tmp_path):
    root = make_workspace(tmp_path)
    today = date.today()
    forms = customers_and_a_trip(tmp_path, today)
    rt = open_runtime(root)
    counts = []
    try:
        process_pending(rt)  # a first pass: policies and registers settled
        for batch in (forms[:1], forms[1:]):
            for form in batch:
                os.replace(form, root / "inbox" / f"{form.parent.name}{form.suffix}")
            with _counting(rt.store.engine) as seen:
                summary = process_pending(rt)
            assert summary.taken == {"archived": len(batch)}
            counts.append(len(seen))
        with rt.store.read() as conn:
            report = audit.verify_chain(conn)
    finally:
        rt.close()
    assert report.ok
    per_form = (counts[1] - counts[0]) / (len(forms) - 2)
    assert 10 < per_form <= STATEMENTS_PER_FORM, f"{per_form:.1f} statements per form ({counts})"


def test_opening_a_case_reads_back_nothing_it_has_just_written(tmp_path):
    """The tasks come back from their inserts and the case loaded to open the first step is the one
    the submission's effects get: one read of the case, none of the tasks, from the case's insert on."""
    root = make_workspace(tmp_path)
    forms = customers_and_a_trip(tmp_path, date.today())
    rt = open_runtime(root)
    try:
        process_pending(rt)
        form = forms[-1]  # the trip request: one case, its first step opened, no automatic approval
        os.replace(form, root / "inbox" / f"{form.parent.name}{form.suffix}")
        with _counting(rt.store.engine) as seen:
            assert process_pending(rt).taken == {"archived": 1}
        with rt.store.read() as conn:
            assert audit.verify_chain(conn).ok
            tasks = conn.execute(select(s.tasks.c.status)).scalars().all()
    finally:
        rt.close()
    opened = next(n for n, sql in enumerate(seen) if sql.startswith("INSERT INTO cases"))
    settled = next(n for n, sql in enumerate(seen) if n > opened and sql.startswith("UPDATE submissions"))
    during = [" ".join(sql.split()) for sql in seen[opened:settled]]
    assert [q[:60] for q in during if q.startswith("SELECT tasks.")] == []
    assert sum(q.startswith("SELECT cases.id, cases.number") for q in during) == 1
    assert "open" in tasks

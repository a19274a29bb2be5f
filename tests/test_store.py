"""The store: versioned schema with named upgrades, and the tamper-evident audit chain."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import select
from support.workspace import make_workspace

from automation.clock import Clock
from automation.record import audit
from automation.record import schema as s
from automation.record.store import CURRENT_VERSION, MIGRATIONS, Store, open_store
from automation.runtime import open_runtime


def test_older_store_is_upgraded_keeping_its_data(store_url):
    url = store_url
    old = Store(url)
    assert old.upgrade(target=1) == [MIGRATIONS[0][1]]
    with old.begin() as conn:
        conn.execute(s.submissions.insert().values(original_path="a.xlsx", name="a.xlsx", size=1, sha256="0" * 64,
                                                   seen_at=old.now(), status="archived", updated_at=old.now()))
    old.dispose()
    store = open_store(url)
    assert store.version() == CURRENT_VERSION
    with store.read() as conn:
        assert conn.execute(select(s.submissions.c.name)).scalar() == "a.xlsx"
        assert conn.execute(select(s.cases)).first() is None  # the new tables exist
    store.dispose()


def test_store_from_before_approver_actions_gains_their_columns_keeping_its_tasks(store_url):
    url = store_url
    old = Store(url)
    old.upgrade(target=2)
    with old.begin() as conn:  # a store made by the release before: no approver-action columns yet
        for name in ("origin", "origin_task", "wait_for", "decided_by", "target", "return_to", "why"):
            conn.exec_driver_sql(f'ALTER TABLE tasks DROP COLUMN "{name}"')
        conn.exec_driver_sql('ALTER TABLE cases DROP COLUMN "dedup"')
        conn.exec_driver_sql("INSERT INTO cases (number, form_id, status, round, data, fingerprint, created_at, updated_at)"
                             " VALUES ('HS-1', 'sales_contract', 'in_approval', 1, '{}', 'x', '2026-11-23', '2026-11-23')")
        conn.exec_driver_sql("INSERT INTO tasks (case_id, round, step_index, role, mode, assignee, status)"
                             " VALUES (1, 1, 0, '部门经理', '依次', '吴强', 'open')")
    old.dispose()
    store = open_store(url)
    assert store.version() == CURRENT_VERSION
    with store.read() as conn:
        task = conn.execute(select(s.tasks)).mappings().one()
        assert (task["assignee"], task["origin"], task["decided_by"]) == ("吴强", None, None)
        assert conn.execute(select(s.cases.c.dedup)).scalar() is None
    store.dispose()


def test_store_from_before_the_audit_file_index_gains_it_and_decision_checks_stop_scanning_the_log(store_url):
    from sqlalchemy import inspect

    old = Store(store_url)
    old.upgrade(target=9)
    with old.begin() as conn:  # a store made by the release before: the log has no index on the file hash
        conn.exec_driver_sql("DROP INDEX ix_audit_file_hash")
    assert "ix_audit_file_hash" not in {i["name"] for i in inspect(old.engine).get_indexes("audit_log")}
    old.dispose()
    store = open_store(store_url)
    assert store.version() == CURRENT_VERSION
    indexes = {i["name"]: i["column_names"] for i in inspect(store.engine).get_indexes("audit_log")}
    assert indexes["ix_audit_file_hash"] == ["file_hash"]
    if store.engine.dialect.name == "sqlite":  # the shape of decide/scan's checks is answered from the index
        with store.read() as conn:
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT detail FROM audit_log WHERE action = 'task-decided' AND file_hash = 'x'"))
        assert "USING INDEX ix_audit_file_hash" in plan, plan
    store.dispose()


def test_store_uses_wal_mode(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.dispose()


def test_audit_chain_verifies_and_names_the_edited_row(store_url):
    store = open_store(store_url, Clock())
    for i in range(5):
        with store.begin() as conn:
            audit.append(conn, at=store.now(), actor="测试", action="step", subject=f"#{i}", detail={"i": i})
    with store.read() as conn:
        assert audit.verify_chain(conn).ok
    with store.begin() as conn:
        conn.exec_driver_sql("UPDATE audit_log SET actor = '别人' WHERE id = 3")
    with store.read() as conn:
        report = audit.verify_chain(conn)
    assert not report.ok and report.broken_at == 3
    store.dispose()


def test_audit_verify_command_fails_naming_the_tampered_row(tmp_path):
    root = make_workspace(tmp_path)
    (root / "inbox" / "杂项.xlsx").write_bytes(b"not a form")
    run = lambda *a: subprocess.run([sys.executable, "-m", "automation", *a, "--workspace", str(root)],
                                    capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert run("process").returncode == 0
    ok = run("audit", "verify")
    assert ok.returncode == 0 and "审计链完整" in ok.stdout
    store = open_store(f"sqlite:///{root / '.officeflow' / 'state.db'}")
    with store.begin() as conn:
        conn.exec_driver_sql("UPDATE audit_log SET detail = '{}' WHERE id = 2")
    store.dispose()
    bad = run("audit", "verify")
    assert bad.returncode == 1 and "第 2 条" in bad.stderr


def test_runtime_closes_its_store_when_the_with_block_ends_even_on_an_error(tmp_path):
    root = make_workspace(tmp_path)
    with pytest.raises(RuntimeError):
        with open_runtime(root) as rt:
            with rt.store.read() as conn:
                conn.execute(select(s.submissions.c.id)).all()
            assert rt.store.engine.pool.checkedin() == 1  # the connection waits in the pool
            raise RuntimeError("a run that fails half-way")
    assert rt.store.engine.pool.checkedin() == 0  # disposed: nothing left open on the share

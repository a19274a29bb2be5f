"""Task files are written by every worker, not by the leader alone: each task is claimed before its
file is written. A worker killed while it holds a task's claim leaves that task to the others once the
lease runs out — every open task ends with exactly one file and one ``task-file-written`` entry.

Real ``officeflow watch`` processes on one workspace and one PostgreSQL database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter

from sqlalchemy import create_engine, select, text
from support.workers import kill, leader_pid, signal_all, staged_corpus, start_worker, use_store
from support.workspace import files_under, make_workspace, wait_for

from automation.decide.officefile import TASK_PROP, read_props
from automation.record import codec
from automation.record import schema as s
from automation.record.store import open_store

FORMS = 14


def _task_claims(url: str, pid: int) -> list[str]:
    """The tasks whose claim the worker with OS process id ``pid`` holds now."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text("SELECT key FROM claims WHERE kind = 'task' AND holder LIKE :who"),
                                     {"who": f"%:{pid}:%"}).scalars())
    finally:
        engine.dispose()


def _tasks_and_trail(url: str):
    store = open_store(url)
    try:
        with store.read() as conn:
            tasks = [dict(r) for r in conn.execute(select(s.tasks)).mappings()]
            cases = conn.execute(select(s.cases.c.id)).all()
            written = Counter(codec.loads(d).get("task") for (d,) in conn.execute(
                select(s.audit_log.c.detail).where(s.audit_log.c.action == "task-file-written")))
    finally:
        store.dispose()
    return tasks, cases, written


def _busy_connections(url: str, pid: int) -> int:
    """Connections of the worker ``pid`` inside a transaction or running a statement (holding locks, maybe)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"
                                     " AND state <> 'idle'"), {"name": f"officeflow {pid}"}).scalar()
    finally:
        engine.dispose()


def _freeze_outside_any_transaction(worker: subprocess.Popen, url: str) -> None:
    """SIGSTOP ``worker`` at a moment none of its connections is in a transaction: frozen, it keeps the
    leader lock (a session lock) but no write lock the other workers would wait for."""

    def frozen_idle():
        os.kill(worker.pid, signal.SIGSTOP)
        if _busy_connections(url, worker.pid) == 0:
            return True
        os.kill(worker.pid, signal.SIGCONT)
        return False

    wait_for(frozen_idle, timeout=90, interval=0.05, message="the leader between transactions")


def _catch_holding_a_task_claim(worker: subprocess.Popen, url: str) -> str:
    """Freeze ``worker`` (SIGSTOP) at a moment it holds a task's claim, so that the kill that follows
    comes while it writes that task's file; returns the claimed task id."""

    def frozen_with_a_claim():
        if not _task_claims(url, worker.pid):
            assert worker.poll() is None, "the non-leading worker exited"
            return None
        os.kill(worker.pid, signal.SIGSTOP)
        held = _task_claims(url, worker.pid)  # still held, now that it cannot release it
        if not held:
            os.kill(worker.pid, signal.SIGCONT)
        return held[0] if held else None

    return wait_for(frozen_with_a_claim, timeout=180, interval=0.005,
                    message="the non-leading worker to write a task file")


def test_a_worker_that_is_not_the_leader_writes_task_files_and_one_killed_mid_file_leaves_it_to_the_others(
        tmp_path, pg_url):
    root = make_workspace(tmp_path, quiet_seconds=0.1, sweep_seconds=1.0, coalesce_seconds=0.2)
    use_store(root, pg_url, lease_seconds=3)
    files, logs = staged_corpus(tmp_path, FORMS, 0)
    leader = start_worker(root, logs / "leader.log")
    workers = [leader]
    try:
        wait_for(lambda: leader_pid(pg_url) == leader.pid, timeout=90, message="the first worker to lead")
        _freeze_outside_any_transaction(leader, pg_url)  # it keeps the lead but does nothing: the other does it all
        other = start_worker(root, logs / "other.log")
        workers.append(other)
        for name, data in files.items():
            (root / "inbox" / name).write_bytes(data)
        held = _catch_holding_a_task_claim(other, pg_url)
        kill(other)  # mid-file: its claim on that task stays until the lease runs out
        third = start_worker(root, logs / "third.log")
        workers.append(third)
        os.kill(leader.pid, signal.SIGCONT)  # the leader and a fresh worker finish, side by side

        def every_task_file_out():
            assert leader.poll() is None and third.poll() is None, "a worker exited"
            tasks, cases, _ = _tasks_and_trail(pg_url)
            open_ = [t for t in tasks if t["status"] == "open"]
            return (len(cases) == FORMS and len(open_) >= FORMS
                    and all(t["file_path"] and (root / t["file_path"]).is_file() for t in open_))

        wait_for(every_task_file_out, timeout=240, interval=0.3, message="every open task's file")
    finally:
        signal_all(workers, signal.SIGCONT)  # a frozen one too
        for w in workers:
            kill(w)

    tasks, cases, written = _tasks_and_trail(pg_url)
    open_ = [t for t in tasks if t["status"] == "open"]
    assert int(held) in {t["id"] for t in open_}, "the task held by the killed worker is open"
    assert all(written[t["id"]] == 1 for t in open_), f"each task file written once: {written}"
    assert sum(written.values()) == len(open_)
    out = [p for p in files_under(root / "outbox" / "approvals")
           if p.suffix == ".xlsx" and not p.name.startswith(".") and p.parent.parent == root / "outbox" / "approvals"]
    assert len(out) == len(open_), "one task file per open task, none doubled"
    assert sorted(read_props(p)[TASK_PROP] for p in out) == sorted(str(t["id"]) for t in open_)
    for t in open_:
        assert read_props(root / t["file_path"])[TASK_PROP] == str(t["id"])
    verify = subprocess.run([sys.executable, "-m", "automation", "audit", "verify", "--workspace", str(root)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, stdin=subprocess.DEVNULL)
    assert verify.returncode == 0, "one unbroken audit chain"
    for log in ("leader.log", "third.log"):
        said = (logs / log).read_text(encoding="utf-8")
        assert "Traceback" not in said, said[-2000:]

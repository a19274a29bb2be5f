"""Decision files on several workers: any worker may take one, each claimed in the store before
it is opened, so no two workers ever apply the same decision; a file found to hold nothing to
decide is not opened again until someone saves it."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from sqlalchemy import select
from support.decide import CAL, MONDAY, Desk, desk, route, set_named, step
from support.workers import approve_all_waiting, corpus, kill, leader_pid, start_worker, use_store
from support.workspace import files_under, make_workspace, wait_for

from automation.decide import scan
from automation.decide.task_files import DONE_FOLDER
from automation.record import codec
from automation.record import schema as s
from automation.record.claims import connected_workers
from automation.record.store import open_store
from automation.settings import load_settings


def _apply(d, seen=None):
    return scan.apply_decisions(d.store, d.settings, specs={d.spec.id: d.spec}, cal=CAL, now=MONDAY, seen=seen)


def test_a_task_file_saved_without_a_conclusion_is_opened_once_until_it_is_saved_again(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理")))
    task = d.task_file(d.tasks(case_id)[0]["id"])
    set_named(task, "审批意见", "还要再看看")  # saved, but no 审批结论 yet
    seen: dict = {}
    assert _apply(d, seen) == []
    assert task in seen, "opened once and remembered at the state it was in"
    assert scan.list_decision_files(d.settings, {}, seen) == [], "not listed (so not opened) while unchanged"
    set_named(task, "审批结论", "同意")
    [result] = _apply(d, seen)
    assert result.accepted and d.case(case_id)["status"] == "approved"
    assert seen == {}, "a file no longer there is forgotten"


def test_a_decision_on_a_task_file_written_but_not_yet_recorded_waits_instead_of_being_refused(tmp_path):
    """Another worker (the leader) writes a task file, then records its fingerprint: an approver quick
    enough to drop it in between must not see it refused as changed."""
    d = desk(tmp_path)
    case_id = d.open(route(step("部门经理", "王经理")))
    task_id = d.tasks(case_id)[0]["id"]
    task = d.task_file(task_id)
    fingerprint = d.tasks(case_id)[0]["fingerprint"]
    with d.store.begin() as conn:  # as between the file's write and its record
        conn.execute(s.tasks.update().where(s.tasks.c.id == task_id).values(fingerprint=None))
    dropped = shutil.move(task, task.parent / "同意" / task.name)
    assert _apply(d) == [] and dropped.exists()
    assert d.audit(scan.REFUSED) == []
    with d.store.begin() as conn:
        conn.execute(s.tasks.update().where(s.tasks.c.id == task_id).values(fingerprint=fingerprint))
    [result] = _apply(d)
    assert result.accepted and d.case(case_id)["status"] == "approved"


def test_a_decision_file_another_worker_has_claimed_is_left_to_it_and_applied_once(tmp_path, pg_url):
    root = tmp_path / "ws"
    root.mkdir()
    mine, other = open_store(pg_url), open_store(pg_url)
    mine.clock.fixed = MONDAY
    d = Desk(root, load_settings(root), mine)
    try:
        case_id = d.open(route(step("部门经理", "王经理")))
        task = d.task_file(d.tasks(case_id)[0]["id"])
        dropped = shutil.move(task, task.parent / "同意" / task.name)
        key = dropped.relative_to(root).as_posix()
        assert other.workers.take("decision", key)
        assert _apply(d) == [], "claimed by another worker: neither opened nor applied here"
        assert dropped.exists() and d.tasks(case_id)[0]["status"] == "open"
        other.workers.release("decision", key)
        [result] = _apply(d)
        assert result.accepted and result.moved_to.parent.name == DONE_FOLDER
        assert _apply(d) == []
        assert len(d.audit("task-decided")) == 1
    finally:
        mine.dispose()
        other.dispose()


def test_a_decision_file_whose_worker_died_after_recording_it_is_only_filed_away_by_the_next(tmp_path, pg_url):
    """The worker recorded the decision and was killed before moving the file: once its lease has run
    out another worker claims the file, sees the decision recorded for these bytes, and moves it to
    已办 — it never decides it a second time."""
    root = tmp_path / "ws"
    root.mkdir()
    store = open_store(pg_url)
    store.clock.fixed = MONDAY
    d = Desk(root, load_settings(root), store)
    try:
        case_id = d.open(route(step("部门经理", "王经理"), step("财务经理", "赵财务")))
        task = d.task_file(d.tasks(case_id)[0]["id"])
        dropped = shutil.move(task, task.parent / "同意" / task.name)
        [first] = _apply(d)
        assert first.accepted and first.moved_to.parent.name == DONE_FOLDER
        shutil.move(first.moved_to, dropped)  # as if killed between the commit and the move
        key = Path(dropped).relative_to(root).as_posix()
        with store.engine.begin() as conn:  # its claim, held by the dead worker, lease run out
            conn.execute(s.claims.insert().values(kind="decision", key=key, holder="dead-host:1:0", expires=0.0))
        [again] = _apply(d)
        assert again.accepted and again.reason == "已办理" and again.moved_to.parent.name == DONE_FOLDER
        assert not Path(dropped).exists()
        assert len(d.audit("task-decided")) == 1, "decided once"
        assert [t["status"] for t in d.tasks(case_id)] == ["approved", "open"], "the next step opened once"
    finally:
        store.dispose()


FORMS = 12


def _decided(url: str) -> tuple[list[dict], Counter]:
    store = open_store(url)
    try:
        with store.read() as conn:
            tasks = [dict(r) for r in conn.execute(select(s.tasks)).mappings()]
            details = conn.execute(select(s.audit_log.c.detail).where(s.audit_log.c.action == "task-decided")).scalars()
            decided = Counter(codec.loads(detail).get("task") for detail in details)
    finally:
        store.dispose()
    return tasks, decided


def _decisions_said(log) -> int:
    """What one ``officeflow watch`` says it decided, pass by pass (审批决定:N 个)."""
    return sum(int(n) for n in re.findall(r"审批决定:(\d+) 个", log.read_text(encoding="utf-8")))


def test_two_workers_share_a_burst_of_decision_files_and_apply_each_exactly_once(tmp_path, pg_url):
    from automation.pipeline import process_pending
    from automation.runtime import open_runtime

    root = make_workspace(tmp_path, quiet_seconds=0.1, sweep_seconds=1.0, coalesce_seconds=0.2)
    use_store(root, pg_url, lease_seconds=5)
    staging = tmp_path / "staging"
    staging.mkdir()
    for name, data in corpus(staging, FORMS, 0).items():
        (root / "inbox" / name).write_bytes(data)
    with open_runtime(root) as rt:  # the forms taken in and their task files written, before the workers start
        process_pending(rt)
    first_tasks, _ = _decided(pg_url)
    assert len(first_tasks) == FORMS and all(t["file_path"] for t in first_tasks)

    logs = tmp_path / "logs"
    logs.mkdir()
    workers = [start_worker(root, logs / f"w{i}.log") for i in range(2)]
    try:
        engine_store = open_store(pg_url)
        try:
            def both_up():
                assert all(w.poll() is None for w in workers), "a worker exited"
                with engine_store.read() as conn:
                    up = connected_workers(conn) >= 3  # the two workers and this test
                return up and leader_pid(pg_url) in {w.pid for w in workers} and all(
                    "正在监视" in (logs / f"w{i}.log").read_text(encoding="utf-8") for i in range(2))

            wait_for(both_up, timeout=90, interval=0.2, message="two workers watching, one leading")
        finally:
            engine_store.dispose()
        assert approve_all_waiting(root) == FORMS  # every decision dropped at once

        def all_decided():
            assert all(w.poll() is None for w in workers), "a worker exited"
            decided = _decided(pg_url)[1]
            return all(decided[t["id"]] for t in first_tasks) and not any(
                files_under(person / "同意") for person in (root / "outbox" / "approvals").iterdir() if person.is_dir())

        wait_for(all_decided, timeout=120, interval=0.3, message="every decision applied")
        leader = leader_pid(pg_url)
    finally:
        for w in workers:
            kill(w, signal.SIGTERM)  # a clean stop

    tasks, decided = _decided(pg_url)
    assert all(n == 1 for n in decided.values()), "each decision applied once"
    assert sorted(decided) == sorted(t["id"] for t in tasks if t["decision"] is not None)
    assert {t["id"] for t in first_tasks} <= set(decided)
    said = {w.pid: _decisions_said(logs / f"w{i}.log") for i, w in enumerate(workers)}
    assert sum(said.values()) == len(decided), said
    assert any(n for pid, n in said.items() if pid != leader), f"the worker that does not lead took decisions too: {said}"
    for i in range(2):
        assert "Traceback" not in (logs / f"w{i}.log").read_text(encoding="utf-8")
    verify = subprocess.run([sys.executable, "-m", "automation", "audit", "verify", "--workspace", str(root)],
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert verify.returncode == 0, verify.stdout + verify.stderr

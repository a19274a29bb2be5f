"""Three ``officeflow watch`` processes on one workspace sharing one PostgreSQL: each inbox file
claimed by one worker, the once-per-share work on the leader; the leader is killed with
SIGKILL mid-batch, and the others finish — every file in exactly one end place, one case per
form, each decision applied once, numbers without gaps, one audit chain, registers equal to
the store."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections import Counter

from sqlalchemy import select
from support.e2e import register_rows
from support.workers import (approve_all_waiting, corpus, kill, leader_pid, staged_corpus, start_worker, twin_files,
                             use_store)
from support.threads import run_threads
from support.workspace import files_under, make_workspace, wait_for

from automation.intake.private import intake_folder
from automation.record import codec
from automation.record import schema as s
from automation.record.store import open_store

FORMS = 18
OTHERS = 12
FILES = FORMS + OTHERS


def _state(url: str):
    store = open_store(url)
    try:
        with store.read() as conn:
            subs = [dict(r) for r in conn.execute(select(s.submissions)).mappings()]
            cases = [dict(r) for r in conn.execute(select(s.cases)).mappings()]
            tasks = [dict(r) for r in conn.execute(select(s.tasks)).mappings()]
            trail = [dict(r) for r in conn.execute(select(s.audit_log.c.action, s.audit_log.c.detail)).mappings()]
    finally:
        store.dispose()
    return subs, cases, tasks, trail


def test_three_workers_on_one_postgresql_with_the_leader_killed_mid_batch_do_everything_once(tmp_path, pg_url):
    root = make_workspace(tmp_path, quiet_seconds=0.1, sweep_seconds=1.0, coalesce_seconds=0.2)
    use_store(root, pg_url, lease_seconds=3)
    files, logs = staged_corpus(tmp_path, FORMS, OTHERS)
    first = start_worker(root, logs / "w0.log")
    workers = [first]
    try:
        wait_for(lambda: leader_pid(pg_url) == first.pid, timeout=90, message="the first worker to lead")
        workers += [start_worker(root, logs / f"w{i}.log") for i in (1, 2)]
        for name, data in files.items():
            (root / "inbox" / name).write_bytes(data)

        def some_done():
            subs = _state(pg_url)[0]
            return sum(x["status"] in ("archived", "returned", "quarantined") for x in subs) >= FILES // 4

        wait_for(some_done, timeout=120, interval=0.2, message="a quarter of the batch")
        approve_all_waiting(root)
        kill(first)  # the leader, mid-batch: its claims run out, another worker takes the lead
        survivors = workers[1:]

        def finished():
            assert all(w.poll() is None for w in survivors), "a surviving worker exited"
            approve_all_waiting(root)
            subs, cases, tasks, _ = _state(pg_url)
            if files_under(root / "inbox") or len(subs) < FILES:
                return False
            if any(x["status"] not in ("archived", "returned", "quarantined") for x in subs):
                return False
            if len(cases) < FORMS or any(c["status"] != "approved" for c in cases):
                return False
            if any(p.name.startswith(".officeflow-tmp-") for p in files_under(root / "outbox")):
                return False  # the killed worker's half-written file: swept once older than two leases
            register = root / "outbox" / "registers" / "审批台账.xlsx"
            if not register.exists():
                return False
            rows = register_rows(register)
            return sorted(r["编号"] for r in rows) == sorted(c["number"] for c in cases)

        wait_for(finished, timeout=240, interval=0.5, message="the whole batch with every approval")
        assert leader_pid(pg_url) in {w.pid for w in survivors}, "the lead moved to a surviving worker"
    finally:
        for w in workers:
            kill(w)

    subs, cases, tasks, trail = _state(pg_url)
    assert len(subs) == FILES, "one submission record per file"
    assert sorted(x["original_path"] for x in subs) == sorted(files)
    destinations = [root / x["dest_path"] for x in subs]
    assert len(set(destinations)) == FILES and all(p.exists() for p in destinations), "exactly one end place each"
    for x in subs:
        assert (root / x["dest_path"]).read_bytes() == files[x["original_path"]]
    assert len(cases) == FORMS, "one case per distinct form; the forms dropped twice opened none"
    numbers = sorted(int(re.search(r"(\d+)$", c["number"]).group(1)) for c in cases)
    assert numbers == list(range(1, FORMS + 1)), "case numbers without gaps or repeats"
    decided = Counter(codec.loads(t["detail"]).get("task") for t in trail if t["action"] == "task-decided")
    assert all(n == 1 for n in decided.values()), "each decision applied once"
    assert sorted(decided) == sorted(t["id"] for t in tasks if t["decision"] is not None)
    received = Counter(t["action"] for t in trail)
    assert received["file-received"] == FILES and received["case-opened"] == FORMS
    verify = subprocess.run([sys.executable, "-m", "automation", "audit", "verify", "--workspace", str(root)],
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    said = (logs / "w1.log").read_text(encoding="utf-8")
    assert "数据库为 PostgreSQL" in said and "Traceback" not in said, said[-2000:]


def _two_workers_at_once(root, paths) -> None:
    """Two runtimes (two workers) each take one of ``paths`` in, released at the same instant."""
    from automation.pipeline import process_file
    from automation.runtime import open_runtime

    runtimes = [open_runtime(root), open_runtime(root)]
    start = threading.Barrier(2)
    def work(i):
        start.wait(timeout=30)
        process_file(runtimes[i], paths[i])

    try:
        errors = run_threads(work, 2, timeout=120)
    finally:
        for rt in runtimes:
            rt.close()
    assert errors == []


def _allow_connections(cluster, url: str, allowed: bool) -> None:
    """The database refuses (or accepts again) every connection, as when its server is down or in maintenance."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(host="127.0.0.1", port=cluster.port, user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {"true" if allowed else "false"}')
        if not allowed:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))


def test_while_the_database_is_unreachable_the_inbox_is_untouched_and_the_worker_resumes(tmp_path, pg_cluster, pg_url,
                                                                                          caplog):
    from support.workspace import running_watcher

    root = make_workspace(tmp_path)
    use_store(root, pg_url)
    staging = tmp_path / "staging"
    staging.mkdir()
    data = corpus(staging, 1, 0)["客户登记000.xlsx"]
    with running_watcher(root, poll_seconds=0.3) as (rt, watcher):
        wait_for(lambda: watcher.stats.passes >= 1, timeout=60, message="a first pass")
        _allow_connections(pg_cluster, pg_url, False)
        try:
            form = root / "inbox" / "客户登记.xlsx"
            form.write_bytes(data)
            wait_for(lambda: "数据库" in caplog.text, timeout=60, message="the fault to be said")
            assert form.read_bytes() == data, "the file in inbox/ is not touched"
            assert files_under(root / "outbox" / "archive") == [] and files_under(intake_folder(root / ".officeflow")) == []
        finally:
            _allow_connections(pg_cluster, pg_url, True)
        wait_for(lambda: not form.exists(), timeout=60, message="the file to be taken in once the database is back")
    subs = _state(pg_url)[0]
    assert [(x["original_path"], x["status"]) for x in subs] == [("客户登记.xlsx", "archived")]


def test_the_same_form_dropped_twice_and_taken_by_two_workers_at_once_opens_one_case(tmp_path, pg_url):
    """Two workers each claim one of two files with the same bytes and may judge them at once: whichever
    commits second finds the other's case under the write lock and is its duplicate, never a second case."""
    root = make_workspace(tmp_path)
    use_store(root, pg_url)
    _two_workers_at_once(root, twin_files(root, tmp_path))
    subs, cases, _, _ = _state(pg_url)
    assert len(cases) == 1, "one case for the one form"
    assert sorted(x["reason_code"] for x in subs) == sorted(["accepted", "duplicate"]), subs


def test_two_files_of_the_same_name_taken_by_two_workers_at_once_are_both_filed(tmp_path, pg_url):
    """From two people's folders, the same file name with different content: neither overwrites the other."""
    root = make_workspace(tmp_path)
    use_store(root, pg_url)
    paths = [root / "inbox" / "甲" / "说明.xlsx", root / "inbox" / "乙" / "说明.xlsx"]
    for i, path in enumerate(paths):
        path.parent.mkdir(parents=True)
        path.write_bytes(f"not a form {i}".encode() * 50)
    data = [p.read_bytes() for p in paths]
    _two_workers_at_once(root, paths)
    subs = _state(pg_url)[0]
    assert len({x["dest_path"] for x in subs}) == 2
    assert sorted((root / x["dest_path"]).read_bytes() for x in subs) == sorted(data), "each file in its own place"

"""Throughput of 1, 2 and 3 ``officeflow watch`` workers on one PostgreSQL, next to one on SQLite.

    python benchmarks/bench_workers.py [--forms 200] [--workers 1 2 3] [--skip-sqlite]

For each configuration: a fresh workspace (the default pack), ``--forms`` distinct valid
forms (客户登记表 .xlsx and 出差申请表 .docx) dropped into inbox/ at once while the workers
run; then every task file is moved into 同意/ at once. Measured per configuration:

- intake: seconds from the drop until every file has its final place and case;
- task files: seconds from the drop until every open task's file is in outbox/approvals/ (the
  burst's outcome; every worker writes task files, each task claimed first);
- decisions: seconds from the move until every one of those tasks is decided;
- CPU seconds per phase (from /proc) of each worker and of the PostgreSQL server, with the least
  wall two cores would need for that work (the machine is shared: wall time depends on the others);
- CPU seconds of all worker processes together (user + system, from their rusage), and of each
  worker on its own (the leader is the busiest: the steps run once per share are its alone);
- checks: one submission and one end place per file, one case per form, numbers without
  gaps, each decision once, each task file written once, ``officeflow audit verify`` ok;
- on PostgreSQL, how often a worker was found waiting for an advisory lock (the write lock, the
  audit head) or running a statement: ``pg_stat_activity`` sampled every 0.1 s, as the mean number of
  workers in that state during intake (a figure near the number of workers would mean the lock is the limit);
- on PostgreSQL, the statements the workers sent (``pg_stat_statements``; the benchmark's own polling
  connects as another role and is left out) per form, from the drop until every task file is out: each
  is one round trip, and COMMIT / ROLLBACK say how many explicit transactions there were.

PostgreSQL is a throw-away cluster started here (initdb + pg_ctl, as the ``postgres`` user
when run as root; see tests/support/postgres.py). Figures are for this machine only.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path

import _common as c

FINAL = ("archived", "returned", "quarantined")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


_TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int, *, own_only: bool = False) -> float:
    """CPU seconds of a live process from /proc (user + system, and of its waited-for children unless ``own_only``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + (0 if own_only else int(fields[13]) + int(fields[14]))
    return ticks / _TICK


def _server_cpu(postmaster: int | None) -> float:
    """The PostgreSQL server's CPU seconds so far: the postmaster with its exited backends, plus the live ones."""
    if postmaster is None:
        return 0.0
    total = _proc_cpu(postmaster)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == postmaster:
                total += _proc_cpu(int(entry.name), own_only=True)
    return total


def _cpu_now(procs, postmaster: int | None) -> dict:
    return {"workers": [_proc_cpu(p.pid) for p in procs], "server": _server_cpu(postmaster)}


def _phase(before: dict, after: dict) -> dict:
    """CPU seconds of one phase: each worker's, the server's, and the least wall two cores would need for them."""
    workers = [round(b - a, 2) for a, b in zip(before["workers"], after["workers"])]
    server = round(after["server"] - before["server"], 2)
    return {"workers_cpu_s": workers, "server_cpu_s": server,
            "two_core_wall_floor_s": round(max(*workers, (sum(workers) + server) / 2), 2)}


def _workspace(base: Path, name: str, url: str | None) -> Path:
    from automation.workspace import init_workspace

    root = base / name
    if root.exists():
        shutil.rmtree(root)
    init_workspace(root)
    c.tune(root, quiet_seconds=0.2, coalesce_seconds=1.0, sweep_seconds=5.0)
    if url:
        path = root / "officeflow.toml"
        text = path.read_text(encoding="utf-8")
        text = re.sub(r'^url = "sqlite:///\.officeflow/state\.db"$', f'url = "{url}"', text, flags=re.M)
        path.write_text(text, encoding="utf-8")
    return root


PROFILE: list[Path] = []  # --profile: each worker runs under cProfile, its stats written here when it stops
# CPU time, not wall time: a worker's wall profile is dominated by its waits (poll, the server's
# answers, fsync), which cost no CPU; what two workers on two cores compete for is CPU.
_CPU_PROFILE = """import cProfile, runpy, sys, time
out = sys.argv.pop(1)
sys.argv[0] = "automation"
profile = cProfile.Profile(time.process_time)
profile.enable()
try:
    runpy.run_module("automation", run_name="__main__", alter_sys=True)
except SystemExit:
    pass
finally:
    profile.disable()
    profile.dump_stats(out)
"""


def _start(root: Path, log: Path) -> subprocess.Popen:
    profile = ["-c", _CPU_PROFILE, str(PROFILE[0] / f"{log.parent.name}-{log.stem}.prof")] if PROFILE else []
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, *(profile or ["-m", "automation"]), "watch", "--workspace", str(root)],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def _state(url: str) -> tuple[list, list, list]:
    from sqlalchemy import select

    from automation.record import schema as s
    from automation.record.store import Store

    store = Store(url)
    try:
        with store.read() as conn:
            return (conn.execute(select(s.submissions.c.status, s.submissions.c.dest_path, s.submissions.c.case_id)).all(),
                    conn.execute(select(s.cases.c.number, s.cases.c.status)).all(),
                    conn.execute(select(s.tasks.c.id, s.tasks.c.status, s.tasks.c.decision)).all())
    finally:
        store.dispose()


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")


def _approve_all(root: Path) -> int:
    moved = 0
    for task in sorted((root / "outbox" / "approvals").glob("*/*")):
        if task.is_file() and not task.name.startswith(".") and task.suffix in (".xlsx", ".docx") and "(未计入)" not in task.name:
            folder = task.parent / "同意"
            folder.mkdir(exist_ok=True)
            shutil.move(str(task), folder / task.name)
            moved += 1
    return moved


BENCH_ROLE = "officeflow_bench"  # the benchmark's own connections: apart from the workers' in pg_stat_statements
STATEMENTS_OPTIONS = "-c shared_preload_libraries=pg_stat_statements"


class _Statements:
    """The workers' statements (their role's, in this database) from ``pg_stat_statements``."""

    QUERY = ("SELECT s.query, sum(s.calls) FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid"
             " WHERE r.rolname = :role AND s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
             " GROUP BY s.query")

    def __init__(self, url: str, worker_role: str):
        from sqlalchemy import create_engine, text

        self.engine = create_engine(url)
        self.role = worker_role
        with self.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))

    def now(self) -> Counter:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return Counter({q: int(n) for q, n in conn.execute(text(self.QUERY), {"role": self.role})})

    @staticmethod
    def per_form(before: Counter, after: Counter, n: int) -> dict:
        calls = after - before
        ends = sum(k for q, k in calls.items() if q.strip().upper() in ("COMMIT", "ROLLBACK"))
        top = [{"per_form": round(k / n, 2), "query": " ".join(q.split())[:110]} for q, k in calls.most_common(30)]
        return {"statements_per_form": round(sum(calls.values()) / n, 2), "commits_per_form": round(ends / n, 2),
                "top": top}

    def dispose(self) -> None:
        self.engine.dispose()


def _bench_url(url: str) -> str:
    """The same database, as the benchmark's own role."""
    return re.sub(r"//[^@/]+@", f"//{BENCH_ROLE}@", url, count=1)


def run_one(base: Path, forms: list[Path], label: str, url: str, workers: int, postmaster: int | None = None) -> dict:
    from support.workers import signal_all  # (tests/ is on the path: see main)

    root = _workspace(base, label, None if url.startswith("sqlite") else url)
    statements = None
    if url.startswith("sqlite"):
        url = f"sqlite:///{root / '.officeflow' / 'state.db'}"
    else:
        worker_role = re.search(r"//([^@/:]+)[^@/]*@", url).group(1)
        url = _bench_url(url)  # the benchmark's polls and samples, apart from the workers'
        statements = _Statements(url, worker_role)
    logs = base / f"{label}-logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir()
    cpu_before = _children_cpu()
    procs = [_start(root, logs / f"w{i}.log") for i in range(workers)]
    try:
        _wait(lambda: (root / ".officeflow").exists() and _tables_ready(url), 120, "the workers to start")
        time.sleep(2.0)  # let every worker finish starting (imports, policy) before the clock starts
        sampler = _Sampler(url) if not url.startswith("sqlite") else None
        cpu = [_cpu_now(procs, postmaster)]
        sent = [statements.now()] if statements else []
        start = time.monotonic()
        for path in forms:
            shutil.copy2(path, root / "inbox" / path.name)
        n = len(forms)

        def taken_in():
            subs, cases, tasks = _state(url)
            return len(subs) == n and all(x.status in FINAL for x in subs) and len(cases) == n

        _wait(taken_in, 1800, "intake of every form")
        intake = time.monotonic() - start
        waits = sampler.stop() if sampler else {}
        cpu.append(_cpu_now(procs, postmaster))
        _wait(lambda: len(_task_files(root)) >= sum(1 for t in _state(url)[2] if t.status == "open"), 600,
              "every task file")
        routed = time.monotonic() - start  # the burst's outcome: every form routed, its task file out
        cpu.append(_cpu_now(procs, postmaster))
        if statements:
            sent.append(statements.now())
        start = time.monotonic()
        moved = _approve_all(root)

        def decided():
            tasks = _state(url)[2]
            return sum(1 for t in tasks if t.decision is not None) >= moved

        _wait(decided, 1800, "every decision")
        decisions = time.monotonic() - start
        cpu.append(_cpu_now(procs, postmaster))
        if statements:
            sent.append(statements.now())
    finally:
        if statements:
            statements.dispose()
        signal_all(procs, signal.SIGTERM)
        per_worker = [_reap(proc) for proc in procs]
    phases = {"intake": _phase(cpu[0], cpu[1]), "task_files_after_intake": _phase(cpu[1], cpu[2]),
              "burst_to_task_files": _phase(cpu[0], cpu[2]), "decisions": _phase(cpu[2], cpu[3])}
    cpu = _children_cpu() - cpu_before
    checks = _checks(root, url, n)
    return {"label": label, "workers": workers, "forms": n, "intake_s": round(intake, 2),
            "intake_forms_per_s": round(n / intake, 2), "decisions": moved, "decisions_s": round(decisions, 2),
            "decisions_per_s": round(moved / decisions, 2), "wall_s": round(intake + decisions, 2),
            "task_files_s": round(routed, 2), "cpu_s": round(cpu, 2),
            "cpu_per_worker_s": sorted((round(x, 2) for x in per_worker), reverse=True),
            "cpu_by_phase": phases, "intake_pg_sampled": waits,
            "pg_statements": {"burst_to_task_files": _Statements.per_form(sent[0], sent[1], n),
                              "decisions": _Statements.per_form(sent[1], sent[2], max(1, moved))} if len(sent) == 3 else {},
            "checks": checks, "ok": all(checks.values())}


class _Sampler:
    """pg_stat_activity every 0.1 s: the mean number of workers waiting for an advisory lock, and running."""

    QUERY = ("SELECT count(*) FILTER (WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'),"
             " count(*) FILTER (WHERE state = 'active') FROM pg_stat_activity"
             " WHERE application_name LIKE 'officeflow %' AND datname = current_database()")

    def __init__(self, url: str):
        from sqlalchemy import create_engine

        self.engine = create_engine(url)
        self.samples: list[tuple[int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            self.xacts = [self._xacts(conn)]
            while not self._stop.wait(0.1):
                self.samples.append(tuple(conn.execute(text(self.QUERY)).one()))
            self.xacts.append(self._xacts(conn))

    @staticmethod
    def _xacts(conn) -> int:
        """Transactions the server has ended in this database (an autocommit statement is one; this sampler's too)."""
        from sqlalchemy import text

        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        return conn.execute(text("SELECT xact_commit + xact_rollback FROM pg_stat_database"
                                 " WHERE datname = current_database()")).scalar()

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join(timeout=10)
        self.engine.dispose()
        n = max(1, len(self.samples))
        xacts = self.xacts[-1] - self.xacts[0] - len(self.samples) if len(getattr(self, "xacts", ())) == 2 else None
        return {"samples": len(self.samples), "server_transactions": xacts, "mean_waiting_for_advisory_lock": round(sum(w for w, _ in self.samples) / n, 3),
                "mean_running_a_statement": round(sum(a for _, a in self.samples) / n, 3)}


def _reap(proc: subprocess.Popen, timeout: float = 120.0) -> float:
    """Wait for a worker that was asked to stop; its own CPU seconds (user + system) from wait4, so that
    the leader's share (receipts, registers and the other once-per-share steps are its alone) can be told apart."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_utime + usage.ru_stime
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_utime + usage.ru_stime
        time.sleep(0.1)


def _tables_ready(url: str) -> bool:
    try:
        _state(url)
        return True
    except Exception:
        return False


def _task_files(root: Path) -> list[Path]:
    return [p for p in (root / "outbox" / "approvals").glob("*/*") if p.is_file() and p.suffix in (".xlsx", ".docx")
            and not p.name.startswith(".")]


def _checks(root: Path, url: str, n: int) -> dict:
    from sqlalchemy import select

    from automation.record import codec
    from automation.record import schema as s
    from automation.record.store import Store

    subs, cases, tasks = _state(url)
    store = Store(url)
    try:
        with store.read() as conn:
            decided = Counter(codec.loads(d).get("task") for (d,) in conn.execute(
                select(s.audit_log.c.detail).where(s.audit_log.c.action == "task-decided")))
            written = Counter(codec.loads(d).get("task") for (d,) in conn.execute(
                select(s.audit_log.c.detail).where(s.audit_log.c.action == "task-file-written")))
    finally:
        store.dispose()
    prefixes = Counter(re.sub(r"\d+$", "", x.number) for x in cases)
    gap_free = all(sorted(int(re.search(r"(\d+)$", x.number).group(1)) for x in cases if x.number.startswith(p))
                   == list(range(1, k + 1)) for p, k in prefixes.items())
    verify = c.officeflow("audit", "verify", cwd=root)
    return {
        "one_record_per_file": len(subs) == n,
        "one_end_place_each": len({x.dest_path for x in subs}) == n and all((root / x.dest_path).is_file() for x in subs),
        "inbox_empty": not [p for p in (root / "inbox").rglob("*") if p.is_file() and p.name != ".gitkeep"],
        "one_case_per_form": len(cases) == n == len({x.case_id for x in subs}),
        "numbers_gap_free": gap_free,
        "each_decision_once": all(k == 1 for k in decided.values()),
        "each_task_file_written_once": bool(written) and all(k == 1 for k in written.values()),
        "audit_verify": verify.returncode == 0,
    }


def _postmaster(cluster) -> int | None:
    try:
        return int((cluster.base / "data" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _make_bench_role(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text(f"CREATE ROLE {BENCH_ROLE} SUPERUSER LOGIN"))
    finally:
        engine.dispose()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--forms", type=int, default=200)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument("--profile", type=Path, help="run each worker under cProfile, its stats into this folder")
    args = ap.parse_args(argv)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        PROFILE.append(args.profile.resolve())
    sys.path.insert(0, str(c.REPO / "tests"))
    from support.postgres import start_cluster

    base = c.out_dir("workers")
    forms = c.make_forms(c.filled_templates(base / "templates", date.today()), base / "forms", args.forms)
    results = []
    if not args.skip_sqlite:
        results.append(run_one(base, forms, "sqlite-1", "sqlite", 1))
        print(results[-1], flush=True)
    cluster = start_cluster(STATEMENTS_OPTIONS)
    try:
        _make_bench_role(cluster.url())
        for n in args.workers:
            name = cluster.create_database()
            results.append(run_one(base, forms, f"postgresql-{n}", cluster.url(name), n, _postmaster(cluster)))
            print(results[-1], flush=True)
    finally:
        cluster.stop()
    ok = all(r["ok"] for r in results)
    return c.finish("bench_workers", {"runs": results, "machine": c.machine()}, ok,
                    "every check passes for every configuration (figures are reported, not judged)")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""kill -9 on a real ``officeflow watch``, six times over 300 mixed files and the approvals decided
meanwhile (and on PostgreSQL three times over 40): every file ends in exactly one place, one case per distinct form,
numbers without gaps, the registers equal to the store, and the audit trail verifies."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select
from support.e2e import register_rows
from support.workers import HOSTILE_KINDS, approve_waiting, corpus, kill, start_worker, use_store
from support.workspace import files_under, make_workspace, wait_for

from automation.pipeline import process_pending
from automation.record import schema as s
from automation.runtime import open_runtime


def _work_done(url: str) -> int:
    """How much the store has recorded so far (its audit entries); 0 before it exists."""
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        return 0  # (connecting would make an empty file)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(s.audit_log)).scalar()
    except Exception:  # not made yet: the first worker is still starting
        return 0
    finally:
        engine.dispose()


def _sigkill_run(tmp_path, *, url: str | None, files_n: int, forms: int, kills: int,
                 pause: tuple[float, float] = (2.0, 1.5)) -> None:
    """Mixed files and approvals under ``kills`` kill -9 of ``officeflow watch``, each once the
    worker has got on with the work; then plain passes finish, and the outcome is checked end to end."""
    root = make_workspace(tmp_path, quiet_seconds=0.1)
    if url:  # PostgreSQL: short leases, so a dead worker's claims pass on quickly
        use_store(root, url, lease_seconds=2)
    url = url or f"sqlite:///{root / '.officeflow' / 'state.db'}"
    staging = tmp_path / "staging"
    staging.mkdir()
    files = corpus(staging, forms, files_n - forms, kinds=HOSTILE_KINDS)
    for name, data in files.items():
        (root / "inbox" / name).write_bytes(data)
    rng = random.Random(20261201)
    for _ in range(kills):
        before = _work_done(url)
        proc = start_worker(root)
        try:
            wait_for(lambda: _work_done(url) > before or not files_under(root / "inbox"), timeout=120, interval=0.1,
                     message="the worker to get on with the work")
            time.sleep(rng.uniform(0.2, pause[0]))  # a random moment mid-work: what is being killed is the point
            approve_waiting(root, rng)
            time.sleep(rng.uniform(0.2, pause[1]))
        finally:
            kill(proc)
    with open_runtime(root) as rt:  # finish: approvals decided after the last kill, then a clean pass

        def finished():
            process_pending(rt)  # (on PostgreSQL, a killed worker's claims are taken over once their lease ends)
            return not approve_waiting(root, rng) and not files_under(root / "inbox")

        wait_for(finished, timeout=180, interval=0.2, message="the passes after the last kill to finish the work")
        with rt.store.read() as conn:
            subs = [dict(r) for r in conn.execute(select(s.submissions)).mappings()]
            cases = [dict(r) for r in conn.execute(select(s.cases)).mappings()]
    assert len(subs) == files_n, "one submission record per file"
    assert sorted(x["original_path"] for x in subs) == sorted(files)
    assert all(x["status"] in ("archived", "returned", "quarantined") for x in subs)
    destinations = [root / x["dest_path"] for x in subs]
    assert len(set(destinations)) == files_n and all(p.exists() for p in destinations)
    for x in subs:
        assert (root / x["dest_path"]).read_bytes() == files[x["original_path"]]
    assert len(cases) == forms, "one case per distinct form; duplicates opened none"
    numbers = sorted(int(re.search(r"(\d+)$", c["number"]).group(1)) for c in cases)
    assert numbers == list(range(1, forms + 1)), "numbers without gaps or duplicates"
    rows = register_rows(root / "outbox" / "registers" / "审批台账.xlsx")
    assert sorted(r["编号"] for r in rows) == sorted(c["number"] for c in cases), "the register equals the store"
    stray = [p for p in files_under(root / "outbox") if p.name.startswith(".officeflow-tmp-")]
    assert not stray
    verify = subprocess.run([sys.executable, "-m", "automation", "audit", "verify", "--workspace", str(root)],
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_sigkill_during_300_files_and_decisions_loses_and_doubles_nothing(tmp_path):
    _sigkill_run(tmp_path, url=None, files_n=300, forms=40, kills=6)


def test_sigkill_of_a_worker_on_postgresql_during_40_files_and_decisions_loses_and_doubles_nothing(tmp_path, pg_url):
    _sigkill_run(tmp_path, url=pg_url, files_n=40, forms=8, kills=3,
                 pause=(1.0, 0.8))

"""kill -9 on a real ``officeflow watch``, at least five times, over 300 mixed files and the
approvals decided meanwhile: every file ends in exactly one place, one case per distinct form,
numbers without gaps, the registers equal to the store, and the audit trail verifies."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy import select
from support import bad_files
from support.e2e import register_rows
from support.forms import build_blank, fill_xlsx
from support.workspace import files_under, make_workspace

from automation import samples
from automation.record import schema as s
from automation.runtime import open_runtime

FILES = 300
FORMS = 40
KILLS = 6


def _corpus(staging: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for i in range(FORMS):
        path = fill_xlsx(build_blank("customer_registration", staging / f"blank{i}"),
                         samples.customer_registration(500 + i, date.today()))
        files[f"客户登记{i:03d}.xlsx"] = path.read_bytes()
    bad = [bad_files.zero_byte, bad_files.random_bytes, bad_files.pdf_file, bad_files.xlsm_with_macro,
           bad_files.valid_xlsx, bad_files.entity_bomb_xlsx, bad_files.legacy_ole]
    samples_bad = {}
    for factory in bad:
        folder = staging / f"bad-{factory.__name__}"
        folder.mkdir()
        samples_bad[factory.__name__] = factory(folder).read_bytes()
    kinds = list(samples_bad.values())
    for i in range(FILES - FORMS):
        if i % 10 == 0:  # a form dropped twice: a duplicate, never a second case
            files[f"再交一次{i:03d}.xlsx"] = files[f"客户登记{i % FORMS:03d}.xlsx"]
        else:
            files[f"杂项{i:03d}.xlsx"] = kinds[i % len(kinds)]
    return files


def _watch(root: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "automation", "watch", "--workspace", str(root)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                            start_new_session=True)


def _approve_some(root: Path, rng: random.Random) -> int:
    """Drag a few task files into 同意/, as approvers do while the service keeps dying."""
    moved = 0
    for task in sorted((root / "outbox" / "approvals").glob("*/*.xlsx")):
        if rng.random() < 0.5:
            folder = task.parent / "同意"
            folder.mkdir(exist_ok=True)
            try:
                shutil.move(str(task), folder / task.name)
                moved += 1
            except OSError:
                pass
    return moved


def test_sigkill_during_300_files_and_decisions_loses_and_doubles_nothing(tmp_path):
    root = make_workspace(tmp_path, quiet_seconds=0.1)
    staging = tmp_path / "staging"
    staging.mkdir()
    files = _corpus(staging)
    for name, data in files.items():
        (root / "inbox" / name).write_bytes(data)
    rng = random.Random(20261201)
    kills = 0
    while kills < KILLS:
        proc = _watch(root)
        time.sleep(rng.uniform(1.5, 4.0))
        _approve_some(root, rng)
        time.sleep(rng.uniform(0.3, 1.5))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        kills += 1
    for _ in range(6):  # finish: approvals decided after the last kill, then a clean pass
        done = subprocess.run([sys.executable, "-m", "automation", "process", "--workspace", str(root)],
                              capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stderr
        if not _approve_some(root, rng) and not files_under(root / "inbox"):
            break
    assert kills >= 5
    assert not files_under(root / "inbox")

    rt = open_runtime(root)
    try:
        with rt.store.read() as conn:
            subs = [dict(r) for r in conn.execute(select(s.submissions)).mappings()]
            cases = [dict(r) for r in conn.execute(select(s.cases)).mappings()]
    finally:
        rt.close()
    assert len(subs) == FILES, "one submission record per file"
    assert sorted(x["original_path"] for x in subs) == sorted(files)
    assert all(x["status"] in ("archived", "returned", "quarantined") for x in subs)
    destinations = [root / x["dest_path"] for x in subs]
    assert len(set(destinations)) == FILES and all(p.exists() for p in destinations)
    for x in subs:
        assert (root / x["dest_path"]).read_bytes() == files[x["original_path"]]
    assert len(cases) == FORMS, "one case per distinct form; duplicates opened none"
    numbers = sorted(int(re.search(r"(\d+)$", c["number"]).group(1)) for c in cases)
    assert numbers == list(range(1, FORMS + 1)), "numbers without gaps or duplicates"
    rows = register_rows(root / "outbox" / "registers" / "审批台账.xlsx")
    assert sorted(r["编号"] for r in rows) == sorted(c["number"] for c in cases), "the register equals the store"
    stray = [p for p in files_under(root / "outbox") if p.name.startswith(".officeflow-tmp-")]
    assert not stray
    verify = subprocess.run([sys.executable, "-m", "automation", "audit", "verify", "--workspace", str(root)],
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert verify.returncode == 0, verify.stdout + verify.stderr

"""The generated hostile corpus (tests/support/hostile.py) through the real pipeline: each case
ends in exactly one place with its reason, and a valid form dropped after it is still routed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from support import hostile
from support.workspace import files_under, make_workspace, wait_for

from automation.intake import names
from automation.pipeline import process_pending
from automation.record import schema as s
from automation.runtime import open_runtime

HAN = range(0x4E00, 0xA000)


def _drop_corpus(root: Path, staging: Path) -> dict[str, str]:
    """case id → the entry's path relative to inbox/ (as the OS spells it)."""
    staging.mkdir(exist_ok=True)
    return {case.id: case.make(root / "inbox", staging) for case in hostile.CORPUS}


def _by_path(rt) -> dict[str, dict]:
    with rt.store.read() as conn:
        rows = [dict(r) for r in conn.execute(select(s.submissions).order_by(s.submissions.c.id)).mappings()]
    return {names.from_stored(r["original_path"]): r for r in rows}


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    root = make_workspace(base)
    made = _drop_corpus(root, base / "staging")
    rt = open_runtime(root)
    try:
        process_pending(rt)
        subs = _by_path(rt)
    finally:
        rt.close()
        hostile.close_sockets()
    return root, made, subs


def test_corpus_has_at_least_sixty_cases():
    assert len(hostile.CORPUS) >= 60
    assert len({c.id for c in hostile.CORPUS}) == len(hostile.CORPUS)


@pytest.mark.parametrize("case", hostile.CORPUS, ids=lambda c: c.id)
def test_hostile_case_ends_in_its_place_with_its_reason(processed, case):
    root, made, subs = processed
    sub = subs.get(made[case.id])
    assert sub is not None, f"{case.id}: never taken in"
    assert sub["status"] == case.status and sub["reason_code"] in case.codes, (case.id, sub["status"], sub["reason_code"], sub["reason"])
    assert any(ord(ch) in HAN for ch in sub["reason"]), "the reason is Chinese"
    for forbidden in ("Traceback", "Error(", "Exception", "errno"):
        assert forbidden not in sub["reason"]
    dest = root / sub["dest_path"]
    assert dest.exists() and not dest.is_symlink()
    if case.status == hostile.QUARANTINED:
        reason_file = root / (sub["extra_path"] or sub["dest_path"])
        text = reason_file.read_text(encoding="utf-8-sig")
        assert sub["name"] in text and "问题:" in text
    if case.problem:
        assert case.problem in [p["code"] for p in _problems(root, sub)], (case.id, sub["problems"])


def _problems(root: Path, sub: dict) -> list[dict]:
    if sub["problems"]:
        return json.loads(sub["problems"])
    rt = open_runtime(root)
    try:
        with rt.store.read() as conn:
            case = conn.execute(select(s.cases.c.warnings).where(s.cases.c.id == sub["case_id"])).first()
    finally:
        rt.close()
    return json.loads(case.warnings or "[]") if case else []


def test_every_hostile_entry_ends_in_exactly_one_place_and_the_inbox_is_empty(processed):
    root, made, subs = processed
    assert set(made.values()) <= set(subs)
    assert len({r["dest_path"] for r in subs.values()}) == len(subs), "one end place each"
    leftovers = [p for p in (root / "inbox").rglob("*") if p.is_file() or p.is_symlink()]
    assert not leftovers, leftovers
    assert not [p for p in (root / "outbox").rglob("*") if p.is_symlink()], "nothing in outbox/ is a link"
    assert Path("/etc/passwd").exists()


def test_running_watch_given_the_whole_corpus_then_one_valid_form_routes_it(tmp_path):
    from support.forms import build_blank, fill_xlsx

    from automation import samples

    root = make_workspace(tmp_path, quiet_seconds=0.2)
    staging = tmp_path / "staging"
    # stderr goes to a file: a pipe nobody drains while the watcher runs would block it once full
    err_path = tmp_path / "watch-stderr.txt"
    with err_path.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "automation", "watch", "--workspace", str(root)],
                                stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: (root / ".officeflow" / "state.db").exists(), timeout=60, message="the watcher to start")
        made = _drop_corpus(root, staging)
        valid = fill_xlsx(build_blank("customer_registration", tmp_path / "valid"),
                          samples.customer_registration(999, date.today()))
        os.replace(valid, root / "inbox" / "最后的有效表单.xlsx")
        dropped = time.monotonic()
        rt = open_runtime(root)
        try:
            wait_for(lambda: _by_path(rt).get("最后的有效表单.xlsx", {}).get("status") == "archived", timeout=240,
                     interval=0.5, message="the valid form after the corpus")
            routed_after = time.monotonic() - dropped
            wait_for(lambda: set(made.values()) <= {k for k, v in _by_path(rt).items()
                                                    if v["status"] in ("archived", "returned", "quarantined")},
                     timeout=240, interval=0.5, message="every hostile entry to reach its end place")
        finally:
            rt.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=240) == 0  # it finishes the pass in hand (registers) first
    finally:
        if proc.poll() is None:
            proc.kill()
        hostile.close_sockets()
    stderr = err_path.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in stderr and "RuntimeWarning" not in stderr, stderr[-2000:]
    assert routed_after < 240
    tasks = [p for p in files_under(root / "outbox" / "approvals") if p.suffix == ".xlsx"]
    assert any("客户登记" in p.name for p in tasks)
    shutil.rmtree(staging, ignore_errors=True)

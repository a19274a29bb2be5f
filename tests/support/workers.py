"""Several real ``officeflow watch`` processes on one workspace and one PostgreSQL database."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text

from automation import samples
from automation.record.store import LEADER_LOCK
from support import bad_files
from support.forms import build_blank, fill_xlsx


def use_store(root: Path, url: str, **store_settings) -> None:
    """Point the workspace's ``[store]`` at ``url``, with extra settings such as ``lease_seconds``."""
    path = root / "officeflow.toml"
    body = path.read_text(encoding="utf-8")
    lines = [f'url = "{url}"', *(f"{k} = {v}" for k, v in store_settings.items())]
    body, n = re.subn(r'^url = "sqlite:///\.officeflow/state\.db"$', "\n".join(lines), body, flags=re.M)
    assert n == 1
    path.write_text(body, encoding="utf-8")


BAD_KINDS = (bad_files.zero_byte, bad_files.random_bytes, bad_files.pdf_file, bad_files.valid_xlsx)
HOSTILE_KINDS = (*BAD_KINDS, bad_files.xlsm_with_macro, bad_files.entity_bomb_xlsx, bad_files.legacy_ole)


def corpus(staging: Path, forms: int, others: int, kinds=BAD_KINDS) -> dict[str, bytes]:
    """``forms`` distinct 客户登记表 forms, then ``others`` files: every tenth a form dropped again,
    the rest files of the ``kinds`` made by ``support.bad_files``, in turn."""
    files: dict[str, bytes] = {}
    for i in range(forms):
        path = fill_xlsx(build_blank("customer_registration", staging / f"blank{i}"),
                         samples.customer_registration(700 + i, date.today()))
        files[f"客户登记{i:03d}.xlsx"] = path.read_bytes()
    made = []
    for factory in kinds:
        folder = staging / f"bad-{factory.__name__}"
        folder.mkdir()
        made.append(factory(folder).read_bytes())
    for i in range(others):
        if i % 10 == 0:
            files[f"再交一次{i:03d}.xlsx"] = files[f"客户登记{i % forms:03d}.xlsx"]
        else:
            files[f"杂项{i:03d}.xlsx"] = made[i % len(made)]
    return files


def twin_files(root: Path, tmp_path: Path) -> list[Path]:
    """The same 客户登记表 bytes dropped into inbox/ under two names."""
    staging = tmp_path / "staging"
    staging.mkdir()
    data = corpus(staging, 1, 0)["客户登记000.xlsx"]
    paths = [root / "inbox" / "客户登记.xlsx", root / "inbox" / "客户登记(再交一次).xlsx"]
    for path in paths:
        path.write_bytes(data)
    return paths


def staged_corpus(tmp_path: Path, forms: int, others: int) -> tuple[dict[str, bytes], Path]:
    """``corpus`` made in a staging folder of ``tmp_path``, and an empty folder for the workers' logs."""
    staging = tmp_path / "staging"
    staging.mkdir()
    logs = tmp_path / "logs"
    logs.mkdir()
    return corpus(staging, forms, others), logs


def start_worker(root: Path, log: Path | None = None) -> subprocess.Popen:
    """One ``officeflow watch``, its output to a file (never an undrained pipe; none: discarded),
    unbuffered so that what it said is all there even after a kill -9."""
    with open(log, "ab") if log else open(os.devnull, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "automation", "watch", "--workspace", str(root)],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})


def signal_all(procs, sig) -> None:
    """Send ``sig`` to each worker's process group (each started in a session of its own); those gone are skipped."""
    for proc in procs:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass


def kill(proc: subprocess.Popen, sig=signal.SIGKILL) -> None:
    signal_all([proc], sig)
    proc.wait(timeout=60)


def leader_pid(url: str) -> int | None:
    """The OS process id of the worker holding the leader lock (from its application_name)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            name = conn.execute(text(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted AND l.objid = :low AND l.classid = :high"),
                {"low": LEADER_LOCK & 0xFFFFFFFF, "high": LEADER_LOCK >> 32}).scalar()
    finally:
        engine.dispose()
    found = re.match(r"officeflow (\d+)$", name or "")
    return int(found.group(1)) if found else None


def approve_waiting(root: Path, rng: random.Random | None = None) -> int:
    """Drag task files into 同意/, as approvers do: every one, or (with ``rng``) about half of them."""
    moved = 0
    for task in sorted((root / "outbox" / "approvals").glob("*/*.xlsx")):
        if "(未计入)" in task.name or task.name.startswith("."):  # not a worker's temporary file
            continue
        if rng is not None and rng.random() >= 0.5:
            continue
        folder = task.parent / "同意"
        folder.mkdir(exist_ok=True)
        try:
            shutil.move(str(task), folder / task.name)
            moved += 1
        except OSError:
            pass
    return moved


def approve_all_waiting(root: Path) -> int:
    """Drag every task file into 同意/."""
    return approve_waiting(root)

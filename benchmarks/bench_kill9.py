"""Killed at random (kill -9) while processing 1,000 files: nothing lost, nothing done twice.

    python benchmarks/bench_kill9.py [--files 1000] [--junk 0.3] [--seed 9] [--naive-forms 20]

Drops valid forms mixed with junk (random bytes, text, truncated and empty
Office files, zips of nothing) into inbox/, then starts the real ``officeflow
watch``, kills its whole process group with SIGKILL at a random moment, and
restarts it — until the inbox is empty. A last ``officeflow process`` finishes
outputs. Then it checks, from the disk and the store:

- one submission per dropped file (by content hash), each with a final outcome;
- each original present exactly once across archive/, returned/, quarantine/;
- nothing left in inbox/, no temporary files left anywhere in outbox/;
- one case per accepted form, one task file per open task, no duplicate numbers;
- the audit chain verifies.

The comparison that matters here is a count, not a time: how many of these
checks a crash would break is what the design is for, so the report lists each
check. Wall and CPU seconds and peak memory of the killed watchers and the
last ``process`` are reported too, with the ratio against the naive script
(openpyxl load + append + save of a 10,000-row register per form) measured in
the same run.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

import _common as c

FINAL = ("archived", "returned", "quarantined")


def junk(folder: Path, n: int, valid: list[Path], rng: random.Random) -> list[Path]:
    """Files a careless drop produces: none of them may stop or fool the watcher."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        kind = i % 5
        path = folder / f"杂项-{i:04d}" if kind else folder / f"杂项-{i:04d}.xlsx"
        if kind == 0:
            path.write_bytes(rng.randbytes(rng.randrange(10, 4000)))
        elif kind == 1:
            path = path.with_suffix(".txt")
            path.write_text(f"会议纪要 第{i}号\n请各部门按时提交报销单。\n", encoding="utf-8")
        elif kind == 2:
            data = valid[i % len(valid)].read_bytes()
            path = path.with_suffix(valid[i % len(valid)].suffix)
            path.write_bytes(data[: len(data) // 2] + i.to_bytes(4, "big"))
        elif kind == 3:
            path = path.with_suffix(".docx")
            path.write_bytes(b"" if i == 3 else b"PK\x05\x06" + bytes(18) + i.to_bytes(2, "big"))
        else:
            path = path.with_suffix(".xlsx")
            with zipfile.ZipFile(path, "w") as zf:
                zf.writestr("readme.txt", f"not a workbook {i}")
        paths.append(path)
    return paths


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def start_watch(root: Path) -> subprocess.Popen:
    exe = Path(sys.executable).with_name("officeflow")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "automation"]
    return subprocess.Popen([*cmd, "watch"], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def inbox_files(root: Path) -> list[Path]:
    return [p for p in (root / "inbox").rglob("*") if p.is_file() and p.name != ".gitkeep"]


def kill_until_empty(root: Path, rng: random.Random, max_kills: int, window: tuple[float, float]) -> int:
    kills = 0
    while inbox_files(root) and kills < max_kills:
        proc = start_watch(root)
        time.sleep(rng.uniform(*window))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += 1
    return kills


def verify(root: Path, dropped: dict[str, str]) -> dict:
    from sqlalchemy import func, select

    from automation.fsutil import TEMP_PREFIX
    from automation.record import schema as s
    from automation.runtime import open_runtime

    rt = open_runtime(root)
    try:
        with rt.store.read() as conn:
            subs = conn.execute(select(s.submissions)).all()
            cases = conn.execute(select(s.cases.c.id, s.cases.c.number, s.cases.c.submission_id)).all()
            open_tasks = conn.execute(select(s.tasks.c.file_path).where(s.tasks.c.status == "open")).all()
            dup_numbers = conn.execute(select(s.cases.c.number).group_by(s.cases.c.number)
                                       .having(func.count() > 1)).all()
    finally:
        rt.close()
    per_hash = Counter(row.sha256 for row in subs)
    outcomes = Counter(row.outcome for row in subs)
    on_disk = Counter(sha256(p) for folder in ("archive", "returned", "quarantine")
                      for p in (root / "outbox" / folder).rglob("*") if p.is_file())
    temps = [str(p) for p in (root / "outbox").rglob("*") if p.is_file() and (p.suffix == ".tmp" or p.name.startswith(TEMP_PREFIX))]
    accepted = [row for row in subs if row.outcome == "archived" and row.case_id is not None]
    checks = {
        "one_submission_per_file": all(per_hash.get(h) == 1 for h in dropped) and len(subs) == len(dropped),
        "every_submission_final": all(row.outcome in FINAL for row in subs),
        "each_original_exactly_once_on_disk": all(on_disk.get(h) == 1 for h in dropped),
        "destinations_recorded_exist": all(row.dest_path and (root / row.dest_path).is_file() for row in subs),
        "inbox_empty": not inbox_files(root),
        "no_temp_files_left": not temps,
        "one_case_per_accepted_form": len(cases) == len(accepted) == len({cs.submission_id for cs in cases}),
        "no_duplicate_case_numbers": not dup_numbers,
        "every_open_task_has_its_file": all(t.file_path and (root / t.file_path).is_file() for t in open_tasks),
        "audit_chain_verifies": c.officeflow("audit", "verify", cwd=root).returncode == 0,
    }
    return {"checks": checks, "ok": all(checks.values()), "submissions": len(subs), "outcomes": dict(outcomes),
            "cases": len(cases), "open_tasks": len(open_tasks), "temp_files": temps[:10]}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--junk", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--max-kills", type=int, default=400)
    ap.add_argument("--window", type=float, nargs=2, default=(1.0, 4.0), help="seconds alive before the kill")
    c.naive_args(ap)
    args = ap.parse_args(argv)
    from automation.workspace import init_workspace

    rng = random.Random(args.seed)
    folder = c.out_dir("kill9")
    root = folder / "ws"
    shutil.rmtree(root, ignore_errors=True)
    init_workspace(root)
    c.tune(root, quiet_seconds=0.2, coalesce_seconds=0.5)
    n_junk = int(args.files * args.junk)
    valid = c.make_forms(c.filled_templates(folder / "templates", date.today()), folder / "forms",
                         args.files - n_junk)
    files = valid + junk(folder / "junk", n_junk, valid, rng)
    dropped = {}
    for path in files:
        dropped[sha256(path)] = path.name
        shutil.copy2(path, root / "inbox" / path.name)
    print(f"放入 / dropped {len(files)} files ({len(valid)} forms, {n_junk} junk); killing at random …", flush=True)
    with c.Meter() as m:
        kills = kill_until_empty(root, rng, args.max_kills, tuple(args.window))
        left = len(inbox_files(root))  # only non-zero when --max-kills ran out first
        final = c.officeflow("process", "--json", cwd=root)
    seconds = m.wall
    result = {"machine": c.machine(), "files": len(files), "forms": len(valid), "junk": n_junk, "kills": kills,
              "left_after_kills": left, "seconds": seconds, **m.to_dict(), "final_process_rc": final.returncode,
              **verify(root, dropped)}
    print(m.line("watchers"), flush=True)
    result["naive_script"] = c.naive_script(folder / "naive", forms=args.naive_forms, rows=args.naive_rows)
    result["ratio"] = c.ratio(result["naive_script"], len(valid), m.cpu_children, m.wall)
    for name, ok in result["checks"].items():
        print(f"  {'✓' if ok else '✗'} {name}")
    print(f"  {kills} kills ({left} files still in inbox after the last kill) in {seconds:.0f} s; outcomes {result['outcomes']}; cases {result['cases']}")
    return c.finish("kill9", result, result["ok"], "every check holds")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""One form dropped: how long until its task file appears in outbox/approvals/?

    python benchmarks/bench_latency.py [--drops 20] [--quiet SECONDS] [--poll 1] [--naive-forms 20]

Runs the real ``officeflow watch`` as a child process, first with native file
events, then with ``--poll 1`` (the network-share mode) for comparison. Each
drop is a distinct valid form moved into inbox/ in one rename, as a save
would; the clock runs from the rename until the task file is listed. Each
mode also reports the watcher's wall and CPU seconds and peak memory, and the
naive script (openpyxl load + append + save of a 10,000-row register) is
measured in the same run for the per-form ratio.
Targets (issue 17): p95 ≤ 0.5 s with native events, ≤ 2 s polling every second.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import _common as c

TARGET_SECONDS = 0.5
TARGET_POLL_SECONDS = 2.0
TIMEOUT = 30.0


def task_files(approvals: Path) -> set[Path]:
    return {p for p in approvals.rglob("*") if p.suffix in (".xlsx", ".docx") and p.is_file()}


def wait_new(approvals: Path, before: set[Path], timeout: float = TIMEOUT) -> float | None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if task_files(approvals) - before:
            return time.perf_counter()
        time.sleep(0.005)
    return None


def start_watch(root: Path, poll: float | None) -> subprocess.Popen:
    exe = Path(sys.executable).with_name("officeflow")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "automation"]
    cmd += ["watch"] + (["--poll", str(poll)] if poll else [])
    return subprocess.Popen(cmd, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def stop_watch(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)  # Ctrl-C: the watcher stops cleanly
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def drop(form: Path, root: Path) -> float:
    """Move ``form`` into inbox/ in one rename; returns the moment it appeared."""
    staging = root / "staging"
    staging.mkdir(exist_ok=True)
    tmp = staging / form.name
    shutil.copy2(form, tmp)
    at = time.perf_counter()
    os.replace(tmp, root / "inbox" / form.name)
    return at


def measure(root: Path, forms: list[Path], poll: float | None, rng: random.Random) -> list[float]:
    """Latencies of all drops but the first (which also waits for start-up)."""
    approvals = root / "outbox" / "approvals"
    proc = start_watch(root, poll)
    try:
        latencies = []
        for form in forms:
            before = task_files(approvals)
            at = drop(form, root)
            seen = wait_new(approvals, before)
            if seen is None:
                raise RuntimeError(f"no task file for {form.name} within {TIMEOUT} s")
            latencies.append(seen - at)
            time.sleep(rng.uniform(0.3, 1.2))  # drops arrive at random moments, not in step with the loop
        return latencies[1:]  # the first drop also waits for start-up
    finally:
        stop_watch(proc)


def figures(latencies: list[float]) -> dict:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"n": len(ordered), "median": statistics.median(ordered), "p95": p95, "max": ordered[-1],
            "min": ordered[0], "all": [round(x, 3) for x in latencies]}


def workspace(folder: Path, quiet: float | None) -> Path:
    from automation.workspace import init_workspace

    shutil.rmtree(folder, ignore_errors=True)
    init_workspace(folder)
    if quiet is not None:
        c.tune(folder, quiet_seconds=quiet)
    return folder


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--drops", type=int, default=20)
    ap.add_argument("--quiet", type=float, default=None, help="override [watch] quiet_seconds (default: workspace's)")
    ap.add_argument("--poll", type=float, default=1.0, help="the polling interval of the comparison mode")
    c.naive_args(ap)
    args = ap.parse_args(argv)
    folder = c.out_dir("latency")
    forms = c.make_forms(c.filled_templates(folder / "templates", date.today()), folder / "forms",
                         2 * (args.drops + 1), customer_share=0.5)
    rng = random.Random(3)
    results = {"machine": c.machine(), "drops": args.drops, "quiet_seconds": args.quiet}
    naive = results["naive_script"] = c.naive_script(folder / "naive", forms=args.naive_forms, rows=args.naive_rows)
    results["poll_seconds"] = args.poll
    for mode, poll, batch in (("native", None, forms[0::2]), ("poll", args.poll, forms[1::2])):
        root = workspace(folder / mode, args.quiet)
        with c.Meter() as m:  # the watcher's whole life: start-up, every drop, shutdown
            latencies = measure(root, batch[: args.drops + 1], poll, rng)
        r = results[mode] = {**figures(latencies), "watcher": m.to_dict()}
        print(f"  {mode:<7} median {r['median']:.2f} s   p95 {r['p95']:.2f} s   max {r['max']:.2f} s", flush=True)
        print(m.line("watcher"), flush=True)
        # The naive script waits for nothing, but pays its full CPU cost per form.
        r["ratio"] = c.ratio(naive, args.drops + 1, m.cpu_children, m.wall)
    results["ratio_median"] = results["poll"]["median"] / results["native"]["median"]
    met = results["native"]["p95"] <= TARGET_SECONDS and results["poll"]["p95"] <= TARGET_POLL_SECONDS
    print(f"  poll/native median: {results['ratio_median']:.1f}×")
    name = "latency" + ("" if args.quiet is None else f"_quiet{args.quiet}")
    return c.finish(name, results, met, f"p95 ≤ {TARGET_SECONDS:g} s native, ≤ {TARGET_POLL_SECONDS:g} s polling every {args.poll:g} s")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

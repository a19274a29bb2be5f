"""While files settle, the watcher looks again the moment the first of them has been quiet for the whole
quiet period — not on a fixed beat that overshoots it — and never earlier: the quiet period is still
measured from the first sight of the unchanged (size, mtime) and starts again when either changes."""

from __future__ import annotations

import os

from support.workspace import make_workspace

from automation.intake.stability import StabilityTracker
from automation.pipeline import RunSummary
from automation.runtime import open_runtime
from automation.service import Watcher


def _touch(path, data: bytes, mtime_ns: int) -> None:
    path.write_bytes(data)
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_due_in_counts_down_from_the_first_sight_of_the_unchanged_stat(tmp_path):
    clock = [100.0]
    tracker = StabilityTracker(2.0, monotonic=lambda: clock[0])
    first, second = tmp_path / "甲.xlsx", tmp_path / "乙.xlsx"
    _touch(first, b"a" * 10, 1_000_000_000)
    assert tracker.due_in() is None  # nothing seen yet
    assert not tracker.check(first)
    assert tracker.due_in() == 2.0
    clock[0] = 101.0
    _touch(second, b"b" * 10, 1_000_000_000)
    assert not tracker.check(first) and not tracker.check(second)
    assert tracker.due_in() == 1.0  # 甲 first, seen unchanged since 100.0
    clock[0] = 101.5
    _touch(first, b"a" * 20, 1_000_000_000)  # 甲 grows (a copy that keeps the source's mtime): starts again
    assert not tracker.check(first)
    assert tracker.due_in() == 1.5  # now 乙 is first: quiet since 101.0
    clock[0] = 102.999
    assert not tracker.check(second)  # not one moment before its quiet period has passed
    clock[0] = 103.0
    assert tracker.check(second)
    assert tracker.due_in() == 0.5  # 甲, quiet since 101.5; 乙 (stable) is no longer waited for
    clock[0] = 103.5
    assert tracker.check(first)
    assert tracker.due_in() is None


def test_the_watcher_waits_exactly_until_the_first_file_is_due(tmp_path):
    root = make_workspace(tmp_path, quiet_seconds=1.0)
    rt = open_runtime(root)
    try:
        watcher = Watcher(rt, poll_seconds=1.0)
        clock = [50.0]
        watcher.tracker = StabilityTracker(1.0, monotonic=lambda: clock[0])
        form = root / "inbox" / "表.xlsx"
        form.write_bytes(b"x" * 100)
        assert not watcher.tracker.check(form)
        clock[0] = 50.9
        assert abs(watcher.next_pass_in(RunSummary(waiting=1)) - (0.1 + Watcher.DUE_MARGIN)) < 1e-9
        clock[0] = 50.2
        assert watcher.next_pass_in(RunSummary(waiting=1)) == Watcher.WAITING_BEAT  # due later than a beat
        clock[0] = 51.5  # past due but still waiting (claimed elsewhere, say): the beat
        assert watcher.tracker.check(form)
        assert watcher.next_pass_in(RunSummary(waiting=1)) == Watcher.WAITING_BEAT
        settings = rt.settings
        idle = min(settings.watch.sweep_seconds, max(0.5, settings.register_writing.coalesce_seconds))
        assert watcher.next_pass_in(RunSummary(waiting=0)) == idle
    finally:
        rt.close()

"""A share that behaves like a network drive: inbox/ is a FUSE mount (Debian ``bindfs``) of
another folder, so files written on the other side raise no native events here — as on
SMB/NFS. Polling takes them in, doctor advises polling, and the share vanishing and coming
back neither kills the watcher nor loses a file. Skipped where bindfs or FUSE is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from support.forms import build_blank, fill_xlsx
from support.workspace import make_workspace, running_watcher, wait_for

from automation import samples
from automation.doctor import diagnose, filesystem_type
from automation.record import schema as s
from automation.settings import load_settings

pytestmark = pytest.mark.skipif(shutil.which("bindfs") is None, reason="bindfs is not installed")


def _mount(source: Path, target: Path) -> None:
    done = subprocess.run(["bindfs", "--no-allow-other", str(source), str(target)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount with bindfs here: {done.stderr.strip()}")
    wait_for(lambda: filesystem_type(target) == "fuse", timeout=10, message="the FUSE mount")


def _unmount(target: Path) -> None:
    for cmd in (["fusermount", "-uz", str(target)], ["umount", "-l", str(target)]):
        if shutil.which(cmd[0]) and subprocess.run(cmd, capture_output=True).returncode == 0:
            return


@contextmanager
def shared_inbox(root: Path, other_side: Path):
    """inbox/ mounted from ``other_side`` (the file server's view)."""
    other_side.mkdir(parents=True, exist_ok=True)
    _mount(other_side, root / "inbox")
    try:
        yield other_side
    finally:
        _unmount(root / "inbox")


def _write_on_the_other_side(folder: Path, tmp_path: Path, seq: int) -> str:
    form = fill_xlsx(build_blank("customer_registration", tmp_path / f"blank{seq}"),
                     samples.customer_registration(seq, date.today()))
    name = f"远端{seq}.xlsx"
    staged = folder / f".{name}.part"  # as a copy tool does: write, then rename into place
    shutil.copyfile(form, staged)
    os.replace(staged, folder / name)
    return name


def _statuses(rt) -> dict[str, str]:
    with rt.store.read() as conn:
        return {r.name: r.status for r in conn.execute(select(s.submissions.c.name, s.submissions.c.status))}


def test_polling_takes_in_files_written_on_the_other_side_of_a_share(tmp_path):
    root = make_workspace(tmp_path, sweep_seconds=600.0)  # no sweep to fall back on: only polling sees them
    with shared_inbox(root, tmp_path / "server" / "inbox") as server:
        with running_watcher(root, poll_seconds=0.3) as (rt, watcher):
            wait_for(lambda: watcher._observer is not None, message="the observer")
            names = [_write_on_the_other_side(server, tmp_path, i) for i in (1, 2, 3)]
            wait_for(lambda: all(_statuses(rt).get(n) == "archived" for n in names), timeout=60,
                     message="every file written on the other side")
        assert not [p for p in server.iterdir() if not p.name.startswith(".")]


def test_doctor_advises_polling_for_an_inbox_on_a_share(tmp_path):
    root = make_workspace(tmp_path)
    with shared_inbox(root, tmp_path / "server" / "inbox"):
        report = diagnose(load_settings(root))
    events = [f for f in report.findings if f.check == "文件事件"]
    assert events and events[0].level == "警告" and "poll" in events[0].message


def test_share_vanishing_and_coming_back_neither_kills_the_watcher_nor_loses_a_file(tmp_path):
    root = make_workspace(tmp_path, sweep_seconds=1.0)
    server = tmp_path / "server" / "inbox"
    with shared_inbox(root, server):
        with running_watcher(root, poll_seconds=0.3) as (rt, watcher):
            first = _write_on_the_other_side(server, tmp_path, 1)
            wait_for(lambda: _statuses(rt).get(first) == "archived", timeout=60, message="the first file")
            _unmount(root / "inbox")  # the share drops off the network
            second = _write_on_the_other_side(server, tmp_path, 2)  # written on the server meanwhile
            passes = watcher.stats.passes
            wait_for(lambda: watcher.stats.passes > passes + 2, timeout=60, message="passes while the share is gone")
            assert second not in _statuses(rt)
            _mount(server, root / "inbox")  # and comes back
            wait_for(lambda: _statuses(rt).get(second) == "archived", timeout=60, message="the file written meanwhile")
            third = _write_on_the_other_side(server, tmp_path, 3)
            wait_for(lambda: _statuses(rt).get(third) == "archived", timeout=60, message="a file after the remount")
            assert watcher._observer is not None and watcher._observer.is_alive()
    assert sorted(_names(root)) == sorted([first, second, third]), "each file once"


def _names(root: Path) -> list[str]:
    from automation.runtime import open_runtime

    rt = open_runtime(root)
    try:
        with rt.store.read() as conn:
            return [r.name for r in conn.execute(select(s.submissions.c.name))]
    finally:
        rt.close()


def test_watch_start_up_message_advises_polling_on_a_share(tmp_path):
    import signal
    import sys

    root = make_workspace(tmp_path)
    with shared_inbox(root, tmp_path / "server" / "inbox"):
        proc = subprocess.Popen([sys.executable, "-m", "automation", "watch", "--workspace", str(root)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        try:
            wait_for(lambda: (root / ".officeflow" / "state.db").exists(), timeout=60, message="the watcher to start")
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err
    assert "建议改用轮询" in out and "--poll" in out


def test_a_copy_that_stalls_mid_file_over_a_share_is_not_taken_in_before_it_is_complete(tmp_path):
    """Polling has no close event; Office files whose zip end proves them complete are read after the short
    ``poll_quiet_seconds``. A copy on the other side of the share that stalls — before its first byte, mid-entries,
    before and inside the central directory, ten bytes before the end — for longer than that, and longer than
    the full quiet period, is never taken in until its last byte is there."""
    root = make_workspace(tmp_path, sweep_seconds=600.0, quiet_seconds=1.0)
    form = fill_xlsx(build_blank("customer_registration", tmp_path / "blank"), samples.customer_registration(7, date.today()))
    data = form.read_bytes()
    directory = data.rindex(b"PK\x05\x06") - int.from_bytes(data[-10:-6], "little")  # where the central directory starts
    cuts = [0, 1500, len(data) // 2, directory, directory + 60, len(data) - 10]
    name = "慢慢复制.xlsx"
    with shared_inbox(root, tmp_path / "server" / "inbox") as server:
        with running_watcher(root, poll_seconds=0.3) as (rt, watcher):
            short, quiet = rt.settings.watch.poll_quiet_seconds, rt.settings.watch.quiet_seconds
            assert short < quiet
            seen = root / "inbox" / name
            with open(server / name, "wb") as fh:
                for start, end in zip(cuts, [*cuts[1:], len(data)]):
                    fh.write(data[start:end])
                    fh.flush()
                    os.fsync(fh.fileno())
                    if end == len(data):
                        break
                    size = end
                    # stalled, until the watcher has seen this very state for longer than both quiet periods ...
                    wait_for(lambda: os.stat(seen).st_size == size and (watcher.tracker.quiet_for(seen) or 0) > quiet + 0.2,
                             timeout=60, interval=0.02, message=f"the watcher to see the copy stalled at {size} bytes")
                    passes = watcher.stats.passes
                    wait_for(lambda: watcher.stats.passes >= passes + 2, timeout=60, message="two more passes")
                    # ... and it is still waiting: nothing taken in
                    assert name not in _statuses(rt), f"taken in at {size} of {len(data)} bytes"
                    assert (server / name).exists()
            wait_for(lambda: _statuses(rt).get(name) == "archived", timeout=60, message="the complete copy")
            with rt.store.read() as conn:
                sizes = [r.size for r in conn.execute(select(s.submissions.c.size))]
    assert sizes == [len(data)], "read once, complete"

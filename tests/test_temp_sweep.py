"""Temporary files a killed writer left: swept at once when its process is known to have ended,
otherwise only once older than a lease (another worker sharing the folder may be writing it)."""

from __future__ import annotations

import os
import subprocess
import sys

from automation import fsutil


def _ended_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_sweep_takes_at_once_only_what_an_ended_process_of_this_machine_wrote(tmp_path):
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        tag = fsutil.temp_prefix().split("-")[2]  # .officeflow-tmp-<machine>-<pid>-
        dead = tmp_path / f"{fsutil.TEMP_PREFIX}{tag}-{_ended_pid()}-abc.xlsx"
        alive = tmp_path / f"{fsutil.TEMP_PREFIX}{tag}-{live.pid}-abc.xlsx"
        mine = tmp_path / f"{fsutil.temp_prefix()}abc.xlsx"
        other_machine = tmp_path / f"{fsutil.TEMP_PREFIX}0000beef-{_ended_pid()}-abc.xlsx"
        untagged = tmp_path / f"{fsutil.TEMP_PREFIX}doctor-1"
        for p in (dead, alive, mine, other_machine, untagged):
            p.write_bytes(b"x")
        assert fsutil.sweep_temp_files(tmp_path, min_age_seconds=600) == 1
        assert not dead.exists()
        assert alive.exists() and mine.exists() and other_machine.exists() and untagged.exists()
        old = 1_000_000_000
        for p in (alive, mine, other_machine, untagged):
            os.utime(p, (old, old))
        assert fsutil.sweep_temp_files(tmp_path, min_age_seconds=600) == 4  # past the age: all of them
    finally:
        live.kill()
        live.wait()


def test_atomic_writes_name_their_temporary_file_for_this_process(tmp_path):
    seen = []
    with fsutil.atomic_target(tmp_path / "out.xlsx") as tmp:
        seen.append(tmp.name)
        tmp.write_bytes(b"x")
    assert seen[0].startswith(fsutil.temp_prefix())
    assert (tmp_path / "out.xlsx").read_bytes() == b"x"

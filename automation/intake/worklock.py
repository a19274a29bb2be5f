"""One processor per workspace on this store: a second ``watch`` or ``process`` waits or stops.

An OS file lock (released by the OS if the process dies, even by kill -9), so a
crash never leaves a stale lock behind.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from automation.errors import WorkspaceError

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt  # imported by platform: exists on Windows only

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
else:
    import fcntl  # imported by platform: exists on POSIX only

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False


@contextmanager
def worker_lock(state_dir: Path, wait_seconds: float = 10.0) -> Iterator[None]:
    state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(state_dir / "worker.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_seconds
        while not _try_lock(fd):
            if time.monotonic() > deadline:
                raise WorkspaceError("另一个 OfficeFlow 进程正在处理此工作区(officeflow watch 或 process)。"
                                     "请等它结束,或先停止它再运行。")
            time.sleep(0.2)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def is_held(state_dir: Path) -> bool:
    """True while some process (a watcher, a service, a ``process`` run) holds the workspace's lock."""
    path = Path(state_dir) / "worker.lock"
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        return not _try_lock(fd)
    finally:
        os.close(fd)  # releases the lock if we just took it

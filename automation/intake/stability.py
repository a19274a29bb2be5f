"""A file is read only once its size and modification time stop changing.

Copies over SMB often keep the source's modification time while the size still
grows, so "old mtime" alone proves nothing: we need the same (size, mtime) seen
across a full quiet period.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float  # monotonic time at which this (size, mtime) was first seen
    first_seen: float  # wall-clock time the file was first noticed (for the submission record)


class StabilityTracker:
    def __init__(self, quiet_seconds: float, monotonic: Callable[[], float] = time.monotonic):
        self.quiet = quiet_seconds
        self.monotonic = monotonic
        self._seen: dict[Path, _Seen] = {}

    def check(self, path: Path) -> bool:
        """True once ``path`` has kept its size and mtime for the quiet period."""
        try:
            st = os.lstat(path)  # never follow a symlink, never open a FIFO
        except OSError:
            self._seen.pop(path, None)
            return False
        now = self.monotonic()
        seen = self._seen.get(path)
        if seen is None or (seen.size, seen.mtime_ns) != (st.st_size, st.st_mtime_ns):
            first = seen.first_seen if seen else time.time()
            self._seen[path] = _Seen(st.st_size, st.st_mtime_ns, now, first)
            return self.quiet <= 0
        return now - seen.since >= self.quiet

    def first_seen(self, path: Path) -> float | None:
        seen = self._seen.get(path)
        return seen.first_seen if seen else None

    def forget(self, path: Path) -> None:
        self._seen.pop(path, None)

    def prune(self, present: set[Path]) -> None:
        for path in list(self._seen):
            if path not in present:
                del self._seen[path]

    def time_left(self, path: Path) -> float:
        seen = self._seen.get(path)
        if seen is None:
            return self.quiet
        return max(0.0, self.quiet - (self.monotonic() - seen.since))

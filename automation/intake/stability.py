"""A file is read only once its size and modification time stop changing.

Copies over SMB often keep the source's modification time while the size still
grows, so "old mtime" alone proves nothing: we need the same (size, mtime) seen
across a full quiet period.

Where the platform says a writer closed the file (inotify's close-after-write on a
local Linux disk, or a rename that put a finished file in place), that is proof
enough: ``closed`` records the file's (size, mtime) at that moment, and the file
is stable at once while it still has them. Any later change falls back to the
quiet period. Polling and network shares give no such event and keep the wait.
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
        self._closed: dict[Path, tuple[int, int]] = {}  # written by the observer thread, read here

    def closed(self, path: Path) -> None:
        """A writer closed ``path`` (or it was renamed into place): stable while unchanged since."""
        try:
            st = os.lstat(path)
        except OSError:
            self._closed.pop(path, None)
            return
        self._closed[path] = (st.st_size, st.st_mtime_ns)

    def changed(self, path: Path) -> None:
        """Written again after its close: the quiet period applies until the next close."""
        self._closed.pop(path, None)

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
            return self.quiet <= 0 or self._closed.get(path) == (st.st_size, st.st_mtime_ns)
        return now - seen.since >= self.quiet or self._closed.get(path) == (st.st_size, st.st_mtime_ns)

    def due_in(self) -> float | None:
        """Seconds until the next file still inside its quiet period has had all of it (None: no file is).

        A loop waiting for files to settle looks again at that moment, not on a fixed beat that would
        overshoot the quiet period by up to a beat; the guarantee (unchanged for ``quiet`` seconds,
        measured from the first sight of the unchanged stat) is ``check``'s, unchanged."""
        now = self.monotonic()
        left = [seen.since + self.quiet - now for seen in self._seen.values() if seen.since + self.quiet > now]
        return min(left) if left else None

    def snapshot(self, path: Path) -> tuple[int, int] | None:
        """(size, mtime_ns) the file kept while it was judged stable."""
        seen = self._seen.get(path)
        return (seen.size, seen.mtime_ns) if seen else None

    def first_seen(self, path: Path) -> float | None:
        seen = self._seen.get(path)
        return seen.first_seen if seen else None

    def forget(self, path: Path) -> None:
        self._seen.pop(path, None)
        self._closed.pop(path, None)

    def prune(self, present: set[Path]) -> None:
        for path in list(self._seen):
            if path not in present:
                del self._seen[path]
        for path in list(self._closed):
            if path not in present:
                self._closed.pop(path, None)


def changed_since(path: Path, seen: tuple[int, int] | None) -> bool:
    """``path`` no longer has the (size, mtime_ns) it was judged stable with, or is gone (renamed
    inside the inbox, say: under its new name it is a new entry, to be listed again)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return seen is not None and (st.st_size, st.st_mtime_ns) != seen

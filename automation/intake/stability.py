"""A file is read only once its size and modification time stop changing.

Copies over SMB often keep the source's modification time while the size still
grows, so "old mtime" alone proves nothing: we need the same (size, mtime) seen
across a full quiet period.

Where the platform says a writer closed the file (inotify's close-after-write on a
local Linux disk, or a rename that put a finished file in place), that is proof
enough: ``closed`` records the file's (size, mtime) at that moment, and the file
is stable at once while it still has them. Any later change falls back to the
quiet period. Polling and network shares give no such event and keep the wait.

Where there is no close event, the tracker can be given a shorter ``settled`` period
for Office files (``[watch] poll_quiet_seconds``): an .xlsx/.docx is a zip whose
directory is written last, so a copy that is still under way — or that stalled
mid-file — lacks the end-of-central-directory record at its end, or declares entries
that are not (yet) there. Such a file is never taken in after the short period: it
waits, unchanged, for ``patience`` seconds (a copy stalled that long is judged as it
stands, with the usual clear answer for a damaged file). A zip whose end proves it
complete is stable after ``settled`` seconds; every other file (not a zip, or one
this check cannot vouch for) after the full quiet period, as before.
"""

from __future__ import annotations

import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

COMPLETE, INCOMPLETE, UNKNOWN = "complete", "incomplete", "unknown"
ZIP_SUFFIXES = frozenset({".xlsx", ".docx", ".xlsm", ".docm", ".xltx", ".dotx", ".zip"})
_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_MAX_TAIL = _EOCD_SIZE + 0xFFFF  # the record and the longest comment it may carry
_MAX_DIRECTORY = 1 << 20  # a bigger central directory is not read here: UNKNOWN, the full quiet period
_MAX_ENTRIES = 4096


def zip_state(path: Path) -> str:
    """Whether the zip at ``path`` (an Office file) has been written to its end, judged from its end:

    INCOMPLETE — a zip by its name or its first bytes, but empty, without an end-of-central-directory
    record ending exactly at the end of the file, or with a directory or entries that run past what is
    there (or are not there: zeros where a preallocating copy has not written yet);
    COMPLETE — the record, the directory it points at and the start of every entry it lists are in place;
    UNKNOWN — not a zip, ZIP64, or too big to vouch for here. Reads at most the file's last 64 KiB,
    its central directory and four bytes per entry; never raises for a bad file."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(4)
            if path.suffix.lower() not in ZIP_SUFFIXES and head[:2] != b"PK":
                return UNKNOWN
            if size < _EOCD_SIZE:
                return INCOMPLETE
            tail_size = min(size, _MAX_TAIL)
            fh.seek(size - tail_size)
            tail = fh.read(tail_size)
            at = _eocd_in(tail)
            if at is None:
                return INCOMPLETE
            eocd = size - tail_size + at
            (_, disk, cd_disk, _, entries, cd_size, cd_offset, _) = struct.unpack_from("<4sHHHHIIH", tail, at)
            if disk or cd_disk or entries == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
                return UNKNOWN  # split or ZIP64: not vouched for here
            if cd_offset + cd_size != eocd:
                return INCOMPLETE  # a directory that does not end where the record starts
            if cd_size > _MAX_DIRECTORY or entries > _MAX_ENTRIES:
                return UNKNOWN
            fh.seek(cd_offset)
            directory = fh.read(cd_size)
            return _entries_in_place(fh, directory, entries, cd_offset)
    except OSError:
        return UNKNOWN
    except struct.error:
        return INCOMPLETE


def _eocd_in(tail: bytes) -> int | None:
    """Where the end-of-central-directory record starts in ``tail`` — the one whose comment ends exactly
    at the end of the file (a copy cut short ends anywhere else)."""
    at = tail.rfind(_EOCD)
    while at >= 0:
        if len(tail) - at >= _EOCD_SIZE:
            (comment,) = struct.unpack_from("<H", tail, at + 20)
            if at + _EOCD_SIZE + comment == len(tail):
                return at
        at = tail.rfind(_EOCD, 0, at)
    return None


def _entries_in_place(fh, directory: bytes, entries: int, cd_offset: int) -> str:
    pos = 0
    for _ in range(entries):
        if directory[pos:pos + 4] != b"PK\x01\x02" or pos + 46 > len(directory):
            return INCOMPLETE
        packed, = struct.unpack_from("<I", directory, pos + 20)
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", directory, pos + 28)
        local, = struct.unpack_from("<I", directory, pos + 42)
        if packed == 0xFFFFFFFF or local == 0xFFFFFFFF:
            return UNKNOWN
        if local + 30 + packed > cd_offset:
            return INCOMPLETE  # an entry that runs into the directory, or past it
        fh.seek(local)
        if fh.read(4) != b"PK\x03\x04":
            return INCOMPLETE  # not (yet) written there
        pos += 46 + name_len + extra_len + comment_len
    return COMPLETE if pos == len(directory) else INCOMPLETE


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float  # monotonic time at which this (size, mtime) was first seen
    first_seen: float  # wall-clock time the file was first noticed (for the submission record)
    state: str | None = None  # zip_state of this (size, mtime), once asked


class StabilityTracker:
    def __init__(self, quiet_seconds: float, monotonic: Callable[[], float] = time.monotonic, *,
                 settled: float | None = None, patience: float | None = None):
        """``settled`` (shorter than ``quiet_seconds``): an Office file whose end proves it complete is
        stable after that long; one still being written (``zip_state`` INCOMPLETE) waits ``patience``
        seconds (at least the quiet period). Without ``settled`` every file has the quiet period."""
        self.quiet = quiet_seconds
        self.monotonic = monotonic
        self.settled = settled if settled is not None and settled < quiet_seconds else None
        self.patience = max(quiet_seconds, patience or 0.0)
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
        """True once ``path`` has kept its size and mtime for the quiet period (see ``settled``)."""
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
        if self._closed.get(path) == (st.st_size, st.st_mtime_ns):
            return True
        quiet = now - seen.since
        if self.settled is None:
            return quiet >= self.quiet
        if quiet < self.settled:
            return False
        if seen.state is None:  # asked once per (size, mtime): it cannot change while they do not
            seen.state = zip_state(path)
        return quiet >= {COMPLETE: self.settled, INCOMPLETE: self.patience}.get(seen.state, self.quiet)

    def _wait_of(self, seen: _Seen) -> float:
        """How long ``seen`` must stay unchanged, as far as known now."""
        if self.settled is None:
            return self.quiet
        return {None: self.settled, COMPLETE: self.settled, INCOMPLETE: self.patience}.get(seen.state, self.quiet)

    def due_in(self) -> float | None:
        """Seconds until the next file still inside its quiet period has had all of it (None: no file is).

        A loop waiting for files to settle looks again at that moment, not on a fixed beat that would
        overshoot the quiet period by up to a beat; the guarantee (unchanged for ``quiet`` seconds,
        measured from the first sight of the unchanged stat) is ``check``'s, unchanged."""
        now = self.monotonic()
        left = [seen.since + wait - now for seen in self._seen.values()
                if seen.since + (wait := self._wait_of(seen)) > now]
        return min(left) if left else None

    def quiet_for(self, path: Path) -> float | None:
        """Seconds ``path`` has been seen with its present (size, mtime) so far; None if not being watched."""
        seen = self._seen.get(path)
        return None if seen is None else self.monotonic() - seen.since

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

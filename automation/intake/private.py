"""One private copy per file: the bytes hashed, parsed and archived are the same bytes.

A file in inbox/ belongs to whoever can write to the share: it may be rewritten
or swapped between our reading it and our moving it. So it is opened once
(never through a symlink, never blocking on a FIFO), streamed into a private
copy under ``.officeflow/intake/<submission>/`` while being hashed, and from
then on only the copy is parsed and, at the end, moved to archive/ (or
returned/, quarantine/). The original is retired only if it still holds the
bytes we hashed; otherwise it stays in inbox/ and is taken in as a new arrival.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from automation.fsutil import TEMP_PREFIX, temp_prefix

CHUNK = 1 << 20
OFFICE_SUFFIXES = (".xlsx", ".docx", ".xlsm", ".docm", ".xls", ".doc", ".zip")
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


class NotRegularFile(Exception):
    """The entry turned out to be a symlink, FIFO, socket or device when opened."""

    def __init__(self, st: os.stat_result | None):
        super().__init__("not a regular file")
        self.st = st


class ChangedWhileReading(Exception):
    """The file grew, shrank, was saved or was replaced while we read it."""


@dataclass
class Taken:
    sha256: str
    size: int
    temp: Path | None  # the private copy (None when the file exceeds the copy limit)
    mtime_ns: int = 0  # of the bytes copied (the descriptor's, unchanged during the copy)


def intake_folder(state: Path) -> Path:
    return state / "intake"


def open_regular(path: Path) -> tuple[int, os.stat_result]:
    """A descriptor on ``path`` if (and only if) it is a regular file; never follows a link."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if _is_link_refusal(exc, path):
            raise NotRegularFile(_lstat(path)) from exc
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise NotRegularFile(st)
    return fd, st


def _is_link_refusal(exc: OSError, path: Path) -> bool:
    st = _lstat(path)
    return st is not None and not stat.S_ISREG(st.st_mode)


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def take_copy(path: Path, state: Path, max_copy_bytes: int) -> Taken:
    """Hash ``path`` and stream it into a private temporary copy, from one descriptor."""
    fd, before = open_regular(path)
    folder = intake_folder(state)
    folder.mkdir(parents=True, exist_ok=True)
    tmp_fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(), dir=folder)
    temp: Path | None = Path(tmp_name)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "rb") as src, os.fdopen(tmp_fd, "wb") as out:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                if size <= max_copy_bytes:
                    out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
            after = os.fstat(src.fileno())
        _check_unchanged(path, before, after, size)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    if size > max_copy_bytes:
        temp.unlink(missing_ok=True)
        temp = None
    return Taken(digest.hexdigest(), size, temp, after.st_mtime_ns)


def _check_unchanged(path: Path, before: os.stat_result, after: os.stat_result, size: int) -> None:
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or size != after.st_size:
        raise ChangedWhileReading(path)
    now = _lstat(path)
    if now is None or (now.st_dev, now.st_ino) != (after.st_dev, after.st_ino):
        raise ChangedWhileReading(path)


def place(temp: Path, state: Path, submission_id: int, name: str) -> Path:
    """Give the temporary copy its submission's folder (any earlier copy is replaced)."""
    folder = intake_folder(state) / str(submission_id)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    dest = folder / name
    os.replace(temp, dest)
    return dest


def copy_of(state: Path, submission_id: int) -> Path | None:
    folder = intake_folder(state) / str(submission_id)
    if not folder.is_dir():
        return None
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(TEMP_PREFIX))
    return files[0] if files else None


def kept(state: Path, submission_id: int) -> bool:
    """Whether the submission's private folder is still there (from its copy until its original is retired)."""
    return (intake_folder(state) / str(submission_id)).is_dir()


def discard(state: Path, submission_id: int) -> None:
    shutil.rmtree(intake_folder(state) / str(submission_id), ignore_errors=True)


def with_kind(path: Path, kind: str) -> Path:
    """The copy renamed so its suffix says what its content is (readers check suffixes)."""
    suffix = f".{kind}"
    if path.suffix.lower() == suffix or path.parent.parent.name != "intake":
        return path  # only our private copy is ever renamed, never an archived original
    target = path.with_suffix(suffix) if path.suffix.lower() in OFFICE_SUFFIXES else path.with_name(path.name + suffix)
    os.replace(path, target)
    return target


def retire_original(src: Path, sha256: str) -> bool:
    """Remove ``src`` from the inbox if it still holds exactly the bytes archived.

    Returns False (and leaves the file) if it is gone, is no longer a regular
    file, or holds other bytes: then it is a new arrival for the next pass.
    """
    try:
        fd, st = open_regular(src)
    except (NotRegularFile, FileNotFoundError):
        return False
    digest = hashlib.sha256()
    with os.fdopen(fd, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
        after = os.fstat(fh.fileno())
    now = _lstat(src)
    same = (digest.hexdigest() == sha256 and now is not None
            and (now.st_dev, now.st_ino, now.st_size, now.st_mtime_ns)
            == (after.st_dev, after.st_ino, after.st_size, after.st_mtime_ns) == (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
    if same:
        os.unlink(src)
    return same


def is_regular(path: Path) -> bool:
    st = _lstat(path)
    return st is not None and stat.S_ISREG(st.st_mode)

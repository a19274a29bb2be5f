"""One file, opened once while a submission is judged: its bytes read once, its zip directory parsed once.

The safety scan, the Strict check, the size check of the reading budget, identification and
extraction each look into the same package. Outside a ``sharing()`` scope every call below
reads the file afresh, exactly as a plain ``open`` / ``zipfile.ZipFile(path)`` would. Inside
one (``pipeline.verdict`` opens it around the judging of one file), the first look reads the
file's bytes and parses its central directory, and every later look at the same, unchanged
file — same size, modification and change time, inode — shares them. A file replaced
meanwhile (the Strict conversion swaps in a new file) is read anew. The scope belongs to its
thread; files over ``MAX_SHARED_BYTES`` are never held (intake refuses far smaller ones anyway).

    with sharing():
        with open_zip(path) as archive:   # shared: do not close it yourself
            ...
        data = read_bytes(path)
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import threading
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

MAX_SHARED_BYTES = 32 * 1024 * 1024
MAX_KEPT_PART_BYTES = 64 * 1024 * 1024  # inflated parts kept per shared file (``keep_part``), at most
_PARTS = "_officeflow_parts"  # the attribute of a shared ZipFile holding its kept parts
_KEPT_BYTES = "_officeflow_kept_bytes"  # … and their total size
_SCOPE = threading.local()


class Opened:
    """A file's bytes and, once asked for, the zip directory over them and their SHA-256."""

    def __init__(self, data: bytes, stamp: tuple):
        self.data, self.stamp = data, stamp
        self._zip: zipfile.ZipFile | None = None
        self._sha256: bytes | None = None

    @property
    def zip(self) -> zipfile.ZipFile:
        if self._zip is None:
            self._zip = zipfile.ZipFile(io.BytesIO(self.data))
            setattr(self._zip, _PARTS, {})  # entry (ZipInfo) → its inflated bytes, CRC-checked (keep_part)
        return self._zip

    @property
    def sha256(self) -> bytes:
        if self._sha256 is None:
            self._sha256 = hashlib.sha256(self.data).digest()
        return self._sha256

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


@contextmanager
def sharing() -> Iterator[None]:
    """Within: each unchanged file is read and its zip directory parsed once (nested scopes join the outer)."""
    if getattr(_SCOPE, "files", None) is not None:
        yield
        return
    _SCOPE.files = {}
    try:
        yield
    finally:
        files, _SCOPE.files = _SCOPE.files, None
        for found in files.values():
            found.close()


def _stamp(path: Path) -> tuple:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev, stat.S_ISREG(st.st_mode)


def opened(path) -> Opened | None:
    """The shared reading of ``path`` inside a ``sharing()`` scope; None outside one, or for a file
    too big to hold. Raises OSError as reading the file would."""
    files = getattr(_SCOPE, "files", None)
    if files is None:
        return None
    key = os.path.abspath(path)  # (no Path built: asked several times per file, by every stage)
    stamp = _stamp(key)
    found = files.get(key)
    if found is not None and found.stamp == stamp:
        return found
    if stamp[0] > MAX_SHARED_BYTES or not stamp[-1]:  # (a FIFO or a device is never read ahead)
        return None
    with open(key, "rb") as stream:
        data = stream.read()
    if len(data) != stamp[0] or _stamp(key) != stamp:  # changed while it was read: not shared
        return None
    if found is not None:
        found.close()
    files[key] = found = Opened(data, stamp)
    return found


def read_bytes(path) -> bytes:
    """``Path(path).read_bytes()``, shared inside a scope."""
    found = opened(path)
    return found.data if found is not None else Path(path).read_bytes()


@contextmanager
def open_zip(path) -> Iterator[zipfile.ZipFile]:
    """``zipfile.ZipFile(path)`` for reading; inside a scope the shared one (left open for the next look)."""
    found = opened(path)
    if found is None:
        with zipfile.ZipFile(path) as archive:
            yield archive
        return
    yield found.zip


def keep_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes) -> None:
    """Remember ``data`` as the inflated bytes of entry ``info`` of a shared zip — only bytes read from it
    to its end, so that zipfile has checked their CRC (the safety scan reads every XML part so). The
    readers after it (identification, the lean Excel reader, the Word body) take them through
    ``read_part`` instead of inflating the entry again. Nothing is kept for a zip outside a scope."""
    parts = getattr(archive, _PARTS, None)
    if parts is None or len(data) != info.file_size:
        return
    # (the bytes kept so far counted as they are kept: summing them for each part cost as much as keeping them)
    total = getattr(archive, _KEPT_BYTES, 0) - len(parts.get(info, b""))
    if total + len(data) <= MAX_KEPT_PART_BYTES:
        parts[info] = data
        setattr(archive, _KEPT_BYTES, total + len(data))


def kept_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | None:
    """The bytes ``keep_part`` kept for entry ``info`` (read whole, their CRC checked), or None."""
    parts = getattr(archive, _PARTS, None)
    return parts.get(info) if parts else None


def read_part(archive: zipfile.ZipFile, name) -> bytes:
    """``archive.read(name)`` (a name or a ZipInfo): the same entry (``getinfo``), the same bytes —
    those the safety scan kept for it when there are any."""
    parts = getattr(archive, _PARTS, None)
    if parts:
        found = parts.get(name if isinstance(name, zipfile.ZipInfo) else archive.getinfo(name))
        if found is not None:
            return found
    return archive.read(name)


def raw_stream(path):
    """``open(path, "rb")``: inside a scope a stream over the shared bytes."""
    found = opened(path)
    return io.BytesIO(found.data) if found is not None else open(path, "rb")

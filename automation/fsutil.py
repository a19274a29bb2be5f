"""File operations that never leave a half-written or half-moved file behind.

Every output is written to a temporary file in the destination folder and then
swapped in with ``os.replace`` (atomic on one volume). Temporary files carry a
recognisable prefix so that a run killed half-way can sweep them up on restart.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import socket
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

TEMP_PREFIX = ".officeflow-tmp-"
# Temporary files are named for the machine and the process writing them, so that a sweep can take
# a killed writer's left-overs at once instead of waiting until no live writer could still own them.
_HOST_TAG = hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]
_WRITER = re.compile(re.escape(TEMP_PREFIX) + r"([0-9a-f]{8})-(\d+)-")
MAX_NAME_BYTES = 200
_RESERVED = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def temp_prefix() -> str:
    """The prefix of this process's temporary files: ``TEMP_PREFIX``, the machine, the process id."""
    return f"{TEMP_PREFIX}{_HOST_TAG}-{os.getpid()}-"


def _writer_is_gone(name: str) -> bool:
    """True only when the temporary file was written by a process of this machine that has ended."""
    m = _WRITER.match(name)
    if m is None or m.group(1) != _HOST_TAG or os.name == "nt":  # os.kill(pid, 0) would end it on Windows
        return False
    pid = int(m.group(2))
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, another user's
        return False
    return False


def safe_name(text: str, limit: int = 80, fallback: str = "未命名") -> str:
    """A file-name part safe on Windows, macOS and Linux: no separators, no reserved names."""
    cleaned = _RESERVED.sub("_", str(text)).strip().strip(".")
    cleaned = re.sub(r"\s+", " ", cleaned)
    if cleaned.upper() in _WINDOWS_RESERVED:
        cleaned = f"_{cleaned}"
    cleaned = cleaned[:limit]
    while len(cleaned.encode("utf-8")) > MAX_NAME_BYTES:  # most file systems cap a name at 255 bytes
        cleaned = cleaned[:-1]
    return cleaned.rstrip(" .") or fallback


def unique_path(folder: Path, name: str) -> Path:
    """``folder/name``, or ``name (2)``, ``name (3)``… if taken."""
    candidate = folder / name
    stem, suffix = _split_name(name)
    n = 2
    while candidate.exists():
        candidate = folder / f"{stem} ({n}){suffix}"
        n += 1
    return candidate


def _split_name(name: str) -> tuple[str, str]:
    for double in (".原因.txt",):
        if name.endswith(double):
            return name[: -len(double)], double
    path = Path(name)
    return path.stem, path.suffix


_GUARDED: set[Path] = set()
# The same roots as text, for the prefix test on POSIX: refuse_links runs before every write, and
# walking pathlib's parents cost more than its few lstat calls.
_GUARDED_TEXT: set[str] = set()


def guard_folders(*folders: Path) -> None:
    """Folders (resolved, as the settings give them) below which nothing is written through a link."""
    for f in folders:
        root = Path(os.path.abspath(f))
        _GUARDED.add(root)
        _GUARDED_TEXT.add(str(root))


def refuse_links(folder: Path) -> None:
    """Raise ``OSError(ELOOP)`` if ``folder`` lies below a guarded workspace folder and a symlink or
    junction has since appeared between the two — say ``outbox/quarantine`` swapped for a link to a
    system folder, which would let whoever drops a file choose where its bytes are written.
    Every step from the root down to ``folder`` (both included) is checked."""
    if os.name == "nt":  # case-insensitive names, drives: pathlib's comparison
        return _refuse_links_by_parts(folder)
    text = str(Path(os.path.abspath(folder)))
    for root in _GUARDED_TEXT:
        if text == root:
            rest = ""
        elif text.startswith(root if root.endswith(os.sep) else root + os.sep):
            rest = text[len(root):]
        else:
            continue
        step = root
        _refuse_link(step)
        for part in rest.split(os.sep):
            if part:
                step = os.path.join(step, part)
                _refuse_link(step)


def _refuse_links_by_parts(folder: Path) -> None:
    folder = Path(os.path.abspath(folder))
    for root in _GUARDED:
        if folder == root or root in folder.parents:
            below = [folder, *folder.parents]
            for step in reversed(below[:below.index(root) + 1]):
                _refuse_link(str(step))


def _refuse_link(step: str) -> None:
    if os.path.islink(step) or _is_junction(step):
        raise OSError(errno.ELOOP, "文件夹是快捷方式(符号链接),不会通过它写入文件", step)


def _is_junction(path: Path) -> bool:
    check = getattr(os.path, "isjunction", None)  # Python 3.12+, Windows junctions
    return bool(check and check(path))


@contextmanager
def atomic_target(dest: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; replace ``dest`` with it only on success.
    Never through a folder that has become a link (``refuse_links``)."""
    refuse_links(dest.parent)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(), suffix=dest.suffix, dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        _fsync_file(tmp_path)
        # mkstemp makes the file private; outputs are read by the whole office.
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, dest)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    # Read by setting it and setting it back: two threads doing so at once could leave it at 0.
    with _UMASK_LOCK:
        current = os.umask(0)
        os.umask(current)
    return current


def atomic_write_bytes(dest: Path, data: bytes) -> Path:
    """``atomic_target``'s steps for bytes already in memory, on the one descriptor ``mkstemp`` opened:
    task files and receipts are written so, hundreds a pass, and opening each temporary file twice
    more (to write, to fsync) cost more than writing it."""
    dest = Path(dest)
    refuse_links(dest.parent)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(), suffix=dest.suffix, dir=dest.parent)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            try:
                os.fsync(fd)
            except OSError:
                pass  # (as _fsync_file: a file system without fsync still gets the file)
            # mkstemp makes the file private; outputs are read by the whole office.
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o666 & ~_umask())
        finally:
            os.close(fd)
        if not hasattr(os, "fchmod"):
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return dest


def atomic_write_text(dest: Path, text: str) -> Path:
    # UTF-8 with BOM so that Windows Notepad and Excel show Chinese correctly.
    return atomic_write_bytes(dest, ("\ufeff" + text).encode("utf-8"))


def atomic_save(dest: Path, save: Callable[[Path], object]) -> Path:
    """Run ``save(tmp_path)`` (e.g. ``workbook.save``) and swap the result in."""
    with atomic_target(dest) as tmp:
        save(tmp)
    return dest


def move_file(src: Path, dest: Path) -> Path:
    """Move ``src`` to ``dest`` atomically; across volumes copy, sync, swap in, then unlink.
    Never into a folder that has become a link (``refuse_links``)."""
    refuse_links(dest.parent)
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(src, dest)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        with atomic_target(dest) as tmp:
            shutil.copy2(src, tmp)
        src.unlink()
    return dest


def sweep_temp_files(folder: Path, min_age_seconds: float = 0.0) -> int:
    """Remove temporary files a killed run left behind. Returns how many.

    ``min_age_seconds``: only those untouched for that long (other workers sharing the
    folder may be writing theirs right now) — unless the process that wrote one, on this
    machine, has ended."""
    count = 0
    if not folder.exists():
        return 0
    cutoff = time.time() - min_age_seconds
    # os.walk, not rglob: a folder nested past the path-length limit (or vanishing meanwhile)
    # is skipped instead of raising out of the sweep and stopping the pass.
    found = (Path(top) / name for top, dirs, files in os.walk(folder, onerror=lambda exc: None)
             for name in (*files, *dirs) if name.startswith(TEMP_PREFIX))
    for path in found:
        try:
            if min_age_seconds and path.stat().st_mtime > cutoff and not _writer_is_gone(path.name):
                continue
            path.unlink()
            count += 1
        except OSError:
            pass
    return count


def _fsync_file(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def move_unique(path: Path, folder: Path) -> Path:
    """Move into ``folder`` without ever overwriting: 'x.xlsx' → 'x (2).xlsx' when taken."""
    return move_file(path, unique_path(folder, path.name))


def file_stamp(path: Path) -> str | None:
    """Size and modification time, to tell whether anyone saved a file since we last looked."""
    try:
        st = path.stat()
    except OSError:
        return None
    return f"{st.st_size}:{st.st_mtime_ns}"


def sha256_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size

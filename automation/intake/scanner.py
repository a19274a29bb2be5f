"""What is waiting in inbox/: every entry at any depth, minus lock and temp files.

Entries are listed with ``lstat`` and never opened here: a FIFO, socket, device
or symlink is listed too (so it can be refused with a reason) but never
followed — a symlinked folder is not descended into, whatever it points at.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from automation.fsutil import TEMP_PREFIX
from automation.intake.ignore import is_ignored


def list_inbox(inbox: Path) -> list[Path]:
    """Entries to consider, oldest first (so a burst is taken in the order it arrived)."""
    found: list[tuple[float, str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(inbox, followlinks=False, onerror=lambda exc: None):
        linked = [d for d in dirnames if _is_link(Path(dirpath) / d)]
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in linked]
        for name in (*filenames, *linked):
            path = Path(dirpath) / name
            if name.startswith(TEMP_PREFIX) or name == ".gitkeep" or is_ignored(path, inbox=inbox):
                continue
            try:
                st = os.lstat(path)
            except OSError:
                continue
            found.append((st.st_mtime, path.as_posix(), path))
    found.sort(key=lambda item: (item[0], os.fsencode(item[1])))
    return [p for _, _, p in found]


def _is_link(path: Path) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISLNK(st.st_mode) or _is_junction(path)


def _is_junction(path: Path) -> bool:
    check = getattr(os.path, "isjunction", None)  # Python 3.12+, Windows junctions
    return bool(check and check(path))

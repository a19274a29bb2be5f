"""What is waiting in inbox/: every regular file at any depth, minus lock and temp files."""

from __future__ import annotations

import os
from pathlib import Path

from automation.fsutil import TEMP_PREFIX
from automation.intake.ignore import is_ignored


def list_inbox(inbox: Path) -> list[Path]:
    """Files to consider, oldest first (so a burst is taken in the order it arrived)."""
    found: list[tuple[float, str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(inbox):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            path = Path(dirpath) / name
            if name.startswith(TEMP_PREFIX) or name == ".gitkeep" or is_ignored(path, inbox=inbox):
                continue
            try:
                st = path.stat()
            except OSError:
                continue
            found.append((st.st_mtime, str(path), path))
    found.sort()
    return [p for _, _, p in found]

"""Which files in inbox/ are not submissions at all: lock, temp and system files.

Office, WPS and LibreOffice write these beside a document while it is open or
being saved. Quarantining one would move it out from under the program that
owns it, so they are passed over silently. (A file that is still growing is
the stability stage's business, not this module's.)
"""

from __future__ import annotations

import re
from pathlib import Path, PurePath

# Shell-style name patterns, matched case-insensitively against the file name.
_NAME_PATTERNS = (
    r"~\$.*",  # Office/WPS owner file: ~$合同.docx
    r"\.~lock\..*#",  # LibreOffice lock: .~lock.合同.docx#
    r"\..*",  # hidden files, WPS .~合同.docx, macOS ._合同.docx and .DS_Store
    r".*\.tmp",  # Word ~WRL0001.tmp, LibreOffice lu123.tmp, WPS temp files
    r"[0-9a-f]{8}",  # Excel saves through an extensionless 8-hex-digit temp file
    r".*\.(crdownload|part|partial)",  # a browser still downloading
    r"desktop\.ini",
    r"thumbs\.db",
    r"icon\r",
)
_IGNORED_NAME = re.compile("|".join(f"(?:{p})" for p in _NAME_PATTERNS), re.IGNORECASE)


def is_ignored(path: Path, *, inbox: Path | None = None) -> bool:
    """True for lock, temp and system files, and for anything inside a hidden folder.

    Hidden folders are judged below ``inbox``: give it, or pass a path relative
    to the inbox. An absolute path without ``inbox`` is judged by its name only,
    because folders above the inbox (say ``~/.local``) are not the sender's doing.
    """
    path = PurePath(path)
    return _is_ignored_name(path.name) or any(_is_hidden(part) for part in _folders(path, inbox))


def _is_ignored_name(name: str) -> bool:
    return _IGNORED_NAME.fullmatch(name) is not None


def _is_hidden(folder: str) -> bool:
    return folder.startswith(".") and folder not in (".", "..")


def _folders(path: PurePath, inbox: Path | None) -> tuple[str, ...]:
    if inbox is not None:
        try:
            return path.relative_to(inbox).parts[:-1]
        except ValueError:
            return ()
    if path.is_absolute():
        return ()
    return path.parts[:-1]

"""File names exactly as the OS returns them, stored losslessly and shown readably.

On POSIX a name is bytes. Python hands an undecodable byte (a Chinese name
written by an old GBK client, or unpacked from a GBK zip) to us as a lone
surrogate (surrogateescape), which neither SQLite nor PostgreSQL nor a console
accepts. So a name is kept in two forms: ``stored`` (lossless text: unchanged
when it is valid Unicode, else a marked hex of the raw bytes) to find the file
again, and ``readable`` (GB18030 if the bytes decode so, else replacement
characters) for people and for the names of our own copies.
"""

from __future__ import annotations

import os

# A Unicode noncharacter: valid text in every store, never part of a real file name.
_RAW_MARK = "\ufdd0"


def is_lossless_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def stored(name: str) -> str:
    """Lossless text for a name or relative path as the OS returned it."""
    if is_lossless_text(name) and not name.startswith(_RAW_MARK):
        return name
    return _RAW_MARK + os.fsencode(name).hex()


def from_stored(text: str) -> str:
    """The OS name back from ``stored`` (surrogate escapes included)."""
    if text.startswith(_RAW_MARK):
        return os.fsdecode(bytes.fromhex(text[len(_RAW_MARK):]))
    return text


def readable(name: str) -> str:
    """What to show a person: the name itself, or its bytes read as GB18030 (else with �)."""
    if is_lossless_text(name):
        return name
    raw = os.fsencode(name)
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace")


# Room left under the usual 255-byte limit for " (12)" and ".原因.txt" beside a filed copy.
MAX_COPY_NAME_BYTES = 200


def clean_for_copy(name: str) -> str:
    """A readable name for our own copies: no trailing dots or spaces (Windows drops them,
    and a suffix like ``.xlsx.`` hides the real type), short enough for its companions."""
    text = readable(name).rstrip(" .\t") or "未命名"
    if len(text.encode("utf-8")) <= MAX_COPY_NAME_BYTES:
        return text
    stem, dot, suffix = text.rpartition(".")
    if not dot or len(suffix) > 10:
        stem, suffix = text, ""
    suffix = f".{suffix}" if suffix else ""
    while len((stem + "…" + suffix).encode("utf-8")) > MAX_COPY_NAME_BYTES:
        stem = stem[:-1]
    return stem + "…" + suffix

"""A zip entry's bytes as stored (still compressed), read without inflating them.

Task files are written by copying the form's compressed entries unchanged, so a part that recurs from
file to file (the blank form's styles.xml, its relationships) recurs as the very same stored bytes.
Comparing those bytes exactly with the stored bytes of a part already inflated and checked tells that
the part is the same — same compression method, same stored bytes: the same inflated bytes — at the
cost of a copy instead of an inflate. The CRC and sizes alone would not: they are easily forged.
"""

from __future__ import annotations

import zipfile


def stored_bytes(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | None:
    """The compressed bytes of entry ``info``, or None when they cannot be had plainly (an encrypted
    entry, a zipfile without the stream this relies on); the caller then inflates as before.

    ``zf.open`` reads and checks the entry's local header as for any read (its name must match the
    directory's), and leaves its stream at the first stored byte; nothing is decompressed."""
    if info.flag_bits & 0x1:
        return None
    with zf.open(info) as entry:
        stream = getattr(entry, "_fileobj", None)  # (zipfile's own positioned stream over the stored bytes)
        if stream is None:
            return None
        data = stream.read(info.compress_size)
    return data if len(data) == info.compress_size else None

"""The parts kept for a shared file stay within MAX_KEPT_PART_BYTES, counted as they are kept (a part kept
again replaces its bytes in the count, it is not counted twice)."""

from __future__ import annotations

import io
import zipfile

from automation.forms import opened


def _package(sizes: dict[str, int]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, size in sizes.items():
            zf.writestr(name, b"x" * size)
    return buffer.getvalue()


def test_kept_parts_stay_within_the_bound_counted_once_each(tmp_path, monkeypatch):
    monkeypatch.setattr(opened, "MAX_KEPT_PART_BYTES", 1000)
    path = tmp_path / "p.zip"
    path.write_bytes(_package({"a": 400, "b": 400, "c": 300, "d": 150}))
    with opened.sharing():
        archive = opened.opened(path).zip
        infos = {i.filename: i for i in archive.infolist()}
        for name in "aaab":  # a kept three times counts once: 800 bytes with b
            opened.keep_part(archive, infos[name], archive.read(name))
        opened.keep_part(archive, infos["c"], archive.read("c"))  # 1,100: over the bound, not kept
        opened.keep_part(archive, infos["d"], archive.read("d"))  # 950: kept
        kept = {info.filename for info in getattr(archive, opened._PARTS)}
        assert kept == {"a", "b", "d"}
        assert opened.kept_part(archive, infos["c"]) is None
        assert opened.read_part(archive, "c") == b"x" * 300  # (read from the zip instead)
        assert sum(len(d) for d in getattr(archive, opened._PARTS).values()) <= 1000

"""Each XML part of a submission is inflated once for all stages: the safety scan reads it to its end
(zipfile checks its CRC there) and keeps the bytes; identification, the lean Excel reader and the Word
body take them from it. What they read is byte for byte what a fresh zipfile read gives, and what a
submission reads as (spec, version, values) is the same with and without the kept parts."""

from __future__ import annotations

import zipfile
from datetime import date

from support.forms import build_blank, fill_docx, fill_xlsx, repo_specs

from automation import samples
from automation.forms import opened
from automation.intake import budget
from automation.intake.safety import PROVEN_MIN_BYTES, inspect_file
from automation.settings import Limits


def _forms(tmp_path):
    today = date.today()
    return [fill_xlsx(build_blank("customer_registration", tmp_path / "x"), samples.customer_registration(1, today)),
            fill_docx(build_blank("trip_request", tmp_path / "d"), samples.trip_request(today))]


def _identified(path, kind):
    spec, version, how, form = budget._read(path, kind, repo_specs())
    return spec.id, version, how, form.values, form.raw, dict(form.places), form.problems


def test_the_parts_the_safety_scan_inflated_are_the_bytes_every_reader_takes(tmp_path):
    for path in _forms(tmp_path):
        with zipfile.ZipFile(path) as fresh:
            expected = {info.filename: fresh.read(info) for info in fresh.infolist()}
        with opened.sharing():
            kind = inspect_file(path, Limits())
            archive = opened.opened(path).zip
            kept = getattr(archive, opened._PARTS)
            # (a big part — styles, stylesWithEffects — proven earlier in this process is not inflated again)
            xml = [n for n, data in expected.items()
                   if data.lstrip().startswith(b"<") and len(data) < PROVEN_MIN_BYTES]
            assert {i.filename for i in kept} >= set(xml)
            assert len(kept) >= 5
            for info, data in kept.items():
                assert data == expected[info.filename], info.filename
            for name in expected:
                assert opened.read_part(archive, name) == expected[name]
            read_here = _identified(path, kind)
        assert read_here == _identified(path, kind)  # outside a scope: every part inflated afresh, the same reading


def test_outside_a_scope_nothing_is_kept_and_reading_is_zipfiles(tmp_path):
    path = _forms(tmp_path)[0]
    inspect_file(path, Limits())
    with zipfile.ZipFile(path) as archive:
        assert not hasattr(archive, opened._PARTS)
        opened.keep_part(archive, archive.getinfo("[Content_Types].xml"), b"<x/>")  # (a no-op here)
        assert opened.read_part(archive, "[Content_Types].xml") == archive.read("[Content_Types].xml") != b"<x/>"


def test_only_whole_parts_are_kept(tmp_path):
    path = _forms(tmp_path)[0]
    with opened.sharing():
        archive = opened.opened(path).zip
        info = archive.getinfo("xl/workbook.xml")
        opened.keep_part(archive, info, archive.read(info)[:-1])  # a part not read to its end
        assert info not in getattr(archive, opened._PARTS)
        assert opened.read_part(archive, info) == archive.read(info)


def _with_crc(path, part: str, crc: int):
    """The package with ``part``'s CRC-32 changed in both the local header and the central directory."""
    import struct

    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(part)
    old = struct.pack("<I", info.CRC)
    local = info.header_offset
    assert data[local + 14:local + 18] == old
    data[local + 14:local + 18] = struct.pack("<I", crc)
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_len = struct.unpack("<H", data[at + 28:at + 30])[0]
        if bytes(data[at + 46:at + 46 + name_len]) == part.encode():
            assert data[at + 16:at + 20] == old
            data[at + 16:at + 20] = struct.pack("<I", crc)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))
    return path


def test_a_small_part_with_a_wrong_crc_is_damaged_as_before_and_never_kept(tmp_path):
    """The scan takes a small part from the bytes inflated for the size check only when their CRC is the
    declared one; otherwise zipfile reads it and refuses it, as it always did."""
    from automation.errors import UnsafeFileError

    path = _with_crc(_forms(tmp_path)[0], "xl/workbook.xml", 0x12345678)
    with opened.sharing():
        try:
            inspect_file(path, Limits())
        except UnsafeFileError as exc:
            assert exc.code == "file-damaged"
        else:
            raise AssertionError("a part whose bytes do not match its CRC must be refused")
        archive = opened.opened(path).zip
        assert "xl/workbook.xml" not in {i.filename for i in getattr(archive, opened._PARTS)}

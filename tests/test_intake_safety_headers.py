"""The declaration scan takes a small part's bytes from the inflation check without opening the entry
through zipfile again, only when zipfile would open it: a local header that disagrees with the central
directory (another name, a flag zipfile refuses, no local header at all) is still refused as damaged,
exactly as zipfile's own open refuses it; a sound file is judged as before and its parts are kept."""

from __future__ import annotations

import io
import zipfile

import pytest
from support.forms import build_blank

from automation.errors import UnsafeFileError
from automation.forms import opened
from automation.intake import safety
from automation.intake.safety import inspect_file
from automation.settings import Limits

DEFAULTS = Limits()


def _local_header_at(data: bytes, part: str) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.getinfo(part).header_offset


def _patched(path, part: str, patch) -> None:
    data = bytearray(path.read_bytes())
    patch(data, _local_header_at(bytes(data), part))
    path.write_bytes(bytes(data))


def _refused(path) -> str:
    with pytest.raises(UnsafeFileError) as caught:
        inspect_file(path, DEFAULTS)
    return caught.value.code


@pytest.mark.parametrize("kind", ["trip_request", "expense_claim"])
def test_a_sound_file_is_scanned_without_opening_its_small_parts_again_and_they_are_kept(tmp_path, monkeypatch, kind):
    form = build_blank(kind, tmp_path)
    opens: list[str] = []
    real_open, real_scan = zipfile.ZipFile.open, safety._check_xml_parts

    def counted_open(self, name, *args, **kwargs):
        opens.append(name.filename if isinstance(name, zipfile.ZipInfo) else name)
        return real_open(self, name, *args, **kwargs)

    def scan(*args, **kwargs):  # the opens of the declaration scan alone
        monkeypatch.setattr(zipfile.ZipFile, "open", counted_open)
        try:
            return real_scan(*args, **kwargs)
        finally:
            monkeypatch.setattr(zipfile.ZipFile, "open", real_open)

    monkeypatch.setattr(safety, "_check_xml_parts", scan)
    with opened.sharing():
        assert inspect_file(form, DEFAULTS) == form.suffix[1:]
        archive = opened.opened(form).zip
        small = [i for i in archive.infolist() if i.file_size < safety.PROVEN_MIN_BYTES]
        assert small and not {i.filename for i in small} & set(opens)
        kept = getattr(archive, opened._PARTS)
        for info in small:  # every small XML part kept for the readers, the very bytes zipfile reads
            if real_open(archive, info).read(1) == b"<":
                assert kept[info] == real_open(archive, info).read()


def test_a_local_name_that_differs_from_the_directory_is_damaged_as_zipfile_says(tmp_path):
    form = build_blank("trip_request", tmp_path)
    part = "word/_rels/document.xml.rels"

    def rename(data, at):
        name_at = at + 30
        data[name_at] = ord("W")  # same length, another name

    _patched(form, part, rename)
    with zipfile.ZipFile(form) as archive, pytest.raises(zipfile.BadZipFile):
        archive.open(part)
    assert _refused(form) == "file-damaged"


def test_a_flag_zipfile_refuses_in_the_directory_is_damaged(tmp_path):
    form = build_blank("trip_request", tmp_path)
    data = bytearray(form.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at >= 0:  # the central entry of the relationships part: flag bit 5 (compressed patched data)
        name_length = int.from_bytes(data[at + 28:at + 30], "little")
        if bytes(data[at + 46:at + 46 + name_length]) == b"word/_rels/document.xml.rels":
            data[at + 8] |= 0x20
            break
        at = data.find(b"PK\x01\x02", at + 4)
    form.write_bytes(bytes(data))
    assert _refused(form) == "file-damaged"


def test_a_name_flagged_utf8_in_its_local_header_but_not_utf8_is_damaged(tmp_path):
    form = build_blank("trip_request", tmp_path)
    part = "word/_rels/document.xml.rels"

    def break_name(data, at):
        data[at + 7] |= 0x08  # the UTF-8 name flag (bit 11) in the local header only
        data[at + 30] = 0xFF  # a byte no UTF-8 name holds

    _patched(form, part, break_name)
    assert _refused(form) == "file-damaged"


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_a_part_compressed_other_than_office_does_is_refused_as_damaged(tmp_path, method):
    path = build_blank("customer_registration", tmp_path)
    with zipfile.ZipFile(path) as source:
        parts = [(info.filename, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts:
            target.writestr(name, data, compress_type=method if name == "xl/workbook.xml" else zipfile.ZIP_DEFLATED)
    assert _refused(path) == "file-damaged"

"""A part of a Word file stored as the very same compressed bytes as one already checked (task files copy
the form's entries unchanged) is taken as checked without being inflated; stored otherwise, with the
same content, it is inflated and compared as before; a different part — even one forged to the CRC and
size of the checked one — is never taken for it: it fails the read as python-docx's full open does.
The part-name check (``needs_renames``) is kept per package shape on the same exact bytes."""

from __future__ import annotations

import zipfile
import zlib
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from lxml import etree
from support.forms import build_blank, fill_docx

from automation import samples
from automation.forms import docx_body, opened, repair
from automation.forms.docx_body import load_body
from automation.forms.repair import needs_renames

_STYLES = "word/styles.xml"
_RELS = "word/_rels/document.xml.rels"
_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0xEDB88320 if _c & 1 else _c >> 1
    _TABLE.append(_c)
_BY_TOP = {entry >> 24: index for index, entry in enumerate(_TABLE)}


def _forge(prefix: bytes, suffix: bytes, crc: int) -> bytes:
    """Four bytes that, between ``prefix`` and ``suffix``, give the whole the CRC-32 ``crc``."""
    state = crc ^ 0xFFFFFFFF
    for byte in reversed(suffix):  # the register before the suffix (CRC steps are invertible)
        index = _BY_TOP[state >> 24]
        state = (((state ^ _TABLE[index]) << 8) & 0xFFFFFFFF) | ((index ^ byte) & 0xFF)
    indices = []
    for _ in range(4):
        index = _BY_TOP[state >> 24]
        indices.append(index)
        state = ((state ^ _TABLE[index]) << 8) & 0xFFFFFFFF
    state, out = zlib.crc32(prefix) ^ 0xFFFFFFFF, bytearray()
    for index in reversed(indices):
        out.append((state ^ index) & 0xFF)
        state = (state >> 8) ^ _TABLE[index]
    forged = prefix + bytes(out) + suffix
    assert zlib.crc32(forged) == crc
    return bytes(out)


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def _package(path: Path, parts: dict[str, bytes], levels: dict[str, int] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data, compresslevel=(levels or {}).get(name, 6))
    return path


def _stored(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
        with open(path, "rb") as raw:
            raw.seek(info.header_offset + 26)
            skip = int.from_bytes(raw.read(2), "little") + int.from_bytes(raw.read(2), "little")
            raw.seek(skip, 1)
            return raw.read(info.compress_size)


@pytest.fixture
def form(tmp_path):
    filled = fill_docx(build_blank("trip_request", tmp_path), samples.trip_request(date(2026, 11, 23)))
    docx_body._CHECKED.clear()
    return _parts(filled)


@pytest.fixture
def inflated(monkeypatch):
    """The parts the Word body reader inflated (``opened.read_part``, its one way to an entry's bytes)."""
    names: list[str] = []
    read_part = opened.read_part

    def spy(archive, name):
        names.append(name.filename if isinstance(name, zipfile.ZipInfo) else name)
        return read_part(archive, name)

    monkeypatch.setattr(opened, "read_part", spy)
    return names


def _xml(body) -> bytes:
    return etree.tostring(body)


def test_a_part_stored_as_the_same_compressed_bytes_is_not_inflated_again(tmp_path, form, inflated):
    first = _package(tmp_path / "first.docx", form)
    second = _package(tmp_path / "second.docx", {**form, "word/document.xml": form["word/document.xml"] + b" "})
    assert _stored(first, _STYLES) == _stored(second, _STYLES)
    load_body(first)
    assert _STYLES in inflated
    inflated.clear()
    body = load_body(second)
    assert _STYLES not in inflated and "word/document.xml" in inflated
    assert _xml(body) == _xml(Document(str(second)).element.body)


def test_the_same_part_stored_as_other_compressed_bytes_is_inflated_compared_and_accepted(tmp_path, form, inflated):
    load_body(_package(tmp_path / "first.docx", form))
    other = _package(tmp_path / "other.docx", form, levels={_STYLES: 1})
    assert _stored(other, _STYLES) != _stored(tmp_path / "first.docx", _STYLES)
    inflated.clear()
    body = load_body(other)
    assert _STYLES in inflated
    assert _xml(body) == _xml(Document(str(other)).element.body)
    inflated.clear()
    load_body(other)  # (its stored bytes are now the remembered ones)
    assert _STYLES not in inflated


@pytest.mark.parametrize("level", [6, 1])
def test_a_part_forged_to_the_checked_ones_crc_and_size_fails_like_the_full_open(tmp_path, form, level):
    load_body(_package(tmp_path / "first.docx", form))
    styles = form[_STYLES]
    cut = len(styles) // 2  # a stray "<" in the middle of the part (no longer well-formed), four bytes for the CRC
    prefix = styles[:cut - 1] + (b"&" if styles[cut - 1:cut] == b"<" else b"<")
    forged = prefix + _forge(prefix, styles[cut + 4:], zlib.crc32(styles)) + styles[cut + 4:]
    assert forged != styles and len(forged) == len(styles) and zlib.crc32(forged) == zlib.crc32(styles)
    path = _package(tmp_path / "forged.docx", {**form, _STYLES: forged}, levels={_STYLES: level})
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(_STYLES)
        assert (info.CRC, info.file_size) == (zlib.crc32(styles), len(styles))
    with pytest.raises(Exception) as full:
        Document(str(path))
    with pytest.raises(type(full.value)):
        load_body(path)


def test_a_naming_part_forged_to_the_crc_and_size_of_a_known_shape_is_looked_at_afresh(tmp_path, form):
    repair._SHAPES.clear()
    rels = form[_RELS]
    tail = b"</Relationships>"
    assert rels.rstrip().endswith(tail)
    body = rels.rstrip()[:-len(tail)] + b'<Relationship Id="rIdN" Type="urn:x-notes" Target="%s"/>'
    plain = body % b"Notes.bin" + b"<!--000000XXXX-->" + tail  # the forgery's length: 6 digits, 4 forged bytes
    misnamed = body % b"notes.bin"  # the part is word/Notes.bin: its name must be repaired to this spelling
    for counter in range(1_000_000):  # until the four forged bytes are plain letters (a comment stays XML)
        prefix = misnamed + b"<!--%06d" % counter
        patch = _forge(prefix, b"-->" + tail, zlib.crc32(plain))
        if patch.isalnum() and patch.isascii():
            break
    forged = prefix + patch + b"-->" + tail
    assert len(forged) == len(plain) and zlib.crc32(forged) == zlib.crc32(plain) and forged != plain
    etree.fromstring(forged)
    known = _package(tmp_path / "known.docx", {**form, _RELS: plain, "word/Notes.bin": b"notes"})
    other = _package(tmp_path / "forged.docx", {**form, _RELS: forged, "word/Notes.bin": b"notes"})
    with zipfile.ZipFile(known) as zf:
        assert not needs_renames(zf, "docx")
    with zipfile.ZipFile(other) as zf:
        assert needs_renames(zf, "docx")  # word/Notes.bin spelled notes.bin by its relationship
    assert repair.repaired(other, "docx", deep=False) is not None
    assert repair.repaired(known, "docx", deep=False) is None

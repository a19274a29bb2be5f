"""The Word body reader remembers the small parts it found well-formed too (the blank form's
relationships, settings and numbering recur in every submission), and looks up content types from one
index of [Content_Types].xml: a small part changed since, or malformed, is parsed again and fails the read
as python-docx's full open does; content types are the first Override, else the first Default."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from docx import Document
from lxml import etree
from support import producers
from support.forms import build_blank, fill_docx

from automation import samples
from automation.forms import docx_body
from automation.forms.docx_body import load_body

_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"


@pytest.mark.parametrize("part", ["word/settings.xml", "word/_rels/document.xml.rels", "_rels/.rels",
                                  "word/numbering.xml"])
def test_a_small_part_remembered_as_checked_and_then_broken_fails_like_the_full_open(tmp_path, part):
    form = fill_docx(build_blank("trip_request", tmp_path), samples.trip_request(date(2026, 11, 23)))
    load_body(form)
    load_body(form)  # (the second read compares the remembered parts)
    producers.rewrite(form, lambda parts: {**parts, part: parts[part][:-12]})
    with pytest.raises(Exception) as full:
        Document(str(form))
    with pytest.raises(type(full.value)):
        load_body(form)


def test_the_checked_parts_stay_bounded_and_the_recurring_ones_stay(tmp_path):
    docx_body._CHECKED.clear()
    form = build_blank("trip_request", tmp_path)
    load_body(form)
    recurring = set(docx_body._CHECKED)
    for n in range(2 * docx_body._CHECKED_MAX):  # parts that differ file by file take turns
        data = b'<?xml version="1.0"?><x n="%d"/>' % n
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr(f"p{n}.xml", data)
        with zipfile.ZipFile(buffer) as zf:
            docx_body._well_formed(zf, zf.infolist()[0])
        load_body(form)
    assert len(docx_body._CHECKED) <= docx_body._CHECKED_MAX
    assert recurring <= set(docx_body._CHECKED)


def _reference(types, part: str):  # the lookup as it was: the lists walked for every part
    for override in types.iter(f"{{{_TYPES}}}Override"):
        if (override.get("PartName") or "").lstrip("/") == part:
            return override.get("ContentType")
    extension = part.rsplit(".", 1)[-1].lower()
    for default in types.iter(f"{{{_TYPES}}}Default"):
        if (default.get("Extension") or "").lower() == extension:
            return default.get("ContentType")
    return None


def test_content_types_are_the_first_override_else_the_first_default():
    types = etree.fromstring(
        f'<Types xmlns="{_TYPES}">'
        '<Default Extension="XML" ContentType="d/xml-upper"/><Default Extension="xml" ContentType="d/xml"/>'
        '<Default Extension="rels" ContentType="d/rels"/><Default ContentType="d/none"/>'
        '<Override PartName="/word/document.xml" ContentType="o/doc"/>'
        '<Override PartName="word/document.xml" ContentType="o/doc-again"/>'
        '<Override PartName="//word/settings.xml" ContentType="o/settings"/>'
        '<Override PartName="/word/styles.xml"/></Types>')
    index = docx_body._ContentTypes(types)
    for part in ("word/document.xml", "word/settings.xml", "word/styles.xml", "word/numbering.xml", "a.rels",
                 "a.RELS", "noext", "x.bin", "", "word/document.XML"):
        assert index.of(part) == _reference(types, part), part

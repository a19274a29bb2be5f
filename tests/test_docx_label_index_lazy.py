"""A Word file's label cells are indexed only when a field is looked for by its label.

A task file as Word keeps it has every tag: its approval inputs and the fingerprint of its form data
are all found by tag, and reading the text of every table cell (most of what indexing cost) is skipped.
The same file with its tags and aliases gone (LibreOffice drops them on save) is read by label and gives the same
values and the same fingerprint. Real task files (出差申请表) issued by the real writer, decided in
the cell with the real filler; the tags are stripped from the real document part.
"""

from __future__ import annotations

import re
import shutil
import zipfile

from support.decide import desk, trip_task_file

from automation.decide.integrity import fingerprints
from automation.decide.officefile import DECISION_NAME, read_inputs
from automation.forms import docx_reader, raw as raw_module, xlsx_reader
from automation.forms.docx_reader import read_docx_reading
from automation.forms.fill import fill_docx


def _decided(tmp_path):
    d = desk(tmp_path)
    _, _, path = trip_task_file(d, "CC-2026-0001")
    fill_docx(path, {DECISION_NAME: "同意"})
    return d, path


def _untagged(path, tmp_path):
    """The file with every ``w:tag`` and ``w:alias`` of its body removed, nothing else changed."""
    out = tmp_path / "untagged.docx"
    with zipfile.ZipFile(path) as z, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as w:
        for info in z.infolist():
            data = z.read(info.filename)
            if info.filename == "word/document.xml":
                data, n = re.subn(rb"<w:(?:tag|alias) [^>]*/>", b"", data)
                assert n > 0
            w.writestr(info, data)
    return out


def _handed_on(path):
    """The body and index the next readers of these bytes take (``indexed_body(hand_on=True)``):
    what they did with the index is seen on it afterwards."""
    _, index = docx_reader.indexed_body(path, hand_on=True)
    assert not index.labels_indexed
    return index


def _taken() -> bool:
    return not docx_reader._HANDED_ON


def _clear():
    raw_module._READ.clear()
    xlsx_reader._HANDED_ON.clear()
    docx_reader._HANDED_ON.clear()


def test_a_tagged_task_file_is_read_without_indexing_its_label_cells(tmp_path):
    d, path = _decided(tmp_path)
    _clear()
    index = _handed_on(path)
    assert read_inputs(path)[DECISION_NAME] == "同意"
    fingerprints(path, d.spec)
    assert _taken() and not index.labels_indexed  # the readers used this index and never looked by label
    raw, reading = read_docx_reading(path, d.spec)
    assert set(reading.located.values()) == {docx_reader.BY_TAG} and not reading.missing


def test_the_same_file_without_tags_is_read_by_label_once_with_the_same_values(tmp_path):
    d, path = _decided(tmp_path)
    _clear()
    tagged_raw, _ = read_docx_reading(path, d.spec)
    tagged_fingerprints = fingerprints(path, d.spec)
    untagged = _untagged(path, tmp_path)
    _clear()
    index = _handed_on(untagged)
    assert read_inputs(untagged)[DECISION_NAME] == "同意"  # beside its label in the decision table
    assert fingerprints(untagged, d.spec) == tagged_fingerprints
    assert _taken() and index.labels_indexed  # the inputs and the fingerprint read by label, through this index
    raw, reading = read_docx_reading(untagged, d.spec)
    assert raw[0] == tagged_raw[0]
    assert docx_reader.BY_LABEL in reading.located.values()

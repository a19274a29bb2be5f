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


def _counting(monkeypatch):
    calls = []
    real = docx_reader._label_cells

    def counted(body):
        calls.append(body)
        return real(body)

    monkeypatch.setattr(docx_reader, "_label_cells", counted)
    return calls


def _clear():
    raw_module._READ.clear()
    xlsx_reader._HANDED_ON.clear()
    docx_reader._HANDED_ON.clear()


def test_a_tagged_task_file_is_read_without_indexing_its_label_cells(tmp_path, monkeypatch):
    d, path = _decided(tmp_path)
    _clear()
    labels = _counting(monkeypatch)
    assert read_inputs(path)[DECISION_NAME] == "同意"
    fingerprints(path, d.spec)
    raw, reading = read_docx_reading(path, d.spec)
    assert labels == []
    assert set(reading.located.values()) == {docx_reader.BY_TAG} and not reading.missing


def test_the_same_file_without_tags_is_read_by_label_once_with_the_same_values(tmp_path, monkeypatch):
    d, path = _decided(tmp_path)
    _clear()
    tagged_raw, _ = read_docx_reading(path, d.spec)
    tagged_fingerprints = fingerprints(path, d.spec)
    untagged = _untagged(path, tmp_path)
    _clear()
    labels = _counting(monkeypatch)
    assert read_inputs(untagged)[DECISION_NAME] == "同意"  # beside its label in the decision table
    assert fingerprints(untagged, d.spec) == tagged_fingerprints
    assert len(labels) == 1  # one index for the inputs and the fingerprint of the same bytes
    raw, reading = read_docx_reading(untagged, d.spec)
    assert raw[0] == tagged_raw[0]
    assert docx_reader.BY_LABEL in reading.located.values()

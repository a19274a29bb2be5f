"""Identification reads a Word document by lxml's own iteration over the elements it needs; the result
equals the node-by-node reference on real files: every blank Word form, filled ones, and the shapes other
programs leave (LibreOffice's controls, flattened controls, tables turned into paragraphs, no markers)."""

from __future__ import annotations

from datetime import date

from lxml import etree
from support import producers
from support.forms import build_blank, fill_docx, repo_specs, strip_custom_properties, strip_markers

from automation import samples
from automation.identify.package import Package, read_document, read_document_reference

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _both(path):
    with Package(path) as pkg:
        return read_document(pkg), read_document_reference(pkg)


def test_every_word_form_and_its_variants_read_alike(tmp_path):
    docx_specs = [spec_id for spec_id, spec in repo_specs().items() if spec.kind == "docx"]
    assert docx_specs
    files = []
    for spec_id in docx_specs:
        files.append(build_blank(spec_id, tmp_path / spec_id / "blank"))
    trip = fill_docx(build_blank("trip_request", tmp_path / "filled"), samples.trip_request(date.today()))
    files.append(trip)
    for n, variant in enumerate((producers.libreoffice_controls, producers.flattened_controls,
                                 producers.untabled_form, strip_markers, strip_custom_properties)):
        copy = tmp_path / f"v{n}" / trip.name
        copy.parent.mkdir()
        copy.write_bytes(trip.read_bytes())
        files.append(variant(copy))
    for path in files:
        fast, reference = _both(path)
        assert fast == reference, path
    assert reference.texts and reference.labels  # (a document with something to compare)


def test_elements_of_any_namespace_or_none_count_as_the_reference_counts_them(tmp_path):
    """Local names decide, whatever the namespace: a DrawingML paragraph, a table with no namespace,
    a tag outside sdtPr (not a control's), comments and processing instructions."""
    path = build_blank("trip_request", tmp_path)

    def change(root):
        body = root.find(f"{{{W}}}body")
        extra = etree.fromstring(
            '<w:p xmlns:w="%s" xmlns:a="urn:x-drawing"><!-- a comment --><?pi here?>'
            '<a:p><a:r><a:t>画框里的字</a:t></a:r></a:p><w:r><w:t xml:space="preserve"> 末尾 </w:t></w:r>'
            '<w:tag w:val="不是控件"/></w:p>' % W)
        body.insert(0, extra)
        body.insert(1, etree.fromstring("<tbl><tr><tc><t>无命名空间</t></tc><tc><t>值</t></tc></tr></tbl>"))

    producers.edit_xml(path, "word/document.xml", change)
    fast, reference = _both(path)
    assert fast == reference
    assert "无命名空间" in reference.labels and any("画框里的字" in t for t in reference.texts)


"""Custom document properties (docProps/custom.xml), which python-docx lacks.

The form id and version travel inside the file this way, so a dropped form is
identified without guessing. Reading works for any OOXML package (.docx and
.xlsx alike) and parses with defusedxml, because the file comes from outside.
"""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from defusedxml import ElementTree as SafeET
from docx import Document
from docx.document import Document as DocumentObject
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part

from automation.forms.build_xlsx import save_atomically
from automation.forms import opened

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
NS_CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
NS_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
# The format id every custom property of Office documents uses.
FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
PART_NAME = "/docProps/custom.xml"


def set_custom_properties(target: Path | str | DocumentObject, props: dict[str, str]) -> None:
    """Add or replace string properties; others already present are kept.

    Given a path, the file is rewritten; given a Document, the caller saves it.
    """
    if isinstance(target, DocumentObject):
        _set_on_document(target, props)
        return

    doc = Document(str(target))
    _set_on_document(doc, props)
    save_atomically(doc.save, Path(target))


def read_custom_properties(path: Path | str) -> dict[str, str]:
    """Name → value (as text) of every custom property; {} when there are none."""
    with opened.open_zip(path) as zf:  # inside a forms.opened scope: the zip directory already parsed
        name = _custom_part_name(zf)
        if name is None or name not in zf.namelist():
            return {}
        return parse_properties(zf.read(name))


def parse_properties(blob: bytes) -> dict[str, str]:
    root = SafeET.fromstring(blob)
    props = {}
    for prop in root.findall(f"{{{NS_CUSTOM}}}property"):
        value = next(iter(prop), None)
        props[prop.get("name", "")] = (value.text or "") if value is not None else ""
    return props


# --- internals -------------------------------------------------------------


def _custom_part_name(zf: zipfile.ZipFile) -> str | None:
    try:
        rels = SafeET.fromstring(zf.read("_rels/.rels"))
    except KeyError:
        return None
    for rel in rels:
        if rel.get("Type", "").endswith("/custom-properties"):
            return posixpath.normpath(rel.get("Target", "").lstrip("/"))
    return None


def _set_on_document(doc: DocumentObject, props: dict[str, str]) -> None:
    package = doc.part.package
    part = _existing_part(package)
    merged = {**(parse_properties(part.blob) if part is not None else {}), **props}
    blob = _serialise(merged)
    if part is not None:
        part._blob = blob  # python-docx keeps unknown parts as raw bytes
        return
    part = Part(PackURI(PART_NAME), CONTENT_TYPE, blob, package)
    package.relate_to(part, RT.CUSTOM_PROPERTIES)


def _existing_part(package) -> Part | None:
    for rel in package.rels.values():
        if rel.reltype == RT.CUSTOM_PROPERTIES and not rel.is_external:
            return rel.target_part
    return None


def _serialise(props: dict[str, str]) -> bytes:
    # pid 0 and 1 are reserved by the format; user properties start at 2.
    items = "".join(
        f'<property fmtid="{FMTID}" pid="{pid}" name={quoteattr(name)}><vt:lpwstr>{escape(str(value))}</vt:lpwstr></property>'
        for pid, (name, value) in enumerate(props.items(), start=2)
    )
    xml = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties xmlns="{NS_CUSTOM}" xmlns:vt="{NS_VT}">{items}</Properties>'
    return xml.encode("utf-8")

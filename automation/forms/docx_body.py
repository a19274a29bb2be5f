"""The body of a Word document, parsed from its main part alone.

``docx.Document`` parses every XML part of the package before it hands back the
body — for a form that is mostly ``styles.xml`` (several hundred KB), which
reading values never looks at. ``load_body`` finds the main part the way
python-docx does (the package's officeDocument relationship, checked against
its content type) and parses that part with python-docx's own element classes,
so the body is the same tree ``Document(path).element.body`` gives.

A broken part must still fail the read as before (the file is damaged, and the
task file could never be written from it): every part python-docx would parse
(relationships, and the parts of the content types it loads as XML) is checked
to be well-formed — except that a part byte-identical to one already checked in
this process (the blank form's styles.xml, the same in every submission) is not
parsed again, and one stored as the very same compressed bytes (task files copy
the form's entries unchanged) is not even inflated (``stored_entry``). Anything unusual — no such relationship, another content type, a
missing or malformed part — goes to ``docx.Document`` itself, which reads the
file or fails exactly as it always has.
"""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path

from docx import Document
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.ns import qn
from lxml import etree

from automation.forms import opened
from automation.forms.stored_entry import stored_bytes

# Content types python-docx parses as XML when it opens a package (docx/__init__.py).
_PARSED_TYPES = frozenset({CT.OPC_CORE_PROPERTIES, CT.WML_COMMENTS, CT.WML_DOCUMENT_MAIN, CT.WML_FOOTER,
                           CT.WML_HEADER, CT.WML_NUMBERING, CT.WML_SETTINGS, CT.WML_STYLES})
# (part, crc, size) → (compression method, stored bytes, inflated bytes) of a part found well-formed
_CHECKED: dict[tuple[str, int, int], tuple[int, bytes | None, bytes]] = {}
_CHECKED_MAX = 16
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_PKG_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"


def load_body(source):
    """``Document(source).element.body``, without parsing the parts reading values never needs."""
    body = _main_body(source)
    if body is not None:
        return body
    if hasattr(source, "seek"):
        source.seek(0)
    return Document(source if not hasattr(source, "__fspath__") else str(source)).element.body


def _main_body(source):
    try:
        with (opened.open_zip(source) if isinstance(source, Path) else zipfile.ZipFile(source)) as zf:
            names = set(zf.namelist())
            if "_rels/.rels" not in names or "[Content_Types].xml" not in names:
                return None
            types = _ContentTypes(etree.fromstring(opened.read_part(zf, "[Content_Types].xml"), _PARSER))
            main = _main_part(etree.fromstring(opened.read_part(zf, "_rels/.rels"), _PARSER))
            if main is None or main not in names or types.of(main) != CT.WML_DOCUMENT_MAIN:
                return None
            for info in zf.infolist():
                if info.filename != main and (info.filename.endswith(".rels") or types.of(info.filename) in _PARSED_TYPES):
                    _well_formed(zf, info)
            root = parse_xml(opened.read_part(zf, main))
    except (KeyError, ValueError, etree.XMLSyntaxError, zipfile.BadZipFile):
        return None
    finally:
        if hasattr(source, "seek"):
            source.seek(0)
    if root.tag != qn("w:document") or root.body is None:
        return None
    return root.body


def _well_formed(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Raises XMLSyntaxError for a malformed part; a part already checked is only compared.

    Small parts are remembered too (the relationships, settings and numbering of the blank form recur in
    every submission: six parses per Word form); one compared equal moves to the back, so the parts that
    recur stay while those that differ file by file (core.xml's dates) take turns at the front.

    The stored bytes are compared first: equal to those of the part checked, under the same compression
    method, they inflate to the same bytes, so nothing is inflated. Stored differently (another writer
    re-compressed it) the inflated bytes are compared, as before."""
    key = (info.filename, info.CRC, info.file_size)
    known = _CHECKED.pop(key, None)
    stored = stored_bytes(zf, info) if known is not None or opened.kept_part(zf, info) is None else None
    if known is not None and stored is not None and known[0] == info.compress_type and known[1] == stored:
        _CHECKED[key] = known
        return
    data = opened.read_part(zf, info)
    if known is not None and known[2] == data:
        _CHECKED[key] = (info.compress_type, stored, data)  # (the latest stored form: the next file's likeliest)
        return
    etree.fromstring(data, _PARSER)
    while len(_CHECKED) >= _CHECKED_MAX:
        _CHECKED.pop(next(iter(_CHECKED)), None)  # (tolerant of another thread)
    _CHECKED[key] = (info.compress_type, stored, data)


def _main_part(rels) -> str | None:
    for rel in rels.iter(f"{_PKG_RELS}Relationship"):
        if rel.get("Type") == RT.OFFICE_DOCUMENT and rel.get("TargetMode") != "External":
            target = rel.get("Target") or ""
            return posixpath.normpath(target.lstrip("/")) if target else None
    return None


class _ContentTypes:
    """A part's content type: its Override, else its extension's Default — the first in the file of each
    (looked up for every part of the package, so the two lists are indexed once)."""

    def __init__(self, types):
        self._overrides: dict[str, str | None] = {}
        self._defaults: dict[str, str | None] = {}
        for override in types.iter(f"{_TYPES}Override"):
            self._overrides.setdefault((override.get("PartName") or "").lstrip("/"), override.get("ContentType"))
        for default in types.iter(f"{_TYPES}Default"):
            self._defaults.setdefault((default.get("Extension") or "").lower(), default.get("ContentType"))

    def of(self, part: str) -> str | None:
        if part in self._overrides:
            return self._overrides[part]
        return self._defaults.get(part.rsplit(".", 1)[-1].lower())

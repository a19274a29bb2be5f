"""Strict Open XML, read as the ordinary (Transitional) format it mirrors.

Excel and Word can save "Strict Open XML" under the same ``.xlsx``/``.docx``
extension: the same parts and the same content types, but every namespace and
most relationship types under ``http://purl.oclc.org/ooxml/…`` instead of
``http://schemas.openxmlformats.org/…/2006/…`` (ECMA-376 Part 1, Strict
conformance), and ``conformance="strict"`` on the workbook. openpyxl and
python-docx see such a workbook as one with no sheets. The meaning of the
parts we read (cells, defined names, content controls, properties) is the same,
so our private copy is rewritten part by part with the Transitional names
before it is identified, read, filed and copied for returns and task files; the
submission's hash stays that of the received bytes and the audit entry says the
file was converted. Only XML parts are touched, byte for byte otherwise.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from automation.fsutil import atomic_save
from automation.forms import opened

STRICT = b"http://purl.oclc.org/ooxml/"
_T = "http://schemas.openxmlformats.org/"
# Strict → Transitional, the longest names first (relationship types before their namespace).
NAMESPACES: tuple[tuple[str, str], ...] = (
    ("http://purl.oclc.org/ooxml/officeDocument/relationships/extendedProperties",
     _T + "officeDocument/2006/relationships/extended-properties"),
    ("http://purl.oclc.org/ooxml/officeDocument/relationships/customProperties",
     _T + "officeDocument/2006/relationships/custom-properties"),
    ("http://purl.oclc.org/ooxml/officeDocument/relationships/metadata/core-properties",
     _T + "package/2006/relationships/metadata/core-properties"),
    ("http://purl.oclc.org/ooxml/officeDocument/relationships", _T + "officeDocument/2006/relationships"),
    ("http://purl.oclc.org/ooxml/officeDocument/extendedProperties", _T + "officeDocument/2006/extended-properties"),
    ("http://purl.oclc.org/ooxml/officeDocument/customProperties", _T + "officeDocument/2006/custom-properties"),
    ("http://purl.oclc.org/ooxml/officeDocument/docPropsVTypes", _T + "officeDocument/2006/docPropsVTypes"),
    ("http://purl.oclc.org/ooxml/officeDocument/sharedTypes", _T + "officeDocument/2006/sharedTypes"),
    ("http://purl.oclc.org/ooxml/officeDocument/customXml", _T + "officeDocument/2006/customXml"),
    ("http://purl.oclc.org/ooxml/officeDocument/bibliography", _T + "officeDocument/2006/bibliography"),
    ("http://purl.oclc.org/ooxml/officeDocument/characteristics", _T + "officeDocument/2006/characteristics"),
    ("http://purl.oclc.org/ooxml/officeDocument/math", _T + "officeDocument/2006/math"),
    ("http://purl.oclc.org/ooxml/spreadsheetml/main", _T + "spreadsheetml/2006/main"),
    ("http://purl.oclc.org/ooxml/wordprocessingml/main", _T + "wordprocessingml/2006/main"),
    ("http://purl.oclc.org/ooxml/presentationml/main", _T + "presentationml/2006/main"),
    ("http://purl.oclc.org/ooxml/schemaLibrary/main", _T + "schemaLibrary/2006/main"),
    ("http://purl.oclc.org/ooxml/drawingml/main", _T + "drawingml/2006/main"),
    ("http://purl.oclc.org/ooxml/drawingml/chartDrawing", _T + "drawingml/2006/chartDrawing"),
    ("http://purl.oclc.org/ooxml/drawingml/chart", _T + "drawingml/2006/chart"),
    ("http://purl.oclc.org/ooxml/drawingml/diagram", _T + "drawingml/2006/diagram"),
    ("http://purl.oclc.org/ooxml/drawingml/lockedCanvas", _T + "drawingml/2006/lockedCanvas"),
    ("http://purl.oclc.org/ooxml/drawingml/picture", _T + "drawingml/2006/picture"),
    ("http://purl.oclc.org/ooxml/drawingml/spreadsheetDrawing", _T + "drawingml/2006/spreadsheetDrawing"),
    ("http://purl.oclc.org/ooxml/drawingml/wordprocessingDrawing", _T + "drawingml/2006/wordprocessingDrawing"),
)
_PATTERN = re.compile(b"|".join(re.escape(s.encode()) for s, _ in NAMESPACES))
_MAP = {s.encode(): t.encode() for s, t in NAMESPACES}
_CONFORMANCE = re.compile(rb'\sconformance\s*=\s*"strict"')
CONVERTED_NOTE = "(文件为「Strict Open XML」格式,已按标准 .xlsx/.docx 格式转换后读取并存档)"


def _xml_part(name: str) -> bool:
    return name.lower().endswith((".xml", ".rels", ".vml"))


def is_strict(path: Path) -> bool:
    """True when the package's relationships or main part use the Strict namespaces."""
    try:
        with opened.open_zip(path) as archive:
            for info in archive.infolist():
                key = info.filename.replace("\\", "/").lower()
                if key in ("_rels/.rels", "xl/workbook.xml", "word/document.xml"):
                    kept = opened.kept_part(archive, info)  # (the safety scan's bytes: not inflated again)
                    if kept is not None:
                        if STRICT in kept[:16384]:
                            return True
                        continue
                    with archive.open(info) as part:
                        if STRICT in part.read(16384):
                            return True
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError):
        return False  # damaged or encrypted: the readers say so in their own words
    return False


def translate(data: bytes) -> bytes:
    """One XML part with the Transitional names."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 (rare): through text, written back as is
        encoding = "utf-16"
        text = data.decode(encoding)
        return _translate_bytes(text.encode("utf-8")).decode("utf-8").encode(encoding)
    return _translate_bytes(data)


def _translate_bytes(data: bytes) -> bytes:
    data = _PATTERN.sub(lambda m: _MAP[m.group(0)], data)
    return _CONFORMANCE.sub(b"", data, count=1)


def to_transitional(path: Path) -> bool:
    """Rewrite the package at ``path`` (our private copy) with Transitional names; True if it was Strict."""
    if not is_strict(path):
        return False

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w") as out:
            for info in src.infolist():
                data = src.read(info)
                out.writestr(info, translate(data) if _xml_part(info.filename) else data,
                             compress_type=info.compress_type)

    atomic_save(path, write)
    return True

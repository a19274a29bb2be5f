"""What a file *is*, judged by its bytes, never by its extension.

Users rename files, mail gateways rename files, and a ``.xlsx`` may hold a Word
document, a PDF or a password-protected package. The answer is one of
:data:`KINDS`. Reading is always capped, so sniffing a hostile file is cheap.
"""

from __future__ import annotations

import codecs
import zipfile
from pathlib import Path

from defusedxml import ElementTree as SafeET

KINDS = ("xlsx", "xlsm", "docx", "docm", "zip", "ole", "pdf", "image", "text", "empty", "unknown")

HEAD_BYTES = 8192
CONTENT_TYPES = "[Content_Types].xml"
CONTENT_TYPES_CAP = 1024 * 1024

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_IMAGE_MAGICS = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")
_TEXT_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_TEXT_CONTROLS = set(range(32)) - {9, 10, 12, 13}

# Main-part content types. Templates (.xltx/.dotx) read like the documents they make.
_MAIN_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": "xlsx",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": "xlsm",
    "application/vnd.ms-excel.template.macroEnabled.main+xml": "xlsm",
    "application/vnd.ms-excel.addin.macroEnabled.main+xml": "xlsm",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml": "docx",
    "application/vnd.ms-word.document.macroEnabled.main+xml": "docm",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml": "docm",
}
_MAIN_PARTS = {"xl/workbook.xml": "xlsx", "word/document.xml": "docx"}
_WITH_MACROS = {"xlsx": "xlsm", "docx": "docm"}
_WITHOUT_MACROS = {"xlsm": "xlsx", "docm": "docx"}
VBA_CONTENT_TYPE = "application/vnd.ms-office.vbaProject"


def sniff(path: Path) -> str:
    """The kind of file at ``path``, one of :data:`KINDS`."""
    kind = kind_of_head(read_head(path))
    if kind != "zip":
        return kind
    try:
        with zipfile.ZipFile(path) as archive:
            return zip_kind(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return "zip"


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    with open(path, "rb") as stream:
        return stream.read(size)


def kind_of_head(head: bytes) -> str:
    """Classify by leading bytes alone; Office packages come back as 'zip' or 'ole'."""
    if not head:
        return "empty"
    if head.startswith(OLE_MAGIC):
        return "ole"
    if head.startswith(_ZIP_MAGICS):
        return "zip"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if _is_image(head):
        return "image"
    if _is_text(head):
        return "text"
    return "unknown"


def zip_kind(archive: zipfile.ZipFile) -> str:
    """'xlsx', 'xlsm', 'docx', 'docm' or 'zip', from the content types or, failing that, the main part."""
    names = {info.filename.replace("\\", "/").lower() for info in archive.infolist()}
    overrides = _content_types(archive)
    types = set(overrides.values())
    kind = _kind_from_types(types) or _kind_from_parts(names)
    plain = _WITHOUT_MACROS.get(kind, kind)  # "macro-enabled" by content type, but maybe no macro at all
    if plain in _WITH_MACROS and has_vba(names, overrides):
        return _WITH_MACROS[plain]
    return plain or "zip"


def has_vba(names: set[str], overrides: dict[str, str]) -> bool:
    """A VBA project part present in the package, wherever it sits: by name, or a part declared
    with the VBA content type that really exists. A content type or extension alone is no macro."""
    declared = {part.lstrip("/").lower() for part, kind in overrides.items() if kind == VBA_CONTENT_TYPE}
    extensions = tuple(part[1:].lower() for part in declared if part.startswith("*."))
    return any(name.rsplit("/", 1)[-1] == "vbaproject.bin" or name in declared
               or (extensions and name.endswith(extensions)) for name in names)


def _content_types(archive: zipfile.ZipFile) -> dict[str, str]:
    """Part name (or ``*.ext`` for a default) → content type declared; {} when the part is missing,
    huge or not plain XML."""
    try:
        with archive.open(CONTENT_TYPES) as stream:
            data = stream.read(CONTENT_TYPES_CAP + 1)
        if len(data) > CONTENT_TYPES_CAP:
            return {}
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except Exception:  # noqa: BLE001 - any failure here only means "decide by part names"
        return {}
    found = {}
    for el in root.iter():
        if el.tag.endswith("}Override"):
            found[el.get("PartName", "")] = el.get("ContentType", "")
        elif el.tag.endswith("}Default"):
            found["*." + el.get("Extension", "")] = el.get("ContentType", "")
    return found


def _kind_from_types(types: set[str]) -> str | None:
    found = sorted(_MAIN_TYPES[t] for t in types if t in _MAIN_TYPES)
    return found[0] if found else None


def _kind_from_parts(names: set[str]) -> str | None:
    found = sorted(kind for part, kind in _MAIN_PARTS.items() if part in names)
    return found[0] if found else None


def _is_image(head: bytes) -> bool:
    if head.startswith(_IMAGE_MAGICS):
        return True
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return True
    # BMP: "BM" alone is too common in text; the reserved header words are zero.
    return head[:2] == b"BM" and len(head) >= 10 and head[6:10] == b"\x00\x00\x00\x00"


def _is_text(head: bytes) -> bool:
    if head.startswith(_TEXT_BOMS):
        return True
    for encoding in ("utf-8", "gb18030"):
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return not any(ord(ch) in _TEXT_CONTROLS for ch in text)
    return False

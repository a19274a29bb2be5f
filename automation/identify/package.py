"""A tolerant reader over the parts of an OOXML package, for identification.

Identification must never fail on a valid Office file, whoever wrote it. A
full openpyxl load fails on files Excel itself opens (pivot caches, whole-column
merges ``A:A``, an empty style attribute ``s=""``, a style index out of range,
a workbook with no sheets), so here only the few parts we need are parsed,
with lxml, without entity expansion or network access. Part names are matched
case-insensitively and with either slash (``xl/SharedStrings.xml``,
``xl\\workbook.xml``), and the main part is found through the package
relationships, so a workbook whose parts are not under ``xl/`` is read too.
"""

from __future__ import annotations

import functools
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from automation.forms import opened

MAX_PART_BYTES = 64 * 1024 * 1024
STRICT = "http://purl.oclc.org/ooxml/"
NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True, remove_comments=True)


class PackageError(ValueError):
    """The package has no readable main part (a plain zip, a damaged file)."""


def _key(name: str) -> str:
    return name.replace("\\", "/").lstrip("/").lower()


def local(tag) -> str:
    return _local(tag) if isinstance(tag, str) else ""


@functools.lru_cache(maxsize=4096)
def _local(tag: str) -> str:  # (the same few hundred tags, file after file)
    return tag.rsplit("}", 1)[-1]


class Package:
    """The parts of a zip package by normalised name."""

    def __init__(self, path: Path):
        self.path = Path(path)
        shared = opened.opened(self.path)  # the package as the other stages of this file see it
        self._own = shared is None
        self._zip = zipfile.ZipFile(self.path) if shared is None else shared.zip
        self._names: dict[str, zipfile.ZipInfo] = {}
        self._rels: dict[str, dict[str, tuple[str, str]]] = {}  # (the package's are asked for twice or more)
        for info in self._zip.infolist():
            if not info.is_dir():
                self._names.setdefault(_key(info.filename), info)

    def close(self) -> None:
        if self._own:
            self._zip.close()

    def __enter__(self) -> "Package":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def has(self, name: str) -> bool:
        return _key(name) in self._names

    def names(self) -> list[str]:
        return list(self._names)

    def read(self, name: str) -> bytes | None:
        info = self._names.get(_key(name))
        if info is None or info.file_size > MAX_PART_BYTES:
            return None
        return opened.read_part(self._zip, info)

    def xml(self, name: str):
        data = self.read(name)
        if not data:
            return None
        try:
            return etree.fromstring(data, _PARSER)
        except etree.XMLSyntaxError:
            return None

    def rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id → (type, target part name) of ``part`` ('' for the package). Do not change it."""
        found = self._rels.get(part)
        if found is None:
            found = self._rels[part] = self._read_rels(part)
        return found

    def _read_rels(self, part: str) -> dict[str, tuple[str, str]]:
        folder, base = posixpath.split(_key(part))
        root = self.xml(posixpath.join(folder, "_rels", base + ".rels") if part else "_rels/.rels")
        found = {}
        # ({*}: any namespace or none, the elements local() names so, in document order)
        for rel in root.iter("{*}Relationship") if root is not None else ():
            if rel.get("TargetMode") == "External":
                continue
            target = (rel.get("Target") or "").replace("\\", "/")
            resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            found[rel.get("Id", "")] = (rel.get("Type", ""), resolved)
        return found

    def main_part(self, fallback: str) -> str:
        for rel_type, target in self.rels("").values():
            if rel_type.endswith("/officeDocument") and self.has(target):
                return target
        if self.has(fallback):
            return fallback
        raise PackageError("no main part")

    def custom_properties(self) -> dict[str, str]:
        names = [t for kind, t in self.rels("").values() if kind.endswith("/custom-properties")] + ["docProps/custom.xml"]
        for name in names:
            root = self.xml(name)
            if root is None:
                continue
            props = {}
            for prop in root:
                if local(prop.tag) == "property":
                    value = next(iter(prop), None)
                    props[prop.get("name", "")] = (value.text or "").strip() if value is not None else ""
            return props
        return {}

    def app_name(self) -> str:
        root = self.xml("docProps/app.xml")
        node = next((n for n in root.iter() if local(n.tag) == "Application"), None) if root is not None else None
        return (node.text or "").strip() if node is not None else ""


# --- workbooks --------------------------------------------------------------------------


@dataclass
class SheetInfo:
    name: str
    part: str | None
    state: str = "visible"


@dataclass
class WorkbookInfo:
    """What identification needs of a workbook, read without openpyxl."""

    strict: bool = False
    sheets: list[SheetInfo] = field(default_factory=list)
    defined_names: dict[str, str] = field(default_factory=dict)  # name → formula text
    tables: set[str] = field(default_factory=set)
    title: str = ""
    marker: dict[str, str] = field(default_factory=dict)  # from the hidden marker sheet


def read_workbook(pkg: Package, marker_sheet: str | None = None, *, sheets_only: bool = False) -> WorkbookInfo:
    """``sheets_only``: Strict, the sheets and the defined names; no tables, title or marker."""
    part = pkg.main_part("xl/workbook.xml")
    root = pkg.xml(part)
    if root is None or local(root.tag) != "workbook":
        raise PackageError("workbook part unreadable")
    info = WorkbookInfo(strict=(root.nsmap.get(None) or "").startswith(STRICT) or STRICT in (root.tag or ""))
    rels = pkg.rels(part)
    strings = _shared_strings(pkg, rels) if not sheets_only else []
    for node in root.iter():
        name = local(node.tag)
        if name == "sheet":
            rid = next((v for k, v in node.attrib.items() if local(k) == "id"), None)
            target = rels.get(rid or "", ("", None))[1]
            info.sheets.append(SheetInfo(node.get("name", ""), target, node.get("state", "visible")))
        elif name == "definedName" and node.get("name"):
            info.defined_names.setdefault(node.get("name"), (node.text or "").strip())
    if sheets_only:
        return info
    for sheet in info.sheets:
        if sheet.part is None:
            continue
        for rel_type, target in pkg.rels(sheet.part).values():
            if rel_type.endswith("/table"):
                table = pkg.xml(target)
                if table is not None:
                    info.tables |= {v for v in (table.get("displayName"), table.get("name")) if v}
    first = next((s for s in info.sheets if s.state == "visible" and s.part), None)
    if first is not None:
        cells = sheet_cells(pkg, first.part, strings, limit_rows=3)
        info.title = " ".join(str(cells.get(f"A{r}", "")) for r in (1, 2, 3)).strip()
    hidden = next((s for s in info.sheets if marker_sheet and s.name == marker_sheet and s.part), None)
    if hidden is not None:
        cells = sheet_cells(pkg, hidden.part, strings, limit_rows=10)
        info.marker = {str(cells.get(f"A{r}", "")): str(cells.get(f"B{r}", "")) for r in range(1, 11) if cells.get(f"A{r}")}
    return info


def _shared_strings(pkg: Package, rels: dict) -> list[str]:
    names = [t for kind, t in rels.values() if kind.endswith("/sharedStrings")] + ["xl/sharedStrings.xml"]
    for name in names:
        root = pkg.xml(name)
        if root is not None:
            return ["".join(t.text or "" for t in si.iter() if local(t.tag) == "t")
                    for si in root if local(si.tag) == "si"]
    return []


_CELL = re.compile(r"^([A-Z]{1,3})(\d+)$")


def sheet_cells(pkg: Package, part: str, strings: list[str], limit_rows: int) -> dict[str, str]:
    """Text of the cells in the first ``limit_rows`` rows, by coordinate; tolerant of any attribute."""
    data = pkg.read(part)
    if not data:
        return {}
    cells: dict[str, str] = {}
    try:
        # Only cells and rows, fed a little at a time: the first rows are all we read, and the parser
        # otherwise turns the whole sheet into events (one Python object each) before the first is seen.
        for _, node in etree.iterparse(_Bytes(data), events=("end",), tag=("{*}c", "{*}row"), resolve_entities=False,
                                       no_network=True, recover=True, huge_tree=False):
            name = local(node.tag)
            if name == "row" and (node.get("r") or "0").isdigit() and int(node.get("r") or 0) > limit_rows:
                break
            if name != "c":
                continue
            ref = (node.get("r") or "").upper()
            match = _CELL.match(ref)
            if match and int(match.group(2)) <= limit_rows:
                cells[ref] = _cell_text(node, strings)
            node.clear()
    except etree.XMLSyntaxError:
        pass
    return cells


class _Bytes:
    CHUNK = 2048

    def __init__(self, data: bytes):
        self._data, self._at = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size is None or size < 0 else self._at + min(size, self.CHUNK)
        chunk = self._data[self._at:end]
        self._at += len(chunk)
        return chunk


def _cell_text(node, strings: list[str]) -> str:
    kind = node.get("t", "")
    value = next((c.text or "" for c in node if local(c.tag) == "v"), "")
    if kind == "s":
        try:
            return strings[int(value)]
        except (ValueError, IndexError):
            return ""
    if kind == "inlineStr":
        return "".join(t.text or "" for t in node.iter() if local(t.tag) == "t")
    return value


# --- Word documents ---------------------------------------------------------------------


@dataclass
class DocumentInfo:
    strict: bool = False
    title: str = ""
    tags: set[str] = field(default_factory=set)
    aliases: set[str] = field(default_factory=set)
    labels: set[str] = field(default_factory=set)  # first-cell texts of table rows
    headers: list[set[str]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # paragraph texts, hidden ones included
    bookmarks: set[str] = field(default_factory=set)
    variables: dict[str, str] = field(default_factory=dict)


_DOCUMENT_TAGS = ("{*}tag", "{*}alias", "{*}bookmarkStart", "{*}p", "{*}tbl")


def read_document(pkg: Package, *, root_only: bool = False) -> DocumentInfo:
    """What identification needs of a Word document. The elements are matched by local name in any
    namespace (or none), as ``read_document_reference`` does node by node, but picked out by lxml's own
    iteration (``{*}name``) instead of a Python test of every node of the body: the same nodes in the
    same order (tests/test_identify_document_fast.py compares the two on real files).
    ``root_only``: the document part parsed and checked, Strict told; nothing of its body read."""
    part = pkg.main_part("word/document.xml")
    root = pkg.xml(part)
    if root is None or local(root.tag) != "document":
        raise PackageError("document part unreadable")
    info = DocumentInfo(strict=(root.nsmap.get("w") or "").startswith(STRICT))
    if root_only:
        return info
    for node in root.iter(*_DOCUMENT_TAGS):
        name = _local(node.tag)
        if name in ("tag", "alias"):
            if local(node.getparent().tag) == "sdtPr":
                value = _attr(node, "val")
                if value:
                    (info.tags if name == "tag" else info.aliases).add(value)
        elif name == "bookmarkStart":
            if _attr(node, "name"):
                info.bookmarks.add(_attr(node, "name"))
        elif name == "p":
            text = "".join(t.text or "" for t in node.iter("{*}t")).strip()
            if text:
                info.texts.append(text)
                if not info.title and local(node.getparent().tag) == "body":
                    info.title = text
        else:  # tbl
            rows = [r for r in node if local(r.tag) == "tr"]
            for i, row in enumerate(rows):
                cells = ["".join(t.text or "" for t in c.iter("{*}t")).strip() for c in row if local(c.tag) == "tc"]
                if i == 0:
                    info.headers.append(set(cells))
                if cells:
                    info.labels.add(cells[0])
    _document_variables(pkg, part, info)
    return info


def _document_variables(pkg: Package, part: str, info: DocumentInfo) -> None:
    settings = next((t for kind, t in pkg.rels(part).values() if kind.endswith("/settings")), "word/settings.xml")
    sroot = pkg.xml(settings)
    for node in sroot.iter("{*}docVar") if sroot is not None else ():
        if _attr(node, "name"):
            info.variables[_attr(node, "name")] = _attr(node, "val") or ""


def read_document_reference(pkg: Package) -> DocumentInfo:
    """``read_document`` node by node in Python: the reference the fast one is tested against."""
    part = pkg.main_part("word/document.xml")
    root = pkg.xml(part)
    if root is None or local(root.tag) != "document":
        raise PackageError("document part unreadable")
    info = DocumentInfo(strict=(root.nsmap.get("w") or "").startswith(STRICT))
    for node in root.iter():
        name = local(node.tag)
        if name in ("tag", "alias") and local(node.getparent().tag) == "sdtPr":
            value = _attr(node, "val")
            if value:
                (info.tags if name == "tag" else info.aliases).add(value)
        elif name == "bookmarkStart" and _attr(node, "name"):
            info.bookmarks.add(_attr(node, "name"))
        elif name == "p":
            text = "".join(t.text or "" for t in node.iter() if local(t.tag) == "t").strip()
            if text:
                info.texts.append(text)
                if not info.title and local(node.getparent().tag) == "body":
                    info.title = text
        elif name == "tbl":
            rows = [r for r in node if local(r.tag) == "tr"]
            for i, row in enumerate(rows):
                cells = [_text(c) for c in row if local(c.tag) == "tc"]
                if i == 0:
                    info.headers.append(set(cells))
                if cells:
                    info.labels.add(cells[0])
    settings = next((t for kind, t in pkg.rels(part).values() if kind.endswith("/settings")), "word/settings.xml")
    sroot = pkg.xml(settings)
    for node in sroot.iter() if sroot is not None else ():
        if local(node.tag) == "docVar" and _attr(node, "name"):
            info.variables[_attr(node, "name")] = _attr(node, "val") or ""
    return info


def _attr(node, name: str) -> str | None:
    return next((v for k, v in node.attrib.items() if local(k) == name), None)


def _text(element) -> str:
    return "".join(t.text or "" for t in element.iter() if local(t.tag) == "t").strip()

"""Rewriting an Office package at zip level: unchanged parts copied as they are stored, a few replaced or added.

Task files are the submitted form plus our 审批 part (decide.task_xlsx, the Word writer
in decide.task_files). Copying a part's compressed bytes instead of inflating and
deflating it again matters for Word forms, whose styles part is ~800 KB unpacked.
"""

from __future__ import annotations

import io
import posixpath
import struct
import zipfile
import zlib
from contextlib import nullcontext
from pathlib import Path

from lxml import etree

from automation import fsutil

REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
CUSTOM_TYPE = REL_NS + "/custom-properties"
CUSTOM_CT = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")


class Unsupported(Exception):
    """The package holds something the zip-level writer leaves to the library writer."""


def serial(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def part_name(base: str, target: str) -> str:
    """A relationship target of part ``base`` as a part name inside the zip (no leading slash)."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def rels_of(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def main_part(zf: zipfile.ZipFile) -> tuple[str, object]:
    """(the main part's name, the parsed root rels)."""
    types = zf.read("[Content_Types].xml")
    if b"macroEnabled" in types:
        raise Unsupported("macro-enabled package")
    root_rels = etree.fromstring(zf.read("_rels/.rels"), PARSER)
    main = next((part_name("", r.get("Target")) for r in root_rels if r.get("Type", "").endswith("/officeDocument")),
                None)
    if main is None or main not in zf.namelist():
        raise Unsupported("no main part")
    return main, root_rels


def related(base: str, rels, kind: str) -> str | None:
    """The part ``base``'s relationships ``rels`` point to with a type ending in ``kind``, or None."""
    return next((part_name(base, r.get("Target")) for r in rels if r.get("Type", "").endswith(kind)), None)


def main_and_styles(zf: zipfile.ZipFile) -> tuple[str, object, str | None]:
    """(the main part's name, the parsed root rels, its styles part or None)."""
    main, root_rels = main_part(zf)
    return main, root_rels, related(main, etree.fromstring(zf.read(rels_of(main)), PARSER), "/styles")


def custom_properties(zf: zipfile.ZipFile, root_rels, types_root, props: dict[str, str]) -> dict[str, bytes]:
    """The parts that set ``props`` as string custom properties (others kept); types/rels edited in place."""
    custom_name, existing, changed = custom_target(zf, root_rels, types_root)
    changed[custom_name] = custom_xml(existing, props)
    return changed


def custom_target(zf: zipfile.ZipFile, root_rels, types_root) -> tuple[str, bytes | None, dict[str, bytes]]:
    """Where the custom properties live: (their part, its current bytes or None when there is none yet,
    the root rels when they had to be told of a new part); types/rels edited in place."""
    names = set(zf.namelist())
    changed: dict[str, bytes] = {}
    custom_name = next((part_name("", r.get("Target")) for r in root_rels if r.get("Type") == CUSTOM_TYPE), None)
    if custom_name is None or custom_name not in names:
        custom_name = "docProps/custom.xml"
        if custom_name in names:
            raise Unsupported("custom properties part not related")
        used = {r.get("Id") for r in root_rels}
        etree.SubElement(root_rels, "{%s}Relationship" % PKG_REL, Type=CUSTOM_TYPE, Target=custom_name,
                         Id=next(f"rId{n}" for n in range(1, 100_000) if f"rId{n}" not in used))
        changed["_rels/.rels"] = serial(root_rels)
        etree.SubElement(types_root, "{%s}Override" % CT_NS, PartName="/" + custom_name, ContentType=CUSTOM_CT)
        return custom_name, None, changed
    return custom_name, zf.read(custom_name), changed


def custom_xml(existing: bytes | None, props: dict[str, str]) -> bytes:
    """The custom properties part ``existing`` (None: a new one) with ``props`` set as strings, others kept."""
    if existing is None:
        root = etree.Element("{%s}Properties" % CUSTOM_NS, nsmap={None: CUSTOM_NS, "vt": VT_NS})
    else:
        root = etree.fromstring(existing, PARSER)
    tag = "{%s}property" % CUSTOM_NS
    pids = [int(p.get("pid", "1")) for p in root.iter(tag)]
    for prop in list(root.iter(tag)):
        if prop.get("name") in props:
            root.remove(prop)
    pid = max(pids, default=1)
    for name, value in props.items():
        pid += 1
        prop = etree.SubElement(root, tag, name=name, fmtid=FMTID, pid=str(pid))
        etree.SubElement(prop, "{%s}lpwstr" % VT_NS).text = str(value)
    return serial(root)


def open_package(source: Path) -> zipfile.ZipFile:
    """The package read into memory once: its checks, its parts and the copy of its stored entries
    (``write(..., archive=)``) all come from these bytes."""
    return zipfile.ZipFile(io.BytesIO(Path(source).read_bytes()))


def write(source: Path, dest: Path, changed: dict[str, bytes], *, archive: zipfile.ZipFile | None = None) -> None:
    """``dest`` (atomically): ``source``'s parts in order, those in ``changed`` replaced, the rest of
    ``changed`` added at the end; unchanged parts copied compressed as they are. ``archive``: the
    source package already open (``open_package``), not read again."""
    with (nullcontext(archive) if archive is not None else zipfile.ZipFile(source)) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if any(i.flag_bits & 0x1 for i in infos):
            raise Unsupported("encrypted entries")
        out = Assembly()
        for info in infos:
            if info.filename in changed:
                put(out, info.filename, changed[info.filename], info.date_time)
            else:
                copy_entry(out, info, stored_bytes(zf, info))
    names = {i.filename for i in infos}
    for name, data in changed.items():
        if name not in names:
            put(out, name, data, (1980, 1, 1, 0, 0, 0))
    fsutil.atomic_write_bytes(dest, out.getvalue())


class Assembly:
    """A zip archive put together in memory, laid out byte for byte as ``zipfile.ZipFile(..., "w")``
    writes the same entries (``put`` and ``copy_entry`` take either): a task file or a receipt is a
    few dozen entries whose headers are the same from file to file, and zipfile's writer built each
    one again (its ``ZipInfo``, local header and central directory record) at a cost of about a third
    of writing the file. Here each header is built once per process (``_headers``)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.central: list[bytes] = []
        self.offset = 0

    def add(self, headers: tuple[bytes, bytes, bytes], data: bytes) -> None:
        local, central, tail = headers
        if self.offset > zipfile.ZIP64_LIMIT:
            raise Unsupported("zip64 archive")
        self.central.append(central + _OFFSET.pack(self.offset) + tail)
        self.chunks += (local, data)
        self.offset += len(local) + len(data)

    def getvalue(self) -> bytes:
        count, directory = len(self.central), b"".join(self.central)
        if count > zipfile.ZIP_FILECOUNT_LIMIT or len(directory) > zipfile.ZIP64_LIMIT:
            raise Unsupported("zip64 archive")
        end = struct.pack(zipfile.structEndArchive, zipfile.stringEndArchive, 0, 0, count, count, len(directory),
                          self.offset, 0)
        return b"".join((*self.chunks, directory, end))


_OFFSET = struct.Struct("<L")
_HEADERS: dict[tuple, tuple[bytes, bytes, bytes]] = {}  # entry fields -> (local header, central record parts)


def _headers(name: str, date_time, compress_type: int, crc: int, compress_size: int, file_size: int,
             external_attr: int, flag_bits: int) -> tuple[bytes, bytes, bytes]:
    """(local header, central directory record up to its offset, the record's name) of an entry, as
    zipfile writes them for a ``ZipInfo`` with these fields and no extra field or comment."""
    key = (name, date_time, compress_type, crc, compress_size, file_size, external_attr, flag_bits)
    found = _HEADERS.get(key)
    if found is None:
        if file_size > zipfile.ZIP64_LIMIT or compress_size > zipfile.ZIP64_LIMIT:
            raise Unsupported("zip64 entry")
        entry = zipfile.ZipInfo(name, date_time=tuple(date_time))
        entry.compress_type, entry.external_attr, entry.flag_bits = compress_type, external_attr, flag_bits
        entry.CRC, entry.compress_size, entry.file_size = crc, compress_size, file_size
        local = entry.FileHeader(zip64=False)
        filename, flags = entry._encodeFilenameFlags()
        dt = entry.date_time
        dosdate, dostime = (dt[0] - 1980) << 9 | dt[1] << 5 | dt[2], dt[3] << 11 | dt[4] << 5 | (dt[5] // 2)
        central = struct.pack(zipfile.structCentralDir, zipfile.stringCentralDir, entry.create_version,
                              entry.create_system, entry.extract_version, entry.reserved, flags, compress_type,
                              dostime, dosdate, crc, compress_size, file_size, len(filename), len(entry.extra),
                              len(entry.comment), 0, entry.internal_attr, external_attr, 0)[:-_OFFSET.size]
        found = (local, central, filename + entry.extra + entry.comment)
        if len(_HEADERS) >= 4096:
            _HEADERS.clear()
        _HEADERS[key] = found
    return found


def put(out: zipfile.ZipFile | Assembly, name: str, data: bytes, date_time) -> None:
    """Add ``data`` deflated as zipfile's ``writestr`` would. A part of up to ``KEEP_DEFLATED`` bytes is
    deflated once per process: the parts a task file shares with the last ones of its form (styles,
    workbook rels, content types, the options sheet) are written from the kept stream."""
    found = _DEFLATED.get(data) if len(data) <= KEEP_DEFLATED else None
    if found is None:
        compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
        found = (zlib.crc32(data), compressor.compress(data) + compressor.flush())
        if len(data) <= KEEP_DEFLATED:
            while len(_DEFLATED) >= 512:
                _DEFLATED.pop(next(iter(_DEFLATED), None), None)
            _DEFLATED[data] = found
    if isinstance(out, Assembly):
        out.add(_headers(name, date_time, zipfile.ZIP_DEFLATED, found[0], len(found[1]), len(data), 0o600 << 16, 0),
                found[1])
        return
    entry = zipfile.ZipInfo(name, date_time=date_time)
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.external_attr = 0o600 << 16
    entry.CRC, entry.file_size, entry.compress_size = found[0], len(data), len(found[1])
    _append(out, entry, found[1])


KEEP_DEFLATED = 64 * 1024
_DEFLATED: dict[bytes, tuple[int, bytes]] = {}  # part bytes -> (CRC-32, raw deflate stream); oldest dropped first


def stored_bytes(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    zf.fp.seek(info.header_offset)
    header = _LOCAL_HEADER.unpack(zf.fp.read(_LOCAL_HEADER.size))
    if header[0] != zipfile.stringFileHeader:
        raise Unsupported("bad local header")
    zf.fp.seek(header[10] + header[11], 1)  # file name and extra field
    data = zf.fp.read(info.compress_size)
    if len(data) != info.compress_size:
        raise Unsupported("truncated entry")
    return data


def copy_entry(out: zipfile.ZipFile | Assembly, info: zipfile.ZipInfo, data: bytes) -> None:
    """Append an entry whose compressed bytes (and CRC, sizes) are taken as they were stored."""
    if isinstance(out, Assembly):
        # (keep the UTF-8 name flag; sizes are in the header)
        out.add(_headers(info.filename, info.date_time, info.compress_type, info.CRC, info.compress_size,
                         info.file_size, info.external_attr, info.flag_bits & 0x800), data)
        return
    entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    entry.compress_type = info.compress_type
    entry.CRC, entry.compress_size, entry.file_size = info.CRC, info.compress_size, info.file_size
    entry.external_attr = info.external_attr
    entry.flag_bits = info.flag_bits & 0x800  # keep the UTF-8 name flag; sizes are in the header
    _append(out, entry, data)


def _append(out: zipfile.ZipFile, entry: zipfile.ZipInfo, data: bytes) -> None:
    """Write an entry whose CRC, sizes and compressed bytes are known, as zipfile's own writer lays it out."""
    zip64 = entry.file_size > zipfile.ZIP64_LIMIT or entry.compress_size > zipfile.ZIP64_LIMIT
    if zip64:
        raise Unsupported("zip64 entry")
    entry.header_offset = out.fp.tell()
    out.fp.write(entry.FileHeader(zip64=False))
    out.fp.write(data)
    out.start_dir = out.fp.tell()
    out.filelist.append(entry)
    out.NameToInfo[entry.filename] = entry
    out._didModify = True

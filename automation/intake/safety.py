"""May this file reach a parser at all? Checked before openpyxl or python-docx see a byte.

The checks run cheapest first and each refusal names its own code, so a
person reading the quarantine reason knows exactly what to change. Everything
is read in capped, streamed chunks: a hostile file costs us little to refuse.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Iterator
from xml.sax import SAXException


from automation.errors import UnsafeFileError
from automation.forms import opened
from automation.intake import reasons
from automation.intake import sniff as sniffing
from automation.intake.reasons import problem_and_advice
from automation.settings import Limits

CHUNK = 64 * 1024
# The ratio and the absolute size are judged together. Below 1 MB any ratio is
# harmless (a repetitive styles part easily shrinks 100-fold). A genuine sheet may
# shrink more than the ratio limit (a Mac Excel sheet of repeated cells: 121×), so up
# to 16 MB a part is a bomb only beyond twice the limit (zeros deflate 229× even at the
# fastest level); above 16 MB the limit itself holds.
RATIO_FLOOR_BYTES = 1024 * 1024
RATIO_STRICT_BYTES = 16 * 1024 * 1024
RATIO_TOLERANCE = 2
OFFICE_KINDS = ("xlsx", "docx")
ENCRYPTION_STREAMS = frozenset({"EncryptionInfo", "EncryptedPackage"})

_LOOKS_LIKE = {"pdf": " PDF 文档", "image": "图片", "text": "纯文本", "zip": "普通压缩包", "unknown": "未知内容"}
_LEGACY_STREAMS = {"Workbook": "Excel 97-2003 工作簿(.xls)", "Book": "Excel 97-2003 工作簿(.xls)",
                   "WordDocument": "Word 97-2003 文档(.doc)"}
# WPS's own formats are compound files too; the extension says which program wrote them.
_WPS_SUFFIXES = {".et": "WPS 表格(.et)", ".ett": "WPS 表格模板(.ett)", ".wps": "WPS 文字(.wps)",
                 ".wpt": "WPS 文字模板(.wpt)"}
_ODF_TYPES = {"application/vnd.oasis.opendocument.spreadsheet": "OpenDocument 电子表格(.ods)",
              "application/vnd.oasis.opendocument.text": "OpenDocument 文本(.odt)",
              "application/vnd.oasis.opendocument.spreadsheet-template": "OpenDocument 电子表格模板(.ots)",
              "application/vnd.oasis.opendocument.text-template": "OpenDocument 文本模板(.ott)"}
# Codes whose file is fine but in a format we do not read: answered with how to save it, not quarantined.
SAVE_AS_CODES = frozenset({"file-legacy-format"})
_SAVE_AS = "请在 Excel 或 Word 中点击「文件 → 另存为」,保存类型选「Excel 工作簿(*.xlsx)」或「Word 文档(*.docx)」,再把新文件放入 inbox/。"
_START_OVER = "为安全起见系统没有打开此文件。请从 forms/ 取用最新的空白表单重新填写后提交;如文件来自外部,请先与发送人核实,并告知信息部门。"

# What the sender should do, one line per code; reason files quote it verbatim.
ADVICE = {
    "file-empty": "请在 Excel 或 Word 中打开您的原文件,确认内容完整并保存后,再把文件放入 inbox/。",
    "file-too-large": "请删除表单中不必要的图片、嵌入的文件或多余的工作表并保存后重新提交;确需提交大文件时,请联系办公室管理员。",
    "file-encrypted": "请用密码在 Excel 或 Word 中打开文件,点击「文件 → 信息 → 保护工作簿/保护文档 → 用密码进行加密」,清空密码并保存后,再放入 inbox/。",
    "file-legacy-format": "请另存为 .xlsx/.docx:" + _SAVE_AS,
    "file-not-office": "请使用 forms/ 中的空白表单,用 Excel 或 Word 填写并保存为 .xlsx 或 .docx 后再放入 inbox/;扫描件、图片或 PDF 不能作为表单提交,请直接交给经办人。",
    "file-damaged": "请在 Excel 或 Word 中打开原文件,确认能正常打开后「另存为」一份新文件再放入 inbox/;如原文件也打不开,请重新填写表单。",
    "zip-too-many-entries": _START_OVER,
    "zip-too-large": _START_OVER,
    "zip-bomb": _START_OVER,
    "file-macro": _SAVE_AS + "另存时选择不含宏的格式即可,表单内容不受影响。",
    "internal-error": "这不是您的问题。管理员处理后会与您联系;如事情紧急,请先与办公室管理员联系。",
    "table-too-long": "请把明细拆分为几张表单分别提交,每张不超过 5,000 行。",
    "file-crashes-processing": "请在 Excel 或 Word 中打开文件,删除多余的行、图片或工作表后「另存为」新文件再提交;如仍不行,请联系办公室管理员。",
    "xml-entity": _START_OVER,
}
DEFAULT_ADVICE = "请联系办公室管理员协助处理。"


def inspect_file(path: Path, limits: Limits) -> str:
    """'xlsx' or 'docx' (judged by content) when ``path`` is safe to parse; otherwise UnsafeFileError."""
    path = Path(path)
    size = path.stat().st_size
    _check_size(path, size, limits)
    kind = sniffing.kind_of_head(sniffing.read_head(path))
    if kind == "ole":
        _refuse_ole(path)
    if kind != "zip":
        raise _unsafe(path, "file-not-office", f"文件内容看起来是{_LOOKS_LIKE.get(kind, '未知内容')},不是 Excel 或 Word 文件。")
    try:
        return _inspect_zip(path, size, limits)
    except UnsafeFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError,
            ValueError, struct.error, NotImplementedError, RuntimeError, KeyError, SAXException) as exc:
        # (NotImplementedError: zipfile's own, for a compression method it does not have)
        raise _unsafe(path, "file-damaged", "文件已损坏或不完整,无法作为 Excel 或 Word 文件读取。") from exc


def reason_text(error: UnsafeFileError, *, file_name: str, sha256: str, when: datetime) -> str:
    """The body of ``<name>.原因.txt`` beside a quarantined file: one problem sentence, one advice."""
    if when.tzinfo is None:
        raise ValueError("reason_text needs a timezone-aware time (use Clock.now())")
    problem, advice = problem_and_advice(error.message, ADVICE.get(error.code, DEFAULT_ADVICE))
    return reasons.reason_text(title="隔离说明", file_name=file_name, sha256=sha256, when=when, problem=problem,
                               advice=advice, closing="给您带来不便,敬请谅解;如有疑问,请联系办公室管理员。")


def _unsafe(path: Path, code: str, what: str, part: str | None = None) -> UnsafeFileError:
    location = f"{path.name}/{part}" if part else path.name
    return UnsafeFileError(f"{what}{ADVICE[code]}", code=code, location=location)


def _check_size(path: Path, size: int, limits: Limits) -> None:
    if size == 0:
        raise _unsafe(path, "file-empty", "文件是空的(0 字节),可能尚未保存完成或复制时出错。")
    if size > limits.max_file_bytes:
        raise _unsafe(path, "file-too-large",
                      f"文件大小为 {_mb(size)} MB,超过了系统允许的上限 {_mb(limits.max_file_bytes)} MB。")


def _mb(size: int | float) -> str:
    return f"{size / 1024 / 1024:,.2f}".rstrip("0").rstrip(".")


# --- OLE compound files: legacy .xls/.doc, or an encrypted .xlsx/.docx ---------------

def _refuse_ole(path: Path) -> None:
    names = ole_stream_names(path)
    if names & ENCRYPTION_STREAMS:
        raise _unsafe(path, "file-encrypted", "文件设置了打开密码(已加密),系统无法读取其内容。")
    legacy = _WPS_SUFFIXES.get(path.suffix.lower()) or next(
        (f"旧版 {label}" for stream, label in _LEGACY_STREAMS.items() if stream in names), "旧版 Office 97-2003")
    raise _unsafe(path, "file-legacy-format", f"这是{legacy}格式的文件,系统只接受 .xlsx 和 .docx 格式。")


def ole_stream_names(path: Path) -> set[str]:
    """Names in the CFB directory, found by scanning for 128-byte directory entries.

    Walking the FAT would be exact; the scan needs no dependency and a text run
    would have to sit on a 128-byte boundary with a matching length field to fool it.
    """
    names: set[str] = set()
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK):  # CHUNK is a multiple of 128, so entries never straddle
            names.update(_entry_name(chunk[at:at + 128]) for at in range(0, len(chunk) - 127, 128))
    names.discard("")
    return names


def _entry_name(entry: bytes) -> str:
    length = int.from_bytes(entry[64:66], "little")
    # Object types: 1 storage, 2 stream, 5 root; names are NUL-terminated UTF-16LE.
    if entry[66] not in (1, 2, 5) or not 2 <= length <= 64 or length % 2 or entry[length - 2:length] != b"\0\0":
        return ""
    return entry[:length - 2].decode("utf-16-le", errors="replace")


# --- ZIP packages --------------------------------------------------------------------

def _inspect_zip(path: Path, size: int, limits: Limits) -> str:
    with opened.open_zip(path) as archive:
        infos = archive.infolist()
        _check_declared(path, infos, size, limits)
        stored: dict[str, bytes] = {}  # the compressed bytes of the big parts, kept for _check_xml_parts
        inflated: dict[zipfile.ZipInfo, bytes] = {}  # the small parts as _check_inflated inflated them, whole
        _check_inflated(path, infos, stored, inflated)
        kind = sniffing.zip_kind(archive)
        if kind in ("xlsm", "docm"):
            raise _unsafe(path, "file-macro", "文件包含宏(VBA 代码),为安全起见系统不接受启用宏的文件(.xlsm/.docm)。")
        _check_xml_parts(path, archive, stored, inflated)
        odf = _odf_type(archive) if kind not in OFFICE_KINDS else None
    if odf:
        raise _unsafe(path, "file-legacy-format", f"这是{odf}格式的文件(LibreOffice/WPS 的开放文档格式),系统只接受 .xlsx 和 .docx 格式。")
    if kind not in OFFICE_KINDS:
        raise _unsafe(path, "file-not-office", "文件是一个压缩包,但里面既不是 Excel 工作簿也不是 Word 文档。")
    return kind


def _odf_type(archive: zipfile.ZipFile) -> str | None:
    try:
        with archive.open("mimetype") as stream:
            declared = stream.read(200).decode("ascii", "replace").strip()
    except KeyError:
        return None
    return _ODF_TYPES.get(declared)


def _check_declared(path: Path, infos: list[zipfile.ZipInfo], size: int, limits: Limits) -> None:
    if len(infos) > limits.max_zip_entries:
        raise _unsafe(path, "zip-too-many-entries",
                      f"文件内部包含 {len(infos)} 个部件,超过了安全上限 {limits.max_zip_entries} 个。")
    total = sum(info.file_size for info in infos)
    if total > limits.max_uncompressed_bytes:
        raise _unsafe(path, "zip-too-large",
                      f"文件解压后的内容达 {_mb(total)} MB,超过了安全上限 {_mb(limits.max_uncompressed_bytes)} MB。")
    for info in infos:
        _check_ratio(path, info.file_size, info.compress_size, limits, info.filename)
    _check_ratio(path, total, size, limits, None)


def _check_ratio(path: Path, inflated: int, deflated: int, limits: Limits, part: str | None) -> None:
    ratio = inflated / max(deflated, 1)
    limit = limits.max_compression_ratio * (1 if inflated > RATIO_STRICT_BYTES else RATIO_TOLERANCE)
    if inflated > RATIO_FLOOR_BYTES and ratio > limit:
        where = f"内部部件「{part}」" if part else "整个文件"
        raise _unsafe(path, "zip-bomb", f"文件{where}的压缩比异常({ratio:,.0f} 倍,上限 {limit:g} 倍),"
                                        "可能是恶意构造的“压缩炸弹”。", part)


def _check_inflated(path: Path, infos: list[zipfile.ZipInfo], stored: dict[str, bytes] | None = None,
                    inflated_parts: dict | None = None) -> None:
    """Inflate every entry ourselves, stopping one byte past its declared size.

    The declared sizes were checked against the limits; this proves they are not lies. A big part
    whose compressed bytes and declared sizes are those of a part already proven here (the blank
    form's styles, the same in every submission: ``_PROVEN``) is not inflated again. ``stored``
    receives the compressed bytes of the big parts, for ``_check_xml_parts``; ``inflated_parts`` the
    inflated bytes of the small ones (under PROVEN_MIN_BYTES) whose stream ended within their declared
    size, so that the scan for declarations need not inflate them a second time.
    """
    with opened.raw_stream(path) as raw:
        for info in infos:
            if info.flag_bits & 0x1:
                raise _unsafe(path, "file-encrypted", "文件内部的部件设置了密码(已加密),系统无法读取其内容。", info.filename)
            key = _proof_key(info)
            if key is not None and stored is not None:
                data = b"".join(_raw_chunks(raw, info))
                stored[info.filename] = data
                if _PROVEN.get(("inflated", key)) == data:
                    continue
                inflated = _inflated_size(io.BytesIO(data), info, info.file_size + 1, offset=False)
                if inflated <= info.file_size:
                    _prove(("inflated", key), data)
            elif inflated_parts is not None and info.file_size < PROVEN_MIN_BYTES:
                inflated, whole = _inflated_bytes(raw, info, info.file_size + 1)
                if whole is not None and inflated <= info.file_size and _opens_in_zipfile(raw, info):
                    inflated_parts[info] = whole
            else:
                inflated = _inflated_size(raw, info, info.file_size + 1)
            if inflated > info.file_size:
                raise _unsafe(path, "zip-bomb", "文件内部部件解压后的实际大小超过了它声明的大小,可能是恶意构造的“压缩炸弹”。",
                              info.filename)


# Parts proven in this process (inflated within their declared size; or scanned clean to the end and
# their CRC checked), by what decides the outcome of each check: the entry's name, compression, flags,
# declared sizes and CRC — and its compressed bytes, compared in full. Only parts of at least
# PROVEN_MIN_BYTES inflated are remembered (the big styles part of every form), a few at a time.
PROVEN_MIN_BYTES = 64 * 1024
PROVEN_MAX_COMPRESSED = 4 * 1024 * 1024
_PROVEN: dict[tuple, bytes] = {}
_PROVEN_MAX = 16


def _proof_key(info: zipfile.ZipInfo) -> tuple | None:
    if info.file_size < PROVEN_MIN_BYTES or info.compress_size > PROVEN_MAX_COMPRESSED:
        return None
    return (info.filename, info.orig_filename, info.compress_type, info.flag_bits, info.file_size,
            info.compress_size, info.CRC)


class UnsupportedCompression(zipfile.BadZipFile):
    """An entry compressed other than stored or deflated: Excel, Word, WPS and LibreOffice write only
    those two, so such a package is not one of theirs and is refused as unreadable."""

    def __init__(self, method: int):
        super().__init__(f"compression method {method}")


def _prove(key: tuple, data: bytes) -> None:
    while len(_PROVEN) >= _PROVEN_MAX:
        _PROVEN.pop(next(iter(_PROVEN), None), None)  # (tolerant of another thread)
    _PROVEN[key] = data


def _inflated_size(raw: BinaryIO, info: zipfile.ZipInfo, cap: int, *, offset: bool = True) -> int:
    """``offset``: ``raw`` is the whole file (the entry is found by its local header); else ``raw``
    holds just the entry's compressed bytes."""
    chunks = _raw_chunks(raw, info) if offset else iter(lambda: raw.read(CHUNK), b"")
    if info.compress_type == zipfile.ZIP_STORED:
        return sum(len(chunk) for chunk in chunks)
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise UnsupportedCompression(info.compress_type)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    count = 0
    for chunk in chunks:
        count += _drain(inflater, chunk, cap - count)
        if count >= cap:
            break
    return count


def _inflated_bytes(raw: BinaryIO, info: zipfile.ZipInfo, cap: int) -> tuple[int, bytes | None]:
    """``_inflated_size`` of the entry (the same count, the same cap), and its inflated bytes when its
    stream ended (a stored entry: all its bytes; a deflated one: zlib's end of stream) — else None."""
    chunks = _raw_chunks(raw, info)
    if info.compress_type == zipfile.ZIP_STORED:
        data = b"".join(chunks)
        return len(data), data
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise UnsupportedCompression(info.compress_type)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    out: list[bytes] = []
    count = 0
    for chunk in chunks:
        count += _drain(inflater, chunk, cap - count, out)
        if count >= cap:
            break
    return count, (b"".join(out) if inflater.eof else None)


def _opens_in_zipfile(raw: BinaryIO, info: zipfile.ZipInfo) -> bool:
    """Whether ``zipfile.ZipFile.open`` would open the entry (it checks its local header: the signature,
    the name it repeats, the flags it refuses, the compression it knows). A part that opens, whose bytes
    inflated here are whole and carry the declared CRC, is scanned in those bytes without opening it
    again; any other part is opened through zipfile, which raises what it always raised."""
    if info.flag_bits & 0x61 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return False  # (encrypted, compressed patched data, strong encryption)
    raw.seek(info.header_offset)
    header = raw.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        return False
    flags, = struct.unpack("<H", header[6:8])
    name_length, = struct.unpack("<H", header[26:28])
    name = raw.read(name_length)
    try:
        return name.decode("utf-8" if flags & 0x800 else "cp437") == info.orig_filename
    except UnicodeDecodeError:
        return False


def _drain(inflater, data: bytes, budget: int, keep: list | None = None) -> int:
    """Inflate ``data`` in bounded steps, giving up once ``budget`` bytes came out."""
    count = 0
    while count < budget:
        out = inflater.decompress(data, CHUNK)
        count += len(out)
        if keep is not None:
            keep.append(out)
        data = inflater.unconsumed_tail
        # At the end of the stream zlib keeps handing back the trailing bytes, so eof must stop us.
        if inflater.eof or not out or (not data and len(out) < CHUNK):
            break
    return count


def _raw_chunks(raw: BinaryIO, info: zipfile.ZipInfo) -> Iterator[bytes]:
    raw.seek(info.header_offset)
    header = raw.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    raw.seek(info.header_offset + 30 + name_length + extra_length)
    left = info.compress_size
    while left > 0 and (chunk := raw.read(min(CHUNK, left))):
        left -= len(chunk)
        yield chunk


# --- XML parts -----------------------------------------------------------------------

_XML_STARTS = (b"<", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00<")
_DECLARATIONS = tuple(marker.encode(enc) for marker in ("<!DOCTYPE", "<!ENTITY") for enc in ("ascii", "utf-16-le", "utf-16-be"))


def _check_xml_parts(path: Path, archive: zipfile.ZipFile, stored: dict[str, bytes] | None = None,
                     inflated: dict | None = None) -> None:
    """Every part that is XML by content (whatever its name) is scanned for DTD declarations.

    A byte scan, not a parse: an entity bomb needs a DOCTYPE, and finding the
    marker is all it takes to refuse. (A full SAX parse of every part cost a fifth
    of the intake time; the readers parse with defusedxml anyway, and a part that
    is malformed fails there as a damaged file.) Each part is opened and its head read
    as always; a big part byte-identical (``stored``, compared with ``_PROVEN``) to one
    scanned clean to its end before is not inflated and scanned again: the same bytes
    give the same scan and the same CRC. A small part ``_check_inflated`` inflated whole (``inflated``)
    is scanned in those bytes, once their CRC is the one declared and its local header is one zipfile
    opens (``_opens_in_zipfile``: opening it would only repeat that check, a twentieth of the scan);
    any other part, or one whose CRC differs, is read through zipfile as before, which raises what it raised.
    """
    stored = stored or {}
    inflated = inflated or {}
    for info in archive.infolist():
        whole = inflated.get(info)
        if whole is not None and len(whole) == info.file_size and zlib.crc32(whole) == info.CRC:
            # (its local header is one zipfile opens: _opens_in_zipfile; opening it would change nothing)
            if whole[:8].lstrip(b" \t\r\n").startswith(_XML_STARTS):
                _DeclarationScanner(None, path, info.filename).check(whole)
                opened.keep_part(archive, info, whole)
            continue
        with archive.open(info) as stream:
            head = stream.read(8)
            if not head.lstrip(b" \t\r\n").startswith(_XML_STARTS):
                continue
            scanner = _DeclarationScanner(stream, path, info.filename)
            scanner.check(head)
            key = _proof_key(info)
            data = stored.get(info.filename)
            if key is not None and data is not None and _PROVEN.get(("scanned", key)) == data:
                continue
            chunks = [head]
            while chunk := scanner.read(CHUNK):
                chunks.append(chunk)
            opened.keep_part(archive, info, b"".join(chunks))  # read to its end: the CRC held; the readers take it
            if key is not None and data is not None:
                _prove(("scanned", key), data)  # scanned to the end: no declaration, the CRC held


def _entity_error(path: Path, part: str) -> UnsafeFileError:
    return _unsafe(path, "xml-entity", f"文件内部部件「{part}」含有 XML 文档类型声明(DOCTYPE)或实体定义(ENTITY),"
                                       "正常的 Excel/Word 文件不会包含这些内容。", part)


class _DeclarationScanner:
    """A read-through stream that refuses the part as soon as a DOCTYPE or ENTITY goes by.

    The parser would refuse it too; the byte scan also catches declarations the
    parser never reaches because the part is malformed further on.
    """

    _KEEP = max(len(marker) for marker in _DECLARATIONS) - 1

    def __init__(self, stream: BinaryIO, path: Path, part: str):
        self._stream, self._path, self._part = stream, path, part
        self._tail = b""

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # xml.sax probes with read(0) to tell bytes from text
            return b""
        data = self._stream.read(size if size > 0 else CHUNK)
        self.check(data)
        return data

    def check(self, data: bytes) -> None:
        window = self._tail + data
        # Every marker holds "<!" (ASCII, UTF-8) or "<\0!" (UTF-16, either order): two scans of the
        # window instead of six, and the six only where one of those occurs (a comment, CDATA).
        if (b"<!" in window or b"<\x00!" in window) and any(marker in window for marker in _DECLARATIONS):
            raise _entity_error(self._path, self._part)
        self._tail = window[-self._KEEP:]

    def close(self) -> None:
        self._stream.close()

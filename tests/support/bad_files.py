"""Factories for real files, good and bad, built in a folder the test owns.

Each returns the path it wrote. Office files are made by the real libraries
(openpyxl, python-docx, msoffcrypto-tool) and then altered at the zip level,
the way a hostile sender would.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from pathlib import Path

import docx
import msoffcrypto.format.ooxml
import openpyxl

VBA_DEFAULT = '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"

BILLION_LAUGHS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10))
    + ']>\n<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    "<Application>&lol9;</Application></Properties>"
)


def valid_xlsx(folder: Path, name: str = "费用报销单.xlsx") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "表单"
    sheet["A1"], sheet["B1"] = "申请人", "张三"
    sheet["A2"], sheet["B2"] = "金额", 1280.5
    path = folder / name
    book.save(path)
    return path


def valid_docx(folder: Path, name: str = "合同审批单.docx") -> Path:
    document = docx.Document()
    document.add_heading("合同审批单", level=1)
    document.add_paragraph("合同名称:办公用品采购合同")
    path = folder / name
    document.save(path)
    return path


def docx_renamed_xlsx(folder: Path, name: str = "其实是文档.xlsx") -> Path:
    return valid_docx(folder, name)


def zero_byte(folder: Path, name: str = "空文件.xlsx") -> Path:
    return _write(folder / name, b"")


def random_bytes(folder: Path, name: str = "乱码.xlsx", size: int = 4096, seed: int = 7) -> Path:
    return _write(folder / name, random.Random(seed).randbytes(size))


def pdf_file(folder: Path, name: str = "扫描件.xlsx") -> Path:
    return _write(folder / name, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n")


def png_file(folder: Path, name: str = "截图.xlsx") -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1x1, 8-bit greyscale
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b"")
    return _write(folder / name, png)


def text_file(folder: Path, name: str = "说明.docx") -> Path:
    return _write(folder / name, "申请人:张三\n金额:1,280.50 元\n事由:差旅\n".encode("utf-8"))


def xlsm_with_macro(folder: Path, name: str = "带宏的报销单.xlsm") -> Path:
    source = valid_xlsx(folder, "_base.xlsx").read_bytes()
    types = _read(source, "[Content_Types].xml").replace(XLSX_MAIN, XLSM_MAIN)
    types = types.replace("<Default ", VBA_DEFAULT + "<Default ", 1)
    return _rebuild(source, folder / name, {"[Content_Types].xml": types.encode(), "xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" * 64})


def vba_only_xlsx(folder: Path, name: str = "藏了宏.xlsx") -> Path:
    """A plain-xlsx content type with a vbaProject.bin tucked in: the content type lies."""
    source = valid_xlsx(folder, "_base.xlsx").read_bytes()
    return _rebuild(source, folder / name, {"xl/vbaProject.bin": b"\x00" * 256})


def encrypted_xlsx(folder: Path, name: str = "加密的报销单.xlsx", password: str = "1234") -> Path:
    plain = valid_xlsx(folder, "_plain.xlsx")
    out = io.BytesIO()
    with open(plain, "rb") as stream:
        msoffcrypto.format.ooxml.OOXMLFile(stream).encrypt(password, out)
    return _write(folder / name, out.getvalue())


def legacy_ole(folder: Path, name: str = "旧版报销单.xls", stream: str = "Workbook") -> Path:
    """A minimal but well-formed CFB (version 3) holding one 4 KiB stream, like a .xls/.doc."""
    return _write(folder / name, _cfb({stream: b"\x09\x08" + b"\x00" * 4094}))


def zip_bomb(folder: Path, name: str = "炸弹.xlsx", megabytes: int = 300) -> Path:
    """One entry of zeros, compressed while streaming, so memory stays at one MiB."""
    path = folder / name
    zeros = bytes(1024 * 1024)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as entry:
            for _ in range(megabytes):
                entry.write(zeros)
    return path


def lying_sizes_xlsx(folder: Path, name: str = "谎报大小.xlsx", megabytes: int = 8, claimed: int = 100) -> Path:
    """A valid workbook plus one part whose headers claim ``claimed`` bytes but that inflates to megabytes."""
    source = valid_xlsx(folder, "_base.xlsx").read_bytes()
    part = "xl/media/image1.png"
    path = _rebuild(source, folder / name, {part: bytes(megabytes * 1024 * 1024)})
    path.write_bytes(_patch_declared_size(path.read_bytes(), part, claimed))
    return path


def too_many_entries(folder: Path, name: str = "部件过多.xlsx", extra: int = 50) -> Path:
    source = valid_xlsx(folder, "_base.xlsx").read_bytes()
    return _rebuild(source, folder / name, {f"customXml/item{i}.bin": b"x" for i in range(extra)})


def entity_bomb_xlsx(folder: Path, name: str = "实体炸弹.xlsx", part: str = "docProps/app.xml") -> Path:
    source = valid_xlsx(folder, "_base.xlsx").read_bytes()
    return _rebuild(source, folder / name, {part: BILLION_LAUGHS.encode("utf-8")})


def entity_in_oddly_named_part(folder: Path, name: str = "改名的部件.docx") -> Path:
    """The DOCTYPE hides in a part whose name does not end in .xml."""
    source = valid_docx(folder, "_base.docx").read_bytes()
    return _rebuild(source, folder / name, {"word/settings.dat": BILLION_LAUGHS.encode("utf-16")})


def plain_zip(folder: Path, name: str = "资料.xlsx") -> Path:
    path = folder / name
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("readme.txt", "不是表单")
    return path


# --- helpers -------------------------------------------------------------------------

def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _read(package: bytes, part: str) -> str:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        return archive.read(part).decode("utf-8")


def _rebuild(package: bytes, dest: Path, replace: dict[str, bytes]) -> Path:
    """Copy a package, swapping or adding the given parts."""
    with zipfile.ZipFile(io.BytesIO(package)) as src, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            out.writestr(info.filename, replace.get(info.filename, src.read(info)))
        for part in replace.keys() - set(src.namelist()):
            out.writestr(part, replace[part])
    return dest


def _patch_declared_size(data: bytes, part: str, size: int) -> bytes:
    """Overwrite the uncompressed size of ``part`` in its local and central headers."""
    buffer = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info, start = archive.getinfo(part), archive.start_dir
    struct.pack_into("<I", buffer, info.header_offset + 22, size)
    at = start
    while buffer[at:at + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", buffer, at + 28)
        if bytes(buffer[at + 46:at + 46 + name_len]) == part.encode():
            struct.pack_into("<I", buffer, at + 24, size)
        at += 46 + name_len + extra_len + comment_len
    return bytes(buffer)


_FREE, _END, _FAT, _NONE = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _cfb(streams: dict[str, bytes]) -> bytes:
    """Sector 0 holds the FAT, sector 1 the directory, then each stream in whole sectors."""
    fat, data, entries, next_sector = [_FAT, _END], b"", [], 2
    for name, payload in streams.items():
        assert len(payload) >= 4096 and len(payload) % 512 == 0  # stay out of the mini stream
        count = len(payload) // 512
        fat += list(range(next_sector + 1, next_sector + count)) + [_END]
        entries.append((name, 2, next_sector, len(payload)))
        data, next_sector = data + payload, next_sector + count
    directory = _dir_entry("Root Entry", 5, _END, 0, child=1 if entries else _NONE)
    for index, (name, kind, start, size) in enumerate(entries):
        sibling = index + 2 if index + 1 < len(entries) else _NONE
        directory += _dir_entry(name, kind, start, size, right=sibling)
    directory = directory.ljust(512, b"\x00")  # at most three streams fit this one sector
    return _cfb_header() + struct.pack("<128I", *(fat + [_FREE] * (128 - len(fat)))) + directory + data


def _cfb_header() -> bytes:
    head = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
    head += struct.pack("<HHHHH6sIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6, bytes(6), 0, 1, 1, 0, 4096, _END, 0, _END, 0)
    return head + struct.pack("<109I", 0, *([_FREE] * 108))


def _dir_entry(name: str, kind: int, start: int, size: int, *, child: int = _NONE, right: int = _NONE) -> bytes:
    encoded = name.encode("utf-16-le") + b"\x00\x00"
    return (encoded.ljust(64, b"\x00") + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", _NONE, right, child) + bytes(16) + struct.pack("<I", 0) + bytes(16)
            + struct.pack("<IQ", start, size))


def docm_with_macro(folder: Path, name: str = "带宏的合同.docm") -> Path:
    source = valid_docx(folder, "_base.docx").read_bytes()
    docx_main = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    types = _read(source, "[Content_Types].xml").replace(docx_main, "application/vnd.ms-word.document.macroEnabled.main+xml")
    return _rebuild(source, folder / name, {"[Content_Types].xml": types.encode(), "word/vbaProject.bin": b"\x00" * 256})


def without_content_types(folder: Path, name: str = "缺类型表.xlsx") -> Path:
    """A workbook whose [Content_Types].xml is gone: only the main part name tells what it is."""
    source = valid_xlsx(folder, "_base.xlsx").read_bytes()
    dest = folder / name
    with zipfile.ZipFile(io.BytesIO(source)) as src, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename != "[Content_Types].xml":
                out.writestr(info.filename, src.read(info))
    return dest


def deflate_with_trailing_bytes(folder: Path, name: str = "尾部多余.xlsx", trailing: bytes = b"\x00" * 600) -> Path:
    """One deflated entry whose stored data runs on past the end of its deflate stream."""
    content = b"<x>" + b"a" * 200_000 + b"</x>"  # over one inflate step, so the stream ends mid-loop
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = packer.compress(content) + packer.flush() + trailing
    part, crc = b"data.xml", zlib.crc32(content)
    sizes = struct.pack("<III", crc, len(body), len(content))
    local = b"PK\x03\x04" + struct.pack("<HHHHH", 20, 0, 8, 0, 0) + sizes + struct.pack("<HH", len(part), 0) + part
    central = (b"PK\x01\x02" + struct.pack("<HHHHHH", 20, 20, 0, 8, 0, 0) + sizes
               + struct.pack("<HHHHHII", len(part), 0, 0, 0, 0, 0, 0) + part)
    offset = len(local) + len(body)
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, len(central), offset, 0)
    return _write(folder / name, local + body + central + end)

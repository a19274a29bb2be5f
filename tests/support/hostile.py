"""A generated hostile corpus: every class of file an unlucky or hostile office drops into
inbox/, each with where it must end and the reason code it must carry.

``CORPUS`` lists cases; ``case.make(inbox, staging)`` creates the entry (a file,
a FIFO, a socket, a link …) and returns its path relative to the inbox, as the
OS spells it (surrogate escapes for bytes that are not UTF-8).
"""

from __future__ import annotations

import os
import socket
import zipfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Callable

from support import bad_files
from support.forms import build_blank, fill_xlsx

from automation import samples

QUARANTINED, RETURNED, ARCHIVED = "quarantined", "returned", "archived"
_SOCKETS: list[socket.socket] = []


@dataclass(frozen=True)
class Case:
    id: str
    make: Callable[[Path, Path], str]
    status: str
    codes: tuple[str, ...]
    problem: str | None = None  # a problem code the stored problems must include


def _junk(name: str, data: bytes = b"not an office file") -> Callable[[Path, Path], str]:
    def make(inbox: Path, staging: Path) -> str:
        (inbox / name).parent.mkdir(parents=True, exist_ok=True)
        (inbox / name).write_bytes(data)
        return name
    return make


def _raw_name(raw: bytes, data: bytes | None = None, form: bool = False) -> Callable[[Path, Path], str]:
    def make(inbox: Path, staging: Path) -> str:
        name = os.fsdecode(raw)
        content = _customer(staging, raw.hex()).read_bytes() if form else (data or b"junk")
        (inbox / name).write_bytes(content)
        return name
    return make


def _factory(factory, **kwargs) -> Callable[[Path, Path], str]:
    def make(inbox: Path, staging: Path) -> str:
        folder = staging / f"f{len(os.listdir(staging))}"
        folder.mkdir()
        made = factory(folder, **kwargs)
        os.replace(made, inbox / made.name)
        return made.name
    return make


def _named(factory, name: str, **kwargs) -> Callable[[Path, Path], str]:
    def make(inbox: Path, staging: Path) -> str:
        folder = staging / f"n{len(os.listdir(staging))}"
        folder.mkdir()
        os.replace(factory(folder, **kwargs), inbox / name)
        return name
    return make


def _customer(staging: Path, tag: str, **values) -> Path:
    folder = staging / f"c{len(os.listdir(staging))}"
    seq = 100 + len(os.listdir(staging))
    data = {**samples.customer_registration(seq, date.today()), **values}
    return fill_xlsx(build_blank("customer_registration", folder), data)


def _form_named(name: str, **values) -> Callable[[Path, Path], str]:
    def make(inbox: Path, staging: Path) -> str:
        target = inbox / name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(_customer(staging, name, **values), target)
        return name
    return make


def _claim(amount_text, name: str) -> Callable[[Path, Path], str]:
    def make(inbox: Path, staging: Path) -> str:
        folder = staging / f"e{len(os.listdir(staging))}"
        values, items = samples.expense_claim(date.today(), amount=Decimal("86.00"))
        values["合计金额"] = amount_text
        os.replace(fill_xlsx(build_blank("expense_claim", folder), values, items), inbox / name)
        return name
    return make


def _fifo(name: str) -> Callable[[Path, Path], str]:
    def make(inbox: Path, staging: Path) -> str:
        os.mkfifo(inbox / name)
        return name
    return make


def _socket(name: str) -> Callable[[Path, Path], str]:
    def make(inbox: Path, staging: Path) -> str:
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(inbox / name))
        _SOCKETS.append(sock)  # closed by close_sockets(); the entry stays until taken in
        return name
    return make


def close_sockets() -> None:
    while _SOCKETS:
        _SOCKETS.pop().close()


def _link(name: str, target: Callable[[Path], Path]) -> Callable[[Path, Path], str]:
    def make(inbox: Path, staging: Path) -> str:
        (inbox / name).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target(staging), inbox / name)
        return name
    return make


def _outside_form(staging: Path) -> Path:
    return _customer(staging, "outside")


def _outside_dir(staging: Path) -> Path:
    folder = staging / "外部文件夹"
    folder.mkdir(exist_ok=True)
    os.replace(_customer(staging, "in-dir"), folder / "客户登记.xlsx")
    return folder


def _zip_with(name: str, parts: dict[str, bytes]) -> Callable[[Path, Path], str]:
    def make(inbox: Path, staging: Path) -> str:
        with zipfile.ZipFile(inbox / name, "w", zipfile.ZIP_DEFLATED) as z:
            for part, data in parts.items():
                z.writestr(part, data)
        return name
    return make


def _xlsx_parts(shared_strings: bytes | None = None, sheet: bytes | None = None) -> dict[str, bytes]:
    """A minimal but well-formed workbook package with the given parts swapped in."""
    ct = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          b'<Default Extension="xml" ContentType="application/xml"/>'
          b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
          b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
          b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
          b'</Types>')
    rels = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            b'</Relationships>')
    workbook = (b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
                b'<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
    wb_rels = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
               b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
               b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
               b'</Relationships>')
    default_sheet = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                     b'<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>')
    default_strings = (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                       b'count="1" uniqueCount="1"><si><t>x</t></si></sst>')
    return {"[Content_Types].xml": ct, "_rels/.rels": rels, "xl/workbook.xml": workbook, "xl/_rels/workbook.xml.rels": wb_rels,
            "xl/worksheets/sheet1.xml": sheet or default_sheet, "xl/sharedStrings.xml": shared_strings or default_strings}


def _huge_shared_strings(n: int = 200_000) -> bytes:
    items = b"".join(b"<si><t>%d</t></si>" % i for i in range(n))
    return (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            b'count="%d" uniqueCount="%d">' % (n, n) + items + b"</sst>")


def _deeply_nested_sheet(depth: int = 100_000) -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            + b"<sheetData>" + b"<x>" * depth + b"</x>" * depth + b"</sheetData></worksheet>")


_GBK = "客户登记表.xlsx".encode("gbk")

CORPUS: list[Case] = [
    # --- content: what the bytes are -------------------------------------------------------
    Case("zero-byte", _factory(bad_files.zero_byte), QUARANTINED, ("file-empty",)),
    Case("random-bytes", _factory(bad_files.random_bytes), QUARANTINED, ("file-not-office",)),
    Case("pdf", _factory(bad_files.pdf_file), QUARANTINED, ("file-not-office",)),
    Case("png", _factory(bad_files.png_file), QUARANTINED, ("file-not-office",)),
    Case("text", _factory(bad_files.text_file), QUARANTINED, ("file-not-office",)),
    Case("plain-zip", _factory(bad_files.plain_zip), QUARANTINED, ("file-not-office",)),
    Case("encrypted", _factory(bad_files.encrypted_xlsx), QUARANTINED, ("file-encrypted",)),
    # a fine file in a format we do not read is answered 请另存为 .xlsx/.docx, not quarantined (issue 10)
    Case("legacy-xls", _factory(bad_files.legacy_ole), RETURNED, ("file-legacy-format",)),
    Case("legacy-doc", _named(bad_files.legacy_ole, "旧版文档.doc", stream="WordDocument"), RETURNED, ("file-legacy-format",)),
    Case("xlsm-macro", _factory(bad_files.xlsm_with_macro), QUARANTINED, ("file-macro",)),
    Case("docm-macro", _factory(bad_files.docm_with_macro), QUARANTINED, ("file-macro",)),
    Case("vba-in-xlsx", _factory(bad_files.vba_only_xlsx), QUARANTINED, ("file-macro",)),
    Case("zip-bomb", _factory(bad_files.zip_bomb), QUARANTINED, ("zip-bomb", "zip-too-large")),
    Case("lying-sizes", _factory(bad_files.lying_sizes_xlsx), QUARANTINED, ("zip-bomb", "zip-too-large")),
    Case("too-many-parts", _factory(bad_files.too_many_entries, extra=2100), QUARANTINED, ("zip-too-many-entries",)),
    Case("entity-app", _factory(bad_files.entity_bomb_xlsx), QUARANTINED, ("xml-entity",)),
    Case("entity-shared-strings", _named(bad_files.entity_bomb_xlsx, "实体2.xlsx", part="xl/sharedStrings.xml"),
         QUARANTINED, ("xml-entity",)),
    Case("entity-content-types", _named(bad_files.entity_bomb_xlsx, "实体3.xlsx", part="[Content_Types].xml"),
         QUARANTINED, ("xml-entity",)),
    Case("entity-workbook", _named(bad_files.entity_bomb_xlsx, "实体4.xlsx", part="xl/workbook.xml"),
         QUARANTINED, ("xml-entity",)),
    Case("entity-odd-part", _factory(bad_files.entity_in_oddly_named_part), QUARANTINED, ("xml-entity",)),
    Case("unknown-workbook", _factory(bad_files.valid_xlsx), RETURNED, ("form-unknown",)),
    Case("unknown-document", _factory(bad_files.valid_docx), RETURNED, ("form-unknown",)),
    Case("docx-named-xlsx", _factory(bad_files.docx_renamed_xlsx), RETURNED, ("form-unknown",)),
    Case("huge-shared-strings", _zip_with("巨大字符串表.xlsx", _xlsx_parts(shared_strings=_huge_shared_strings())),
         RETURNED, ("form-unknown",)),
    Case("deeply-nested-xml", _zip_with("深层嵌套.xlsx", _xlsx_parts(sheet=_deeply_nested_sheet())),
         RETURNED, ("form-unknown",)),
    Case("truncated-zip", _junk("截断的.xlsx", b"PK\x03\x04" + b"\x00" * 40), QUARANTINED, ("file-damaged",)),
    # --- entries that are not regular files --------------------------------------------------
    Case("fifo", _fifo("管道.xlsx"), QUARANTINED, ("entry-fifo",)),
    Case("fifo-docx", _fifo("管道.docx"), QUARANTINED, ("entry-fifo",)),
    Case("socket", _socket("套接字.xlsx"), QUARANTINED, ("entry-socket",)),
    Case("symlink-to-form", _link("链接.xlsx", _outside_form), QUARANTINED, ("entry-symlink",)),
    Case("symlink-to-passwd", _link("密码.xlsx", lambda s: Path("/etc/passwd")), QUARANTINED, ("entry-symlink",)),
    Case("symlink-dangling", _link("断链.xlsx", lambda s: s / "不存在.xlsx"), QUARANTINED, ("entry-symlink",)),
    Case("symlink-to-folder", _link("部门链接", _outside_dir), QUARANTINED, ("entry-symlink",)),
    Case("symlink-in-subfolder", _link("子目录/链接.xlsx", _outside_form), QUARANTINED, ("entry-symlink",)),
    Case("symlink-to-inbox-itself", _link("自己", lambda s: Path("..")), QUARANTINED, ("entry-symlink",)),
    # --- names --------------------------------------------------------------------------------
    Case("gbk-name-form", _raw_name(_GBK, form=True), ARCHIVED, ("accepted",)),
    Case("gbk-name-junk", _raw_name("乱码名.xlsx".encode("gbk")), QUARANTINED, ("file-not-office",)),
    Case("invalid-bytes-name", _raw_name(b"\xff\xfe\x80.xlsx"), QUARANTINED, ("file-not-office",)),
    Case("big5-name-junk", _raw_name("報銷單.xlsx".encode("big5")), QUARANTINED, ("file-not-office",)),
    Case("trailing-dot-form", _form_named("尾点.xlsx."), ARCHIVED, ("accepted",)),
    Case("trailing-space-form", _form_named("尾空格.xlsx "), ARCHIVED, ("accepted",)),
    Case("trailing-dots-spaces-form", _form_named("多个. . ."), ARCHIVED, ("accepted",)),
    Case("no-extension-form", _form_named("没有扩展名"), ARCHIVED, ("accepted",)),
    Case("trailing-dot-junk", _junk("尾点垃圾.xlsx."), QUARANTINED, ("file-not-office",)),
    # 245 bytes: fine in the inbox, but "<name>.原因.txt" beside it would exceed 255 (it stuck in 'moving').
    Case("long-name", _junk("长" * 80 + ".xlsx"), QUARANTINED, ("file-not-office",)),
    Case("long-name-form", _form_named("表" * 80 + ".xlsx"), ARCHIVED, ("accepted",)),
    Case("newline-in-name", _junk("换\n行.xlsx"), QUARANTINED, ("file-not-office",)),
    Case("control-chars-in-name", _junk("控\x01制\x7f.xlsx"), QUARANTINED, ("file-not-office",)),
    Case("windows-reserved-name", _junk("CON.xlsx"), QUARANTINED, ("file-not-office",)),
    Case("backslash-in-name", _junk("反\\斜杠.xlsx"), QUARANTINED, ("file-not-office",)),
    Case("colon-star-in-name", _junk("冒号:星号*.xlsx"), QUARANTINED, ("file-not-office",)),
    Case("rtl-override-name", _junk("\u202eslx.exe"), QUARANTINED, ("file-not-office",)),
    Case("zero-width-name", _junk("零\u200b宽.xlsx"), QUARANTINED, ("file-not-office",)),
    Case("emoji-name", _junk("表情😀.xlsx"), QUARANTINED, ("file-not-office",)),
    Case("deep-folder", _form_named("/".join(f"层{i}" for i in range(20)) + "/深处.xlsx"), ARCHIVED, ("accepted",)),
    Case("same-name-other-folder", _form_named("甲/同名.xlsx"), ARCHIVED, ("accepted",)),
    Case("uppercase-extension-form", _form_named("大写.XLSX"), ARCHIVED, ("accepted",)),
    # --- identities and values ----------------------------------------------------------------
    Case("cyrillic-look-alike-customer", _form_named("仿冒客户.xlsx", 客户名称="\u0410\u0412\u0421机电设备有限公司"),
         ARCHIVED, ("accepted",), problem="name-mixed-scripts"),
    Case("greek-look-alike-customer", _form_named("希腊字母客户.xlsx", 客户名称="\u0391\u0392C仪器有限公司"),
         ARCHIVED, ("accepted",), problem="name-mixed-scripts"),
    Case("money-full-width", _claim("８６．００", "全角金额.xlsx"), ARCHIVED, ("accepted",)),
    Case("money-yuan-sign", _claim("¥86.00", "人民币符号.xlsx"), ARCHIVED, ("accepted",)),
    Case("money-yuan-suffix", _claim("86元", "元字.xlsx"), ARCHIVED, ("accepted",)),
    Case("money-exponent", _claim("8.6e1", "科学计数.xlsx"), RETURNED, ("form-invalid",), problem="money-invalid"),
    Case("money-nan", _claim("NaN", "非数.xlsx"), RETURNED, ("form-invalid",), problem="money-invalid"),
    Case("money-infinity", _claim("Infinity", "无穷大.xlsx"), RETURNED, ("form-invalid",), problem="money-invalid"),
    Case("money-hex", _claim("0x56", "十六进制.xlsx"), RETURNED, ("form-invalid",), problem="money-invalid"),
    Case("money-two-points", _claim("86.0.0", "两个小数点.xlsx"), RETURNED, ("form-invalid",), problem="money-invalid"),
    # Typed as a formula: no cached value, so the amount counts as not filled in (never evaluated).
    Case("money-formula", _claim("=1+85", "公式金额.xlsx"), RETURNED, ("form-invalid",), problem="required-missing"),
]

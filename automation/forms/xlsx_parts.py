"""The workbook parts of an Excel package as the zip-level writers (task file, returned and 抄送 copies) edit them.

Each writer adds sheets of its own in front of the form's; what they share is how the
workbook is found and checked, which packages an earlier return has marked, and how a
new first sheet is listed so that Excel opens on it.
"""

from __future__ import annotations

import posixpath
import zipfile
from typing import NamedTuple
from xml.sax.saxutils import escape

from lxml import etree
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from automation.forms import zip_package as package

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
M = "{%s}" % MAIN
WORKSHEET_TYPE = package.REL_NS + "/worksheet"
WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


class Workbook(NamedTuple):
    names: set[str]
    main: str
    workbook: object  # the parsed workbook part
    rels_name: str
    rels: object  # its parsed rels
    targets: dict[str, str]  # relationship id -> part name
    sheets: object  # the <sheets> element


def open_workbook(zf: zipfile.ZipFile) -> Workbook:
    """The transitional workbook of ``zf`` and its rels, parsed; Unsupported for macros or no sheets."""
    names = set(zf.namelist())
    if any(n.lower().endswith(".bin") and "vba" in n.lower() for n in names):
        raise package.Unsupported("macro-enabled package")
    main, _ = package.main_part(zf)
    workbook = etree.fromstring(zf.read(main), package.PARSER)
    if workbook.tag != M + "workbook":
        raise package.Unsupported("not a transitional workbook")
    rels_name = package.rels_of(main)
    rels = etree.fromstring(zf.read(rels_name), package.PARSER)
    targets = {r.get("Id"): package.part_name(main, r.get("Target")) for r in rels}
    sheets = workbook.find(M + "sheets")
    if sheets is None:
        raise package.Unsupported("no sheets")
    return Workbook(names, main, workbook, rels_name, rels, targets, sheets)


def styles_part(main: str, rels, names: set[str]) -> str:
    name = package.related(main, rels, "/styles")
    if name is None or name not in names:
        raise package.Unsupported("no styles part")
    return name


def refuse_earlier_return(zf: zipfile.ZipFile, names: set[str], styles: bytes, *, red: str, author: str) -> None:
    """Unsupported when an earlier return marked the package: its red fill is in the styles, its notes in a
    comments part. The openpyxl writers clear those marks first; these writers would keep them."""
    if red.encode() in styles.upper():
        raise package.Unsupported("cells marked by an earlier return")
    for name in names:
        if posixpath.basename(name).startswith("comments") and author.encode() in zf.read(name):
            raise package.Unsupported("comments of an earlier return")


def insert_first_sheet(sheets, name: str, rid: str) -> None:
    first = etree.Element(M + "sheet")
    first.set("name", name)
    first.set("sheetId", str(max((int(s.get("sheetId", "0")) for s in sheets), default=0) + 1))
    first.set("state", "visible")
    first.set("{%s}id" % package.REL_NS, rid)
    sheets.insert(0, first)


def open_on_first_tab(workbook) -> None:
    views = workbook.find(M + "bookViews")
    if views is not None:
        for view in views:
            view.set("activeTab", "0")
            view.set("firstSheet", "0")


_CR = {"\r": "&#13;"}  # a carriage return kept as one (a raw one would be read back as a line end)


def text(value) -> str:
    """``value`` as the text openpyxl would store (the characters XML cannot hold dropped)."""
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def cell_xml(ref: str, value, xf: int) -> str:
    """A ``<c>`` as openpyxl writes the value; text as an inline string, so ``=...`` is never a formula."""
    s = f' s="{xf}"' if xf else ""
    if value is None or value == "":
        return f'<c r="{ref}"{s}/>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"{s} t="n"><v>{value!r}</v></c>'
    value = text(value)
    space = ' xml:space="preserve"' if value != value.strip() or "\n" in value else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{escape(value, _CR)}</t></is></c>'


def set_text(cell, value: str) -> None:
    """Make the parsed ``<c>`` hold ``value`` as an inline string, whatever it held."""
    for child in list(cell):
        cell.remove(child)
    cell.set("t", "inlineStr")
    etree.SubElement(etree.SubElement(cell, M + "is"), M + "t").text = text(value)

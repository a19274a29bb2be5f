"""Files as other producers write them, built from our own forms by editing their parts.

Each function imitates one structure a real producer writes (the docstring says
which, and what it changes); tests/test_producers.py documents the quirks and
uses them. Everything here writes real packages that Excel/Word open.
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _q(tag: str) -> str:
    prefix, name = tag.split(":")
    return f"{{{W if prefix == 'w' else S}}}{name}"


def rewrite(path: Path, edit: Callable[[dict[str, bytes]], dict[str, bytes]], *, order=None,
            directories: bool = False) -> Path:
    """Rewrite the package at ``path``: ``edit`` gets and returns part name → bytes."""
    path = Path(path)
    with zipfile.ZipFile(path) as zf:
        parts = {info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()}
    parts = edit(dict(parts))
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        if directories:  # WPS writes a directory entry before the parts of each folder
            for folder in sorted({n.rsplit("/", 1)[0] + "/" for n in parts if "/" in n}):
                out.writestr(zipfile.ZipInfo(folder), b"")
        for name in (order or sorted(parts, key=lambda n: n != "[Content_Types].xml")):
            out.writestr(name, parts[name])
    os.replace(tmp, path)
    return path


def edit_xml(path: Path, part: str, change: Callable[[etree._Element], None]) -> Path:
    def edit(parts):
        root = etree.fromstring(parts[part])
        change(root)
        parts[part] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
        return parts

    return rewrite(path, edit)


# --- Word ------------------------------------------------------------------------------


def libreoffice_controls(path: Path) -> Path:
    """LibreOffice Writer 7.x on save: every ``w:tag`` dropped; text controls keep ``w:alias``;
    date and drop-down controls lose the alias too; ``w:showingPlcHdr`` dropped (prompts become text)."""
    def change(root):
        for pr in root.iter(_q("w:sdtPr")):
            for tag in pr.findall(_q("w:tag")) + pr.findall(_q("w:showingPlcHdr")):
                pr.remove(tag)
            if pr.find(_q("w:date")) is not None or pr.find(_q("w:dropDownList")) is not None:
                for alias in pr.findall(_q("w:alias")):
                    pr.remove(alias)

    return edit_xml(path, "word/document.xml", change)


def flattened_controls(path: Path) -> Path:
    """A converter that flattens content controls: each ``w:sdt`` replaced by its content runs."""
    def change(root):
        for sdt in list(root.iter(_q("w:sdt"))):
            content = sdt.find(_q("w:sdtContent"))
            parent, at = sdt.getparent(), sdt.getparent().index(sdt)
            parent.remove(sdt)
            for offset, child in enumerate(list(content) if content is not None else []):
                parent.insert(at + offset, child)

    return edit_xml(path, "word/document.xml", change)


def untabled_form(path: Path) -> Path:
    """Flattened controls and the label|value tables turned into plain "label value" paragraphs
    (what a paste into a plain-text editor and back leaves): nothing can be read with confidence."""
    flattened_controls(path)

    def change(root):
        body = root.find(_q("w:body"))
        for tbl in list(body.findall(_q("w:tbl"))):
            at = body.index(tbl)
            body.remove(tbl)
            for n, tr in enumerate(tbl.findall(_q("w:tr"))):
                p = etree.Element(_q("w:p"))
                for tc in tr.findall(_q("w:tc")):
                    for run in list(tc.iter(_q("w:r"))):
                        p.append(run)
                    etree.SubElement(etree.SubElement(p, _q("w:r")), _q("w:t")).text = " "
                body.insert(at + n, p)

    return edit_xml(path, "word/document.xml", change)


# --- custom properties and app.xml ------------------------------------------------------

CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"


def add_custom_property(path: Path, name: str, value: str) -> Path:
    with zipfile.ZipFile(path) as zf:
        present = "docProps/custom.xml" in zf.namelist()
    if not present:
        def create(parts):
            parts["docProps/custom.xml"] = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                                            f'<Properties xmlns="{CUSTOM_NS}" xmlns:vt="{VT_NS}"/>').encode()
            parts["_rels/.rels"] = parts["_rels/.rels"].replace(b"</Relationships>", (
                b'<Relationship Id="rIdCustom" Target="docProps/custom.xml" Type="http://schemas.openxmlformats.org/'
                b'officeDocument/2006/relationships/custom-properties"/></Relationships>'))
            parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", (
                b'<Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-'
                b'officedocument.custom-properties+xml"/></Types>'))
            return parts

        rewrite(path, create)

    def change(root):
        pid = 2 + len(root)
        prop = etree.SubElement(root, f"{{{CUSTOM_NS}}}property", fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}",
                                pid=str(pid), name=name)
        etree.SubElement(prop, f"{{{VT_NS}}}lpwstr").text = value

    return edit_xml(path, "docProps/custom.xml", change)


def set_app_name(path: Path, application: str) -> Path:
    def edit(parts):
        xml = parts.get("docProps/app.xml", b"").decode("utf-8")
        if "<Application>" in xml:
            xml = re.sub(r"<Application>.*?</Application>", f"<Application>{application}</Application>", xml)
        parts["docProps/app.xml"] = xml.encode("utf-8")
        return parts

    return rewrite(path, edit)


# --- Excel: real-world quirks -------------------------------------------------------------

R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _sheet_parts(parts: dict[str, bytes]) -> list[str]:
    return sorted(n for n in parts if re.match(r"xl/worksheets/sheet\d+\.xml$", n))


def _edit_sheets(path: Path, change: Callable[[etree._Element], None]) -> Path:
    def edit(parts):
        for name in _sheet_parts(parts):
            root = etree.fromstring(parts[name])
            change(root)
            parts[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
        return parts

    return rewrite(path, edit)


def whole_column_merge(path: Path) -> Path:
    """Excel: ``<mergeCell ref="A:A"/>``, a merge over a whole column (openpyxl cannot place it)."""
    def change(root):
        merges = root.find(_q("s:mergeCells"))
        if merges is None:
            merges = etree.Element(_q("s:mergeCells"))
            data = root.find(_q("s:sheetData"))
            data.addnext(merges)
        etree.SubElement(merges, _q("s:mergeCell"), ref="H:H")
        merges.set("count", str(len(merges)))

    return _edit_sheets(path, change)


def empty_style_attributes(path: Path) -> Path:
    """Some exporters write ``s=""`` on cells (openpyxl reads int(""))."""
    def change(root):
        for c in root.iter(_q("s:c")):
            c.set("s", "")

    return _edit_sheets(path, change)


def x14_data_validations(path: Path) -> Path:
    """Excel 2010+: a list validation whose source is on another sheet is written as an
    ``x14:dataValidation`` in the sheet's ``extLst`` (openpyxl warns and drops it), with the classic
    ``dataValidations`` of a re-saving program beside it carrying an empty formula."""
    x14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
    xm = "http://schemas.microsoft.com/office/excel/2006/main"

    def change(root):
        ext_list = root.find(_q("s:extLst"))
        if ext_list is None:
            ext_list = etree.SubElement(root, _q("s:extLst"))
        ext = etree.SubElement(ext_list, _q("s:ext"), uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}",
                               nsmap={"x14": x14})
        validations = etree.SubElement(ext, f"{{{x14}}}dataValidations", count="1", nsmap={"xm": xm})
        validation = etree.SubElement(validations, f"{{{x14}}}dataValidation", type="list", allowBlank="1",
                                      showInputMessage="1", showErrorMessage="1")
        formula = etree.SubElement(validation, f"{{{x14}}}formula1")
        etree.SubElement(formula, f"{{{xm}}}f").text = "选项!$A$1:$A$5"
        etree.SubElement(validation, f"{{{xm}}}sqref").text = "H1:H20"

    return _edit_sheets(path, change)


def style_index_out_of_range(path: Path) -> Path:
    """A cell pointing at a cell format the styles part does not have (Excel shows it as General)."""
    def change(root):
        first = next(root.iter(_q("s:c")))
        first.set("s", "999")

    return _edit_sheets(path, change)


def pivot_cache(path: Path) -> Path:
    """Excel pivot tables: a pivot cache definition and records referenced from the workbook."""
    cache = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             b'<pivotCacheDefinition xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
             b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="rId1" '
             b'refreshOnLoad="1" recordCount="1"><cacheSource type="worksheet"><worksheetSource ref="A1:B2" '
             b'sheet="Data"/></cacheSource><cacheFields count="2"><cacheField name="x" numFmtId="0">'
             b'<sharedItems containsSemiMixedTypes="0" containsString="0" containsNumber="1" containsInteger="1" '
             b'minValue="1" maxValue="1"/></cacheField><cacheField name="y" numFmtId="0"><sharedItems/></cacheField>'
             b'</cacheFields><extLst><ext uri="{725AE2AE-9491-48be-B2B4-4EB974FC3084}" '
             b'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"><x14:pivotCacheDefinition '
             b'pivotCacheId="1"/></ext></extLst></pivotCacheDefinition>')
    records = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><pivotCacheRecords '
               b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1"><r><n v="1"/><m/></r>'
               b'</pivotCacheRecords>')

    def edit(parts):
        parts["xl/pivotCache/pivotCacheDefinition1.xml"] = cache
        parts["xl/pivotCache/pivotCacheRecords1.xml"] = records
        parts["xl/pivotCache/_rels/pivotCacheDefinition1.xml.rels"] = (
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships '
            b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
            b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/pivotCacheRecords" '
            b'Target="pivotCacheRecords1.xml"/></Relationships>')
        rels = etree.fromstring(parts["xl/_rels/workbook.xml.rels"])
        etree.SubElement(rels, "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship",
                         Id="rIdPivot1", Target="pivotCache/pivotCacheDefinition1.xml",
                         Type=f"{R}/pivotCacheDefinition")
        parts["xl/_rels/workbook.xml.rels"] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8")
        book = etree.fromstring(parts["xl/workbook.xml"])
        caches = etree.Element(_q("s:pivotCaches"))
        etree.SubElement(caches, _q("s:pivotCache"), {"cacheId": "1", f"{{{R}}}id": "rIdPivot1"})
        anchor = book.find(_q("s:calcPr"))
        (anchor.addnext(caches) if anchor is not None else book.append(caches))
        parts["xl/workbook.xml"] = etree.tostring(book, xml_declaration=True, encoding="UTF-8", standalone=True)
        types = etree.fromstring(parts["[Content_Types].xml"])
        ns = "http://schemas.openxmlformats.org/package/2006/content-types"
        for name, kind in (("pivotCacheDefinition1", "pivotCacheDefinition"), ("pivotCacheRecords1", "pivotCacheRecords")):
            etree.SubElement(types, f"{{{ns}}}Override", PartName=f"/xl/pivotCache/{name}.xml",
                             ContentType=f"application/vnd.openxmlformats-officedocument.spreadsheetml.{kind}+xml")
        parts["[Content_Types].xml"] = etree.tostring(types, xml_declaration=True, encoding="UTF-8", standalone=True)
        return parts

    return rewrite(path, edit)


def parts_outside_xl(path: Path) -> Path:
    """A package whose workbook lives in ``book/`` (some generators), found through _rels/.rels."""
    def edit(parts):
        moved = {}
        for name, data in parts.items():
            new = "book/" + name[3:] if name.startswith("xl/") else name
            moved[new] = data.replace(b"/xl/", b"/book/") if name.endswith((".rels", "[Content_Types].xml")) else data
        moved["_rels/.rels"] = moved["_rels/.rels"].replace(b'Target="xl/', b'Target="book/')
        return moved

    return rewrite(path, edit)


# What Excel 2013+ writes for 「Strict Open XML 电子表格」/ Word for 「Strict Open XML 文档」 (ECMA-376
# Strict): written out here name by name, independently of the reader's table (automation/intake/strict.py).
_STRICT_NAMES = (
    (b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties",
     b"http://purl.oclc.org/ooxml/officeDocument/relationships/extendedProperties"),
    (b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties",
     b"http://purl.oclc.org/ooxml/officeDocument/relationships/customProperties"),
    (b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
     b"http://purl.oclc.org/ooxml/officeDocument/relationships"),
    (b"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties",
     b"http://purl.oclc.org/ooxml/officeDocument/extendedProperties"),
    (b"http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
     b"http://purl.oclc.org/ooxml/officeDocument/customProperties"),
    (b"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes",
     b"http://purl.oclc.org/ooxml/officeDocument/docPropsVTypes"),
    (b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", b"http://purl.oclc.org/ooxml/spreadsheetml/main"),
    (b"http://schemas.openxmlformats.org/wordprocessingml/2006/main", b"http://purl.oclc.org/ooxml/wordprocessingml/main"),
    (b"http://schemas.openxmlformats.org/drawingml/2006/main", b"http://purl.oclc.org/ooxml/drawingml/main"),
)


def strict_open_xml(path: Path) -> Path:
    """Excel/Word "Strict Open XML": the same parts and content types, every namespace and the
    officeDocument, extended- and custom-properties relationship types under http://purl.oclc.org/ooxml/,
    and ``conformance="strict"`` on the workbook."""
    def edit(parts):
        for name, data in list(parts.items()):
            if name.endswith((".xml", ".rels")):
                for transitional, strict in _STRICT_NAMES:
                    data = data.replace(transitional, strict)
                if name == "xl/workbook.xml":
                    data = data.replace(b"<workbook ", b'<workbook conformance="strict" ', 1)
                parts[name] = data
        return parts

    return rewrite(path, edit)


def no_sheets(path: Path) -> Path:
    """A workbook part with an empty ``<sheets/>`` (some generators; Excel repairs it on open)."""
    def change(root):
        sheets = root.find(_q("s:sheets"))
        for sheet in list(sheets):
            sheets.remove(sheet)
        names = root.find(_q("s:definedNames"))
        if names is not None:
            root.remove(names)

    return edit_xml(path, "xl/workbook.xml", change)


def case_different_part_names(path: Path) -> Path:
    """``xl/SharedStrings.xml`` and ``XL/styles.xml`` while [Content_Types] and rels say lower case."""
    def edit(parts):
        renamed = {}
        for name, data in parts.items():
            new = {"xl/sharedStrings.xml": "xl/SharedStrings.xml", "xl/styles.xml": "XL/Styles.xml"}.get(name, name)
            renamed[new] = data
        return renamed

    return rewrite(path, edit)


def backslash_part_names(path: Path) -> Path:
    """Zip entries written with Windows separators: ``xl\\worksheets\\sheet1.xml``."""
    def edit(parts):
        return {name.replace("/", "\\") if name.startswith("xl/") else name: data for name, data in parts.items()}

    return rewrite(path, edit)


# --- WPS and LibreOffice Calc ----------------------------------------------------------------


def wps_workbook(path: Path) -> Path:
    """WPS 表格: KSOProductBuildVer and ICV custom properties, app.xml naming "WPS 表格"…, a wps.cn
    namespace on sheets, fonts with charset 134 and 宋体, directory entries in the zip, an image in a
    cell as a DISPIMG formula with xl/cellimages.xml, and a wrong ``<dimension ref="A1"/>``."""
    add_custom_property(path, "KSOProductBuildVer", "2052-11.1.0.14309")
    add_custom_property(path, "ICV", "0A1B2C3D4E5F60718293A4B5C6D7E8F9")
    set_app_name(path, "Microsoft Excel")  # WPS keeps the name of the program that wrote the file before

    def edit(parts):
        for name in _sheet_parts(parts):
            xml = parts[name].decode("utf-8")
            xml = re.sub(r"<dimension [^>]*/>", '<dimension ref="A1"/>', xml)
            xml = xml.replace("<worksheet ", '<worksheet xmlns:etc="http://www.wps.cn/officeDocument/2017/etCustomData" ', 1)
            parts[name] = xml.encode("utf-8")
        styles = parts["xl/styles.xml"].decode("utf-8")
        styles = re.sub(r"<font>", '<font><charset val="134"/>', styles, count=1)
        styles = styles.replace('<name val="Calibri"/>', '<name val="宋体"/>')
        parts["xl/styles.xml"] = styles.encode("utf-8")
        parts["xl/cellimages.xml"] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><etc:cellImages '
            'xmlns:etc="http://www.wps.cn/officeDocument/2017/etCustomData" '
            'xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
            'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><etc:cellImage><xdr:pic><xdr:nvPicPr>'
            '<xdr:cNvPr id="2" name="ID_0123456789ABCDEF"/><xdr:cNvPicPr/></xdr:nvPicPr><xdr:blipFill/><xdr:spPr/>'
            '</xdr:pic></etc:cellImage></etc:cellImages>').encode("utf-8")
        return parts

    dispimg_cell(path)
    return rewrite(path, edit, directories=True)


def dispimg_cell(path: Path, coordinate: str = "H1") -> Path:
    """A WPS picture-in-cell formula in an otherwise unused cell."""
    def change(root):
        data = root.find(_q("s:sheetData"))
        row = data.find(_q("s:row"))
        cell = etree.SubElement(row, _q("s:c"), r=coordinate, t="str")
        etree.SubElement(cell, _q("s:f")).text = '_xlfn.DISPIMG("ID_0123456789ABCDEF",1)'
        etree.SubElement(cell, _q("s:v")).text = '=DISPIMG("ID_0123456789ABCDEF",1)'

    return _edit_sheets(path, change)


def libreoffice_calc(path: Path) -> Path:
    """LibreOffice Calc: app.xml "LibreOffice/7.4…", a row-only dimension ``1:4`` and no
    sharedStrings part (LibreOffice writes none for a workbook without text; here the text
    is kept as inline strings so the form still holds it)."""
    set_app_name(path, "LibreOffice/7.4.7.2$Linux_X86_64 LibreOffice_project/40$Build-2")

    def edit(parts):
        shared = parts.pop("xl/sharedStrings.xml", None)
        strings = []
        if shared:
            root = etree.fromstring(shared)
            strings = ["".join(t.text or "" for t in si.iter(_q("s:t"))) for si in root.findall(_q("s:si"))]
        for name in _sheet_parts(parts):
            root = etree.fromstring(parts[name])
            dim = root.find(_q("s:dimension"))
            if dim is not None:
                dim.set("ref", "1:4")
            for c in root.iter(_q("s:c")):
                if c.get("t") == "s":
                    v = c.find(_q("s:v"))
                    c.remove(v)
                    c.set("t", "inlineStr")
                    etree.SubElement(etree.SubElement(c, _q("s:is")), _q("s:t")).text = strings[int(v.text)]
            parts[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
        rels = parts["xl/_rels/workbook.xml.rels"]
        parts["xl/_rels/workbook.xml.rels"] = re.sub(rb"<Relationship [^>]*sharedStrings[^>]*/>", b"", rels)
        parts["[Content_Types].xml"] = re.sub(rb"<Override [^>]*sharedStrings[^>]*/>", b"", parts["[Content_Types].xml"])
        return parts

    return rewrite(path, edit)

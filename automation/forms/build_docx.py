"""Blank Word forms built from a ``FormSpec``: one content control per field.

A content control (w:sdt) tagged with the field key is to a Word form what a
defined name is to an Excel form: values are read by tag, never by position.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from xml.sax.saxutils import quoteattr

from docx import Document
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table, _Cell

from automation.forms import markers
from automation.forms.build_xlsx import save_atomically
from automation.forms.markers import PROP_FORM, PROP_VERSION
from automation.forms.docx_props import set_custom_properties
from automation.forms.spec import FieldSpec, FormSpec, TableSpec

PLACEHOLDER = "点击此处输入"
INSTRUCTION = "请点击灰色文字处填写,带 * 的为必填项;日期可点击右侧按钮选择。填好后保存,放入 inbox 文件夹即可提交。"
LABEL_WIDTH, INPUT_WIDTH = Mm(40), Mm(130)
GREY = RGBColor(0x80, 0x80, 0x80)


def build_docx(spec: FormSpec, dest: Path) -> Path:
    """Write the blank Word form for ``spec`` to ``dest`` (atomically) and return it."""
    doc = Document()
    _page(doc)
    _title(doc, spec)
    ids = itertools.count(1001)
    for group in _groups(spec):
        if isinstance(group, TableSpec):
            _line_items(doc, group)
        else:
            _field_table(doc, group, ids)
    _footer(doc, spec)
    doc.core_properties.title = spec.title
    doc.core_properties.author = "OfficeFlow"
    set_custom_properties(doc, {PROP_FORM: spec.id, PROP_VERSION: spec.version})
    add_marker(doc, spec.id, spec.version)
    return save_atomically(doc.save, Path(dest))


def add_marker(doc, form_id: str, version: str) -> None:
    """A hidden paragraph inside a bookmark, and a document variable (see ``forms.markers``)."""
    body = doc.element.body
    text = markers.marker_text(form_id, version)
    body.sectPr.addprevious(parse_xml(
        f"<w:p {nsdecls('w')}><w:pPr><w:rPr><w:vanish/></w:rPr></w:pPr>"
        f"<w:bookmarkStart w:id=\"9001\" w:name=\"{markers.MARKER_BOOKMARK}\"/>"
        f"<w:r><w:rPr><w:vanish/><w:sz w:val=\"2\"/></w:rPr><w:t>{text}</w:t></w:r>"
        f"<w:bookmarkEnd w:id=\"9001\"/></w:p>"))
    settings = doc.settings.element
    for old in settings.findall(qn("w:docVars")):
        settings.remove(old)
    variables = parse_xml(f"<w:docVars {nsdecls('w')}><w:docVar w:name={quoteattr(markers.MARKER_VARIABLE)} "
                          f"w:val={quoteattr(markers.marker_value(form_id, version))}/></w:docVars>")
    # CT_Settings orders its children; docVars sits late, before rsids/mathPr and the compat block ends.
    later = [child for child in settings if child.tag in {qn(t) for t in ("w:rsids", "m:mathPr", "w:attachedSchema",
             "w:themeFontLang", "w:clrSchemeMapping", "w:doNotIncludeSubdocsInStats", "w:doNotAutoCompressPictures",
             "w:forceUpgrade", "w:captions", "w:readModeInkLockDown", "w:smartTagType", "sl:schemaLibrary",
             "w:shapeDefaults", "w:doNotEmbedSmartTags", "w:decimalSymbol", "w:listSeparator")}]
    if later:
        later[0].addprevious(variables)
    else:
        settings.append(variables)


def _groups(spec: FormSpec) -> list:
    """Consecutive fields share one label|input table; each 明细 stands alone."""
    groups: list = []
    for item in spec.layout():
        if isinstance(item, TableSpec):
            groups.append(item)
        elif groups and isinstance(groups[-1], list):
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


# --- page ------------------------------------------------------------------


def _page(doc) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin = section.bottom_margin = Mm(20)
    normal = doc.styles["Normal"]
    normal.font.name = "宋体"
    normal.font.size = Pt(11)
    # East Asian text uses its own font slot; without it Word falls back to a Western font.
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")


def _title(doc, spec: FormSpec) -> None:
    para = doc.add_paragraph()
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = para.add_run(spec.title)
    run.bold = True
    run.font.size = Pt(18)
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "黑体")
    note = doc.add_paragraph()
    small = note.add_run(INSTRUCTION)
    small.font.size, small.font.color.rgb = Pt(9), GREY


def _footer(doc, spec: FormSpec) -> None:
    para = doc.add_paragraph()
    para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = para.add_run(spec.edition_label)
    run.font.size, run.font.color.rgb = Pt(8), GREY


# --- fields ----------------------------------------------------------------


def _field_table(doc, fields: list[FieldSpec], ids) -> None:
    table = doc.add_table(rows=0, cols=2)
    _grid(table, [LABEL_WIDTH, INPUT_WIDTH])
    for f in fields:
        row = table.add_row()
        row.height = Mm(22) if f.multiline else Mm(10)
        label, value = row.cells
        label.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        _label(label, f"{f.label}*" if f.required else f.label)
        value.width = INPUT_WIDTH
        para = value.paragraphs[0]
        para._p.append(content_control(f, next(ids)))
        if f.help:
            hint = value.add_paragraph().add_run(f.help)
            hint.font.size, hint.font.color.rgb = Pt(8), GREY
    doc.add_paragraph()


def _label(cell: _Cell, text: str) -> None:
    cell.width = LABEL_WIDTH
    run = cell.paragraphs[0].add_run(text)
    run.bold = True
    _shade(cell, "DDEBF7")


def _shade(cell: _Cell, colour: str) -> None:
    cell._tc.get_or_add_tcPr().append(parse_xml(f'<w:shd {nsdecls("w")} w:val="clear" w:color="auto" w:fill="{colour}"/>'))


def _grid(table: Table, widths) -> None:
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, widths):
        column.width = width


def content_control(f: FieldSpec, sdt_id: int):
    """A run-level w:sdt tagged with the field key, showing its placeholder."""
    xml = (
        f"<w:sdt {nsdecls('w')}><w:sdtPr>"
        f"<w:alias w:val={quoteattr(f.label)}/><w:tag w:val={quoteattr(f.key)}/><w:id w:val=\"{sdt_id}\"/>"
        f"<w:showingPlcHdr/>{_control_type(f)}</w:sdtPr>"
        f"<w:sdtContent><w:r><w:rPr><w:color w:val=\"808080\"/></w:rPr><w:t>{PLACEHOLDER}</w:t></w:r></w:sdtContent>"
        "</w:sdt>"
    )
    return parse_xml(xml)


def _control_type(f: FieldSpec) -> str:
    if f.choices:
        items = "".join(f"<w:listItem w:displayText={quoteattr(c)} w:value={quoteattr(c)}/>" for c in f.choices)
        return f"<w:dropDownList>{items}</w:dropDownList>"
    if f.type == "date":
        return ('<w:date><w:dateFormat w:val="yyyy-MM-dd"/><w:lid w:val="zh-CN"/>'
                '<w:storeMappedDataAs w:val="dateTime"/><w:calendar w:val="gregorian"/></w:date>')
    return '<w:text w:multiLine="1"/>' if f.multiline else "<w:text/>"


# --- line items ------------------------------------------------------------


def _line_items(doc, t: TableSpec) -> None:
    caption = doc.add_paragraph().add_run(f"{t.label}*" if t.required else t.label)
    caption.bold = True
    table = doc.add_table(rows=1 + t.rows, cols=len(t.columns))
    _grid(table, [Mm(170 / len(t.columns))] * len(t.columns))
    for cell, c in zip(table.rows[0].cells, t.columns):
        cell.paragraphs[0].add_run(c.key).bold = True  # header text is exactly the column key
        _shade(cell, "DDEBF7")
    doc.add_paragraph()

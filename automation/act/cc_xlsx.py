"""The 抄送 copy of an Excel form written at zip level: the form's parts copied, a few patched.

``cc_copy._xlsx`` loads the whole workbook with openpyxl and saves it again. Here only
what the copy changes is written: the cells holding the blank form's submission
instructions (text, now the copy's mark), a new 抄送 worksheet part first and active
with the cells, formats, widths and page setup ``cc_copy._xlsx`` gives it, its formats
appended to the styles part, the workbook (sheet listed, sheet-local names moved one
sheet on), its rels and the content types. Everything else is copied as stored.
Anything this writer does not handle makes ``write`` return False, and the caller uses
the openpyxl path.
"""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path

from lxml import etree

from automation.act.return_xlsx import (
    _M,
    CT_NS,
    MAIN,
    PKG_REL,
    REL_NS,
    WORKSHEET_CT,
    WORKSHEET_TYPE,
    _append,
    _PARSER,
    _TAB_SELECTED,
)
from automation.forms import xlsx_parts
from automation.forms import zip_package as package
from automation.forms.repair import needs_renames

Unsupported = package.Unsupported
WIDTHS = (6, 6, 12, 7, 10, 8, 26, 16, 14)  # columns A..I, as cc_copy._xlsx sets them
_SST = "{%s}" % MAIN


def write(source: Path, dest: Path, *, sheet: str, mark: str, replacement: str, hints: tuple[str, ...],
          lines: list[str], trail_header: tuple, steps: list[tuple]) -> bool:
    """Write the copy; False (nothing written) when the package is left to the openpyxl path."""
    try:
        with package.open_package(source) as zf:
            if needs_renames(zf, "xlsx"):
                return False
            changed = _build(zf, sheet=sheet, mark=mark, replacement=replacement, hints=hints, lines=lines,
                             trail_header=trail_header, steps=steps)
            package.write(source, dest, changed, archive=zf)
    except (Unsupported, KeyError, ValueError, IndexError, etree.XMLSyntaxError, zipfile.BadZipFile):
        return False
    return True


def _build(zf, *, sheet, mark, replacement, hints, lines, trail_header, steps) -> dict[str, bytes]:
    names, main, workbook, wb_rels_name, wb_rels, targets, sheets_el = xlsx_parts.open_workbook(zf)
    parts = [targets[s.get("{%s}id" % REL_NS)] for s in sheets_el]
    if sheet in {s.get("name") for s in sheets_el}:
        raise Unsupported("a sheet of that name is already there")  # openpyxl would name ours 抄送1
    styles_name = xlsx_parts.styles_part(main, wb_rels, names)
    shared_name = package.related(main, wb_rels, "/sharedStrings")
    hinted: set[int] = set()  # shared strings holding an instruction
    if shared_name is not None and shared_name in names:
        for n, item in enumerate(etree.fromstring(zf.read(shared_name), _PARSER).iterchildren(_SST + "si")):
            if _holds(_item_text(item), hints):
                hinted.add(n)

    changed: dict[str, bytes] = {}
    # The form's sheets: instructions replaced (as openpyxl reads a cell's value), no tab selected.
    for part in parts:
        data = zf.read(part)
        root = etree.fromstring(data, _PARSER)
        if root.tag != _M + "worksheet":
            raise Unsupported("not a transitional worksheet")
        edited = False
        for cell in root.iter(_M + "c"):
            kind = cell.get("t")
            formula = cell.find(_M + "f")
            if formula is not None:
                if _holds(formula.text or "", hints):
                    raise Unsupported("an instruction in a formula")
                continue
            if kind == "inlineStr":
                found = cell.find(_M + "is")
                text = _item_text(found) if found is not None else ""
            elif kind == "s":
                value = cell.find(_M + "v")
                text = None if value is None or int(value.text) not in hinted else hints[0]
            else:
                continue
            if text is not None and _holds(text, hints):
                xlsx_parts.set_text(cell, replacement)
                edited = True
        if edited:
            for view in root.iter(_M + "sheetView"):
                view.attrib.pop("tabSelected", None)
            changed[part] = package.serial(root)
        elif b"tabSelected" in data:
            changed[part] = _TAB_SELECTED.sub(rb"\1", data)

    # Styles: the mark's font, the plain lines' alignment, bold.
    styles = etree.fromstring(zf.read(styles_name), _PARSER)
    fonts, xfs = styles.find(_M + "fonts"), styles.find(_M + "cellXfs")
    if styles.tag != _M + "styleSheet" or fonts is None or xfs is None:
        raise Unsupported("styles part without fonts or cell formats")
    mark_font = _append(fonts, f'<font xmlns="{MAIN}"><b val="1"/><color rgb="00C00000"/><sz val="16"/></font>')
    bold_font = _append(fonts, f'<font xmlns="{MAIN}"><b val="1"/></font>')
    ids = {"mark": _append(xfs, f'<xf xmlns="{MAIN}" numFmtId="0" fontId="{mark_font}" fillId="0" borderId="0" '
                                'applyFont="1" xfId="0"/>'),
           "line": _append(xfs, f'<xf xmlns="{MAIN}" numFmtId="0" fontId="0" fillId="0" borderId="0" '
                                'applyAlignment="1" xfId="0"><alignment/></xf>'),
           "bold": _append(xfs, f'<xf xmlns="{MAIN}" numFmtId="0" fontId="{bold_font}" fillId="0" borderId="0" '
                                'applyFont="1" xfId="0"/>')}
    changed[styles_name] = package.serial(styles)

    # The 抄送 sheet, its relationship, the workbook.
    folder = posixpath.dirname(parts[0]) if parts else "xl/worksheets"
    new_part = next(p for p in (posixpath.join(folder, f"sheet{n}.xml") for n in range(1, 100_000)) if p not in names)
    changed[new_part] = _sheet_xml(mark, lines, trail_header, steps, ids)
    used_ids = {r.get("Id") for r in wb_rels}
    rid = next(f"rId{n}" for n in range(1, 100_000) if f"rId{n}" not in used_ids)
    etree.SubElement(wb_rels, "{%s}Relationship" % PKG_REL, Type=WORKSHEET_TYPE, Target="/" + new_part, Id=rid)
    changed[wb_rels_name] = package.serial(wb_rels)
    ct = etree.fromstring(zf.read("[Content_Types].xml"), _PARSER)
    etree.SubElement(ct, "{%s}Override" % CT_NS, PartName="/" + new_part, ContentType=WORKSHEET_CT)
    changed["[Content_Types].xml"] = package.serial(ct)
    xlsx_parts.insert_first_sheet(sheets_el, sheet, rid)
    defined = workbook.find(_M + "definedNames")
    for name in (defined if defined is not None else ()):
        local = name.get("localSheetId")
        if local is not None:
            name.set("localSheetId", str(int(local) + 1))
    xlsx_parts.open_on_first_tab(workbook)
    changed[main] = package.serial(workbook)
    return changed


def _holds(text: str, hints: tuple[str, ...]) -> bool:
    return any(h in text for h in hints)


def _item_text(item) -> str:
    """A string item's text as openpyxl reads it: its own ``t`` and its runs' (not the phonetic runs)."""
    own = item.find(_SST + "t")
    runs = [r.find(_SST + "t") for r in item.iterchildren(_SST + "r")]
    return "".join((t.text or "") for t in ([own] if own is not None else []) + [t for t in runs if t is not None])


def _sheet_xml(mark: str, lines: list[str], header: tuple, steps: list[tuple], ids: dict[str, int]) -> bytes:
    rows = [f'<row r="1">{xlsx_parts.cell_xml("A1", mark, ids["mark"])}</row>']
    rows += [f'<row r="{r}">{xlsx_parts.cell_xml(f"A{r}", text, ids["line"])}</row>' for r, text in enumerate(lines[1:], start=2)]
    rows.append(f'<row r="5">{xlsx_parts.cell_xml("A5", "审批记录", ids["bold"])}</row>')
    rows.append('<row r="6">' + "".join(xlsx_parts.cell_xml(f"{_COL[c]}6", head, ids["bold"])
                                        for c, head in enumerate(header, start=1)) + "</row>")
    trail = steps or [("—", "", "", "", "", "尚无审批记录")]
    for r, values in enumerate(trail, start=7):
        rows.append(f'<row r="{r}">' + "".join(xlsx_parts.cell_xml(f"{_COL[c]}{r}", None if v is None else str(v), 0)
                                               for c, v in enumerate(values, start=1)) + "</row>")
    last_row = 6 + len(trail)
    last_col = max([len(WIDTHS), len(header)] + [len(v) for v in trail])
    cols = "".join(f'<col width="{w}" customWidth="1" min="{c}" max="{c}"/>' for c, w in enumerate(WIDTHS, start=1))
    return "".join([
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}">',
        '<sheetPr><outlinePr summaryBelow="1" summaryRight="1"/><pageSetUpPr fitToPage="1"/></sheetPr>',
        f'<dimension ref="A1:{_COL[last_col]}{last_row}"/>',
        '<sheetViews><sheetView workbookViewId="0"><selection activeCell="A1" sqref="A1"/></sheetView></sheetViews>',
        '<sheetFormatPr baseColWidth="8" defaultRowHeight="15"/>', f"<cols>{cols}</cols>",
        "<sheetData>", *rows, "</sheetData>",
        '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>',
        '<pageSetup paperSize="9" fitToHeight="0" fitToWidth="1"/>', "</worksheet>"]).encode("utf-8")


_COL = [""] + [chr(64 + n) for n in range(1, 27)] + [f"A{chr(64 + n)}" for n in range(1, 27)]

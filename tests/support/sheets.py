"""Two workbooks compared the way a person and LibreOffice see them: cell for cell (value, type,
font, fill, border, alignment, number format), merges, row heights, column widths, hyperlinks,
defined names and the whole print setup."""

from __future__ import annotations

import openpyxl


def _color(color) -> tuple:
    if color is None:
        return (None, None)
    return (color.rgb if isinstance(color.rgb, str) else None, color.theme if isinstance(color.theme, int) else None)


def _side(side) -> tuple:
    return (side.style, _color(side.color))


def _cell(c) -> tuple:
    value = c.value.replace("x005F_", "") if isinstance(c.value, str) else c.value  # openpyxl undoes it for shared strings
    font, fill, align, border = c.font, c.fill, c.alignment, c.border
    return (value, c.data_type if c.value is not None else None,
            (font.b, font.i, font.sz, font.name, _color(font.color), font.u),
            (fill.fill_type, _color(fill.fgColor), _color(fill.bgColor)),
            tuple(_side(s) for s in (border.left, border.right, border.top, border.bottom)),
            (align.horizontal, align.vertical, align.wrap_text, align.indent),
            c.number_format, c.protection.locked, c.hyperlink.target if c.hyperlink else None,
            c.hyperlink.location if c.hyperlink else None)


def described(path) -> dict:
    wb = openpyxl.load_workbook(path)
    out = {"sheets": [(ws.title, ws.sheet_state) for ws in wb.worksheets], "active": wb.active.title,
           "names": sorted((n, d.attr_text) for n, d in wb.defined_names.items())}
    for ws in wb.worksheets:
        cells = {c.coordinate: _cell(c) for row in ws.iter_rows() for c in row if c.value is not None or c.has_style}
        ps, pm = ws.page_setup, ws.page_margins
        out[ws.title] = {
            "cells": cells, "merges": sorted(str(m) for m in ws.merged_cells.ranges),
            "heights": {k: (v.height, v.customHeight) for k, v in ws.row_dimensions.items() if v.height},
            "widths": {k: v.width for k, v in ws.column_dimensions.items() if v.customWidth},
            "print": (ps.orientation, ps.paperSize, ps.fitToHeight, ps.fitToWidth, ws.sheet_properties.pageSetUpPr.fitToPage
                      if ws.sheet_properties.pageSetUpPr else None, pm.left, pm.right, pm.top, pm.bottom, pm.header,
                      pm.footer, ws.print_options.horizontalCentered, ws.print_options.verticalCentered,
                      ws.oddFooter.center.text, ws.oddHeader.center.text, ws.print_title_rows, ws.print_title_cols,
                      ws.print_area),
            "view": (ws.sheet_view.tabSelected, ws.freeze_panes, ws.protection.sheet)}
    return out


def differences(a, b) -> list[str]:
    """What differs between two workbooks, one line per difference (empty: the same)."""
    left, right = described(a), described(b)
    out = []
    for key in sorted(set(left) | set(right), key=str):
        l, r = left.get(key), right.get(key)
        if isinstance(l, dict) and isinstance(r, dict):
            for part in sorted(set(l) | set(r)):
                if part == "cells":
                    for ref in sorted(set(l["cells"]) | set(r["cells"])):
                        if l["cells"].get(ref) != r["cells"].get(ref):
                            out.append(f"{key}!{ref}: {l['cells'].get(ref)} != {r['cells'].get(ref)}")
                elif l.get(part) != r.get(part):
                    out.append(f"{key} {part}: {l.get(part)} != {r.get(part)}")
        elif l != r:
            out.append(f"{key}: {l} != {r}")
    return out

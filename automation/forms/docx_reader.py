"""Raw values of a Word form: content controls by tag, line items from a table.

A control still showing its placeholder (w:showingPlcHdr) is blank, whatever
its grey prompt text says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from docx import Document
from docx.oxml.ns import qn

from automation.forms.spec import FormSpec, TableSpec

Raw = tuple[dict[str, Any], dict[str, str], dict[tuple[str, int, str], str]]


def read_docx(path: Path, spec: FormSpec) -> Raw:
    body = Document(str(path)).element.body
    controls = find_controls(body)
    raw: dict[str, Any] = {}
    locations: dict[str, str] = {}
    row_locations: dict[tuple[str, int, str], str] = {}
    for field in spec.fields:
        sdt = controls.get(field.key)
        raw[field.key] = None if sdt is None else control_value(sdt)
        if sdt is not None:
            locations[field.key] = control_location(field.key)
    for table in spec.tables:
        items = find_items(body, table)
        raw[table.key] = [{key: element_text(cell) or None for key, cell in cells.items()} for _, cells in items]
        locations[table.key] = f"表格「{table.key}」"
        for n, (_, cells) in enumerate(items, start=1):
            for key in cells:
                row_locations[(table.key, n, key)] = row_location(table.key, n)
    return raw, locations, row_locations


def control_location(tag: str) -> str:
    return f"控件:{tag}"


def row_location(table: str, row: int) -> str:
    return f"表格「{table}」第 {row} 行"


def find_controls(body) -> dict[str, Any]:
    """First content control for each tag, in document order (body and table cells)."""
    controls: dict[str, Any] = {}
    for sdt in body.iter(qn("w:sdt")):
        tag = sdt.find(f"{qn('w:sdtPr')}/{qn('w:tag')}")
        if tag is not None and tag.get(qn("w:val")):
            controls.setdefault(tag.get(qn("w:val")), sdt)
    return controls


def control_value(sdt) -> str | None:
    props = sdt.find(qn("w:sdtPr"))
    if props is not None and props.find(qn("w:showingPlcHdr")) is not None:
        return None
    content = sdt.find(qn("w:sdtContent"))
    text = "" if content is None else element_text(content)
    if not text.strip() and props is not None:
        picked = props.find(qn("w:date"))
        text = (picked.get(qn("w:fullDate")) or "")[:10] if picked is not None else ""
    return text if text.strip() else None


def element_text(element) -> str:
    """Visible text of an element: runs joined, w:br as newline, paragraphs on their own lines."""
    return "\n".join("".join(_run_text(p)) for p in _paragraphs(element)).strip()


def _paragraphs(element) -> list:
    if element.tag == qn("w:p"):
        return [element]
    # a run-level control holds runs and no paragraph: it reads as one line
    return list(element.iter(qn("w:p"))) or [element]


def _run_text(paragraph) -> Iterator[str]:
    for node in paragraph.iter(qn("w:t"), qn("w:br"), qn("w:cr"), qn("w:tab")):
        if _in_placeholder(node):
            continue
        if node.tag == qn("w:t"):
            yield node.text or ""
        else:
            yield "\t" if node.tag == qn("w:tab") else "\n"


def _in_placeholder(node) -> bool:
    """True when the node sits in a content control that still shows its prompt."""
    for parent in node.iterancestors(qn("w:sdt")):
        props = parent.find(qn("w:sdtPr"))
        if props is not None and props.find(qn("w:showingPlcHdr")) is not None:
            return True
    return False


def find_items(body, table: TableSpec) -> list[tuple[Any, dict[str, Any]]]:
    """Non-blank data rows of the Word table whose header row names every column of ``table``."""
    keys = [c.key for c in table.columns]
    for tbl in body.iter(qn("w:tbl")):
        rows = tbl.findall(qn("w:tr"))
        if not rows:
            continue
        header = [element_text(tc) for tc in rows[0].findall(qn("w:tc"))]
        if all(k in header for k in keys):
            return _item_rows(rows[1:], header, keys)
    return []


def _item_rows(rows, header: list[str], keys: list[str]):
    items = []
    for tr in rows:
        cells = tr.findall(qn("w:tc"))
        picked = {k: cells[header.index(k)] for k in keys if header.index(k) < len(cells)}
        if any(element_text(c) for c in picked.values()):
            items.append((tr, picked))
    return items

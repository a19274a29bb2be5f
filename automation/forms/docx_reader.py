"""Raw values of a Word form: content controls by tag, by alias, or by the label beside them.

Word keeps what we build: one content control per field, tagged with the field
key. Other programs do not. LibreOffice drops every ``w:tag`` on save and keeps
only ``w:alias`` (and drops even the alias of date and drop-down controls);
some converters flatten the controls into plain text. So a field is looked for
by its tag, then by its alias, then in the table cell next to its label, where
the first control of the cell (or, flattened, the cell's own text without the
grey hint) is the value. A control still showing its placeholder
(``w:showingPlcHdr``, or only the placeholder text once a program dropped that
flag) is blank.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from docx.oxml.ns import qn as _qn

from automation.forms.docx_body import load_body
from automation.forms import opened
from automation.forms.repair import load_tolerant
from automation.forms.spec import FormSpec, TableSpec
from automation.forms.extracted import Raw
from automation.problems import Location

BY_TAG, BY_ALIAS, BY_LABEL = "tag", "alias", "label"
# python-docx's qn splits and looks up its prefix at every call; a reading asks for the same dozen
# names hundreds of times per form (a third of indexing and reading one).
qn = lru_cache(maxsize=64)(_qn)
# Prompt texts of our blank forms and task files, and Word's own defaults: shown, never typed.
PLACEHOLDERS = frozenset({"点击此处输入", "请选择", "请填写审批意见", "单击或点击此处输入文字。", "单击此处输入文字。",
                          "Click or tap here to enter text.", "Click here to enter text.", "选择一项。", "Choose an item."})
APPROVAL_TITLE = "· 审批单"  # first cell of the 审批 table a task file carries (decide.task_files)
RESULT_HEADER = ("序号", "级别", "字段")  # header of the 处理结果 table of a returned copy (act.returns)
# Header rows of the tables a Word task file puts above the form (decide.task_files): the 申请信息
# summary repeats field labels (申请编号, 客户名称, 投诉编号 …) with the case's values, so its rows are
# never read as the form's own label cells; the decision table is read by decide.officefile.
SUMMARY_HEADER = ("项目", "内容")
DECISION_HEADER = ("项目", "请填写", "说明")


@dataclass(frozen=True)
class Located:
    """Where a field's value sits: a content control, or the table cell beside its label."""

    element: Any
    how: str  # BY_TAG | BY_ALIAS | BY_LABEL
    hints: tuple[str, ...] = ()  # grey help lines of the cell, never part of the value

    def value(self) -> str | None:
        if self.element.tag == qn("w:sdt"):
            return control_value(self.element)
        return cell_value(self.element, self.hints)


class DocxIndex:
    """Every content control and label cell of a document body, indexed once.

    The label cells are indexed only when first asked for: a file Word saved keeps every tag, so
    its fields and approval inputs are all found by tag, and reading the text of every table cell
    of it (most of what indexing cost) was work for nothing. A file whose tags are gone (LibreOffice)
    gets the same index as before, on its first look-up by label.
    """

    def __init__(self, body):
        self.body = body
        self.by_tag: dict[str, Any] = {}
        self.by_alias: dict[str, Any] = {}
        self._by_label: dict[str, Any] | None = None
        for sdt in body.iter(qn("w:sdt")):
            props = sdt.find(qn("w:sdtPr"))
            if props is None:
                continue
            for child, index in ((props.find(qn("w:tag")), self.by_tag), (props.find(qn("w:alias")), self.by_alias)):
                if child is not None and child.get(qn("w:val")):
                    index.setdefault(child.get(qn("w:val")), sdt)

    @property
    def by_label(self) -> dict[str, Any]:
        """Label text (``normal_label``) → the table cell beside it, outside our own tables."""
        if self._by_label is None:
            self._by_label = _label_cells(self.body)
        return self._by_label

    @property
    def labels_indexed(self) -> bool:
        """Whether the label cells have been indexed (a look-up by label asked for them)."""
        return self._by_label is not None

    @property
    def has_tags(self) -> bool:
        return bool(self.by_tag)

    def locate(self, key: str, label: str | None = None, hints: tuple[str, ...] = ()) -> Located | None:
        if key in self.by_tag:
            return Located(self.by_tag[key], BY_TAG)
        for name in dict.fromkeys((key, label or key)):
            if name in self.by_alias:
                return Located(self.by_alias[name], BY_ALIAS)
        for name in dict.fromkeys((key, label or key)):
            cell = self.by_label.get(normal_label(name))
            if cell is not None:
                return Located(cell, BY_LABEL, hints)
        return None


def _label_cells(body) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for tbl in body.iter(qn("w:tbl")):
        if is_approval_table(tbl) or is_result_table(tbl) or is_task_block_table(tbl):
            continue
        for tr in tbl.findall(qn("w:tr")):
            cells = tr.findall(qn("w:tc"))
            for label_cell, value_cell in zip(cells, cells[1:]):
                label = normal_label(element_text(label_cell))
                if label and label_cell.find(f".//{qn('w:sdt')}") is None:
                    found.setdefault(label, value_cell)
    return found


def normal_label(text: str) -> str:
    """A label as printed ('申请人*', '申请人:') reduced to the field name."""
    return re.sub(r"[\s*::()()]|必填", "", str(text or ""))


def is_approval_table(tbl) -> bool:
    first = tbl.find(f"{qn('w:tr')}/{qn('w:tc')}")
    return first is not None and APPROVAL_TITLE in element_text(first)


def is_result_table(tbl) -> bool:
    """The 处理结果 table a returned copy carries (act.returns): its rows name fields, they are no labels."""
    return table_header(tbl)[:3] == RESULT_HEADER


def is_task_block_table(tbl) -> bool:
    """The 申请信息 summary or the decision table of a Word task file: their labels are not the form's."""
    header = table_header(tbl)
    return header == SUMMARY_HEADER or header[:3] == DECISION_HEADER


def table_header(tbl) -> tuple[str, ...]:
    """The texts of a table's first row, stripped."""
    first = tbl.find(qn("w:tr"))
    return tuple(element_text(tc).strip() for tc in first.findall(qn("w:tc"))) if first is not None else ()


@dataclass(frozen=True)
class Reading:
    """How the fields of a Word form were found."""

    located: dict[str, str]  # field key → BY_TAG | BY_ALIAS | BY_LABEL
    missing: tuple[str, ...]
    had_tags: bool

    @property
    def doubtful(self) -> bool:
        """Controls were lost (no tag at all, or fields found only beside labels) and still some are missing."""
        fallback = any(how != BY_TAG for how in self.located.values())
        return bool(self.missing) and (fallback or not self.had_tags)


def read_docx(path: Path, spec: FormSpec) -> Raw:
    return read_docx_reading(path, spec)[0]


def indexed_body(path: Path, *, hand_on: bool = False) -> tuple[Any, DocxIndex]:
    """The document body (``load_body``, through forms.repair) and its ``DocxIndex``.

    ``hand_on``: the caller only reads it, and the next reader of the same bytes (a decision's inputs,
    then its task file's fingerprint) takes this very body and index instead of parsing the file
    again. A handed-on body is taken once only; never change it.
    """
    path = Path(path)
    key = _bytes_key(path)
    found = _HANDED_ON.pop(key, None) if key is not None else None
    if found is None:
        body = load_tolerant(path, "docx", load_body)
        found = body, DocxIndex(body)
    if hand_on and key is not None and key == _bytes_key(path):  # unchanged while it was read
        while len(_HANDED_ON) >= 4:
            _HANDED_ON.pop(next(iter(_HANDED_ON), None), None)  # (tolerant of another thread)
        _HANDED_ON[key] = found
    return found


_HANDED_ON: dict[bytes, tuple[Any, DocxIndex]] = {}


def _bytes_key(path: Path) -> bytes | None:
    try:
        shared = opened.opened(path)  # inside a scope its SHA-256 is taken once, not at every look
        return shared.sha256 if shared is not None else hashlib.sha256(opened.read_bytes(path)).digest()
    except OSError:
        return None


def read_docx_reading(path: Path, spec: FormSpec) -> tuple[Raw, Reading]:
    body, index = indexed_body(path)
    return _reading(body, index, spec)


def read_body_reading(body, spec: FormSpec) -> tuple[Raw, Reading]:
    """``read_docx_reading`` of a document body already parsed (a Word task file just written)."""
    return _reading(body, DocxIndex(body), spec)


def _reading(body, index: DocxIndex, spec: FormSpec) -> tuple[Raw, Reading]:
    raw: dict[str, Any] = {}
    locations: dict[str, Location] = {}
    row_locations: dict[tuple[str, int, str], Location] = {}
    located: dict[str, str] = {}
    for field in spec.fields:
        found = index.locate(field.key, field.label, _hints(field))
        raw[field.key] = None if found is None else found.value()
        if found is not None:
            locations[field.key] = Location.in_control(field.key) if found.how != BY_LABEL else Location.by_label(field.label)
            located[field.key] = found.how
    for table in spec.tables:
        items = find_items(body, table)
        raw[table.key] = [{key: _cell_text(cell) for key, cell in cells.items()} for _, cells in items]
        locations[table.key] = Location.in_table(table.key)
        for n, (_, cells) in enumerate(items, start=1):
            for key in cells:
                row_locations[(table.key, n, key)] = Location.in_table(table.key, n)
    missing = tuple(f.key for f in spec.fields if f.key not in located)
    return (raw, locations, row_locations), Reading(located, missing, index.has_tags)


def _hints(field) -> tuple[str, ...]:
    return (field.help,) if getattr(field, "help", None) else ()


def find_controls(body, spec: FormSpec | None = None) -> dict[str, Any]:
    """The element holding each field: by tag (every tag, in document order) and, with a spec,
    by alias or label for fields whose tag is gone."""
    index = DocxIndex(body)
    controls = dict(index.by_tag)
    for field in spec.fields if spec is not None else ():
        found = index.locate(field.key, field.label, _hints(field))
        if found is not None:
            controls.setdefault(field.key, found.element)
    return controls


def cell_value(cell, hints: tuple[str, ...] = ()) -> str | None:
    """The value in a table cell beside a label: its first control, else its first input field
    (what LibreOffice turns a control into on the way through ODF), else its text without the hints."""
    sdt = next(cell.iter(qn("w:sdt")), None)
    if sdt is not None:
        return control_value(sdt)
    field = first_field_result(cell)
    if field is not None:
        return _unprompted(field)
    lines = [line for line in (element_text(p) for p in cell.iter(qn("w:p"))) if line.strip() not in hints]
    return _unprompted("\n".join(lines).strip())


def first_field_result(element) -> str | None:
    """The shown result of the first field (FILLIN and the like) inside ``element``, or None.

    LibreOffice writes a text control that went through ODF as FILLIN fields, each
    holding the whole value, with stray copies of the text between them; the first
    field's result is what the person typed.
    """
    simple = next(element.iter(qn("w:fldSimple")), None)
    depth, showing, text, seen = 0, False, [], False
    for node in element.iter(qn("w:fldChar"), qn("w:t"), qn("w:br"), qn("w:fldSimple")):
        if node.tag == qn("w:fldSimple") and not seen:
            return element_text(node) if node is simple else None
        if node.tag == qn("w:fldChar"):
            kind = node.get(qn("w:fldCharType"))
            if kind == "begin":
                depth, seen = depth + 1, True
                showing = False
            elif kind == "separate" and depth == 1:
                showing = True
            elif kind == "end":
                depth -= 1
                if depth == 0:
                    return "".join(text)
        elif showing and depth == 1:
            text.append(node.text or "" if node.tag == qn("w:t") else "\n")
    return None


def _cell_text(cell) -> str | None:
    return _unprompted(element_text(cell))


def _unprompted(text: str | None) -> str | None:
    if text is None or not text.strip() or text.strip() in PLACEHOLDERS:
        return None
    return text


def control_value(sdt) -> str | None:
    props = sdt.find(qn("w:sdtPr"))
    if props is not None and props.find(qn("w:showingPlcHdr")) is not None:
        return None
    content = sdt.find(qn("w:sdtContent"))
    text = "" if content is None else element_text(content)
    if text.strip() in PLACEHOLDERS:
        text = ""  # the prompt, kept as plain text by a program that dropped w:showingPlcHdr
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

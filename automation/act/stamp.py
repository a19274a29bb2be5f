"""Writing one value into a form file by its field key (defined name or content-control tag)."""

from __future__ import annotations

from pathlib import Path

import docx
import openpyxl
from docx.oxml.ns import qn

from automation.fsutil import atomic_save


def stamp_field(path: Path, spec, key: str, value: str) -> None:
    if spec.kind == "xlsx":
        _stamp_xlsx(path, key, value)
    else:
        _stamp_docx(path, key, value)


def _stamp_xlsx(path: Path, key: str, value: str) -> None:
    wb = openpyxl.load_workbook(path)
    if stamp_book(wb, key, value):
        atomic_save(path, wb.save)


def stamp_book(wb, key: str, value: str) -> bool:
    """``stamp_field`` on a workbook already open (saved by the caller); False if no such name."""
    defined = wb.defined_names.get(key)
    if defined is None:
        return False
    for sheet, ref in defined.destinations:
        cell = wb[sheet][ref.replace("$", "").split(":")[0]]
        cell.value = str(value)
        cell.data_type = "s"  # a value, never a formula
    return True


def _stamp_docx(path: Path, key: str, value: str) -> None:
    document = docx.Document(str(path))
    set_control_text(document, key, str(value))
    atomic_save(path, lambda tmp: document.save(str(tmp)))


def set_control_text(document, key: str, value: str) -> None:
    """The text of every content control tagged ``key``, its placeholder state cleared."""
    for sdt in document.element.body.iter(qn("w:sdt")):
        tag = sdt.find(f"{qn('w:sdtPr')}/{qn('w:tag')}")
        if tag is None or tag.get(qn("w:val")) != key:
            continue
        placeholder = sdt.find(f"{qn('w:sdtPr')}/{qn('w:showingPlcHdr')}")
        if placeholder is not None:
            placeholder.getparent().remove(placeholder)
        texts = list(sdt.iter(qn("w:t")))
        if texts:
            texts[0].text = value
            for extra in texts[1:]:
                extra.text = ""

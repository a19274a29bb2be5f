"""Blank and filled forms for tests: real files, built from the repo's specs.

    path = build_blank("sales_contract", tmp_path)
    fill_xlsx(path, {"客户名称": "上海甲公司", "合同金额": Decimal("1200")},
              items=[{"品名": "水泵", "数量": 2, "单价": Decimal("600"), "金额": Decimal("1200")}])
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from lxml import etree

from automation import samples
from automation.forms.build import build_form
from automation.forms.fill import fill_docx, fill_xlsx
from automation.forms.spec import FormSpec, load_specs

REPO = Path(__file__).resolve().parents[2]
FORMS = REPO / "forms"


@functools.cache
def repo_specs() -> dict[str, FormSpec]:
    """The shipped specs (forms/*.yaml), loaded once per test session."""
    return load_specs(FORMS)


_BUILT: dict[str, Path] = {}


def build_blank(spec_id: str, folder: Path) -> Path:
    """The blank form of ``spec_id`` in ``folder`` (``<folder>/<标题>.<kind>``); returns its path.

    Each spec is built by ``build_form`` once per test process, then copied: the shipped
    specs do not change during a run, and copying costs far less than building."""
    built = _BUILT.get(spec_id)
    if built is None or not built.exists():
        cache = Path(tempfile.mkdtemp(prefix=f"officeflow-blank-{spec_id}-"))
        atexit.register(shutil.rmtree, cache, ignore_errors=True)
        built = _BUILT[spec_id] = build_form(repo_specs()[spec_id], cache)
    target = Path(folder) / built.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(built, target)
    return target


__all__ = ["FORMS", "repo_specs", "build_blank", "fill_xlsx", "fill_docx", "strip_custom_properties", "strip_markers"]


def customers_and_a_trip(folder: Path, today, customers: int = 4) -> list[Path]:
    """Filled forms for a small pass: ``customers`` 客户登记表 (.xlsx) and one 出差申请表 (.docx)."""
    forms = [fill_xlsx(build_blank("customer_registration", folder / f"c{seq}"),
                       samples.customer_registration(seq + 1, today)) for seq in range(customers)]
    forms.append(fill_docx(build_blank("trip_request", folder / "t"), samples.trip_request(today)))
    return forms


def strip_markers(path: Path) -> Path:
    """Remove the hidden form markers (sheet and defined name; bookmarked paragraph and
    document variable), as a program that re-creates the file from what it shows would."""
    from automation.forms import markers

    path = Path(path)
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(path)
        if markers.MARKER_SHEET in wb.sheetnames:
            del wb[markers.MARKER_SHEET]
        wb.defined_names.pop(markers.MARKER_NAME, None)
        wb.save(path)
        return path
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document(str(path))
    for p in list(doc.element.body.iter(qn("w:p"))):
        if any(b.get(qn("w:name")) == markers.MARKER_BOOKMARK for b in p.iter(qn("w:bookmarkStart"))):
            p.getparent().remove(p)
    for variables in doc.settings.element.findall(qn("w:docVars")):
        doc.settings.element.remove(variables)
    doc.save(str(path))
    return path


def strip_custom_properties(path: Path) -> Path:
    """Remove docProps/custom.xml, as a program that drops custom properties
    on save would; works for .xlsx and .docx. Returns the path."""
    path = Path(path)
    with zipfile.ZipFile(path) as zf:
        entries = [(info, zf.read(info)) for info in zf.infolist()]
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in entries:
            if info.filename == "docProps/custom.xml":
                continue
            if info.filename in ("_rels/.rels", "[Content_Types].xml"):
                data = _without_custom(data)
            out.writestr(info, data)
    os.replace(tmp, path)
    return path


def _without_custom(xml: bytes) -> bytes:
    root = etree.fromstring(xml)
    for node in list(root):
        if "custom-properties" in (node.get("Type", "") + node.get("ContentType", "")):
            root.remove(node)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)

"""Which form is this file, and which version?

Our blank forms carry their id and version as custom document properties, so
most files are identified without guessing. Some programs drop those
properties on save (older WPS, online editors); such a file is still
recognised by its title and by the defined names or content-control tags it
keeps — but only when the match is clear, never by a coin toss.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import ParseError

from docx import Document
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from openpyxl import load_workbook

from automation.errors import UnrecognisedFormError
from automation.forms.build_xlsx import PROP_FORM, PROP_VERSION
from automation.forms.docx_props import read_custom_properties
from automation.forms.spec import FormSpec

BY_PROPERTIES = "properties"
BY_NAMES = "names"
MIN_COVERAGE = 0.6  # share of a spec's keys a file must hold to be taken for that form


def identify(path: Path, kind: str, specs: dict[str, FormSpec]) -> tuple[FormSpec, str | None, str]:
    """(spec, version or None, 'properties' | 'names'); raises UnrecognisedFormError."""
    path = Path(path)
    candidates = {key: spec for key, spec in specs.items() if spec.kind == kind}
    props = _read(path, read_custom_properties)
    spec = candidates.get(props.get(PROP_FORM, ""))
    if spec is not None:
        version = props.get(PROP_VERSION) or None
        _check_version(spec, version, path)
        return spec, version, BY_PROPERTIES
    clues = _read(path, _xlsx_clues if kind == "xlsx" else _docx_clues)
    spec = best_match(clues, candidates.values())
    if spec is None:
        raise unknown_form(path, specs)
    return spec, None, BY_NAMES


@dataclass
class Clues:
    """What a file shows about itself when its properties are gone."""

    title: str = ""
    names: set[str] = field(default_factory=set)  # defined names, table names, content-control tags
    headers: list[set[str]] = field(default_factory=list)  # header rows of Word tables


def best_match(clues: Clues, specs) -> FormSpec | None:
    scored = []
    for spec in specs:
        titled = _normal(spec.title) in _normal(clues.title) if clues.title else False
        share = coverage(spec, clues)
        if titled or share >= MIN_COVERAGE:
            scored.append((share + titled, spec.id, spec))
    return max(scored, key=lambda s: s[:2])[2] if scored else None


def coverage(spec: FormSpec, clues: Clues) -> float:
    """Share of the spec's field and table keys that the file provides."""
    found = sum(f.key in clues.names for f in spec.fields)
    for t in spec.tables:
        columns = {c.key for c in t.columns}
        found += t.key in clues.names or any(columns <= header for header in clues.headers)
    return found / max(1, len(spec.fields) + len(spec.tables))


def unknown_form(path: Path, specs: dict[str, FormSpec]) -> UnrecognisedFormError:
    known = "、".join(spec.file_name for spec in specs.values()) or "(暂无)"
    return UnrecognisedFormError(
        f"无法识别「{path.name}」是哪一种表单。目前受理的表单有:{known}。"
        "请到 forms 文件夹取对应的空白表单填写后再提交。",
        code="form-unknown", location=path.name)


def _check_version(spec: FormSpec, version: str | None, path: Path) -> None:
    if spec.accepts(version):
        return
    accepted = "、".join(dict.fromkeys((spec.version, *spec.accepted_versions)))
    raise UnrecognisedFormError(
        f"「{spec.title}」的版本 {version} 已不再受理,目前受理的版本为:{accepted}。"
        f"请到 forms 文件夹取最新的「{spec.file_name}」重新填写后提交。",
        code="form-version-unsupported", location=path.name)


def _read(path: Path, reader):
    # A file that passed intake can still be no Office package at all
    # (a renamed .txt): that is an unrecognised form, not a crash.
    try:
        return reader(path)
    except (zipfile.BadZipFile, KeyError, ParseError, ValueError, PackageNotFoundError) as exc:
        raise UnrecognisedFormError(f"「{path.name}」无法作为 Excel 或 Word 表单读取:{exc}",
                                    code="form-unreadable", location=path.name) from exc


def _normal(text: str) -> str:
    return re.sub(r"\s+", "", str(text))


def _xlsx_clues(path: Path) -> Clues:
    # A file object, so the kind comes from intake's content check, not the extension.
    with open(path, "rb") as handle:
        try:
            wb = load_workbook(handle, read_only=False, data_only=True)
        except OSError as exc:  # openpyxl's word for "a zip, but no workbook in it"
            raise ValueError(str(exc)) from exc
    try:
        first = wb.worksheets[0]
        title = " ".join(str(first[f"A{row}"].value or "") for row in (1, 2, 3))
        names = set(wb.defined_names.keys())
        for ws in wb.worksheets:
            names |= set(ws.defined_names.keys()) | set(ws.tables.keys())
        return Clues(title=title, names=names)
    finally:
        wb.close()


def _docx_clues(path: Path) -> Clues:
    with open(path, "rb") as handle:
        doc = Document(handle)
    title = next((p.text for p in doc.paragraphs if p.text.strip()), "")
    tags = {tag.get(qn("w:val")) for tag in doc.element.body.iter(qn("w:tag"))}
    headers = [{cell.text.strip() for cell in t.rows[0].cells} for t in doc.tables if t.rows]
    return Clues(title=title, names=tags - {None}, headers=headers)

"""Which form is this file, and which version?

Our blank forms carry their id and version in three places: custom document
properties, a hidden marker (a hidden sheet and a defined name in a workbook, a
hidden bookmarked paragraph and a document variable in a Word file), and the
visible title and labels. Programs that re-save a file lose some of them
(LibreOffice keeps the properties but drops Word's document variables and
content-control tags; older WPS and online editors drop custom properties), so
each is tried in turn, and a file identified by a fallback says so.

Everything here reads the package parts directly (see ``identify.package``):
identification never loads a whole workbook, so it cannot fail on a valid file
that openpyxl happens not to read.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from automation.errors import UnrecognisedFormError
from automation.forms import markers
from automation.forms.spec import FormSpec
from automation.identify.package import Package, PackageError, read_document, read_workbook

BY_PROPERTIES = "properties"
BY_MARKER = "marker"
BY_NAMES = "names"
MIN_COVERAGE = 0.6  # share of a spec's keys a file must hold to be taken for that form
# What the audit entry of a file identified by a fallback says.
FALLBACK_NOTES = {
    BY_MARKER: "(文件的自定义属性已丢失,按表单内的隐藏标记识别)",
    BY_NAMES: "(文件的自定义属性和隐藏标记均已丢失,按标题和栏目名称识别)",
}
STRICT_MESSAGE = ("「{name}」是以「Strict Open XML」格式保存的,系统暂不能读取这种格式。请在 Excel 中打开文件,"
                  "点击「文件 → 另存为」,保存类型选「Excel 工作簿 (*.xlsx)」(Word 文件选「Word 文档 (*.docx)」),"
                  "再把新文件放入 inbox/。")

NO_SHEETS_MESSAGE = ("「{name}」是一个没有任何工作表的 Excel 文件,系统无法从中读取表单。请在 Excel 或 WPS 中打开您填写的表单,"
                     "点击「文件 → 另存为」,保存类型选「Excel 工作簿 (*.xlsx)」,再把新文件放入 inbox/。")


def identify(path: Path, kind: str, specs: dict[str, FormSpec]) -> tuple[FormSpec, str | None, str]:
    """(spec, version or None, 'properties' | 'marker' | 'names'); raises UnrecognisedFormError."""
    path = Path(path)
    candidates = {key: spec for key, spec in specs.items() if spec.kind == kind}
    clues = read_clues(path, kind, known=candidates)
    if kind == "xlsx" and not clues.sheets:
        raise UnrecognisedFormError(NO_SHEETS_MESSAGE.format(name=path.name), code="form-no-sheets", location=path.name)
    if clues.strict:
        raise UnrecognisedFormError(STRICT_MESSAGE.format(name=path.name), code="form-strict-ooxml",
                                    location=path.name)
    for how, (form_id, version) in clues.ids:
        spec = candidates.get(form_id)
        if spec is not None:
            version = version or None
            _check_version(spec, version, path)
            return spec, version, how
    spec = best_match(clues, candidates.values())
    if spec is None:
        raise unknown_form(path, specs)
    return spec, None, BY_NAMES


@dataclass
class Clues:
    """What a file shows about itself."""

    title: str = ""
    names: set[str] = field(default_factory=set)  # defined names, table names, content-control tags/aliases, labels
    headers: list[set[str]] = field(default_factory=list)  # header rows of Word tables
    ids: list[tuple[str, tuple[str, str]]] = field(default_factory=list)  # (how, (form id, version)), best first
    strict: bool = False
    producer: str = ""
    sheets: int = 1


def read_clues(path: Path, kind: str, known: Collection[str] = ()) -> Clues:
    """What the file shows about itself. ``known``: the ids of the forms it may be; when its custom
    properties name one of them, that is what ``identify`` answers (the properties come first), so
    only what it checks before — Strict, a workbook's sheets — is read besides: the clues for the
    fallbacks (markers, title, labels, headers) are left unread."""
    # A file that passed intake can still be no Office package at all (a renamed
    # .txt): that is an unrecognised form with a plain reason, not a crash.
    try:
        with Package(path) as pkg:
            return _xlsx_clues(pkg, known) if kind == "xlsx" else _docx_clues(pkg, known)
    except (zipfile.BadZipFile, PackageError, OSError, KeyError, ValueError, EOFError) as exc:
        raise UnrecognisedFormError(
            f"「{path.name}」无法作为 Excel 或 Word 表单读取。请在 Excel 或 Word 中打开它,"
            "点击「文件 → 另存为」保存为 .xlsx 或 .docx 后重新提交。",
            code="form-unreadable", location=path.name) from exc


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
    found = sum(f.key in clues.names or f.label in clues.names for f in spec.fields)
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


def _normal(text: str) -> str:
    return re.sub(r"\s+", "", str(text))


def _from_properties(pkg: Package) -> list[tuple[str, tuple[str, str]]]:
    props = pkg.custom_properties()
    form_id = props.get(markers.PROP_FORM, "").strip()
    return [(BY_PROPERTIES, (form_id, props.get(markers.PROP_VERSION, "").strip()))] if form_id else []


def _by_properties(ids: list, known: Collection[str]) -> bool:
    return bool(ids) and ids[0][0] == BY_PROPERTIES and ids[0][1][0] in known


def _xlsx_clues(pkg: Package, known: Collection[str] = ()) -> Clues:
    ids = _from_properties(pkg)
    if _by_properties(ids, known):
        book = read_workbook(pkg, markers.MARKER_SHEET, sheets_only=True)
        return Clues(ids=ids, strict=book.strict, sheets=sum(1 for s in book.sheets if s.part and pkg.has(s.part)))
    book = read_workbook(pkg, markers.MARKER_SHEET)
    if book.marker.get(markers.PROP_FORM):
        ids.append((BY_MARKER, (book.marker[markers.PROP_FORM], book.marker.get(markers.PROP_VERSION, ""))))
    found = markers.parse_value(book.defined_names.get(markers.MARKER_NAME))
    if found:
        ids.append((BY_MARKER, found))
    names = set(book.defined_names) | book.tables
    return Clues(title=book.title, names=names, ids=ids, strict=book.strict, producer=pkg.app_name(),
                 sheets=sum(1 for s in book.sheets if s.part and pkg.has(s.part)))


def _docx_clues(pkg: Package, known: Collection[str] = ()) -> Clues:
    ids = _from_properties(pkg)
    if _by_properties(ids, known):
        return Clues(ids=ids, strict=read_document(pkg, root_only=True).strict)
    doc = read_document(pkg)
    for text in reversed(doc.texts):  # the marker paragraph sits at the end
        found = markers.parse_text(text)
        if found:
            ids.append((BY_MARKER, found))
            break
    found = markers.parse_value(doc.variables.get(markers.MARKER_VARIABLE))
    if found:
        ids.append((BY_MARKER, found))
    labels = {re.sub(r"[\s*::]", "", label) for label in doc.labels}
    return Clues(title=doc.title, names=doc.tags | doc.aliases | labels, headers=doc.headers, ids=ids,
                 strict=doc.strict, producer=pkg.app_name())

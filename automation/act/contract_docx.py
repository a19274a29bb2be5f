"""Rendering a contract template with docxtpl, fast: compiled once, its package opened once, saved at zip level.

Kept apart from ``contracts`` (the context and the bookkeeping of an approved case) so
that a pass which renders no contract never imports docxtpl, Jinja or python-docx.
Every shortcut here produces the parts a plain docxtpl render saved by python-docx
produces (tests/test_contracts_opened_once.py, tests/test_contracts_zip_save.py).
"""

from __future__ import annotations

import copy
import hashlib
import io
import re
import threading
import zipfile
from collections import OrderedDict
from pathlib import Path

import jinja2
from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docxtpl import DocxTemplate
from lxml import etree

from automation.act.filters import FILTERS
from automation.errors import TemplateError
from automation.forms import zip_package
from automation.fsutil import atomic_save

FOOTNOTES_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
# The characters docxtpl's resolve_listing turns into tabs, breaks and paragraphs; without any, it changes nothing.
_LISTING = re.compile("[\t\a\n\f]")


def make_env(*, strict: bool = True) -> jinja2.Environment:
    """Autoescaped (a customer name with & or < must not break the XML), filters registered."""
    undefined = jinja2.StrictUndefined if strict else jinja2.Undefined
    env = jinja2.Environment(autoescape=True, undefined=undefined, finalize=_blank_none)
    env.filters.update(FILTERS)
    return env


def _blank_none(value):
    return "" if value is None else value


class _CompiledOnce(jinja2.Environment):
    """An environment whose ``from_string`` compiles each source once per process.

    docxtpl hands Jinja the template's patched XML on every render; for an unchanged
    template that text is the same every time, so compiling it again (most of a
    render's cost) is waste. Keyed by the source text itself, a changed template file
    is compiled afresh — no stale template can be used.
    """

    cache_size = 32

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._compiled: OrderedDict[str, jinja2.Template] = OrderedDict()

    def from_string(self, source, globals=None, template_class=None):
        if globals is not None or template_class is not None or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        template = self._compiled.get(source)
        if template is None:
            template = self._compiled[source] = super().from_string(source)
            while len(self._compiled) > self.cache_size:
                self._compiled.popitem(last=False)
        else:
            self._compiled.move_to_end(source)
        return template


_RENDER_ENV: list[_CompiledOnce] = []


def render_env() -> jinja2.Environment:
    """The one environment contracts render with in this process (see ``_CompiledOnce``)."""
    if not _RENDER_ENV:
        env = _CompiledOnce(autoescape=True, undefined=jinja2.StrictUndefined, finalize=_blank_none)
        env.filters.update(FILTERS)
        _RENDER_ENV.append(env)
    return _RENDER_ENV[0]


class _Template(DocxTemplate):
    """docxtpl's template with its XML clean-up (``patch_xml``, a dozen regular expressions over
    the whole body) done once per distinct part text, like the compilation above.

    Rendering a lent package (``lent`` set), the body is serialised once per package, and the
    rendered body is kept as a tree (``tree``) instead of being moved into the document: moving
    it in and the template's body back out walked the whole body twice per render. The document
    part is then written by splicing (``_Lent.document_bytes``); ``put_tree`` moves it in when
    python-docx must save after all."""

    _patched: OrderedDict[str, str] = OrderedDict()
    lent: _Lent | None = None
    tree = None

    def patch_xml(self, src_xml):
        patched = self._patched.get(src_xml)
        if patched is None:
            patched = self._patched[src_xml] = super().patch_xml(src_xml)
            while len(self._patched) > _CompiledOnce.cache_size:
                self._patched.popitem(last=False)
        return patched

    def get_xml(self):
        if self.lent is not None:
            return self.lent.body_xml()
        return super().get_xml()

    def resolve_listing(self, xml):
        # docxtpl's version runs three nested regular-expression passes over every paragraph
        # and run; they only rewrite these characters, so without one the text is returned as is.
        if _LISTING.search(xml) is None:
            return xml
        return super().resolve_listing(xml)

    def map_tree(self, tree):
        if self.lent is not None and self.lent.splice:
            self.tree = tree
        else:
            super().map_tree(tree)

    def put_tree(self) -> None:
        if self.tree is not None:
            super().map_tree(self.tree)
            self.tree = None


class _Lent:
    """A template package opened by python-docx, with what every render of it would otherwise
    work out again from the same bytes: the body's text, the document part around the body,
    the zip entries and their relationship counts."""

    def __init__(self, data: bytes):
        self.document = Document(io.BytesIO(data))
        self.archive = zipfile.ZipFile(io.BytesIO(data))
        self._body_xml: str | None = None
        self.verified = False
        # With footnotes, docxtpl walks the document's sections (read from the body) while rendering
        # them: the rendered body must be in the document then, so that package is not spliced.
        self.splice = not any(p.content_type == FOOTNOTES_CT for p in self.document.part.package.iter_parts())
        self.head = self.tail = self.body_open = self.loose_open = None
        self.zip_names: set[str] | None = None
        self.rel_counts: dict[str, int] = {}

    def body_xml(self) -> str:
        # The template's body element is never changed (a render's body is a new tree), so its text stays valid.
        if self._body_xml is None:
            self._body_xml = etree.tostring(self.document.element.body, encoding="unicode")
        return self._body_xml

    def stored(self) -> tuple[set[str], dict[str, int]]:
        """The template's part names (no rels, no content types) and the relationship count of each rels part."""
        if self.zip_names is None:
            self.zip_names, self.rel_counts = _stored(self.archive)
        return self.zip_names, self.rel_counts

    def document_bytes(self, tree) -> bytes | None:
        """The document part with ``tree`` as its body, as python-docx would serialise it; None when
        the part's layout is not one this can splice."""
        if self.head is None and not self._frame():
            self.splice = False
            return None
        body = etree.tostring(tree, encoding="UTF-8")
        if not body.startswith(self.loose_open):
            return None
        # Moved into the document, the body loses the namespace declarations its parent already makes.
        return b"".join((self.head, self.body_open, body[len(self.loose_open):], self.tail))

    def _frame(self) -> bool:
        body = self.document.element.body
        whole = self.document.part.blob
        qname = (f"{body.prefix}:body" if body.prefix else "body").encode()
        start, close = b"<" + qname, b"</" + qname + b">"
        if whole.count(start) != 1 or whole.count(close) != 1:
            return False
        at = whole.index(start)
        opened = whole[at: whole.index(b">", at) + 1]
        if opened.endswith(b"/>") or whole[at + len(start)] not in b" >":
            return False
        loose = self.body_xml().encode("utf-8")
        self.loose_open = loose[: loose.index(b">") + 1]
        self.head, self.body_open = whole[:at], opened
        self.tail = whole[whole.index(close) + len(close):]
        return True


class _OpenedTemplates:
    """Template packages opened with python-docx once per process, lent to one render at a time.

    Opening the package (python-docx parses every XML part, ~800 KB of styles among them) was a
    third of a render. docxtpl changes the document it renders: it swaps in the rendered body,
    points the header/footer relationships at new parts, writes the core properties and the
    footnotes' bytes. A lent document is taken back only when the render changed nothing else —
    the contract was saved at zip level, so no picture, link, part or relationship was added —
    and after exactly those changes are undone (``_Undo``). Keyed by the template's bytes (a
    digest of the file read at each render), so a changed template file is opened afresh, even
    one rewritten within the same second. A render that fails, or one saved by python-docx, drops
    its document: the next render opens the file again, as every render did before.
    """

    kinds = 4  # distinct template contents kept
    per_kind = 2  # idle copies of one template (two threads rendering the same template at once)

    def __init__(self):
        self._idle: OrderedDict[bytes, list[_Lent]] = OrderedDict()
        self._lock = threading.Lock()
        self.opened = 0  # packages opened by python-docx (tests: proves the cache is used)

    def take(self, digest: bytes, data: bytes) -> _Lent:
        with self._lock:
            idle = self._idle.get(digest)
            if idle:
                self._idle.move_to_end(digest)
                return idle.pop()
            self.opened += 1
        return _Lent(data)

    def give_back(self, digest: bytes, lent: _Lent) -> None:
        with self._lock:
            idle = self._idle.setdefault(digest, [])
            self._idle.move_to_end(digest)
            if len(idle) < self.per_kind:
                idle.append(lent)
            while len(self._idle) > self.kinds:
                self._idle.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._idle.clear()
            self.opened = 0


_OPENED = _OpenedTemplates()
_NO_BLOB = object()


class _Undo:
    """What a docxtpl render changes in the document it renders, recorded before the render so it can
    be put back afterwards (see ``_OpenedTemplates``). ``None`` from ``of`` when the package has no core
    properties part: python-docx would add one during the render, so that document is not reused."""

    def __init__(self, document, core):
        self.root = document.element
        self.body = self.root.body
        self.part = document.part
        self.targets = {rid: rel._target for rid, rel in self.part.rels.items()}
        self.parts = list(self.part.package.iter_parts())
        self.blobs = {part: part.__dict__.get("_blob", _NO_BLOB) for part in self.parts}
        self.core = core
        self.core_element = copy.deepcopy(core._element)

    @classmethod
    def of(cls, document) -> _Undo | None:
        try:
            core = document.part.package.part_related_by(RT.CORE_PROPERTIES)
        except KeyError:
            return None
        return cls(document, core)

    def apply(self) -> bool:
        """Put the document back as it was opened; False when the render changed what this cannot undo."""
        if set(self.part.rels) != set(self.targets) or self.root.body is None:
            return False
        if self.root.body is not self.body:
            self.root.replace(self.root.body, self.body)
        for rid, target in self.targets.items():
            self.part.rels[rid]._target = target
        for part, blob in self.blobs.items():
            if blob is _NO_BLOB:
                part.__dict__.pop("_blob", None)
            else:
                part._blob = blob
        self.core._element = self.core_element
        return list(self.part.package.iter_parts()) == self.parts


def render_contract(template: Path, context: dict, dest: Path) -> Path:
    """Render ``template`` into ``dest``, swapped in atomically.

    The template's package comes opened from ``_OPENED`` when this process rendered the same bytes
    before; the output is the same as from a freshly opened template (tests/test_contracts_cache.py)."""
    data = Path(template).read_bytes()
    digest = hashlib.blake2b(data, digest_size=20).digest()
    lent = _OPENED.take(digest, data)
    doc = _Template(str(template))
    doc.docx, doc.lent = lent.document, lent
    undo = _Undo.of(doc.docx)
    try:
        doc.render(context, jinja_env=render_env(), autoescape=True)
    except jinja2.TemplateError as exc:
        raise _template_error(template, exc) from exc
    if not _save_at_zip_level(doc, io.BytesIO(data), dest, lent=lent):
        doc.put_tree()
        atomic_save(dest, lambda tmp: doc.save(str(tmp)))
    elif undo is not None and undo.apply():
        _OPENED.give_back(digest, lent)
    return dest


def _save_at_zip_level(doc: DocxTemplate, template, dest: Path, *, lent: _Lent | None = None) -> bool:
    """Save the rendered contract as the template's package with only the parts docxtpl renders written
    anew (the body, headers and footers, footnotes, core properties); styles, numbering, fonts, theme
    and settings are copied as stored — python-docx would serialise every part again (half a render).
    False (nothing written) when the render added or replaced anything (a picture, a link, a sub-document):
    then python-docx saves the whole package. ``lent``: the package ``doc`` renders, whose zip entries
    are already read."""
    if doc.pics_to_replace or doc.crc_to_new_media or doc.crc_to_new_embedded or doc.zipname_to_replace:
        return False
    try:
        package = doc.docx.part.package
        parts = {part.partname.lstrip("/"): part for part in package.iter_parts()}
        with (zipfile.ZipFile(template) if lent is None else _Borrowed(lent.archive)) as zf:
            stored, counts = lent.stored() if lent is not None else _stored(zf)
            if set(parts) != stored:
                return False
            for name, part in parts.items():
                if len(part.rels) != counts.get(zip_package.rels_of(name), 0):
                    return False
        rendered = {doc.docx.part, package._core_properties_part}
        rendered |= {rel.target_part for rel in doc.docx.part.rels.values()
                     if not rel.is_external and rel.reltype in (RT.HEADER, RT.FOOTER, RT.FOOTNOTES)}
        changed = {name: part.blob for name, part in parts.items() if part in rendered and part is not doc.docx.part}
        changed[doc.docx.part.partname.lstrip("/")] = _document_part(doc, lent)
        zip_package.write(template, dest, changed, archive=None if lent is None else lent.archive)
    except (zip_package.Unsupported, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError):
        return False
    return True


def _document_part(doc: DocxTemplate, lent: _Lent | None) -> bytes:
    tree = getattr(doc, "tree", None) if lent is not None else None
    if tree is None:
        return doc.docx.part.blob
    spliced = lent.document_bytes(tree)
    if spliced is not None and lent.verified:
        return spliced
    # The first render of a package (or one the splice cannot lay out) moves the body in as docxtpl
    # does; the first also proves the splice equal to that, or stops splicing this package.
    doc.put_tree()
    whole = doc.docx.part.blob
    if spliced is not None:
        lent.verified, lent.splice = True, spliced == whole
    return whole


class _Borrowed:
    """A lent package's open archive in a ``with``, left open for the next render."""

    def __init__(self, zf: zipfile.ZipFile):
        self.zf = zf

    def __enter__(self) -> zipfile.ZipFile:
        return self.zf

    def __exit__(self, *exc) -> None:
        return None


def _stored(zf: zipfile.ZipFile) -> tuple[set[str], dict[str, int]]:
    names = {n for n in zf.namelist() if not n.endswith("/")}
    rels = {n for n in names if n.endswith(".rels")}
    counts = {n: len(etree.fromstring(zf.read(n), zip_package.PARSER)) for n in rels}
    return names - rels - {"[Content_Types].xml"}, counts


def _template_error(template: Path, exc: jinja2.TemplateError) -> TemplateError:
    near = " ".join(line.strip() for line in getattr(exc, "docx_context", []) if line.strip())
    where = f"{template.name}" + (f",附近文字:{near[:120]}" if near else "")
    if isinstance(exc, jinja2.UndefinedError):
        return TemplateError(f"合同模板引用了表单中没有的变量({exc.message})。请运行 officeflow contracts lint 查看并修改模板。",
                             code="template-unknown-variable", location=where)
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return TemplateError(f"合同模板的标签写法有误({exc.message})。请检查花括号与 if/for 是否成对。",
                             code="template-syntax-error", location=where)
    return TemplateError(f"合同模板无法填充:{exc}", code="template-render-failed", location=where)

"""A Word copy (returned or 抄送) written at zip level: only the main part rewritten.

python-docx's ``Document(path)`` parses every XML part of the package — a Word form's
styles part is ~800 KB — and its save serializes them all again. The copies change the
body alone, so here the main part is parsed into python-docx's element classes, edited
by the very code the python-docx path runs (``edit`` gets a ``docx.document.Document``),
and written back; every other part is copied as stored. The document part the editing
code sees answers only the style look-ups it makes (by name, as python-docx resolves
them, read from the styles part's bytes); anything else makes ``write`` return False
and the caller uses python-docx's own load and save.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Callable
from xml.sax.saxutils import escape

import docx.document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import parse_xml
from lxml import etree

from automation.forms import zip_package as package
from automation.forms.repair import needs_renames

_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_STYLE_START = re.compile(rb"<w:style\b[^>]*>")
_KINDS = {WD_STYLE_TYPE.PARAGRAPH: b"paragraph", WD_STYLE_TYPE.CHARACTER: b"character",
          WD_STYLE_TYPE.TABLE: b"table", WD_STYLE_TYPE.LIST: b"numbering"}
# python-docx's UI names for built-in styles, as stored (``docx.styles.BabelFish``).
_INTERNAL = {"Caption": "caption", "Footer": "footer", "Header": "header", "Title": "title",
             **{f"Heading {n}": f"heading {n}" for n in range(1, 10)}}


def write(src: Path, dest: Path, edit: Callable[[docx.document.Document], None]) -> bool:
    """``dest`` (atomically): ``src`` with its body edited by ``edit``; False (nothing written) when the
    package is left to python-docx."""
    try:
        with package.open_package(src) as zf:
            if needs_renames(zf, "docx"):
                return False
            main, _, styles = package.main_and_styles(zf)
            root = parse_xml(zf.read(main))
            if root.nsmap.get("w") != _W_NS or root.find(f"{{{_W_NS}}}body") is None:
                raise package.Unsupported("not a transitional document")
            edit(docx.document.Document(root, _StylesByName(zf, styles)))
            package.write(src, dest, {main: package.serial(root)}, archive=zf)
    except (package.Unsupported, KeyError, ValueError, AttributeError, etree.XMLSyntaxError, zipfile.BadZipFile):
        return False
    return True


class _StylesByName:
    """What python-docx's paragraph and table code asks of the document part: a style's id by its name."""

    def __init__(self, zf: zipfile.ZipFile, styles: str | None):
        self._zf, self._styles = zf, styles if styles is not None and styles in zf.namelist() else None

    def get_style_id(self, style, style_type):
        if style is None:
            return None
        if not isinstance(style, str):
            raise package.Unsupported("a style object")
        if self._styles is None:
            raise package.Unsupported("no styles part (python-docx would add its default one)")
        name, kind = _INTERNAL.get(style, style), _KINDS[style_type]
        info = self._zf.getinfo(self._styles)
        key = (info.CRC, info.file_size, name, kind)
        if key not in _FOUND:  # a burst of one form kind inflates its ~800 KB styles part once
            _FOUND[key] = _look_up(self._zf.read(self._styles), name, kind)
            if len(_FOUND) > 256:
                _FOUND.clear()
        return _style_id(_FOUND[key], name)


_FOUND: dict[tuple, object] = {}  # (styles part's CRC and size, name, kind) -> style id / None / KeyError


def _style_id(found, name: str):
    """``Styles.get_style_id``'s answer: the id, None for the default style of its type; KeyError when
    there is no such style."""
    if found is KeyError:
        raise KeyError(f"no style with name '{name}'")
    return found


def _look_up(data: bytes, name: str, kind: bytes):
    """The style named ``name`` in the styles part's bytes; a name it may spell otherwise is Unsupported."""
    quoted = ('"' + escape(name, {'"': "&quot;"}) + '"').encode()
    at = data.find(b'<w:name w:val=' + quoted + b"/>")
    if at < 0:
        # Written some other way (spaces, quotes, prefix), or an id python-docx would look up by: not ours to say.
        plain = re.escape(escape(name).encode())
        if re.search(rb"""<(?:\w+:)?name\b[^>]*\bval\s*=\s*["']""" + plain + rb"""["']""", data) or \
                re.search(rb"""\bstyleId\s*=\s*["']""" + plain + rb"""["']""", data):
            raise package.Unsupported("a style name written some other way")
        return KeyError
    start = data.rfind(b"<w:style ", 0, at)
    tag = _STYLE_START.match(data, start) if start >= 0 else None
    if tag is None or b"</w:style>" in data[start:at]:
        raise package.Unsupported("a style name outside a style")
    tag = tag.group(0)
    found_kind = re.search(rb'w:type="([^"]*)"', tag)
    if found_kind is None or found_kind.group(1) != kind:
        raise package.Unsupported("a style of another type")
    if re.search(rb'w:default="(1|true|on)"', tag):
        return None
    style_id = re.search(rb'w:styleId="([^"]*)"', tag)
    if style_id is None:
        raise package.Unsupported("a style without an id")
    return style_id.group(1).decode()

"""Open a valid package that openpyxl or python-docx would trip over, by repairing a copy in memory.

Excel, Word and WPS open these files; the libraries do not:

- part names differing in case from what ``[Content_Types].xml`` and the rels name
  (``xl/SharedStrings.xml``), or written with backslashes (``xl\\workbook.xml``);
- the main part outside ``xl/`` or ``word/`` (found through ``_rels/.rels``);
- cells with an empty style attribute (``s=""``) or a style index beyond the styles part;
- merges over whole columns or rows (``<mergeCell ref="A:A"/>``).

The original file is never changed: the repaired package exists only in memory,
and only when the file needs it (a quick look at the part names decides; a
workbook that fails to load is repaired and tried once more).
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
import zipfile
import zlib
from contextlib import nullcontext
from pathlib import Path
from xml.etree.ElementTree import ParseError
from typing import Callable

import docx
import openpyxl
from lxml import etree

from automation.errors import OfficeFlowError, UnrecognisedFormError
from automation.forms import opened
from automation.forms.stored_entry import stored_bytes

MAIN_FOLDER = {"xlsx": "xl", "docx": "word"}
# A part that is not even well-formed: the file is damaged, whatever repair is tried.
DAMAGED = (zipfile.BadZipFile, etree.XMLSyntaxError, ParseError, EOFError, zlib.error)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_WHOLE_LINE = re.compile(rb'<mergeCell ref="[A-Z$]*:[A-Z$]*"\s*/>|<mergeCell ref="[0-9$]*:[0-9$]*"\s*/>')
# "Macro-enabled" main parts of files that hold no macro (intake refused any with a VBA project).
_PLAIN_TYPES = {
    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml":
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    b"application/vnd.ms-word.document.macroEnabled.main+xml":
        b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
}
_EMPTY_STYLE = re.compile(rb'\ss=""')
_STYLE = re.compile(rb'(<c\b[^>]*?)\ss="(\d+)"')


def unreadable(path: Path, what: str = "表单") -> UnrecognisedFormError:
    return UnrecognisedFormError(
        f"「{Path(path).name}」中有系统无法读取的内容,无法读取{what}。请在 Excel 或 Word 中打开它,"
        "点击「文件 → 另存为」,保存为新的 .xlsx 或 .docx 文件后重新提交。",
        code="form-unreadable", location=Path(path).name)


def load_tolerant(path: Path, kind: str, load: Callable):
    """``load(source)`` on the file, on a name-repaired copy when its names need it, and once more
    on a fully repaired copy if loading fails; an UnrecognisedFormError when nothing works."""
    path = Path(path)
    try:
        source = repaired(path, kind, deep=False) or path
        try:
            return load(source)
        except (OfficeFlowError, MemoryError):
            raise
        except Exception:
            deep = repaired(path, kind, deep=True)
            if deep is None:
                raise
            return load(deep)
    except (OfficeFlowError, MemoryError, *DAMAGED):
        raise  # a broken part stays "damaged" (quarantined), as before any repair; memory is the budget's
    except Exception as exc:
        raise unreadable(path) from exc


def open_xlsx(path: Path, **options):
    """openpyxl's workbook, through the repairs a re-saved file may need (see forms.repair)."""
    return load_tolerant(path, "xlsx", lambda source: openpyxl.load_workbook(source, **options))


def open_docx(path: Path):
    return load_tolerant(path, "docx", lambda source: docx.Document(str(source) if isinstance(source, Path) else source))


def repaired(path: Path, kind: str, *, deep: bool) -> io.BytesIO | None:
    """A repaired copy of the package in memory, or None when nothing needs repairing.

    Whether a package needs its names repaired depends on its bytes alone: a package found not to
    (``deep=False`` answering None) is remembered by its SHA-256, so the intake read, the task-file
    writer and the fingerprint of the same file do not work it out three times."""
    data = None
    if not deep:
        try:
            data = opened.read_bytes(path)
        except OSError:
            data = None
        if data is not None and (hashlib.sha256(data).digest(), kind) in _NOTHING_TO_REPAIR:
            return None
    shared = opened.opened(path) if data is not None else None
    archive = shared.zip if shared is not None and shared.data is data else None
    with (nullcontext(archive) if archive is not None
          else zipfile.ZipFile(io.BytesIO(data) if data is not None else path)) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        parts = {i.filename: i for i in infos}
        shape = _shape(zf, infos, kind) if not deep else None
        if shape is not None and _SHAPES.get(shape) is False:
            renames = {}  # (a package of this very shape was found needing none: task files of one form)
        else:
            renames = _renames(list(parts), _referenced_names(zf, parts), kind, zf)
            if shape is not None:
                _remember_shape(shape, bool(renames))
        if not renames and not deep:
            if data is not None:
                while len(_NOTHING_TO_REPAIR) >= 4096:  # (32-byte keys: a pass of thousands of forms)
                    _NOTHING_TO_REPAIR.pop(next(iter(_NOTHING_TO_REPAIR), None), None)  # (tolerant of threads)
                _NOTHING_TO_REPAIR[hashlib.sha256(data).digest(), kind] = None
            return None
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dest:
            for name, info in parts.items():
                data = zf.read(info)
                new = renames.get(name, name)
                if renames and (new == "[Content_Types].xml" or new.endswith(".rels")):
                    data = _retarget(data, renames)
                if deep and new == "[Content_Types].xml":
                    for macro, plain in _PLAIN_TYPES.items():
                        data = data.replace(macro, plain)
                if deep and kind == "xlsx" and re.match(r"xl/worksheets/[^/]+\.xml$", new):
                    data = _repair_sheet(data, _style_count(zf, parts, renames))
                dest.writestr(new, data)
    out.seek(0)
    return out


_NOTHING_TO_REPAIR: dict[tuple[bytes, str], None] = {}  # (SHA-256 of a package, kind) found needing no renames


def needs_renames(zf: zipfile.ZipFile, kind: str) -> bool:
    """Whether ``repaired(path, kind, deep=False)`` would repair the open package ``zf`` (its part names).

    That depends only on the part names and on what [Content_Types].xml and the relationship parts say,
    so the answer is kept per package shape (``_shape``). Task files of one blank form share a shape:
    their naming is looked at once."""
    infos = [i for i in zf.infolist() if not i.is_dir()]
    key = _shape(zf, infos, kind)
    found = _SHAPES.get(key)
    if found is None:
        parts = {i.filename: i for i in infos}
        found = bool(_renames(list(parts), _referenced_names(zf, parts), kind, zf))
        _remember_shape(key, found)
    return found


def _shape(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], kind: str) -> tuple:
    """Every part's name in order, and the exact bytes of the naming parts — as stored (compressed; the
    same stored bytes under the same method are the same part, without inflating it), or inflated when
    they cannot be had so. Never their CRC and size alone: a forged part could share those."""
    naming = []
    for info in infos:
        if _naming_part(info.filename):
            stored = stored_bytes(zf, info)
            naming.append((info.filename, info.compress_type, info.CRC, info.file_size, stored is not None,
                           stored if stored is not None else zf.read(info)))
    return kind, tuple(i.filename for i in infos), tuple(naming)


def _remember_shape(key: tuple, needs: bool) -> None:
    if len(_SHAPES) >= 1024:
        _SHAPES.clear()
    _SHAPES[key] = needs


def _naming_part(name: str) -> bool:
    name = _norm(name).lower()
    return name == "[content_types].xml" or name.endswith(".rels")


_SHAPES: dict[tuple, bool] = {}  # package shape -> whether its part names need repairs


def _referenced_names(zf: zipfile.ZipFile, parts: dict) -> set[str]:
    """Part names as [Content_Types].xml and the relationship parts spell them."""
    names: set[str] = set()
    by_lower = {_norm(n).lower(): n for n in parts}
    types = by_lower.get("[content_types].xml")
    if types:
        root = _xml(zf.read(parts[types]))
        for node in root.iter() if root is not None else ():
            if node.get("PartName"):
                names.add(node.get("PartName").lstrip("/"))
    for rel_name in [n for n in parts if _norm(n).lower().endswith(".rels")]:
        root = _xml(zf.read(parts[rel_name]))
        folder = posixpath.dirname(posixpath.dirname(_norm(rel_name)))
        for node in root.iter() if root is not None else ():
            target = node.get("Target")
            if target and node.get("TargetMode") != "External":
                target = target.replace("\\", "/")
                names.add(target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target)))
    return names


def _renames(names: list[str], referenced: set[str], kind: str, zf: zipfile.ZipFile) -> dict[str, str]:
    spelled = {r.lower(): r for r in referenced}
    renames = {}
    for name in names:
        clean = _norm(name)
        wanted = spelled.get(clean.lower(), clean)
        if clean.lower() in ("[content_types].xml",):
            wanted = "[Content_Types].xml"
        elif clean.lower() == "_rels/.rels":
            wanted = "_rels/.rels"
        if wanted != name:
            renames[name] = wanted
    # the main part outside xl/ or word/: move its folder there
    folder = MAIN_FOLDER.get(kind)
    current = {renames.get(n, n) for n in names}
    main = next((r for r in referenced if r.lower().endswith(("/workbook.xml", "/document.xml"))
                 and r in current and "/" in r), None)
    if folder and main and posixpath.dirname(main) != folder and not any(n.startswith(folder + "/") for n in current):
        prefix = posixpath.dirname(main) + "/"
        for name in names:
            new = renames.get(name, name)
            if new.startswith(prefix):
                renames[name] = folder + "/" + new[len(prefix):]
    return renames


def _retarget(data: bytes, renames: dict[str, str]) -> bytes:
    moved_folders = {}
    for old, new in renames.items():
        o, n = _norm(old), new
        if posixpath.dirname(o) != posixpath.dirname(n):
            moved_folders[posixpath.dirname(o).split("/")[0]] = n.split("/")[0]
    for old_folder, new_folder in moved_folders.items():
        if old_folder and old_folder != new_folder:
            data = data.replace(f'"/{old_folder}/'.encode(), f'"/{new_folder}/'.encode())
            data = data.replace(f'Target="{old_folder}/'.encode(), f'Target="{new_folder}/'.encode())
    return data


def _style_count(zf: zipfile.ZipFile, parts: dict, renames: dict) -> int | None:
    for name, info in parts.items():
        if renames.get(name, name).lower() == "xl/styles.xml":
            root = _xml(zf.read(info))
            xfs = next((n for n in root.iter() if str(n.tag).endswith("}cellXfs")), None) if root is not None else None
            return len(xfs) if xfs is not None else None
    return None


def _repair_sheet(data: bytes, styles: int | None) -> bytes:
    data = _WHOLE_LINE.sub(b"", data)
    data = _EMPTY_STYLE.sub(b"", data)
    if styles is not None:
        data = _STYLE.sub(lambda m: m.group(0) if int(m.group(2)) < styles else m.group(1), data)
    return data


def _norm(name: str) -> str:
    return name.replace("\\", "/").lstrip("/")


def _xml(data: bytes):
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError:
        return None

"""Packages put together in memory (``zip_package.Assembly``) are zipfile's own output, byte for byte.

Task files, receipts and 审批单 are written through ``Assembly`` instead of ``zipfile.ZipFile(..., "w")``;
the same entries written both ways must give the same bytes — copied entries, deflated parts, a
part with a Chinese name, new parts added at the end — and ``zip_package.write`` must give the file
the zipfile writer gave before. ``fsutil.atomic_write_bytes`` writes on the descriptor it created:
the bytes land whole, with the office-readable mode, and no temporary file is left, even on failure.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from support.forms import build_blank

from automation import fsutil
from automation.forms import zip_package as package


def _zipfile_write(source: Path, changed: dict[str, bytes]) -> bytes:
    """What ``zip_package.write`` wrote through zipfile's writer before ``Assembly``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(source) as zf, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        for info in infos:
            if info.filename in changed:
                package.put(out, info.filename, changed[info.filename], info.date_time)
            else:
                package.copy_entry(out, info, package.stored_bytes(zf, info))
        for name, data in changed.items():
            if name not in {i.filename for i in infos}:
                package.put(out, name, data, (1980, 1, 1, 0, 0, 0))
    return buffer.getvalue()


@pytest.fixture(params=["customer_registration", "trip_request"])
def blank(request, tmp_path) -> Path:
    return build_blank(request.param, tmp_path)


def test_write_gives_the_bytes_zipfiles_writer_gave(blank, tmp_path):
    with zipfile.ZipFile(blank) as zf:
        main = package.main_part(zf)[0]
        edited = zf.read(main).replace(b"</", "<!-- 审批 --></".encode(), 1)
    changed = {main: edited, "docProps/审批.xml": "<审批>同意</审批>".encode(), "customXml/item9.xml": b"<x/>" * 5000}
    dest = tmp_path / "out" / ("任务" + blank.suffix)
    for _ in range(2):  # the second time from the headers kept by the first
        package.write(blank, dest, changed)
        assert dest.read_bytes() == _zipfile_write(blank, changed)
    with zipfile.ZipFile(dest) as zf:
        assert zf.testzip() is None
        assert zf.read(main) == edited and zf.read("docProps/审批.xml") == "<审批>同意</审批>".encode()
        assert zf.getinfo("docProps/审批.xml").flag_bits & 0x800  # the UTF-8 name flag, as zipfile sets it


def test_an_assembly_equals_zipfile_for_any_mix_of_entries(blank):
    with zipfile.ZipFile(blank) as zf:
        entries = [(i, package.stored_bytes(zf, i)) for i in zf.infolist()]
    ours, theirs = package.Assembly(), io.BytesIO()
    with zipfile.ZipFile(theirs, "w", zipfile.ZIP_DEFLATED) as out:
        for target in (ours, out):
            for n, (info, raw) in enumerate(entries):
                package.copy_entry(target, info, raw)
                package.put(target, f"extra/{n}-说明.txt", f"第 {n} 项".encode() * n, (2026, 12, 2, 9, 30, 14))
    assert ours.getvalue() == theirs.getvalue()
    assert package.Assembly().getvalue() == _empty_zip()


def _empty_zip() -> bytes:
    buffer = io.BytesIO()
    zipfile.ZipFile(buffer, "w").close()
    return buffer.getvalue()


def test_atomic_write_bytes_leaves_the_whole_file_readable_by_the_office_and_no_temporary(tmp_path):
    dest = tmp_path / "回执" / "a.xlsx"
    data = os.urandom(300_000)
    fsutil.atomic_write_bytes(dest, data)
    fsutil.atomic_write_bytes(dest, data[:10])  # replacing what is there
    assert dest.read_bytes() == data[:10]
    umask = os.umask(0)
    os.umask(umask)
    assert dest.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in dest.parent.iterdir()] == ["a.xlsx"]


def test_atomic_write_bytes_that_fails_leaves_nothing_behind(tmp_path):
    taken = tmp_path / "folder"
    (taken / "inside").mkdir(parents=True)  # a non-empty folder where the file should go: replace refuses
    with pytest.raises(OSError):
        fsutil.atomic_write_bytes(taken, b"data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]
    assert [p.name for p in taken.iterdir()] == ["inside"]

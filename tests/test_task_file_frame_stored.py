"""The kept frame of an Excel task file is matched on its inputs' stored bytes before inflating them.

A burst's forms of one type are copies of one template: their styles, workbook and relationships
parts are stored as the same deflate streams, which answer ``_same_inputs`` without inflating. A
package holding the same parts compressed otherwise is compared inflated (and still gets the kept
frame); one with other parts gets a frame of its own. Each task file equals a build with nothing kept.
"""

from __future__ import annotations

import zipfile

from support.decide import desk
from test_task_file_zip import _awkward_views, _case_with_applicant, _parts

from automation.decide import task_files, task_xlsx
from automation.forms import zip_package


def _recompressed(source, dest, level: int):
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info.filename), compress_type=zipfile.ZIP_DEFLATED, compresslevel=level)
    return dest


def test_frame_matched_on_stored_bytes_or_inflated_parts_gives_the_parts_of_a_fresh_build(tmp_path, monkeypatch):
    d = desk(tmp_path)
    case_id, source = _case_with_applicant(d, tmp_path, "李销售")
    view = _awkward_views(d, case_id)[0]
    copy = tmp_path / "copy.xlsx"
    copy.write_bytes(source.read_bytes())
    other_compression = _recompressed(source, tmp_path / "level9.xlsx", 9)
    with zipfile.ZipFile(source) as a, zipfile.ZipFile(other_compression) as b:
        differ = {i.filename for i in a.infolist()
                  if zip_package.stored_bytes(a, i) != zip_package.stored_bytes(b, b.getinfo(i.filename))}

    inflated, during = [], []
    real_read = zipfile.ZipFile.read
    monkeypatch.setattr(zipfile.ZipFile, "read", lambda self, name, pwd=None: inflated.append(
        getattr(name, "filename", name)) or real_read(self, name, pwd))

    def build(path, number, fresh):
        if fresh:
            task_xlsx._FRAMES.clear()
            zip_package._DEFLATED.clear()
        out = tmp_path / f"{path.stem}-{number}-{fresh}.xlsx"
        inflated.clear()
        assert task_xlsx.write(path, out, task_files.xlsx_addition(view, number, {"officeflow.case": number}))
        during[:] = inflated  # (what the task file's writing inflated, not the check below)
        with zipfile.ZipFile(out) as zf:
            assert zf.testzip() is None
        return _parts(out)

    build(source, "SQ-2026-0020", fresh=True)
    (frame,) = next(iter(task_xlsx._FRAMES.values()))
    assert frame.stored and set(frame.stored) == set(frame.inputs)

    kept = build(copy, "SQ-2026-0021", fresh=False)  # same stored bytes: the frame's inputs not inflated
    assert not set(during) & set(frame.inputs), during
    assert [frame] == next(iter(task_xlsx._FRAMES.values()))
    assert kept == build(copy, "SQ-2026-0021", fresh=True)

    build(source, "SQ-2026-0022", fresh=True)
    kept = build(other_compression, "SQ-2026-0023", fresh=False)  # other bytes, same parts: inflated, still kept
    assert differ & set(frame.inputs) and differ & set(frame.inputs) <= set(during)
    assert len(next(iter(task_xlsx._FRAMES.values()))) == 1
    assert kept == build(other_compression, "SQ-2026-0023", fresh=True)

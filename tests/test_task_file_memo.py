"""The 审批 sheet's cells and line counts are remembered across task files: a warm memo writes what a cold one does.

``_PrecompiledApproval.xml`` keeps each cell's XML after its reference by (value, style), and
``_lines`` each text's line count by width, for the whole process; a task file written with both
full of other task files' entries must equal, part for part, the one written with both empty.
"""

from __future__ import annotations

from test_task_file_zip import _awkward_views, _case_with_applicant, _parts

from automation.decide import task_files
from support.decide import desk


def _write(source, path, view, props) -> dict:
    addition = task_files.xlsx_addition(view, "SQ-2026-0009", props)
    assert isinstance(addition.approval, task_files._PrecompiledApproval)
    assert task_files.task_xlsx.write(source, path, addition)
    return _parts(path)


def test_task_file_written_with_a_warm_memo_equals_one_written_with_a_cold_one(tmp_path):
    d = desk(tmp_path)
    case_id, source = _case_with_applicant(d, tmp_path, "李销售")
    props = {"officeflow.task": "7", "officeflow.case": "SQ-2026-0009"}
    views = _awkward_views(d, case_id)
    for n, view in enumerate(views):
        task_files._CELLS_SEEN.clear(), task_files._LINES_SEEN.clear()
        cold = _write(source, tmp_path / f"cold{n}.xlsx", view, props)
        for other in views:  # the memo full of every view's cells, this one's included
            _write(source, tmp_path / "other.xlsx", other, props)
        assert task_files._CELLS_SEEN and task_files._LINES_SEEN
        warm = _write(source, tmp_path / f"warm{n}.xlsx", view, props)
        assert list(cold) == list(warm)
        for name in cold:
            assert cold[name] == warm[name], (n, name)


def test_line_counts_remembered_equal_counted_afresh():
    task_files._LINES_SEEN.clear()
    for text in ("审批流程", "a" * 40, "第一行\n第二行很长很长很长很长很长很长很长很长", "", None, 12345):
        for width in (8, 12, 30, 60):
            assert task_files._lines(text, width) == task_files._lines(text, width) == (
                1 if text in (None, "") else task_files._count_lines(text, width))

"""Finding cell decisions opens only task files someone saved since we wrote them."""

from __future__ import annotations

import os

import openpyxl
from openpyxl.workbook.defined_name import DefinedName

from automation.decide.scan import find_decision_files
from automation.fsutil import file_stamp
from automation.settings import load_settings


def _task_with_decision(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "审批"
    ws["B1"], ws["B2"] = "同意", "可以"
    wb.defined_names["审批结论"] = DefinedName("审批结论", attr_text="'审批'!$B$1")
    wb.defined_names["审批意见"] = DefinedName("审批意见", attr_text="'审批'!$B$2")
    wb.save(path)
    return path


def test_unchanged_task_files_are_not_opened_and_saved_ones_are(tmp_path):
    settings = load_settings(tmp_path)
    folder = settings.approvals / "吴强"
    folder.mkdir(parents=True)
    task = _task_with_decision(folder / "KH-202611-0001 客户登记表 王芳.xlsx")
    stamp = file_stamp(task)
    # Recorded as written by us in this state: not opened, so its filled cell is not seen.
    assert find_decision_files(settings, {task: stamp}) == []
    # Saved again by the approver (a new modification time): opened and counted.
    st = task.stat()
    os.utime(task, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    found = find_decision_files(settings, {task: stamp})
    assert [(f.path.name, f.decision, f.comment) for f in found] == [(task.name, "同意", "可以")]
    assert [f.decision for f in find_decision_files(settings)] == ["同意"]  # nothing known: always opened

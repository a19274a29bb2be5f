"""Lock, temp and system files in inbox/ are passed over, submissions are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from automation.intake.ignore import is_ignored


@pytest.mark.parametrize(
    "name",
    [
        "~$费用报销单.xlsx",
        "~$合同审批单.docx",
        ".~lock.费用报销单.xlsx#",
        "~WRL0001.tmp",
        "~WRD0000.TMP",
        "lu12345abcd.tmp",
        ".~费用报销单.xlsx",  # WPS
        "._费用报销单.xlsx",  # macOS resource fork on a shared drive
        ".DS_Store",
        ".hidden.xlsx",
        "desktop.ini",
        "Desktop.INI",
        "Thumbs.db",
        "THUMBS.DB",
        "3F2A1B00",  # Excel's save-through temp file
        "费用报销单.xlsx.crdownload",
    ],
)
def test_lock_temp_and_system_files_are_ignored(name):
    assert is_ignored(Path(name))
    assert is_ignored(Path("财务部") / name)


@pytest.mark.parametrize(
    "name",
    ["费用报销单.xlsx", "合同审批单.docx", "报销单~$.xlsx", "2024年报销单.xlsx", "tmp报销.xlsx", "desktop.ini.xlsx", "3F2A1B00.xlsx"],
)
def test_submissions_are_not_ignored(name):
    assert not is_ignored(Path(name))
    assert not is_ignored(Path("财务部") / name)


def test_files_inside_a_hidden_folder_are_ignored():
    assert is_ignored(Path(".git/objects/报销单.xlsx"))
    assert is_ignored(Path("财务部/.备份/报销单.xlsx"))


def test_hidden_folders_are_judged_below_the_inbox(tmp_path):
    inbox = tmp_path / ".workspace" / "inbox"
    assert not is_ignored(inbox / "财务部" / "报销单.xlsx", inbox=inbox)
    assert is_ignored(inbox / ".sync" / "报销单.xlsx", inbox=inbox)


def test_absolute_path_without_inbox_is_judged_by_name_only(tmp_path):
    under_hidden = tmp_path / ".local" / "inbox" / "报销单.xlsx"
    assert not is_ignored(under_hidden)
    assert is_ignored(under_hidden.with_name("~$报销单.xlsx"))

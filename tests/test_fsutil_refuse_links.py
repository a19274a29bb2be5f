"""refuse_links by text prefix (POSIX) refuses exactly what the pathlib walk refuses, at the same step."""

from __future__ import annotations

import errno
import os

import pytest

from automation import fsutil


def _outcome(check, folder) -> str | None:
    try:
        check(folder)
    except OSError as exc:
        assert exc.errno == errno.ELOOP
        return exc.filename
    return None


@pytest.mark.skipif(os.name == "nt", reason="the text prefix is the POSIX path; Windows keeps the pathlib walk")
def test_prefix_check_refuses_what_the_pathlib_walk_refuses(tmp_path):
    root = tmp_path / "ws"
    (root / "outbox" / "a" / "b").mkdir(parents=True)
    (tmp_path / "ws2" / "x").mkdir(parents=True)  # shares the root's name as a text prefix, not as a folder
    (tmp_path / "elsewhere").mkdir()
    fsutil.guard_folders(root / "outbox")
    (root / "outbox" / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (root / "outbox" / "a" / "deep").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "ws2" / "x" / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    fsutil.guard_folders(tmp_path / "ws2" / "x" / "link")  # a guarded root that is itself a link
    folders = [root / "outbox", root / "outbox" / "a" / "b", root / "outbox" / "link", root / "outbox" / "link" / "q",
               root / "outbox" / "a" / "deep" / "r", root / "outbox" / "a" / ".." / "link", tmp_path / "ws2" / "x",
               tmp_path / "ws2" / "x" / "link" / "s", tmp_path / "elsewhere", root, str(root / "outbox" / "a") + "/"]
    outcomes = [(_outcome(fsutil.refuse_links, f), _outcome(fsutil._refuse_links_by_parts, f)) for f in folders]
    for folder, (fast, reference) in zip(folders, outcomes):
        assert fast == reference, folder
    refused = [fast for fast, _ in outcomes]
    assert refused[:5] == [None, None, str(root / "outbox" / "link"), str(root / "outbox" / "link"),
                           str(root / "outbox" / "a" / "deep")]
    assert refused[5] == str(root / "outbox" / "link") and refused[6] is None
    assert refused[7] == str(tmp_path / "ws2" / "x" / "link") and refused[8:] == [None, None, None]


def test_files_written_several_at_a_time_keep_the_umask_and_their_modes(tmp_path):
    """sheet_writer.run_all writes from threads; reading the umask (set and set back) stays safe."""
    from automation.act import sheet_writer

    before = os.umask(0o022)
    try:
        jobs = [lambda i=i: fsutil.atomic_write_bytes(tmp_path / f"{i}.xlsx", b"x" * i) for i in range(64)]
        results = sheet_writer.run_all(jobs)
        assert results == [tmp_path / f"{i}.xlsx" for i in range(64)]
        assert os.umask(0o022) == 0o022
        assert {(tmp_path / f"{i}.xlsx").stat().st_mode & 0o777 for i in range(64)} == {0o644}
        assert [(tmp_path / f"{i}.xlsx").read_bytes() for i in range(64)] == [b"x" * i for i in range(64)]
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(fsutil.TEMP_PREFIX)]
        failing = sheet_writer.run_all([lambda: fsutil.atomic_write_bytes(tmp_path / "no" / "such" / "\0bad", b"")] * 5)
        assert all(isinstance(outcome, (OSError, ValueError)) for outcome in failing)
    finally:
        os.umask(before)

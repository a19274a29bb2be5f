"""Native events on Linux: a file its writer closed (or a finished file renamed in) is taken in at
once, without the quiet period; a file still open for writing waits for it, as before."""

from __future__ import annotations

import os
import sys
from datetime import date

import pytest
from sqlalchemy import select
from support.forms import build_blank, fill_xlsx
from support.workspace import make_workspace, running_watcher, wait_for

from automation import samples
from automation.record import schema as s

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify close events are Linux's")
LONG_QUIET = 120.0  # far longer than any wait below: a file taken in earlier was taken on its close event


def _form_bytes(tmp_path, seq: int) -> bytes:
    path = build_blank("customer_registration", tmp_path / f"blank{seq}")
    return fill_xlsx(path, samples.customer_registration(seq, date.today())).read_bytes()


def _taken(rt) -> dict[str, str]:
    with rt.store.read() as conn:
        return {r.original_path.rsplit("/", 1)[-1]: r.status for r in conn.execute(select(s.submissions))}


def _started(watcher) -> None:
    # Events only exist once the observer watches: its first pass runs after it started.
    wait_for(lambda: watcher.stats.passes >= 1, timeout=60, message="the watcher's first pass")


def test_file_closed_after_writing_is_taken_in_without_the_quiet_period(tmp_path):
    root = make_workspace(tmp_path, quiet_seconds=LONG_QUIET, sweep_seconds=LONG_QUIET)
    data = _form_bytes(tmp_path, 1)
    with running_watcher(root) as (rt, watcher):
        _started(watcher)
        with open(root / "inbox" / "写完即关闭.xlsx", "wb") as fh:
            fh.write(data)
        taken = wait_for(lambda: _taken(rt).get("写完即关闭.xlsx") == "archived", timeout=60,
                         message="the closed file to be taken in")
    assert taken


def test_finished_file_renamed_into_the_inbox_is_taken_in_at_once(tmp_path):
    root = make_workspace(tmp_path, quiet_seconds=LONG_QUIET, sweep_seconds=LONG_QUIET)
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "另存为.xlsx").write_bytes(_form_bytes(tmp_path, 2))
    with running_watcher(root) as (rt, watcher):
        _started(watcher)
        os.replace(staging / "另存为.xlsx", root / "inbox" / "另存为.xlsx")
        wait_for(lambda: _taken(rt).get("另存为.xlsx") == "archived", timeout=60, message="the renamed file")


def test_file_still_open_for_writing_waits_while_a_closed_one_goes_ahead(tmp_path):
    root = make_workspace(tmp_path, quiet_seconds=LONG_QUIET, sweep_seconds=LONG_QUIET)
    slow, done = _form_bytes(tmp_path, 3), _form_bytes(tmp_path, 4)
    with running_watcher(root) as (rt, watcher):
        _started(watcher)
        with open(root / "inbox" / "还在写.xlsx", "wb") as writing:
            writing.write(slow[: len(slow) // 2])
            writing.flush()
            with open(root / "inbox" / "已写完.xlsx", "wb") as fh:
                fh.write(done)
            wait_for(lambda: "已写完.xlsx" in _taken(rt), timeout=60, message="the closed file")
            assert "还在写.xlsx" not in _taken(rt)  # half written, still open: not read
            writing.write(slow[len(slow) // 2:])
        wait_for(lambda: _taken(rt).get("还在写.xlsx") == "archived", timeout=60, message="the file once closed")
    assert _taken(rt)["已写完.xlsx"] == "archived"

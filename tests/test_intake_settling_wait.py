"""A one-shot pass waiting for files still inside their quiet period sleeps until the first of them is due
(``StabilityTracker.due_in``), not on a fixed beat that lists the inbox again and again and overshoots."""

from __future__ import annotations

import os

from support.forms import build_blank, fill_xlsx
from support.workspace import make_workspace

from automation import pipeline, samples
from automation.intake.stability import StabilityTracker
from automation.pipeline import _settling_wait, process_pending
from automation.runtime import open_runtime


def test_settling_wait_is_the_time_until_the_first_file_is_due(tmp_path):
    clock = [10.0]
    tracker = StabilityTracker(2.0, monotonic=lambda: clock[0])
    assert _settling_wait(tracker, 2.0) == 0.2  # nothing settling: the short beat (a file seen afresh next listing)
    form = tmp_path / "表.xlsx"
    form.write_bytes(b"x" * 10)
    assert not tracker.check(form)
    clock[0] = 11.5
    wait = _settling_wait(tracker, 2.0)
    assert 0.5 < wait < 0.51  # exactly until it is due, not a beat
    clock[0] += wait
    assert tracker.check(form)  # and at that moment it is stable, never before


def test_a_pass_waiting_for_settling_files_lists_the_inbox_once_more_not_on_every_beat(tmp_path, monkeypatch):
    root = make_workspace(tmp_path, quiet_seconds=0.6)  # the old beat (0.15 s) listed it five times or more
    today = __import__("datetime").date.today()
    forms = [fill_xlsx(build_blank("customer_registration", tmp_path / f"c{n}"), samples.customer_registration(n + 1, today))
             for n in range(3)]
    listings = []
    real = pipeline.list_inbox

    def counted(folder):
        listings.append(folder)
        return real(folder)

    rt = open_runtime(root)
    try:
        process_pending(rt)  # a first pass: nothing in the inbox
        for form in forms:
            os.replace(form, root / "inbox" / f"{form.parent.name}.xlsx")
        monkeypatch.setattr(pipeline, "list_inbox", counted)
        summary = process_pending(rt)
    finally:
        rt.close()
    assert summary.taken == {"archived": 3} and summary.waiting == 0
    assert 2 <= len(listings) <= 3, len(listings)  # seen, then (once they are due) taken in

"""A run killed after a file was filed and its original retired, before its final mark was written
(the mark rides on the store's next write), is finished on restart without touching the inbox: the
applicant who meanwhile dropped the same bytes under the same name again gets that copy received and
answered as a duplicate, not silently deleted. The same holds for a held form released under a
corrected policy (its original left the inbox long ago)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from textwrap import dedent

from support.e2e import Office, set_condition

from automation import samples
from automation.record import submissions as subs

_KILLED_AFTER_FILING = """
    import os, sys
    from pathlib import Path
    from automation import pipeline
    from automation.runtime import open_runtime
    rt = open_runtime({root!r})
    pipeline.process_file(rt, Path({path!r}))
    os._exit(9)  # killed before the store's next write: the final mark is not committed
"""

_KILLED_AFTER_RELEASE = """
    import os
    from automation import pipeline
    from automation.intake import receive as intake
    from automation.record import submissions as subs
    from automation.runtime import open_runtime
    rt = open_runtime({root!r})
    rt.policies.refresh(force=True)
    with rt.store.read() as conn:
        [row] = subs.held(conn)
    archived = rt.abs(row.dest_path)
    disposition = pipeline.verdict(rt, archived, row, private=False)
    now = rt.clock.now()
    move = intake.archived_move(rt, archived, disposition)
    with rt.store.begin() as conn:  # pipeline._release up to its commit; killed inside complete()
        case_id = pipeline._open_case(rt, conn, disposition, row.id, now)
        intake.record_release(rt, conn, row.id, disposition, move, case_id=case_id, now=now)
    os._exit(9)
"""


def _killed(script: str, **values) -> None:
    proc = subprocess.run([sys.executable, "-c", dedent(script).format(**values)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 9, proc.stderr[-2000:]


def _inbox(o: Office) -> list[str]:
    return sorted(p.name for p in (o.root / "inbox").rglob("*") if p.is_file() and p.name != ".gitkeep")


def _redrop_and_process(o: Office, keep, name: str) -> list[dict]:
    shutil.copy(keep, o.root / "inbox" / name)
    proc = o.cli("process")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _inbox(o) == []
    return o.submissions()


def test_the_same_file_dropped_again_after_a_kill_before_the_final_mark_is_answered_as_a_duplicate(tmp_path):
    o = Office.create(tmp_path)
    form = o.form("customer_registration", samples.customer_registration(61, o.today))
    keep = shutil.copy2(form, tmp_path / "keep.xlsx")
    dropped = o.drop(form, "登记.xlsx")
    o.close()
    _killed(_KILLED_AFTER_FILING, root=str(o.root), path=str(dropped))
    [first] = o.submissions()
    assert first["status"] == subs.MOVING and _inbox(o) == []  # filed, original retired, mark not yet written

    rows = _redrop_and_process(o, keep, "登记.xlsx")
    assert [r["status"] for r in rows] == ["archived", "archived"]
    assert rows[1]["duplicate_of"] == rows[0]["id"]
    assert o.root.joinpath(rows[1]["dest_path"]).is_file()


def test_the_same_file_dropped_again_after_a_held_forms_release_was_killed_is_answered_as_a_duplicate(tmp_path):
    o = Office.create(tmp_path)
    set_condition(o.root, "客户登记表", "申请日期 > 1")  # a condition the policy cannot evaluate: the form is held
    form = o.form("customer_registration", samples.customer_registration(61, o.today))
    keep = shutil.copy2(form, tmp_path / "keep.xlsx")
    o.drop(form, "登记.xlsx")
    o.run()
    o.close()
    [held] = o.submissions()
    assert held["reason_code"] == subs.HELD
    set_condition(o.root, "客户登记表", None)  # the administrator corrects the policy
    _killed(_KILLED_AFTER_RELEASE, root=str(o.root))

    rows = _redrop_and_process(o, keep, "登记.xlsx")
    assert len(rows) == 2 and rows[0]["status"] == "archived" and rows[0]["reason_code"] != subs.HELD
    assert rows[1]["duplicate_of"] == rows[0]["id"]
    assert o.root.joinpath(rows[1]["dest_path"]).is_file()

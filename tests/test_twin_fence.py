"""The same bytes dropped twice open one case, even when two workers judge them at once (nothing
keeps them apart before that), or one was killed after committing its case but before moving its
file. The last word is a twin check inside the transaction that commits the verdict."""

from __future__ import annotations

from sqlalchemy import select
from support.workers import twin_files
from support.workspace import make_workspace

from automation import pipeline
from automation.intake import dispositions as d
from automation.intake import receive as intake
from automation.record import schema as s
from automation.runtime import open_runtime


def _twins(tmp_path):
    root = make_workspace(tmp_path)
    return root, twin_files(root, tmp_path)


def _state(rt):
    with rt.store.read() as conn:
        subs = [dict(r) for r in conn.execute(select(s.submissions).order_by(s.submissions.c.id)).mappings()]
        cases = [dict(r) for r in conn.execute(select(s.cases)).mappings()]
    return subs, cases


def test_twins_judged_before_either_committed_open_one_case(tmp_path):
    root, paths = _twins(tmp_path)
    rt = open_runtime(root)
    try:
        arrivals = [intake.receive(rt, path) for path in paths]
        verdicts = [pipeline.verdict(rt, a.copy, a.row) for a in arrivals]
        assert all(isinstance(v, d.Accepted) for v in verdicts), "each judged alone is a good form"
        for arrival, verdict in zip(arrivals, verdicts):
            pipeline.settle(rt, arrival, verdict)
        subs, cases = _state(rt)
    finally:
        rt.close()
    assert len(cases) == 1, "one case for the one form"
    assert [x["reason_code"] for x in subs] == ["accepted", "duplicate"]
    assert subs[1]["duplicate_of"] == subs[0]["id"] and subs[1]["case_id"] is None
    assert [x["status"] for x in subs] == ["archived", "archived"]
    assert not any(p.exists() for p in paths)


def test_a_twin_of_a_file_whose_worker_died_before_moving_it_is_a_duplicate(tmp_path):
    root, paths = _twins(tmp_path)
    rt = open_runtime(root)
    try:
        first = intake.receive(rt, paths[0])
        verdict = pipeline.verdict(rt, first.copy, first.row)
        # What a worker killed between the two steps of ``settle`` leaves: its case and planned move
        # committed, the file not yet moved (the row is ``moving``).
        move = intake.plan_move(rt, intake.filed_name(rt, first), verdict)
        with rt.store.begin() as conn:
            case_id = pipeline._open_case(rt, conn, verdict, first.row.id, rt.clock.now(), file_hash=first.row.sha256)
            intake.record_plan(rt, conn, first.row.id, verdict, move, case_id=case_id, now=rt.clock.now())
        assert pipeline.process_file(rt, paths[1]) == "archived"
        subs, cases = _state(rt)
    finally:
        rt.close()
    assert len(cases) == 1
    assert [x["status"] for x in subs] == ["moving", "archived"]
    assert subs[1]["reason_code"] == "duplicate" and subs[1]["duplicate_of"] == subs[0]["id"]


def test_a_twin_judged_while_the_other_opened_its_case_is_a_duplicate_whatever_its_own_verdict(tmp_path):
    """The second copy screened before the first committed, then judged after: its own verdict may be
    coloured by the first one's case (say, returned). Screened after it, it would have been a duplicate;
    so it is one."""
    root, paths = _twins(tmp_path)
    rt = open_runtime(root)
    try:
        first, second = (intake.receive(rt, path) for path in paths)
        assert intake.screen(rt, second.row) is None, "screened before the first committed"
        pipeline.settle(rt, first, pipeline.verdict(rt, first.copy, first.row), judged=True)
        accepted = pipeline.verdict(rt, second.copy, second.row)
        coloured = d.Invalid(outcome="returned", code="form-invalid", reason="(因第一份已登记)", form_id=accepted.form_id,
                             form_version=accepted.form_version, problems=[], spec=accepted.form.spec, person=None)
        assert pipeline.settle(rt, second, coloured, judged=True) == "archived"
        subs, cases = _state(rt)
    finally:
        rt.close()
    assert len(cases) == 1
    assert [x["reason_code"] for x in subs] == ["accepted", "duplicate"]
    assert subs[1]["duplicate_of"] == subs[0]["id"]

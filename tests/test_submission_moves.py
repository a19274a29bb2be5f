"""A submission's state moves forward through one door: received → moving → its end place, never back."""

from __future__ import annotations

import pytest
from support.decide import MONDAY, desk

from automation.errors import TransitionError
from automation.record import submissions
from automation.record.status import SubmissionStatus, move_submission


def _receive(d, name="报销单.xlsx"):
    with d.store.begin() as conn:
        return submissions.receive(conn, original_path=f"inbox/{name}", name=name, size=10, sha256=name * 4,
                                   seen_at=MONDAY, stable_at=MONDAY).id


def _plan(outcome="archived", reason_code="accepted"):
    return submissions.Plan(outcome=outcome, dest_path="outbox/archive/2026-11/报销单.xlsx", extra_path=None,
                            reason_code=reason_code, reason="已受理")


def _status(d, submission_id):
    with d.store.read() as conn:
        return submissions.get(conn, submission_id).status


def test_archived_submission_is_never_planned_or_finished_again(tmp_path):
    d = desk(tmp_path)
    sub = _receive(d)
    with d.store.begin() as conn:
        submissions.plan(conn, sub, _plan(), at=MONDAY)
        submissions.finish(conn, sub, at=MONDAY)
    for again in (lambda conn: submissions.plan(conn, sub, _plan("quarantined"), at=MONDAY),
                  lambda conn: submissions.finish(conn, sub, at=MONDAY),
                  lambda conn: submissions.release(conn, sub, _plan("returned"), at=MONDAY)):
        with pytest.raises(TransitionError) as refused, d.store.begin() as conn:
            again(conn)
        assert refused.value.code == "submission-transition-refused" and "已归档" in refused.value.message
    assert _status(d, sub) == SubmissionStatus.ARCHIVED


def test_illegal_submission_move_is_refused_by_the_door_and_changes_nothing(tmp_path):
    d = desk(tmp_path)
    sub = _receive(d)
    with pytest.raises(TransitionError) as refused, d.store.begin() as conn:
        move_submission(conn, sub, SubmissionStatus.QUARANTINED)  # never to an end place without a plan
    assert refused.value.code == "submission-transition-refused"
    assert "「已接收」" in refused.value.message and "「已隔离」" in refused.value.message
    with pytest.raises(TransitionError), d.store.begin() as conn:
        submissions.finish(conn, sub, at=MONDAY)
    assert _status(d, sub) == SubmissionStatus.RECEIVED


def test_held_submission_leaves_the_archive_through_the_door_once(tmp_path):
    d = desk(tmp_path)
    sub = _receive(d)
    with d.store.begin() as conn:
        submissions.plan(conn, sub, _plan(reason_code=submissions.HELD), at=MONDAY)
        submissions.finish(conn, sub, at=MONDAY)
        submissions.release(conn, sub, _plan("returned", "form-invalid"), at=MONDAY)
    assert _status(d, sub) == SubmissionStatus.MOVING
    with pytest.raises(TransitionError), d.store.begin() as conn:
        submissions.release(conn, sub, _plan("returned", "form-invalid"), at=MONDAY)
    with d.store.begin() as conn:
        assert submissions.finish(conn, sub, at=MONDAY).status == SubmissionStatus.RETURNED

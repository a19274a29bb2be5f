"""Submission records: the one door through which a file's state moves forward.

received → moving → archived | returned | quarantined

``moving`` records where the file is about to go *before* it is moved, so a run
killed between the move and the final update can finish the job on restart
instead of losing or doubling the file. Keyed by (original path, SHA-256).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, or_, select
from sqlalchemy.engine import Connection, Row

from automation.record import audit
from automation.record import schema as s
from automation.record.status import SUBMISSION_MOVES, SubmissionStatus, move_submission

RECEIVED = SubmissionStatus.RECEIVED
MOVING = SubmissionStatus.MOVING
FINAL = tuple(state for state in SubmissionStatus if state in SUBMISSION_MOVES[MOVING])
# An archived form that could not be judged because of a fault in the policy (等待制度修正).
HELD = "policy-held"
HELD_ALERT = "policy-fault"  # the alert the administrator sees while forms are held
OUTCOME_LABELS = {"archived": "已归档", "returned": "已退回", "quarantined": "已隔离", RECEIVED: "处理中", MOVING: "处理中"}


@dataclass(frozen=True)
class Plan:
    outcome: str  # archived | returned | quarantined
    dest_path: str  # where the original goes, relative to the workspace root
    extra_path: str | None  # the annotated copy or reason file, relative to the root
    reason_code: str
    reason: str
    form_id: str | None = None
    form_version: str | None = None
    case_id: int | None = None
    duplicate_of: int | None = None
    problems: str | None = None  # JSON


# Statements built once (building one costs more than running it).
_UNFINISHED_SAME = select(s.submissions).where(
    s.submissions.c.original_path == bindparam("original_path"),
    s.submissions.c.sha256 == bindparam("sha256"),
    s.submissions.c.status.in_((RECEIVED, MOVING)),
).order_by(s.submissions.c.id)
_GET = select(s.submissions).where(s.submissions.c.id == bindparam("submission_id"))
# The new row as the database stored it (defaults included), without reading it back.
_INSERT = s.submissions.insert().returning(*s.submissions.c)
_TWIN = select(s.submissions).where(
    s.submissions.c.sha256 == bindparam("sha256"),
    s.submissions.c.id != bindparam("exclude_id"),
    # ("moving": its verdict and case committed, the move not yet done — a worker killed in between)
    s.submissions.c.status.in_(("archived", "returned", MOVING)),
    or_(s.submissions.c.case_id.is_not(None), s.submissions.c.reason_code == HELD),
    s.submissions.c.duplicate_of.is_(None),
).order_by(s.submissions.c.id)


def receive(conn: Connection, *, original_path: str, name: str, size: int, sha256: str,
            seen_at: datetime, stable_at: datetime) -> Row:
    """The record for this file: an unfinished one for the same path and content, or a new one."""
    row = conn.execute(_UNFINISHED_SAME, {"original_path": original_path, "sha256": sha256}).first()
    if row is not None:
        if row.status == RECEIVED:  # a run died while reading it: count, so a poison file cannot loop forever
            conn.execute(s.submissions.update().where(s.submissions.c.id == row.id).values(attempts=row.attempts + 1))
            return get(conn, row.id)
        return row
    row = conn.execute(_INSERT, dict(
        original_path=original_path, name=name, size=size, sha256=sha256, seen_at=seen_at,
        stable_at=stable_at, status=RECEIVED, updated_at=stable_at,
    )).one()
    audit.append(conn, at=stable_at, actor="系统", action="file-received", subject=f"提交#{row.id}",
                 detail={"文件": original_path, "大小": size}, file=original_path, file_hash=sha256)
    return row


def already_final(conn: Connection, original_path: str, sha256: str) -> bool:
    """True if this very entry (path and fingerprint) has already reached its end place."""
    return conn.execute(select(s.submissions.c.id).where(
        s.submissions.c.original_path == original_path, s.submissions.c.sha256 == sha256,
        s.submissions.c.status.in_(FINAL)).limit(1)).first() is not None


def get(conn: Connection, submission_id: int) -> Row:
    return conn.execute(_GET, {"submission_id": submission_id}).one()


def processed_twin(conn: Connection, sha256: str, exclude_id: int) -> Row | None:
    """An earlier submission with the same content that opened a case.

    Only that is a duplicate: a form returned earlier (its customer not yet
    registered, say) may come back unchanged and be right this time.
    """
    return conn.execute(_TWIN, {"sha256": sha256, "exclude_id": exclude_id}).first()


def plan(conn: Connection, submission_id: int, p: Plan, *, at: datetime) -> Row:
    """Where the file is about to go, recorded before it moves; only a file just received is planned.
    Returns the row as planned."""
    return move_submission(conn, submission_id, MOVING, only_from=(RECEIVED,), returning=True, **_planned(p, at))


def _planned(p: Plan, at: datetime) -> dict:
    return dict(outcome=p.outcome, dest_path=p.dest_path, extra_path=p.extra_path, reason_code=p.reason_code,
                reason=p.reason, form_id=p.form_id, form_version=p.form_version, case_id=p.case_id,
                duplicate_of=p.duplicate_of, problems=p.problems, updated_at=at)


def release(conn: Connection, submission_id: int, p: Plan, *, at: datetime) -> None:
    """A held form, assessed again under the corrected policy, gets its real destination.

    The only way out of 等待制度修正; the row moves on through ``moving`` like any
    other, so a run killed here finishes the job on restart.
    """
    row = get(conn, submission_id)
    move_submission(conn, submission_id, MOVING, s.submissions.c.reason_code == HELD, **_planned(p, at))
    audit.append(conn, at=at, actor="系统", action="file-released", subject=f"提交#{submission_id}",
                 detail={"去向": p.outcome, "原因代码": p.reason_code}, file=row.original_path, file_hash=row.sha256)


def held(conn: Connection) -> list[Row]:
    return list(conn.execute(select(s.submissions).where(
        s.submissions.c.status == "archived", s.submissions.c.reason_code == HELD).order_by(s.submissions.c.id)))


def finish(conn: Connection, submission_id: int, *, at: datetime, row: Row | None = None) -> Row:
    """The file reached its place. ``row``: the submission as planned, if the caller has just read it
    (what a plan records never changes once it is ``moving``; the move itself is checked here)."""
    row = row if row is not None else get(conn, submission_id)
    # a row not yet planned has no outcome; any final place is refused for it all the same
    done = move_submission(conn, submission_id, SubmissionStatus(row.outcome or SubmissionStatus.ARCHIVED),
                           updated_at=at, returning=True)
    audit.append(conn, at=at, actor="系统", action=f"file-{row.outcome}", subject=f"提交#{submission_id}",
                 detail={"去向": row.dest_path, "附带文件": row.extra_path, "原因代码": row.reason_code, "原因": row.reason},
                 file=row.original_path, file_hash=row.sha256)
    return done


def unfinished(conn: Connection) -> list[Row]:
    return list(conn.execute(select(s.submissions).where(s.submissions.c.status == MOVING).order_by(s.submissions.c.id)))

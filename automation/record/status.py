"""The states a submission, a case and a task can be in, and the moves between them, as data.

The values are the strings stored in the ``status`` columns, so rows written before
these enums existed read back as members (``CaseStatus(row["status"])``) and a member
compares equal to its string. ``move_submission``, ``move_case`` and ``move_task`` are the
one door a status changes through: the update only matches a row in a state the table allows to move to
the new one, so an illegal transition (deciding a closed task, reopening a finished case)
is refused with a ``TransitionError`` instead of silently overwriting the row.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from automation.errors import TransitionError
from automation.record import schema as s


class SubmissionStatus(StrEnum):
    RECEIVED = "received"
    MOVING = "moving"
    ARCHIVED = "archived"
    RETURNED = "returned"
    QUARANTINED = "quarantined"


class CaseStatus(StrEnum):
    IN_APPROVAL = "in_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    RETURNED = "returned"
    BLOCKED = "blocked"  # 待配置: the policy names nobody for a step; re-routed once it is fixed
    WITHDRAWN = "withdrawn"


class TaskStatus(StrEnum):
    WAITING = "waiting"  # a later step, or 依次 / 前加签 not yet its turn
    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"
    RETURNED = "returned"
    CANCELLED = "cancelled"  # 或签 settled by another, or the case ended
    ESCALATED = "escalated"  # handed to the superior after the time limit
    TRANSFERRED = "transferred"
    ADDSIGNED = "addsigned"  # 前加签: the added person decides first, then the task comes back


# --- the allowed moves: from a state to the states it may become ------------------

SUBMISSION_MOVES: dict[SubmissionStatus, frozenset[SubmissionStatus]] = {
    SubmissionStatus.RECEIVED: frozenset({SubmissionStatus.MOVING}),
    SubmissionStatus.MOVING: frozenset({SubmissionStatus.ARCHIVED, SubmissionStatus.RETURNED,
                                        SubmissionStatus.QUARANTINED}),
    # a form held while the policy was broken is assessed again and moved to its real place
    SubmissionStatus.ARCHIVED: frozenset({SubmissionStatus.MOVING}),
    SubmissionStatus.RETURNED: frozenset(),
    SubmissionStatus.QUARANTINED: frozenset(),
}

CASE_MOVES: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.IN_APPROVAL: frozenset({CaseStatus.APPROVED, CaseStatus.REJECTED, CaseStatus.RETURNED,
                                       CaseStatus.BLOCKED, CaseStatus.WITHDRAWN}),
    CaseStatus.BLOCKED: frozenset({CaseStatus.IN_APPROVAL, CaseStatus.WITHDRAWN}),
    CaseStatus.RETURNED: frozenset({CaseStatus.IN_APPROVAL, CaseStatus.WITHDRAWN}),  # resubmitted, or given up
    CaseStatus.APPROVED: frozenset(),
    CaseStatus.REJECTED: frozenset(),
    CaseStatus.WITHDRAWN: frozenset(),
}

TASK_MOVES: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.WAITING: frozenset({TaskStatus.OPEN, TaskStatus.CANCELLED}),
    TaskStatus.OPEN: frozenset({TaskStatus.APPROVED, TaskStatus.REJECTED, TaskStatus.RETURNED, TaskStatus.CANCELLED,
                                TaskStatus.ESCALATED, TaskStatus.TRANSFERRED, TaskStatus.ADDSIGNED}),
    **{done: frozenset() for done in (TaskStatus.APPROVED, TaskStatus.REJECTED, TaskStatus.RETURNED,
                                      TaskStatus.CANCELLED, TaskStatus.ESCALATED, TaskStatus.TRANSFERRED,
                                      TaskStatus.ADDSIGNED)},
}

STATUS_LABELS = {
    "in_approval": "审批中", "approved": "已批准", "rejected": "已驳回", "returned": "退回修改", "blocked": "待配置",
    "withdrawn": "已撤回", "waiting": "未开始", "open": "待办", "cancelled": "已取消", "escalated": "已上报",
    "transferred": "已转交", "addsigned": "已加签",
}


SUBMISSION_LABELS = {"received": "已接收", "moving": "处理中", "archived": "已归档", "returned": "已退回",
                     "quarantined": "已隔离"}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def sources(moves: dict, new) -> tuple[str, ...]:
    """Every state allowed to move to ``new``, as the stored strings."""
    return tuple(state.value for state, targets in moves.items() if new in targets)


def move_submission(conn: Connection, submission_id: int, new: SubmissionStatus, *conditions, returning: bool = False,
                    only_from: tuple[SubmissionStatus, ...] | None = None, **values):
    """Set the submission's status to ``new`` (and ``values``) if its present state may move there.

    ``conditions`` narrow the rows allowed to move further (a held form leaves 已归档 only
    while it is held); ``only_from`` narrows the states it may leave. With ``returning`` the row
    as updated is returned (no second read).
    """
    return _move(conn, s.submissions, SUBMISSION_MOVES, submission_id, new, values, s.submissions.c.name,
                 lambda name: f"文件「{name}」", "submission-transition-refused", conditions, SUBMISSION_LABELS.get,
                 returning=returning, only_from=only_from)


def move_case(conn: Connection, case_id: int, new: CaseStatus, **values) -> None:
    """Set the case's status to ``new`` (and ``values``) if its present state may move there."""
    _move(conn, s.cases, CASE_MOVES, case_id, new, values, s.cases.c.number,
          lambda number: f"申请 {number}", "case-transition-refused")


def move_task(conn: Connection, task_id: int, new: TaskStatus, **values) -> None:
    """Set the task's status to ``new`` (and ``values``) if its present state may move there."""
    _move(conn, s.tasks, TASK_MOVES, task_id, new, values, s.tasks.c.assignee,
          lambda assignee: f"{assignee}的审批任务", "task-transition-refused")


_ROW_ID = "row_id_"  # the WHERE parameter of a move; no column is named so
_MOVES_OF = {"submissions": SUBMISSION_MOVES, "cases": CASE_MOVES, "tasks": TASK_MOVES}


def _allowed(moves: dict, new, only_from) -> tuple[str, ...]:
    allowed = sources(moves, new)
    return allowed if only_from is None else tuple(state for state in allowed if state in only_from)


@lru_cache(maxsize=256)
def _move_statement(table, new: str, returning: bool, only_from: tuple | None):
    """The UPDATE of one move, built once: SET comes from the parameters' keys at execution."""
    stmt = table.update().where(table.c.id == bindparam(_ROW_ID),
                                table.c.status.in_(_allowed(_MOVES_OF[table.name], new, only_from)))
    return stmt.returning(*table.c) if returning else stmt


def _move(conn: Connection, table, moves: dict, row_id: int, new, values: dict, name_column, named, code: str,
          conditions=(), label=status_label, returning: bool = False, only_from: tuple | None = None):
    """The update only matches a row in a state allowed to move to ``new``; none matched is a refusal."""
    if conditions:
        stmt = table.update().where(table.c.id == bindparam(_ROW_ID),
                                    table.c.status.in_(_allowed(moves, new, only_from)), *conditions)
        stmt = stmt.returning(*table.c) if returning else stmt
    else:
        stmt = _move_statement(table, new, returning, None if only_from is None else tuple(only_from))
    done = conn.execute(stmt, {**values, "status": new.value, _ROW_ID: row_id})
    if returning:
        row = done.first()
        if row is not None:
            return row
    elif done.rowcount == 1:
        return None
    row = conn.execute(select(name_column, table.c.status).where(table.c.id == row_id)).first()
    what = named(row[0] if row else f"#{row_id}")
    raise TransitionError(f"{what}当前状态为「{label(row.status) if row else '不存在'}」,"
                          f"不能改为「{label(new)}」。", code=code)

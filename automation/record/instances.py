"""A case and a task as the engine hands them out: frozen records that say what a row is.

The fields are the columns of ``cases`` and ``tasks`` (a test keeps them equal), read with
attributes (``case.status``, ``task.assignee``). They are also read-only mappings
(``task["assignee"]``, ``case.get("dedup")``, ``dict(case)``), so code written against the
plain rows keeps working while it moves over to the attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterator

from automation.record.status import CaseStatus, TaskStatus


class _Row(Mapping):
    """Read-only mapping access to a record's fields, for callers still written against rows."""

    @classmethod
    def of(cls, row: Mapping[str, Any]):
        """The record of one row; a column the record does not name is an error, not silently dropped."""
        return cls(**row)

    def __getitem__(self, key: str) -> Any:
        if key not in self._names():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    @classmethod
    def _names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


@dataclass(frozen=True, kw_only=True)
class Case(_Row):
    """One request travelling through its approval chain (a row of ``cases``)."""

    id: int
    number: str
    form_id: str
    form_version: str | None
    form_title: str | None
    file_kind: str | None
    applicant: str | None
    department: str | None
    amount: Decimal | None
    customer: str | None
    status: CaseStatus
    round: int
    data: str  # codec JSON of the typed values
    fingerprint: str
    warnings: str | None  # JSON list of problem dicts
    cc: str | None  # JSON list of names on 抄送
    source_file: str | None  # the archived original, relative to the root
    submission_id: int | None
    block_reason: str | None
    dedup: str | None  # 审批人去重 in force when the case was routed
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", CaseStatus(self.status))


@dataclass(frozen=True, kw_only=True)
class Task(_Row):
    """One approver's part in one step of one round (a row of ``tasks``)."""

    id: int
    case_id: int
    round: int
    step_index: int
    role: str
    mode: str  # 依次 | 会签 | 或签
    assignee: str
    on_behalf_of: str | None
    status: TaskStatus
    limit_days: int | None
    opened_at: datetime | None
    due_on: date | None
    decided_at: datetime | None
    decision: str | None
    comment: str | None
    file_path: str | None  # the task file, relative to the root
    fingerprint: str | None
    file_stamp: str | None
    reminded_at: datetime | None
    escalated_from: int | None
    rule_ref: str | None
    origin: str | None  # None (from the route) | transfer | sign-before | sign-back | sign-after | empty-pass | …
    origin_task: int | None
    wait_for: int | None  # opened only once this task is approved (前加签)
    decided_by: str | None  # None: the assignee; OfficeFlow for an automatic approval
    target: str | None  # 转交给 / 加签人, or the step 退回到 went back to, as shown to people
    return_to: int | None
    why: str | None  # JSON: the 审批规则 rows that put this step on the chain

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", TaskStatus(self.status))

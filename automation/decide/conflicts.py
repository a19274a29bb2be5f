"""Decisions on one task found twice in one pass: the same conclusion counts once, different ones none.

An approver who drags a copy into 同意/ and writes 驳回 in the original's 审批结论 has said two
things; which one came last is not knowable from the files (copies keep their times), so picking
either would carry out a decision the approver may have withdrawn. Both are refused and the task
stays open for one clear answer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Found:
    """One live decision file of a pass: what it says, for which task, and where it was given."""
    path: Path
    task_id: int
    decision: str
    folder: str | None  # the decision folder it lies in; None: written in its 审批结论 cell

    def where(self) -> str:
        if self.folder is not None:
            return f"拖入「{self.folder}」文件夹的「{self.path.name}」"
        return f"「{self.path.name}」的「审批结论」单元格"


def conflicting(found: list[Found]) -> dict[Path, tuple[Found, ...]]:
    """Each file whose task has another file in this pass with a different conclusion → that task's files."""
    by_task: dict[int, list[Found]] = defaultdict(list)
    for item in found:
        by_task[item.task_id].append(item)
    groups = {}
    for items in by_task.values():
        if len({item.decision for item in items}) > 1:
            groups.update({item.path: tuple(items) for item in items})
    return groups


def describe(group: tuple[Found, ...]) -> str:
    """「同意」(拖入「同意」文件夹的「…」)、「驳回」(「…」的「审批结论」单元格)"""
    return "、".join(f"「{item.decision}」({item.where()})" for item in group)

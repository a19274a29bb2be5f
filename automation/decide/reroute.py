"""Cases waiting because their chain resolved to nobody are re-routed once the policy allows.

The administrator fixes 制度.xlsx (adds a holder for the role); the next pass
composes the route again from the stored data (the pipeline asks the route
stage) and opens the tasks here. Nothing is ever approved silently: a case stays
待配置 until a real person holds each step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from automation.decide.engine import blocked_case_ids, load_case, unblock_case
from automation.policy.chain import Route
from automation.record import codec
from automation.record.registers.render import mark_dirty, registers_for_tables


@dataclass(frozen=True)
class BlockedCase:
    case_id: int
    form_id: str
    values: dict[str, Any]
    applicant: str | None
    department: str | None


def blocked_cases(store) -> list[BlockedCase]:
    """Every case waiting for the policy to name a holder, with the data to route it again."""
    with store.read() as conn:
        cases = [load_case(conn, case_id) for case_id in blocked_case_ids(conn)]
    return [BlockedCase(c.id, c.form_id, codec.loads(c.data), c.applicant, c.department) for c in cases]


def unblock(store, case_id: int, route: Route, *, now: datetime, cal) -> list[int]:
    """Open the tasks of a re-composed route; nothing if it still resolves to nobody or the case moved on."""
    if route.blocked:
        return []
    with store.begin() as conn:
        if load_case(conn, case_id).status != "blocked":  # another pass got there first
            return []
        opened = unblock_case(conn, case_id, route, now, cal)
        mark_dirty(conn, registers_for_tables({"cases", "tasks"}), now, cases=[case_id])  # 状态, 当前审批人
        return opened


__all__ = ["BlockedCase", "blocked_cases", "unblock"]

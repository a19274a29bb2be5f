"""Who holds a role for one applicant: the department's holder first, else the company's.

Only active people (在职 = 是) are candidates. A holder whose delegation dates
cover today is replaced by the delegate, who acts "代 <holder>"; a delegate who
has left (or is not in 人员) is ignored and the holder keeps the task.
"""

from __future__ import annotations

from datetime import date

from automation.policy.workbook import Person, Policy
from automation.route.model import ALL, ANY, SEQUENTIAL, Assignee


def candidates(policy: Policy, role: str, department: str | None) -> list[Person]:
    """Active holders in the department, else every active holder, in roster order."""
    active = [p for p in policy.holders(role) if p.active]
    local = [p for p in active if department and p.department == department]
    return local or active


def resolve_role(policy: Policy, role: str, department: str | None, today: date, *,
                 mode: str = SEQUENTIAL) -> tuple[Assignee, ...]:
    """会签 and 或签 take every candidate; 依次 takes the first (the roster order decides)."""
    people = candidates(policy, role, department)
    chosen = people if mode in (ALL, ANY) else people[:1]
    return tuple(assignee_for(policy, p, today) for p in chosen)


def assignee_for(policy: Policy, holder: Person, today: date) -> Assignee:
    if holder.delegating_on(today):
        delegate = policy.person(holder.delegate)
        if delegate is not None and delegate.active:
            return Assignee(delegate.name, on_behalf_of=holder.name)
    return Assignee(holder.name)

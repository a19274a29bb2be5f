"""Who holds a role for one applicant: the department's holder first, else the company's.

Only active people (在职 = 是) are candidates. A holder whose delegation dates
cover today is replaced by the delegate, who acts "代 <holder>"; a delegate who
has left (or is not in 人员) is ignored and the holder keeps the task.
"""

from __future__ import annotations

from datetime import date

from automation.policy.chain import ALL, ANY, SEQUENTIAL, Assignee, assignee_for
from automation.policy.workbook import Person, Policy


def candidates(policy: Policy, role: str, department: str | None) -> list[Person]:
    """Active holders in the department, else every active holder, in roster order."""
    active = [p for p in policy.holders(role) if p.active]
    local = [p for p in active if department and p.department == department]
    return local or active


def resolve_role(policy: Policy, role: str, department: str | None, today: date, *,
                 mode: str = SEQUENTIAL, applicant: str | None = None) -> tuple[Assignee, ...]:
    """会签 and 或签 take every candidate; 依次 takes the first (the roster order decides).

    Nobody approves their own request: an applicant who holds the role is replaced
    by their 直属上级. One person never gets two tasks in one step (a delegate who
    also holds the role, for instance).
    """
    people = candidates(policy, role, department)
    others = [p for p in people if p.name != applicant]
    if not others and people:
        superior = policy.person(policy.person(applicant).superior) if policy.person(applicant) else None
        others = [superior] if superior is not None and superior.active else []
    chosen = others if mode in (ALL, ANY) else others[:1]
    unique: dict[str, Assignee] = {}
    for person in chosen:
        who = assignee_for(policy, person, today, applicant=applicant)
        unique.setdefault(who.name, who)
    return tuple(unique.values())

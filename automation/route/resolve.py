"""Who holds a role for one applicant: the department's holder first, else the company's.

A role held in several departments (部门经理) is a department's own: when the
applicant's department has none, the applicant's 直属上级 takes the step — never
another department's manager. A role held in one department only (财务经理,
总经理) is the company's and serves everyone.

Only active people (在职 = 是) are candidates. A holder whose delegation dates
cover today is replaced by the delegate, who acts "代 <holder>"; a delegate who
has left (or is not in 人员) is ignored and the holder keeps the task.
"""

from __future__ import annotations

from datetime import date

from automation.policy.chain import SEQUENTIAL, STEP_MODES, Assignee, assignee_for
from automation.policy.workbook import Person, Policy

TOP_SELF_APPROVER = "总经理本人申请审批人"  # 参数: who approves the requests of someone with no 直属上级


def candidates(policy: Policy, role: str, department: str | None, applicant: str | None = None) -> list[Person]:
    """Active holders in the department, else the company's holders, in roster order.

    A department's own role (held in several departments) never falls back to another
    department: without a holder in the applicant's own department the applicant's
    直属上级 takes the step; an applicant with no 直属上级 heads the department, so the
    step is their own and the self-approval rules decide (总经理本人申请审批人)."""
    active = [p for p in policy.holders(role) if p.active]
    local = [p for p in active if department and p.department == department]
    if local or len({p.department for p in policy.holders(role)}) <= 1:
        return local or active
    me = policy.person(applicant) if applicant else None
    if me is None or not me.active or me.department != department:
        return []  # 部门取自 named a department without its own holder: nobody holds the step
    if not me.superior:
        return [me]
    superior = _superior(policy, applicant)
    return [superior] if superior is not None else []


def _superior(policy: Policy, applicant: str | None) -> Person | None:
    person = policy.person(applicant)
    superior = policy.person(person.superior) if person is not None and person.superior else None
    return superior if superior is not None and superior.active else None


def resolve_role(policy: Policy, role: str, department: str | None, today: date, *,
                 mode: str = SEQUENTIAL, applicant: str | None = None, delegation: bool = True) -> tuple[Assignee, ...]:
    """会签 and 或签 take every candidate; 依次 takes the first (the roster order decides).

    Nobody approves their own request: an applicant who holds the role is replaced
    by their 直属上级. One person never gets two tasks in one step (a delegate who
    also holds the role, for instance).
    """
    people = candidates(policy, role, department, applicant)
    others = [p for p in people if p.name != applicant]
    if not others and people:
        instead = approver_instead_of(policy, applicant)
        others = [instead] if instead is not None else []
    chosen = others if STEP_MODES[mode].every_holder else others[:1]
    unique: dict[str, Assignee] = {}
    for person in chosen:
        who = assignee_for(policy, person, today, applicant=applicant, delegation=delegation)
        unique.setdefault(who.name, who)
    return tuple(unique.values())


def approver_instead_of(policy: Policy, applicant: str | None) -> Person | None:
    """Who decides for an applicant who holds the role: the 直属上级; at the top of the chain
    (the 总经理) the person the parameter 总经理本人申请审批人 names — by default nobody, so
    the case is held with an alert instead of being approved by its own applicant."""
    me = policy.person(applicant) if applicant else None
    if me is None:
        return None
    above = policy.person(me.superior) if me.superior else None
    if above is None:
        named = policy.params.get(TOP_SELF_APPROVER)
        above = policy.person(str(named).strip()) if named else None
    if above is None or not above.active or above.name == applicant:
        return None
    return above


def holds_role_alone(policy: Policy, role: str, department: str | None, applicant: str | None) -> bool:
    """True when the applicant is the only holder of ``role`` (so nobody else may decide)."""
    people = candidates(policy, role, department, applicant)
    return bool(applicant) and bool(people) and all(p.name == applicant for p in people)

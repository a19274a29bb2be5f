"""The approval route a policy composes for one form: steps, assignees, copies, warnings.

Plain data shared by the policy (which names the modes), the route stage (which
composes a route) and the decide stage (which opens its tasks), so it sits below all three.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from automation.problems import Problem

SEQUENTIAL = "依次"
ALL = "会签"
ANY = "或签"
MODES = (SEQUENTIAL, ALL, ANY)


@dataclass(frozen=True)
class StepMode:
    """How a step's approvers act (审批规则!方式), asked of the step by the route and decide stages."""

    name: str
    every_holder: bool  # a role held by several people gives each of them a task (else the first)
    one_at_a_time: bool  # each task opens once the one before it is approved
    first_settles: bool  # one approval settles the step; the other tasks are cancelled

    def to_open(self, waiting: list) -> list:
        """Of a step's waiting tasks, in route order, the ones to open now."""
        return waiting[:1] if self.one_at_a_time else waiting


STEP_MODES = {
    SEQUENTIAL: StepMode(SEQUENTIAL, every_holder=False, one_at_a_time=True, first_settles=False),  # 依次
    ALL: StepMode(ALL, every_holder=True, one_at_a_time=False, first_settles=False),  # 会签: every one approves
    ANY: StepMode(ANY, every_holder=True, one_at_a_time=False, first_settles=True),  # 或签: any one approves
}


@dataclass(frozen=True)
class Assignee:
    name: str
    on_behalf_of: str | None = None  # the holder a delegate acts for: shown as "代 <holder>"

    @property
    def label(self) -> str:
        return f"{self.name}(代 {self.on_behalf_of})" if self.on_behalf_of else self.name


@dataclass(frozen=True)
class Step:
    role: str
    mode: str
    limit_days: int
    assignees: tuple[Assignee, ...]
    rule_refs: tuple[str, ...] = ()  # "审批规则!A5 · 000 · R-SD-07"
    # Why the step is on the chain: one entry per 审批规则 row that put it there, with the values
    # that made its condition true ({"规则", "条件", "取值", "依据"}), shown in the task file.
    reasons: tuple[dict, ...] = ()
    on_empty: str | None = None  # nobody holds the role: 自动通过 / 转交管理员 (审批人为空时)


@dataclass
class Route:
    steps: list[Step] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    cc_timing: dict[str, str] = field(default_factory=dict)  # name → 时机 (提交时 | 通过后 | 两者)
    problems: list[Problem] = field(default_factory=list)  # 校验规则 errors and warnings
    unresolved: list[str] = field(default_factory=list)  # roles that resolved to nobody (admin must fix)
    dedup: str | None = None  # 审批人去重 for this form
    self_only: list[str] = field(default_factory=list)  # roles only the applicant holds, with nobody above

    @property
    def blocked(self) -> bool:
        return bool(self.unresolved or self.self_only or not self.steps)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]


def assignee_for(policy, holder, today: date, *, applicant: str | None = None, delegation: bool = True) -> Assignee:
    """The holder (a ``policy.workbook.Person``), or the delegate acting for them today (active, not the applicant);
    with ``delegation`` off (参数 允许代理_<表单> = 否) always the holder."""
    if delegation and holder.delegating_on(today):
        delegate = policy.person(holder.delegate)
        if delegate is not None and delegate.active and delegate.name != applicant:
            return Assignee(delegate.name, on_behalf_of=holder.name)
    return Assignee(holder.name)

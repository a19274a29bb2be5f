"""``officeflow check``: how the verdict a submission would get is shown (``pipeline.check_file`` gives it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from automation.problems import LEVEL_LABELS, Problem
from automation.problems.file import file_missing, unknown_form, unsafe
from automation.problems.policy import policy_fault

__all__ = ["CheckResult", "CheckedFile", "CheckedProblem", "file_missing", "policy_fault", "unknown_form", "unsafe"]


@dataclass
class CheckedProblem:
    problem: Problem

    def __getattr__(self, name):
        return getattr(self.problem, name)

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS.get(self.problem.level, self.problem.level)


@dataclass
class CheckedFile:
    path: str
    form: str | None
    problems: list[Problem] = field(default_factory=list)
    outcome: str | None = None  # what submitting it would do: archived | returned | quarantined (None: no file)
    code: str | None = None  # the reason code the submission would be recorded with

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.is_error)

    @property
    def summary(self) -> str:
        name = f"「{self.form}」" if self.form else "文件"
        if not self.problems:
            return f"{name}检查通过,可以提交。"
        warnings = len(self.problems) - self.errors
        return f"{name}有 {self.errors} 个错误、{warnings} 个提醒。"

    def rows(self) -> list[CheckedProblem]:
        return [CheckedProblem(p) for p in self.problems]

    def to_dict(self) -> dict:
        return {"path": self.path, "form": self.form, "outcome": self.outcome, "code": self.code, "errors": self.errors,
                "problems": [p.to_dict() for p in self.problems]}


@dataclass
class CheckResult:
    items: list[CheckedFile]

    @property
    def has_errors(self) -> bool:
        return any(item.errors for item in self.items)

    def to_dict(self) -> dict:
        return {"ok": not self.has_errors, "files": [i.to_dict() for i in self.items]}

"""``officeflow check``: how the verdict a submission would get is shown (``pipeline.check_file`` gives it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from automation.problems import LEVEL_LABELS, Problem, kind

unsafe = kind("file-unsafe", "文件无法安全读取", "{message}")
unknown_form = kind("form-not-recognised", "无法识别的表单", "{message}")
file_missing = kind("file-missing", "找不到文件", "找不到文件「{value}」,请检查文件名和路径后重试。")
policy_fault = kind("policy-fault", "制度规则无法计算",
                    "制度中的规则({where})无法计算,问题在制度而不在表单:{message}提交后表单会等待制度修正,修正后自动处理。")


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

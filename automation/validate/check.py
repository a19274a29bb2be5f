"""``officeflow check``: the same verdict a submission would get, without submitting anything."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from automation.errors import OfficeFlowError, UnrecognisedFormError
from automation.problems import LEVEL_LABELS, Problem, kind

unsafe = kind("file-unsafe", "文件无法安全读取", "{message}")
unknown_form = kind("form-not-recognised", "无法识别的表单", "{message}")
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
        return {"path": self.path, "form": self.form, "errors": self.errors, "problems": [p.to_dict() for p in self.problems]}


@dataclass
class CheckResult:
    items: list[CheckedFile]

    @property
    def has_errors(self) -> bool:
        return any(item.errors for item in self.items)

    def to_dict(self) -> dict:
        return {"ok": not self.has_errors, "files": [i.to_dict() for i in self.items]}


def check_file(rt, path: Path) -> CheckedFile:
    from automation.act.cases import resubmission_target
    from automation.errors import PolicyError
    from automation.extract.read import read_form
    from automation.identify.identify import identify
    from automation.intake.safety import inspect_file
    from automation.validate.combined import validate

    try:
        kind_ = inspect_file(path, rt.settings.limits)
        spec, version, how = identify(path, kind_, rt.specs)
    except UnrecognisedFormError as exc:
        return CheckedFile(str(path), None, [unknown_form(message=exc.message)])
    except OfficeFlowError as exc:
        return CheckedFile(str(path), None, [unsafe(message=exc.message)])
    form = read_form(path, spec, version, how)
    _, extra = resubmission_target(rt, form)
    try:
        return CheckedFile(str(path), spec.title, validate(rt, form, extra=extra).problems)
    except PolicyError as fault:  # the administrator's to fix; the form is not judged
        return CheckedFile(str(path), spec.title, [policy_fault(where=fault.location or "制度", message=fault.message,
                                                                level="warning")])


def check_files(rt, paths: list[Path]) -> CheckResult:
    return CheckResult([check_file(rt, p) for p in paths])

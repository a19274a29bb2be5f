"""Problems are data: a stable code, a Chinese title, a message template, a location.

Each kind of problem is declared once with :func:`kind`; checks *yield*
``Problem`` instances made by calling the kind. A form with problems is a normal
outcome, reported, never raised. The catalogue is grouped by scope in this
package's modules — ``file`` (a file as a whole), ``form`` (a form's numbers and
the rules it breaks), ``policy`` (faults in 制度.xlsx), ``decision`` (a decision
file that cannot count) — and, next to the code that checks them, the field
kinds (``forms/parsers.py``) and template kinds (``act/template_lint.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, Iterable

ERROR = "error"
WARNING = "warning"
NOTICE = "notice"  # not a fault of the form: an approver's reason, shown as such
LEVEL_LABELS = {ERROR: "错误", WARNING: "警告", NOTICE: "说明"}


@dataclass(frozen=True, kw_only=True)
class Problem:
    code: str
    title: str
    message: str
    level: str = ERROR
    field: str | None = None
    location: str | None = None  # "表单!B7", a content-control tag, "审批规则!B7"
    value: str | None = None
    row: int | None = None  # line-item row number (1-based) when the problem is in 明细
    source: str | None = None  # the rule it breaks: "校验规则!B5 · 001 · S1-R152"

    @property
    def is_error(self) -> bool:
        return self.level == ERROR

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "title": self.title,
            "level": self.level,
            "field": self.field,
            "location": self.location,
            "value": self.value,
            "row": self.row,
            "message": self.message,
            "source": self.source,
        }


@dataclass(frozen=True)
class ProblemKind:
    code: str
    title: str
    template: str
    level: str = ERROR

    def __call__(
        self,
        *,
        field: str | None = None,
        location: str | None = None,
        value: Any = None,
        row: int | None = None,
        source: str | None = None,
        level: str | None = None,
        **params: Any,
    ) -> Problem:
        shown = "" if value is None else _short(value)
        message = self.template.format(field=field or "", value=shown, location=location or "", **params)
        return Problem(
            code=self.code,
            title=self.title,
            message=message,
            level=level or self.level,
            field=field,
            location=location,
            value=None if value is None else _short(value),
            row=row,
            source=source,
        )


KINDS: dict[str, ProblemKind] = {}


def kind(code: str, title: str, template: str, level: str = ERROR) -> ProblemKind:
    """Declare a problem kind; codes are unique across the package."""
    if code in KINDS and KINDS[code] != ProblemKind(code, title, template, level):
        raise ValueError(f"problem code declared twice: {code}")
    KINDS[code] = ProblemKind(code, title, template, level)
    return KINDS[code]


def _short(value: Any, limit: int = 200) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Report:
    """What validating one form found. ``valid`` means: no error-level problem."""

    problems: list[Problem] = dc_field(default_factory=list)
    stats: dict = dc_field(default_factory=dict)

    def extend(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == WARNING]

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict:
        return {"valid": self.valid, "problems": [p.to_dict() for p in self.problems], "stats": self.stats}

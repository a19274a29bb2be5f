"""Problems are data: a stable code, a Chinese title, a message template, a location.

Each kind of problem is declared once with :func:`kind`; checks *yield*
``Problem`` instances made by calling the kind. A form with problems is a normal
outcome, reported, never raised. The catalogue is grouped by scope in this
package's modules — ``file`` (a file as a whole), ``field`` (one value of a form),
``form`` (a form's numbers, the rules it breaks, who may submit it), ``policy``
(faults in 制度.xlsx, and what ``officeflow policy check`` finds), ``template``
(contract templates), ``decision`` (a decision file that cannot count, and the
reason on a returned or rejected copy). No kind is declared anywhere else.

Where a problem is: ``location`` is the text people read ("表单!B7", "控件:客户名称",
"审批规则!C4", "表格「明细」第 2 行"); ``Problem.at`` gives the same place as fields
(file, sheet, cell, tag, table, field, row, rule), and JSON carries both.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, Iterable

ERROR = "error"
WARNING = "warning"
NOTICE = "notice"  # not a fault of the form: an approver's reason, shown as such
LEVEL_LABELS = {ERROR: "错误", WARNING: "警告", NOTICE: "说明"}


_CELL = re.compile(r"^(?P<sheet>[^!]+)!(?P<cell>\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)$")
_SHEET_ROW = re.compile(r"^(?P<sheet>[^!]+)!(?P<line>\d+)$")
_TAG = re.compile(r"^控件:(?P<tag>.+)$")
_TABLE = re.compile(r"^表格「(?P<table>[^」]+)」(?:第 (?P<line>\d+) 行)?$")
_FILE = re.compile(r"^(?P<file>[^,!]+\.(?:xlsx|xlsm|xls|docx|docm|doc|odt|ods|pdf|txt))(?:,.*)?$", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class Location:
    """Where a problem is, as fields for scripts and tools; ``text`` is what people read."""

    text: str | None = None
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None  # "B7", or a range "A10:F20"
    tag: str | None = None  # a Word content control
    table: str | None = None
    field: str | None = None
    row: int | None = None  # line-item row (1-based) in 明细, or the row of a sheet
    rule: str | None = None  # the policy row it cites: "校验规则!B5"

    @classmethod
    def of(cls, text: str | None, *, field: str | None = None, row: int | None = None,
           source: str | None = None) -> Location:
        """The fields of a rendered location (and the problem's field, row and cited rule)."""
        parts: dict[str, Any] = {}
        shown = (text or "").strip()
        for pattern in (_CELL, _SHEET_ROW, _TAG, _TABLE, _FILE):
            found = pattern.match(shown)
            if found:
                parts = {k: v for k, v in found.groupdict().items() if v is not None}
                break
        line = parts.pop("line", None)
        rule = (source or "").split(" · ", 1)[0].split(";", 1)[0].strip() or None
        return cls(text=text, field=field, row=row if row is not None else (int(line) if line else None),
                   rule=rule, **parts)

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


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

    @property
    def at(self) -> Location:
        return Location.of(self.location, field=self.field, row=self.row, source=self.source)

    @classmethod
    def from_dict(cls, data: dict) -> Problem:
        """A problem stored with ``to_dict`` (derived keys such as ``at`` are recomputed, not stored back)."""
        return cls(**{k: data.get(k) for k in _STORED if k in data})

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
            "at": self.at.to_dict(),
        }


_STORED = ("code", "title", "message", "level", "field", "location", "value", "row", "source")


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
DECLARED_IN: dict[str, str] = {}  # code → the catalogue module that declares it


def kind(code: str, title: str, template: str, level: str = ERROR) -> ProblemKind:
    """Declare a problem kind; codes are unique across the package."""
    if code in KINDS and KINDS[code] != ProblemKind(code, title, template, level):
        raise ValueError(f"problem code declared twice: {code}")
    KINDS[code] = ProblemKind(code, title, template, level)
    DECLARED_IN.setdefault(code, sys._getframe(1).f_globals.get("__name__", "?"))
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

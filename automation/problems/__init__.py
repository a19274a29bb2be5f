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
(file, sheet, cell, tag, table, field, row, rule), and JSON carries both. The fields are
set where the problem is made (pass a :class:`Location` as ``location``, and the policy row
a problem cites as ``rule``), never parsed back out of the text.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from typing import Any, Iterable

ERROR = "error"
WARNING = "warning"
NOTICE = "notice"  # not a fault of the form: an approver's reason, shown as such
LEVEL_LABELS = {ERROR: "错误", WARNING: "警告", NOTICE: "说明"}


MISSING = "表单中未找到该项"  # where a field is that the file does not carry at all


@dataclass(frozen=True, kw_only=True)
class Location:
    """Where a problem is, as fields for scripts and tools; ``text`` is what people read.

    Made where the place is known (the reader that found the cell, the policy row), never
    parsed back out of the text.
    """

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
    def in_cell(cls, sheet: str, cell: str, *, row: int | None = None) -> Location:
        return cls(text=f"{sheet}!{cell}", sheet=sheet, cell=cell, row=row)

    @classmethod
    def in_row(cls, sheet: str, row: int) -> Location:
        """A whole row of a sheet, such as the header row of a policy sheet (参数!1)."""
        return cls(text=f"{sheet}!{row}", sheet=sheet, row=row)

    @classmethod
    def in_sheet(cls, sheet: str) -> Location:
        return cls(text=sheet, sheet=sheet)

    @classmethod
    def in_control(cls, tag: str) -> Location:
        return cls(text=f"控件:{tag}", tag=tag)

    @classmethod
    def by_label(cls, label: str) -> Location:
        """A Word field found by its label once its control was lost."""
        return cls(text=f"「{label}」一栏")

    @classmethod
    def in_table(cls, table: str, row: int | None = None) -> Location:
        text = f"表格「{table}」" if row is None else f"表格「{table}」第 {row} 行"
        return cls(text=text, table=table, row=row)

    @classmethod
    def in_file(cls, name: str) -> Location:
        return cls(text=name, file=name)

    @classmethod
    def missing(cls) -> Location:
        return cls(text=MISSING)

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def _place(location: str | Location | None, row: int | None) -> Location | None:
    """The file's side of a location: the problem's own field, line-item row and rule are kept on the problem."""
    if location is None:
        return None
    if isinstance(location, str):
        return Location(text=location)
    return replace(location, field=None, rule=None, row=location.row if row is None else None)


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
    where: Location | None = None  # ``location`` as fields, set where the problem is made
    rule: str | None = None  # the policy row it cites ("校验规则!B5"), set where the problem is made

    @property
    def is_error(self) -> bool:
        return self.level == ERROR

    @property
    def at(self) -> Location:
        """Where the problem is: its place in the file, its field and line-item row, the rule it cites."""
        where = self.where or Location(text=self.location)
        return replace(where, field=self.field, row=where.row if self.row is None else self.row, rule=self.rule)

    def placed(self, location: Location | None) -> Problem:
        """The same problem at ``location`` (a policy rule's problem given its field's cell)."""
        return self if location is None else replace(self, location=location.text, where=_place(location, self.row))

    @classmethod
    def from_dict(cls, data: dict) -> Problem:
        """A problem stored with ``to_dict``; ``at`` gives back its place in the file and the rule it cites."""
        own = ("field", "rule", "row") if data.get("row") is not None else ("field", "rule")
        at = data.get("at")
        where = {k: v for k, v in (at or {}).items() if k not in own}
        rule = at.get("rule") if at is not None else _legacy_rule(data.get("source"))
        return cls(**{k: data.get(k) for k in _STORED if k in data}, where=Location(**where) if where else None,
                   rule=rule)

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


def _legacy_rule(source: str | None) -> str | None:
    """The rule a problem stored before it carried ``at`` cites: its ``source`` then began with it
    ("校验规则!B5 · 001 · S1-R152"). Only such old rows are read this way; a problem made now is given its rule."""
    head = (source or "").split(" · ", 1)[0].split(";", 1)[0].strip()
    return head if "!" in head else None


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
        location: str | Location | None = None,
        value: Any = None,
        row: int | None = None,
        source: str | None = None,
        rule: str | None = None,
        level: str | None = None,
        **params: Any,
    ) -> Problem:
        where = _place(location, row)
        text = where.text if where else None
        shown = "" if value is None else _short(value)
        message = self.template.format(field=field or "", value=shown, location=text or "", **params)
        return Problem(
            code=self.code,
            title=self.title,
            message=message,
            level=level or self.level,
            field=field,
            location=text,
            value=None if value is None else _short(value),
            row=row,
            source=source,
            where=where,
            rule=rule,
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

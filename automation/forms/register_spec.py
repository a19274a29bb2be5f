"""The ``register:`` block of a form spec: the form's own 台账, declared instead of coded.

A simple form (an approval and a register) needs no Python: its spec names the
register, its columns (taken from fields, computed by a policy expression when
the case is recorded, or one of the case's own facts such as 编号 and 状态),
the rows to highlight, the columns totalled and what the 汇总 sheet groups by.
The generic effect records every case of the form in it.

    register:
      name: 会议室台账
      columns:
        - {header: 编号, value: 编号}
        - {header: 会议室, field: 会议室}
        - {header: 时长, compute: 工作日天数(开始日期, 结束日期), kind: int}
        - {header: 是否超期, overdue_of: 预计归还日期, when: 是否带离}
        - {header: 状态, value: 状态}
      highlight: 是否超期
      totals: [时长]
      summary: {measure: 时长, by: [会议室, [申请人, 月份]]}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automation.errors import SpecError

# Facts every case has, whatever its form.
CASE_VALUES = {"编号": "申请编号", "状态": "审批状态", "申请人": "申请人", "部门": "部门", "金额": "金额",
               "提交日期": "提交日期", "完成日期": "审批完成日期"}
COLUMN_KINDS = ("text", "money", "date", "int", "decimal")
KIND_OF_FIELD = {"money": "money", "amount_upper": "money", "date": "date", "integer": "int", "number": "decimal",
                 "percent": "decimal"}
# Registers the program itself keeps (record/registers/definitions.py) and the dashboard: a form
# cannot declare one of these names (a test keeps the list complete).
RESERVED_NAMES = ("审批台账", "客户台账", "合同台账", "报销台账", "投诉台账", "退货台账", "坏账台账", "借款台账", "看板")
_FORBIDDEN_IN_NAME = re.compile(r'[\\/:*?"<>|\[\]]')


@dataclass(frozen=True, kw_only=True)
class RegisterColumn:
    header: str
    field: str | None = None  # a field of the form
    compute: str | None = None  # a policy expression, evaluated when the case is recorded
    value: str | None = None  # one of CASE_VALUES
    overdue_of: str | None = None  # "是" once this date column is past while the case stands approved
    when: str | None = None  # with overdue_of: only rows whose named column reads 是
    kind: str = "text"
    width: float | None = None  # written in the spec: a fixed width; otherwise sized from the data

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True, kw_only=True)
class RegisterSpec:
    name: str
    columns: tuple[RegisterColumn, ...]
    highlight: str | None = None  # a column whose 是 flags the row, or an Excel condition over {列名}
    totals: tuple[str, ...] = ()
    measure: str | None = None  # the column the 汇总 sheet sums
    groupings: tuple[tuple[str, ...], ...] = ()  # each: one column, or two for a combined key

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def to_dict(self, form_id: str, form_title: str) -> dict[str, Any]:
        """Plain data for the store, which renders the register without reading the spec."""
        return {"name": self.name, "form_id": form_id, "form_title": form_title,
                "columns": [c.to_dict() for c in self.columns], "highlight": self.highlight,
                "totals": list(self.totals), "measure": self.measure, "groupings": [list(g) for g in self.groupings]}


def _where(path: Path, line: int) -> str:
    return f"{path.name} 第 {line} 行"


def _fail(path: Path, raw: Any, message: str, fallback: int = 0) -> SpecError:
    line = raw.get("__line__", fallback) if isinstance(raw, dict) else fallback
    return SpecError(f"台账定义(register):{message}", location=_where(path, line))


def _column(path: Path, raw: Any, fields: dict[str, Any], line: int) -> RegisterColumn:
    if not isinstance(raw, dict) or not raw.get("header"):
        raise _fail(path, raw, "columns 中的每一列都需要 header(列名)。", line)
    header = str(raw["header"])
    unknown = set(raw) - {"header", "field", "compute", "value", "overdue_of", "when", "kind", "width", "__line__"}
    if unknown:
        raise _fail(path, raw, f"列「{header}」含未知属性:{'、'.join(sorted(unknown))}。")
    sources = [k for k in ("field", "compute", "value", "overdue_of") if raw.get(k) not in (None, "")]
    if len(sources) != 1:
        raise _fail(path, raw, f"列「{header}」须且只须写 field、compute、value、overdue_of 之一。")
    field = str(raw["field"]) if raw.get("field") else None
    if field and field not in fields:
        raise _fail(path, raw, f"列「{header}」引用的字段「{field}」不在本表单的 fields 中。")
    value = str(raw["value"]) if raw.get("value") else None
    if value and value not in CASE_VALUES:
        raise _fail(path, raw, f"列「{header}」的 value 只能是 {'、'.join(CASE_VALUES)} 之一。")
    kind = str(raw.get("kind") or _kind_of(field, value, raw, fields))
    if kind not in COLUMN_KINDS:
        raise _fail(path, raw, f"列「{header}」的 kind 只能是 {'、'.join(COLUMN_KINDS)} 之一。")
    return RegisterColumn(header=header, field=field, compute=str(raw["compute"]) if raw.get("compute") else None,
                          value=value, overdue_of=str(raw["overdue_of"]) if raw.get("overdue_of") else None,
                          when=str(raw["when"]) if raw.get("when") else None, kind=kind,
                          width=_width(path, raw, header))


def _kind_of(field: str | None, value: str | None, raw: dict, fields: dict[str, Any]) -> str:
    if field:
        return KIND_OF_FIELD.get(fields[field].type, "text")
    if value == "金额":
        return "money"
    if value in ("提交日期", "完成日期"):
        return "date"
    return "text"


def _width(path: Path, raw: dict, header: str) -> float | None:
    if raw.get("width") in (None, ""):
        return None
    try:
        width = float(raw["width"])
    except (TypeError, ValueError):
        width = 0
    if not 4 <= width <= 100:
        raise _fail(path, raw, f"列「{header}」的 width 应为 4 到 100 之间的数字(字符宽度),现为「{raw['width']}」。")
    return width


def parse_register(path: Path, raw: Any, fields: dict[str, Any]) -> RegisterSpec:
    """``raw`` is the spec's ``register:`` mapping; ``fields`` maps field key → FieldSpec."""
    if not isinstance(raw, dict) or not raw.get("name"):
        raise _fail(path, raw, "需要 name(台账名称,例如 会议室台账)。")
    name = str(raw["name"]).strip()
    if _FORBIDDEN_IN_NAME.search(name) or name.startswith("."):
        raise _fail(path, raw, f"台账名称「{name}」会成为文件名,不能含 \\ / : * ? \" < > | [ ] 等字符。")
    if name in RESERVED_NAMES:
        raise _fail(path, raw, f"「{name}」是系统自带的台账,请换一个名称(例如「{name[:-2]}登记台账」)。")
    line = raw["__line__"]
    columns = [_column(path, c, fields, line) for c in raw.get("columns") or []]
    if not columns:
        raise _fail(path, raw, "columns 不能为空。")
    headers = [c.header for c in columns]
    dupes = sorted({h for h in headers if headers.count(h) > 1})
    if dupes:
        raise _fail(path, raw, f"列名重复:{'、'.join(dupes)}。")
    for col in columns:
        for ref in (col.overdue_of, col.when):
            if ref and ref not in headers:
                raise _fail(path, raw, f"列「{col.header}」引用的列「{ref}」不在 columns 中。")
    summary = raw.get("summary") or {}
    if not isinstance(summary, dict):
        raise _fail(path, raw, "summary 应写成 {measure: 列名, by: [列名, …]}。")
    measure = summary.get("measure")
    groupings = tuple(tuple(str(x) for x in (g if isinstance(g, list) else [g])) for g in summary.get("by") or [])
    totals = tuple(str(t) for t in raw.get("totals") or [])
    for ref in (*totals, *([measure] if measure else []), *(c for g in groupings for c in g)):
        if ref not in headers:
            raise _fail(path, raw, f"totals / summary 引用的列「{ref}」不在 columns 中。")
    if any(len(g) > 2 for g in groupings):
        raise _fail(path, raw, "summary.by 的每一项最多组合两列。")
    highlight = str(raw["highlight"]) if raw.get("highlight") else None
    if highlight and "{" not in highlight and highlight not in headers:
        raise _fail(path, raw, f"highlight 写列名(该列为“是”的行高亮)或含 {{列名}} 的 Excel 条件,「{highlight}」不是列名。")
    return RegisterSpec(name=name, columns=tuple(columns), highlight=highlight, totals=totals,
                        measure=str(measure) if measure else None, groupings=groupings)

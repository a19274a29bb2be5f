"""Read ``制度.xlsx`` into an immutable :class:`Policy`.

The loader refuses a workbook it cannot turn into spec objects (a missing
sheet or column, a condition that does not parse, a date that is no date)
with a :class:`PolicyError` naming the cell. Everything that is readable but
wrong (an unknown role, a gap between amount tiers…) is ``policy check``'s
job: :mod:`automation.policy.lint` reports the whole list at once.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries

from automation.errors import ExpressionError, PolicyError
from automation.forms.spec import FormSpec
from automation.forms.xlsx_lean import read_lean
from automation.policy.chain import MODES
from automation.policy.expressions import Expr, compile_expression
from automation.policy.functions import Context, bind
from automation.policy.lookups import Lookups, NoLookups
from automation.policy.numbering import NumberingRule, default_rule
from automation.policy.workcal import WorkCalendar
from automation.problems import Location

LEVELS = {"错误": "error", "警告": "warning"}
SCOPES = ("表单", "明细")
DAY_TYPES = {"休息日": False, "工作日": True}
REQUIRED = {
    "人员": ("姓名", "部门", "角色"),
    "角色": ("角色", "排序"),
    "审批规则": ("表单", "条件", "审批角色", "方式"),
    "校验规则": ("表单", "条件", "级别", "提示"),
    "参数": ("名称", "值"),
}
OPTIONAL = ("抄送", "节假日", "编号规则", "公司信息", "合同模板")
_ROLE_SPLIT = re.compile(r"[、,,;;/\s]+")


# --- raw rows ----------------------------------------------------------------


@dataclass(frozen=True)
class SheetRow:
    sheet: str
    row: int
    values: Mapping[str, Any]
    columns: Mapping[str, str]  # header → column letter

    def get(self, header: str) -> Any:
        value = self.values.get(header)
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    def ref(self, header: str) -> str:
        return self.place(header).text

    def place(self, header: str) -> Location:
        """The cell of ``header`` in this row, such as 审批规则!C4."""
        return Location.in_cell(self.sheet, f"{self.columns.get(header, 'A')}{self.row}")


def read_sheets(path: Path) -> dict[str, list[SheetRow]]:
    """Every sheet's non-blank rows, keyed by header; the 说明 sheet is skipped.

    Read with the lean reader (``forms.xlsx_lean``: lxml over the parts values need) where the
    workbook has the plain shape openpyxl's read-only reader sizes exactly as it (``_lean_sheets``);
    otherwise, and on any error, with openpyxl's read-only reader, the reference
    (tests/test_policy_read_lean.py compares the two)."""
    sheets = _lean_sheets(path)
    return sheets if sheets is not None else read_sheets_openpyxl(path)


def read_sheets_openpyxl(path: Path) -> dict[str, list[SheetRow]]:
    """``read_sheets`` through openpyxl's read-only reader (the reference, and the path for odd workbooks)."""
    try:
        wb = load_workbook(path, data_only=True, read_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise PolicyError(f"无法打开制度工作簿:{exc}。请确认文件是用 Excel 保存的 .xlsx。", location=str(path)) from exc
    try:
        return {ws.title: _rows(ws.title, ws.iter_rows(values_only=True)) for ws in wb.worksheets if ws.title != "说明"}
    finally:
        wb.close()


def _lean_sheets(path: Path) -> dict[str, list[SheetRow]] | None:
    """``read_sheets`` from the lean reader, or None where it would not give openpyxl's read-only answer.

    openpyxl's read-only sheet yields the rectangle its ``<dimension ref>`` declares, row 1 first,
    each row padded to the declared width (missing rows as blank rows). That is reproduced here only
    for a sheet declaring ``A1:…`` that covers every cell it holds and has no merged cells (whose
    covered cells a full load blanks); any other sheet — no dimension, a stale one, merges — and
    any package the lean reader does not take leaves the whole workbook to openpyxl."""
    try:
        book = read_lean(Path(path))
        found = {}
        for ws in book.worksheets:
            if ws.title == "说明":
                continue
            rows = _declared_rows(ws)
            if rows is None:
                return None
            found[ws.title] = _rows(ws.title, rows)
        return found
    except Exception:  # NotLean, or anything: openpyxl's reader answers (or raises) as before
        return None


def _declared_rows(ws):
    ref = ws.dimension
    if not ref or ws.merged_cells.ranges:
        return None
    min_col, min_row, max_col, max_row = range_boundaries(ref.upper())
    if (min_col, min_row) != (1, 1) or max_col is None or max_row is None:
        return None
    cells = ws._cells
    if any(r > max_row or c > max_col for r, c in cells):
        return None
    width = range(1, max_col + 1)
    return [tuple(cells[r, c].value if (r, c) in cells else None for c in width) for r in range(1, max_row + 1)]


def _rows(title: str, rows) -> list[SheetRow]:
    rows = iter(rows)
    header = next(rows, ()) or ()
    columns = {str(h).strip(): get_column_letter(i) for i, h in enumerate(header, start=1) if h not in (None, "")}
    index = {str(h).strip(): i for i, h in enumerate(header) if h not in (None, "")}
    out = []
    for number, values in enumerate(rows, start=2):
        if all(v in (None, "") or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        data = {h: (values[i] if i < len(values) else None) for h, i in index.items()}
        out.append(SheetRow(title, number, MappingProxyType(data), MappingProxyType(columns)))
    return out


# --- spec objects --------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    name: str
    id: str | None
    department: str | None
    roles: tuple[str, ...]
    superior: str | None = None
    delegate: str | None = None
    delegate_from: date | None = None
    delegate_to: date | None = None
    email: str | None = None
    active: bool = True
    ref: str = ""
    hired_on: date | None = None  # 入职日期: years of service (年假)

    def delegating_on(self, day: date) -> bool:
        return bool(self.delegate and self.delegate_from and self.delegate_to
                    and self.delegate_from <= day <= self.delegate_to)


@dataclass(frozen=True)
class ApprovalRule:
    form: str
    condition: Expr
    role: str
    mode: str
    limit_days: int | None
    basis: str
    ref: str  # "审批规则!B7": the condition cell
    order: int | None = None  # 顺序: orders the form's steps where role rank is not the right order
    department: Expr | None = None  # 部门取自: the department the role is resolved in (default: the applicant's)

    @property
    def source(self) -> str:
        return f"{self.ref} · {self.basis}" if self.basis else self.ref


@dataclass(frozen=True)
class CheckRule:
    form: str
    condition: Expr
    scope: str  # 表单 | 明细
    level: str  # error | warning
    field: str | None
    message: str
    basis: str
    ref: str

    @property
    def source(self) -> str:
        return f"{self.ref} · {self.basis}" if self.basis else self.ref


@dataclass(frozen=True)
class CcRule:
    form: str
    condition: Expr
    role: str
    basis: str
    ref: str
    timing: str = "通过后"  # 时机: 提交时 | 通过后 | 两者
    department: Expr | None = None  # 部门取自: the copy goes to the role's holder in that department


@dataclass(frozen=True)
class TemplateRule:
    form: str
    contract_type: str | None
    template: str
    ref: str


@dataclass(frozen=True)
class Policy:
    path: Path | None
    people: Mapping[str, Person]
    roles: Mapping[str, int | None]  # role → rank (None: never approves)
    params: Mapping[str, Any]  # Decimal for numbers, str otherwise
    approval_rules: tuple[ApprovalRule, ...]
    check_rules: tuple[CheckRule, ...]
    cc_rules: tuple[CcRule, ...]
    holidays: Mapping[date, bool]
    numbering: tuple[NumberingRule, ...]
    company: Mapping[str, Any]
    templates: tuple[TemplateRule, ...]
    specs: Mapping[str, FormSpec] = field(default_factory=dict)

    @property
    def rules(self) -> tuple:
        return (*self.approval_rules, *self.check_rules, *self.cc_rules)

    @cached_property
    def calendar(self) -> WorkCalendar:
        # one for the policy: the calendar remembers each day it looked up (≈ 80 µs a day), and a
        # fresh one per binding forgot them for every form
        return WorkCalendar(self.holidays)

    def person(self, name: str | None) -> Person | None:
        return self.people.get(name.strip()) if name else None

    def holders(self, role: str) -> tuple[Person, ...]:
        return tuple(p for p in self.people.values() if role in p.roles)

    def rank(self, role: str) -> int | None:
        return self.roles.get(role)

    def param(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)

    def form_by_title(self, title: str) -> FormSpec | None:
        return next((s for s in self.specs.values() if s.title == title), None)

    def spec_for_title(self, title: str) -> FormSpec:
        spec = self.form_by_title(title)
        if spec is None:
            raise PolicyError(f"制度中引用的表单「{title}」在 forms/ 中没有对应的规格。", code="policy-unknown-form")
        return spec

    def approval_rules_for(self, title: str) -> list[ApprovalRule]:
        return list(self._by_form["approval"].get(title, ()))

    def check_rules_for(self, title: str) -> list[CheckRule]:
        return list(self._by_form["check"].get(title, ()))

    def cc_rules_for(self, title: str) -> list[CcRule]:
        return list(self._by_form["cc"].get(title, ()))

    @cached_property
    def _by_form(self) -> dict[str, dict[str, tuple]]:
        # every form asks for its rules two or three times, and the sheets hold every form's rows:
        # grouped once per policy, in the sheet's order
        grouped: dict[str, dict[str, list]] = {"approval": {}, "check": {}, "cc": {}}
        for kind, rules in (("approval", self.approval_rules), ("check", self.check_rules), ("cc", self.cc_rules)):
            for r in rules:
                grouped[kind].setdefault(r.form, []).append(r)
        return {kind: {form: tuple(rs) for form, rs in by.items()} for kind, by in grouped.items()}

    def numbering_for(self, name: str, title: str | None = None) -> NumberingRule | None:
        rules = [r for r in self.numbering if r.name == name]
        return next((r for r in rules if r.form == title), None) or next((r for r in rules if r.form is None), None)

    def numbering_rule(self, name: str, title: str | None = None, *, default_code: str | None = None) -> NumberingRule:
        """The 编号规则 row for this number and form, or the built-in default when the workbook has none."""
        rule = self.numbering_for(name, title)
        if rule is None:
            return default_rule(name, title, code=default_code)
        return rule if rule.code else replace(rule, code=default_code or default_rule(name).code)

    def form_code(self, title: str) -> str | None:
        rule = self.numbering_for("申请编号", title)
        return rule.code if rule else None

    def template_for(self, title: str, contract_type: str | None = None) -> str | None:
        rules = [t for t in self.templates if t.form == title]
        match = next((t for t in rules if t.contract_type == contract_type), None) or next(iter(rules), None)
        return match.template if match else None

    def bad_debt_shares(self) -> dict[str, Decimal]:
        prefix = "坏账分担比例_"
        return {k[len(prefix):]: v for k, v in self.params.items() if k.startswith(prefix)}

    def functions(self, today: date, lookups: Lookups | None = None) -> dict[str, Callable]:
        # Validation (computed fields, 校验规则) and routing of one form each ask for the functions
        # bound to that form's look-ups: the last binding is kept and given again for the same
        # look-ups (by identity: one instance per form) and day, so a form binds them once.
        last = self.__dict__.get("_last_bound")
        if last is not None and last[0] is lookups and last[1] == today:
            return last[2]
        ctx = Context(today=today, calendar=self.calendar, lookups=lookups or NoLookups(), params=self.params,
                      roles_of=lambda name: p.roles if (p := self.person(name)) else (),
                      hired_on=lambda name: p.hired_on if (p := self.person(name)) else None)
        bound = bind(ctx)
        self.__dict__["_last_bound"] = (lookups, today, bound)  # (frozen: kept beside the fields, not one of them)
        return bound


# --- loading ---------------------------------------------------------------------


def load_policy(path: Path, specs: Mapping[str, FormSpec] | None = None, *,
                sheets: dict[str, list[SheetRow]] | None = None) -> Policy:
    """The policy of the workbook at ``path``; ``sheets``: its rows when already read (``read_sheets``)."""
    path = Path(path)
    sheets = read_sheets(path) if sheets is None else sheets
    for sheet, headers in REQUIRED.items():
        _require(path, sheets, sheet, headers)
    return Policy(
        path=path,
        people=MappingProxyType({p.name: p for p in map(person_from, sheets["人员"])}),
        roles=MappingProxyType({r.get("角色"): _int(r, "排序", required=False) for r in sheets["角色"] if r.get("角色")}),
        params=MappingProxyType({r.get("名称"): param_value(r) for r in sheets["参数"] if r.get("名称")}),
        approval_rules=tuple(approval_from(r) for r in sheets["审批规则"]),
        check_rules=tuple(check_from(r) for r in sheets["校验规则"]),
        cc_rules=tuple(cc_from(r) for r in sheets.get("抄送", [])),
        holidays=MappingProxyType(dict(holiday_from(r) for r in sheets.get("节假日", []))),
        numbering=tuple(numbering_from(r) for r in sheets.get("编号规则", [])),
        company=MappingProxyType({r.get("项目"): r.get("值") for r in sheets.get("公司信息", []) if r.get("项目")}),
        templates=tuple(template_from(r) for r in sheets.get("合同模板", []) if r.get("表单")),
        specs=MappingProxyType(dict(specs or {})),
    )


def _require(path: Path, sheets: dict, sheet: str, headers: tuple[str, ...]) -> None:
    if sheet not in sheets:
        raise PolicyError(f"制度工作簿缺少工作表「{sheet}」。", code="policy-sheet-missing", location=Location.in_file(path.name))
    present = set(sheets[sheet][0].columns) if sheets[sheet] else set(headers)
    missing = [h for h in headers if h not in present]
    if missing:
        raise PolicyError(f"工作表「{sheet}」缺少列「{'、'.join(missing)}」(第 1 行是列名)。",
                          code="policy-column-missing", location=Location.in_row(sheet, 1))


def person_from(r: SheetRow) -> Person:
    return Person(
        name=_text(r, "姓名", required=True), id=r.get("工号") and str(r.get("工号")), department=_text(r, "部门"),
        roles=split_roles(r.get("角色")), superior=_text(r, "直属上级"), delegate=_text(r, "代理人"),
        delegate_from=to_date(r, "代理开始"), delegate_to=to_date(r, "代理结束"), email=_text(r, "邮箱"),
        active=_text(r, "在职") != "否", ref=r.ref("姓名"), hired_on=to_date(r, "入职日期"),
    )


def approval_from(r: SheetRow) -> ApprovalRule:
    return ApprovalRule(
        form=_text(r, "表单", required=True), condition=_expr(r), role=_text(r, "审批角色", required=True),
        mode=_choice(r, "方式", MODES, default=MODES[0]), limit_days=_int(r, "时限工作日", required=False),
        basis=_text(r, "依据") or "", ref=r.ref("条件"), order=_int(r, "顺序", required=False),
        department=_department_expr(r),
    )


def check_from(r: SheetRow) -> CheckRule:
    return CheckRule(
        form=_text(r, "表单", required=True), condition=_expr(r), scope=_choice(r, "范围", SCOPES, default="表单"),
        level=LEVELS[_choice(r, "级别", tuple(LEVELS), default="错误")], field=_text(r, "字段"),
        message=_text(r, "提示", required=True), basis=_text(r, "依据") or "", ref=r.ref("条件"),
    )


def cc_from(r: SheetRow) -> CcRule:
    return CcRule(form=_text(r, "表单", required=True), condition=_expr(r), role=_text(r, "角色", required=True),
                  basis=_text(r, "依据") or "", ref=r.ref("条件"),
                  timing=_choice(r, "时机", ("提交时", "通过后", "两者"), default="通过后"),
                  department=_department_expr(r))


def holiday_from(r: SheetRow) -> tuple[date, bool]:
    day = to_date(r, "日期")
    if day is None:
        raise PolicyError("节假日需要填写日期。", code="policy-bad-date", location=r.place("日期"))
    return day, DAY_TYPES[_choice(r, "类型", tuple(DAY_TYPES), default="休息日")]


def numbering_from(r: SheetRow) -> NumberingRule:
    return NumberingRule(name=_text(r, "编号", required=True), form=_text(r, "表单"),
                         format=_text(r, "格式", required=True), code=_text(r, "表单代码"), ref=r.ref("格式"))


def template_from(r: SheetRow) -> TemplateRule:
    return TemplateRule(form=_text(r, "表单", required=True), contract_type=_text(r, "合同类型"),
                        template=_text(r, "模板文件", required=True), ref=r.ref("模板文件"))


# --- cell conversions --------------------------------------------------------------


def split_roles(value: Any) -> tuple[str, ...]:
    return tuple(p for p in _ROLE_SPLIT.split(str(value or "").strip()) if p)


def _text(r: SheetRow, header: str, *, required: bool = False) -> str | None:
    value = r.get(header)
    if value is None and required:
        raise PolicyError(f"「{header}」不能为空。", code="policy-blank", location=r.place(header))
    return None if value is None else str(value).strip()


def _expr(r: SheetRow) -> Expr:
    return compile_expression(r.get("条件"), r.ref("条件"))


def _department_expr(r: SheetRow) -> Expr | None:
    """部门取自: a field such as 责任部门, or a look-up such as 客户持有部门(…)."""
    text = r.get("部门取自")
    return compile_expression(text, r.ref("部门取自")) if text else None


def _choice(r: SheetRow, header: str, allowed: tuple[str, ...], *, default: str) -> str:
    value = _text(r, header) or default
    if value not in allowed:
        raise PolicyError(f"「{header}」只能是 {'、'.join(allowed)},现为「{value}」。", code="policy-bad-choice",
                          location=r.place(header))
    return value


def _int(r: SheetRow, header: str, *, required: bool) -> int | None:
    value = r.get(header)
    if value is None and not required:
        return None
    try:
        number = Decimal(str(value))
        if number != number.to_integral_value():
            raise InvalidOperation
        return int(number)
    except (InvalidOperation, ValueError):
        raise PolicyError(f"「{header}」应为整数,现为「{value}」。", code="policy-bad-number", location=r.place(header)) from None


PARAM_TYPES = ("金额", "数量", "比例", "工作日", "天数", "文本", "是/否")
_WAN = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*(万|亿)?\s*(元|圆|天|个?工作日|%)?$")
_GROUPED = re.compile(r"^[+-]?(\d+|\d{1,3}(,\d{3})+)(\.\d+)?$")
# 「50万」alone is unambiguous and read as 500000 (policy check says so); with a unit (「50万元」) it is refused.
_WAN_ONLY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(万|亿)$")
_WAN_FACTORS = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}


def param_value(r: SheetRow) -> Any:
    """A parameter's value, read as its 类型 says; a value that does not parse names the cell."""
    value = r.get("值")
    if value is None:
        raise PolicyError(f"参数「{r.get('名称')}」没有值。", code="policy-blank", location=r.place("值"))
    type_ = _text(r, "类型")
    if type_ is None:
        return _untyped_value(value)
    if type_ not in PARAM_TYPES:
        raise PolicyError(f"参数「{r.get('名称')}」的类型「{type_}」无效,只能是 {'、'.join(PARAM_TYPES)}。",
                          code="policy-param-type", location=r.place("类型"))
    if type_ == "文本":
        return str(value).strip()
    if type_ == "是/否":
        return _yes_no(r, value)
    return _typed_number(r, type_, value)


def _untyped_value(value: Any) -> Any:
    # Workbooks from before the 类型 column: numbers where they look like numbers, text otherwise.
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    try:
        return Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        return str(value)


def _yes_no(r: SheetRow, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip()
    if text not in ("是", "否"):
        raise PolicyError(f"{r.ref('值')}「{text}」不是“是”或“否”,请填写 是 或 否。", code="policy-param-invalid",
                          location=r.place("值"))
    return text == "是"


def wan_reading(r: SheetRow) -> Decimal | None:
    """The number a 金额 or 数量 parameter written like「50万」is read as; None for any other value."""
    value = r.get("值")
    if _text(r, "类型") not in ("金额", "数量") or not isinstance(value, str):
        return None
    match = _WAN_ONLY.match(unicodedata.normalize("NFKC", value).strip().replace(" ", ""))
    return Decimal(match.group(1)) * _WAN_FACTORS[match.group(2)] if match else None


def _typed_number(r: SheetRow, type_: str, value: Any) -> Decimal:
    number = _cell_number(value, percent=type_ == "比例")
    if number is None:
        number = wan_reading(r)
    place = r.place("值")
    where = place.text
    if number is None:
        raise PolicyError(f"{where}「{value}」不是数字,{_suggest(value, type_)}", code="policy-param-invalid",
                          location=place)
    if type_ == "比例" and not 0 <= number <= 1:
        raise PolicyError(f"{where}「{value}」不是 0 到 1 之间的比例,请填写如 0.25 或 25%。", code="policy-param-invalid",
                          location=place)
    if type_ in ("工作日", "天数") and (number < 0 or number != number.to_integral_value()):
        raise PolicyError(f"{where}「{value}」应为不小于 0 的整数({type_})。", code="policy-param-invalid", location=place)
    if type_ == "金额" and (number < 0 or number != number.quantize(Decimal("0.01"))):
        raise PolicyError(f"{where}「{value}」不是有效金额:金额不能为负,最多两位小数。", code="policy-param-invalid",
                          location=place)
    return number


def _cell_number(value: Any, *, percent: bool) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(" ", "")
    share = percent and text.endswith("%")
    text = text[:-1] if share else text
    if not _GROUPED.match(text):
        return None
    number = Decimal(text.replace(",", ""))
    return number / 100 if share else number


def _suggest(value: Any, type_: str) -> str:
    """「50万元」→ 请填写 500000: the number the administrator most likely meant."""
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "")
    match = _WAN.match(text)
    if match:
        number = Decimal(match.group(1)) * {"万": 10_000, "亿": 100_000_000}.get(match.group(2) or "", 1)
        if match.group(3) == "%":
            number = number / 100
        return f"请填写 {number.normalize():f}。"
    return f"请填写数字(类型:{type_})。"


def to_date(r: SheetRow, header: str) -> date | None:
    value = r.get(header)
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    try:
        return date.fromisoformat(str(value).replace("/", "-"))
    except ValueError:
        raise PolicyError(f"「{header}」应为日期(如 2026-10-01),现为「{value}」。", code="policy-bad-date",
                          location=r.place(header)) from None


__all__ = ["Policy", "Person", "ApprovalRule", "CheckRule", "CcRule", "NumberingRule", "TemplateRule",
           "load_policy", "read_sheets", "SheetRow", "ExpressionError"]

"""``officeflow policy check``: every mistake in 制度.xlsx at once, each at its sheet!cell.

The loader stops at the first thing it cannot read; lint keeps going and also
finds what is readable but wrong: unknown names, roles nobody holds, broken
delegations, and amount tiers that leave a gap or overlap.

Amount tiers (heuristic): a 审批规则 row is a *tier* when its condition only
compares the form's amount field (``FormSpec.amount_field``) with numbers or
parameters — ``合同金额 >= 重大合同金额``, ``a > X and a <= Y`` or
``X < a <= Y``. For each form with two or more tiers, the tiers' ranges must
join up from the lowest lower bound upward: an amount between them that no
tier covers is a *gap* (often ``< 100000`` next to ``> 100000``). Two tiers
*overlap* when their ranges share amounts and either both have an upper bound
(bands meant to be exclusive) or they name the same role. Open-ended tiers
such as ``> 信用额度_部门经理`` and ``> 信用额度_财务经理`` stack by design and
are not reported.
"""

from __future__ import annotations

import ast
import difflib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from automation.errors import ExpressionError, PolicyError
from automation.forms.spec import FormSpec
from automation.policy import approver_options as ao
from automation.policy.chain import MODES
from automation.policy.expressions import Expr, compile_expression
from automation.policy.functions import FUNCTIONS
from automation.policy.workbook import (
    DAY_TYPES,
    LEVELS,
    REQUIRED,
    SCOPES,
    SheetRow,
    param_value,
    read_sheets,
    split_roles,
    to_date,
    wan_reading,
)
from automation.problems import ERROR, WARNING, Location, Problem
from automation.problems.policy import LINT as K
NUMBER_FIELDS = {"年", "月", "日", "表单代码", "序号"}


def _whole(value: Any) -> bool:
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return False
    return number.is_finite() and number == number.to_integral_value() and number >= 0


def _hint(word: Any, options: Iterable[str]) -> str:
    match = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.5)
    return f"您是否想写「{match[0]}」?" if match else ""


@dataclass
class LintReport:
    path: Path
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(p.level == ERROR for p in self.problems)

    @property
    def codes(self) -> list[tuple[str, str | None]]:
        return [(p.code, p.location) for p in self.problems]

    def to_dict(self) -> dict:
        return {"path": str(self.path), "ok": self.ok, "problems": [p.to_dict() for p in self.problems]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def render_text(self) -> str:
        """The text of 制度.检查结果.txt."""
        if self.ok and not self.problems:
            return f"{self.path.name}:检查通过,没有发现问题。\n"
        lines = [f"{self.path.name}:发现 {len(self.problems)} 个问题" + ("" if self.ok else ",修正前不会启用此版本制度") + "。", ""]
        for n, p in enumerate(self.problems, start=1):
            level = "错误" if p.level == ERROR else "警告"
            lines.append(f"{n}. [{level}] {p.location or ''}  {p.message}")
        return "\n".join(lines) + "\n"


def lint_policy(path: Path, specs: Mapping[str, FormSpec], *, spec_expressions: bool = True,
                sheets: dict[str, list[SheetRow]] | None = None) -> LintReport:
    """Every problem of the workbook; with ``spec_expressions`` also the forms' own ``compute:``.

    The policy in force is judged without the latter (a mistake in a spec is not one in
    制度.xlsx, and the specs are not re-read while running), ``policy check`` with them.
    ``sheets``: the workbook's rows when the caller has already read them (``read_sheets``)."""
    report = LintReport(Path(path))
    if sheets is None:
        try:
            sheets = read_sheets(Path(path))
        except PolicyError as exc:
            report.problems.append(K["unreadable"](message=exc.message, location=exc.place or exc.location))
            return report
    report.problems.extend(_Linter(sheets, specs, spec_expressions=spec_expressions).run())
    return report


class _Linter:
    def __init__(self, sheets: dict[str, list[SheetRow]], specs: Mapping[str, FormSpec], *, spec_expressions: bool):
        self.sheets = sheets
        self.spec_expressions = spec_expressions
        self.forms = {s.title: s for s in specs.values()}
        self.roles = {r.get("角色") for r in sheets.get("角色", []) if r.get("角色")}
        self.params = {str(r.get("名称")): r for r in sheets.get("参数", []) if r.get("名称")}
        self.people = sheets.get("人员", [])
        self.names = {r.get("姓名") for r in self.people if r.get("姓名")}

    def run(self) -> Iterator[Problem]:
        missing = list(self._structure())
        yield from missing
        if missing:
            return
        yield from self._parameters()
        yield from self._people()
        yield from self._approvals()
        yield from self._checks()
        yield from self._copies()
        if self.spec_expressions:
            yield from self._computed()
        yield from self._unheld_roles()
        yield from self._tiers()
        yield from self._holidays()
        yield from self._numbering()
        yield from self._approver_options()

    def _structure(self) -> Iterator[Problem]:
        for sheet, headers in REQUIRED.items():
            if sheet not in self.sheets:
                yield K["sheet"](sheet=sheet, location=Location.in_sheet(sheet))
                continue
            present = set(self.sheets[sheet][0].columns) if self.sheets[sheet] else set(headers)
            for column in headers:
                if column not in present:
                    yield K["column"](sheet=sheet, column=column, location=Location.in_row(sheet, 1))

    # --- 参数 and 人员 -----------------------------------------------------------

    def _parameters(self) -> Iterator[Problem]:
        rows = self.sheets.get("参数", [])
        if rows and "类型" not in rows[0].columns:
            yield K["untyped"](location=Location.in_row("参数", 1))
        for row in self.params.values():
            try:
                param_value(row)
            except PolicyError as exc:
                yield K["bad_value"](message=exc.message, location=exc.place or exc.location)
                continue
            read = wan_reading(row)
            if read is not None:
                yield K["wan"](value=row.get("值"), number=f"{read.normalize():f}", location=row.place("值"))

    def _approver_options(self) -> Iterator[Problem]:
        """审批人去重 / 审批人为空时 / 允许转交 …: one of their choices; 转交管理员 names someone in 人员."""
        values = {name: row.get("值") for name, row in self.params.items()}
        for name, value, choices in ao.bad_values(values):
            yield K["bad_value"](message=f"参数「{name}」的值「{value}」无效,只能是 {'、'.join(choices)}。",
                                 location=self.params[name].place("值"))
        for name, row in self.params.items():
            if (name == ao.ADMIN or name.startswith(ao.ADMIN + "_")) and row.get("值") not in self.names:
                yield K["bad_value"](message=f"参数「{name}」的「{row.get('值')}」不在「人员」表中。"
                                             f"{_hint(row.get('值'), self.names)}", location=row.place("值"))

    def _people(self) -> Iterator[Problem]:
        seen: dict[str, str] = {}
        for r in self.people:
            name = r.get("姓名")
            if name in seen:
                yield K["duplicate"](value=name, other=seen[name], location=r.place("姓名"))
            seen.setdefault(name, r.ref("姓名"))
            for role in split_roles(r.get("角色")):
                if role not in self.roles:
                    yield K["role"](value=role, hint=_hint(role, self.roles), location=r.place("角色"))
            yield from self._person_links(r, name)
            yield from self._delegation_dates(r, name)

    def _person_links(self, r: SheetRow, name: str) -> Iterator[Problem]:
        for header, k in (("直属上级", "superior"), ("代理人", "delegate")):
            other = r.get(header)
            if other and other not in self.names:
                yield K[k](person=name, value=other, hint=_hint(other, self.names), location=r.place(header))

    def _delegation_dates(self, r: SheetRow, name: str) -> Iterator[Problem]:
        try:
            start, end = to_date(r, "代理开始"), to_date(r, "代理结束")
        except PolicyError as exc:
            yield K["bad_value"](message=exc.message, location=exc.place or exc.location)
            return
        if start and end and start > end:
            yield K["dates"](person=name, value=start.isoformat(), end=end.isoformat(), location=r.place("代理开始"))

    # --- rules ------------------------------------------------------------------------

    def _form(self, r: SheetRow) -> Iterator[Problem]:
        title = r.get("表单")
        if title not in self.forms:
            yield K["form"](value=title, hint=_hint(title, self.forms), location=r.place("表单"))

    def _role(self, r: SheetRow, header: str) -> Iterator[Problem]:
        role = r.get(header)
        if role not in self.roles:
            yield K["role"](value=role, hint=_hint(role, self.roles), location=r.place(header))

    def _approvals(self) -> Iterator[Problem]:
        yield from self._orders()
        for r in self.sheets["审批规则"]:
            yield from self._form(r)
            yield from self._role(r, "审批角色")
            if r.get("方式") not in (None, *MODES):
                yield K["mode"](value=r.get("方式"), location=r.place("方式"))
            yield from self._condition(r, scope="表单")

    def _orders(self) -> Iterator[Problem]:
        by_form: dict[str, list[SheetRow]] = {}
        for r in self.sheets["审批规则"]:
            by_form.setdefault(r.get("表单"), []).append(r)
            for header in ("顺序", "时限工作日"):
                value = r.get(header)
                if value is not None and not _whole(value):
                    yield K["bad_value"](message=f"「{header}」应为整数,现为「{value}」。", location=r.place(header))
        for form, rows in by_form.items():
            given = [r for r in rows if r.get("顺序") is not None]
            if given and len(given) < len(rows):
                yield K["order_partial"](form=form, location=next(r for r in rows if r.get("顺序") is None).place("顺序"))

    def _checks(self) -> Iterator[Problem]:
        for r in self.sheets["校验规则"]:
            yield from self._form(r)
            scope = r.get("范围") or "表单"
            if scope not in SCOPES:
                yield K["scope"](value=scope, location=r.place("范围"))
            if r.get("级别") not in (None, *LEVELS):
                yield K["level"](value=r.get("级别"), location=r.place("级别"))
            yield from self._field(r, scope)
            yield from self._condition(r, scope=scope)

    def _copies(self) -> Iterator[Problem]:
        for r in self.sheets.get("抄送", []):
            yield from self._form(r)
            yield from self._role(r, "角色")
            spec, name = self.forms.get(r.get("表单")), r.get("部门取自")
            if spec and name and name not in spec.all_keys:
                yield K["field"](value=name, form=spec.title, hint=_hint(name, spec.all_keys), location=r.place("部门取自"))
            yield from self._condition(r, scope="表单")

    def _scope_names(self, spec: FormSpec, scope: str) -> set[str]:
        names = set(spec.all_keys)
        if scope == "明细":
            for table in spec.tables:
                names |= {c.key for c in table.columns}
        return names

    def _field(self, r: SheetRow, scope: str) -> Iterator[Problem]:
        spec, name = self.forms.get(r.get("表单")), r.get("字段")
        if spec and name:
            fields = self._scope_names(spec, scope)
            if name not in fields:
                yield K["field"](value=name, form=spec.title, hint=_hint(name, fields), location=r.place("字段"))

    def _condition(self, r: SheetRow, scope: str) -> Iterator[Problem]:
        spec = self.forms.get(r.get("表单"))
        yield from self._expression(r.get("条件"), r.place("条件"), spec,
                                    self._scope_names(spec, scope) if spec else None)

    def _expression(self, text: Any, where: Location | str, spec: FormSpec | None,
                    names: set[str] | None) -> Iterator[Problem]:
        """Syntax, functions and their arguments, and (with ``names``) every name the expression reads."""
        try:
            expr = compile_expression(text, where.text if isinstance(where, Location) else where)
        except ExpressionError as exc:
            yield K["syntax"](message=exc.message, location=where)
            return
        for fn in sorted(expr.functions - set(FUNCTIONS)):
            yield K["function"](value=fn, hint=_hint(fn, FUNCTIONS), location=where)
        yield from self._arities(expr, where)
        if spec is None or names is None:
            return
        known = names | set(self.params)
        for name in sorted(expr.names - known):
            yield K["name"](value=name, form=spec.title, hint=_hint(name, known), location=where)

    def _computed(self) -> Iterator[Problem]:
        """The forms' own expressions: a field's ``compute:`` and a register column's ``compute:``."""
        for spec in self.forms.values():
            file = spec.path.name if spec.path else f"{spec.id}.yaml"
            names = set(spec.all_keys)
            for field in spec.fields:
                if field.compute:
                    yield from self._expression(field.compute, f"{file} 第 {field.line} 行「{field.key}」", spec, names)
            for column in spec.register.columns if spec.register else ():
                if column.compute:
                    yield from self._expression(column.compute, f"{file} 台账「{column.header}」", spec, names)

    def _arities(self, expr: Expr, where: Location | str) -> Iterator[Problem]:
        for node in ast.walk(expr.node) if expr.node else ():
            if isinstance(node, ast.Call) and node.func.id in FUNCTIONS:
                low, high = FUNCTIONS[node.func.id].arity
                got = len(node.args)
                if got < low or (high is not None and got > high):
                    expected = str(low) if low == high else (f"{low}–{high}" if high else f"至少 {low}")
                    yield K["arity"](value=node.func.id, expected=expected, got=got, location=where)

    def _unheld_roles(self) -> Iterator[Problem]:
        held = {role for r in self.people if r.get("在职") != "否" for role in split_roles(r.get("角色"))}
        reported: set[str] = set()
        uses = [(r, "审批角色") for r in self.sheets["审批规则"]] + [(r, "角色") for r in self.sheets.get("抄送", [])]
        for r, header in uses:
            role = r.get(header)
            if role in self.roles and role not in held and role not in reported:
                reported.add(role)
                yield K["unheld"](value=role, location=r.place(header), **self._when_nobody_holds(r.get("表单")))

    def _when_nobody_holds(self, form: str | None) -> dict:
        values = {name: row.get("值") for name, row in self.params.items()}
        choice = ao.choice(values, ao.ON_EMPTY, form)
        what = {ao.EMPTY_PASS: "该审批步骤将自动通过",
                ao.EMPTY_ADMIN: f"该审批步骤将交由管理员「{ao.option_value(values, ao.ADMIN, form)}」审批"}
        return {"choice": choice, "what": what.get(choice, "相关申请将暂停审批并告警,直到管理员补充人员")}

    def _tiers(self) -> Iterator[Problem]:
        by_form: dict[str, list[tuple[SheetRow, _Interval]]] = {}
        for r in self.sheets["审批规则"]:
            spec = self.forms.get(r.get("表单"))
            if spec and spec.amount_field:
                interval = _tier(r.get("条件"), spec.amount_field, self._param_number)
                if interval:
                    by_form.setdefault(spec.title, []).append((r, interval))
        for title, tiers in by_form.items():
            if len(tiers) >= 2:
                yield from _gaps(title, self.forms[title].amount_field, tiers)
                yield from _overlaps(title, self.forms[title].amount_field, tiers)

    def _param_number(self, name: str) -> Decimal | None:
        row = self.params.get(name)
        try:
            value = param_value(row) if row else None
        except PolicyError:
            return None
        return value if isinstance(value, Decimal) else None

    def _holidays(self) -> Iterator[Problem]:
        for r in self.sheets.get("节假日", []):
            try:
                if to_date(r, "日期") is None:
                    raise PolicyError("节假日需要填写日期。", location=r.place("日期"))
            except PolicyError as exc:
                yield K["bad_value"](message=exc.message, location=exc.place or exc.location)
            if (r.get("类型") or "休息日") not in DAY_TYPES:
                yield K["bad_value"](message=f"类型「{r.get('类型')}」无效,只能是 休息日 或 工作日。", location=r.place("类型"))

    def _numbering(self) -> Iterator[Problem]:
        for r in self.sheets.get("编号规则", []):
            fmt = str(r.get("格式") or "")
            fields = set(re.findall(r"\{([^{}:]*)(?::[^{}]*)?\}", fmt))
            unknown = fields - NUMBER_FIELDS
            if not fmt or unknown or "序号" not in fields:
                why = f"未知占位符 {'、'.join(sorted(unknown))}" if unknown else "须包含 {序号}"
                yield K["numbering"](value=fmt, message=why, location=r.place("格式"))
            if r.get("表单") and r.get("表单") not in self.forms:
                yield from self._form(r)


# --- amount tiers ---------------------------------------------------------------------

INF = Decimal("Infinity")


@dataclass(frozen=True)
class _Interval:
    lo: Decimal = -INF
    lo_closed: bool = False
    hi: Decimal = INF
    hi_closed: bool = False

    def meet(self, other: "_Interval") -> "_Interval":
        lo = max((self.lo, not self.lo_closed), (other.lo, not other.lo_closed))
        hi = min((self.hi, self.hi_closed), (other.hi, other.hi_closed))
        return _Interval(lo[0], not lo[1], hi[0], hi[1])

    @property
    def empty(self) -> bool:
        return self.lo > self.hi or (self.lo == self.hi and not (self.lo_closed and self.hi_closed))

    def show(self) -> str:
        left = "[" if self.lo_closed else "("
        right = "]" if self.hi_closed else ")"
        lo = "-∞" if self.lo == -INF else f"{self.lo:,}"
        hi = "+∞" if self.hi == INF else f"{self.hi:,}"
        return str(self.lo) if self.lo == self.hi else f"{left}{lo}, {hi}{right}"


_FLIP = {ast.Lt: ast.Gt, ast.LtE: ast.GtE, ast.Gt: ast.Lt, ast.GtE: ast.LtE}


def _tier(text: Any, amount: str, param) -> _Interval | None:
    try:
        expr = compile_expression(text, "")
    except ExpressionError:
        return None
    if expr.node is None:
        return None
    return _interval(expr.node.value, amount, param)


def _interval(node: ast.AST, amount: str, param) -> _Interval | None:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        parts = [_interval(v, amount, param) for v in node.values]
        if any(p is None for p in parts):
            return None
        result = _Interval()
        for p in parts:
            result = result.meet(p)
        return result
    if isinstance(node, ast.Compare):
        return _compare_chain(node, amount, param)
    return None


def _compare_chain(node: ast.Compare, amount: str, param) -> _Interval | None:
    terms = [node.left, *node.comparators]
    result = _Interval()
    for left, op_, right in zip(terms, node.ops, terms[1:]):
        if _is_amount(left, amount) and (bound := _bound(right, param)) is not None:
            side = _side(type(op_), bound)
        elif _is_amount(right, amount) and (bound := _bound(left, param)) is not None and type(op_) in _FLIP:
            side = _side(_FLIP[type(op_)], bound)
        else:
            return None
        if side is None:
            return None
        result = result.meet(side)
    return result


def _is_amount(node: ast.AST, amount: str) -> bool:
    return isinstance(node, ast.Name) and node.id == amount


def _bound(node: ast.AST, param) -> Decimal | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return Decimal(repr(node.value))
    if isinstance(node, ast.Name):
        return param(node.id)
    return None


def _side(op_type: type, bound: Decimal) -> _Interval | None:
    return {
        ast.Gt: _Interval(lo=bound), ast.GtE: _Interval(lo=bound, lo_closed=True),
        ast.Lt: _Interval(hi=bound), ast.LtE: _Interval(hi=bound, hi_closed=True),
        ast.Eq: _Interval(bound, True, bound, True),
    }.get(op_type)


def _gaps(title: str, amount: str, tiers: list[tuple[SheetRow, _Interval]]) -> Iterator[Problem]:
    ordered = sorted(tiers, key=lambda t: (t[1].lo, not t[1].lo_closed))
    reach, reach_closed = ordered[0][1].hi, ordered[0][1].hi_closed
    for row, iv in ordered[1:]:
        gap = _Interval(reach, not reach_closed, iv.lo, not iv.lo_closed)
        if not gap.empty:
            yield K["gap"](form=title, field=amount, value=gap.show(), location=row.place("条件"))
        if (iv.hi, iv.hi_closed) > (reach, reach_closed):
            reach, reach_closed = iv.hi, iv.hi_closed


def _overlaps(title: str, amount: str, tiers: list[tuple[SheetRow, _Interval]]) -> Iterator[Problem]:
    for i, (row_a, a) in enumerate(tiers):
        for row_b, b in tiers[i + 1:]:
            bands = a.hi != INF and b.hi != INF
            same_role = row_a.get("审批角色") == row_b.get("审批角色")
            shared = a.meet(b)
            if (bands or same_role) and not shared.empty:
                yield K["overlap"](form=title, field=amount, value=shared.show(), other=row_a.ref("条件"),
                                   location=row_b.place("条件"))


__all__ = ["LintReport", "lint_policy", "WARNING"]

"""The generic effect: a form whose spec declares a register gets one row per case in it.

Written when the case is opened (状态 审批中) and rewritten on every
resubmission and on the final decision, so the register always shows where each
case stands. Computed columns are policy expressions evaluated here, with the
policy's calendar (working days, holidays); they see the form's fields and the
parameters, but not the other registers.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from automation.act.effects.context import APPROVED, REJECTED, RETURNED, Effect
from automation.errors import ExpressionError
from automation.policy.expressions import compile_expression
from automation.record.registers import generic

IN_APPROVAL = "审批中"
STATUS = {APPROVED: "已批准", REJECTED: "已驳回", RETURNED: "退回修改"}


def submitted(fx: Effect) -> set[str]:
    return _record(fx, IN_APPROVAL)


def decided(fx: Effect, outcome: str) -> set[str]:
    return _record(fx, STATUS[outcome])


def _record(fx: Effect, status: str) -> set[str]:
    spec = fx.spec
    register = spec.register
    generic.save_definition(fx.conn, register.to_dict(spec.id, spec.title), at=fx.case.updated_at)
    data = {c.header: _value(fx, c) for c in register.columns if not c.overdue_of and c.value != "状态"}
    generic.record_row(fx.conn, case_id=fx.case_id, form_id=spec.id, register=register.name, number=fx.number,
                       data=data, status=status)
    return {"form_records", generic.mark(register.name)}


def _value(fx: Effect, column) -> Any:
    if column.field:
        return _typed(fx.values.get(column.field), column.kind)
    if column.value:
        return _typed(_case_value(fx, column.value), column.kind)
    names = {**dict(getattr(fx.policy, "params", {}) or {}), **fx.values}
    try:
        expr = compile_expression(column.compute, f"{fx.spec.id}.yaml · 台账「{column.header}」")
        return _typed(expr.evaluate(names, fx.policy.functions(fx.today)), column.kind)
    except ExpressionError:
        # `policy check` names the mistake; a register cell left blank must not stop the case.
        return None


def _case_value(fx: Effect, name: str) -> Any:
    case = fx.case
    if name == "编号":
        return case.number
    if name in ("申请人", "部门", "金额"):
        return getattr(case, {"申请人": "applicant", "部门": "department", "金额": "amount"}[name])
    moment = case.created_at if name == "提交日期" else case.decided_at
    if name == "完成日期" and moment is None and case.status in STATUS:
        return fx.today
    return moment.date() if isinstance(moment, datetime) else moment


def _typed(value: Any, kind: str) -> Any:
    """What the register's column format expects; a blank stays blank."""
    if value is None or value == "":
        return None
    if kind == "int" and isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return int(value)
    if kind in ("money", "decimal") and isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return Decimal(value)
    if kind == "date" and isinstance(value, datetime):
        return value.date()
    if kind == "text" and isinstance(value, bool):
        return "是" if value else "否"
    if kind == "text" and not isinstance(value, (str, date)):
        return str(value)
    return value

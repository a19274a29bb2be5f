"""What the 审批 part of a task file shows, as plain rows: enough to decide without opening anything else.

The case's key fields (the spec's 摘要字段), the first line items with totals, the
warnings, the whole chain with each step's state and why the step is on it (the
审批规则 row's condition, the values that made it true, its 依据), the time limit and
every comment so far. ``task_files`` lays these rows out in Excel or Word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from automation.decide import engine
from automation.record import codec
from automation.record.instances import Case, Task
from automation.record.status import TaskStatus

ITEM_ROWS = 5  # line items shown; the rest are counted and totalled
CHAIN_HEADER = ("步骤", "审批人", "状态", "为何需要此步")
HISTORY_HEADER = ("时间", "轮次", "步骤", "记录", "意见")
_OPS = ((">=", "≥"), ("<=", "≤"), ("!=", "≠"), ("==", "="), (" and ", " 且 "), (" or ", " 或 "), ("not ", "非 "))
_STRING = re.compile(r'("[^"]*"|\'[^\']*\')')


@dataclass(frozen=True)
class ApprovalView:
    title: str
    header: list[tuple[str, str]]
    summary: list[tuple[str, str]]
    items_title: str = ""
    items_header: tuple[str, ...] = ()
    items: list[tuple[str, ...]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    chain: list[tuple[str, str, str, str]] = field(default_factory=list)
    history: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    decisions: tuple[str, ...] = engine.DECISIONS
    people: tuple[str, ...] = ()
    back_to: tuple[str, ...] = (engine.TO_APPLICANT,)


def build_view(*, case: Case, task: Task, tasks: list[Task], history: list[Task], warnings: list[dict], spec,
               people: tuple[str, ...] = (), transfer_allowed: bool = True) -> ApprovalView:
    values = codec.loads(case.data) or {}
    by_id = {t.id: t for t in tasks}
    items_title, items_header, items = _items(spec, values)
    header = _header(case, task)
    shown = {label for label, _ in header}
    return ApprovalView(
        title=f"{case.form_title} · 审批单", header=header,
        summary=[(k, v) for k, v in _summary(spec, values) if k not in shown],
        items_title=items_title, items_header=items_header, items=items, warnings=warning_lines(warnings),
        chain=[_chain_row(t, task, by_id) for t in _shown(tasks, case.round)],
        history=[_history_row(h) for h in history],
        decisions=tuple(d for d in engine.DECISIONS if transfer_allowed or d != engine.TRANSFER),
        people=tuple(p for p in people if p not in (task.assignee, case.applicant)),
        back_to=(engine.TO_APPLICANT, *_earlier_steps(tasks, task)))


# --- the case ------------------------------------------------------------------------------


def text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value)


def _header(case: Case, task: Task) -> list[tuple[str, str]]:
    step = f"第 {task.step_index + 1} 步 · {task.role}({task.mode})"
    if case.round > 1:
        step += f" · 第 {case.round} 轮(退回修改后重新提交)"
    limit = text(task.due_on)
    if limit and task.limit_days:
        limit += f"({task.limit_days} 个工作日)"
    return [("申请编号", case.number), ("表单", case.form_title), ("申请人", text(case.applicant)),
            ("部门", text(case.department)), ("提交时间", text(case.updated_at or case.created_at)),
            ("当前步骤/角色", step), ("审批人", _who(task)), ("办理时限", limit)]


def _summary(spec, values: dict) -> list[tuple[str, str]]:
    if spec is None:
        return []
    return [(key, field_text(spec.field(key), values.get(key))) for key in spec.summary_keys
            if values.get(key) not in (None, "", [])]


def field_text(spec_field, value) -> str:
    kind = getattr(spec_field, "type", None)
    if isinstance(value, Decimal) and kind == "percent":
        return f"{(value * 100).normalize():f}%"
    if isinstance(value, (int, Decimal)) and kind in ("integer", "number"):
        return format(Decimal(value).normalize(), "f")
    if isinstance(value, list):
        return "、".join(text(v) for v in value)
    return text(value)


def _items(spec, values: dict) -> tuple[str, tuple[str, ...], list[tuple[str, ...]]]:
    table = (spec.table("明细") or (spec.tables[0] if spec.tables else None)) if spec is not None else None
    lines = [line for line in (values.get(table.key) or []) if any(v not in (None, "") for v in line.values())] \
        if table else []
    if not lines:
        return "", (), []
    columns = table.columns
    shown = [tuple(field_text(c, line.get(c.key)) for c in columns) for line in lines[:ITEM_ROWS]]
    totals = tuple("合计" if i == 0 else (text(sum((Decimal(line.get(c.key) or 0) for line in lines), Decimal(0)))
                                         if c.type == "money" and "价" not in c.key else "")  # never Σ 单价
                   for i, c in enumerate(columns))
    more = f",显示前 {ITEM_ROWS} 行" if len(lines) > ITEM_ROWS else ""
    return f"{table.label}(共 {len(lines)} 行{more})", tuple(c.label for c in columns), [*shown, totals]


def warning_lines(warnings: list[dict]) -> list[str]:
    return [f"警告:{w.get('message', '')}" + (f"(依据:{w['source']})" if w.get("source") else "") for w in warnings]


# --- the chain -------------------------------------------------------------------------------


def _who(task: Task) -> str:
    return f"{task.assignee}(代 {task.on_behalf_of})" if task.on_behalf_of else task.assignee


def _shown(tasks: list[Task], round_: int) -> list[Task]:
    """This round's tasks in step order; a cancelled one only when nothing replaced it."""
    mine = [t for t in tasks if t.round == round_]
    kept = [t for t in mine if t.status != TaskStatus.CANCELLED or not any(
        o.id != t.id and o.status != TaskStatus.CANCELLED and o.step_index == t.step_index
        and o.assignee == t.assignee for o in mine)]
    return sorted(kept, key=lambda t: (t.step_index, t.id))


def _chain_row(t: Task, current: Task, by_id: dict[int, Task]) -> tuple[str, str, str, str]:
    step = engine.step_label(t.step_index, t.role) + ("" if t.mode == "依次" else f"({t.mode})")
    return step, _who(t), _state(t, current), why_text(t, by_id)


def _state(t: Task, current: Task) -> str:
    when = text(t.decided_at)
    status = t.status
    if t.id == current.id:
        return "当前 · 请您审批"
    if status == "approved" and t.decided_by:
        return f"系统自动同意 · {when}"
    if status == "approved":
        extra = f" · 并后加签 {t.target}" if t.decision == engine.SIGN_AFTER else ""
        return f"已同意 · {t.assignee} · {when}{extra}"
    labels = {"rejected": f"已驳回 · {when}", "transferred": f"已转交 {t.target} · {when}",
              "addsigned": f"已前加签 {t.target} · {when}", "escalated": f"超时已上报 · {when}",
              "returned": f"已退回{('到 ' + t.target) if t.target else '申请人'} · {when}",
              "open": "当前" + (f" · 时限 {t.due_on}" if t.due_on else ""),
              "waiting": "待审批", "cancelled": "无需审批"}
    return labels.get(status, engine.status_label(status))


def why_text(t: Task, by_id: dict[int, Task]) -> str:
    parts = []
    source = by_id.get(t.origin_task)
    origin = t.origin
    if origin in ("transfer", "sign-before", "sign-after") and source:
        parts.append(f"由 {source.assignee} {engine.ORIGIN_LABELS[origin]}" if origin == "transfer"
                     else f"{source.assignee} {engine.ORIGIN_LABELS[origin]}")
    elif origin == "sign-back":
        parts.append("前加签人审批后返回")
    elif origin in ("empty-pass", "empty-admin"):
        parts.append(f"审批角色「{t.role}」在人员表中无人担任,{'自动通过' if origin == 'empty-pass' else '转交管理员审批'}")
    if t.escalated_from:
        parts.append("原审批人超时未办理,上报直属上级")
    reasons = codec.loads(t.why) or []
    parts += [reason_text(r) for r in reasons] or ([f"依据 {t.rule_ref}"] if t.rule_ref else [])
    return ";".join(parts)


def reason_text(reason: dict) -> str:
    condition = reason.get("条件") or ""
    if condition:
        shown = "、".join(f"{k} = {v}" for k, v in (reason.get("取值") or {}).items())
        text_ = pretty_condition(condition) + (f"({shown})" if shown else "")
    else:
        text_ = "本表单每份都需此步审批"
    if reason.get("依据"):
        text_ += f" · 依据 {reason['依据']}"
    return text_ + (f" · {reason['规则']}" if reason.get("规则") else "")


def pretty_condition(condition: str) -> str:
    """``合同金额 >= 重大合同金额 and …`` as people write it: ``合同金额 ≥ 重大合同金额 且 …``."""
    pieces = _STRING.split(condition)
    for i in range(0, len(pieces), 2):  # outside string literals only
        for ascii_, shown in _OPS:
            pieces[i] = pieces[i].replace(ascii_, shown)
    return "".join(pieces)


def _earlier_steps(tasks: list[Task], task: Task) -> list[str]:
    steps = {t.step_index: t for t in tasks if t.round == task.round and t.step_index < task.step_index
             and t.status == TaskStatus.APPROVED}
    return [engine.step_label(i, t.role) + f" · {t.assignee}" for i, t in sorted(steps.items())]


def step_choice(value: str | None) -> int | None:
    """退回到's cell → a step index; None for 申请人 or blank (the case goes back to the applicant)."""
    match = re.match(r"\s*第\s*(\d+)\s*步", value or "")
    return int(match.group(1)) - 1 if match else None


# --- the history -----------------------------------------------------------------------------


def history_record(h: Task) -> str:
    who = _who(h)
    decision = h.decision
    if h.decided_by:
        return f"{who} · 系统自动同意"
    if decision == engine.TRANSFER:
        return f"{who} 转交 {h.target}"
    if decision in engine.SIGN_MODES:
        return f"{who} {decision} {h.target}" + (" · 同意" if decision == engine.SIGN_AFTER else "")
    if decision == engine.RETURN:
        return f"{who} 退回到 {h.target}" if h.target else f"{who} 退回修改(退回申请人)"
    if h.status == TaskStatus.ESCALATED:
        return f"{who} 超时未办理,已上报"
    return f"{who} {decision or engine.status_label(h.status)}"


def _history_row(h: Task) -> tuple[str, str, str, str, str]:
    return (text(h.decided_at), f"第 {h.round} 轮", engine.step_label(h.step_index, h.role),
            history_record(h), text(h.comment))

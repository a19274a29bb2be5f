"""Every number OfficeFlow gives out — 申请编号, 合同编号, 投诉编号 — comes from one path: a
``NumberingRule`` (a 编号规则 row, or the built-in default) renders it, and its counter
is allocated in the store inside the transaction that records what it numbers, so a
rolled-back case or approval rolls the counter back too and numbers have no gaps.

The pattern comes from the policy workbook, which the administrator edits, so it
is parsed field by field instead of being handed to ``str.format`` (which would
allow ``{年.__class__}``-style attribute access).
"""

from __future__ import annotations

import difflib
import string
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from automation.clock import Clock
from automation.errors import PolicyError
from automation.record import schema as s
from automation.record.store import next_number

CASE, CONTRACT, COMPLAINT = "申请编号", "合同编号", "投诉编号"
DEFAULT_FORMAT = "HT-{年}-{序号:04d}"  # 合同编号
DEFAULTS = {  # when 编号规则 has no row: (format, form code)
    CASE: ("{表单代码}-{年}{月}-{序号:04d}", None),
    CONTRACT: (DEFAULT_FORMAT, None),
    COMPLAINT: ("TS-{年}-{序号:04d}", "TS"),
}
COUNTER = "contract"  # contract numbers have always counted under this name: renaming it would restart them
FIELDS = ("年", "月", "日", "序号", "表单代码")
# Month and day read naturally only zero-padded (HT-2026-03-…), unless the rule says otherwise.
_DEFAULT_SPEC = {"月": "02d", "日": "02d"}


def _parts(fmt: str) -> list[tuple[str, str | None, str]]:
    try:
        parsed = list(string.Formatter().parse(fmt))
    except ValueError as exc:
        raise PolicyError(f"编号规则「{fmt}」格式有误:花括号不成对。", location="编号规则") from exc
    parts = []
    for literal, name, spec, conversion in parsed:
        if name is not None and (name not in FIELDS or conversion):
            hint = difflib.get_close_matches(name, FIELDS, n=1)
            tip = f"您是否想写「{{{hint[0]}}}」?" if hint else f"可用的占位符:{'、'.join('{' + f + '}' for f in FIELDS)}。"
            raise PolicyError(f"编号规则「{fmt}」中的占位符「{{{name}}}」无法识别。{tip}", location="编号规则")
        parts.append((literal, name, spec or ""))
    if not any(name == "序号" for _, name, _ in parts):
        raise PolicyError(f"编号规则「{fmt}」缺少 {{序号}},无法保证编号唯一。", location="编号规则")
    return parts


def format_number(fmt: str, *, when: date, seq: int, form_code: str | None = None) -> str:
    """``HT-{年}-{序号:04d}`` with when=2026-11-23, seq=7 → ``HT-2026-0007``."""
    values = {"年": when.year, "月": when.month, "日": when.day, "序号": seq, "表单代码": form_code or ""}
    out = []
    for literal, name, spec in _parts(fmt):
        out.append(literal)
        if name is not None:
            spec = spec or _DEFAULT_SPEC.get(name, "")
            try:
                out.append(format(values[name], spec))
            except ValueError as exc:
                raise PolicyError(f"编号规则「{fmt}」中「{{{name}:{spec}}}」的格式无效。", location="编号规则") from exc
    return "".join(out)


@dataclass(frozen=True)
class NumberingRule:
    name: str  # 申请编号 | 合同编号 | 投诉编号
    form: str | None
    format: str  # "HT-{年}-{序号:04d}"
    code: str | None
    ref: str

    @property
    def monthly(self) -> bool:
        return "{月}" in self.format

    def period(self, day: date) -> str:
        """The counter period: numbers restart every month or every year."""
        return f"{day:%Y-%m}" if self.monthly else f"{day:%Y}"

    @property
    def counter(self) -> str:
        """The store counter its numbers come from: one per kind of number and form code."""
        return COUNTER if self.name == CONTRACT else f"{self.name}:{self.code or ''}"

    def render(self, day: date, seq: int) -> str:
        # Parsed field by field, never str.format: an administrator's pattern must not reach attributes.
        return format_number(self.format, when=day, seq=seq, form_code=self.code)


def default_rule(name: str, form: str | None = None, *, code: str | None = None) -> NumberingRule:
    fmt, default_code = DEFAULTS[name]
    return NumberingRule(name=name, form=form, format=fmt, code=code or default_code, ref="默认编号规则")


def allocate(conn: Connection, rule: NumberingRule, day: date) -> str:
    """The next number of ``rule``, counted inside the caller's transaction (gap-free)."""
    return rule.render(day, next_number(conn, rule.counter, rule.period(day)))


def check_format(fmt: str) -> None:
    """Raise PolicyError if the rule cannot produce numbers (for `policy check`)."""
    format_number(fmt, when=date(2000, 1, 1), seq=1, form_code="X")


def existing_number(conn: Connection, case_id: int) -> str | None:
    return conn.execute(select(s.contracts.c.number).where(s.contracts.c.case_id == case_id)).scalar()


def allocate_contract_number(conn: Connection, case_id: int, fmt: str, when: date, *,
                             at: datetime | None = None) -> str:
    """The case's contract number, allocated once, inside the caller's (approval) transaction.

    Reprocessing the same approval after a crash finds the row and returns the
    same number; a rolled-back approval rolls the counter back too, so no gap.
    The business columns (customer, amount, dates…) are written by the F3 effect.
    """
    number = existing_number(conn, case_id)
    if number is not None:
        return number
    form_id = conn.execute(select(s.cases.c.form_id).where(s.cases.c.id == case_id)).scalar()
    rule = NumberingRule(name=CONTRACT, form=None, format=fmt or DEFAULT_FORMAT, code=form_id, ref="")
    number = allocate(conn, rule, when)
    conn.execute(s.contracts.insert().values(
        case_id=case_id, number=number, year=when.year, status="待生成",
        created_at=at or Clock().now(),
    ))
    return number


"""Contract numbers: the 编号规则 pattern, and gap-free allocation inside the approval's transaction.

The pattern comes from the policy workbook, which the administrator edits, so it
is parsed field by field instead of being handed to ``str.format`` (which would
allow ``{年.__class__}``-style attribute access).
"""

from __future__ import annotations

import difflib
import string
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from automation.clock import Clock
from automation.errors import PolicyError
from automation.record import schema as s
from automation.record.store import next_number

DEFAULT_FORMAT = "HT-{年}-{序号:04d}"
COUNTER = "contract"
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
    seq = next_number(conn, COUNTER, str(when.year))
    number = format_number(fmt or DEFAULT_FORMAT, when=when, seq=seq, form_code=form_id)
    conn.execute(s.contracts.insert().values(
        case_id=case_id, number=number, year=when.year, status="待生成",
        created_at=at or Clock().now(),
    ))
    return number


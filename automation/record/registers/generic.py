"""Registers that a form spec declares (``register:``), rendered from the store alone.

The generic effect saves the declaration (plain JSON) in ``form_registers`` and
one row per case in ``form_records``; this module turns both into the same
``RegisterDef`` the coded registers use, so writing, totals, highlighting and
the 汇总 sheet are shared.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.engine import Connection

from automation.record import codec
from automation.record import schema as s
from automation.record.registers.definitions import Column, Grouping, RegisterDef, RenderContext

MARK = "register:"  # an effect returns MARK + 台账名称 to have that register redrawn
APPROVED = "已批准"
fr, fd = s.form_records.c, s.form_registers.c


def mark(name: str) -> str:
    return MARK + name


def marked_names(tables: Iterable[str]) -> set[str]:
    return {t[len(MARK):] for t in tables if t.startswith(MARK)}


# --- writing ----------------------------------------------------------------------------

def save_definition(conn: Connection, definition: dict[str, Any], at: datetime) -> None:
    """Keep the spec's register declaration; a changed spec replaces it for every row."""
    text = codec.dumps(definition)
    name = definition["name"]
    row = conn.execute(select(fd.definition).where(fd.name == name)).first()
    if row is None:
        conn.execute(s.form_registers.insert().values(name=name, form_id=definition["form_id"], definition=text,
                                                      updated_at=at))
    elif row.definition != text:
        conn.execute(s.form_registers.update().where(fd.name == name).values(
            form_id=definition["form_id"], definition=text, updated_at=at))


def record_row(conn: Connection, *, case_id: int, form_id: str, register: str, number: str,
               data: dict[str, Any], status: str) -> None:
    """One row per case: written on submission, rewritten on a resubmission or decision."""
    values = dict(form_id=form_id, register=register, number=number, data=codec.dumps(data), status=status)
    done = conn.execute(s.form_records.update().where(fr.case_id == case_id).values(**values)).rowcount
    if not done:
        conn.execute(s.form_records.insert().values(case_id=case_id, **values))


def recorded(conn: Connection, case_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(fr.data).where(fr.case_id == case_id)).first()
    return None if row is None else codec.loads(row.data)


# --- reading ----------------------------------------------------------------------------

def definitions(conn: Connection) -> dict[str, dict[str, Any]]:
    return {r.name: codec.loads(r.definition) for r in conn.execute(select(fd.name, fd.definition))}


def _table_name(form_id: str) -> str:
    ascii_id = re.sub(r"[^A-Za-z0-9_]", "", form_id)
    if ascii_id != form_id or not ascii_id:
        ascii_id = hashlib.sha1(form_id.encode("utf-8")).hexdigest()[:10]
    return f"FormRegister_{ascii_id}"


def _highlight(text: str | None, headers: list[str]) -> str | None:
    if not text:
        return None
    return f'{{{text}}}="是"' if text in headers else text


def register_def(definition: dict[str, Any]) -> RegisterDef:
    columns = definition["columns"]
    headers = [c["header"] for c in columns]
    name = definition["name"]

    def rows(conn: Connection, ctx: RenderContext) -> list[tuple]:
        query = select(fr.data, fr.status).where(fr.register == name).order_by(fr.id)
        return [_row(columns, codec.loads(r.data), r.status, ctx.today) for r in conn.execute(query)]

    groupings = tuple(Grouping(_grouping_title(g), g[0], then=g[1] if len(g) > 1 else None)
                      for g in definition.get("groupings") or [])
    return RegisterDef(
        name, _table_name(definition["form_id"]),
        tuple(Column(c["header"], c.get("kind", "text"), c.get("width")) for c in columns),
        rows, frozenset({"form_records"}), totals=tuple(definition.get("totals") or ()),
        highlight=_highlight(definition.get("highlight"), headers), groupings=groupings,
        measure=definition.get("measure"))


def _grouping_title(columns: list[str]) -> str:
    return "按" + "与".join(columns)


def _row(columns: list[dict], data: dict[str, Any], status: str, today: date) -> tuple:
    out: dict[str, Any] = {}
    for c in columns:
        header = c["header"]
        if c.get("value") == "状态":
            out[header] = status
        elif c.get("overdue_of"):
            continue
        else:
            out[header] = data.get(header)
    for c in columns:
        if c.get("overdue_of"):
            out[c["header"]] = _overdue(out.get(c["overdue_of"]), out.get(c.get("when")) if c.get("when") else "是",
                                        status, today)
    return tuple(out.get(c["header"]) for c in columns)


def _overdue(due: Any, applies: Any, status: str, today: date) -> str:
    late = isinstance(due, date) and due < today and applies == "是" and status == APPROVED
    return "是" if late else "否"

"""F1 客户登记表: an approved registration enters, or merges into, the customer register.

A customer is one row however often it is registered: the same 统一社会信用代码
or the same normalised name finds the existing row, which takes the newer
owner, grade and contact details (`004 · S4-R07`: the department manager has
just arbitrated ownership by approving).
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from automation.act.effects.context import APPROVED, Effect, touched
from automation.record import schema as s
from automation.record.registers import row_marks
from automation.record.names import normalise_customer_name

NORMAL = "正常"


# Built once: building a statement costs more than running it on SQLite.
_c = s.customers.c
_BY_CODE = select(s.customers).where(_c.credit_code == bindparam("code"))
_BY_NAME = select(s.customers).where(_c.name == bindparam("name"))
_BY_NORM = select(s.customers).where(_c.norm_name == bindparam("norm")).order_by(_c.id)


def find_customer(conn: Connection, name: str | None, credit_code: str | None = None):
    """The register row for this customer: by credit code first, then exact, then normalised name."""
    if credit_code:
        row = conn.execute(_BY_CODE, {"code": credit_code.upper()}).first()
        if row:
            return row
    if not name:
        return None
    row = conn.execute(_BY_NAME, {"name": name}).first()
    if row:
        return row
    norm = normalise_customer_name(name)
    return conn.execute(_BY_NORM, {"norm": norm}).first() if norm else None


def canonical_name(conn: Connection, name: str | None) -> str | None:
    """The register's spelling of a customer, so receivables of one customer sum together."""
    row = find_customer(conn, name)
    return row.name if row else name


def touch_customer(conn: Connection, name: str | None, on) -> set[str]:
    """Mark the customer active on ``on`` (the 客户保护天数 clock of 客户交叉 runs from it)."""
    row = find_customer(conn, name)
    if row is None:
        return set()
    result = conn.execute(s.customers.update().where(s.customers.c.id == row.id).values(last_active_on=on))
    return touched(s.customers, result.rowcount)


def decided(fx: Effect, outcome: str) -> set[str]:
    if outcome != APPROVED:
        return set()
    existing = find_customer(fx.conn, fx.text("客户名称"), fx.text("统一社会信用代码"))
    if existing is None:
        return _insert(fx)
    return _merge(fx, existing)


def _details(fx: Effect) -> dict:
    """The columns a registration sets; blanks are left out so a merge never erases data."""
    owner = fx.text("销售员")
    code = fx.text("统一社会信用代码")
    details = {
        "credit_code": code.upper() if code else None,
        "customer_type": fx.text("客户类型"),
        "grade": fx.text("客户等级"),
        "owner": owner,
        "department": fx.department_of(owner, fx.text("部门") or fx.case.department),
        "region": fx.text("所属区域"),
        "contact": fx.text("联系人"),
        "phone": fx.text("联系电话"),
    }
    return {key: value for key, value in details.items() if value is not None}


def _insert(fx: Effect) -> set[str]:
    name = fx.text("客户名称")
    result = fx.conn.execute(s.customers.insert().values(
        name=name, norm_name=normalise_customer_name(name), status=NORMAL,
        registered_on=fx.today, last_active_on=fx.today, case_id=fx.case_id, **_details(fx),
    ))
    row_marks.customers_changed(fx.conn, result.inserted_primary_key)
    return {s.customers.name}


def _merge(fx: Effect, existing) -> set[str]:
    # The register keeps its first name and registration date: receivables and
    # contracts already refer to that name.
    values = dict(_details(fx), last_active_on=fx.today, case_id=fx.case_id)
    if existing.credit_code and "credit_code" in values:
        values.pop("credit_code")  # an established code is never overwritten by a later form
    result = fx.conn.execute(s.customers.update().where(s.customers.c.id == existing.id).values(**values))
    row_marks.customers_changed(fx.conn, [existing.id])
    return touched(s.customers, result.rowcount)

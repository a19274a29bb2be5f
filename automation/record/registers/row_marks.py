"""The 合同台账 and 客户台账 rows a writer changes, named by the writer inside its transaction.

Their rows change on cases other than their own (a receipt booked moves the contract's and the
customer's 已回款) and outside any case (a contract's 状态 and 文件 when its document is made), so
the callers that mark registers dirty cannot tell which rows changed: each writer names here the
rows it changes, and the transaction's next ``render.mark_dirty`` adds them to the register's
mark (marking the register too), so a render reads those rows alone (registers.incremental).

The names wait beside the transaction (on the connection, tied to its root transaction), not in
the store: the only locks taken stay mark_dirty's, in its order. Names left by a transaction that
rolled back are dropped with it. A writer that forgot to name a row would leave it stale until
the next full comparison (the first render of a day, or a mark without keys:
``RegisterDef.sources``); tests/test_registers_row_marks.py drives every writer and compares.
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import select
from sqlalchemy.engine import Connection

from automation.record import schema as s

CONTRACTS, CUSTOMERS = "合同台账", "客户台账"
# Registers whose rows the writers name (a mark without keys for them names none).
WRITER_NAMED = frozenset({CONTRACTS, CUSTOMERS})
_INFO = "officeflow.register_rows"


def name_rows(conn: Connection, name: str, keys: Iterable[int | None]) -> None:
    """The rows ``keys`` of register ``name`` changed in this transaction."""
    ids = {int(k) for k in keys if k is not None}
    if not ids:
        return
    txn = conn.get_transaction()
    held = conn.info.get(_INFO)
    if held is None or held[0] is not txn:
        held = conn.info[_INFO] = (txn, {})
    held[1].setdefault(name, set()).update(ids)


def take(conn: Connection) -> dict[str, set[int]]:
    """The rows named in this transaction so far, handed over once (render.mark_dirty)."""
    held = conn.info.pop(_INFO, None)
    if held is None or held[0] is not conn.get_transaction():
        return {}  # a rolled-back or finished transaction's: its changes are gone or already marked
    return held[1]


def contracts_changed(conn: Connection, ids: Iterable[int | None]) -> None:
    name_rows(conn, CONTRACTS, ids)


def customers_changed(conn: Connection, ids: Iterable[int | None]) -> None:
    name_rows(conn, CUSTOMERS, ids)


def customer_named(conn: Connection, name: str | None) -> None:
    """The customer of that exact name (its receivables and history are joined by name)."""
    if name:
        customers_changed(conn, conn.execute(select(s.customers.c.id).where(s.customers.c.name == name)).scalars())


def receivable_booked(conn: Connection, customer: str | None, contract_number: str | None) -> None:
    """A receivable moves 已回款 / 未收款 of the customer of that name and of the contract of that number."""
    customer_named(conn, customer)
    if contract_number:
        k = s.contracts.c
        contracts_changed(conn, conn.execute(select(k.id).where(k.number == contract_number)).scalars())

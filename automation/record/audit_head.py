"""The audit chain's head as the current transaction knows it.

Kept apart from ``audit`` (which loads openpyxl for its register anchor) so that the store, which
reads the head together with BEGIN and the write lock on PostgreSQL, can hand it over without
loading the audit module's dependencies at start-up."""

from __future__ import annotations

from sqlalchemy.engine import Connection

GENESIS = "0" * 64  # the "previous hash" of the first entry

_HEAD_KEY = "officeflow.audit_head"  # in conn.info: (transaction, savepoint, id, hash) of the last entry written


def known_head(conn: Connection, entry_id: int, digest: str | None) -> None:
    """The head as the caller's transaction read it under the write lock (``Store.begin`` on PostgreSQL
    reads it with BEGIN and the lock, in one round trip): ``audit.append`` then needs no read of its own."""
    conn.info[_HEAD_KEY] = (conn.get_transaction(), conn.get_nested_transaction(), entry_id, digest or GENESIS)


def head_in_scope(conn: Connection) -> tuple[int, str] | None:
    """(id, hash) of the last entry this transaction wrote or was told of, if it is still the head:
    the same transaction and savepoint as then (a savepoint begun or ended since means reading it again)."""
    known = conn.info.get(_HEAD_KEY)
    transaction, savepoint = conn.get_transaction(), conn.get_nested_transaction()
    if known is not None and known[0] is transaction and known[1] is savepoint and transaction is not None \
            and transaction.is_active:
        return known[2], known[3]
    return None

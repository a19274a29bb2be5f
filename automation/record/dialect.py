"""What differs between SQLite and PostgreSQL, in one place: lock keys, locks, upserts."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

# PostgreSQL advisory lock keys (one 64-bit space per database): stable, arbitrary numbers.
WRITE_LOCK = 0x0FF1CE_0001  # every write transaction (transaction-level)
AUDIT_LOCK = 0x0FF1CE_0002  # the audit chain's head (transaction-level)
UPGRADE_LOCK = 0x0FF1CE_0003  # schema upgrades, so workers starting together upgrade once
LEADER_LOCK = 0x0FF1CE_0004  # the worker doing the once-per-share work (session-level)


_WRITER = "officeflow.write_lock"  # in conn.info: the transaction that holds WRITE_LOCK


def serialise(conn: Connection, key: int) -> None:
    """On PostgreSQL, wait for the transaction-level advisory lock ``key`` (held until commit or
    rollback). SQLite needs none: its one writer holds the database from ``BEGIN IMMEDIATE``.

    Every write transaction holds WRITE_LOCK (``Store.begin``), and nobody takes another key without
    it: inside such a transaction any other key (the audit head's) is already serialised, and
    asking for it would only cost a round trip."""
    if conn.dialect.name != "postgresql":
        return
    transaction = conn.get_transaction()
    if key != WRITE_LOCK and transaction is not None and conn.info.get(_WRITER) is transaction:
        return
    conn.execute(select(func.pg_advisory_xact_lock(key)))
    if key == WRITE_LOCK:
        conn.info[_WRITER] = transaction


# A PostgreSQL write transaction's opening in one round trip (simple query protocol, several statements):
# BEGIN, the write lock, and — once the lock is held, in a statement of its own so that under READ
# COMMITTED it reads a snapshot taken after every earlier writer committed — the audit chain's head.
# Sent separately these were three round trips of every write transaction (BEGIN, the lock, the head).
_PG_OPEN = f"BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
_PG_HEAD = "; SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1"


def open_writing(conn: Connection, *, head: bool) -> tuple[int, str] | None:
    """Begin the write transaction of ``conn`` (a PostgreSQL connection in driver-level autocommit,
    inside an SQLAlchemy transaction: its COMMIT / ROLLBACK follow the server's transaction state)
    holding WRITE_LOCK; with ``head``, return the audit chain's (id, hash) as of then, (0, None) if empty."""
    sql = _PG_OPEN + (_PG_HEAD if head else "")
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql)  # no parameters: psycopg sends it as one simple query
        found = None
        if head:
            cursor.nextset()
            cursor.nextset()
            row = cursor.fetchone()
            found = (row[0], row[1]) if row else (0, None)
    except Exception as exc:  # the driver's error, as SQLAlchemy would raise it (and a lost connection invalidated)
        conn._handle_dbapi_exception(exc, sql, (), cursor, None)
        raise
    finally:
        cursor.close()
    conn.info[_WRITER] = conn.get_transaction()
    return found


def insert_ignoring_duplicates(conn: Connection, table, **values) -> None:
    """INSERT … ON CONFLICT DO NOTHING, in the dialect at hand."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as maker  # on PostgreSQL only: SQLite never loads the dialect
    else:
        maker = sqlite_insert
    conn.execute(maker(table).values(**values).on_conflict_do_nothing())

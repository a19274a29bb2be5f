"""The store: engine, transactions, versioned schema.

SQLite in WAL mode by default; the URL comes from ``officeflow.toml`` (``[store] url``,
or ``OFFICEFLOW_STORE_URL``, which wins) so a shared PostgreSQL (psycopg 3) replaces it
without code changes. Every state change happens in one transaction opened with
:meth:`Store.begin`.

One writer at a time, on both backends: SQLite takes its write lock at ``BEGIN
IMMEDIATE``; on PostgreSQL every write transaction first takes one transaction-level
advisory lock, so the code above keeps the single-writer semantics it was written for
(check-then-insert, counters, the audit head) while several workers read, parse, check
and render files in parallel outside their short transactions. Counters and the audit
head also take their own row / advisory locks, so they stay correct even without it.
"""

from __future__ import annotations

import logging
import os
import threading
from contextlib import contextmanager
from functools import lru_cache
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import bindparam, create_engine, event, func, inspect, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, make_url

from automation.clock import Clock
from automation.errors import StoreError
from automation.record import schema as s
from automation.record.audit_head import known_head
from automation.record.claims import Workers
from automation.record.dialect import (  # noqa: F401  (re-exported: the store's lock keys)
    AUDIT_LOCK,
    LEADER_LOCK,
    UPGRADE_LOCK,
    WRITE_LOCK,
    insert_ignoring_duplicates,
    open_writing,
    serialise,
)

log = logging.getLogger("officeflow")

# Named, ordered upgrade steps. A store records the highest step applied.
_V1_TABLES = ("schema_version", "submissions", "audit_log")
_V6_TABLES = ("form_registers", "form_records", "loans", "loan_settlements", "customer_status_history")


def _m1_intake(conn: Connection) -> None:
    s.metadata.create_all(conn, tables=[s.metadata.tables[n] for n in _V1_TABLES])


def _m2_cases_and_records(conn: Connection) -> None:
    rest = [t for name, t in s.metadata.tables.items() if name not in _V1_TABLES]
    s.metadata.create_all(conn, tables=rest)


def _m3_policy_versions(conn: Connection) -> None:
    s.metadata.create_all(conn, tables=[s.policy_versions])  # checkfirst: a fresh store made it in step 2


def _m4_applicant_side(conn: Connection) -> None:
    s.metadata.create_all(conn, tables=[s.receipts, s.applicant_requests, s.mail_outbox])


def _add_missing_columns(conn: Connection, table, names: tuple[str, ...]) -> None:
    """ALTER TABLE … ADD COLUMN for each column a store made by an earlier step lacks."""
    present = {c["name"] for c in inspect(conn).get_columns(table.name)}
    for name in names:
        if name not in present:
            column = table.c[name]
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{name}" {kind}'))


def _m5_approver_actions(conn: Connection) -> None:
    _add_missing_columns(conn, s.tasks, ("origin", "origin_task", "wait_for", "decided_by", "target", "return_to", "why"))
    _add_missing_columns(conn, s.cases, ("dedup",))


def _m6_form_registers_loans_customer_state(conn: Connection) -> None:
    s.metadata.create_all(conn, tables=[s.metadata.tables[n] for n in _V6_TABLES])  # checkfirst, as step 3


def _m7_complaint_reopens(conn: Connection) -> None:
    present = {c["name"] for c in inspect(conn).get_columns("complaints")}
    for name, type_ in (("reopens", "INTEGER DEFAULT 0"), ("reopened_on", "DATE")):
        if name not in present:  # a store made at step 2 by this version already has them
            conn.exec_driver_sql(f"ALTER TABLE complaints ADD COLUMN {name} {type_}")


def _m8_claims(conn: Connection) -> None:
    s.metadata.create_all(conn, tables=[s.claims])  # checkfirst, as step 3


def _m9_register_row_keys(conn: Connection) -> None:
    _add_missing_columns(conn, s.register_state, ("row_keys", "generation"))


def _m10_audit_file_hash_index(conn: Connection) -> None:
    index = next(i for i in s.audit_log.indexes if i.name == "ix_audit_file_hash")
    index.create(conn, checkfirst=True)  # a fresh store made it with the table in step 1


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "intake: submissions and audit log", _m1_intake),
    (2, "cases, approvals, numbering, records and registers", _m2_cases_and_records),
    (3, "last good policies kept in the store", _m3_policy_versions),
    (4, "applicant side: receipts, withdraw and remind requests, mail outbox", _m4_applicant_side),
    (5, "approver actions: 转交, 加签, 退回到, automatic approvals, why each step", _m5_approver_actions),
    (6, "form registers declared in specs, loans, customer status history", _m6_form_registers_loans_customer_state),
    (7, "complaints: reopen count and the day the clocks restarted", _m7_complaint_reopens),
    (8, "claims with leases, for several workers on one PostgreSQL", _m8_claims),
    (9, "registers: row keys marked since the last render, for incremental renders", _m9_register_row_keys),
    (10, "audit log: an index on the file hash, so checking a decision file does not scan the whole log",
     _m10_audit_file_hash_index),
]
CURRENT_VERSION = MIGRATIONS[-1][0]


_READER = "officeflow_reader"  # an execution option: this connection only reads
_SNAPSHOT = "officeflow_snapshot"  # an execution option: reads in one snapshot (Store.snapshot)


def _sqlite_setup(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN and so lets two writers
    # deadlock; take the write lock at BEGIN instead (SQLAlchemy's documented recipe).
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a commit survives a crash or kill -9 of the process (it is in the WAL);
        # on power loss the last commits may roll back, never corrupt (benchmarks/README.md).
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # A reader (``Store.read``) sends no BEGIN at all: under WAL each statement reads a
        # consistent snapshot without any lock (as PostgreSQL's autocommit reads do), so it
        # never waits for a writer nor makes one wait, and costs no BEGIN / ROLLBACK.
        options = conn.get_execution_options()
        if options.get(_SNAPSHOT):
            conn.exec_driver_sql("BEGIN")  # deferred: under WAL a read snapshot, no write lock
        elif not options.get(_READER):
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def normalise_url(url: str) -> str:
    """``postgresql://…`` and ``postgres://…`` mean psycopg 3 (the driver the ``postgres`` extra installs)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def display_url(url: str) -> str:
    """The URL as shown to people: never with its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL we can parse: show nothing secret
        return "(无法解析的数据库地址)"


class _Again(Exception):
    """A deferred write failed: the transaction begins again without it."""


class Store:
    def __init__(self, url: str, clock: Clock | None = None, *, lease_seconds: float = 60.0):
        self.url = url = normalise_url(url)
        self.clock = clock or Clock()
        self.lease_seconds = lease_seconds
        self._workers = None
        self._deferred: list[tuple[int, Callable[[Connection], None]]] = []  # (thread, write)
        self._deferred_lock = threading.Lock()
        self._writing = threading.local()  # .depth: write transactions this thread has open
        self._ready = False  # upgraded to this version: the audit log exists (its head is read with BEGIN)
        if url.startswith("sqlite:///"):
            Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
            _sqlite_setup(self.engine)
        else:
            # The worker's process id in pg_stat_activity, so IT can see who holds what.
            args = ({"connect_timeout": 10, "application_name": f"officeflow {os.getpid()}"}
                    if url.startswith("postgresql") else {})
            # No pool_pre_ping: it costs a round trip on every checkout. A connection the server
            # dropped fails its first use; SQLAlchemy then discards the whole pool and the watcher's
            # next pass (a second later) runs on fresh connections.
            self.engine = create_engine(url, connect_args=args)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def is_shared(self) -> bool:
        """A server database several workers may share (PostgreSQL), not a file one process owns."""
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: committed on success, rolled back on any exception.

        The writes this thread handed to :meth:`defer` run first, inside it: committed with it, or kept
        for the next transaction if it does not commit (whatever stopped it: the body, the server, the
        lock wait, Ctrl-C). A deferred write that fails is dropped alone (and said), and the transaction
        begins again without it: one bad write must not block every later one."""
        yield from self._begin(self._take_deferred())

    def _begin(self, taken: list) -> Iterator[Connection]:
        self._writing.depth = getattr(self._writing, "depth", 0) + 1
        try:
            while True:
                try:
                    with self._transaction() as conn:
                        for n, (_, write) in enumerate(taken):
                            try:
                                write(conn)
                            except Exception as exc:
                                log.warning("未能补记上一项已完成的工作(下一轮恢复时补上):%s", exc)
                                del taken[n]
                                raise _Again() from exc
                        yield conn
                    return
                except _Again:
                    continue
                except BaseException:
                    self._put_back(taken)  # not committed: they run with the next transaction
                    raise
        finally:
            self._writing.depth -= 1

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A bare write transaction holding the write lock. On PostgreSQL opened in one round trip
        (``dialect.open_writing``: BEGIN, the lock and the audit head together), on a connection the driver
        leaves in autocommit: psycopg then sends no BEGIN of its own, and its COMMIT / ROLLBACK go by the
        server's transaction state, so SQLAlchemy's commit and rollback still end the transaction."""
        if not self.is_shared:
            with self.engine.begin() as conn:
                serialise(conn, WRITE_LOCK)  # (nothing on SQLite: BEGIN IMMEDIATE took the lock)
                yield conn
            return
        with self.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            with conn.begin():
                head = open_writing(conn, head=self._ready)
                if head is not None:
                    known_head(conn, *head)
                yield conn

    def defer(self, write: Callable[[Connection], None]) -> None:
        """Run ``write(conn)`` at the start of this process's next write transaction, instead of a
        transaction of its own: for a write whose loss a crash recovery repairs (a file's final mark,
        ``intake/receive.py``), it saves a whole transaction (on PostgreSQL BEGIN, the write lock,
        the audit head and COMMIT: four round trips). Also run before any read (``read``), so this
        process always reads its own writes, before this worker's claims on inbox files are let go
        (``claims.py``: another worker's recovery skips a file only while it is claimed) and at dispose."""
        with self._deferred_lock:
            self._deferred.append((threading.get_ident(), write))

    def flush(self, *, every_thread: bool = False) -> None:
        """Commit this thread's deferred writes now, if there are any (not from inside a write
        transaction of this thread: that one ran them already, and a second writer would wait for it
        for ever). ``every_thread``: every thread's (at dispose)."""
        if self._deferred and not getattr(self._writing, "depth", 0):
            taken = self._take_deferred(every_thread=every_thread)
            if taken:
                with contextmanager(self._begin)(taken):
                    pass

    def _take_deferred(self, *, every_thread: bool = False) -> list:
        # Only this thread's: another thread's write must not ride on (and be waited for through)
        # a transaction of this one, nor be flushed by it while its own thread thinks it pending.
        if not self._deferred:
            return []
        me = threading.get_ident()
        with self._deferred_lock:
            taken = [e for e in self._deferred if every_thread or e[0] == me]
            self._deferred = [e for e in self._deferred if not (every_thread or e[0] == me)]
        return taken

    def _put_back(self, taken: list) -> None:
        if taken:
            with self._deferred_lock:
                self._deferred[:0] = taken

    @property
    def workers(self):
        """Claims, leases and the leader lock of this worker (see ``record/claims.py``)."""
        if self._workers is None:
            self._workers = Workers(self, lease_seconds=self.lease_seconds)
        return self._workers

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading, in autocommit on both backends: each statement sees its own
        snapshot (READ COMMITTED on PostgreSQL, WAL on SQLite), no BEGIN or ROLLBACK is sent and,
        on SQLite, no write lock is taken (see the begin hook in ``_sqlite_setup``)."""
        with self._connect(isolation_level="AUTOCOMMIT", sqlite_option=_READER) as conn:
            yield conn

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A connection whose reads all see one moment of the store, for a reader whose statements
        must agree with each other while workers write (``audit verify`` compares the chain with the
        tables: read at two moments, a file taken in between would look like tampering). REPEATABLE
        READ on PostgreSQL, a deferred BEGIN under WAL on SQLite; neither waits for a writer."""
        with self._connect(isolation_level="REPEATABLE READ", sqlite_option=_SNAPSHOT) as conn, conn.begin():
            yield conn

    @contextmanager
    def _connect(self, *, isolation_level: str, sqlite_option: str) -> Iterator[Connection]:
        # This process's deferred writes first: it always reads its own writes.
        self.flush()
        with self.engine.connect() as conn:
            if self.is_shared:
                yield conn.execution_options(isolation_level=isolation_level)
            else:
                yield conn.execution_options(**{sqlite_option: True})

    def now(self) -> datetime:
        return self.clock.now()

    # --- schema ------------------------------------------------------------

    def version(self) -> int:
        if not inspect(self.engine).has_table("schema_version"):
            return 0
        with self.read() as conn:
            return conn.execute(select(s.schema_version.c.version).order_by(s.schema_version.c.version.desc())).scalar() or 0

    def upgrade(self, target: int = CURRENT_VERSION) -> list[str]:
        """Apply every named step above the store's version, each in its own transaction.

        On PostgreSQL under a session advisory lock: workers starting together upgrade once."""
        if not self.is_shared:
            return self._upgrade(target)
        with self.engine.connect() as lock:
            lock.execute(select(func.pg_advisory_lock(UPGRADE_LOCK)))
            lock.commit()
            try:
                return self._upgrade(target)
            finally:
                lock.execute(select(func.pg_advisory_unlock(UPGRADE_LOCK)))
                lock.commit()

    def _upgrade(self, target: int) -> list[str]:
        applied = []
        self._ready = False
        current = self.version()
        if current > CURRENT_VERSION:
            raise StoreError(f"数据库版本 {current} 比本程序支持的 {CURRENT_VERSION} 新,请升级 OfficeFlow。")
        for version, name, step in MIGRATIONS:
            if current < version <= target:
                with self.begin() as conn:
                    step(conn)
                    conn.execute(s.schema_version.insert().values(version=version, name=name, applied_at=self.now()))
                applied.append(name)
        self._ready = max(current, target) >= CURRENT_VERSION
        return applied

    def dispose(self) -> None:
        try:
            self.flush(every_thread=True)
        except Exception as exc:  # the database is gone: recovery finishes the work on the next start
            log.warning("关闭数据库前未能补记已完成的工作(下次启动时补上):%s", exc)
        if self._workers is not None:
            self._workers.close()
            self._workers = None
        self.engine.dispose()


def open_store(url: str, clock: Clock | None = None, *, lease_seconds: float = 60.0) -> Store:
    store = Store(url, clock, lease_seconds=lease_seconds)
    try:
        store.upgrade()
    except BaseException:
        store.dispose()
        raise
    return store


def next_number(conn: Connection, name: str, period: str) -> int:
    """The next value of a gap-free counter, inside the caller's transaction.

    Gap-free because the increment commits or rolls back with the work that uses it; one
    at a time because the counter row stays locked by the increment until then. One statement:
    ``INSERT … ON CONFLICT DO UPDATE SET value = value + 1 RETURNING value`` makes the row at 1
    or moves it on, so two first numbers cannot race either.
    """
    return conn.execute(_next_number_statement(conn.dialect.name), {"name": name, "period": period}).scalar_one()


@lru_cache(maxsize=4)
def _next_number_statement(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as maker  # on PostgreSQL only: SQLite never loads it
    else:
        maker = sqlite_insert
    stmt = maker(s.counters).values(name=bindparam("name"), period=bindparam("period"), value=1)
    return stmt.on_conflict_do_update(index_elements=[s.counters.c.name, s.counters.c.period],
                                      set_={"value": s.counters.c.value + 1}).returning(s.counters.c.value)


def sql(text_: str):
    return text(text_)

"""The embedded store: engine, transactions, versioned schema.

SQLite in WAL mode by default; the URL comes from ``officeflow.toml`` so a shared
PostgreSQL can replace it without code changes. Every state change happens in
one transaction opened with :meth:`Store.begin`.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import create_engine, event, inspect, select, text
from sqlalchemy.engine import Connection, Engine

from automation.clock import Clock
from automation.errors import StoreError
from automation.record import schema as s

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


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "intake: submissions and audit log", _m1_intake),
    (2, "cases, approvals, numbering, records and registers", _m2_cases_and_records),
    (3, "last good policies kept in the store", _m3_policy_versions),
    (4, "applicant side: receipts, withdraw and remind requests, mail outbox", _m4_applicant_side),
    (5, "approver actions: 转交, 加签, 退回到, automatic approvals, why each step", _m5_approver_actions),
    (6, "form registers declared in specs, loans, customer status history", _m6_form_registers_loans_customer_state),
    (7, "complaints: reopen count and the day the clocks restarted", _m7_complaint_reopens),
]
CURRENT_VERSION = MIGRATIONS[-1][0]


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
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class Store:
    def __init__(self, url: str, clock: Clock | None = None):
        self.url = url
        self.clock = clock or Clock()
        if url.startswith("sqlite:///"):
            Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
            _sqlite_setup(self.engine)
        else:
            self.engine = create_engine(url, pool_pre_ping=True)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: committed on success, rolled back on any exception."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def now(self) -> datetime:
        return self.clock.now()

    # --- schema ------------------------------------------------------------

    def version(self) -> int:
        if not inspect(self.engine).has_table("schema_version"):
            return 0
        with self.read() as conn:
            return conn.execute(select(s.schema_version.c.version).order_by(s.schema_version.c.version.desc())).scalar() or 0

    def upgrade(self, target: int = CURRENT_VERSION) -> list[str]:
        """Apply every named step above the store's version, each in its own transaction."""
        applied = []
        current = self.version()
        if current > CURRENT_VERSION:
            raise StoreError(f"数据库版本 {current} 比本程序支持的 {CURRENT_VERSION} 新,请升级 OfficeFlow。")
        for version, name, step in MIGRATIONS:
            if current < version <= target:
                with self.begin() as conn:
                    step(conn)
                    conn.execute(s.schema_version.insert().values(version=version, name=name, applied_at=self.now()))
                applied.append(name)
        return applied

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(url: str, clock: Clock | None = None) -> Store:
    store = Store(url, clock)
    store.upgrade()
    return store


def next_number(conn: Connection, name: str, period: str) -> int:
    """The next value of a gap-free counter, inside the caller's transaction.

    Gap-free because the increment commits or rolls back with the work that uses it.
    """
    row = conn.execute(
        select(s.counters.c.value).where(s.counters.c.name == name, s.counters.c.period == period).with_for_update()
    ).first()
    if row is None:
        conn.execute(s.counters.insert().values(name=name, period=period, value=1))
        return 1
    value = row.value + 1
    conn.execute(
        s.counters.update().where(s.counters.c.name == name, s.counters.c.period == period).values(value=value)
    )
    return value


def sql(text_: str):
    return text(text_)

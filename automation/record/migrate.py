"""``officeflow store migrate --to URL``: copy a whole store into another, empty one, and prove it.

Typically SQLite → PostgreSQL when a workspace outgrows one worker; the same copy works the
other way (PostgreSQL → a SQLite file) for a self-contained backup. Every table is copied
as stored — raw values, not re-encoded, so the audit chain hashes exactly the same text —
in foreign-key order, in batches; PostgreSQL's id sequences are then moved past the copied
ids. The copy is verified before it is reported: the same number of rows in every table,
the audit chain intact on the target, with the same head as the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Column, Integer, MetaData, Table, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

from automation.errors import StoreError
from automation.record import audit
from automation.record import schema as s
from automation.record.store import Store

# Not copied: the target keeps its own schema history, and claims belong to running workers.
SKIPPED = ("schema_version", "claims")
BATCH = 500


@dataclass
class MigrateReport:
    tables: dict[str, int] = field(default_factory=dict)  # table → rows copied
    entries: int = 0  # audit chain entries, verified on the target
    head: str = audit.GENESIS

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def to_dict(self) -> dict:
        return {"tables": self.tables, "rows": self.rows, "audit_entries": self.entries, "audit_head": self.head}


def _raw(table: Table) -> Table:
    """The table with its storage types (no Money, no AwareDateTime decoding): values pass as stored."""
    columns = [Column(c.name, c.type.impl if isinstance(c.type, TypeDecorator) else c.type) for c in table.columns]
    return Table(table.name, MetaData(), *columns)


def _tables() -> list[Table]:
    return [t for t in s.metadata.sorted_tables if t.name not in SKIPPED]


def counts(conn: Connection) -> dict[str, int]:
    return {t.name: conn.execute(select(func.count()).select_from(t)).scalar() for t in _tables()}


def copy_store(source: Store, target: Store) -> MigrateReport:
    """Copy every row of ``source`` into the empty ``target`` (both upgraded to this version) and verify."""
    if source.version() != target.version():
        raise StoreError("源数据库与目标数据库的结构版本不同,请先用同一版本的 OfficeFlow 打开两者。")
    with target.read() as conn:
        filled = {name: n for name, n in counts(conn).items() if n}
    if filled:
        shown = "、".join(f"{name}({n} 行)" for name, n in list(filled.items())[:5])
        raise StoreError(f"目标数据库不是空的:{shown}。为避免覆盖已有数据,迁移只写入空数据库;"
                         "请新建一个空数据库后再运行。")
    report = MigrateReport()
    with source.read() as src, target.begin() as dst:
        for table in _tables():
            raw = _raw(table)
            order = [raw.c[c.name] for c in table.primary_key.columns] or list(raw.columns)
            rows = src.execute(select(raw).order_by(*order)).mappings()
            copied = 0
            while True:
                batch = [dict(r) for r in rows.fetchmany(BATCH)]
                if not batch:
                    break
                dst.execute(raw.insert(), batch)
                copied += len(batch)
            report.tables[table.name] = copied
        if dst.dialect.name == "postgresql":
            _advance_sequences(dst)
    _verify(source, target, report)
    return report


def _advance_sequences(conn: Connection) -> None:
    """Copied ids were given explicitly; the next id each table hands out must come after them."""
    for table in _tables():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer) or pk[0].autoincrement is False:
            continue
        sequence = func.pg_get_serial_sequence(table.name, pk[0].name)
        highest = select(func.coalesce(func.max(pk[0]), 0) + 1).scalar_subquery()
        if conn.execute(select(sequence)).scalar() is not None:
            conn.execute(select(func.setval(sequence, highest, False)))


def _verify(source: Store, target: Store, report: MigrateReport) -> None:
    with source.read() as src, target.read() as dst:
        before, after = counts(src), counts(dst)
        head_before = audit.head(src)
        chain = audit.verify_chain(dst)
        head_after = audit.head(dst)
    wrong = [f"{name}(源 {before[name]} 行,目标 {after.get(name)} 行)" for name in before if before[name] != after.get(name)]
    if wrong:
        raise StoreError(f"迁移后行数不一致:{'、'.join(wrong)}。目标数据库的内容不完整,请勿使用,删除后重新迁移。")
    if not chain.ok:
        raise StoreError(f"迁移后目标数据库的审计链在第 {chain.broken_at} 条记录处校验失败:{chain.reason}。请勿使用该数据库。")
    if head_after != head_before:
        raise StoreError("迁移后目标数据库审计链的末条记录与源数据库不同,请勿使用该数据库。")
    report.entries, report.head = head_after.entries, head_after.hash

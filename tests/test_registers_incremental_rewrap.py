"""A column that begins wrapping re-encodes only the rows that hold a value in it (and those whose height moves).

A cell that is written carries its column's style; an empty one is left out of its row. So when a
column starts to wrap (in 我的申请, a burst's first open cases make 回执 wrap while the closed rows
before them hold no 回执), the cached rows without a value there keep their XML. The register must
still equal a full rebuild part for part and cell for cell.
"""

from __future__ import annotations

from datetime import timedelta

from support.registers import NOW, TODAY, add_case, add_task
from test_registers_incremental import NAME, _check, _render, office  # noqa: F401 (the fixture)

from automation.record import schema as s
from automation.record.registers import incremental
from automation.record.registers.render import mark_dirty

LONG = "一位名字非常非常长的审批人,用来让当前审批人这一列变宽并且需要换行显示的情况" * 2


def _add_held_by(store, assignee: str) -> int:
    with store.begin() as conn:
        case = add_case(conn, "BX-2027-90001", created=NOW - timedelta(hours=1))
        add_task(conn, case, assignee, due_on=TODAY + timedelta(days=2))
        mark_dirty(conn, [NAME], NOW, cases=[case])
    return case


def test_a_column_beginning_to_wrap_equals_a_full_rebuild_and_keeps_the_rows_without_a_value(office, monkeypatch):
    store, settings, tmp = office
    rewrapped, encoded_all, spliced = [], [], []
    monkeypatch.setattr(incremental, "_rewrap", lambda plan, old, columns: rewrapped.append(columns) or real_rewrap(
        plan, old, columns))
    monkeypatch.setattr(incremental, "_encode_all", lambda plan: encoded_all.append(real_encode_all(plan)))

    def encode(plan, b, makers):
        spliced.append((b, len(plan.spliced.get(b, ())), len(plan.touched[b])))
        return real_encode(plan, b, makers)
    monkeypatch.setattr(incremental, "_encode", encode)

    # 当前审批人 holds a value only in the open rows (one in five): a long name makes it wrap.
    _add_held_by(store, LONG)
    assert _render(store, settings).incremental[NAME] == 1
    assert rewrapped and not encoded_all
    # Every block is touched (each holds open rows), but only its rows with a 当前审批人 are encoded again.
    assert spliced and all(0 < named * incremental.SPLICE_SHARE < rows for _, named, rows in spliced[:-1]), spliced
    _check(store, settings, tmp, "rewrapped")

    # The long name's case decided: the column stops wrapping again.
    rewrapped.clear()
    with store.begin() as conn:
        conn.execute(s.tasks.update().where(s.tasks.c.assignee == LONG).values(status="approved", decided_at=NOW))
        conn.execute(s.cases.update().where(s.cases.c.number == "BX-2027-90001").values(
            status="approved", decided_at=NOW))
        case = conn.execute(s.cases.select().where(s.cases.c.number == "BX-2027-90001")).first().id
        mark_dirty(conn, [NAME], NOW, cases=[case])
    assert _render(store, settings).incremental[NAME] == 1
    assert rewrapped and not encoded_all
    _check(store, settings, tmp, "unwrapped")


real_rewrap, real_encode_all, real_encode = incremental._rewrap, incremental._encode_all, incremental._encode

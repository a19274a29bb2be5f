"""The 看板's figures grouped by the database equal the figures counted row by row.

weekly_cases, open_by_holder and approval_time_per_step group stored times by their
written date and offset in SQL (a 50,000-case store: 0.55 → 0.19 s); a time written in
another offset than the office's (a store moved between time zones, a DST switch) makes
the row-by-row count that the dashboard always made. Both are compared here on a real
store, and the comparison is shown to catch a wrong grouping.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from support.registers import NOW, TODAY, TZ, add_case, add_task, make_store, populate

from automation.policy.workcal import WorkCalendar
from automation.record import schema as s
from automation.record.registers import dashboard
from automation.record.registers.definitions import RenderContext


def _office(store, tz=TZ) -> None:
    """Cases over five weeks and two forms, open tasks held by several people (some twice for one
    case), decided tasks over three steps, late at night and early in the morning (the day edges)."""
    populate(store)
    with store.begin() as conn:
        for i in range(160):
            created = datetime(2026, 10, 19, 0, 5, tzinfo=tz) + timedelta(days=i % 35, hours=(i * 7) % 24, minutes=i % 50)
            case = add_case(conn, f"BX-2026-S{i:04d}", form_title=("费用报销单", "借款申请单", None)[i % 3],
                            created=created, status="in_approval" if i % 4 else "approved")
            if i % 4:
                for who in ("李经理", "王经理", "李经理")[: 1 + i % 3]:
                    add_task(conn, case, who, due_on=TODAY + timedelta(days=i % 5 - 2),
                             opened=None if i % 6 == 1 else created + timedelta(hours=i % 30))
            else:
                for step in range(3):
                    opened = created + timedelta(days=step, hours=i % 9)
                    conn.execute(s.tasks.insert().values(
                        case_id=case, round=1, step_index=step, role=("部门经理", "财务", "总经理")[step], mode="依次",
                        assignee="赵总", status="approved", opened_at=opened, decided_at=opened + timedelta(hours=5 + i % 40)))


def _figures(store, ctx) -> dict:
    with store.read() as conn:
        return {t.sheet: (t.table.header, t.table.rows) for t in dashboard.dashboard_data(conn, ctx).topics}


def _row_by_row(store, ctx, monkeypatch) -> dict:
    with monkeypatch.context() as m:
        m.setattr(dashboard, "_local_days", lambda *a, **k: None)
        return _figures(store, ctx)


def _grouped(store, ctx) -> bool:
    with store.read() as conn:
        return dashboard._local_days(conn, ctx, s.cases.c.created_at, (s.cases.c.form_id,)) is not None


@pytest.fixture
def ctx():
    return RenderContext(today=TODAY, workdays_between=WorkCalendar({date(2026, 11, 2): False}).workdays_between, tz=TZ)


def test_figures_grouped_by_the_database_equal_the_row_by_row_count(tmp_path, monkeypatch, ctx):
    store = make_store(tmp_path)
    _office(store)
    assert _grouped(store, ctx)
    fast, slow = _figures(store, ctx), _row_by_row(store, ctx, monkeypatch)
    assert fast == slow
    assert len(fast["每周申请"][1]) >= 5 and fast["待办"][1] and len(fast["审批用时"][1]) == 3

    # the comparison bites: days taken in UTC instead of the office's zone move the night's cases
    with monkeypatch.context() as m:
        m.setattr(dashboard, "_offset_is_the_office_s", lambda *a: True)
        utc = RenderContext(today=TODAY, workdays_between=ctx.workdays_between, tz=ZoneInfo("UTC"))
        assert _figures(store, utc)["每周申请"] != _row_by_row(store, utc, monkeypatch)["每周申请"]


def test_times_written_in_another_offset_are_counted_row_by_row(tmp_path, monkeypatch, ctx):
    """A store whose times were written in UTC, and an office in a zone with a DST switch inside the data."""
    store = make_store(tmp_path)
    _office(store, tz=timezone.utc)
    assert not _grouped(store, ctx)
    assert _figures(store, ctx) == _row_by_row(store, ctx, monkeypatch)

    berlin = ZoneInfo("Europe/Berlin")
    other = make_store(tmp_path / "berlin", now=NOW.astimezone(berlin))
    _office(other, tz=berlin)  # 2026-10-25: Berlin leaves summer time inside these five weeks
    bctx = RenderContext(today=TODAY, workdays_between=ctx.workdays_between, tz=berlin)
    assert not _grouped(other, bctx)
    assert _figures(other, bctx) == _row_by_row(other, bctx, monkeypatch)


def test_the_grouping_and_the_rows_of_the_day_are_read_alike_on_both_backends(store_url, monkeypatch, ctx):
    """The same SQL on SQLite and PostgreSQL: grouped figures equal to the row-by-row count, and the
    cases whose 审批台账 row moves with the day."""
    from automation.clock import Clock
    from automation.record.registers.definitions import approval_day_keys
    from automation.record.store import open_store

    store = open_store(store_url, Clock(fixed=NOW))
    try:
        _office(store)
        assert _grouped(store, ctx)
        assert _figures(store, ctx) == _row_by_row(store, ctx, monkeypatch)
        with store.read() as conn:
            undecided = set(conn.execute(s.cases.select().with_only_columns(s.cases.c.id)
                                         .where(s.cases.c.decided_at.is_(None))).scalars())
            waiting = set(conn.execute(s.tasks.select().with_only_columns(s.tasks.c.case_id)
                                       .where(s.tasks.c.status == "open", s.tasks.c.due_on.is_not(None))).scalars())
            assert approval_day_keys(conn, ctx) == undecided | waiting
    finally:
        store.dispose()

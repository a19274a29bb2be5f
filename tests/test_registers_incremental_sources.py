"""合同台账 and 客户台账 rendered by change equal a full rebuild, part for part and cell for cell.

Their writers name the rows they change (registers.row_marks, tests/test_registers_row_marks.py);
behind those names, when the rows are not known, the raw values of every row are compared, block
by block, with the cache's digests (``RegisterDef.sources``), and only the rows that differ are read
and encoded. Each step here changes the store directly, names no rows (asks for the comparison) and
renders; the register is then compared with the reference writer's full rebuild of the same store.
Rows that go away, a damaged cache and ``rebuild_all`` each make a full rebuild.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support.registers import DAMAGES, NOW, TODAY, add_case, make_settings, make_store
from support.registers import damage as damage_file
from test_registers_incremental import assert_same_register

from automation.record import schema as s
from automation.record.registers import incremental
from automation.record.registers.definitions import REGISTERS, RenderContext, weekdays_between
from automation.record.registers.render import mark_dirty, rebuild_all, register_path, render_due
from automation.record.registers.writer import write_register

CONTRACTS, CUSTOMERS = "合同台账", "客户台账"
NAMES = (CONTRACTS, CUSTOMERS)
HISTORY = 150  # two blocks of rows and a part of a third
PARTIES = [f"客户{i:02d}有限公司" for i in range(40)]


def _contract(conn, n: int, party: str, status: str = "已生成") -> None:
    case_id = add_case(conn, f"HT-CASE-{n:05d}", form_title="销售合同审批表", amount=f"{1000 + n}.50")
    conn.execute(s.contracts.insert().values(
        case_id=case_id, number=f"HT-2026-{n:05d}", year=2026, customer=party, amount=Decimal(f"{1000 + n}.50"),
        signed_on=date(2026, 1 + n % 11, 1 + n % 27), delivery_on=date(2026, 12, 1), ship_due_on=date(2026, 11, 28),
        payment=("货到付款", "月结30天", "预付款")[n % 3], approved_on=date(2026, 9, 12),
        approvers=json.dumps(["李经理", "王总"][: 1 + n % 2]), status=status,
        file_path=f"outbox/contracts/HT-2026-{n:05d}.docx" if status == "已生成" else None, created_at=NOW))


def _customer(conn, name: str, n: int) -> None:
    conn.execute(s.customers.insert().values(
        name=name, norm_name=name, credit_code=f"91310000MA1K{n:06d}", grade="AB"[n % 2], owner=f"销售{n % 7}",
        department=("销售一部", "销售二部")[n % 2], credit_limit=Decimal(100000 + n * 1000), terms_days=30,
        review_due=date(2027, 1, 1), status="正常", registered_on=date(2026, 1 + n % 12, 15)))


def _receivable(conn, party: str, number: str, amount: str, kind: str) -> None:
    conn.execute(s.receivables.insert().values(customer=party, contract_number=number, amount=Decimal(amount),
                                               kind=kind, on=TODAY))


def _marked(store, change) -> None:
    with store.begin() as conn:
        change(conn)
        mark_dirty(conn, NAMES, NOW, rows={name: None for name in NAMES})  # rows unknown: compared


def _history(conn) -> None:
    for n, name in enumerate(PARTIES):
        _customer(conn, name, n)
    for n in range(1, HISTORY + 1):
        _contract(conn, n, PARTIES[n % len(PARTIES)])
        if n % 4 == 0:
            _receivable(conn, PARTIES[n % len(PARTIES)], f"HT-2026-{n:05d}", f"{1000 + n}.50", "contract")


def _render(store, settings):
    return render_due(store, settings, today=TODAY, workdays_between=weekdays_between, force=True)


def _check(store, settings, tmp_path: Path, label: str) -> None:
    ctx = RenderContext(today=TODAY)
    for name in NAMES:
        folder = tmp_path / f"ref-{label}-{name}"
        folder.mkdir()
        with store.read() as conn:
            rows = REGISTERS[name].rows(conn, ctx)
        reference = folder / f"{name}.xlsx"
        write_register(reference, REGISTERS[name], rows, rendered_at=ctx.local(store.now()))
        assert_same_register(register_path(settings.registers, name), reference)


@pytest.fixture
def office(tmp_path):
    root = tmp_path / "ws"
    store = make_store(root)
    settings = make_settings(root)
    _marked(store, _history)
    first = _render(store, settings)
    assert first.rendered[CONTRACTS] == HISTORY and first.rendered[CUSTOMERS] == len(PARTIES)
    assert not set(NAMES) & set(first.incremental)  # no cache yet: in full
    return store, settings, tmp_path


def test_new_changed_and_receipted_rows_equal_a_full_rebuild(office):
    store, settings, tmp = office
    _marked(store, lambda conn: _contract(conn, HISTORY + 1, PARTIES[3], status="待生成"))
    result = _render(store, settings)
    assert result.incremental == {CONTRACTS: 1, CUSTOMERS: 0}
    _check(store, settings, tmp, "new")

    def made(conn):  # the document made: 状态 and 文件 change, no mark names the row
        conn.execute(s.contracts.update().where(s.contracts.c.number == f"HT-2026-{HISTORY + 1:05d}").values(
            status="已生成", file_path="outbox/contracts/x.docx"))
        conn.execute(s.contracts.update().where(s.contracts.c.id == 70).values(status="生成失败"))
    _marked(store, made)
    assert _render(store, settings).incremental == {CONTRACTS: 2, CUSTOMERS: 0}
    _check(store, settings, tmp, "made")

    def receipt(conn):  # 回款 on an early contract: its 已回款 and its customer's move
        _receivable(conn, PARTIES[4], "HT-2026-00004", "-300.25", "receipt")
    _marked(store, receipt)
    assert _render(store, settings).incremental == {CONTRACTS: 1, CUSTOMERS: 1}
    _check(store, settings, tmp, "receipt")

    def status(conn):  # 客户状态变更: the status and its history
        conn.execute(s.customers.update().where(s.customers.c.name == PARTIES[9]).values(status="黑名单"))
        conn.execute(s.customer_status_history.insert().values(
            customer=PARTIES[9], old_status="正常", new_status="黑名单", number="KB-202611-0001", reason="逾期", on=TODAY))
        _customer(conn, "新登记的客户有限公司", 99)
    _marked(store, status)
    assert _render(store, settings).incremental == {CONTRACTS: 0, CUSTOMERS: 2}
    _check(store, settings, tmp, "status")

    def wider(conn):  # a much longer name: the column widens or wraps, every block is encoded again
        conn.execute(s.contracts.update().where(s.contracts.c.id == 2).values(customer="很长" * 40 + "有限公司"))
    _marked(store, wider)
    assert _render(store, settings).incremental[CONTRACTS] == 1
    _check(store, settings, tmp, "wider")


def test_a_row_that_goes_away_means_a_full_rebuild(office):
    store, settings, tmp = office

    def gone(conn):
        conn.execute(s.contracts.delete().where(s.contracts.c.id == 5))
    _marked(store, gone)
    result = _render(store, settings)
    assert CONTRACTS not in result.incremental and result.rendered[CONTRACTS] == HISTORY - 1
    _check(store, settings, tmp, "gone")
    _marked(store, lambda conn: _contract(conn, HISTORY + 2, PARTIES[0]))
    assert _render(store, settings).incremental[CONTRACTS] == 1  # the rebuild left a good cache
    _check(store, settings, tmp, "gone-then")


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_cache_means_a_full_rebuild(office, damage):
    store, settings, tmp = office
    damage_file(incremental.cache_path(settings.state, CONTRACTS), damage)
    _marked(store, lambda conn: _contract(conn, HISTORY + 3, PARTIES[1]))
    assert CONTRACTS not in _render(store, settings).incremental
    _check(store, settings, tmp, damage)


def test_rebuild_all_sets_the_caches_aside(office):
    store, settings, tmp = office
    _marked(store, lambda conn: _receivable(conn, PARTIES[8], "HT-2026-00008", "-8.00", "receipt"))
    result = rebuild_all(store, settings, today=TODAY, workdays_between=weekdays_between)
    assert not set(NAMES) & set(result.incremental)
    with store.read() as conn:
        assert result.rendered[CONTRACTS] == conn.execute(select(func.count()).select_from(s.contracts)).scalar()
    _check(store, settings, tmp, "rebuilt")

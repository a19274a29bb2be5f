from datetime import datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest
from support.registers import NOW, TODAY, cell_rows, make_settings, make_store, populate

from automation.errors import RegisterLockedError
from automation.record import schema as s
from automation.record.registers.definitions import REGISTERS, weekdays_between
from automation.record.registers.render import (
    mark_dirty,
    pending,
    rebuild_all,
    register_path,
    registers_for_tables,
    render_due,
)
from automation.record.registers.writer import write_register

CONTRACTS = "合同台账"


def _render(store, settings, **kw):
    return render_due(store, settings, today=TODAY, workdays_between=weekdays_between, **kw)


def _add_contract(store, number: str, amount: str) -> None:
    with store.begin() as conn:
        case_id = conn.execute(s.cases.insert().values(
            number=f"C-{number}", form_id="contract", status="approved", round=1, data="{}", fingerprint="0" * 64,
            created_at=NOW, updated_at=NOW)).inserted_primary_key[0]
        conn.execute(s.contracts.insert().values(case_id=case_id, number=number, year=2026, customer="新客户",
                                                 amount=Decimal(amount), status="已生成", created_at=NOW))
        mark_dirty(conn, registers_for_tables({"contracts"}), store.now())


def _numbers(path) -> list[str]:
    ws = openpyxl.load_workbook(path)[CONTRACTS]
    return [r[0].value for r in cell_rows(ws)]


@pytest.fixture
def office(tmp_path):
    store = make_store(tmp_path)
    populate(store)
    settings = make_settings(tmp_path, register_writing={"coalesce_seconds": 3.0, "retry_max_seconds": 60.0})
    rebuild_all(store, settings, today=TODAY, workdays_between=weekdays_between)
    return store, settings


def test_only_touched_registers_render_and_only_after_the_coalescing_delay(office):
    store, settings = office
    _add_contract(store, "HT-NEW-1", "10.00")
    _add_contract(store, "HT-NEW-2", "20.00")
    assert _render(store, settings).rendered == {}  # still inside the 3 s window
    store.clock.fixed = NOW + timedelta(seconds=3)
    rendered = _render(store, settings).rendered
    # The dashboard shows contracts by month, so it is touched too; no other register is.
    assert set(rendered) == {CONTRACTS, "看板"} and rendered[CONTRACTS] == 8
    assert _render(store, settings).rendered == {}


def test_register_locked_by_excel_is_retried_and_becomes_current_with_no_row_lost(office):
    store, settings = office
    path = register_path(settings.registers, CONTRACTS)
    path.unlink()
    path.mkdir()  # os.replace cannot overwrite a non-empty directory, even as root
    (path / "held").write_text("lock")
    _add_contract(store, "HT-NEW-1", "10.00")
    store.clock.fixed = NOW + timedelta(seconds=5)
    result = _render(store, settings)
    assert CONTRACTS in result.pending and set(result.rendered) <= {"看板"}  # the dashboard is not locked
    [state] = pending(store)
    assert state["name"] == CONTRACTS and state["attempts"] == 1 and state["last_error"]
    _add_contract(store, "HT-NEW-2", "20.00")  # arrives while the file is locked
    store.clock.fixed = NOW + timedelta(seconds=6)
    assert _render(store, settings).rendered == {}  # backing off, nothing else waits
    (path / "held").unlink()
    path.rmdir()
    store.clock.fixed = NOW + timedelta(seconds=8)
    rendered = _render(store, settings).rendered
    assert rendered[CONTRACTS] == 8 and set(rendered) <= {CONTRACTS, "看板"}
    assert _numbers(path)[-2:] == ["HT-NEW-1", "HT-NEW-2"]
    assert pending(store) == []
    assert not list(path.parent.glob("*.tmp"))


def test_back_off_doubles_and_is_capped(office):
    store, settings = office
    path = register_path(settings.registers, CONTRACTS)
    path.unlink()
    path.mkdir()
    (path / "held").write_text("lock")
    _add_contract(store, "HT-NEW-1", "10.00")
    for _ in range(8):
        store.clock.fixed = store.clock.fixed + timedelta(seconds=61)
        _render(store, settings)
    state = pending(store)[0]
    wait = datetime.fromisoformat(state["next_try_at"]) - store.clock.fixed
    assert state["attempts"] == 8 and wait == timedelta(seconds=60)


def test_locked_target_raises_and_keeps_the_old_file_and_no_temp(tmp_path):
    path = tmp_path / f"{CONTRACTS}.xlsx"
    path.mkdir()
    (path / "held").write_text("lock")
    with pytest.raises(RegisterLockedError) as err:
        write_register(path, REGISTERS[CONTRACTS], [], rendered_at=NOW.replace(tzinfo=None))
    assert err.value.code == "register-locked" and "数据已安全保存" in err.value.message
    assert (path / "held").read_text() == "lock"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


class _Crashing(list):
    """Rows that fail half-way, as a render killed in the middle would."""

    def __iter__(self):
        for i, row in enumerate(list.__iter__(self)):
            if i == len(self) // 2:
                raise RuntimeError("killed half-way")
            yield row


def test_render_interrupted_half_way_leaves_previous_register_intact(office):
    store, settings = office
    path = register_path(settings.registers, CONTRACTS)
    before = path.read_bytes()
    with store.read() as conn:
        from automation.record.registers.definitions import RenderContext
        rows = REGISTERS[CONTRACTS].rows(conn, RenderContext(today=TODAY))
    with pytest.raises(RuntimeError):
        write_register(path, REGISTERS[CONTRACTS], _Crashing(rows * 50), rendered_at=NOW.replace(tzinfo=None))
    assert path.read_bytes() == before
    assert len(_numbers(path)) == 6
    assert not list(path.parent.glob("*.tmp"))


def test_mark_dirty_keeps_the_first_mark_of_a_burst(office):
    store, settings = office
    with store.begin() as conn:
        mark_dirty(conn, [CONTRACTS], NOW)
        mark_dirty(conn, [CONTRACTS], NOW + timedelta(seconds=2))
    assert pending(store)[0]["since"] == NOW.isoformat()

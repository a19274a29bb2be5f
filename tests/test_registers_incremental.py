"""审批台账 rendered incrementally equals a full rebuild, part for part and cell for cell.

The store is real (SQLite); each step changes it the way the pipeline does (cases
added, decided, reminded, a name that widens a column, the next day), marks the
rows (``mark_dirty(..., cases=…)``) and renders; the register is then compared
with a full rebuild of the same store by the reference writer
(``writer.write_register``, the path every register took before): every part of
the package byte for byte, and every cell of every sheet through openpyxl (value,
number format, font, fill, alignment), tables, defined names, print areas,
conditional formats, widths and heights. A damaged, missing, stale or foreign
cache makes a full rebuild, and a crash between the cache and the register leaves
the previous register whole.
"""

from __future__ import annotations

import itertools
import shutil
import zipfile
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from support.registers import DAMAGES, NOW, TODAY, TZ, add_case, add_task, make_settings, make_store
from support.registers import damage as damage_file
from support.registers import drift

from automation.record import audit
from automation.record import schema as s
from automation.record.registers import incremental
from automation.record.registers.definitions import REGISTERS, RenderContext, weekdays_between
from automation.record.registers.render import mark_dirty, register_path, render_due
from automation.record.registers.writer import write_register

NAME = "审批台账"
REGISTER = REGISTERS[NAME]
HISTORY = 300  # a block of rows and a part of a second


def _history(store) -> None:
    with store.begin() as conn:
        for i in range(HISTORY):
            created = NOW - timedelta(days=3 + i % 200, hours=i % 7)
            open_case = i % 5 == 0
            case = add_case(conn, f"BX-2026-{i:05d}", status="in_approval" if open_case else "approved",
                            applicant=f"员工{i % 37}", department=("销售一部", "财务部", "行政部")[i % 3],
                            amount=f"{(i * 37) % 5000}.{i % 100:02d}", created=created,
                            decided=None if open_case else created + timedelta(days=2))
            if open_case:
                add_task(conn, case, "李经理", due_on=(NOW - timedelta(days=1 - i % 3)).date())
        mark_dirty(conn, [NAME], NOW)


def _render(store, settings, today=TODAY):
    return render_due(store, settings, today=today, workdays_between=weekdays_between, force=True)


def _reference(store, settings, folder: Path, today=TODAY) -> Path:
    """The full rebuild of the same store, by the reference writer, with the same 说明 line."""
    ctx = RenderContext(today=today)
    path = folder / f"{NAME}.xlsx"
    with store.read() as conn:
        rows = REGISTER.rows(conn, ctx)
        anchor = audit.register_anchor_text(conn, register_path(settings.registers, NAME))
    write_register(path, REGISTER, rows, rendered_at=ctx.local(store.now()), anchor=anchor)
    return path


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None  # every entry's CRC checks
        return {name: zf.read(name) for name in zf.namelist() if name != "docProps/core.xml"}  # (its clock)


def _cell_facts(cell) -> tuple:
    return (cell.value, cell.number_format, cell.font.b, cell.font.i, cell.font.color and cell.font.color.rgb,
            cell.fill.fgColor.rgb, cell.alignment.wrap_text, cell.alignment.vertical, cell.style_id)


def _sheet_facts(ws) -> dict:
    return {
        "cells": [[_cell_facts(c) for c in row] for row in ws.iter_rows()],
        "tables": {name: (ws.tables[name].ref, ws.tables[name].totalsRowCount,
                          [(c.name, c.totalsRowFunction, c.totalsRowLabel) for c in ws.tables[name].tableColumns])
                   for name in ws.tables},
        "print": (ws.print_area, ws.print_title_rows, ws.page_setup.orientation, ws.page_setup.fitToWidth),
        "conditional": [(str(rng.sqref), [r.formula for r in rules]) for rng, rules in ws.conditional_formatting._cf_rules.items()],
        "widths": {k: d.width for k, d in ws.column_dimensions.items()},
        "heights": {k: d.height for k, d in ws.row_dimensions.items() if d.height},
        "merged": sorted(str(m) for m in ws.merged_cells.ranges), "freeze": ws.freeze_panes,
        "dimensions": ws.dimensions,
    }


def assert_same_register(ours: Path, reference: Path) -> None:
    a, b = _parts(ours), _parts(reference)
    assert sorted(a) == sorted(b)
    for name in a:
        if a[name] != b[name]:
            at = next((i for i, (x, y) in enumerate(zip(a[name], b[name])) if x != y), min(len(a[name]), len(b[name])))
            raise AssertionError(f"part {name} differs near byte {at}: {a[name][at - 120:at + 60]!r} "
                                 f"against {b[name][at - 120:at + 60]!r}")
    wa, wb = openpyxl.load_workbook(ours), openpyxl.load_workbook(reference)
    assert wa.sheetnames == wb.sheetnames
    assert {n: str(d.value) for n, d in wa.defined_names.items()} == {n: str(d.value) for n, d in wb.defined_names.items()}
    for sheet in wa.sheetnames:
        assert _sheet_facts(wa[sheet]) == _sheet_facts(wb[sheet]), sheet


@pytest.fixture
def office(tmp_path):
    root = tmp_path / "ws"
    store = make_store(root)
    settings = make_settings(root)
    _history(store)
    first = _render(store, settings)
    assert first.rendered[NAME] == HISTORY and NAME not in first.incremental  # no cache yet: in full
    assert incremental.cache_path(settings.state, NAME).exists()
    return store, settings, tmp_path


_NUMBERS = itertools.count(1)


def _add(store, count: int, **kw) -> list[int]:
    with store.begin() as conn:
        ids = [add_case(conn, f"BX-2027-{next(_NUMBERS):05d}", created=NOW - timedelta(hours=1 + n), **kw)
               for n in range(count)]
        for case in ids:
            add_task(conn, case, "王经理", due_on=TODAY + timedelta(days=2))
        mark_dirty(conn, [NAME], NOW, cases=ids)
    return ids


def _decide(store, case_id: int, status: str = "approved") -> None:
    with store.begin() as conn:
        conn.execute(s.cases.update().where(s.cases.c.id == case_id).values(status=status, decided_at=NOW))
        conn.execute(s.tasks.update().where(s.tasks.c.case_id == case_id).values(status=status, decided_at=NOW))
        mark_dirty(conn, [NAME], NOW, cases=[case_id])


def _remind(store, case_id: int) -> None:
    with store.begin() as conn:
        conn.execute(s.applicant_requests.insert().values(kind="remind", person="员工1", case_id=case_id,
                                                          file="x.xlsx", file_hash="0" * 64, on=TODAY, at=NOW,
                                                          accepted=True))
        mark_dirty(conn, [NAME], NOW, cases=[case_id])


def _check(store, settings, tmp_path: Path, label: str, today=TODAY) -> None:
    folder = tmp_path / f"ref-{label}"
    folder.mkdir()
    assert_same_register(register_path(settings.registers, NAME), _reference(store, settings, folder, today))


def test_adds_changes_a_wider_column_reminders_and_the_next_day_equal_a_full_rebuild(office):
    store, settings, tmp = office
    added = _add(store, 3)
    result = _render(store, settings)
    assert result.incremental[NAME] == 3 and result.rendered[NAME] == HISTORY + 3
    _check(store, settings, tmp, "add")

    _decide(store, 1)  # the first block: an open case decided
    _decide(store, added[0], "rejected")  # a row of the last block
    _decide(store, 200, "returned")  # a block in the middle
    assert _render(store, settings).incremental[NAME] == 3
    _check(store, settings, tmp, "decide")

    _remind(store, 6)
    _remind(store, 6)
    assert _render(store, settings).incremental[NAME] == 1
    _check(store, settings, tmp, "remind")

    # A longer 表单 widens its column, no more: only the frame's widths change, the cached rows stay.
    _add(store, 1, form_title="费用报销单(补充说明)")
    assert _render(store, settings).incremental[NAME] == 1
    _check(store, settings, tmp, "widened")

    # A long name widens (and wraps) a column: every block is encoded again, from the cache.
    _add(store, 1, applicant="一位名字非常非常长的申请人,用来让申请人这一列变宽并且需要换行显示的情况" * 2)
    assert _render(store, settings).incremental[NAME] == 1
    _check(store, settings, tmp, "wider")

    # 256 rows at once: one block filled, the next begun.
    _add(store, 256)
    assert _render(store, settings).incremental[NAME] == 256
    _check(store, settings, tmp, "block")

    # The next day: 已用工作日 and 是否超时 of open cases change: the open cases are read again (and the
    # marked ones), the rest is kept; then increments again.
    tomorrow = TODAY + timedelta(days=1)
    with store.begin() as conn:
        mark_dirty(conn, [NAME], NOW, cases=[1])
        open_cases = set(conn.execute(select(s.cases.c.id).where(s.cases.c.decided_at.is_(None))).scalars())
    result = _render(store, settings, tomorrow)
    assert result.incremental[NAME] == len(open_cases | {1}) < HISTORY + 261 == result.rendered[NAME]
    _check(store, settings, tmp, "tomorrow", tomorrow)
    _decide(store, 11)
    assert _render(store, settings, tomorrow).incremental[NAME] == 1
    _check(store, settings, tmp, "tomorrow-decide", tomorrow)
    # Three days on (tasks due today and in two days now late), a case decided that day, unmarked days skipped.
    later = TODAY + timedelta(days=4)
    _decide(store, 16)
    result = _render(store, settings, later)
    assert NAME in result.incremental
    _check(store, settings, tmp, "later", later)


def test_the_day_s_rows_kept_by_change_are_those_a_query_over_every_row_gives(office):
    """On the cache's day the rows depending on the day are kept by change (the changed rows alone
    are asked): after cases added, decided and given a task with a due date, the list is the full query's."""
    store, settings, tmp = office
    added = _add(store, 3)
    _decide(store, 1)
    _decide(store, added[0])
    with store.begin() as conn:
        add_task(conn, 2, "钱经理", due_on=TODAY + timedelta(days=3))  # a decided case with a task still open
        mark_dirty(conn, [NAME], NOW, cases=[2])
    assert NAME in _render(store, settings).incremental
    with store.read() as conn:
        generation = conn.execute(select(s.register_state.c.generation).where(s.register_state.c.name == NAME)).scalar()
        expected = sorted(REGISTER.day_keys(conn, RenderContext(today=TODAY)))
    cache = incremental.load(incremental.cache_path(settings.state, NAME),
                             incremental.identity(REGISTER, RenderContext(today=TODAY)), generation)
    assert cache.day_keys == expected and 1 not in expected and {2, added[1]} <= set(expected)


def test_a_day_s_rows_are_read_again_even_when_they_no_longer_look_open(office):
    """A case open yesterday whose row was changed in the store without a mark (the cache's own list of
    yesterday's open rows brings it back), and a decided case with a task still open (due dates look on)."""
    store, settings, tmp = office
    with store.begin() as conn:  # not marked: only the cache's list of the day's rows names it
        conn.execute(s.cases.update().where(s.cases.c.id == 1).values(status="approved", decided_at=NOW))
        conn.execute(s.tasks.update().where(s.tasks.c.case_id == 1).values(status="approved"))
        conn.execute(s.cases.update().where(s.cases.c.id == 2).values(status="approved", decided_at=NOW))
        add_task(conn, 2, "钱经理", due_on=TODAY)  # late from tomorrow on
        mark_dirty(conn, [NAME], NOW, cases=[3])  # something else marked the register
    tomorrow = TODAY + timedelta(days=1)
    assert NAME in _render(store, settings, tomorrow).incremental
    _check(store, settings, tmp, "reread", tomorrow)


def test_more_rows_of_the_day_than_an_increment_takes_means_a_full_rebuild(office, monkeypatch):
    store, settings, tmp = office
    monkeypatch.setattr(incremental, "MAX_CHANGED", 10)  # the history has 60 open cases
    with store.begin() as conn:
        mark_dirty(conn, [NAME], NOW, cases=[3])
    tomorrow = TODAY + timedelta(days=1)
    assert NAME not in _render(store, settings, tomorrow).incremental
    _check(store, settings, tmp, "many", tomorrow)
    _add(store, 1)
    assert _render(store, settings, tomorrow).incremental[NAME] == 1  # the same day again: increments
    _check(store, settings, tmp, "many-then", tomorrow)


def test_a_drifted_cache_row_is_caught_by_the_comparison(office):
    """The comparison fails when the cached rows drift from the store (here: one cached value edited)."""
    store, settings, tmp = office
    path = incremental.cache_path(settings.state, NAME)
    with store.read() as conn:
        generation = conn.execute(select(s.register_state.c.generation).where(s.register_state.c.name == NAME)).scalar()
    drift(path, incremental.identity(REGISTER, RenderContext(today=TODAY)), generation, block=1, row=3)
    _add(store, 1)
    # The store's rows for block 1 were not re-read, so the edited block is written as cached (empty).
    assert _render(store, settings).incremental[NAME] == 1
    with pytest.raises(AssertionError):
        _check(store, settings, tmp, "drift")


def _mark_and_render(store, settings) -> dict:
    _add(store, 2)
    return _render(store, settings).incremental


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_missing_or_damaged_cache_means_a_full_rebuild(office, damage):
    store, settings, tmp = office
    damage_file(incremental.cache_path(settings.state, NAME), damage)
    assert NAME not in _mark_and_render(store, settings)
    _check(store, settings, tmp, damage)
    assert NAME in _mark_and_render(store, settings)  # the rebuild left a good cache
    _check(store, settings, tmp, damage + "-again")


def test_a_stale_cache_from_an_earlier_render_means_a_full_rebuild(office):
    store, settings, tmp = office
    path = incremental.cache_path(settings.state, NAME)
    old = path.read_bytes()
    assert NAME in _mark_and_render(store, settings)
    path.write_bytes(old)  # the cache of the render before: the rows of the last render are not in it
    assert NAME not in _mark_and_render(store, settings)
    _check(store, settings, tmp, "stale")


def test_a_foreign_cache_means_a_full_rebuild(office, tmp_path):
    store, settings, tmp = office
    other_root = tmp_path / "other"
    other = make_store(other_root)
    other_settings = make_settings(other_root)
    _history(other)
    _add(other, 5)
    _render(other, other_settings)
    shutil.copy(incremental.cache_path(other_settings.state, NAME), incremental.cache_path(settings.state, NAME))
    generation = select(s.register_state.c.generation).where(s.register_state.c.name == NAME)
    with store.read() as mine, other.read() as theirs:  # each store counts its renders from a random start
        assert mine.execute(generation).scalar() != theirs.execute(generation).scalar()
    assert NAME not in _mark_and_render(store, settings)
    _check(store, settings, tmp, "foreign")


def test_a_copied_workspace_keeps_its_cache(office, tmp_path):
    store, settings, tmp = office
    copy = tmp_path / "copy"
    store.dispose()
    shutil.copytree(settings.root, copy)
    copied, copied_settings = make_store(copy), make_settings(copy)
    assert copied_settings.store_url != settings.store_url
    _add(copied, 2)
    assert _render(copied, copied_settings).incremental[NAME] == 2
    _check(copied, copied_settings, tmp, "copied")


def test_a_mark_without_rows_means_a_full_rebuild(office):
    store, settings, tmp = office
    _add(store, 1)
    with store.begin() as conn:
        mark_dirty(conn, [NAME], NOW)  # a caller that cannot tell which rows changed
    assert NAME not in _render(store, settings).incremental
    _check(store, settings, tmp, "unknown")


def test_rows_added_without_a_mark_are_noticed(office):
    store, settings, tmp = office
    with store.begin() as conn:
        add_case(conn, "BX-2027-SILENT")  # not marked: the count and the last key disagree with the cache
    assert NAME not in _mark_and_render(store, settings)
    _check(store, settings, tmp, "silent")


class _Killed(BaseException):
    pass


def test_killed_between_the_cache_and_the_register_leaves_the_previous_register_and_recovers(office, monkeypatch):
    store, settings, tmp = office
    register = register_path(settings.registers, NAME)
    before = _parts(register)
    _add(store, 2)

    def killed(path, save):
        raise _Killed()

    monkeypatch.setattr(incremental, "atomic_save", killed)
    with pytest.raises(_Killed):
        _render(store, settings)
    monkeypatch.undo()
    assert _parts(register) == before  # the register on disk is the previous one, whole
    # A kill -9 runs no clean-up: the claim stays taken with its rows; once its lease is over the
    # render is redone from the cache the killed render wrote (its generation) and the rows since.
    with store.begin() as conn:
        conn.execute(s.register_state.update().where(s.register_state.c.name == NAME).values(
            dirty=False, next_try_at=NOW - timedelta(minutes=1), row_keys=""))
        generation = conn.execute(select(s.register_state.c.generation).where(s.register_state.c.name == NAME)).scalar()
    _decide(store, 2)
    result = _render(store, settings)
    assert result.incremental[NAME] == 1  # built on the killed render's cache
    with store.read() as conn:
        assert conn.execute(select(s.register_state.c.generation).where(s.register_state.c.name == NAME)).scalar() == generation + 1
    _check(store, settings, tmp, "killed")


def test_a_register_locked_by_excel_is_retried_in_full(office, monkeypatch):
    from automation.errors import RegisterLockedError

    store, settings, tmp = office
    _add(store, 1)

    def locked(path, save):
        raise RegisterLockedError("台账正被打开", location=str(path))

    monkeypatch.setattr(incremental, "atomic_save", locked)
    assert NAME in _render(store, settings).pending
    monkeypatch.undo()
    _add(store, 1)
    result = _render(store, settings)
    assert NAME not in result.incremental and NAME in result.rendered
    _check(store, settings, tmp, "locked")


def test_crc32_combine_agrees_with_zlib():
    import zlib

    a, b = b"<row r=\"3\">" * 1000, "审批台账".encode() * 777
    assert incremental.crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)
    assert incremental.crc32_combine(zlib.crc32(a), zlib.crc32(b""), 0) == zlib.crc32(a)


@pytest.mark.parametrize("name", list(REGISTERS))
def test_the_relocated_frame_equals_the_frame_built_for_every_row(name):
    """The frame built for one row with its ranges and totals row moved equals XlsxWriter's own."""
    import io

    from automation.record.registers.layout import column_layout
    from automation.record.registers.summary import blocks_of, empty_tallies
    from automation.record.registers.writer import _build_frame, _relocated, frame

    register = REGISTERS[name]
    totals = {header: Decimal("1234.56") for header in register.totals}
    kw = dict(totals=totals, blocks=blocks_of(register, empty_tallies(register)),
              layouts=column_layout(register, []), rendered_at=datetime(2026, 11, 23, 10, 0), anchor="锚")
    for count in (0, 1, 2, 12, 13, 14, 29, 30, 1000, 65_536):
        built = frame(register, count=count, **kw)[0]
        moved = frame(register, count=count, relocate=True, **kw)[0]
        if count > 1:  # moved indeed, not built again for every row (the fallback)
            small = _build_frame(register, 1, count, kw["totals"], kw["blocks"], kw["layouts"], kw["rendered_at"], "锚")
            assert _relocated(small[0], register, 1, count) is not None, count
        with zipfile.ZipFile(io.BytesIO(built)) as a, zipfile.ZipFile(io.BytesIO(moved)) as b:
            assert a.namelist() == b.namelist()
            for part in a.namelist():
                if part != "docProps/core.xml":
                    assert a.read(part) == b.read(part), (count, part)


def test_marks_gather_the_rows_of_every_case_until_a_mark_names_none(office):
    store, settings, tmp = office
    state = select(s.register_state.c.row_keys).where(s.register_state.c.name == NAME)
    with store.begin() as conn:
        mark_dirty(conn, [NAME, "看板"], NOW, cases=[5, 3])
        mark_dirty(conn, [NAME], NOW, cases=[3, 9])
        assert conn.execute(state).scalar() == "5,3,3,9"
        mark_dirty(conn, [NAME], NOW)
        assert conn.execute(state).scalar() is None  # unknown rows: the next render is a full one
        mark_dirty(conn, [NAME], NOW, cases=[4])
        assert conn.execute(state).scalar() is None
    assert NAME not in _render(store, settings).incremental
    with store.read() as conn:
        assert conn.execute(state).scalar() == ""  # claimed: nothing marked since

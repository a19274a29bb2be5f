"""我的申请 written by change (the registers' cache) equals the sheet written whole, cell for cell.

The pipeline is real (contracts submitted, approved, returned, resubmitted), the history of a
person with hundreds of cases is put straight into the store (as an upgraded workspace has it).
After every pass the person's 我的申请 is compared with the reference — every row read again
and written whole by the registers' writer (``write_register``, what 我的申请 always was) — part
for part and cell for cell, print setup included. The next day is built on the cache by reading
the open cases again; a missing, damaged, stale or foreign cache and a failed write each fall back
to the whole sheet, and a drifted cache is caught by the comparison.
"""

from __future__ import annotations

import logging
import zipfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.e2e import CUSTOMER
from support.registers import DAMAGES
from support.registers import damage as damage_file
from support.registers import drift
from support.sheets import differences

from automation import samples
from automation.act import receipts
from automation.record import schema as s
from automation.record.registers import incremental
from automation.record.registers.writer import write_register

PERSON = "王芳"
HISTORY = 300  # more than a block of 256 rows: the passes splice into a cached block and append after it


def _sheet(office) -> Path:
    return office.outbox / "requests" / PERSON / "我的申请.xlsx"


def _reference(office, folder: Path) -> Path:
    """The whole sheet from the store, by the reference writer, at the same moment."""
    rt = office.rt
    tz = ZoneInfo(rt.settings.time.timezone)
    with rt.store.read() as conn:
        rows = receipts.my_request_rows(conn, PERSON, today=rt.clock.today(),
                                        workdays_between=rt.calendar.workdays_between, tz=tz)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "我的申请.xlsx"
    write_register(path, receipts.MY_REGISTER, rows, rendered_at=rt.clock.now().astimezone(tz).replace(tzinfo=None))
    return path


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None  # every entry's CRC checks
        return {name: zf.read(name) for name in zf.namelist() if name != "docProps/core.xml"}  # (its clock)


def assert_same_sheet(ours: Path, reference: Path) -> None:
    a, b = _parts(ours), _parts(reference)
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name] == b[name], f"part {name} differs"
    assert differences(reference, ours) == []


class Passes:
    """Runs the pipeline and tells how each pass wrote 我的申请 (the log line it leaves)."""

    def __init__(self, office, caplog, tmp_path: Path) -> None:
        self.office, self.caplog, self.tmp = office, caplog, tmp_path
        self.checked = 0

    def run(self) -> list[str]:
        self.caplog.clear()
        with self.caplog.at_level(logging.DEBUG, logger="officeflow"):
            self.office.run()
        return [r.getMessage() for r in self.caplog.records if r.getMessage().startswith(f"我的申请({PERSON})")]

    def check(self) -> None:
        self.checked += 1
        assert_same_sheet(_sheet(self.office), _reference(self.office, self.tmp / f"ref-{self.checked}"))


def _incremental(lines: list[str]) -> bool:
    assert len(lines) == 1, lines
    return "按变化更新" in lines[0]


def _history(office, count: int = HISTORY) -> None:
    """Cases of earlier years, finished before the applicant's side existed: in the store only."""
    now = office.now
    with office.rt.store.begin() as conn:
        for i in range(count):
            created = now - timedelta(days=400 - i % 300, hours=i % 7)
            status = ("approved", "rejected", "withdrawn")[i % 3]
            conn.execute(s.cases.insert().values(
                number=f"HX-2025-{i:05d}", form_id="expense", form_title="费用报销单", applicant=PERSON,
                department="销售一部", amount=Decimal(f"{(i * 37) % 5000}.{i % 100:02d}"), status=status, round=1,
                data="{}", fingerprint="0" * 64, created_at=created, updated_at=created,
                decided_at=created + timedelta(days=2)))


def _contract(office, quantity: int) -> None:
    values, items = samples.sales_contract(CUSTOMER, office.today, quantity=quantity)
    office.submit("sales_contract", values, items)


def _contracts(office) -> list[dict]:
    return [c for c in office.cases() if c["form_id"] == "sales_contract"]


@pytest.fixture
def passes(customer_office, caplog, tmp_path):
    office = customer_office
    runs = Passes(office, caplog, tmp_path)
    _contract(office, 3)
    assert _incremental(runs.run())  # the customer's own cases were cached already: one row added
    runs.check()
    _history(office)
    _contract(office, 7)
    assert not _incremental(runs.run())  # rows that came without a mark: the count disagrees, all read again
    runs.check()
    return runs


def test_passes_that_add_decide_return_and_reject_equal_the_whole_sheet(passes):
    office = passes.office
    for quantity in (9, 11):
        _contract(office, quantity)
    assert _incremental(passes.run())
    passes.check()
    first, second, third, fourth = _contracts(office)[:4]
    office.approve_all(first["number"])  # several passes: 吴强, then the next approvers
    office.decide_in_cell("吴强", "退回修改", "请补充交货地点", second["number"])
    office.decide_in_cell("吴强", "驳回", "价格 <b>&amp; _x0041_ 低于底价\n请核对", third["number"])
    assert _incremental(passes.run())
    passes.check()
    with office.rt.store.read() as conn:
        rows = {r[0]: r for r in receipts.my_request_rows(
            conn, PERSON, today=office.today, workdays_between=office.rt.calendar.workdays_between,
            tz=ZoneInfo(office.rt.settings.time.timezone))}
    assert rows[first["number"]][4] == "已通过" and rows[second["number"]][4] == "退回修改"
    assert rows[third["number"]][4] == "已驳回" and rows[fourth["number"]][4] == "审批中"
    assert rows[first["number"]][9] and len(rows) > HISTORY + 4  # its contract number


def _waited(office) -> dict[str, int | None]:
    with office.rt.store.read() as conn:
        return {r[0]: r[6] for r in receipts.my_request_rows(
            conn, PERSON, today=office.today, workdays_between=office.rt.calendar.workdays_between,
            tz=ZoneInfo(office.rt.settings.time.timezone)) if r[6] is not None}


def test_the_next_day_reads_the_open_cases_again_then_goes_on_by_change(passes):
    office = passes.office
    before = _waited(office)
    office.at(office.today + timedelta(days=1))  # 已等待工作日 of every open case moves on
    _contract(office, 17)
    lines = passes.run()
    assert _incremental(lines) and "读取 3 行" in lines[0]  # the new case and the two open ones
    passes.check()
    after = _waited(office)
    assert before and all(after[number] == waited + 1 for number, waited in before.items())
    _contract(office, 19)
    assert _incremental(passes.run())
    passes.check()


def test_a_missing_damaged_stale_or_foreign_cache_builds_the_whole_sheet(passes):
    office = passes.office
    cache = receipts._cache_file(office.rt, PERSON)
    quantities = iter(range(21, 99, 2))

    def damaged(damage: str) -> None:
        data = cache.read_bytes()
        if damage in DAMAGES:
            damage_file(cache, damage)
        elif damage == "stale":  # the cache before the last pass: the row that pass added is not in it
            _contract(office, next(quantities))
            assert _incremental(passes.run())
            cache.write_bytes(data)
        else:  # another store names its caches from another random start
            with office.rt.store.begin() as conn:
                conn.execute(s.outputs.update().where(
                    s.outputs.c.kind == receipts.GENERATION_KIND,
                    s.outputs.c.key == receipts._person_key(PERSON)).values(path="12345"))
        _contract(office, next(quantities))
        assert not _incremental(passes.run()), damage
        passes.check()

    for damage in (*DAMAGES, "stale", "foreign"):
        damaged(damage)
    _contract(office, next(quantities))
    assert _incremental(passes.run())  # the rebuild left a good cache
    passes.check()


def test_a_drifted_cache_row_is_caught_by_the_comparison(passes):
    """The comparison fails when a cached row drifts from the store (here one cached value edited)."""
    office = passes.office
    rt = office.rt
    cache_file = receipts._cache_file(rt, PERSON)
    with rt.store.read() as conn:
        generation = int(conn.execute(s.outputs.select().with_only_columns(s.outputs.c.path).where(
            s.outputs.c.kind == receipts.GENERATION_KIND, s.outputs.c.key == receipts._person_key(PERSON))).scalar())
    from automation.record.registers.definitions import RenderContext

    ctx = RenderContext(today=office.today, workdays_between=rt.calendar.workdays_between,
                        tz=ZoneInfo(rt.settings.time.timezone))
    identity = (*incremental.identity(receipts.MY_REGISTER, ctx), receipts._MY_CODE)
    drift(cache_file, identity, generation, block=0, row=5)
    _contract(office, 31)
    assert _incremental(passes.run())  # block 0 was not read again: written as cached (empty)
    with pytest.raises(AssertionError):
        passes.check()


def test_a_sheet_that_cannot_be_written_is_written_on_the_next_pass(passes):
    """The rows marked with the receipts stay marked until 我的申请 is written: open in Excel on a share
    (here: its place taken by a folder), the next pass writes them, although nothing changed since."""
    office = passes.office
    sheet = _sheet(office)
    sheet.unlink()
    sheet.mkdir()
    _contract(office, 33)
    assert passes.run() == []
    with office.rt.store.read() as conn:
        assert conn.execute(s.outputs.select().where(s.outputs.c.kind == receipts.DUE_KIND)).first() is not None
    sheet.rmdir()
    # The failed write had already left its cache, which the store does not name: the whole sheet.
    assert not _incremental(passes.run())
    passes.check()
    with office.rt.store.read() as conn:
        assert conn.execute(s.outputs.select().where(s.outputs.c.kind == receipts.DUE_KIND)).first() is None
    assert passes.run() == []  # nothing marked: nothing written

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from support.registers import (
    INJECTIONS,
    TODAY,
    cell_rows,
    make_settings,
    make_store,
    populate,
)

from automation.record.registers.definitions import REGISTERS, weekdays_between
from automation.record.registers.render import pending, rebuild_all, register_path
from automation.record.registers.writer import NUMBER_FORMATS

PY_TYPES = {"money": (int, float), "int": (int,), "decimal": (int, float), "date": (datetime,),
            "datetime": (datetime,), "text": (str,), "bool": (str,)}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("ws")
    store = make_store(root)
    populate(store)
    settings = make_settings(root)
    result = rebuild_all(store, settings, today=TODAY, workdays_between=weekdays_between)
    books = {name: openpyxl.load_workbook(register_path(settings.registers, name)) for name in REGISTERS}
    cached = {name: openpyxl.load_workbook(register_path(settings.registers, name), data_only=True)
              for name in REGISTERS}
    return store, result, books, cached


def test_every_register_is_rendered_and_nothing_is_pending(rendered):
    store, result, _, _ = rendered
    assert set(result.rendered) == set(REGISTERS) | {"看板"}
    assert result.pending == {}
    assert pending(store) == []


@pytest.mark.parametrize("name", list(REGISTERS))
def test_register_has_table_freeze_filter_and_formats(rendered, name):
    ws = rendered[2][name][name]
    reg = REGISTERS[name]
    table = ws.tables[reg.table_name]
    assert [c.name for c in table.tableColumns] == reg.headers
    assert table.autoFilter is not None and table.totalsRowCount == 1
    assert ws.freeze_panes == "A3"
    assert [c.value for c in ws[2]] == reg.headers
    assert ws["A1"].value.startswith("说明:本表由 OfficeFlow 于 2026-11-23 10:00")
    for row in cell_rows(ws):
        for col, cell in zip(reg.columns, row):
            if cell.value is not None:
                assert isinstance(cell.value, PY_TYPES[col.kind]), (col.header, cell.value)
                if col.kind in NUMBER_FORMATS:
                    assert cell.number_format == NUMBER_FORMATS[col.kind]


@pytest.mark.parametrize("name", list(REGISTERS))
def test_one_row_per_record_with_the_store_values(rendered, name):
    store, _, books, _ = rendered
    reg = REGISTERS[name]
    with store.read() as conn:
        expected = reg.rows(conn, _ctx(store))
    got = [[c.value for c in row] for row in cell_rows(books[name][name])]
    assert len(got) == len(expected)
    for want, have in zip(expected, got):
        assert [_comparable(v) for v in want] == [_comparable(v) for v in have]


def _ctx(store):
    from automation.record.registers.definitions import RenderContext
    return RenderContext(today=TODAY, workdays_between=weekdays_between, tz=store.clock.tz)


def _comparable(value):
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.replace(second=0, microsecond=0)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return Decimal(str(value)).quantize(Decimal("0.01"))
    return value


def test_approval_register_shows_chinese_status_current_approvers_and_overdue(rendered):
    rows = {r[0].value: [c.value for c in r] for r in cell_rows(rendered[2]["审批台账"]["审批台账"])}
    late = rows["BX-2026-0001"]
    assert late[6:10] == ["审批中", "李经理、王经理", 10, "是"]
    done = rows["BX-2026-0002"]
    assert done[6:11] == ["已批准", None, 3, "否", "同意"]
    assert done[11] == datetime(2026, 10, 8, 16, 0)


@pytest.mark.parametrize("name", [n for n in REGISTERS if REGISTERS[n].totals])
def test_totals_row_sums_the_rows(rendered, name):
    reg = REGISTERS[name]
    ws, cached = rendered[2][name][name], rendered[3][name][name]
    data = cell_rows(ws)
    total_row = 3 + len(data)
    assert ws.cell(total_row, 1).value == "合计"
    for header in reg.totals:
        col = reg.index(header) + 1
        want = sum(Decimal(str(r[col - 1].value)) for r in data if r[col - 1].value is not None)
        assert ws.cell(total_row, col).value.startswith("=SUBTOTAL(109,")
        assert Decimal(str(cached.cell(total_row, col).value)).quantize(Decimal("0.01")) == want


@pytest.mark.parametrize("name", list(REGISTERS))
def test_summary_sheet_matches_the_rows(rendered, name):
    reg = REGISTERS[name]
    data = [[c.value for c in r] for r in cell_rows(rendered[2][name][name])]
    blocks = _read_summary(rendered[2][name]["汇总"])
    assert [b for b in blocks] == [g.title for g in reg.groupings]
    for g in reg.groupings:
        at = reg.index(g.column)
        counts, sums = defaultdict(int), defaultdict(Decimal)
        for row in data:
            v = row[at]
            key = "(未填)" if v is None else (f"{v:%Y-%m}" if g.by_month else str(v))
            counts[key] += 1
            if reg.measure and row[reg.index(reg.measure)] is not None:
                sums[key] += Decimal(str(row[reg.index(reg.measure)]))
        lines = blocks[g.title]
        assert {k: line[0] for k, line in lines.items()} == dict(counts)
        if reg.measure:
            assert {k: Decimal(str(line[1])).quantize(Decimal("0.01")) for k, line in lines.items()} == \
                {k: v.quantize(Decimal("0.01")) for k, v in sums.items() if k in counts} | \
                {k: Decimal("0.00") for k in counts if k not in sums}


def _read_summary(ws) -> dict[str, dict]:
    blocks, current = {}, None
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=3)]
    for i, row in enumerate(rows):
        if row[0] is None:
            current = None
        elif current is None and row[1] is None:
            current = blocks.setdefault(row[0], {})
        elif current is not None and row[1] != "笔数":
            current[row[0]] = row[1:]
    return blocks


@pytest.mark.parametrize("name", list(REGISTERS))
def test_formula_injection_strings_are_written_as_text(rendered, name):
    ws = rendered[2][name][name]
    found = [c for row in ws.iter_rows(min_row=3) for c in row if c.value in INJECTIONS]
    assert {c.value for c in found} == set(INJECTIONS)
    assert all(c.data_type == "s" for c in found)


@pytest.mark.parametrize("name,flagged", [("审批台账", ["BX-2026-0001"]), ("客户台账", ["华东机电有限公司", "黑名单公司"]),
                                          ("合同台账", ["HT-2026-0002"]), ("投诉台账", ["TS-1"]),
                                          ("借款台账", ["JK-202611-0001"])])
def test_flagged_rows_are_highlighted_by_conditional_formatting(rendered, name, flagged):
    ws = rendered[2][name][name]
    rules = [(str(cf.sqref), r.formula[0]) for cf in ws.conditional_formatting for r in cf.rules]
    assert len(rules) == 1 and rules[0][0].startswith("A3:")
    assert _flagged_by(rules[0][1], ws) == flagged


def _flagged_by(formula: str, ws) -> list[str]:
    """Evaluate the simple comparisons our highlight rules use, row by row."""
    import re
    out = []
    for row in cell_rows(ws):
        values = {c.column_letter: c.value for c in row}
        hits = [values[col] == text for col, text in re.findall(r'\$([A-Z]+)3="([^"]+)"', formula)]
        dated = re.search(r"\$([A-Z]+)3<TODAY\(\)", formula)
        if dated and isinstance(values[dated.group(1)], datetime):
            hits.append(values[dated.group(1)].date() < TODAY)
        if any(hits):
            out.append(row[0].value)
    return out

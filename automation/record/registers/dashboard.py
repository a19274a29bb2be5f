"""看板.xlsx: four charts over a 数据 sheet, computed from the store.

Small data, so openpyxl (which builds the charts) writes it in normal mode.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.engine import Connection

from automation.record import schema as s
from automation.record.registers.cells import safe_text
from automation.record.registers.definitions import (
    CASE_STATUS,
    RenderContext,
    WorkdaysBetween,
)
from automation.record.registers.writer import atomic_save, note_text

DASHBOARD = "看板"
DATA_SHEET = "数据"


@dataclass
class Table:
    """One block of the 数据 sheet: a header row and rows, first column = categories."""

    title: str
    header: list[str]
    rows: list[list] = field(default_factory=list)


@dataclass
class DashboardData:
    weekly: Table
    approver_days: Table
    overdue: Table
    complaint_rate: Table
    records: int = 0


def _week(moment: datetime) -> str:
    monday = moment.date() - timedelta(days=moment.weekday())
    return monday.isoformat()


def weekly_cases(conn: Connection, ctx: RenderContext) -> Table:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    c = s.cases.c
    for r in conn.execute(select(c.form_title, c.form_id, c.status, c.created_at)):
        series = f"{r.form_title or r.form_id}·{CASE_STATUS.get(r.status, r.status)}"
        counts[_week(ctx.local(r.created_at))][series] += 1
    names = sorted({n for week in counts.values() for n in week})
    table = Table("每周案件数(按表单与结果)", ["周(周一)"] + names)
    table.rows = [[week] + [counts[week].get(n, 0) for n in names] for week in sorted(counts)]
    return table


def approver_days(conn: Connection, ctx: RenderContext) -> Table:
    spans: dict[str, list[int]] = defaultdict(list)
    t = s.tasks.c
    query = select(t.assignee, t.opened_at, t.decided_at).where(t.decided_at.is_not(None), t.opened_at.is_not(None))
    for r in conn.execute(query):
        spans[r.assignee].append(ctx.workdays_between(ctx.local(r.opened_at).date(), ctx.local(r.decided_at).date()))
    table = Table("平均审批工作日(按审批人)", ["审批人", "平均工作日"])
    table.rows = [[name, _ratio(sum(v), len(v))] for name, v in sorted(spans.items())]
    return table


def overdue_by_department(conn: Connection, ctx: RenderContext) -> Table:
    counts: dict[str, int] = defaultdict(int)
    t, c = s.tasks.c, s.cases.c
    query = select(c.department).select_from(s.tasks.join(s.cases, t.case_id == c.id)).where(
        t.status == "open", t.due_on < ctx.today)
    for r in conn.execute(query):
        counts[r.department or "(未填)"] += 1
    table = Table("超时待办(按部门)", ["部门", "超时待办数"])
    table.rows = [[dept, n] for dept, n in sorted(counts.items())]
    return table


def complaint_on_time(conn: Connection, ctx: RenderContext) -> Table:
    closed: dict[str, list[bool]] = defaultdict(list)
    p = s.complaints.c
    query = select(p.complained_on, p.closed_on, p.reply_due).where(p.closed_on.is_not(None), p.complained_on.is_not(None))
    for r in conn.execute(query):
        on_time = r.reply_due is None or r.closed_on <= r.reply_due
        closed[f"{r.complained_on:%Y-%m}"].append(on_time)
    table = Table("投诉按时办结率(按月)", ["月份", "按时率"])
    table.rows = [[month, _ratio(sum(v), len(v))] for month, v in sorted(closed.items())]
    return table


def _ratio(part: int, whole: int) -> Decimal:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP) if whole else Decimal(0)


def dashboard_data(conn: Connection, ctx: RenderContext) -> DashboardData:
    data = DashboardData(weekly_cases(conn, ctx), approver_days(conn, ctx),
                         overdue_by_department(conn, ctx), complaint_on_time(conn, ctx))
    data.records = sum(len(t.rows) for t in (data.weekly, data.approver_days, data.overdue, data.complaint_rate))
    return data


# --- writing ------------------------------------------------------------------------

def _put(ws, row: int, col: int, value):
    cell = ws.cell(row=row, column=col, value=safe_text(value) if isinstance(value, str) else value)
    if isinstance(value, str):
        cell.data_type = "s"  # labels come from forms: text, never a formula
    return cell


def _write_table(ws, table: Table, col: int) -> tuple[int, int]:
    """Write a block at column ``col``; returns (header row, last row)."""
    _put(ws, 1, col, table.title).font = Font(bold=True)
    for i, head in enumerate(table.header):
        _put(ws, 2, col + i, head).font = Font(bold=True)
    for r, row in enumerate(table.rows, start=3):
        for i, value in enumerate(row):
            _put(ws, r, col + i, value)
    return 2, 2 + max(len(table.rows), 1)


def _chart(kind, table: Table, data_ws, col: int, last: int, **style):
    chart = BarChart() if kind != "line" else LineChart()
    for key, value in style.items():
        setattr(chart, key, value)
    chart.title = table.title
    width = len(table.header) - 1
    values = Reference(data_ws, min_col=col + 1, max_col=col + max(width, 1), min_row=2, max_row=last)
    chart.add_data(values, titles_from_data=True)
    chart.set_categories(Reference(data_ws, min_col=col, min_row=3, max_row=last))
    chart.width, chart.height = 16, 8
    return chart


def _charts(data: DashboardData, data_ws) -> list:
    plans = [(data.weekly, "col", {"type": "col", "grouping": "stacked", "overlap": 100}),
             (data.approver_days, "bar", {"type": "bar"}),
             (data.overdue, "col", {"type": "col"}),
             (data.complaint_rate, "line", {})]
    charts, col = [], 1
    for table, kind, style in plans:
        _, last = _write_table(data_ws, table, col)
        charts.append(_chart(kind, table, data_ws, col, last, **style))
        col += len(table.header) + 1
    return charts


def write_dashboard(path: Path, data: DashboardData, *, rendered_at: datetime) -> None:
    wb = Workbook()
    board = wb.active
    board.title = DASHBOARD
    board["A1"] = note_text(rendered_at, data.records)
    data_ws = wb.create_sheet(DATA_SHEET)
    for chart, anchor in zip(_charts(data, data_ws), ("A3", "K3", "A21", "K21")):
        board.add_chart(chart, anchor)
    atomic_save(Path(path), lambda tmp: wb.save(tmp))


def render_dashboard(store, path: Path, *, today: date, workdays_between: WorkdaysBetween) -> int:
    ctx = RenderContext(today=today, workdays_between=workdays_between, tz=store.clock.tz)
    with store.read() as conn:
        data = dashboard_data(conn, ctx)
    write_dashboard(path, data, rendered_at=ctx.local(store.now()))
    return data.records

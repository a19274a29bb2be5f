"""看板.xlsx: one landscape A4 page per question people ask first, computed from the store.

Each topic is a sheet of its own, printed on exactly one landscape page (so a chart
can never be cut by a page break): who holds open cases and for how long, overdue
cases by department, approval time per step, contracts and receivables by month,
complaints closed on time, and submissions per week. The figures behind every chart
are in the 数据 sheet. Counts are taken the way the registers take them (a case is
overdue when one of its open tasks is past its limit, as in 审批台账), so the two
always agree; a test compares them.

Small data, so openpyxl (which builds the charts) writes it in normal mode.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
import re
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from automation.printing import setup_openpyxl
from automation.record import schema as s
from automation.record.registers.cells import safe_text
from automation.record.registers.definitions import RenderContext, WorkdaysBetween
from automation.record.registers.writer import atomic_save

DASHBOARD = "看板"
DATA_SHEET = "数据"
NO_DATA = "暂无数据"
BLANK = "(未填)"
AGE_BUCKETS = ((1, "1 个工作日内"), (3, "2–3 个工作日"), (5, "4–5 个工作日"), (None, "超过 5 个工作日"))
CHART_CM = (26.5, 14.5)  # width, height: fills a landscape A4 page below the title
GREY = "808080"
PAGE_COLUMNS, PAGE_ROWS = 14, 33  # the printed range of a topic page: title, note and the chart


@dataclass
class Table:
    """The figures of one topic: a header row and rows, first column = categories."""

    title: str
    header: list[str]
    rows: list[list] = field(default_factory=list)
    charted: int | None = None  # how many value columns the chart shows (None: all)


@dataclass
class Topic:
    sheet: str
    title: str
    note: str
    table: Table
    chart: str  # "col" | "bar" | "stacked-col" | "stacked-bar"
    axis: str = "件数"


@dataclass
class DashboardData:
    topics: list[Topic]
    cases: int = 0
    contracts: int = 0
    complaints: int = 0

    @property
    def records(self) -> int:
        return self.cases

    def topic(self, sheet: str) -> Topic:
        return next(t for t in self.topics if t.sheet == sheet)


# --- figures ------------------------------------------------------------------------

def week_label(day: date) -> str:
    """The week a day falls in, by the dates it covers: 2026-11-23 至 11-29."""
    monday = day - timedelta(days=day.weekday())
    sunday = monday + timedelta(days=6)
    end = f"{sunday:%m-%d}" if sunday.year == monday.year else f"{sunday:%Y-%m-%d}"
    return f"{monday:%Y-%m-%d} 至 {end}"


def weekly_cases(conn: Connection, ctx: RenderContext) -> Table:
    counts: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    c = s.cases.c
    days = _local_days(conn, ctx, c.created_at, (c.form_title, c.form_id))
    if days is None:  # a time stored in another offset than the office's: every row converted
        days = [((r.form_title, r.form_id), ctx.local(r.created_at).date(), 1)
                for r in conn.execute(select(c.form_title, c.form_id, c.created_at))]
    for (title, form_id), day, n in days:
        counts[day - timedelta(days=day.weekday())][title or form_id] += n
    forms = sorted({name for week in counts.values() for name in week})
    table = Table("每周提交的申请(按表单)", ["周"] + forms)
    table.rows = [[week_label(week)] + [counts[week].get(f, 0) for f in forms] for week in sorted(counts)]
    return table


# Times are stored as ISO text (schema.AwareDateTime): 2026-11-23T10:00:00.000000+08:00.
_ISO_LENGTH = len("2026-11-23T10:00:00.000000+08:00")
_OFFSET = re.compile(r"[+-]\d\d:\d\d")


def _offset_is_the_office_s(day: date, offset: str, tz) -> bool:
    """Whether every moment of ``day`` written with ``offset`` falls on that same day in the office's time zone."""
    if not _OFFSET.fullmatch(offset):
        return False
    sign = -1 if offset[0] == "-" else 1
    written = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
    start = datetime(day.year, day.month, day.day, tzinfo=written)
    end = start + timedelta(days=1, microseconds=-1)
    return start.astimezone(tz).utcoffset() == written.utcoffset(None) == end.astimezone(tz).utcoffset()


def _day_parts(moment):
    return func.substr(moment, 1, 10), func.substr(moment, _ISO_LENGTH - 5), func.length(moment)


def _local_days(conn: Connection, ctx: RenderContext, moment, keys: tuple, source=None, where=()):
    """(keys, the office's local date of ``moment``, how many rows) grouped by the database.

    The local date of a stored time is its own date when it was written in the office's offset
    (the store writes the office's local time); None when any group was not, and the caller
    converts row by row (``ctx.local``), as the dashboard always did."""
    day, offset, length = _day_parts(moment)
    # The day first: SQLite sorts the groups, and the day tells rows apart soonest (50,000 cases: 88 -> 57 ms).
    query = select(*keys, day, offset, length, func.count()).group_by(day, offset, length, *keys)
    if source is not None:
        query = query.select_from(source)
    for condition in where:
        query = query.where(condition)
    out, checked = [], {}
    for *values, day_text, offset_text, size, n in conn.execute(query):
        if day_text is None:
            return None
        ok = checked.get((day_text, offset_text, size))
        if ok is None:
            try:
                on = date.fromisoformat(day_text)
            except ValueError:
                return None
            ok = checked[(day_text, offset_text, size)] = (
                on if size == _ISO_LENGTH and _offset_is_the_office_s(on, offset_text, ctx.tz) else False)
        if ok is False:
            return None
        out.append((tuple(values), ok, n))
    return out


def _age_bucket(days: int) -> str:
    return next(label for limit, label in AGE_BUCKETS if limit is None or days <= limit)


def open_by_holder(conn: Connection, ctx: RenderContext) -> Table:
    """Open cases per holder and how long each has waited (as 审批台账's 当前审批人 lists them)."""
    t, c = s.tasks.c, s.cases.c
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    # A holder's first open task of a case (lowest id) says since when it waits, counted once.
    first = (select(t.case_id, t.assignee, func.min(t.id).label("first")).where(t.status == "open")
             .group_by(t.case_id, t.assignee).subquery())
    task = s.tasks.alias("first_task")
    since = func.coalesce(task.c.opened_at, c.created_at)
    days = _local_days(conn, ctx, since, (first.c.assignee,),
                       source=first.join(task, task.c.id == first.c.first).join(s.cases, c.id == first.c.case_id))
    if days is None:
        days = _open_by_holder_rows(conn, ctx)
    waited: dict[date, int] = {}
    for (assignee,), since_day, n in days:
        if since_day not in waited:
            waited[since_day] = ctx.workdays_between(since_day, ctx.today)
        counts[assignee][_age_bucket(waited[since_day])] += n
    labels = [label for _, label in AGE_BUCKETS]
    table = Table("待办申请(按审批人与已等待工作日)", ["审批人"] + labels + ["合计"], charted=len(labels))
    table.rows = [[name] + [counts[name].get(b, 0) for b in labels] + [sum(counts[name].values())]
                  for name in sorted(counts, key=lambda n: (-sum(counts[n].values()), n))]
    return table


def _open_by_holder_rows(conn: Connection, ctx: RenderContext) -> list:
    """The same figures row by row (times stored in another offset than the office's)."""
    t, c = s.tasks.c, s.cases.c
    query = (select(t.case_id, t.assignee, t.opened_at, c.created_at)
             .select_from(s.tasks.join(s.cases, t.case_id == c.id)).where(t.status == "open").order_by(t.id))
    seen: set[tuple[int, str]] = set()
    days = []
    for r in conn.execute(query):
        if (r.case_id, r.assignee) in seen:
            continue
        seen.add((r.case_id, r.assignee))
        days.append(((r.assignee,), ctx.local(r.opened_at or r.created_at).date(), 1))
    return days


def overdue_by_department(conn: Connection, ctx: RenderContext) -> Table:
    """Cases with an open task past its limit, per department: 审批台账's 是否超时 = 是."""
    t, c = s.tasks.c, s.cases.c
    query = (select(c.department, func.count(func.distinct(c.id)))
             .select_from(s.tasks.join(s.cases, t.case_id == c.id))
             .where(t.status == "open", t.due_on < ctx.today).group_by(c.department))
    counts: dict[str, int] = defaultdict(int)
    for department, n in conn.execute(query):
        counts[department or BLANK] += n
    table = Table("超时未办的申请(按部门)", ["部门", "超时申请数"])
    table.rows = [[dept, n] for dept, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return table


def approval_time_per_step(conn: Connection, ctx: RenderContext) -> Table:
    spans: dict[str, list[int]] = defaultdict(list)
    order: dict[str, int] = {}
    t = s.tasks.c
    decided = (t.decided_at.is_not(None), t.opened_at.is_not(None))
    o_day, o_offset, o_length = _day_parts(t.opened_at)
    d_day, d_offset, d_length = _day_parts(t.decided_at)
    # grouped by the role, step and both days (as text); a day pair not in the office's offset: row by row
    groups = _local_days(conn, ctx, t.decided_at, (t.role, t.step_index, o_day, o_offset, o_length), where=decided)
    pairs = None
    if groups is not None:
        pairs = []
        for (role, step, day_text, offset_text, size), decided_day, n in groups:
            try:
                opened_day = date.fromisoformat(day_text)
            except (TypeError, ValueError):
                pairs = None
                break
            if size != _ISO_LENGTH or not _offset_is_the_office_s(opened_day, offset_text, ctx.tz):
                pairs = None
                break
            pairs.append((role, step, opened_day, decided_day, n))
    if pairs is None:
        pairs = [(r.role, r.step_index, ctx.local(r.opened_at).date(), ctx.local(r.decided_at).date(), 1)
                 for r in conn.execute(select(t.role, t.step_index, t.opened_at, t.decided_at).where(*decided))]
    for role, step, opened_day, decided_day, n in pairs:
        spans[role].extend([ctx.workdays_between(opened_day, decided_day)] * n)
        order[role] = min(order.get(role, step), step)
    table = Table("审批用时(按审批步骤)", ["审批步骤", "平均工作日", "已办件数"], charted=1)
    table.rows = [[role, _average(spans[role]), len(spans[role])] for role in sorted(spans, key=lambda r: (order[r], r))]
    return table


def contracts_by_month(conn: Connection, ctx: RenderContext) -> Table:
    """Contract value per signing month beside what is still receivable on those contracts
    (客户台账's 未收款 summed the same way: every receivable entry, by its contract's month)."""
    k = s.contracts.c
    months: dict[str, list] = defaultdict(lambda: [0, Decimal("0.00"), Decimal("0.00")])
    month_of: dict[str, str] = {}
    for r in conn.execute(select(k.number, k.amount, k.signed_on)):
        month = f"{r.signed_on:%Y-%m}" if r.signed_on else BLANK
        month_of[r.number] = month
        months[month][0] += 1
        months[month][1] += r.amount or Decimal("0.00")
    rv = s.receivables.c
    for r in conn.execute(select(rv.contract_number, rv.amount)):
        months[month_of.get(r.contract_number, "其他(无合同)")][2] += r.amount
    table = Table("合同与回款(按签订月份)", ["月份", "合同金额", "未收款", "合同份数"], charted=2)
    table.rows = [[month, *values[1:], values[0]] for month, values in sorted(months.items())]
    return table


def complaints_on_time(conn: Connection, ctx: RenderContext) -> Table:
    p = s.complaints.c
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in conn.execute(select(p.complained_on, p.closed_on, p.reply_due)):
        month = f"{r.complained_on:%Y-%m}" if r.complained_on else BLANK
        if r.closed_on is None:
            counts[month][2] += 1
        elif r.reply_due is None or r.closed_on <= r.reply_due:
            counts[month][0] += 1
        else:
            counts[month][1] += 1
    table = Table("投诉办结情况(按投诉月份)", ["月份", "按时办结", "超时办结", "未办结", "按时率"], charted=3)
    table.rows = [[month, *n, _ratio(n[0], n[0] + n[1])] for month, n in sorted(counts.items())]
    return table


def _ratio(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP) if whole else None


def _average(values: list[int]) -> Decimal:
    return (Decimal(sum(values)) / Decimal(len(values))).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _count(conn: Connection, table) -> int:
    return conn.execute(select(func.count()).select_from(table)).scalar() or 0


def dashboard_data(conn: Connection, ctx: RenderContext) -> DashboardData:
    topics = [
        Topic("待办", "谁手上有待办,等了多久", "每位审批人手上审批中的申请,按已等待的工作日分段。",
              open_by_holder(conn, ctx), "stacked-bar"),
        Topic("超时", "超时未办的申请在哪个部门", "有审批步骤超过办理时限的申请数(与审批台账「是否超时」一致),按申请部门。",
              overdue_by_department(conn, ctx), "col"),
        Topic("审批用时", "每个审批步骤用了多久", "已办完的审批任务从收到到办结的平均工作日,按审批步骤(角色)。",
              approval_time_per_step(conn, ctx), "bar", axis="工作日"),
        Topic("合同与回款", "每月签了多少合同,还有多少未收", "按合同签订月份:合同金额与这些合同尚未收回的款项(元)。",
              contracts_by_month(conn, ctx), "col", axis="元"),
        Topic("投诉", "投诉是否按时办结", "按投诉月份:在答复期限内办结、超过期限办结和尚未办结的投诉件数。",
              complaints_on_time(conn, ctx), "stacked-col"),
        Topic("每周申请", "每周提交了多少申请", "每周(周一至周日)提交的申请件数,按表单。",
              weekly_cases(conn, ctx), "stacked-col"),
    ]
    return DashboardData(topics, cases=_count(conn, s.cases), contracts=_count(conn, s.contracts),
                         complaints=_count(conn, s.complaints))


def dashboard_note(rendered_at: datetime, data: DashboardData) -> str:
    return (f"说明:本看板由 OfficeFlow 于 {rendered_at:%Y-%m-%d %H:%M} 根据 {data.cases} 件申请、"
            f"{data.contracts} 份合同、{data.complaints} 件投诉自动生成,数字与各台账一致;请勿在此修改。")


# --- writing ------------------------------------------------------------------------

def _put(ws, row: int, col: int, value):
    cell = ws.cell(row=row, column=col, value=safe_text(value) if isinstance(value, str) else value)
    if isinstance(value, str):
        cell.data_type = "s"  # labels come from forms: text, never a formula
    return cell


def _number_format(header: str) -> str | None:
    if header in ("合同金额", "未收款"):
        return "#,##0.00"
    if header == "按时率":
        return "0.0%"
    if header == "平均工作日":
        return "0.0"
    return None


def _write_block(ws, top: int, table: Table) -> tuple[int, int]:
    """A topic's figures at row ``top`` of the 数据 sheet; returns (header row, last row)."""
    _put(ws, top, 1, table.title).font = Font(bold=True, size=12)
    for i, head in enumerate(table.header, start=1):
        _put(ws, top + 1, i, head).font = Font(bold=True)
    for r, row in enumerate(table.rows, start=top + 2):
        for i, value in enumerate(row, start=1):
            cell = _put(ws, r, i, value)
            fmt = _number_format(table.header[i - 1])
            if fmt and value is not None:
                cell.number_format = fmt
    if not table.rows:
        _put(ws, top + 2, 1, NO_DATA).font = Font(color=GREY)
    return top + 1, top + 1 + len(table.rows)


def _chart(topic: Topic, data_ws, header_row: int, last_row: int):
    chart = BarChart()
    chart.type = "bar" if topic.chart.endswith("bar") else "col"
    if topic.chart.startswith("stacked"):
        chart.grouping, chart.overlap = "stacked", 100
    chart.title = topic.table.title
    chart.y_axis.title = topic.axis
    chart.y_axis.delete = chart.x_axis.delete = False  # LibreOffice hides axes openpyxl leaves undecided
    values = len(topic.table.header) - 1 if topic.table.charted is None else topic.table.charted
    data = Reference(data_ws, min_col=2, max_col=1 + values, min_row=header_row, max_row=last_row)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(data_ws, min_col=1, min_row=header_row + 1, max_row=last_row))
    chart.width, chart.height = CHART_CM
    chart.legend.position = "b"
    return chart


def _topic_sheet(wb, topic: Topic, note: str):
    ws = wb.create_sheet(topic.sheet)
    ws.sheet_view.showGridLines = False
    for col in range(1, PAGE_COLUMNS + 1):  # together wider than the chart, so the print area holds all of it
        ws.column_dimensions[get_column_letter(col)].width = 10
    _put(ws, 1, 1, topic.title).font = Font(bold=True, size=16)
    _put(ws, 2, 1, topic.note).font = Font(color=GREY)
    _put(ws, 3, 1, note).font = Font(italic=True, size=9, color=GREY)
    # One landscape page per topic: the chart can never be split by a page break.
    setup_openpyxl(ws, landscape=True, fit_height=True)
    ws.print_options.horizontalCentered = False
    ws.print_area = f"A1:{get_column_letter(PAGE_COLUMNS)}{PAGE_ROWS}"
    return ws


def _no_data(ws) -> None:
    cell = _put(ws, 6, 1, f"{NO_DATA}:目前还没有可以统计的记录,有记录后这里会自动出现图表。")
    cell.font = Font(size=14, color=GREY)


def _data_sheet_layout(ws, data: DashboardData) -> None:
    widest = max((len(t.table.header) for t in data.topics), default=2)
    ws.column_dimensions["A"].width = 26
    for i in range(2, widest + 1):
        ws.column_dimensions[get_column_letter(i)].width = 16
    setup_openpyxl(ws, landscape=False, title_rows="1:1")


def write_dashboard(path: Path, data: DashboardData, *, rendered_at: datetime) -> None:
    wb = Workbook()
    data_ws = wb.active
    data_ws.title = DATA_SHEET
    note = dashboard_note(rendered_at, data)
    _put(data_ws, 1, 1, note).font = Font(italic=True, size=9, color=GREY)
    top = 3
    for topic in data.topics:
        header_row, last_row = _write_block(data_ws, top, topic.table)
        ws = _topic_sheet(wb, topic, note)
        if topic.table.rows:
            ws.add_chart(_chart(topic, data_ws, header_row, last_row), "A5")
        else:
            _no_data(ws)
        top = max(last_row, header_row + 1) + 2
    _data_sheet_layout(data_ws, data)
    wb.move_sheet(DATA_SHEET, offset=len(data.topics))  # the figures come after the pictures
    wb.active = 0
    atomic_save(Path(path), lambda tmp: wb.save(tmp))


def render_dashboard(store, path: Path, *, today: date, workdays_between: WorkdaysBetween) -> int:
    ctx = RenderContext(today=today, workdays_between=workdays_between, tz=store.clock.tz)
    with store.read() as conn:
        data = dashboard_data(conn, ctx)
    write_dashboard(path, data, rendered_at=ctx.local(store.now()))
    return data.records

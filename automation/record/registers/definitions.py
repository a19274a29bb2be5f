"""What each register (台账) shows: columns, rows from the store, totals, flags, summaries.

Columns and names follow POLICY-PACK.md. Rows are plain tuples in column order,
typed (Decimal, date, naive local datetime, int, str, bool) so the writer only
formats them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Callable, Collection, Iterator
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from automation.record import codec
from automation.record import schema as s
from automation.record.registers.upper import upper

WorkdaysBetween = Callable[[date, date], int]

CASE_STATUS = {"in_approval": "审批中", "approved": "已批准", "rejected": "已驳回",
               "returned": "退回修改", "blocked": "待配置", "withdrawn": "已撤回"}
CASE_RESULT = {"approved": "同意", "rejected": "驳回", "returned": "退回修改", "withdrawn": "已撤回"}


def weekdays_between(start: date, end: date) -> int:
    """Monday–Friday after ``start`` up to and including ``end``: the fallback calendar."""
    if end < start:
        return -weekdays_between(end, start)
    days = (end - start).days
    weeks, rest = divmod(days, 7)
    extra = sum(1 for i in range(1, rest + 1) if (start + timedelta(days=i)).weekday() < 5)
    return weeks * 5 + extra


@dataclass(frozen=True)
class RenderContext:
    today: date
    workdays_between: WorkdaysBetween = weekdays_between
    tz: ZoneInfo = ZoneInfo("Asia/Shanghai")

    def local(self, moment: datetime | None) -> datetime | None:
        """Excel has no time zones: show the office's local wall-clock time."""
        return None if moment is None else moment.astimezone(self.tz).replace(tzinfo=None)


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = "text"  # text | money | date | datetime | int | decimal | bool
    # A width the definition fixes (a form spec's register column may set ``width``; longer text wraps).
    # None, the default: the column is as wide as its values need (registers.layout).
    width: float | None = None


@dataclass(frozen=True)
class Grouping:
    title: str
    column: str
    by_month: bool = False  # group a date column by 年-月
    then: str | None = None  # a second column: one line per combination (申请人 · 月份)


@dataclass(frozen=True)
class RegisterDef:
    name: str
    table_name: str  # the Excel table (ListObject) name: ASCII, unique in the workbook
    columns: tuple[Column, ...]
    rows: Callable[[Connection, RenderContext], list[tuple]]
    tables: frozenset[str]
    totals: tuple[str, ...] = ()  # columns summed in the totals row
    highlight: str | None = None  # Excel condition over {列名} placeholders, true = flagged row
    groupings: tuple[Grouping, ...] = ()
    measure: str | None = None  # the column summed in the 汇总 sheet
    # Registers rendered incrementally (registers.incremental) also read their rows by key:
    # keyed_rows(conn, ctx, keys) gives (key, row) in row order for those keys (all when None),
    # extent(conn) the number of rows and the largest key; rows must be ordered by key.
    keyed_rows: Callable[[Connection, RenderContext, Collection[int] | None], list[tuple[int, tuple]]] | None = None
    extent: Callable[[Connection], tuple[int, int | None]] | None = None
    # The keys of the rows whose values depend on the day (an incremental render of another day reads
    # them again); None: every row may (a new day means a full render).
    day_keys: Callable[[Connection, RenderContext], set[int]] | None = None
    # The same among the rows ``keys`` only (a render on the cache's day asks for the changed rows alone).
    day_keys_among: Callable[[Connection, RenderContext, Collection[int]], set[int]] | None = None
    # Registers whose rows change on other cases than their own or outside any case (a contract's
    # 状态 when its document is made, a customer's 已回款 when a receipt is booked) have their writers
    # name the rows (registers.row_marks), and give what their rows are made of, for the comparison
    # that stands behind those names (without keys, and on a day's first render): sources(conn) lists,
    # in row order, (key, *raw values) per row; a row whose raw values did not change did not change
    # (registers.incremental compares them block by block, at the database's speed).
    sources: Callable[[Connection], list[tuple]] | None = None

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def index(self, header: str) -> int:
        return self.headers.index(header)


class Shared(dict):
    """One object for every equal value (strings, dates) of a register's rows: a 100,000-row register
    names a few hundred customers and days, and each row would otherwise hold copies of its own."""

    def __missing__(self, key):
        self[key] = key
        return key


class _Memo(dict):
    """``make(key)`` computed once per distinct key (a pure function of a text)."""

    def __init__(self, make):
        super().__init__()
        self.make = make

    def __missing__(self, key):
        value = self[key] = self.make(key)
        return value


NOTHING = Decimal("0.00")  # the one 0.00 of every row with nothing received or open


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def _names(text: str | None) -> str:
    """Approver lists may be stored as a JSON list or as plain text."""
    if not text:
        return ""
    if text.startswith("["):
        try:
            return "、".join(str(n) for n in json.loads(text))
        except ValueError:
            return text
    return text


# --- 审批台账 -----------------------------------------------------------------------

# Keys read with IN (…) at most this many at a time (SQLite allows 32,766 variables; PostgreSQL more).
KEY_BATCH = 500


def _key_batches(keys: Collection[int] | None) -> list[list[int] | None]:
    if keys is None:
        return [None]
    ordered = sorted(set(keys))
    return [ordered[at:at + KEY_BATCH] for at in range(0, len(ordered), KEY_BATCH)]


def _open_tasks(conn: Connection, today: date, ids: list[int] | None = None) -> tuple[dict[int, list[str]], set[int]]:
    holders: dict[int, list[str]] = defaultdict(list)
    overdue: set[int] = set()
    t = s.tasks.c
    query = select(t.case_id, t.assignee, t.due_on).where(t.status == "open").order_by(t.id)
    for row in conn.execute(query if ids is None else query.where(t.case_id.in_(ids))):
        if row.assignee not in holders[row.case_id]:
            holders[row.case_id].append(row.assignee)
        if row.due_on is not None and row.due_on < today:
            overdue.add(row.case_id)
    return holders, overdue


def _reminders(conn: Connection, ids: list[int] | None = None) -> dict[int, int]:
    """催办 asked for by applicants, per case (refused ones do not count)."""
    r = s.applicant_requests.c
    query = select(r.case_id, func.count()).where(r.kind == "remind", r.accepted.is_(True))
    if ids is not None:
        query = query.where(r.case_id.in_(ids))
    return dict(conn.execute(query.group_by(r.case_id)).all())


def approval_keyed_rows(conn: Connection, ctx: RenderContext, keys: Collection[int] | None = None) -> list[tuple[int, tuple]]:
    """(case id, row) of 审批台账 for the cases ``keys`` (every case when None), in case order.

    已用工作日 and 是否超时 of a case still open depend on the day: an incremental render
    is only built on a cache of the same day (registers.incremental)."""
    rows = []
    c = s.cases.c
    same = Shared()
    for ids in _key_batches(keys):
        holders, overdue = _open_tasks(conn, ctx.today, ids)
        reminded = _reminders(conn, ids)
        query = select(c.id, c.number, c.form_title, c.form_id, c.applicant, c.department, c.amount,
                       c.status, c.created_at, c.decided_at).order_by(c.id)
        for r in conn.execute(query if ids is None else query.where(c.id.in_(ids))):
            created, decided = ctx.local(r.created_at), ctx.local(r.decided_at)
            end = decided.date() if decided else ctx.today
            rows.append((r.id, (r.number, same[r.form_title or r.form_id], same[r.applicant], same[r.department],
                                r.amount, created, CASE_STATUS.get(r.status, r.status), same["、".join(holders.get(r.id, ()))],
                                ctx.workdays_between(created.date(), end), _yes(r.id in overdue),
                                CASE_RESULT.get(r.status, ""), decided, reminded.get(r.id, 0))))
    return rows


def approval_rows(conn: Connection, ctx: RenderContext) -> list[tuple]:
    return [row for _, row in approval_keyed_rows(conn, ctx)]


def approval_day_keys(conn: Connection, ctx: RenderContext) -> set[int]:
    """The cases whose 审批台账 row changes with the day: 已用工作日 counts to today while a case is
    undecided, and 是否超时 looks at the due dates of its open tasks."""
    return _approval_day_keys(conn, None)


def approval_day_keys_among(conn: Connection, ctx: RenderContext, keys: Collection[int]) -> set[int]:
    """``approval_day_keys`` among the cases ``keys``."""
    return {key for ids in _key_batches(keys) for key in _approval_day_keys(conn, ids)}


def _approval_day_keys(conn: Connection, ids: list[int] | None) -> set[int]:
    c, t = s.cases.c, s.tasks.c
    undecided = _among(select(c.id).where(c.decided_at.is_(None)), c.id, ids)
    waiting = _among(select(t.case_id).where(t.status == "open", t.due_on.is_not(None)), t.case_id, ids)
    return set(conn.execute(undecided.union(waiting)).scalars().all())


def case_extent(conn: Connection) -> tuple[int, int | None]:
    return tuple(conn.execute(select(func.count(), func.max(s.cases.c.id)).select_from(s.cases)).one())


# --- 客户台账 -----------------------------------------------------------------------

def _among(query, column, among: list | None):
    return query if among is None else query.where(column.in_(among))


def _open_receivables(conn: Connection, among: list[str] | None = None) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    rv = s.receivables.c
    for r in conn.execute(_among(select(rv.customer, rv.amount), rv.customer, among)):
        totals[r.customer] += r.amount
    return totals


_CUSTOMER_COLUMNS = ("id", "name", "credit_code", "grade", "owner", "department", "credit_limit", "terms_days",
                     "review_due", "status", "registered_on")


def customer_keyed_rows(conn: Connection, ctx: RenderContext, keys: Collection[int] | None = None) -> list[tuple[int, tuple]]:
    """(customer id, row) of 客户台账 for the customers ``keys`` (every customer when None), in id order."""
    c = s.customers.c
    rows = []
    for ids in _key_batches(keys):
        found = conn.execute(_among(select(*(c[n] for n in _CUSTOMER_COLUMNS)).order_by(c.id), c.id, ids)).all()
        names = None if ids is None else [r.name for r in found]
        open_amounts = _open_receivables(conn, names)
        received = _received(conn, s.receivables.c.customer, names)
        history = _status_history(conn, names)
        rows.extend((r.id, (r.name, r.credit_code, r.grade, r.owner, r.department, r.credit_limit, r.terms_days,
                            received.get(r.name, Decimal("0.00")), open_amounts.get(r.name, Decimal("0.00")),
                            r.review_due, r.status, history.get(r.name, ""), r.registered_on))
                    for r in found)
    return rows


def customer_rows(conn: Connection, ctx: RenderContext) -> list[tuple]:
    return [row for _, row in customer_keyed_rows(conn, ctx)]


def _raw(conn: Connection, table, columns) -> list[tuple]:
    """``columns`` of ``table`` as the database holds them, in id order, for comparing: the driver's
    own tuples, without SQLAlchemy's conversions (which cost more than the rest of a batch)."""
    quote = conn.dialect.identifier_preparer.quote
    sql = f"SELECT {', '.join(quote(n) for n in columns)} FROM {quote(table.name)} ORDER BY {quote('id')}"
    cursor = conn.connection.cursor()  # in the claim's transaction
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


def _raw_by(conn: Connection, table, key: str, columns) -> dict:
    """``key`` → the raw ``columns`` of its rows, in id order."""
    grouped: dict = defaultdict(list)
    for r in _raw(conn, table, (key, *columns)):
        grouped[r[0]].append(r[1:])
    return grouped


def customer_sources(conn: Connection) -> list[tuple]:
    """What each 客户台账 row is made of: the customer, its receivables, its status history."""
    money = _raw_by(conn, s.receivables, "customer", ("amount", "kind"))
    history = _raw_by(conn, s.customer_status_history, "customer", ("old_status", "new_status", "number", "reason", "on"))
    rows = []
    for r in _raw(conn, s.customers, _CUSTOMER_COLUMNS):
        m, h = money.get(r[1]), history.get(r[1])
        rows.append(r if m is None and h is None else (*r, m, h))  # most customers have neither
    return rows


def _extent(table):
    def extent(conn: Connection) -> tuple[int, int | None]:
        return tuple(conn.execute(select(func.count(), func.max(table.c.id)).select_from(table)).one())
    return extent


def _no_day_keys(conn: Connection, ctx: RenderContext) -> set[int]:
    return set()  # no column depends on the day


RECEIPT_KIND = "receipt"  # F11 回款登记单: a negative receivable


def _received(conn: Connection, key, among: list[str] | None = None) -> dict[str, Decimal]:
    """What was received (回款), per customer or per contract: a positive amount."""
    rv = s.receivables.c
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for r in conn.execute(_among(select(key.label("key"), rv.amount).where(rv.kind == RECEIPT_KIND), key, among)):
        totals[r.key] -= r.amount
    return totals


def _status_history(conn: Connection, among: list[str] | None = None) -> dict[str, str]:
    """客户状态变更 history per customer: 「2026-11-23 正常→黑名单(KB-202611-0001:原因)」; …"""
    h = s.customer_status_history.c
    lines: dict[str, list[str]] = defaultdict(list)
    query = select(h.customer, h.old_status, h.new_status, h.number, h.reason, h.on).order_by(h.id)
    for r in conn.execute(_among(query, h.customer, among)):
        day = r.on.isoformat() if r.on else ""
        why = ":".join(x for x in (r.number, r.reason) if x)
        lines[r.customer].append(f"{day} {r.old_status or ''}→{r.new_status}" + (f"({why})" if why else ""))
    return {name: ";".join(items) for name, items in lines.items()}


# --- 合同台账 -----------------------------------------------------------------------

def _open_by_contract(conn: Connection, among: list[str] | None = None) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    rv = s.receivables.c
    query = select(rv.contract_number, rv.amount).where(rv.contract_number.is_not(None))
    for r in conn.execute(_among(query, rv.contract_number, among)):
        totals[r.contract_number] += r.amount
    return totals


_CONTRACT_COLUMNS = ("id", "number", "customer", "amount", "signed_on", "delivery_on", "ship_due_on", "payment",
                     "approved_on", "approvers", "status", "file_path")


def contract_keyed_rows(conn: Connection, ctx: RenderContext, keys: Collection[int] | None = None) -> list[tuple[int, tuple]]:
    """(contract id, row) of 合同台账 for the contracts ``keys`` (every contract when None), in id order."""
    return list(_contract_rows(conn, keys))


def _contract_rows(conn: Connection, keys: Collection[int] | None) -> Iterator[tuple[int, tuple]]:
    c = s.contracts.c
    same = Shared()  # a few hundred customers, three payment terms, a few days a year: one object each
    names = _Memo(_names)  # a few approver lists, each read once
    for ids in _key_batches(keys):
        query = _among(select(*(c[n] for n in _CONTRACT_COLUMNS)).order_by(c.id), c.id, ids)
        if ids is None:  # every contract: streamed from the cursor (a 100,000-row rebuild held its rows twice)
            received = _received(conn, s.receivables.c.contract_number)
            still_open = _open_by_contract(conn)
            found = conn.execute(query)
        else:  # some: their numbers first, to read only their receivables
            found = conn.execute(query).all()
            numbers = [r.number for r in found]
            received = _received(conn, s.receivables.c.contract_number, numbers)
            still_open = _open_by_contract(conn, numbers)
        for r in found:
            yield r.id, (r.number, same[r.customer], r.amount, upper(r.amount), same[r.signed_on], same[r.delivery_on],
                         same[r.ship_due_on], same[r.payment], received.get(r.number, NOTHING),
                         still_open.get(r.number, NOTHING), same[r.approved_on], same[names[r.approvers]],
                         same[r.status], r.file_path)


def contract_rows(conn: Connection, ctx: RenderContext) -> list[tuple]:
    return [row for _, row in _contract_rows(conn, None)]


def contract_sources(conn: Connection) -> list[tuple]:
    """What each 合同台账 row is made of: the contract and the receivables booked on its number."""
    money = _raw_by(conn, s.receivables, "contract_number", ("amount", "kind"))
    return [r if (m := money.get(r[1])) is None else (*r, m) for r in _raw(conn, s.contracts, _CONTRACT_COLUMNS)]


# --- 报销台账 -----------------------------------------------------------------------

def expense_rows(conn: Connection, ctx: RenderContext) -> list[tuple]:
    e = s.expense_lines.c
    query = select(e.claim_number, e.claimant, e.department, e.category, e.occurred_on, e.amount,
                   e.month, e.status).order_by(e.id)
    return [tuple(r) for r in conn.execute(query)]


# --- 投诉台账 -----------------------------------------------------------------------

def complaint_overdue(r, today: date) -> bool:
    """A clock is overdue while the step it measures is still unfinished."""
    if r.closed_on is not None:
        return False
    clocks = [r.reply_due, r.revisit_due] + ([r.dept_reply_due] if r.plan_done_on is None else [])
    return any(d is not None and d < today for d in clocks)


def complaint_rows(conn: Connection, ctx: RenderContext) -> list[tuple]:
    rows = []
    for r in conn.execute(select(s.complaints).order_by(s.complaints.c.id)):
        rows.append((r.number, r.customer, r.complaint_type, r.severity, r.complained_on, r.reply_due,
                     r.department, r.dept_reply_due, r.revisit_due, r.revisits or 0, r.reopens or 0, r.satisfaction,
                     r.status, _yes(complaint_overdue(r, ctx.today))))
    return rows


# --- 退货台账 / 坏账台账 ---------------------------------------------------------------

def return_rows(conn: Connection, ctx: RenderContext) -> list[tuple]:
    x = s.return_lines.c
    query = select(x.number, x.contract_number, x.product, x.quantity, x.reason, x.status).order_by(x.id)
    return [tuple(r) for r in conn.execute(query)]


def _shares(text: str | None) -> str:
    """The shares as ``act/effects/bad_debt`` stores them (the store's codec: tagged Decimals)
    → 沈涛(办事处经理)50% 2,500.00;…"""
    if not text:
        return ""
    try:
        shares = codec.loads(text)
    except (ValueError, TypeError, ArithmeticError):
        return text
    if not isinstance(shares, list):
        return text
    return ";".join(_share(sh) for sh in shares if isinstance(sh, dict))


def _share(sh: dict) -> str:
    role = f"({sh['角色']})" if sh.get("角色") else ""
    return f"{sh.get('人员') or ''}{role}{_percent(sh.get('比例'))} {_money_text(sh.get('金额'))}".strip()


def _as_decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _percent(value) -> str:
    ratio = _as_decimal(value)
    if ratio is None:
        return ""
    return f"{(ratio * 100).normalize():f}%"


def _money_text(value) -> str:
    money = _as_decimal(value)
    return "" if money is None else f"{money:,.2f}"


def bad_debt_rows(conn: Connection, ctx: RenderContext) -> list[tuple]:
    b = s.bad_debts.c
    query = select(b.number, b.customer, b.contract_number, b.amount, b.shares, b.status).order_by(b.id)
    return [(r.number, r.customer, r.contract_number, r.amount, _shares(r.shares), r.status)
            for r in conn.execute(query)]


# --- 借款台账 -----------------------------------------------------------------------

def loan_rows(conn: Connection, ctx: RenderContext) -> list[tuple]:
    settled: dict[str, Decimal] = defaultdict(Decimal)
    ls = s.loan_settlements.c
    for r in conn.execute(select(ls.loan_number, ls.amount)):
        settled[r.loan_number] += r.amount
    rows = []
    for r in conn.execute(select(s.loans).order_by(s.loans.c.id)):
        paid = settled.get(r.number, Decimal("0.00"))
        owed = r.amount - paid
        late = owed > 0 and r.due_on is not None and r.due_on < ctx.today
        rows.append((r.number, r.borrower, r.department, r.loan_type, r.amount, r.lent_on, r.due_on, paid, owed,
                     _yes(late), r.status))
    return rows


# --- the registers -----------------------------------------------------------------

def _cols(*specs) -> tuple[Column, ...]:
    return tuple(Column(*spec) for spec in specs)


_BY_DEPT = Grouping("按部门", "部门")

REGISTERS: dict[str, RegisterDef] = {r.name: r for r in (
    RegisterDef(
        "审批台账", "ApprovalRegister",
        _cols(("编号", "text"), ("表单", "text"), ("申请人", "text"), ("部门", "text"),
              ("金额", "money"), ("提交时间", "datetime"), ("状态", "text"),
              ("当前审批人", "text"), ("已用工作日", "int"), ("是否超时", "bool"),
              ("结果", "text"), ("完成时间", "datetime"), ("催办次数", "int")),
        approval_rows, frozenset({"cases", "tasks", "applicant_requests"}), totals=("金额",),
        highlight='{是否超时}="是"',
        groupings=(Grouping("按月份", "提交时间", True), _BY_DEPT, Grouping("按申请人", "申请人"),
                   Grouping("按状态", "状态")),
        measure="金额", keyed_rows=approval_keyed_rows, extent=case_extent, day_keys=approval_day_keys,
        day_keys_among=approval_day_keys_among),
    RegisterDef(
        "客户台账", "CustomerRegister",
        _cols(("客户名称", "text"), ("统一社会信用代码", "text"), ("等级", "text"),
              ("负责销售员", "text"), ("部门", "text"), ("信用额度", "money"),
              ("账期天数", "int"), ("已回款", "money"), ("未收款", "money"), ("信用复核到期", "date"),
              ("状态", "text"), ("状态变更记录", "text"), ("登记日期", "date")),
        customer_rows, frozenset({"customers", "receivables", "customer_status_history"}),
        totals=("信用额度", "已回款", "未收款"),
        highlight='OR({状态}="黑名单",AND(ISNUMBER({信用复核到期}),{信用复核到期}<TODAY()))',
        groupings=(Grouping("按月份", "登记日期", True), _BY_DEPT, Grouping("按负责销售员", "负责销售员"),
                   Grouping("按状态", "状态")),
        measure="未收款", keyed_rows=customer_keyed_rows, extent=_extent(s.customers), day_keys=_no_day_keys,
        sources=customer_sources),
    RegisterDef(
        "合同台账", "ContractRegister",
        _cols(("合同编号", "text"), ("客户名称", "text"), ("合同金额", "money"),
              ("大写", "text"), ("签订日期", "date"), ("交货日期", "date"),
              ("应发货日期", "date"), ("付款方式", "text"), ("已回款", "money"), ("未收款", "money"),
              ("审批完成日期", "date"), ("审批人", "text"), ("状态", "text"), ("文件", "text")),
        contract_rows, frozenset({"contracts", "receivables"}), totals=("合同金额", "已回款", "未收款"),
        highlight='{状态}="生成失败"',
        groupings=(Grouping("按月份", "签订日期", True), Grouping("按客户", "客户名称"),
                   Grouping("按付款方式", "付款方式"), Grouping("按状态", "状态")),
        measure="合同金额", keyed_rows=contract_keyed_rows, extent=_extent(s.contracts), day_keys=_no_day_keys,
        sources=contract_sources),
    RegisterDef(
        "报销台账", "ExpenseRegister",
        _cols(("报销单号", "text"), ("报销人", "text"), ("部门", "text"), ("类别", "text"),
              ("发生日期", "date"), ("金额", "money"), ("月份", "text"), ("状态", "text")),
        expense_rows, frozenset({"expense_lines"}), totals=("金额",),
        highlight='{状态}="已驳回"',
        groupings=(Grouping("按月份", "月份"), _BY_DEPT, Grouping("按报销人", "报销人"),
                   Grouping("按类别", "类别"), Grouping("按状态", "状态")),
        measure="金额"),
    RegisterDef(
        "投诉台账", "ComplaintRegister",
        _cols(("投诉编号", "text"), ("客户", "text"), ("类型", "text"), ("严重程度", "text"),
              ("投诉日期", "date"), ("答复期限", "date"), ("责任部门", "text"),
              ("部门答复期限", "date"), ("回访期限", "date"), ("回访次数", "int"),
              ("重新调查次数", "int"), ("满意度", "text"), ("状态", "text"), ("是否超时", "bool")),
        complaint_rows, frozenset({"complaints"}), totals=(),
        highlight='{是否超时}="是"',
        groupings=(Grouping("按月份", "投诉日期", True), Grouping("按责任部门", "责任部门"),
                   Grouping("按类型", "类型"), Grouping("按严重程度", "严重程度"), Grouping("按状态", "状态"))),
    RegisterDef(
        "退货台账", "ReturnRegister",
        _cols(("退货单号", "text"), ("原合同编号", "text"), ("品名", "text"),
              ("数量", "decimal"), ("原因", "text"), ("状态", "text")),
        return_rows, frozenset({"return_lines"}), totals=("数量",),
        groupings=(Grouping("按原合同", "原合同编号"), Grouping("按品名", "品名"), Grouping("按状态", "状态")),
        measure="数量"),
    RegisterDef(
        "坏账台账", "BadDebtRegister",
        _cols(("编号", "text"), ("客户", "text"), ("合同", "text"), ("金额", "money"),
              ("责任人与分担金额", "text"), ("状态", "text")),
        bad_debt_rows, frozenset({"bad_debts"}), totals=("金额",),
        groupings=(Grouping("按客户", "客户"), Grouping("按状态", "状态")),
        measure="金额"),
    RegisterDef(
        "借款台账", "LoanRegister",
        _cols(("借款单号", "text"), ("借款人", "text"), ("部门", "text"), ("类型", "text"),
              ("金额", "money"), ("借款日期", "date"), ("应还日期", "date"), ("已冲销", "money"),
              ("未还", "money"), ("是否超期", "bool"), ("状态", "text")),
        loan_rows, frozenset({"loans", "loan_settlements"}), totals=("金额", "已冲销", "未还"),
        highlight='{是否超期}="是"',
        groupings=(Grouping("按借款人", "借款人"), _BY_DEPT, Grouping("按状态", "状态")),
        measure="未还"),
)}

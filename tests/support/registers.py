"""Factories for register tests: a real SQLite store filled through SQLAlchemy inserts."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from automation.clock import Clock
from automation.record import codec
from automation.record import schema as s
from automation.record.store import Store, open_store
from automation.settings import Settings, load_settings

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)  # a Monday
TODAY = NOW.date()
INJECTIONS = ('=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)", "-1+2")


DAMAGES = ("missing", "garbage", "truncated", "flipped")


def damage(path: Path, how: str) -> None:
    """A cache file gone (``missing``), replaced (``garbage``), cut in half (``truncated``) or with a byte
    flipped near its end (``flipped``): each must be refused and rebuilt."""
    data = path.read_bytes()
    if how == "missing":
        path.unlink()
    elif how == "garbage":
        path.write_bytes(b"not a cache at all")
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "flipped":
        path.write_bytes(data[:-100] + bytes([data[-100] ^ 0xFF]) + data[-99:])
    else:
        raise ValueError(how)


def drift(path: Path, identity: tuple, generation: int, block: int, row: int) -> None:
    """One cached row's second value edited, its block's XML emptied: the cache no longer says what
    the store holds, and the comparison with a full rebuild must catch it."""
    from automation.record.registers import incremental

    cache = incremental.load(path, identity, generation)
    assert cache is not None
    rows = incremental._loads(cache.blocks[block].values)
    rows[row] = (rows[row][0], "被改过的表单", *rows[row][2:])
    cache.blocks[block] = incremental.Block(incremental._dumps(rows), incremental._deflate(b""), 0, 0)
    path.write_bytes(cache.to_bytes())


def make_store(tmp_path: Path, now: datetime = NOW) -> Store:
    return open_store("sqlite:///" + str(tmp_path / ".officeflow" / "state.db"), Clock(fixed=now))


def make_settings(tmp_path: Path, **changes) -> Settings:
    return load_settings(tmp_path).with_(**changes)


def add_case(conn, number: str, *, status="in_approval", applicant="张三", department="销售一部",
             amount="1000.00", form_title="费用报销单", created=NOW - timedelta(days=7), decided=None) -> int:
    return conn.execute(s.cases.insert().values(
        number=number, form_id="expense", form_title=form_title, applicant=applicant, department=department,
        amount=Decimal(amount) if amount is not None else None, status=status, round=1, data="{}",
        fingerprint="0" * 64, created_at=created, updated_at=created, decided_at=decided)).inserted_primary_key[0]


def add_task(conn, case_id: int, assignee: str, *, status="open", due_on=None, opened=None, decided=None) -> None:
    conn.execute(s.tasks.insert().values(
        case_id=case_id, round=1, step_index=0, role="部门经理", mode="依次", assignee=assignee, status=status,
        due_on=due_on, opened_at=opened, decided_at=decided))


def populate(store: Store) -> None:
    """A small office: every register gets rows, flagged rows and the injection strings."""
    with store.begin() as conn:
        _cases(conn)
        _customers(conn)
        _contracts(conn)
        _expenses(conn)
        _complaints(conn)
        _returns_and_bad_debts(conn)
        _loans(conn)


def _cases(conn) -> None:
    late = add_case(conn, "BX-2026-0001", amount="1200.50", created=datetime(2026, 11, 9, 9, 0, tzinfo=TZ))
    add_task(conn, late, "李经理", due_on=date(2026, 11, 12), opened=datetime(2026, 11, 9, 9, 5, tzinfo=TZ))
    add_task(conn, late, "王经理", due_on=date(2026, 11, 30))
    done = add_case(conn, "BX-2026-0002", status="approved", applicant="李四", department="财务部", amount="300.00",
                    created=datetime(2026, 10, 5, 9, 0, tzinfo=TZ), decided=datetime(2026, 10, 8, 16, 0, tzinfo=TZ))
    add_task(conn, done, "赵财务", status="approved", opened=datetime(2026, 10, 5, 9, 0, tzinfo=TZ),
             decided=datetime(2026, 10, 8, 16, 0, tzinfo=TZ))
    for i, text in enumerate(INJECTIONS, start=3):
        add_case(conn, f"BX-2026-{i:04d}", applicant=text, status="rejected", amount=None,
                 form_title=text, created=NOW - timedelta(days=1), decided=NOW)


def _customers(conn) -> None:
    names = ["华东机电有限公司", "黑名单公司", *INJECTIONS]
    for i, name in enumerate(names):
        conn.execute(s.customers.insert().values(
            name=name, norm_name=name, credit_code="91310000MA1K000000", grade="A", owner="张三", department="销售一部",
            credit_limit=Decimal("500000.00") + i, terms_days=30,
            review_due=date(2026, 11, 1) if i == 0 else date(2027, 1, 1),
            status="黑名单" if i == 1 else "正常", registered_on=date(2026, 1 + i, 15)))
    conn.execute(s.receivables.insert(), [
        {"customer": names[0], "contract_number": "HT-1", "amount": Decimal("1000.10"), "kind": "contract"},
        {"customer": names[0], "contract_number": "HT-1", "amount": Decimal("-200.05"), "kind": "write_off"}])


def _contracts(conn) -> None:
    amounts = ["120345.67", "5000.00", "1.00", "999.99", "0.01", "88888.80"]
    parties = ["华东机电有限公司", "华东机电有限公司", *INJECTIONS]
    for i, (amount, party) in enumerate(zip(amounts, parties)):
        case_id = add_case(conn, f"HT-CASE-{i}", form_title="销售合同审批表", amount=amount)
        conn.execute(s.contracts.insert().values(
            case_id=case_id, number=f"HT-2026-{i + 1:04d}", year=2026, customer=party, amount=Decimal(amount),
            signed_on=date(2026, 9 + i % 3, 10), delivery_on=date(2026, 12, 1), ship_due_on=date(2026, 11, 28),
            payment=INJECTIONS[i % 4], approved_on=date(2026, 9, 12), approvers=json.dumps(["李经理", "王总"]),
            status="生成失败" if i == 1 else "已生成", file_path=f"outbox/contracts/HT-2026-{i + 1:04d}.docx",
            created_at=NOW))


def _expenses(conn) -> None:
    lines = [("张三", "销售一部", "差旅费", "100.10", "2026-10", "已批准"), ("张三", "销售一部", "餐费", "20.20", "2026-11", "审批中"),
             ("李四", "财务部", "办公用品", "300.00", "2026-11", "已驳回")] + \
            [("王五", "技术部", text, "1.00", "2026-11", "已批准") for text in INJECTIONS]
    conn.execute(s.expense_lines.insert(), [
        {"case_id": 1, "claim_number": f"BX-{i}", "claimant": who, "department": dept, "category": cat,
         "occurred_on": date(int(month[:4]), int(month[5:]), 3), "amount": Decimal(amount), "month": month,
         "status": status} for i, (who, dept, cat, amount, month, status) in enumerate(lines)])


def _complaints(conn) -> None:
    rows = [("TS-1", "华东机电有限公司", date(2026, 11, 1), date(2026, 11, 10), None)]
    rows += [(f"TS-{i}", text, date(2026, 10, 1), date(2026, 10, 10), date(2026, 10, 9)) for i, text in enumerate(INJECTIONS, 2)]
    conn.execute(s.complaints.insert(), [
        {"number": n, "customer": who, "complaint_type": "产品质量", "severity": "一般", "complained_on": on,
         "reply_due": due, "department": "技术部", "revisits": 1, "satisfaction": "满意" if closed else None,
         "status": "已结案" if closed else "处理中", "closed_on": closed} for n, who, on, due, closed in rows])


def _returns_and_bad_debts(conn) -> None:
    conn.execute(s.return_lines.insert(), [
        {"case_id": 1, "number": f"TH-{i}", "contract_number": "HT-2026-0001", "product": text,
         "quantity": Decimal(-i - 1), "reason": text, "status": "已批准"} for i, text in enumerate(INJECTIONS)])
    # Stored exactly as act/effects/bad_debt.py stores them (the store's codec).
    shares = codec.dumps([{"人员": "王办", "角色": "办事处经理", "比例": Decimal("0.50"), "金额": Decimal("500.00")},
                          {"人员": "李区", "角色": "区域经理", "比例": Decimal("0.25"), "金额": Decimal("250.00")}])
    conn.execute(s.bad_debts.insert(), [
        {"case_id": 100 + i, "number": f"HX-{i}", "customer": text, "contract_number": "HT-2026-0001",
         "amount": Decimal("1000.00") + i, "shares": shares, "status": "已核销"} for i, text in enumerate(INJECTIONS)])


def cell_rows(ws, first_row: int = 3) -> list[list]:
    """The data rows of a register sheet (stops before the totals row)."""
    rows = []
    for row in ws.iter_rows(min_row=first_row):
        if row[0].value == "合计":
            break
        rows.append(row)
    return rows


def _loans(conn) -> None:
    """借款台账: an overdue open loan, one settled by a claim, the injection strings as borrowers."""
    borrowers = ["张三", "李四", *INJECTIONS]
    for i, who in enumerate(borrowers):
        conn.execute(s.loans.insert().values(
            case_id=900 + i, number=f"JK-202611-{i + 1:04d}", borrower=who, department="销售一部", loan_type="备用金",
            amount=Decimal("1500.00"), lent_on=date(2026, 10, 1), due_on=date(2026, 11, 1) if i == 0 else date(2026, 12, 30),
            status="已还清" if i == 1 else "未还清"))
    conn.execute(s.loan_settlements.insert().values(loan_number="JK-202611-0002", case_id=990, claim_number="BX-1",
                                                    amount=Decimal("1500.00"), on=date(2026, 11, 20)))

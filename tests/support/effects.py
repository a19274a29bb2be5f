"""Factories for the effects tests: a real store, real case rows, a stand-in policy and calendar."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from automation.record import codec
from automation.record import schema as s
from automation.record.instances import Case
from automation.record.store import Store, open_store

AT = datetime(2026, 11, 23, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
MONDAY = date(2026, 11, 23)
PACK_PARAMS = {
    "信用复核月数": Decimal("12"), "发货工作日": Decimal("1"), "投诉答复工作日": Decimal("5"),
    "责任部门答复工作日": Decimal("3"), "首次回访工作日": Decimal("5"),
}


@dataclass(frozen=True)
class Person:
    name: str
    department: str


@dataclass
class PolicyStandIn:
    """Our own stand-in for automation.policy's workbook: only what effects read."""

    params: dict = field(default_factory=lambda: dict(PACK_PARAMS))
    people: dict = field(default_factory=dict)

    @classmethod
    def with_roster(cls, **departments: str) -> "PolicyStandIn":
        return cls(people={name: Person(name, dept) for name, dept in departments.items()})


class WeekdayCalendar:
    """Mon–Fri working days, until automation.policy.workcal exists."""

    def add_workdays(self, start: date, days: int) -> date:
        current = start
        while days > 0:
            current += timedelta(days=1)
            if current.weekday() < 5:
                days -= 1
        return current

    def workdays_between(self, a: date, b: date) -> int:
        return sum(1 for n in range(1, (b - a).days + 1) if (a + timedelta(days=n)).weekday() < 5)


def new_store(tmp_path) -> Store:
    return open_store("sqlite:///" + str(tmp_path / "store.db"))


def add_case(conn, form_id: str, values: dict, *, number: str, status: str = "in_approval",
             round_: int = 1, department: str | None = None) -> Case:
    """A real row in ``cases``; returned as the record the engine hands to the effects."""
    result = conn.execute(s.cases.insert().values(
        number=number, form_id=form_id, status=status, round=round_, data=codec.dumps(values),
        fingerprint=codec.fingerprint(values), department=department, created_at=AT, updated_at=AT,
    ))
    case_id = result.inserted_primary_key[0]
    return Case.of(conn.execute(select(s.cases).where(s.cases.c.id == case_id)).mappings().one())


def add_contract_number(conn, case_id: int, number: str) -> None:
    """What the contracts engine's allocate_contract_number leaves behind: the bare row."""
    conn.execute(s.contracts.insert().values(case_id=case_id, number=number, year=int(number[3:7]),
                                             status="待生成", created_at=AT))


def add_approved_task(conn, case_id: int, step: int, assignee: str, on_behalf_of: str | None = None,
                      round_: int = 1, status: str = "approved") -> None:
    conn.execute(s.tasks.insert().values(case_id=case_id, round=round_, step_index=step, role="部门经理",
                                         mode="依次", assignee=assignee, on_behalf_of=on_behalf_of,
                                         status=status))


def rows(conn, table, **where) -> list:
    query = select(table).order_by(table.c.id)
    for key, value in where.items():
        query = query.where(table.c[key] == value)
    return list(conn.execute(query))

"""Factories for the approval tests: a workspace, a real store, real forms, routes and cases."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
from sqlalchemy import select

from automation.decide import engine
from automation.decide.task_files import issue_task_file
from automation.forms.spec import load_spec
from automation.policy.chain import Assignee, Route, Step
from automation.policy.workcal import WorkCalendar
from automation.record import schema as s
from automation.record.store import Store, open_store
from automation.settings import Settings, load_settings
from support import forms

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 11, 23, 9, 30, tzinfo=TZ)  # a plain working Monday
FORMS = Path(__file__).resolve().parents[2] / "forms"
CAL = WorkCalendar()

CONTRACT_VALUES = {
    "客户名称": "华东机电有限公司", "合同类型": "销售合同", "合同金额": Decimal("12345.00"), "付款方式": "账期",
    "账期天数": 30, "签订日期": date(2026, 11, 20), "交货日期": date(2026, 12, 10), "销售员": "李销售",
    "申请人": "李销售", "申请日期": date(2026, 11, 20),
}
CONTRACT_ITEMS = [{"品名": "电机", "规格型号": "Y2-90", "数量": 5, "单价": Decimal("2469.00"), "金额": Decimal("12345.00")}]


def contract_spec():
    return load_spec(FORMS / "sales_contract.yaml")


def trip_spec():
    return load_spec(FORMS / "trip_request.yaml")


_BLANKS = Path(tempfile.mkdtemp(prefix="decide-blanks-"))


def real_form(path: Path, spec_id: str, values: dict, items: list[dict] | None = None) -> Path:
    """The shipped blank form (built once per session), copied and filled like a person would."""
    blank = next(_BLANKS.glob(f"{spec_id}.*"), None)
    if blank is None:
        built = forms.build_blank(spec_id, _BLANKS / spec_id)
        blank = _BLANKS / f"{spec_id}{built.suffix}"
        shutil.copyfile(built, blank)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(blank, path)
    fill = forms.fill_docx if path.suffix == ".docx" else forms.fill_xlsx
    known = {k: v for k, v in values.items() if k in forms.repo_specs()[spec_id].all_keys}
    return fill(path, known, items)


def set_named(path: Path, name: str, value) -> None:
    """What an approver does in Excel: change one named cell and save."""
    wb = openpyxl.load_workbook(path)
    sheet, ref = next(iter(wb.defined_names[name].destinations))
    wb[sheet][ref.replace("$", "")] = value
    wb.save(path)


@dataclass
class Desk:
    """A workspace with a store, the contract spec and a way to open cases and hand out task files."""

    root: Path
    settings: Settings
    store: Store
    spec: object = field(default_factory=contract_spec)
    now: datetime = MONDAY
    issued: list[int] = field(default_factory=list)

    def open(self, route: Route, number: str = "SQ-2026-0001", values: dict | None = None,
             existing_case_id: int | None = None) -> int:
        values = {**CONTRACT_VALUES, **(values or {}), "申请编号": number}
        source = real_form(self.settings.archive / "2026-11" / f"{number}-r{existing_case_id or 0}.xlsx",
                           self.spec.id, values, CONTRACT_ITEMS)
        with self.store.begin() as conn:
            case_id = engine.open_case(
                conn, number=number, spec=self.spec, values=values, applicant=values["申请人"], department="销售部",
                amount=values["合同金额"], customer=values["客户名称"], route=route, submission_id=None,
                source_file=source.relative_to(self.root).as_posix(), now=self.now, cal=CAL,
                existing_case_id=existing_case_id)
        self.issue_open(case_id)
        return case_id

    def issue_open(self, case_id: int) -> list[Path]:
        return [self.issue(t.id) for t in self.tasks(case_id) if t.status == "open" and t.id not in self.issued]

    def issue(self, task_id: int) -> Path:
        self.issued.append(task_id)
        return issue_task_file(self.store, self.settings, task_id, spec=self.spec)

    def on_decided(self, outcome: engine.DecisionOutcome) -> None:
        for task_id in outcome.opened_task_ids:
            self.issue(task_id)

    def tasks(self, case_id: int) -> list[engine.Task]:
        with self.store.read() as conn:
            return engine.case_tasks(conn, case_id)

    def case(self, case_id: int) -> engine.Case:
        with self.store.read() as conn:
            return engine.load_case(conn, case_id)

    def task_file(self, task_id: int) -> Path:
        with self.store.read() as conn:
            return self.root / engine.load_task(conn, task_id).file_path

    def audit(self, action: str) -> list[dict]:
        with self.store.read() as conn:
            return [dict(r) for r in conn.execute(select(s.audit_log).where(s.audit_log.c.action == action)).mappings()]


def desk(tmp_path: Path, url: str | None = None) -> Desk:
    """A workspace's store and settings (``url``: another store than the workspace's SQLite file)."""
    root = tmp_path / "ws"
    root.mkdir()
    settings = load_settings(root)
    store = open_store(url or "sqlite:///" + str(root / ".officeflow" / "state.db"))
    store.clock.fixed = MONDAY
    return Desk(root, settings, store)


def step(role: str, *names: str, mode: str = "依次", limit: int = 2) -> Step:
    return Step(role=role, mode=mode, limit_days=limit, assignees=tuple(Assignee(n) for n in names),
                rule_refs=(f"审批规则!A2 · {role}",))


def route(*steps: Step) -> Route:
    return Route(steps=list(steps))


def later(now: datetime, days: int) -> datetime:
    return now + timedelta(days=days)


TRIP_VALUES = {"申请人": "李销售", "部门": "销售部", "出差地点": "上海", "出发日期": "2026-11-30", "返回日期": "2026-12-02",
               "事由": "拜访客户", "申请日期": "2026-11-23"}


def trip_task_file(d: Desk, number: str):
    """A 出差申请表 case on ``d`` (a real .docx form, one step 部门经理 王经理) and its issued task file:
    (case_id, task, path)."""
    d.spec = trip_spec()
    source = real_form(d.settings.archive / "trip.docx", "trip_request", TRIP_VALUES)
    with d.store.begin() as conn:
        case_id = engine.open_case(conn, number=number, spec=d.spec, values=TRIP_VALUES, applicant="李销售",
                                   department="销售部", amount=None, customer=None, route=route(step("部门经理", "王经理")),
                                   submission_id=None, source_file=source.relative_to(d.root).as_posix(), now=MONDAY,
                                   cal=CAL)
    task = d.tasks(case_id)[0]
    return case_id, task, d.issue(task["id"])

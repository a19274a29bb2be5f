"""End-to-end driving of a real workspace: drop real forms, run the real pipeline
with a fixed clock, decide by moving task files or filling the 审批结论 cell,
then read the store and the outputs.

    office = Office.create(tmp_path, day=date(2026, 11, 23))
    office.submit("customer_registration", samples.customer_registration(1, office.today))
    office.run()
    office.approve("吴强")
    office.run()
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from itertools import count
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from automation import samples
from automation.clock import Clock
from automation.pipeline import RunSummary, process_pending
from automation.record import codec
from automation.record import schema as s
from automation.runtime import open_runtime
from support.forms import build_blank, fill_docx, fill_xlsx
from support.workspace import files_under, make_workspace

# Registers render at once (no coalescing) and files are read after a short quiet period.
E2E_SETTINGS = {"quiet_seconds": 0.05, "coalesce_seconds": 0}
MONDAY = date(2026, 11, 23)
DOCX_FORMS = {"trip_request", "complaint"}


@dataclass
class Office:
    """One workspace, one fixed clock, the real pipeline."""

    root: Path
    clock: Clock
    _seq: count = field(default_factory=lambda: count(1))
    _rt: object = None

    @classmethod
    def create(cls, tmp_path: Path, day: date = MONDAY, **settings) -> "Office":
        root = make_workspace(tmp_path, **{**E2E_SETTINGS, **settings})
        return cls(root=root, clock=Clock(fixed=_morning(day)))

    @property
    def now(self) -> datetime:
        return self.clock.now()

    @property
    def today(self) -> date:
        return self.now.date()

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    def at(self, day: date) -> "Office":
        self.clock.fixed = _morning(day)
        return self

    # --- running --------------------------------------------------------------------

    @property
    def rt(self):
        """One long-lived runtime, as ``officeflow watch`` keeps; its clock is ours."""
        if self._rt is None:
            self._rt = open_runtime(self.root, clock=self.clock)
        return self._rt

    def close(self) -> None:
        if self._rt is not None:
            self._rt.close()
            self._rt = None

    def run(self) -> RunSummary:
        return process_pending(self.rt)

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "automation", *args, "--workspace", str(self.root)],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=timeout)

    # --- submitting -----------------------------------------------------------------

    def form(self, spec_id: str, values: dict, items: list[dict] | None = None) -> Path:
        """A filled form in a staging folder (not yet in the inbox)."""
        staging = self.root.parent / f"staging{next(self._seq)}"
        path = build_blank(spec_id, staging)
        filler = fill_docx if spec_id in DOCX_FORMS else fill_xlsx
        return filler(path, {k: v for k, v in values.items() if v is not None}, items)

    def drop(self, path: Path, name: str | None = None) -> Path:
        target = self.root / "inbox" / (name or path.name)
        shutil.move(str(path), target)
        return target

    def submit(self, spec_id: str, values: dict, items: list[dict] | None = None, name: str | None = None) -> Path:
        return self.drop(self.form(spec_id, values, items), name or f"{spec_id}-{next(self._seq)}{_ext(spec_id)}")

    # --- deciding -------------------------------------------------------------------

    def tasks(self, person: str) -> list[Path]:
        folder = self.outbox / "approvals" / person
        return sorted(p for p in folder.glob("*") if p.is_file() and p.suffix in (".xlsx", ".docx")
                      and "(未计入)" not in p.name) if folder.is_dir() else []

    def task(self, person: str, number: str | None = None) -> Path:
        found = [p for p in self.tasks(person) if number is None or p.name.startswith(number + " ")]
        assert len(found) == 1, f"{person} 的待办:{[p.name for p in self.tasks(person)]}"
        return found[0]

    def move_to(self, person: str, decision: str, number: str | None = None, owner: str | None = None) -> Path:
        """Drag the task file into ``<owner>/<decision>/`` (owner defaults to the holder)."""
        source = self.task(person, number)
        folder = self.outbox / "approvals" / (owner or person) / decision
        folder.mkdir(parents=True, exist_ok=True)
        return Path(shutil.move(str(source), folder / source.name))

    def approve(self, person: str, number: str | None = None) -> Path:
        return self.move_to(person, "同意", number)

    def decide_in_cell(self, person: str, decision: str, comment: str = "", number: str | None = None) -> Path:
        path = self.task(person, number)
        set_named(path, {"审批结论": decision, "审批意见": comment})
        return path

    # --- reading --------------------------------------------------------------------

    def rows(self, table, *where) -> list[dict]:
        with self.rt.store.read() as conn:
            query = select(table).where(*where).order_by(table.c.id)
            return [dict(r) for r in conn.execute(query).mappings()]

    def cases(self) -> list[dict]:
        return self.rows(s.cases)

    def case(self, number: str | None = None, form_id: str | None = None) -> dict:
        found = [c for c in self.cases() if (number is None or c["number"] == number)
                 and (form_id is None or c["form_id"] == form_id)]
        assert found, f"no case {number or form_id}"
        return found[-1]

    def case_values(self, case: dict) -> dict:
        return codec.loads(case["data"])

    def open_holders(self, number: str) -> list[str]:
        case = self.case(number)
        return sorted(t["assignee"] for t in self.rows(s.tasks, s.tasks.c.case_id == case["id"], s.tasks.c.status == "open"))

    def audit(self, action: str | None = None) -> list[dict]:
        rows = self.rows(s.audit_log)
        return [r for r in rows if action is None or r["action"] == action]

    def submissions(self) -> list[dict]:
        return self.rows(s.submissions)

    def files(self, *parts: str) -> list[Path]:
        folder = self.outbox.joinpath(*parts)
        return files_under(folder) if folder.exists() else []

    def receipts(self, person: str) -> list[Path]:
        """The receipts (回执) lying in ``outbox/requests/<person>/``, as the store knows them."""
        known = {self.root / r["path"] for r in self.rows_of(s.receipts)}
        return [p for p in self.files("requests", person) if p in known]

    def returned(self, person: str) -> list[Path]:
        """Forms sent back to ``person``: what lies in their folder that is not a receipt or 我的申请."""
        folder = self.outbox / "requests" / person
        others = set(self.receipts(person)) | {folder / "我的申请.xlsx"}
        return sorted(p for p in folder.glob("*") if p.is_file() and p not in others) if folder.is_dir() else []

    def rows_of(self, table) -> list[dict]:
        with self.rt.store.read() as conn:
            return [dict(r) for r in conn.execute(select(table)).mappings()]

    def register(self, name: str) -> list[dict]:
        """The data rows of a register's main table, keyed by header."""
        return register_rows(self.outbox / "registers" / f"{name}.xlsx")

    # --- whole flows ----------------------------------------------------------------

    def approve_all(self, number: str, limit: int = 8) -> dict:
        """Approve every open step of a case, one run after each, until it finishes."""
        for _ in range(limit):
            holders = self.open_holders(number)
            if not holders:
                break
            for person in holders:
                self.approve(person, number)
            self.run()
        return self.case(number)

    def register_customer(self, seq: int, name: str | None = None, salesperson: str = "王芳", **extra) -> str:
        values = {**samples.customer_registration(seq, self.today, salesperson=salesperson, name=name), **extra}
        self.submit("customer_registration", values)
        self.run()
        case = self.case(form_id="customer_registration")
        assert self.approve_all(case["number"])["status"] == "approved"
        return values["客户名称"]

    def grant_credit(self, customer: str, limit: Decimal, **extra) -> None:
        self.submit("credit_limit", {**samples.credit_limit(customer, self.today, limit=limit), **extra})
        self.run()
        case = self.case(form_id="credit_limit")
        assert case["status"] == "in_approval", self.submissions()[-1]
        assert self.approve_all(case["number"])["status"] == "approved"


def _morning(day: date) -> datetime:
    return datetime.combine(day, time(9, 30), tzinfo=Clock().tz)


def _ext(spec_id: str) -> str:
    return ".docx" if spec_id in DOCX_FORMS else ".xlsx"


def set_named(path: Path, values: dict) -> None:
    """Type into cells by defined name and save, as a person in Excel would."""
    wb = openpyxl.load_workbook(path)
    for key, value in values.items():
        sheet, coord = next(iter(wb.defined_names[key].destinations))
        wb[sheet][coord.replace("$", "")] = value
    wb.save(path)


def set_text(path: Path, values: dict) -> None:
    """Type text that Excel must keep as text (as after a leading apostrophe): never a formula."""
    wb = openpyxl.load_workbook(path)
    for key, value in values.items():
        sheet, coord = next(iter(wb.defined_names[key].destinations))
        cell = wb[sheet][coord.replace("$", "")]
        cell.value = value
        cell.data_type = "s"
    wb.save(path)


def set_item_text(path: Path, line: int, values: dict) -> None:
    """Like ``set_text`` for a cell of the 明细 table (``line`` counts from 1)."""
    from openpyxl.utils import range_boundaries

    wb = openpyxl.load_workbook(path)
    ws, table = next((ws, t) for ws in wb.worksheets for t in ws.tables.values() if t.name == "明细")
    min_col, header, max_col, _ = range_boundaries(table.ref)
    columns = {ws.cell(header, col).value: col for col in range(min_col, max_col + 1)}
    for key, value in values.items():
        cell = ws.cell(header + line, columns[key])
        cell.value = value
        cell.data_type = "s"
    wb.save(path)


def named_value(path: Path, key: str):
    wb = openpyxl.load_workbook(path)
    sheet, coord = next(iter(wb.defined_names[key].destinations))
    return wb[sheet][coord.replace("$", "")].value


def register_rows(path: Path) -> list[dict]:
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for table in ws.tables.values():
            return _table_rows(ws, table.ref, table.totalsRowCount or 0)
    raise AssertionError(f"{path.name} has no table")


def register_cells(path: Path) -> list[tuple[str, object]]:
    """Every (header, cell) of the register's main table, for type checks."""
    wb = openpyxl.load_workbook(path)
    ws, table = next((ws, t) for ws in wb.worksheets for t in ws.tables.values())
    rows = list(ws[table.ref])
    headers = [c.value for c in rows[0]]
    data = rows[1:len(rows) - (table.totalsRowCount or 0)]
    return [(h, c) for row in data for h, c in zip(headers, row)]


def _table_rows(ws, ref: str, totals: int = 0) -> list[dict]:
    rows = list(ws[ref])
    headers = [c.value for c in rows[0]]
    out = [dict(zip(headers, (c.value for c in row))) for row in rows[1:len(rows) - totals]]
    return [r for r in out if any(v not in (None, "") for v in r.values())]


def add_approval_sheet(path: Path, decision: str = "同意") -> None:
    """What a cunning applicant might do: add an 审批 sheet with 审批结论 pre-filled."""
    from openpyxl.workbook.defined_name import DefinedName

    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet("审批", 0)
    ws["A1"], ws["B1"] = "审批结论", decision
    ws["A2"], ws["B2"] = "审批意见", "申请人自己填的"
    wb.defined_names["审批结论"] = DefinedName("审批结论", attr_text="'审批'!$B$1")
    wb.defined_names["审批意见"] = DefinedName("审批意见", attr_text="'审批'!$B$2")
    wb.save(path)


def edit_policy(root: Path, sheet: str, edit) -> None:
    """Open policies/制度.xlsx in the workspace, let ``edit(ws)`` change it, save."""
    path = root / "policies" / "制度.xlsx"
    wb = openpyxl.load_workbook(path)
    edit(wb[sheet])
    # Saved beside and swapped in, as Excel does, so a watcher never reads half a workbook.
    staging = path.with_name("~保存中.xlsx.tmp")
    wb.save(staging)
    os.replace(staging, path)


def set_condition(root: Path, form: str, condition: str | None, sheet: str = "审批规则") -> None:
    """Set the 条件 of ``form``'s first row on ``sheet`` of the workspace's 制度.xlsx (None clears it)."""
    def edit(ws):
        cols = headers(ws)
        for row in range(cols["__row__"] + 1, ws.max_row + 1):
            if ws.cell(row, cols["表单"]).value == form:
                ws.cell(row, cols["条件"]).value = condition
                return
    edit_policy(root, sheet, edit)


def headers(ws) -> dict[str, int]:
    """Column index by header text in the first row that holds 表单 or 姓名."""
    for row in ws.iter_rows(min_row=1, max_row=6):
        names = {str(c.value).strip(): c.column for c in row if c.value is not None}
        if "表单" in names or "姓名" in names:
            return names | {"__row__": row[0].row}
    raise AssertionError(f"no header row in {ws.title}")


def env_has_soffice() -> bool:
    return shutil.which("soffice") is not None or shutil.which("libreoffice") is not None


__all__ = [
    "Office", "MONDAY", "CUSTOMER", "CREDIT", "office", "customer_workspace", "customer_office", "set_named",
    "set_text", "set_item_text", "named_value", "register_rows", "register_cells", "add_approval_sheet",
    "edit_policy", "headers", "env_has_soffice",
]


# --- fixtures (imported by the test modules) -------------------------------------------

CUSTOMER = "上海远航机电设备有限公司"
CREDIT = Decimal("900000.00")
_BUILT: dict[str, Path] = {}


@pytest.fixture
def office(tmp_path):
    made = Office.create(tmp_path)
    yield made
    made.close()


@pytest.fixture(scope="session")
def customer_workspace(tmp_path_factory) -> Path:
    """A workspace whose customer was registered (F1) and given credit (F2), both approved
    through the real pipeline. Built once per session (each test module imports this
    fixture, so the cache is ours); every test gets its own copy."""
    if "customer" not in _BUILT:
        made = Office.create(tmp_path_factory.mktemp("e2e-customer"))
        try:
            made.register_customer(1, name=CUSTOMER)
            made.grant_credit(CUSTOMER, CREDIT)
        finally:
            made.close()
        _BUILT["customer"] = made.root
    return _BUILT["customer"]


@pytest.fixture
def customer_office(tmp_path, customer_workspace):
    root = tmp_path / "ws"
    shutil.copytree(customer_workspace, root)
    made = Office(root=root, clock=Clock(fixed=_morning(MONDAY)))
    yield made
    made.close()

"""Every writer that changes a 合同台账 or 客户台账 row names it (registers.row_marks), so the render
reads only the named rows and still equals a full rebuild part for part.

The flows are the real ones, through the real pipeline and real files: a customer registered and
registered again (merged), its credit granted, a contract approved on 账期 (its row filled, its
receivable opened) and its document made, a contract whose template fails, a receipt booked, goods
returned, a bad debt written off, the customer's 状态 changed. The pipeline leaves the registers
to the test (a long coalescing delay), which renders after each flow on the same day — the names
alone are read then, no comparison of every row — checks that each register was built on its
cache, and compares it with a full rebuild of the same store. A writer that forgot its name
would leave its row stale there, and the comparison would fail.
"""

from __future__ import annotations

import shutil
from decimal import Decimal

import docx
import pytest
from support import new_forms
from support.e2e import CUSTOMER, MONDAY, Office, _morning
from support.workspace import tune
from test_registers_incremental import assert_same_register

from automation import samples
from automation.clock import Clock
from automation.pipeline import process_pending
from automation.record import schema as s
from automation.record.registers.definitions import REGISTERS, RenderContext
from automation.record.registers.render import mark_dirty, register_path, render_due
from automation.record.registers.writer import write_register

CONTRACTS, CUSTOMERS = "合同台账", "客户台账"
NAMES = (CONTRACTS, CUSTOMERS)


class Quiet(Office):
    """The real pipeline; the registers are rendered by the test, which sees how (RenderResult)."""

    def run(self):
        return process_pending(self.rt, render_now=False)


@pytest.fixture
def quiet(tmp_path, customer_workspace):
    root = tmp_path / "ws"
    shutil.copytree(customer_workspace, root)
    tune(root, coalesce_seconds=86400)  # never due by itself under the fixed clock
    made = Quiet(root=root, clock=Clock(fixed=_morning(MONDAY)))
    yield made
    made.close()


def _render(office: Office):
    rt = office.rt
    return render_due(rt.store, rt.settings, today=office.today, workdays_between=rt.calendar.workdays_between,
                      force=True)


def _check(office: Office, tmp_path, label: str, changed: dict[str, int]) -> None:
    """Render; each register of ``changed`` built on its cache from at least that many named rows,
    and both equal to a full rebuild."""
    result = _render(office)
    for name, least in changed.items():
        assert name in result.incremental, (label, name, result.to_dict())
        assert result.incremental[name] >= least, (label, name, result.incremental)
    rt = office.rt
    ctx = RenderContext(today=office.today, workdays_between=rt.calendar.workdays_between, tz=rt.store.clock.tz)
    for name in NAMES:
        folder = tmp_path / f"ref-{label}-{name}"
        folder.mkdir()
        with rt.store.read() as conn:
            rows = REGISTERS[name].rows(conn, ctx)
        reference = folder / f"{name}.xlsx"
        write_register(reference, REGISTERS[name], rows, rendered_at=ctx.local(rt.store.now()))
        assert_same_register(register_path(rt.settings.registers, name), reference)


def _approved(office: Office, spec_id: str, values: dict, items: list[dict] | None = None) -> dict:
    case = office.approve_all(new_forms.submit_and_route(office, spec_id, values, items)["number"])
    assert case["status"] == "approved", case
    return case


def _contract_of(office: Office, case: dict) -> dict:
    [contract] = office.rows(s.contracts, s.contracts.c.case_id == case["id"])
    return contract


def test_every_writer_names_the_contract_and_customer_rows_it_changes(quiet, tmp_path):
    office = quiet
    rt = office.rt
    with rt.store.begin() as conn:  # a cache for each, from a full comparison
        mark_dirty(conn, NAMES, office.now, rows={name: None for name in NAMES})
    _render(office)

    _approved(office, "customer_registration", samples.customer_registration(31, office.today))
    _check(office, tmp_path, "registered", {CUSTOMERS: 1})

    merged = dict(samples.customer_registration(1, office.today, name=CUSTOMER, salesperson="王芳"), 客户等级="A")
    _approved(office, "customer_registration", merged)
    _check(office, tmp_path, "merged", {CUSTOMERS: 1})

    _approved(office, "credit_limit", samples.credit_limit(CUSTOMER, office.today, limit=Decimal("950000.00")))
    _check(office, tmp_path, "credit", {CUSTOMERS: 1})

    values, items = samples.sales_contract(CUSTOMER, office.today, payment="账期")
    on_account = _contract_of(office, _approved(office, "sales_contract", values, items))
    assert on_account["status"] == "已生成", on_account  # its document made in the same pass
    _check(office, tmp_path, "contract", {CONTRACTS: 1, CUSTOMERS: 1})

    template = office.root / "contracts" / "销售合同.docx"
    kept = template.read_bytes()
    document = docx.Document(str(template))
    document.add_paragraph("补充条款:{{ 不存在的变量 }}")
    document.save(str(template))
    values, items = samples.sales_contract(CUSTOMER, office.today, payment="预付款")
    failed = _contract_of(office, _approved(office, "sales_contract", values, items))
    assert failed["status"] == "生成失败", failed
    _check(office, tmp_path, "failed", {CONTRACTS: 1})
    # Documents made on a later pass than the decision (officeflow contracts render): failed, then made.
    office.close()
    assert office.cli("contracts", "render", on_account["number"]).returncode != 0
    _check(office, tmp_path, "failed-later", {CONTRACTS: 1})
    assert _contract_of(office, {"id": on_account["case_id"]})["status"] == "生成失败"
    template.write_bytes(kept)
    office.close()
    result = office.cli("contracts", "render", failed["number"])
    assert result.returncode == 0, result.stdout + result.stderr
    _check(office, tmp_path, "made-later", {CONTRACTS: 1})
    assert _contract_of(office, {"id": failed["case_id"]})["status"] == "已生成"

    _approved(office, "payment_receipt", new_forms.receipt(on_account["number"], Decimal("1000.00"), office.today))
    _check(office, tmp_path, "receipt", {CONTRACTS: 1, CUSTOMERS: 1})

    _approved(office, "return_request", {"原合同编号": on_account["number"], "客户名称": CUSTOMER, "申请人": "王芳",
                                         "申请日期": office.today},
              [{"品名": "工业控制器", "规格型号": "KX-200", "退货数量": 2, "退货原因": "外壳破损"}])
    _check(office, tmp_path, "returned", {CONTRACTS: 1, CUSTOMERS: 1})

    _approved(office, "bad_debt", {"客户名称": CUSTOMER, "原合同编号": on_account["number"], "核销金额": Decimal("500.00"),
                                   "账龄天数": 400, "原因": "客户经营困难,多次催收无果", "办事处经理": "沈涛",
                                   "区域经理": "韩冰", "内务主管": "杨柳", "申请人": "王芳", "申请日期": office.today})
    _check(office, tmp_path, "bad-debt", {CONTRACTS: 1, CUSTOMERS: 1})

    _approved(office, "customer_status", new_forms.status_change(office.today, state="停用"))
    _check(office, tmp_path, "status", {CUSTOMERS: 1})
    [line] = [r for r in office.register(CUSTOMERS) if r["客户名称"] == CUSTOMER]
    assert line["状态"] == "停用"


def test_a_row_changed_unnamed_is_found_on_the_next_days_first_render(quiet, tmp_path):
    office = quiet
    rt = office.rt
    with rt.store.begin() as conn:
        mark_dirty(conn, NAMES, office.now, rows={name: None for name in NAMES})
    _render(office)
    with rt.store.begin() as conn:  # no writer: nothing names the row
        conn.execute(s.customers.update().where(s.customers.c.name == CUSTOMER).values(grade="C"))
        mark_dirty(conn, NAMES, office.now)
    assert _render(office).incremental[CUSTOMERS] == 0  # the same day: the names alone are read
    office.at(MONDAY.replace(day=MONDAY.day + 1))
    with rt.store.begin() as conn:
        mark_dirty(conn, NAMES, office.now)
    _check(office, tmp_path, "next-day", {CUSTOMERS: 1})
    [line] = [r for r in office.register(CUSTOMERS) if r["客户名称"] == CUSTOMER]
    assert line["等级"] == "C"

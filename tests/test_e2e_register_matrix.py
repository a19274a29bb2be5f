"""Issue 13: after the approval of any form of the pack, every register and the dashboard
still render, each register gains exactly the rows that approval should give it, and
``officeflow registers rebuild`` exits 0.

Each case goes through real folders: a real form dropped into inbox/, task files moved
into 同意/ by the approvers, the real pipeline, then the real workbooks read back.
"""

from __future__ import annotations

import shutil
from decimal import Decimal

import openpyxl
import pytest
from support import new_forms
from support.e2e import CUSTOMER, MONDAY, Office, _morning, register_rows

from automation import samples
from automation.clock import Clock
from automation.record.registers.definitions import REGISTERS

CONTRACT_TOTAL = Decimal("10000.00")


def _approved(office: Office, spec_id: str, values: dict, items: list[dict] | None = None) -> dict:
    office.submit(spec_id, values, items)
    office.run()
    case = office.case(form_id=spec_id)
    assert case["status"] == "in_approval", office.submissions()[-1]["reason"]
    case = office.approve_all(case["number"])
    assert case["status"] == "approved", case
    return case


def _contract(office: Office) -> str:
    from automation.record import schema as s

    values, items = samples.sales_contract(CUSTOMER, office.today, payment="账期")
    case = _approved(office, "sales_contract", values, items)
    [contract] = office.rows(s.contracts, s.contracts.c.case_id == case["id"])
    return contract["number"]


def _customer_registration(office: Office) -> None:
    _approved(office, "customer_registration", samples.customer_registration(41, office.today))


def _credit_limit(office: Office) -> None:
    _approved(office, "credit_limit", samples.credit_limit(CUSTOMER, office.today, limit=Decimal("300000.00")))


def _sales_contract(office: Office) -> None:
    _contract(office)


def _expense_claim(office: Office) -> None:
    _approved(office, "expense_claim", *samples.expense_claim(office.today))


def _trip_request(office: Office) -> None:
    _approved(office, "trip_request", samples.trip_request(office.today))


def _complaint(office: Office) -> None:
    _approved(office, "complaint", samples.complaint(office.today, customer=CUSTOMER))


def _return_request(office: Office, contract: str) -> None:
    values = {"原合同编号": contract, "客户名称": CUSTOMER, "申请人": "王芳", "申请日期": office.today}
    items = [{"品名": "工业控制器", "规格型号": "KX-200", "退货数量": 2, "退货原因": "外壳破损"}]
    _approved(office, "return_request", values, items)


def _bad_debt(office: Office, contract: str) -> None:
    values = {"客户名称": CUSTOMER, "原合同编号": contract, "核销金额": Decimal("5000.00"), "账龄天数": 400,
              "原因": "客户经营困难,多次催收无果", "办事处经理": "沈涛", "区域经理": "韩冰", "内务主管": "杨柳",
              "申请人": "王芳", "申请日期": office.today}
    _approved(office, "bad_debt", values)


def _leave_request(office: Office) -> None:
    _approved(office, "leave_request", new_forms.leave(office.today))


def _seal_request(office: Office) -> None:
    _approved(office, "seal_request", new_forms.seal(office.today))


def _loan_request(office: Office) -> None:
    _approved(office, "loan_request", new_forms.loan(office.today))


def _payment_receipt(office: Office, contract: str) -> None:
    _approved(office, "payment_receipt", new_forms.receipt(contract, Decimal("1000.00"), office.today))


def _customer_status(office: Office) -> None:
    _approved(office, "customer_status", new_forms.status_change(office.today, state="停用"))


# form → (needs an approved 账期 contract first, how to approve one case, rows each register gains)
MATRIX = {
    "customer_registration": (False, _customer_registration, {"审批台账": 1, "客户台账": 1}),
    "credit_limit": (False, _credit_limit, {"审批台账": 1}),
    "sales_contract": (False, _sales_contract, {"审批台账": 1, "合同台账": 1}),
    "expense_claim": (False, _expense_claim, {"审批台账": 1, "报销台账": 1}),
    "trip_request": (False, _trip_request, {"审批台账": 1}),
    "complaint": (False, _complaint, {"审批台账": 1, "投诉台账": 1}),
    "return_request": (True, _return_request, {"审批台账": 1, "退货台账": 1}),
    "bad_debt": (True, _bad_debt, {"审批台账": 1, "坏账台账": 1}),
    "leave_request": (False, _leave_request, {"审批台账": 1, "请假台账": 1}),
    "seal_request": (False, _seal_request, {"审批台账": 1, "用印台账": 1}),
    "loan_request": (False, _loan_request, {"审批台账": 1, "借款台账": 1}),
    "payment_receipt": (True, _payment_receipt, {"审批台账": 1, "回款台账": 1}),
    "customer_status": (False, _customer_status, {"审批台账": 1}),
}
# Registers a form spec declares: absent until the form's first case.
DECLARED = ("请假台账", "用印台账", "回款台账")
ALL_REGISTERS = (*REGISTERS, *DECLARED)


def _rebuild_and_read(office: Office) -> dict[str, list[dict]]:
    office.close()
    result = office.cli("registers", "rebuild")
    assert result.returncode == 0, result.stdout + result.stderr
    folder = office.outbox / "registers"
    dashboard = openpyxl.load_workbook(folder / "看板.xlsx")
    assert dashboard.sheetnames
    return {name: register_rows(folder / f"{name}.xlsx") if (folder / f"{name}.xlsx").exists() else []
            for name in ALL_REGISTERS}


def test_register_matrix_covers_every_form_of_the_pack(office):
    forms = {p.stem for p in (office.root / "forms").glob("*.yaml")}
    assert set(MATRIX) == forms


@pytest.fixture(scope="module")
def starting_points(tmp_path_factory, customer_workspace):
    """needs a contract → (workspace, contract number, register rows before the approval), built once:
    the customer's workspace, and the same with an approved 账期 contract; each test approves in a copy."""
    made = {}
    for needs_contract in (False, True):
        root = tmp_path_factory.mktemp("matrix-start") / "ws"
        shutil.copytree(customer_workspace, root)
        office = Office(root=root, clock=Clock(fixed=_morning(MONDAY)))
        try:
            contract = _contract(office) if needs_contract else None
            made[needs_contract] = (root, contract, _rebuild_and_read(office))
        finally:
            office.close()
    return made


@pytest.mark.parametrize("spec_id", sorted(MATRIX))
def test_every_register_renders_after_each_kind_of_approval(starting_points, tmp_path, spec_id):
    needs_contract, approve, gained = MATRIX[spec_id]
    start, contract, before = starting_points[needs_contract]
    shutil.copytree(start, tmp_path / "ws")
    office = Office(root=tmp_path / "ws", clock=Clock(fixed=_morning(MONDAY)))
    try:
        approve(office, contract) if needs_contract else approve(office)
        summary = office.run()
        assert "error" not in summary.taken
        after = _rebuild_and_read(office)

        assert {name: len(after[name]) - len(before[name]) for name in ALL_REGISTERS} == {
            name: gained.get(name, 0) for name in ALL_REGISTERS}
        assert office.submissions()[-1]["status"] == "archived"
    finally:
        office.close()


def test_bad_debt_write_off_keeps_registers_rendering(customer_office):
    office = customer_office
    contract = _contract(office)
    _bad_debt(office, contract)
    # The watcher's own render (not only a rebuild) keeps working after the write-off.
    office.submit("trip_request", samples.trip_request(office.today))
    office.run()
    assert office.case(form_id="trip_request")["status"] == "in_approval"
    process = office.cli("process")
    assert process.returncode == 0, process.stdout + process.stderr

    rows = _rebuild_and_read(office)
    [debt] = rows["坏账台账"]
    assert (debt["合同"], Decimal(str(debt["金额"]))) == (contract, Decimal("5000.00"))
    assert debt["责任人与分担金额"] == "沈涛(办事处经理)50% 2,500.00;韩冰(区域经理)25% 1,250.00;杨柳(内务主管)25% 1,250.00"
    [customer] = [r for r in rows["客户台账"] if r["客户名称"] == CUSTOMER]
    assert Decimal(str(customer["未收款"])) == CONTRACT_TOTAL - Decimal("5000.00")

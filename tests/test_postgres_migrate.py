"""``officeflow store migrate --to postgresql+psycopg://…``: a SQLite store with cases in several
states moves into PostgreSQL; the copy has every row, passes ``audit verify`` and renders the
same registers; an unfinished target or a running worker is refused."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import select
from support.e2e import CUSTOMER, Office, edit_policy, register_rows, set_condition, set_named
from support.workers import use_store

from automation import samples
from automation.cli.main import main
from automation.clock import Clock
from automation.intake.worklock import worker_lock
from automation.record import schema as s
from automation.record.audit import verify_trail
from automation.record.migrate import counts
from automation.record.registers.render import rebuild_all
from automation.record.store import open_store
from automation.runtime import open_runtime

REGISTERS = ("审批台账", "客户台账")


def _office_with_cases_in_several_states(tmp_path) -> Office:
    office = Office.create(tmp_path)
    today = office.today
    for seq in range(1, 5):
        office.submit("customer_registration", samples.customer_registration(seq, today))
    office.submit("customer_registration", {**samples.customer_registration(9, today), "统一社会信用代码": "不对"})
    (office.root / "inbox" / "杂项.xlsx").write_bytes(b"not a form")
    office.run()
    numbers = sorted(c["number"] for c in office.cases())
    office.approve_all(numbers[0])                      # approved (and a customer registered)
    for number, decision in ((numbers[1], "驳回"), (numbers[2], "退回修改")):  # rejected; returned for changes
        set_named(office.task("吴强", number), {"审批意见": "营业执照已过期"})
        office.move_to("吴强", decision, number)
    office.run()                                        # numbers[3] stays in approval
    return office


def _registers(root) -> dict[str, list[dict]]:
    return {name: register_rows(root / "outbox" / "registers" / f"{name}.xlsx") for name in REGISTERS}


def test_sqlite_store_with_cases_in_several_states_moves_into_postgresql_intact(tmp_path, pg_url):
    office = _office_with_cases_in_several_states(tmp_path)
    states = sorted({c["status"] for c in office.cases()})
    assert len(states) >= 3, states
    before = _registers(office.root)
    sqlite_url = office.rt.settings.store_url
    office.close()

    moved = office.cli("store", "migrate", "--to", pg_url)
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert "审计链" in moved.stdout and "全部校验通过" in moved.stdout

    source, target = open_store(sqlite_url), open_store(pg_url)
    try:
        with source.read() as a, target.read() as b:
            assert counts(a) == counts(b) and counts(b)["cases"] == 5 - 1 and counts(b)["audit_log"] > 10
            assert sorted(map(tuple, a.execute(select(s.cases.c.number, s.cases.c.status)).all())) == \
                sorted(map(tuple, b.execute(select(s.cases.c.number, s.cases.c.status)).all()))
    finally:
        source.dispose()
        target.dispose()

    use_store(office.root, pg_url)
    for path in (office.root / "outbox" / "registers").glob("*.xlsx"):
        path.unlink()
    rt = open_runtime(office.root, clock=Clock(fixed=office.now))
    try:
        assert rt.store.is_shared
        with rt.store.read() as conn:
            trail = verify_trail(conn, checkpoint=rt.settings.audit_checkpoint)
        assert trail.ok, trail.to_dict()
        rebuild_all(rt.store, rt.settings, today=rt.clock.today(), workdays_between=rt.calendar.workdays_between)
        with rt.store.begin() as conn:  # new rows after the copy get fresh ids (the sequences moved on)
            conn.execute(s.alerts.insert().values(at=rt.clock.now(), kind="test", message="迁移后的第一条"))
    finally:
        rt.close()
    assert _registers(office.root) == before, "the same registers from the copied store"


def test_migrate_refuses_a_target_that_is_not_empty_and_a_running_worker(tmp_path, pg_url, capsys):
    office = Office.create(tmp_path)
    (office.root / "inbox" / "杂项.xlsx").write_bytes(b"not a form")
    office.run()
    office.close()
    migrate = ["store", "migrate", "--to", pg_url, "--workspace", str(office.root)]
    with worker_lock(office.root / ".officeflow"):  # a watcher is running on the workspace
        assert main(migrate) == 2
    assert "另一个 OfficeFlow 进程正在处理此工作区" in capsys.readouterr().err
    assert main(migrate) == 0
    capsys.readouterr()
    assert main(migrate) == 2
    assert "目标数据库不是空的" in capsys.readouterr().err


def _serials(numbers) -> dict[str, list[int]]:
    """Numbers by their prefix (rule and period), as the trailing serials, sorted."""
    found: dict[str, list[int]] = {}
    for number in numbers:
        prefix, serial = re.match(r"(.*?)(\d+)$", number).groups()
        found.setdefault(prefix, []).append(int(serial))
    return {prefix: sorted(v) for prefix, v in found.items()}


def _gap_free(numbers) -> bool:
    return all(v == list(range(1, len(v) + 1)) for v in _serials(numbers).values())


def test_a_blocked_case_a_held_form_and_an_approved_contract_move_and_numbering_continues_on_postgresql(
        customer_office, pg_url):
    office = customer_office
    values, items = samples.sales_contract(CUSTOMER, office.today, amount_each=Decimal("600.00"), payment="账期")
    office.submit("sales_contract", values, items)
    office.run()
    contract_case = office.case(form_id="sales_contract")
    assert office.approve_all(contract_case["number"])["status"] == "approved"
    [contract] = office.rows(s.contracts)
    claim, claim_items = samples.expense_claim(office.today, claimant="赵建国", department="总经办",
                                               amount=Decimal("30000.00"))
    office.submit("expense_claim", claim, claim_items)  # the 总经理's own claim: held for a named approver
    office.run()
    assert office.case(form_id="expense_claim")["status"] == "blocked"
    office.close()
    set_condition(office.root, "客户登记表", "申请日期 > 1")  # a policy fault: the next registration is held
    office.submit("customer_registration", samples.customer_registration(31, office.today), name="待修正.xlsx")
    office.run()
    assert office.submissions()[-1]["reason_code"] == "policy-held"
    before = {c["number"]: c["status"] for c in office.cases()}
    office.close()

    moved = office.cli("store", "migrate", "--to", pg_url)
    assert moved.returncode == 0, moved.stdout + moved.stderr
    use_store(office.root, pg_url)
    assert office.rt.store.is_shared
    assert {c["number"]: c["status"] for c in office.cases()} == before
    assert [(c["number"], c["case_id"]) for c in office.rows(s.contracts)] == [(contract["number"], contract["case_id"])]
    assert office.submissions()[-1]["reason_code"] == "policy-held"

    # On PostgreSQL now: the policy fixed, the held form is judged and numbered next; a second contract
    # gets the next contract number; the blocked case is routed once the policy names an approver.
    office.close()
    set_condition(office.root, "客户登记表", None)
    edit_policy(office.root, "参数", lambda ws: ws.append(["总经理本人申请审批人", "钱明", "文本", "人", "董事会指定的审批人"]))
    office.submit("sales_contract", *samples.sales_contract(CUSTOMER, office.today, amount_each=Decimal("700.00"),
                                                            payment="账期"))
    office.run()
    office.run()
    released = office.submissions()
    assert any(x["original_path"] == "待修正.xlsx" and x["reason_code"] == "accepted" for x in released)
    assert office.case(form_id="expense_claim")["status"] != "blocked"
    second = max((c for c in office.cases() if c["form_id"] == "sales_contract"), key=lambda c: c["id"])
    assert second["number"] != contract_case["number"]
    assert office.approve_all(second["number"])["status"] == "approved"
    cases = office.cases()
    assert len(cases) == len(before) + 1 + 1, "the released form and the second contract, one case each"
    assert _gap_free(c["number"] for c in cases), _serials(c["number"] for c in cases)
    contracts = [c["number"] for c in office.rows(s.contracts)]
    assert len(contracts) == 2 and _gap_free(contracts), contracts
    office.close()
    verify = office.cli("audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr

"""我的申请 reads every case of a person in a few queries: the same views as one case at a time."""

from __future__ import annotations

from datetime import timedelta

from support.e2e import CUSTOMER, register_rows

from automation import samples
from automation.act import receipts
from automation.record import schema as s


def _contracts_approved_returned_and_more(office, quantities, *, reject_third=False):
    """Sales contracts of 王芳 in several states: the first approved with its contract, the second returned."""
    for quantity in quantities:
        values, items = samples.sales_contract(CUSTOMER, office.today, quantity=quantity)
        office.submit("sales_contract", values, items)
    office.run()
    contracts = [c for c in office.cases() if c["form_id"] == "sales_contract"]
    office.approve_all(contracts[0]["number"])                      # approved, with its contract
    office.decide_in_cell("吴强", "退回修改", "请补充交货地点", contracts[1]["number"])
    if reject_third:
        office.decide_in_cell("吴强", "驳回", "价格低于底价", contracts[2]["number"])
    office.run()
    return contracts


def test_my_requests_of_many_cases_shows_the_same_view_of_each_case_as_its_receipt(customer_office):
    office = customer_office
    contracts = _contracts_approved_returned_and_more(office, (3, 7, 9))
    who = s.cases.c.applicant == "王芳"
    with office.rt.store.begin() as conn:  # as convert_pending records a 审批单's PDF where LibreOffice made one
        conn.execute(s.outputs.insert().values(kind=receipts.RECORD_PDF_KIND, key=contracts[0]["number"],
                                               path="outbox/archive/审批单.pdf", at=office.now))
    with office.rt.store.read() as conn:
        cases = [dict(r) for r in conn.execute(s.cases.select().where(who).order_by(s.cases.c.id)).mappings()]
        batched = receipts._views_of(conn, who, cases)
        one_by_one = {case["id"]: receipts.load_view(conn, case) for case in cases}
    assert len(cases) >= 4 and batched == one_by_one
    assert any(v.contract for v in batched.values()) and any(v.history for v in batched.values())
    assert any(v.approval_pdf for v in batched.values())
    rows = {r["编号"]: r for r in register_rows(office.outbox / "requests" / "王芳" / "我的申请.xlsx")}
    assert rows[contracts[0]["number"]]["合同编号"] == batched[contracts[0]["id"]].contract["number"]
    assert rows[contracts[1]["number"]]["状态"] == "退回修改" and rows[contracts[2]["number"]]["当前审批人"] == "吴强"


def _rows_from_views(conn, person, *, today, workdays_between, tz):
    """我的申请 as it was built from every case's full view (``_views_of``): the reference."""
    from pathlib import Path

    c = s.cases.c
    who = c.applicant == person
    cases = [dict(r) for r in conn.execute(s.cases.select().where(who).order_by(c.id)).mappings()]
    views = receipts._views_of(conn, who, cases)
    paths = dict(conn.execute(s.receipts.select().with_only_columns(s.receipts.c.case_id, s.receipts.c.path)).all())
    local = (lambda m: m.astimezone(tz).replace(tzinfo=None) if m else None)
    rows = []
    for case in cases:
        view = views[case["id"]]
        started = min((t["opened_at"] for t in view.open_tasks if t["opened_at"]), default=None)
        waited = workdays_between(started.astimezone(tz).date(), today) if started else None
        receipt = paths.get(case["id"])
        rows.append((view.number, case["form_title"] or case["form_id"], local(case["created_at"]), case["amount"],
                     receipts.STATE_WORDS.get(view.status, view.status), view.holders, waited, view.next_step(),
                     receipts.RESULT_WORDS.get(view.status, ""), (view.contract or {}).get("number"),
                     local(case["decided_at"]) if view.status in receipts.FINISHED else None,
                     Path(receipt).name if receipt else None))
    return rows


def test_my_requests_rows_read_lean_equal_the_rows_of_the_full_views(customer_office):
    from zoneinfo import ZoneInfo

    office = customer_office
    contracts = _contracts_approved_returned_and_more(office, (3, 7, 9, 11), reject_third=True)
    rt = office.rt
    args = dict(today=rt.clock.today() + timedelta(days=9), workdays_between=rt.calendar.workdays_between,
                tz=ZoneInfo(rt.settings.time.timezone))
    with rt.store.read() as conn:
        lean = receipts.my_request_rows(conn, "王芳", **args)
        reference = _rows_from_views(conn, "王芳", **args)
    assert lean == reference
    states = {row[4] for row in lean}
    assert {"审批中", "已通过", "退回修改", "已驳回"} <= states and any(row[6] for row in lean)  # waited workdays
    assert any(row[9] for row in lean) and all(row[11] for row in lean)  # a contract number; every receipt

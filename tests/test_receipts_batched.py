"""我的申请 reads every case of a person in a few queries: the same views as one case at a time."""

from __future__ import annotations

from support.e2e import CUSTOMER, register_rows

from automation import samples
from automation.act import receipts
from automation.record import schema as s


def test_my_requests_of_many_cases_shows_the_same_view_of_each_case_as_its_receipt(customer_office):
    office = customer_office
    for quantity in (3, 7, 9):
        values, items = samples.sales_contract(CUSTOMER, office.today, quantity=quantity)
        office.submit("sales_contract", values, items)
    office.run()
    contracts = [c for c in office.cases() if c["form_id"] == "sales_contract"]
    office.approve_all(contracts[0]["number"])                      # approved, with its contract
    office.decide_in_cell("吴强", "退回修改", "请补充交货地点", contracts[1]["number"])
    office.run()
    who = s.cases.c.applicant == "王芳"
    with office.rt.store.read() as conn:
        cases = [dict(r) for r in conn.execute(s.cases.select().where(who).order_by(s.cases.c.id)).mappings()]
        batched = receipts._views_of(conn, who, cases)
        one_by_one = {case["id"]: receipts.load_view(conn, case) for case in cases}
    assert len(cases) >= 4 and batched == one_by_one
    assert any(v.contract for v in batched.values()) and any(v.history for v in batched.values())
    rows = {r["编号"]: r for r in register_rows(office.outbox / "requests" / "王芳" / "我的申请.xlsx")}
    assert rows[contracts[0]["number"]]["合同编号"] == batched[contracts[0]["id"]].contract["number"]
    assert rows[contracts[1]["number"]]["状态"] == "退回修改" and rows[contracts[2]["number"]]["当前审批人"] == "吴强"

"""``officeflow status`` reads one moment of the store: a case opened by a worker while the report is
being read is either wholly in it (the case and its approver's count) or wholly not — never a to-do
counted for an approver whose case the report does not list."""

from __future__ import annotations

from datetime import date

from sqlalchemy import event
from support.decide import CAL, desk, route, step

from automation.decide.status import status_report


def test_a_case_opened_while_the_status_report_reads_is_not_half_in_it(tmp_path):
    d = desk(tmp_path)
    d.open(route(step("部门经理", "王经理", limit=2)), number="SQ-2026-0001")
    opened: list[str] = []

    def open_another_after_the_cases_are_read(conn, cursor, statement, *args):
        if not opened and statement.lstrip().upper().startswith("SELECT") and "FROM cases" in statement:
            opened.append("SQ-2026-0002")  # first: opening it reads cases too
            d.open(route(step("部门经理", "王经理", limit=2)), number="SQ-2026-0002")

    event.listen(d.store.engine, "after_cursor_execute", open_another_after_the_cases_are_read)
    try:
        report = status_report(d.store, cal=CAL, today=date(2026, 11, 24))
    finally:
        event.remove(d.store.engine, "after_cursor_execute", open_another_after_the_cases_are_read)
    assert opened, "the second case was opened while the report read"
    assert [c["编号"] for c in report.open_cases] == ["SQ-2026-0001"]
    assert report.per_person == [{"审批人": "王经理", "待办数": 1, "超时数": 0}]
    after = status_report(d.store, cal=CAL, today=date(2026, 11, 24))
    assert [c["编号"] for c in after.open_cases] == ["SQ-2026-0001", "SQ-2026-0002"]
    assert after.per_person == [{"审批人": "王经理", "待办数": 2, "超时数": 0}]

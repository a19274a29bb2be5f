"""The applicant's folder outbox/requests/<姓名>/: one receipt per case that follows every change
of state, 我的申请.xlsx, what the CLI says about a routed submission, and a workspace laid
out as before (outbox/returned/<姓名>/) moved over with nothing lost."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from decimal import Decimal

import openpyxl
from support.e2e import CUSTOMER, Office, register_rows

from automation import samples
from automation.fsutil import sha256_file
from automation.record import schema as s


def _receipt_cells(path) -> dict:
    """Label → value of the receipt's field block, and the headline under ``__headline__``."""
    ws = openpyxl.load_workbook(path).worksheets[0]
    cells = {row[0]: row[1] for row in ws.iter_rows(values_only=True) if row[0] is not None}
    cells["__headline__"] = ws["A2"].value
    return cells


def _history(path) -> list[tuple]:
    ws = openpyxl.load_workbook(path).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == "轮次")
    out = []
    for r in rows[start + 1:]:
        if r[1] is None:
            break
        out.append(r[:6])
    return out


def _one_receipt(office: Office, number: str):
    found = [p for p in office.files("requests", "王芳") if p.name.startswith(number + " ")
             and p not in office.returned("王芳")]
    assert len(found) == 1, [p.name for p in office.files("requests", "王芳")]
    return found[0]


def _contract(office: Office, **options) -> dict:
    values, items = samples.sales_contract(CUSTOMER, office.today, **options)
    office.submit("sales_contract", values, items)
    office.run()
    return office.case(form_id="sales_contract")


def test_submission_writes_a_receipt_naming_the_number_and_the_approver(customer_office):
    office = customer_office
    case = _contract(office)
    receipt = _one_receipt(office, case["number"])
    assert receipt.name == f"{case['number']} 销售合同审批表 等待吴强审批.xlsx"
    [task] = office.rows(s.tasks, s.tasks.c.case_id == case["id"], s.tasks.c.status == "open")
    cells = _receipt_cells(receipt)
    assert cells["__headline__"] == f"已提交 · 编号 {case['number']} · 等待 吴强 审批 · 办理时限 {task['due_on']:%Y-%m-%d}"
    assert (cells["当前状态"], cells["当前审批人"], cells["申请人"]) == ("审批中", "吴强", "王芳")
    assert receipt.parent == office.outbox / "requests" / "王芳"
    assert (receipt.parent / "撤回").is_dir() and (receipt.parent / "催办").is_dir()


def test_each_change_of_state_rewrites_the_same_receipt_and_the_approved_one_names_the_contract(customer_office):
    office = customer_office
    case = _contract(office, amount_each=Decimal("60000.00"), payment="账期", special="质保期延长至三年")
    seen = []
    for _ in range(6):
        holders = office.open_holders(case["number"])
        if not holders:
            break
        receipt = _one_receipt(office, case["number"])
        seen.append(receipt.name)
        assert f"等待 {'、'.join(holders)} 审批" in _receipt_cells(receipt)["__headline__"]
        for person in holders:
            office.approve(person, case["number"])
        office.run()
    assert len(seen) >= 2 and len(set(seen)) == len(seen)  # renamed as the approver changes
    [contract] = office.rows(s.contracts, s.contracts.c.case_id == case["id"])
    receipt = _one_receipt(office, case["number"])
    assert receipt.name == f"{case['number']} 销售合同审批表 已通过.xlsx"
    cells = _receipt_cells(receipt)
    assert cells["合同编号"] == contract["number"] and cells["合同文件"] == contract["file_path"]
    assert (office.root / contract["file_path"]).exists()
    assert cells["__headline__"] == (f"已通过 · 编号 {case['number']} · 合同编号 {contract['number']} · "
                                     f"合同文件 {contract['file_path']}")
    assert [h[3] for h in _history(receipt)] == ["同意"] * len(_history(receipt))
    assert len(office.rows_of(s.receipts)) == len(office.cases())  # one receipt per case, no pile of copies


def test_rejected_receipt_gives_the_reason_and_the_returned_one_says_what_to_do(customer_office):
    office = customer_office
    case = _contract(office)
    office.decide_in_cell("吴强", "驳回", "价格低于公司底价", case["number"])
    office.run()
    receipt = _one_receipt(office, case["number"])
    assert receipt.name.endswith(" 已驳回.xlsx")
    cells = _receipt_cells(receipt)
    assert cells["__headline__"] == f"已驳回 · 编号 {case['number']} · 吴强驳回,原因:价格低于公司底价"
    assert cells["结果"] == "驳回" and cells["完成时间"]
    assert _history(receipt)[-1][2:5] == ("吴强", "驳回", "价格低于公司底价")


def test_my_requests_lists_every_case_of_the_person_with_its_state(customer_office):
    office = customer_office
    first = _contract(office)
    values, items = samples.sales_contract(CUSTOMER, office.today, quantity=7)
    office.submit("sales_contract", values, items)
    office.run()
    second = [c for c in office.cases() if c["form_id"] == "sales_contract" and c["id"] != first["id"]][0]
    office.decide_in_cell("吴强", "退回修改", "请补充交货地点", second["number"])
    office.run()
    rows = {r["编号"]: r for r in register_rows(office.outbox / "requests" / "王芳" / "我的申请.xlsx")}
    assert set(rows) == {c["number"] for c in office.cases()}
    assert (rows[first["number"]]["状态"], rows[first["number"]]["当前审批人"]) == ("审批中", "吴强")
    assert rows[first["number"]]["已等待工作日"] == 0 and rows[first["number"]]["下一步"] == "等待 吴强 审批"
    assert (rows[second["number"]]["状态"], rows[second["number"]]["结果"]) == ("退回修改", "退回修改")
    approved = [n for n, r in rows.items() if n not in (first["number"], second["number"])]
    assert approved and all(rows[n]["状态"] == "已通过" and rows[n]["完成时间"] for n in approved)


def test_process_says_a_routed_submission_is_waiting_for_its_approver_not_archived(customer_office):
    office = customer_office
    values, items = samples.sales_contract(CUSTOMER, office.today)
    office.submit("sales_contract", values, items, name="合同.xlsx")
    office.close()
    result = office.cli("process")
    assert result.returncode == 0, result.stderr
    number = office.case(form_id="sales_contract")["number"]
    assert f"合同.xlsx → 已提交,编号 {number},等待 吴强 审批" in result.stdout
    assert "已归档" not in result.stdout.split("收件箱")[0]


def test_status_for_one_person_lists_their_open_requests_and_to_dos(customer_office):
    office = customer_office
    case = _contract(office)
    office.close()
    mine = json.loads(office.cli("status", "--person", "王芳", "--json").stdout)
    assert [r["编号"] for r in mine["requests"]] == [case["number"]] and mine["todos"] == []
    assert mine["requests"][0]["当前审批人"] == "吴强"
    theirs = json.loads(office.cli("status", "--person", "吴强", "--json").stdout)
    assert [t["编号"] for t in theirs["todos"]] == [case["number"]] and theirs["requests"] == []
    text = office.cli("status", "--person", "王芳").stdout
    assert "进行中的申请 1 件,待办审批 0 件" in text and "我的申请" in text


# --- a workspace from before the change ---------------------------------------------------------


def _old_layout(office: Office):
    """What a workspace looked like before outbox/requests/: returned forms under
    outbox/returned/<姓名>/, with the store pointing at them."""
    values = samples.customer_registration(81, office.today)
    values["联系电话"] = "12345"
    office.submit("customer_registration", values)
    office.run()
    [sub] = office.submissions()
    new = office.root / sub["extra_path"]
    old = office.outbox / "returned" / "王芳" / new.name
    old.parent.mkdir(parents=True)
    shutil.move(new, old)
    (old.parent / "旧的说明.txt").write_text("以前退回的说明", encoding="utf-8")
    (old.parent / "子文件夹").mkdir()
    (old.parent / "子文件夹" / "备份.xlsx").write_bytes(b"PK-not-really")
    (office.outbox / "returned" / "李四").mkdir()
    (office.outbox / "returned" / "李四" / "退回.xlsx").write_bytes(b"li-si")
    (office.outbox / "returned" / "未识别").mkdir(parents=True, exist_ok=True)
    (office.outbox / "returned" / "未识别" / "谁的.txt").write_text("未识别", encoding="utf-8")
    clash = office.outbox / "requests" / "李四" / "退回.xlsx"
    clash.parent.mkdir(parents=True)
    clash.write_bytes(b"already-here")
    with office.rt.store.begin() as conn:
        conn.execute(s.submissions.update().where(s.submissions.c.id == sub["id"])
                     .values(extra_path=old.relative_to(office.root).as_posix()))
    office.close()
    return sub


def _contents(folder) -> list[str]:
    return sorted(sha256_file(p)[0] for p in folder.rglob("*") if p.is_file())


def test_workspace_from_before_is_moved_to_the_new_layout_with_nothing_lost(office):
    sub = _old_layout(office)
    before = _contents(office.outbox / "returned") + _contents(office.outbox / "requests")
    office.run()  # opening the workspace again moves it
    after = _contents(office.outbox / "returned") + _contents(office.outbox / "requests")
    assert sorted(after) == sorted(before)
    assert [p.name for p in (office.outbox / "returned").iterdir() if p.is_dir()] == ["未识别"]
    assert (office.outbox / "returned" / "未识别" / "谁的.txt").exists()
    wang = office.outbox / "requests" / "王芳"
    assert (wang / "旧的说明.txt").read_text(encoding="utf-8") == "以前退回的说明"
    assert (wang / "子文件夹" / "备份.xlsx").read_bytes() == b"PK-not-really"
    li = office.outbox / "requests" / "李四"
    assert sorted(p.read_bytes() for p in li.glob("退回*.xlsx")) == [b"already-here", b"li-si"]
    [moved] = office.submissions()
    assert moved["extra_path"] == f"outbox/requests/王芳/{(office.root / sub['extra_path']).name}"
    assert (office.root / moved["extra_path"]).exists()



def test_cases_that_ended_before_the_upgrade_get_no_receipt_or_approval_record(customer_office):
    """An upgraded workspace with years of finished cases must not spend its first pass rendering them."""
    office = customer_office
    finished = office.cases()
    assert finished and all(c["status"] == "approved" for c in finished)
    with office.rt.store.begin() as conn:  # the store as it was before receipts and 审批单 existed
        conn.execute(s.receipts.delete())
        conn.execute(s.outputs.delete().where(s.outputs.c.kind.in_(("since", "approval-record"))))
    for path in office.files("requests") + [p for p in office.files("archive") if p.name.endswith("审批单.xlsx")]:
        path.unlink()
    office.at(office.today + timedelta(days=1))
    case = _contract(office)
    assert [p.name.split(" ")[0] for p in office.receipts("王芳")] == [case["number"]]
    assert not [p for p in office.files("archive") if p.name.endswith("审批单.xlsx")]
    rows = register_rows(office.outbox / "requests" / "王芳" / "我的申请.xlsx")
    assert {r["编号"] for r in rows} == {c["number"] for c in office.cases()}  # history is still listed


def test_receipts_wait_while_a_burst_is_still_arriving_then_each_case_gets_one(office):
    """The watcher's pass takes in what is stable and leaves receipts for the pass after the burst
    (as it leaves the registers): a case is not rendered once per pass while files keep coming."""
    from automation.intake.stability import StabilityTracker
    from automation.pipeline import process_pending

    ticks = [0.0]
    tracker = StabilityTracker(1.0, monotonic=lambda: ticks[0])
    office.submit("customer_registration", samples.customer_registration(31, office.today))
    for path in (office.root / "inbox").iterdir():
        tracker.check(path)
    ticks[0] = 5.0  # the first form has settled; the second is only just arriving
    office.submit("customer_registration", samples.customer_registration(32, office.today))
    summary = process_pending(office.rt, tracker=tracker, wait_stable=False, render_now=False)
    assert summary.waiting == 1 and len(office.cases()) == 1
    assert office.rows_of(s.receipts) == [] and office.files("requests", "王芳") == []
    ticks[0] = 10.0
    summary = process_pending(office.rt, tracker=tracker, wait_stable=False, render_now=False)
    assert summary.waiting == 0 and len(office.cases()) == 2
    written = office.rows_of(s.receipts)
    assert len(written) == 2 and all((office.root / r["path"]).exists() for r in written)
    assert (office.outbox / "requests" / "王芳" / "我的申请.xlsx").exists()
    files = [office.root / r["path"] for r in written]
    before = [p.stat().st_ino for p in files]  # an atomic rewrite is a new file
    process_pending(office.rt, tracker=tracker, wait_stable=False, render_now=False)
    assert [p.stat().st_ino for p in files] == before  # nothing changed: nothing rewritten

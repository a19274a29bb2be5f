"""``officeflow demo``: drop a handful of generated submissions and show what OfficeFlow does.

Uses a throw-away folder for building the forms and the workspace's real inbox,
approval folders and store, so everything it shows is exactly what a person
would see. The demo customer is approved on 吴强's behalf by moving his task
file into 同意/ — the same gesture a real approver makes.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from automation import samples
from automation.decide.engine import status_label
from automation.forms.build_docx import build_docx
from automation.forms.build_xlsx import build_xlsx
from automation.forms.fill import fill
from automation.pipeline import process_pending
from automation.record import schema as s


@dataclass
class DemoStep:
    name: str
    file: str
    outcome: str
    detail: str


@dataclass
class DemoResult:
    steps: list[DemoStep] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"steps": [vars(step) for step in self.steps]}


def run_demo(rt) -> DemoResult:
    work = Path(tempfile.mkdtemp(prefix="officeflow-demo-"))
    try:
        return _run(rt, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(rt, work: Path) -> DemoResult:
    today = rt.clock.today()
    result = DemoResult()
    seq = _next_seq(rt)
    customer = samples.customer_registration(seq, today)
    _drop(rt, work, "customer_registration", "示例-客户登记.xlsx", customer)
    bad = dict(samples.customer_registration(seq + 1, today), 统一社会信用代码="91310000ABC", 联系电话="12345", 客户等级="D")
    _drop(rt, work, "customer_registration", "示例-填错的客户登记.xlsx", bad)
    _drop(rt, work, "trip_request", "示例-出差申请.docx", samples.trip_request(today))
    claim, lines = _big_claim(today)
    _drop(rt, work, "expense_claim", "示例-大额报销.xlsx", claim, lines)
    process_pending(rt)
    _approve_customer(rt, customer["客户名称"])
    process_pending(rt)
    values, items = samples.sales_contract(customer["客户名称"], today, amount_each=Decimal("60000.00"), quantity=10)
    _drop(rt, work, "sales_contract", "示例-重大合同.xlsx", values, items)
    process_pending(rt)
    for name, label in (("示例-客户登记.xlsx", "有效的客户登记(审批后入客户台账)"),
                        ("示例-填错的客户登记.xlsx", "填错的客户登记"),
                        ("示例-出差申请.docx", "Word 出差申请"),
                        ("示例-大额报销.xlsx", "超过分管副总、总经理审批金额的报销"),
                        ("示例-重大合同.xlsx", "重大合同(600,000 元)")):
        result.steps.append(_describe(rt, label, name))
    return result


def _next_seq(rt) -> int:
    with rt.store.read() as conn:
        return 9000 + len(conn.execute(select(s.customers.c.id)).all()) * 2


def _drop(rt, work: Path, spec_id: str, name: str, values: dict, items: list[dict] | None = None) -> None:
    spec = rt.specs[spec_id]
    blank = work / f"{spec_id}.{spec.kind}"
    (build_xlsx if spec.kind == "xlsx" else build_docx)(spec, blank)
    fill(blank, spec, values, items or [])
    shutil.move(str(blank), str(rt.settings.inbox / name))


def _big_claim(today):
    day = today - timedelta(days=1)
    lines = [{"费用类别": "其他", "发生日期": day, "地点": "上海", "事由": "年度展会展位费", "金额": Decimal("26000.00"), "单据张数": 2}]
    claim = {"报销人": "王芳", "部门": "销售一部", "报销日期": today, "合计金额": Decimal("26000.00"),
             "合计金额大写": "贰万陆仟元整", "附件张数": 2}
    return claim, lines


def _approve_customer(rt, customer_name: str) -> None:
    with rt.store.read() as conn:
        rows = conn.execute(select(s.tasks.c.file_path, s.tasks.c.assignee).join(s.cases, s.cases.c.id == s.tasks.c.case_id)
                            .where(s.tasks.c.status == "open", s.cases.c.customer == customer_name)).all()
    for row in rows:
        path = rt.abs(row.file_path) if row.file_path else None
        if path and path.exists():
            shutil.move(str(path), str(path.parent / "同意" / path.name))


def _describe(rt, label: str, name: str) -> DemoStep:
    with rt.store.read() as conn:
        sub = conn.execute(select(s.submissions).where(s.submissions.c.name == name).order_by(s.submissions.c.id.desc())).first()
        if sub is None:
            return DemoStep(label, name, "未处理", "")
        if sub.case_id is None:
            where = sub.extra_path or sub.dest_path
            return DemoStep(label, name, {"returned": "已退回", "quarantined": "已隔离"}.get(sub.outcome, sub.outcome),
                            f"{sub.reason}(见 {where})")
        case = conn.execute(select(s.cases).where(s.cases.c.id == sub.case_id)).one()
        tasks = conn.execute(select(s.tasks).where(s.tasks.c.case_id == case.id).order_by(s.tasks.c.step_index, s.tasks.c.id)).all()
        contract = conn.execute(select(s.contracts).where(s.contracts.c.case_id == case.id)).first()
    chain = " → ".join(f"{t.role} {t.assignee}{'✓' if t.decision == '同意' else ''}" for t in tasks)

    detail = f"{case.number}:{chain}"
    if contract is not None:
        detail += f";合同 {contract.number}"
    return DemoStep(label, name, status_label(case.status), detail)

"""``officeflow demo``: play every form of the pack through a workspace and tell the story.

By default the demo makes a new workspace in a temporary folder (``fresh_workspace``)
so a newcomer who tries it inside the real shared workspace never finds sample cases
in the real registers; ``--here`` plays in the current workspace on purpose. Forms are
built from the specs, filled and dropped into inbox/, and every approval is made the
way an approver makes it: by moving the task file into 同意/. What the reader sees
is therefore exactly what staff would see.
"""

from __future__ import annotations

import random
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from automation import samples
from automation.act.receipts import WITHDRAW_FOLDER, receipt_path
from automation.decide.engine import status_label
from automation.errors import OfficeFlowError
from automation.forms.build_docx import build_docx
from automation.forms.build_xlsx import build_xlsx
from automation.forms.fill import fill, fill_docx, fill_xlsx
from automation.pipeline import process_pending
from automation.policy.expressions import compile_expression
from automation.policy.functions import Context, bind
from automation.record import schema as s
from automation.record.registers.render import rebuild_all
from automation.workspace import init_workspace

# A demo workspace reads a file as soon as it lands and renders registers at once.
# No PDF of each 审批单 either: one LibreOffice start per finished case would make the demo slow.
DEMO_SETTINGS = {"quiet_seconds": "0", "coalesce_seconds": "0", "approval_record_pdf": "false"}
MAX_STEPS = 8  # approval steps a case may take in the demo before we stop pressing 同意


@dataclass
class DemoStep:
    name: str
    file: str
    outcome: str
    detail: str


@dataclass
class DemoResult:
    workspace: str = ""
    events: list[str] = field(default_factory=list)
    steps: list[DemoStep] = field(default_factory=list)
    open_first: list[tuple[str, str]] = field(default_factory=list)  # (what, path relative to the workspace)

    def to_dict(self) -> dict:
        return {"workspace": self.workspace, "events": list(self.events), "steps": [vars(st) for st in self.steps],
                "open_first": [{"what": what, "file": path} for what, path in self.open_first]}


def fresh_workspace(parent: Path | None = None) -> Path:
    """A new workspace in a temporary folder, tuned to process at once."""
    root = Path(tempfile.mkdtemp(prefix="officeflow-demo-", dir=parent))
    init_workspace(root)
    toml = root / "officeflow.toml"
    text = toml.read_text(encoding="utf-8")
    for key, value in DEMO_SETTINGS.items():
        text = re.sub(rf"^{key} = .*$", f"{key} = {value}", text, flags=re.M)
    toml.write_text(text, encoding="utf-8")
    return root


class _Player:
    def __init__(self, rt, work: Path, seed: int | None):
        self.rt, self.work = rt, work
        self.rng = random.Random(seed)
        self.today = rt.clock.today()
        self.result = DemoResult(workspace=str(rt.settings.root))

    # --- the world's gestures --------------------------------------------------------

    def say(self, line: str) -> None:
        self.result.events.append(line)

    def rel(self, path: Path | str) -> str:
        path = Path(path)
        try:
            return path.relative_to(self.rt.settings.root).as_posix()
        except ValueError:
            return str(path)

    def drop(self, spec_id: str, name: str, values: dict, items: list[dict] | None = None) -> None:
        spec = self.rt.specs[spec_id]
        blank = self.work / f"{spec_id}.{spec.kind}"
        (build_xlsx if spec.kind == "xlsx" else build_docx)(spec, blank)
        fill(blank, spec, values, items or [])
        shutil.move(str(blank), str(self.rt.settings.inbox / name))

    def run(self) -> None:
        """One pass; in a workspace that waits for files to settle, wait and pass again."""
        for _ in range(20):
            summary = process_pending(self.rt)
            if not summary.waiting:
                return
            time.sleep(max(self.rt.settings.watch.quiet_seconds, 0.1))

    # --- reading what happened -------------------------------------------------------

    def submission(self, name: str):
        with self.rt.store.read() as conn:
            return conn.execute(select(s.submissions).where(s.submissions.c.name == name)
                                .order_by(s.submissions.c.id.desc())).first()

    def case(self, case_id: int):
        with self.rt.store.read() as conn:
            case = conn.execute(select(s.cases).where(s.cases.c.id == case_id)).one()
            tasks = conn.execute(select(s.tasks).where(s.tasks.c.case_id == case_id)
                                 .order_by(s.tasks.c.step_index, s.tasks.c.id)).all()
            contract = conn.execute(select(s.contracts).where(s.contracts.c.case_id == case_id)).first()
        return case, tasks, contract

    # --- one form, start to finish ---------------------------------------------------

    def play(self, spec_id: str, name: str, label: str, values: dict, items: list[dict] | None = None, *,
             approve: bool = True, finish: bool = True):
        """Submit one form and (``approve``) press 同意 on every step; ``finish=False`` returns its number
        for a gesture of the story (转交, 撤回) before it goes on."""
        title = self.rt.specs[spec_id].title
        who = values.get(self.rt.specs[spec_id].applicant_field) or "王芳"
        self.drop(spec_id, name, values, items)
        self.run()
        sub = self.submission(name)
        if sub is None:
            self.say(f"{who} 提交的「{title}」没有被处理,请运行 officeflow status 查看。")
            return None
        if sub.case_id is None:
            return self._not_accepted(label, name, who, title, sub)
        case, tasks, _ = self.case(sub.case_id)
        waiting = [t for t in tasks if t.status == "open"]
        holders = "、".join(f"{t.role} {t.assignee}" for t in waiting)
        where = f"待办在 outbox/approvals/{waiting[0].assignee}/" if waiting else "没有待办"
        self.say(f"{who} 提交「{title}」({name}):编号 {case.number},送 {holders or '—'} 审批({where})。")
        if not finish:
            return case.number
        if approve:
            self._approve_all(case.id)
        return self._finished(label, name, case.id)

    def finish(self, number: str, name: str, label: str) -> DemoStep:
        case_id = self._case_id(number)
        self._approve_all(case_id)
        return self._finished(label, name, case_id)

    def transfer(self, number: str, to: str, reason: str) -> None:
        """The approver picks 转交 in the task file's 审批结论, names a colleague and saves."""
        case_id = self._case_id(number)
        _, tasks, _ = self.case(case_id)
        [task] = [t for t in tasks if t.status == "open"][:1]
        path = self.rt.abs(task.file_path)
        (fill_docx if path.suffix == ".docx" else fill_xlsx)(path, {"审批结论": "转交", "转交给": to, "审批意见": reason})
        self.run()
        _, tasks, _ = self.case(case_id)
        holders = "、".join(t.assignee for t in tasks if t.status == "open")
        self.say(f"{task.assignee} 在 {number} 的待办中选择「转交」给 {to}(意见:{reason});"
                 f"现在由 {holders or '—'} 审批(outbox/approvals/{to}/),原待办已移入 {task.assignee} 的「已办」。")

    def withdraw(self, number: str, who: str) -> DemoStep | None:
        """The applicant moves the case's receipt into 撤回/ in their own folder."""
        case_id = self._case_id(number)
        receipt = receipt_path(self.rt, case_id)
        if receipt is None or not receipt.exists():
            self.say(f"{number} 没有回执,无法演示撤回。")
            return None
        shutil.move(str(receipt), str(receipt.parent / WITHDRAW_FOLDER / receipt.name))
        self.run()
        case, tasks, _ = self.case(case_id)
        cleared = "、".join(dict.fromkeys(t.assignee for t in tasks if t.status == "cancelled" and t.file_path))
        self.say(f"{who} 把 {number} 的回执移入 outbox/requests/{who}/撤回/:申请{status_label(case.status)},"
                 + (f"{cleared} 的待办已移入「已办」。" if cleared else "没有待办需要清理。"))
        step = DemoStep("撤回的申请", receipt.name, status_label(case.status), f"{number}:申请人撤回")
        self.result.steps.append(step)
        return step

    def _case_id(self, number: str) -> int:
        with self.rt.store.read() as conn:
            return conn.execute(select(s.cases.c.id).where(s.cases.c.number == number)).scalar_one()

    def example_values(self, spec) -> dict:
        """A spec's own 示例 (example) values; one starting with "=" is a policy expression (今天(), 工作日加 …)."""
        functions = bind(Context(today=self.today, calendar=self.rt.calendar))
        values = {}
        for key, value in spec.example:
            if isinstance(value, str) and value.startswith("="):
                value = compile_expression(value[1:], f"{spec.title} · 示例「{key}」").evaluate({}, functions)
            values[key] = value
        return values

    def _not_accepted(self, label: str, name: str, who: str, title: str, sub) -> None:
        where = self.rel(self.rt.settings.root / (sub.extra_path or sub.dest_path or ""))
        reason = (sub.reason or "").split("第一处:")[-1]
        self.say(f"{who} 提交的「{title}」需要修改,已退回:{reason}(见 {where})")
        self.result.steps.append(DemoStep(label, name, {"returned": "已退回", "quarantined": "已隔离"}.get(
            sub.outcome, sub.outcome), f"{sub.reason}(见 {where})"))
        if sub.outcome == "returned":
            self.result.open_first.append(("退回给填表人的表单(问题单元格标红)", where))

    def _approve_all(self, case_id: int) -> None:
        for _ in range(MAX_STEPS):
            case, tasks, _ = self.case(case_id)
            open_tasks = [t for t in tasks if t.status == "open" and t.file_path]
            if case.status != "in_approval" or not open_tasks:
                return
            for task in open_tasks:
                path = self.rt.abs(task.file_path)
                if path.exists():
                    shutil.move(str(path), str(path.parent / "同意" / path.name))
                    self.say(f"{task.assignee}({task.role})把 {case.number} 的待办拖进「同意」文件夹。")
            self.run()

    def _finished(self, label: str, name: str, case_id: int) -> DemoStep:
        case, tasks, contract = self.case(case_id)
        chain = " → ".join(f"{t.role} {t.assignee}{'✓' if t.decision == '同意' else ''}" for t in tasks)
        detail = f"{case.number}:{chain}"
        if case.status != "in_approval":
            self.say(f"{case.number} {status_label(case.status)}。")
        if contract is not None:
            detail += f";合同 {contract.number}"
            if contract.file_path:
                self.say(f"合同 {contract.number} 已生成:{contract.file_path}")
                self.result.open_first.insert(0, ("自动生成的合同", contract.file_path))
            else:
                self.say(f"合同 {contract.number} 未能生成,原因见 outbox/contracts/。")
        step = DemoStep(label, name, status_label(case.status), detail)
        self.result.steps.append(step)
        return step


def run_demo(rt, *, seed: int | None = None) -> DemoResult:
    work = Path(tempfile.mkdtemp(prefix="officeflow-demo-forms-"))
    try:
        return _play(_Player(rt, work, seed))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _customer_seq(rt) -> int:
    with rt.store.read() as conn:
        return 9000 + len(conn.execute(select(s.customers.c.id)).all()) * 2


def _play(p: _Player) -> DemoResult:
    today, rng = p.today, p.rng
    seq = _customer_seq(p.rt) + rng.randrange(0, 500) * 4
    customer = samples.customer_registration(seq, today)
    name = customer["客户名称"]
    p.play("customer_registration", "示例-客户登记.xlsx", "有效的客户登记(审批后入客户台账)", customer)
    bad = dict(samples.customer_registration(seq + 1, today), 统一社会信用代码="91310000ABC", 联系电话="12345", 客户等级="D")
    p.play("customer_registration", "示例-填错的客户登记.xlsx", "填错的客户登记", bad)
    p.play("credit_limit", "示例-信用额度.xlsx", "客户信用额度",
           samples.credit_limit(name, today, limit=Decimal("800000.00"), days=60))
    amount_each = Decimal(rng.choice(("60000.00", "65000.00", "70000.00")))
    values, items = samples.sales_contract(name, today, amount_each=amount_each, quantity=10, payment="账期")
    contract_step = p.play("sales_contract", "示例-重大合同.xlsx", f"重大合同({amount_each * 10:,.0f} 元)", values, items)
    p.play("expense_claim", "示例-报销.xlsx", "费用报销", *samples.expense_claim(today, amount=Decimal("386.00")))
    claim, lines = _big_claim(today)
    p.play("expense_claim", "示例-大额报销.xlsx", "超过分管副总、总经理审批金额的报销", claim, lines, approve=False)
    trip = p.play("trip_request", "示例-出差申请.docx", "Word 出差申请(转交)", samples.trip_request(today), finish=False)
    if trip is not None:
        p.transfer(trip, "冯磊", "本周外出,请冯经理代为审批")
        p.finish(trip, "示例-出差申请.docx", "Word 出差申请(转交)")
    withdrawn = p.play("expense_claim", "示例-撤回的报销.xlsx", "提交后又撤回的报销",
                       *samples.expense_claim(today, amount=Decimal("520.00")), finish=False)
    if withdrawn is not None:
        p.withdraw(withdrawn, "王芳")
    p.play("complaint", "示例-客户投诉.docx", "客户投诉", samples.complaint(today, customer=name))
    number = contract_step.detail.rsplit("合同 ", 1)[-1] if contract_step and "合同 " in contract_step.detail else None
    if number:
        p.play("return_request", "示例-退货.xlsx", "退货申请", {"原合同编号": number, "客户名称": name, "申请人": "王芳",
                                                        "申请日期": today},
               [{"品名": "工业控制器", "规格型号": "KX-200", "退货数量": 1, "退货原因": "外壳运输中破损"}])
        p.play("bad_debt", "示例-坏账核销.xlsx", "坏账核销", {
            "客户名称": name, "原合同编号": number, "核销金额": Decimal("5000.00"), "账龄天数": 400,
            "原因": "客户经营困难,多次催收无果", "办事处经理": "沈涛", "区域经理": "韩冰", "内务主管": "杨柳",
            "申请人": "王芳", "申请日期": today})
        p.play("payment_receipt", "示例-回款登记.xlsx", "回款登记(冲减客户应收)", {
            "客户名称": name, "原合同编号": number, "回款金额": Decimal("100000.00"), "回款日期": today,
            "回款方式": "银行转账", "凭证类型": "银行到款通知单", "凭证号": f"YH-{today:%Y%m%d}-01", "销售员": "王芳",
            "申请人": "王芳", "申请日期": today})
        # last in the story: once on the blacklist, this customer's next contract would be returned
        p.play("customer_status", "示例-客户状态变更.xlsx", "客户列入黑名单(此后该客户的合同会被退回)", {
            "客户名称": name, "变更后状态": "黑名单", "原因": "多次拖欠货款,经核实列入黑名单", "申请人": "王芳",
            "申请日期": today})
    for spec in sorted(p.rt.specs.values(), key=lambda sp: sp.id):
        if spec.example and spec.id not in PLAYED:  # forms made of data only: played from their spec's example
            try:
                values = p.example_values(spec)
            except OfficeFlowError as exc:  # an administrator's typo in the example must not stop the demo
                p.say(f"「{spec.title}」的示例值无法计算,已跳过:{exc.message}")
                continue
            p.play(spec.id, f"示例-{spec.title}.{spec.kind}", spec.title, values)
    rebuild_all(p.rt.store, p.rt.settings, today=today, workdays_between=p.rt.calendar.workdays_between)
    p.say("台账和看板已更新:outbox/registers/(审批台账、客户台账、合同台账……和 看板.xlsx)。")
    p.result.open_first.append(("看板(每个主题一页)", "outbox/registers/看板.xlsx"))
    p.result.open_first = p.result.open_first[:3]
    return p.result


# The forms the story above plays with values of its own.
PLAYED = {"customer_registration", "credit_limit", "sales_contract", "expense_claim", "trip_request", "complaint",
          "return_request", "bad_debt", "payment_receipt", "customer_status"}


def _big_claim(today):
    day = today - timedelta(days=1)
    lines = [{"费用类别": "其他", "发生日期": day, "地点": "上海", "事由": "年度展会展位费", "金额": Decimal("26000.00"), "单据张数": 2}]
    claim = {"报销人": "王芳", "部门": "销售一部", "报销日期": today, "合计金额": Decimal("26000.00"),
             "合计金额大写": "贰万陆仟元整", "附件张数": 2}
    return claim, lines

"""`officeflow status`: what is pending, who holds it, for how long, what is overdue or stuck."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import or_, select

from automation.act.notify import queue_state
from automation.act.receipts import MY_COLUMNS, my_request_rows
from automation.decide.engine import ORIGIN_LABELS, SYSTEM, status_label, step_label
from automation.record import codec
from automation.record import schema as s
from automation.record.instances import Case, Task
from automation.record.status import CaseStatus, TaskStatus
from automation.record.submissions import held

CASE_COLUMNS = ("编号", "表单", "申请人", "当前审批人", "开始时间", "已用工作日", "时限", "是否超时")
AUTOMATIC_COLUMNS = ("编号", "步骤", "审批人", "处理", "时间")
FORM_STATES = (CaseStatus.IN_APPROVAL, CaseStatus.APPROVED, CaseStatus.REJECTED, CaseStatus.RETURNED,
               CaseStatus.BLOCKED)


@dataclass
class StatusReport:
    today: date
    open_cases: list[dict] = field(default_factory=list)
    per_person: list[dict] = field(default_factory=list)
    per_form: list[dict] = field(default_factory=list)
    blocked: list[dict] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)
    registers: list[dict] = field(default_factory=list)
    held: list[dict] = field(default_factory=list)  # forms waiting for the policy to be fixed
    policy_note: str | None = None  # set while the last good policy from the store is in force
    mails: list[dict] = field(default_factory=list)  # e-mail notices not sent (queued with an error, no address)
    automatic: list[dict] = field(default_factory=list)  # what 审批人去重 / 审批人为空时 did on open cases

    @property
    def overdue(self) -> int:
        return sum(1 for c in self.open_cases if c["是否超时"] == "是")

    def to_dict(self) -> dict:
        return codec.plain({
            "today": self.today, "overdue": self.overdue, "open_cases": self.open_cases, "per_person": self.per_person,
            "per_form": self.per_form, "blocked": self.blocked, "alerts": self.alerts, "registers": self.registers,
            "held": self.held, "policy_note": self.policy_note,
            "mails": self.mails,
            "automatic": self.automatic,
        })


def status_report(store, *, cal, today: date, policy_note: str | None = None) -> StatusReport:
    report = StatusReport(today=today, policy_note=policy_note)
    with store.snapshot() as conn:  # its statements must agree while workers write
        report.held = [{"提交": f"提交#{r.id}", "文件": r.name, "收到时间": r.seen_at, "状态": "等待制度修正",
                        "原因": r.reason} for r in held(conn)]
        cases = [Case.of(r) for r in conn.execute(select(s.cases).order_by(s.cases.c.number)).mappings()]
        tasks = [Task.of(r) for r in conn.execute(select(s.tasks).where(s.tasks.c.status == TaskStatus.OPEN)
                                                  .order_by(s.tasks.c.id)).mappings()]
        report.alerts = [dict(r) for r in conn.execute(select(s.alerts).where(s.alerts.c.resolved.is_(False))
                                                       .order_by(s.alerts.c.id)).mappings()]
        report.registers = [dict(r) for r in conn.execute(select(s.register_state).where(
            or_(s.register_state.c.dirty.is_(True), s.register_state.c.last_error.is_not(None)))).mappings()]
        open_ids = [c.id for c in cases if c.status == CaseStatus.IN_APPROVAL]
        related = [Task.of(r) for r in conn.execute(select(s.tasks).where(s.tasks.c.case_id.in_(open_ids))
                                                    .order_by(s.tasks.c.id)).mappings()] if open_ids else []
    report.mails = [{"收件人": m["recipient"], "主题": m["subject"], "尝试次数": m["attempts"],
                     "下次重试": m["next_try_at"], "原因": m["last_error"] or "等待发送"} for m in queue_state(store)]
    names = {t.id: t.assignee for t in related}
    by_case = defaultdict(list)
    for task in tasks:
        by_case[task.case_id].append(task)
    report.open_cases = [_case_line(c, by_case[c.id], cal, today, names) for c in cases if c.status == CaseStatus.IN_APPROVAL]
    numbers = {c.id: c for c in cases}
    report.automatic = [_automatic_line(numbers[t.case_id], t) for t in related if _is_automatic(t)]
    report.per_person = _per_person(tasks, today)
    report.per_form = _per_form(cases)
    report.blocked = [{"编号": c.number, "表单": c.form_title, "申请人": c.applicant, "原因": c.block_reason}
                      for c in cases if c.status == CaseStatus.BLOCKED]
    return report


def holder_label(task: Task, names: dict[int, str]) -> str:
    """``冯磊(吴强 转交)``, ``周文(吴强 前加签)``, ``钱明(代 吴强)``: who holds it and how it got there."""
    if task.on_behalf_of:
        return f"{task.assignee}(代 {task.on_behalf_of})"
    origin = ORIGIN_LABELS.get(task.origin or "")
    source = names.get(task.origin_task)
    if task.origin in ("transfer", "sign-before", "sign-after") and source:
        return f"{task.assignee}({source} {origin})"
    if task.origin == "empty-admin":
        return f"{task.assignee}({origin})"
    return task.assignee


def _is_automatic(task: Task) -> bool:
    return task.origin in ("empty-pass", "empty-admin") or task.decided_by == SYSTEM


def _automatic_line(case: Case, task: Task) -> dict:
    if task.origin == "empty-admin":
        what = f"审批人为空时:转交管理员 {task.assignee}"
    elif task.origin == "empty-pass":
        what = "审批人为空时:自动通过"
    else:
        what = f"审批人去重:{case.dedup} · {task.comment}"
    when = task.decided_at or task.opened_at
    return {"编号": case.number, "步骤": step_label(task.step_index, task.role), "审批人": task.assignee,
            "处理": what, "时间": f"{when:%Y-%m-%d %H:%M}" if when else ""}


def _case_line(case: Case, tasks: list[Task], cal, today: date, names: dict[int, str] | None = None) -> dict:
    started = min((t.opened_at for t in tasks), default=case.updated_at)
    due = min((t.due_on for t in tasks if t.due_on), default=None)
    holders = "、".join(holder_label(t, names or {}) for t in tasks)
    return {"编号": case.number, "表单": case.form_title, "申请人": case.applicant, "当前审批人": holders,
            "开始时间": f"{started:%Y-%m-%d %H:%M}", "已用工作日": cal.workdays_between(started.date(), today), "时限": due,
            "是否超时": "是" if due is not None and today > due else "否"}


def _per_person(tasks: list[Task], today: date) -> list[dict]:
    pending, late = Counter(), Counter()
    for task in tasks:
        pending[task.assignee] += 1
        late[task.assignee] += 1 if task.due_on and today > task.due_on else 0
    return [{"审批人": name, "待办数": pending[name], "超时数": late[name]} for name in sorted(pending)]


def _per_form(cases: list[Case]) -> list[dict]:
    counts: dict[str, Counter] = defaultdict(Counter)
    for case in cases:
        counts[case.form_title][case.status] += 1
    return [{"表单": title, **{status_label(state): counts[title][state] for state in FORM_STATES}}
            for title in sorted(counts)]


# --- one person: `officeflow status --person 姓名` ------------------------------------------

PERSON_REQUEST_COLUMNS = ("编号", "表单", "状态", "当前审批人", "已等待工作日", "下一步")
PERSON_TODO_COLUMNS = ("编号", "表单", "申请人", "角色", "办理时限", "是否超时", "文件")
OPEN_STATES = ("审批中", "退回修改", "待配置")


@dataclass
class PersonReport:
    person: str
    today: date
    requests: list[dict] = field(default_factory=list)  # their own cases still open
    todos: list[dict] = field(default_factory=list)  # tasks waiting for them
    known: bool = True

    def to_dict(self) -> dict:
        return codec.plain({"person": self.person, "today": self.today, "known": self.known,
                            "requests": self.requests, "todos": self.todos})


def person_report(store, *, cal, today: date, person: str, tz, known: bool = True) -> PersonReport:
    report = PersonReport(person=person, today=today, known=known)
    headers = [c[0] for c in MY_COLUMNS]
    with store.snapshot() as conn:
        rows = [dict(zip(headers, r)) for r in my_request_rows(conn, person, today=today,
                                                              workdays_between=cal.workdays_between, tz=tz)]
        tasks = conn.execute(select(s.tasks, s.cases.c.number, s.cases.c.form_title, s.cases.c.applicant)
                             .join(s.cases, s.cases.c.id == s.tasks.c.case_id)
                             .where(s.tasks.c.status == TaskStatus.OPEN, s.tasks.c.assignee == person)
                             .order_by(s.tasks.c.id)).all()
    report.requests = [{k: r[k] for k in PERSON_REQUEST_COLUMNS} for r in rows if r["状态"] in OPEN_STATES]
    report.todos = [{"编号": t.number, "表单": t.form_title, "申请人": t.applicant, "角色": t.role,
                     "办理时限": t.due_on, "是否超时": "是" if t.due_on and today > t.due_on else "否",
                     "文件": t.file_path} for t in tasks]
    return report


def submission_line(store, inbox_path: str) -> str | None:
    """What became of the file last taken in from ``inbox_path``, when it opened or continued a case:
    "已提交,编号 …,等待 … 审批" — a routed case is on its way, not finished."""
    with store.snapshot() as conn:
        row = conn.execute(select(s.submissions.c.case_id, s.submissions.c.reason_code).where(
            s.submissions.c.original_path == inbox_path).order_by(s.submissions.c.id.desc()).limit(1)).first()
        if row is None or row.case_id is None or row.reason_code != "accepted":
            return None
        case = conn.execute(select(s.cases.c.number, s.cases.c.status).where(s.cases.c.id == row.case_id)).one()
        holders = list(dict.fromkeys(conn.execute(select(s.tasks.c.assignee).where(
            s.tasks.c.case_id == row.case_id, s.tasks.c.status == TaskStatus.OPEN).order_by(s.tasks.c.id)).scalars()))
    if case.status == CaseStatus.IN_APPROVAL and holders:
        return f"已提交,编号 {case.number},等待 {'、'.join(holders)} 审批"
    if case.status == CaseStatus.BLOCKED:
        return f"已提交,编号 {case.number},等待管理员补充制度后审批"
    return f"已提交,编号 {case.number}({status_label(case.status)})"

"""Cases and tasks: the one door through which approval state moves forward.

Every function here runs inside the caller's transaction (``store.begin()``) and
writes its audit entries in that same transaction, so state and audit never
disagree. Deciding twice or deciding a task that is not open raises
``TransitionError``; nothing is ever moved backwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import and_, bindparam, select
from sqlalchemy.exc import NoResultFound
from sqlalchemy.engine import Connection

from automation.errors import TransitionError
from automation.policy.chain import STEP_MODES, Route, Step
from automation.record import audit, codec
from automation.record import schema as s
from automation.record.instances import Case, Task
from automation.record.status import CASE_MOVES, CaseStatus, TaskStatus, move_case, move_task, status_label

SYSTEM = "OfficeFlow"
APPROVE, REJECT, RETURN, TRANSFER, ADD_SIGN = "同意", "驳回", "退回修改", "转交", "加签"
DECISIONS = (APPROVE, REJECT, RETURN, TRANSFER, ADD_SIGN)
FOLDER_DECISIONS = (APPROVE, REJECT, RETURN)  # the ones a drag into a folder can express
SIGN_BEFORE, SIGN_AFTER = "前加签", "后加签"
SIGN_MODES = (SIGN_BEFORE, SIGN_AFTER)
TO_APPLICANT = "申请人"
TASK_STATUS = {APPROVE: TaskStatus.APPROVED, REJECT: TaskStatus.REJECTED, RETURN: TaskStatus.RETURNED}
CASE_STATUS = {REJECT: CaseStatus.REJECTED, RETURN: CaseStatus.RETURNED}
# Where a task came from, when not from the route (tasks.origin), as people read it.
ORIGIN_LABELS = {"transfer": "转交", "sign-before": "前加签", "sign-back": "加签后返回", "sign-after": "后加签",
                 "empty-pass": "无人担任 · 自动通过", "empty-admin": "无人担任 · 转交管理员"}
ROUTE_ORIGINS = (None, "empty-pass", "empty-admin")  # tasks the route made (re-run by 退回到)
DEDUP_CONSECUTIVE, DEDUP_ANY = "连续重复时自动同意", "已审批过则自动同意"


class WorkCalendar(Protocol):
    def add_workdays(self, d: date, n: int) -> date: ...

    def workdays_between(self, a: date, b: date) -> int: ...


@dataclass(frozen=True)
class DecisionOutcome:
    case_id: int
    case_status: CaseStatus
    opened_task_ids: tuple[int, ...]
    closed_task_ids: tuple[int, ...]
    finished: bool

    def to_dict(self) -> dict:
        return {"case_id": self.case_id, "case_status": self.case_status, "finished": self.finished,
                "opened_task_ids": list(self.opened_task_ids), "closed_task_ids": list(self.closed_task_ids)}


# --- reading ----------------------------------------------------------------
# Statements built once (SQLAlchemy then reuses their compiled form): building a statement
# costs several times what running it on SQLite does.

_CASE = select(s.cases).where(s.cases.c.id == bindparam("case_id"))
_CASE_BY_NUMBER = select(s.cases).where(s.cases.c.number == bindparam("number"))
_CASE_NUMBER = select(s.cases.c.number).where(s.cases.c.id == bindparam("case_id"))
_TASK = select(s.tasks).where(s.tasks.c.id == bindparam("task_id"))
_CASE_TASKS = select(s.tasks).where(s.tasks.c.case_id == bindparam("case_id")).order_by(s.tasks.c.id)
_ROUND_TASKS = (select(s.tasks).where(s.tasks.c.case_id == bindparam("case_id"), s.tasks.c.round == bindparam("round_"))
                .order_by(s.tasks.c.id))
_CASE_STATUS = select(s.cases.c.status).where(s.cases.c.id == bindparam("case_id"))
_OPEN_IDS = select(s.tasks.c.id).where(s.tasks.c.case_id == bindparam("case_id"), s.tasks.c.status == TaskStatus.OPEN)
# A decision's result in one statement: the case's status, one row per open task (none: a NULL id).
_STATUS_AND_OPEN = (select(s.cases.c.status, s.tasks.c.id)
                    .select_from(s.cases.outerjoin(s.tasks, and_(s.tasks.c.case_id == s.cases.c.id,
                                                                 s.tasks.c.status == TaskStatus.OPEN)))
                    .where(s.cases.c.id == bindparam("case_id")))
_SUBMISSION_HASH = select(s.submissions.c.sha256).where(s.submissions.c.id == bindparam("submission_id"))
_INSERT_CASE = s.cases.insert()
_INSERT_TASK = s.tasks.insert().returning(*s.tasks.c)  # the row as stored: no read after


def load_case(conn: Connection, case_id: int) -> Case:
    row = conn.execute(_CASE, {"case_id": case_id}).mappings().first()
    if row is None:
        raise TransitionError(f"找不到编号为 {case_id} 的审批案件。", code="case-not-found")
    return Case.of(row)


def load_task(conn: Connection, task_id: int) -> Task:
    row = conn.execute(_TASK, {"task_id": task_id}).mappings().first()
    if row is None:
        raise TransitionError(f"找不到编号为 {task_id} 的审批任务。", code="task-not-found")
    return Task.of(row)


def case_by_number(conn: Connection, number: str) -> Case | None:
    row = conn.execute(_CASE_BY_NUMBER, {"number": number}).mappings().first()
    return Case.of(row) if row else None


def case_tasks(conn: Connection, case_id: int, round_: int | None = None) -> list[Task]:
    if round_ is None:
        rows = conn.execute(_CASE_TASKS, {"case_id": case_id})
    else:
        rows = conn.execute(_ROUND_TASKS, {"case_id": case_id, "round_": round_})
    return [Task.of(r) for r in rows.mappings()]


def case_history(conn: Connection, case_id: int) -> list[Task]:
    """Every decided task of the case, all rounds, in the order they were decided."""
    done = [t for t in case_tasks(conn, case_id) if t.decision]
    return sorted(done, key=lambda t: (t.decided_at, t.id))


# --- opening ----------------------------------------------------------------


def open_case(conn: Connection, **given) -> int:
    """A new case, or the next round of a case returned for changes, with a task per assignee: its id
    (``opened_case`` gives the case itself)."""
    return opened_case(conn, **given).id


def opened_case(conn: Connection, *, number: str, spec, values: dict, applicant, department, amount, customer,
                route: Route, submission_id, source_file: str, now: datetime, cal: WorkCalendar,
                existing_case_id: int | None = None, cc: str | None = None, file_hash: str | None = None) -> Case:
    """``open_case``, returning the case as it stands once its first step is open — the caller (the
    submission's effects) needs it, and it was read here already.

    ``cc`` is the 抄送 list as stored (JSON); ``file_hash`` the submission's SHA-256 when the
    caller knows it (else it is read from the submission)."""
    row = _case_row(spec, values, applicant, department, amount, customer, route, submission_id, source_file, now)
    row["cc"] = cc
    if existing_case_id is None:
        case_id = conn.execute(_INSERT_CASE, {"number": number, "round": 1, "created_at": now, **row}
                               ).inserted_primary_key[0]
        action, round_ = "case-opened", 1
    else:
        case_id, round_ = existing_case_id, _next_round(conn, existing_case_id)
        move_case(conn, case_id, CaseStatus.IN_APPROVAL, round=round_, decided_at=None,
                  **{k: v for k, v in row.items() if k != "status"})
        action = "case-resubmitted"
    audit.append(conn, at=now, actor=applicant or SYSTEM, action=action, subject=number,
                 detail={"round": round_, "form": spec.id, "fingerprint": row["fingerprint"]}, file=source_file,
                 file_hash=file_hash if file_hash is not None else _submission_hash(conn, submission_id))
    blocked = _block_reason(route)
    if blocked:
        _block(conn, case_id, number, blocked, now)
        return load_case(conn, case_id)
    case, tasks = _insert_tasks(conn, case_id, round_, route.steps, now, number=number)
    _open_step(conn, case, 0, now, cal, tasks=tasks)
    # Opening tasks never changes the case row; only an automatic approval can move it on.
    return load_case(conn, case_id) if _may_approve_automatically(case, tasks) else case


def _empty_step_detail(step: Step) -> dict | None:
    if step.on_empty is None:
        return None
    return {"role": step.role, "choice": step.on_empty,
            "assignee": step.assignees[0].name if step.assignees else None}


def _case_row(spec, values, applicant, department, amount, customer, route, submission_id, source_file, now) -> dict:
    return dict(
        form_id=spec.id, form_version=spec.version, form_title=spec.title, file_kind=spec.kind,
        applicant=applicant, department=department, amount=None if amount is None else Decimal(amount),
        customer=customer, status=CaseStatus.IN_APPROVAL, data=codec.dumps(values), fingerprint=codec.fingerprint(values),
        warnings=codec.dumps([p.to_dict() for p in route.warnings]), source_file=source_file,
        submission_id=submission_id, block_reason=None, updated_at=now, dedup=route.dedup,
    )


def _submission_hash(conn: Connection, submission_id) -> str | None:
    if submission_id is None:
        return None
    return conn.execute(_SUBMISSION_HASH, {"submission_id": submission_id}).scalar()


def _next_round(conn: Connection, case_id: int) -> int:
    case = load_case(conn, case_id)
    if case.status != CaseStatus.RETURNED:
        raise TransitionError(
            f"申请 {case.number} 当前状态为「{status_label(case.status)}」,只有退回修改的申请才能重新提交。",
            code="resubmit-refused")
    return case.round + 1


def _block_reason(route: Route) -> str | None:
    if route.self_only:
        roles = "、".join(f"「{r}」" for r in route.self_only)
        return (f"审批步骤{roles}只能由申请人本人办理(申请人担任该角色,或是本部门负责人),任何人都不能审批自己的申请,而人员表中没有其直属上级。"
                "请管理员在《制度.xlsx》参数表中设置「总经理本人申请审批人」(例如董事长),设置后系统将自动继续审批。")
    if route.unresolved:
        roles = "、".join(f"「{r}」" for r in route.unresolved)
        return f"审批角色{roles}在《制度.xlsx》人员表中找不到对应人员,请管理员补充后系统将自动继续审批。"
    if not route.steps:
        return "没有任何审批规则适用于该申请,请管理员在《制度.xlsx》审批规则表中补充。申请不会被自动批准。"
    return None


def _block(conn: Connection, case_id: int, number: str, reason: str, now: datetime) -> None:
    move_case(conn, case_id, CaseStatus.BLOCKED, block_reason=reason)
    conn.execute(s.alerts.insert().values(at=now, kind="case-blocked", subject=number, message=reason, resolved=False))
    audit.append(conn, at=now, actor=SYSTEM, action="case-blocked", subject=number, detail={"reason": reason})


def _create_tasks(conn: Connection, case_id: int, round_: int, steps: list[Step], now: datetime, cal, *,
                  number: str | None = None, report: bool = True) -> list[int]:
    """The round's tasks, and its first step opened; the ids opened (unless ``report`` is False)."""
    before = _open_ids(conn, case_id) if report else set()
    case, tasks = _insert_tasks(conn, case_id, round_, steps, now, number=number)
    _open_step(conn, case, 0, now, cal, tasks=tasks)
    return sorted(_open_ids(conn, case_id) - before) if report else []


def _insert_tasks(conn: Connection, case_id: int, round_: int, steps: list[Step], now: datetime, *,
                  number: str | None = None) -> tuple[Case, list[Task]]:
    """The round's tasks written (none of the round existed: a new round, or a blocked one); the case and
    the tasks as stored — each insert returns its row, so opening the first step reads nothing again."""
    number = number if number is not None else _number(conn, case_id)
    tasks = []
    for index, step in enumerate(steps):
        origin = {"自动通过": "empty-pass", "转交管理员": "empty-admin"}.get(step.on_empty or "")
        people = step.assignees if origin != "empty-pass" else (None,)
        for assignee in people:
            tasks.append(Task.of(conn.execute(_INSERT_TASK, dict(
                case_id=case_id, round=round_, step_index=index, role=step.role, mode=step.mode,
                assignee=assignee.name if assignee else SYSTEM, on_behalf_of=assignee.on_behalf_of if assignee else None,
                status=TaskStatus.WAITING, limit_days=step.limit_days, rule_ref="; ".join(step.rule_refs) or None,
                why=codec.dumps(list(step.reasons)) if step.reasons else None, origin=origin)).mappings().one()))
        if origin:
            audit.append(conn, at=now, actor=SYSTEM, action="step-nobody-holds", subject=number,
                         detail={"round": round_, "step": index + 1, **_empty_step_detail(step)})
    return load_case(conn, case_id), tasks


def _may_approve_automatically(case: Case, tasks: list[Task]) -> bool:
    """Whether opening these tasks can have approved one on its own (``_automatic_approval``'s preconditions)."""
    return case.dedup in (DEDUP_CONSECUTIVE, DEDUP_ANY) or any(t.origin == "empty-pass" for t in tasks)


def _open_step(conn: Connection, case: Case, step_index: int, now: datetime, cal,
               tasks: list[Task] | None = None) -> list[int]:
    """Open a step's first tasks; any that the policy approves automatically move the case on at once.
    ``tasks``: the round's tasks as read in this transaction, none of this step's written since."""
    tasks = case_tasks(conn, case.id, case.round) if tasks is None else tasks
    waiting = [t for t in tasks if t.step_index == step_index and t.status == TaskStatus.WAITING and t.wait_for is None]
    if waiting:
        waiting = STEP_MODES[waiting[0].mode].to_open(waiting)  # 依次: one after another, in route order
    for task in waiting:
        _open_task(conn, task, now, cal, number=case.number)
    for task in waiting:
        reason = _automatic_approval(conn, case, task)
        if reason and load_task(conn, task.id).status == TaskStatus.OPEN:
            _approve_automatically(conn, case, task, reason, now, cal)
    return [t.id for t in waiting]


def _open_ids(conn: Connection, case_id: int) -> set[int]:
    return set(conn.execute(_OPEN_IDS, {"case_id": case_id}).scalars())


def _case_status(conn: Connection, case_id: int) -> CaseStatus:
    """The case's status as it stands now (an automatic approval may have moved it on meanwhile)."""
    return CaseStatus(conn.execute(_CASE_STATUS, {"case_id": case_id}).scalar_one())


# --- automatic approvals: 审批人为空时 自动通过, 审批人去重 ------------------------------


def _automatic_approval(conn: Connection, case: Case, task: Task) -> str | None:
    """Why the policy approves this task without its holder, or None."""
    if task.origin == "empty-pass":
        return f"系统自动通过:审批角色「{task.role}」在人员表中无人担任(审批人为空时:自动通过)"
    if task.origin not in ROUTE_ORIGINS or case.dedup not in (DEDUP_CONSECUTIVE, DEDUP_ANY):
        return None
    earlier = _standing_approvals(conn, case, task)
    if case.dedup == DEDUP_CONSECUTIVE:
        earlier = _consecutive(earlier, task.step_index)
    mine = [t for t in earlier if t.assignee == task.assignee and t.decided_by is None]
    if not mine:
        return None
    return f"系统自动同意:与第 {min(t.step_index for t in mine) + 1} 步审批人相同"


def _standing_approvals(conn: Connection, case: Case, task: Task) -> list[Task]:
    """Approvals of earlier steps in this round not undone by a 退回到 that went back past them."""
    tasks = case_tasks(conn, case.id, case.round)
    returns = [t for t in tasks if t.return_to is not None]
    return [t for t in tasks if t.status == TaskStatus.APPROVED and t.step_index < task.step_index
            and not any(r.id > t.id and r.return_to <= t.step_index for r in returns)]


def _consecutive(approvals: list[Task], step_index: int) -> list[Task]:
    """The approvals of the unbroken run of steps by one person just before ``step_index``."""
    run, index = [], step_index - 1
    while True:
        here = [t for t in approvals if t.step_index == index]
        if not here or (run and {t.assignee for t in here}.isdisjoint({t.assignee for t in run})):
            return run
        run += here
        index -= 1


def _approve_automatically(conn: Connection, case: Case, task: Task, reason: str, now: datetime, cal) -> None:
    _close(conn, task, TaskStatus.APPROVED, now, decision=APPROVE, comment=reason, decided_by=SYSTEM)
    audit.append(conn, at=now, actor=SYSTEM, action="task-auto-approved", subject=case.number,
                 detail={"task": task.id, "assignee": task.assignee, "role": task.role, "reason": reason})
    _after_approval(conn, load_case(conn, case.id), load_task(conn, task.id), now, cal, [task.id])


def _open_task(conn: Connection, task: Task, now: datetime, cal, *, number: str | None = None) -> None:
    due = cal.add_workdays(now.date(), task.limit_days or 0)
    move_task(conn, task.id, TaskStatus.OPEN, opened_at=now, due_on=due)
    audit.append(conn, at=now, actor=SYSTEM, action="task-opened",
                 subject=number if number is not None else _number(conn, task.case_id),
                 detail={"task": task.id, "assignee": task.assignee, "role": task.role, "due_on": due})


def _number(conn: Connection, case_id: int) -> str:
    return conn.execute(_CASE_NUMBER, {"case_id": case_id}).scalar_one()


# --- deciding ---------------------------------------------------------------


def decide(conn: Connection, *, task_id: int, decision: str, comment: str | None, actor: str, file: str | None,
           file_hash: str | None, now: datetime, cal: WorkCalendar, to: str | None = None, how: str | None = None,
           back_to: int | None = None) -> DecisionOutcome:
    """Record one approver's decision and move the case on as its step's mode says.

    ``to`` names the person for 转交 and 加签, ``how`` is 前加签 or 后加签, ``back_to`` the
    earlier step (index) a 退回修改 goes back to; None sends it to the applicant.
    """
    task = _open_task_for_decision(conn, task_id, decision)
    case = load_case(conn, task.case_id)
    if case.status != CaseStatus.IN_APPROVAL:
        raise TransitionError(f"申请 {case.number} 已结束({status_label(case.status)}),不能再审批。",
                              code="case-closed")
    before = _open_ids(conn, case.id)
    detail = {"task": task_id, "decision": decision, "comment": comment, "role": task.role}
    if decision in (TRANSFER, ADD_SIGN):
        detail |= _hand_to(conn, case, task, decision, to, how, comment, now, cal)
    elif decision == RETURN and back_to is not None:
        detail |= _return_to_step(conn, case, task, back_to, comment, now, cal)
    else:
        _close(conn, task, TASK_STATUS[decision], now, decision=decision, comment=comment)
    audit.append(conn, at=now, actor=actor, action="task-decided", subject=case.number, file=file, file_hash=file_hash,
                 detail=detail)
    if decision in (REJECT, RETURN) and back_to is None:
        _cancel_rest(conn, case, now)
        _finish(conn, case, CASE_STATUS[decision], now, [], [])
    elif decision == APPROVE:
        _after_approval(conn, case, task, now, cal, [task_id])
    return _result(conn, case.id, before)


def _result(conn: Connection, case_id: int, before: set[int]) -> DecisionOutcome:
    rows = conn.execute(_STATUS_AND_OPEN, {"case_id": case_id}).all()
    if not rows:
        raise NoResultFound(f"case {case_id}")
    status, after = CaseStatus(rows[0][0]), {task for _, task in rows if task is not None}
    return DecisionOutcome(case_id=case_id, case_status=status, opened_task_ids=tuple(sorted(after - before)),
                           closed_task_ids=tuple(sorted(before - after)), finished=status != CaseStatus.IN_APPROVAL)


# --- 转交 and 加签 --------------------------------------------------------------------


def _hand_to(conn, case: Case, task: Task, decision: str, to: str | None, how: str | None, comment, now, cal) -> dict:
    """转交: the task moves to ``to``. 前加签: ``to`` decides first, then the task comes back;
    后加签: this approval stands and ``to`` decides next, before the following step."""
    to = (to or "").strip()
    _check_newcomer(conn, case, task, to, decision)
    if decision == TRANSFER:
        _close(conn, task, TaskStatus.TRANSFERRED, now, decision=TRANSFER, comment=comment, target=to)
        new_id = _successor(conn, task, assignee=to, origin="transfer")
        _open_task(conn, load_task(conn, new_id), now, cal, number=case.number)
        _repoint(conn, task.id, new_id)
        return {"to": to, "new_task": new_id}
    if how not in SIGN_MODES:
        raise TransitionError("请在「加签方式」中选择 前加签 或 后加签 后再保存。", code="sign-mode-missing")
    if how == SIGN_BEFORE:
        _close(conn, task, TaskStatus.ADDSIGNED, now, decision=SIGN_BEFORE, comment=comment, target=to)
        new_id = _successor(conn, task, assignee=to, origin="sign-before")
        _successor(conn, task, assignee=task.assignee, on_behalf_of=task.on_behalf_of, origin="sign-back",
                   wait_for=new_id)
    else:
        _close(conn, task, TaskStatus.APPROVED, now, decision=SIGN_AFTER, comment=comment, target=to)
        new_id = _successor(conn, task, assignee=to, origin="sign-after")
        if STEP_MODES[task.mode].first_settles:  # 或签: my approval settles the step; the added person decides
            for other in _step_tasks(conn, task):
                if other.id != new_id and other.status in (TaskStatus.OPEN, TaskStatus.WAITING):
                    _close(conn, other, TaskStatus.CANCELLED, now)
    _open_task(conn, load_task(conn, new_id), now, cal, number=case.number)
    return {"to": to, "how": how, "new_task": new_id}


def _check_newcomer(conn, case: Case, task: Task, to: str, decision: str) -> None:
    verb = "转交" if decision == TRANSFER else "加签"
    if not to:
        raise TransitionError(f"请在「{'转交给' if decision == TRANSFER else '加签人'}」中选择人员后再保存。",
                              code="handover-name-missing")
    if to == task.assignee:
        raise TransitionError(f"不能{verb}给自己,请选择其他人员。", code="handover-to-self")
    if to == case.applicant:
        raise TransitionError(f"不能{verb}给申请人「{to}」本人:申请人不能审批自己的申请。", code="handover-to-applicant")
    if any(t.assignee == to and t.status in (TaskStatus.OPEN, TaskStatus.WAITING) for t in _step_tasks(conn, task)):
        raise TransitionError(f"「{to}」已是本步骤的审批人,不能重复{verb}。", code="handover-to-holder")


def _step_tasks(conn: Connection, task: Task) -> list[Task]:
    return [t for t in case_tasks(conn, task.case_id, task.round) if t.step_index == task.step_index]


def _successor(conn: Connection, task: Task, *, assignee: str, origin: str, on_behalf_of: str | None = None,
               wait_for: int | None = None) -> int:
    keep = {k: getattr(task, k) for k in ("case_id", "round", "step_index", "role", "mode", "limit_days", "rule_ref", "why")}
    return conn.execute(s.tasks.insert().values(
        **keep, assignee=assignee, on_behalf_of=on_behalf_of, status=TaskStatus.WAITING, origin=origin, origin_task=task.id,
        wait_for=wait_for)).inserted_primary_key[0]


def _repoint(conn: Connection, old_id: int, new_id: int) -> None:
    """A task handed on (转交, escalation): whoever waited for its approval now waits for the successor's."""
    conn.execute(s.tasks.update().where(s.tasks.c.wait_for == old_id, s.tasks.c.status == TaskStatus.WAITING)
                 .values(wait_for=new_id))


# --- 退回到 an earlier step ------------------------------------------------------------


def step_label(index: int, role: str) -> str:
    return f"第 {index + 1} 步 · {role}"


def _return_to_step(conn, case: Case, task: Task, back_to: int, comment, now, cal) -> dict:
    """The case goes back to an earlier step's approver; that step and every later one run again."""
    tasks = case_tasks(conn, case.id, case.round)
    roles = {t.step_index: t.role for t in tasks}
    if back_to < 0 or back_to >= task.step_index or back_to not in roles:
        raise TransitionError(f"「退回到」只能选择申请人或本步骤之前的步骤(第 1 至第 {task.step_index} 步)。",
                              code="return-step-invalid")
    label = step_label(back_to, roles[back_to])
    _close(conn, task, TaskStatus.RETURNED, now, decision=RETURN, comment=comment, target=label, return_to=back_to)
    _cancel_rest(conn, case, now)
    for base in _route_tasks(tasks, back_to):
        conn.execute(s.tasks.insert().values(
            **{k: getattr(base, k) for k in ("case_id", "round", "step_index", "role", "mode", "limit_days", "rule_ref", "why",
                                    "assignee", "on_behalf_of", "origin")},
            status=TaskStatus.WAITING, origin_task=base.id))
    _open_step(conn, case, back_to, now, cal)
    return {"back_to": back_to + 1, "to": label}


def _route_tasks(tasks: list[Task], from_step: int) -> list[Task]:
    """One task per route assignee of each step from ``from_step`` on (加签 and 转交 are not repeated)."""
    seen, out = set(), []
    for t in tasks:
        key = (t.step_index, t.assignee, t.on_behalf_of)
        if t.step_index >= from_step and t.origin in ROUTE_ORIGINS and t.escalated_from is None \
                and key not in seen:
            seen.add(key)
            out.append(t)
    return sorted(out, key=lambda t: (t.step_index, t.id))


def _open_task_for_decision(conn: Connection, task_id: int, decision: str) -> Task:
    if decision not in DECISIONS:
        raise TransitionError(f"审批结论「{decision}」无效,只能是 {'、'.join(DECISIONS)}。", code="decision-invalid")
    task = load_task(conn, task_id)
    if task.status != TaskStatus.OPEN:
        raise TransitionError(
            f"该审批任务(申请 {_number(conn, task.case_id)},{task.assignee})当前状态为「{status_label(task.status)}」,"
            "不能再次审批。", code="task-not-open")
    return task


def _after_approval(conn, case, task, now, cal, closed) -> DecisionOutcome:
    round_tasks = case_tasks(conn, task.case_id, task.round)
    step = [t for t in round_tasks if t.step_index == task.step_index]
    followers = [t for t in step if t.wait_for == task.id and t.status == TaskStatus.WAITING]
    if followers:  # 前加签 done: the task comes back to the one who asked
        for follower in followers:
            _open_task(conn, follower, now, cal, number=case.number)
        return _outcome(case, CaseStatus.IN_APPROVAL, [f.id for f in followers], closed)
    how = STEP_MODES[task.mode]
    if how.first_settles:
        for other in (t for t in step if t.status in (TaskStatus.OPEN, TaskStatus.WAITING)):
            _close(conn, other, TaskStatus.CANCELLED, now)
            closed.append(other.id)
    elif any(t.status == TaskStatus.OPEN for t in step):
        return _outcome(case, CaseStatus.IN_APPROVAL, [], closed)  # 会签: others still to approve
    elif how.one_at_a_time and any(t.status == TaskStatus.WAITING and t.wait_for is None for t in step):
        opened = _open_step(conn, case, task.step_index, now, cal)
        return _outcome(case, CaseStatus.IN_APPROVAL, opened, closed)
    status = _case_status(conn, case.id)
    if status != CaseStatus.IN_APPROVAL:
        return _outcome(case, status, [], closed)
    # Only this step's tasks were written since the round was read: the next step's stand as read.
    opened = _open_step(conn, case, task.step_index + 1, now, cal,
                        tasks=round_tasks if task.round == case.round else None)
    if opened:
        return _outcome(case, CaseStatus.IN_APPROVAL, opened, closed)
    # Nothing opened, so nothing written since the status was read: still in approval.
    return _finish(conn, case, CaseStatus.APPROVED, now, [], closed, in_approval=True)


def _close(conn: Connection, task: Task, status: TaskStatus, now: datetime, **values: Any) -> None:
    move_task(conn, task.id, status, decided_at=now, **values)


def _cancel_rest(conn: Connection, case: Case, now: datetime) -> list[int]:
    rest = [t for t in case_tasks(conn, case.id, case.round) if t.status in (TaskStatus.OPEN, TaskStatus.WAITING)]
    for task in rest:
        _close(conn, task, TaskStatus.CANCELLED, now)
    return [t.id for t in rest]


def _finish(conn, case, status, now, opened, closed, *, in_approval: bool = False) -> DecisionOutcome:
    """``in_approval``: the caller read the case's status in this transaction and nothing moved it since."""
    if not in_approval and _case_status(conn, case.id) != CaseStatus.IN_APPROVAL:
        return _outcome(case, status, opened, closed)  # already finished by an automatic approval
    move_case(conn, case.id, status, decided_at=now, updated_at=now)
    audit.append(conn, at=now, actor=SYSTEM, action=f"case-{status}", subject=case.number, detail={"round": case.round})
    return _outcome(case, status, opened, closed)


def _outcome(case: Case, status: CaseStatus, opened: list[int], closed: list[int]) -> DecisionOutcome:
    return DecisionOutcome(case_id=case.id, case_status=CaseStatus(status), opened_task_ids=tuple(opened),
                           closed_task_ids=tuple(closed), finished=status != CaseStatus.IN_APPROVAL)


# --- withdrawing (撤回 by the applicant) ---------------------------------------------

WITHDRAWABLE = tuple(state for state in CaseStatus if CaseStatus.WITHDRAWN in CASE_MOVES[state])


def withdraw(conn: Connection, *, case_id: int, actor: str, now: datetime, until_final: bool = False,
             file: str | None = None, file_hash: str | None = None) -> DecisionOutcome:
    """Close a case at its applicant's request: every task not yet decided is cancelled.

    Allowed until the first decision (``until_final``: until the final one); a case that
    has ended cannot be withdrawn. Refusals raise ``TransitionError`` with the reason.
    """
    case = load_case(conn, case_id)
    if case.status not in WITHDRAWABLE:
        raise TransitionError(f"申请 {case.number} 已结束({status_label(case.status)}),不能再撤回。",
                              code="withdraw-case-closed")
    decided = [t for t in case_tasks(conn, case_id) if t.decision]
    if decided and not until_final:
        first = min(decided, key=lambda t: (t.decided_at, t.id))
        raise TransitionError(
            f"申请 {case.number} 已由 {first.assignee} 于 {first.decided_at:%Y-%m-%d %H:%M} 作出审批决定"
            f"({first.decision}),按制度只能在第一位审批人决定之前撤回。如确需撤回,请联系当前审批人退回或驳回。",
            code="withdraw-after-decision")
    closed = _cancel_rest(conn, case, now)
    move_case(conn, case_id, CaseStatus.WITHDRAWN, decided_at=now, updated_at=now)
    conn.execute(s.alerts.update().where(s.alerts.c.kind == "case-blocked", s.alerts.c.subject == case.number)
                 .values(resolved=True))
    audit.append(conn, at=now, actor=actor, action="case-withdrawn", subject=case.number, file=file, file_hash=file_hash,
                 detail={"round": case.round, "cancelled_tasks": closed, "previous_status": case.status})
    return _outcome(case, CaseStatus.WITHDRAWN, [], closed)


# --- escalation and re-routing ---------------------------------------------------


def escalate(conn: Connection, task_id: int, to: str, now: datetime, cal: WorkCalendar, reason: str) -> int:
    """Hand an open task to someone else (the approver's superior); the old task is kept as 'escalated'."""
    task = load_task(conn, task_id)
    if task.status != TaskStatus.OPEN:
        raise TransitionError(f"只有待办的审批任务才能上报,该任务状态为「{status_label(task.status)}」。",
                              code="task-not-open")
    _close(conn, task, TaskStatus.ESCALATED, now, comment=reason)
    keep = {k: getattr(task, k) for k in ("case_id", "round", "step_index", "role", "mode", "limit_days", "rule_ref",
                                          "why", "origin", "origin_task")}
    new_id = conn.execute(s.tasks.insert().values(
        **keep, assignee=to, status=TaskStatus.WAITING, escalated_from=task_id)).inserted_primary_key[0]
    _open_task(conn, load_task(conn, new_id), now, cal)
    _repoint(conn, task_id, new_id)
    audit.append(conn, at=now, actor=SYSTEM, action="task-escalated", subject=_number(conn, task.case_id),
                 detail={"task": task_id, "from": task.assignee, "to": to, "new_task": new_id, "reason": reason})
    return new_id


def unblock_case(conn: Connection, case_id: int, route: Route, now: datetime, cal: WorkCalendar) -> list[int]:
    """Re-route a blocked case with a route from the corrected policy; returns the opened task ids."""
    case = load_case(conn, case_id)
    if case.status != CaseStatus.BLOCKED:
        raise TransitionError(f"申请 {case.number} 未处于待配置状态,无需重新分派。", code="case-not-blocked")
    if _block_reason(route):
        return []
    move_case(conn, case_id, CaseStatus.IN_APPROVAL, block_reason=None, updated_at=now, dedup=route.dedup)
    conn.execute(s.alerts.update().where(s.alerts.c.kind == "case-blocked", s.alerts.c.subject == case.number)
                 .values(resolved=True))
    audit.append(conn, at=now, actor=SYSTEM, action="case-unblocked", subject=case.number, detail={"round": case.round})
    return _create_tasks(conn, case_id, case.round, route.steps, now, cal)


def blocked_case_ids(conn: Connection) -> list[int]:
    return list(conn.execute(select(s.cases.c.id).where(s.cases.c.status == CaseStatus.BLOCKED).order_by(s.cases.c.id)).scalars())

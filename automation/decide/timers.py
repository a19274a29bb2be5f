"""Time limits: a reminder once a task is overdue, escalation to the superior after a further delay.

Safe to run on every sweep: a task is reminded once (reminded_at), and an
escalated task is no longer open, so running twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy import select

from automation.decide import engine
from automation.decide.officefile import atomic_save
from automation.decide.task_files import person_folder, safe_name
from automation.record import audit
from automation.record import schema as s
from automation.record.registers.render import mark_dirty, registers_for_tables
from automation.record.instances import Task
from automation.record.status import TaskStatus


@dataclass(frozen=True)
class Overdue:
    """An open task past its time limit, with the case number and applicant its notes name."""

    task: Task
    number: str
    applicant: str | None


def check_deadlines(store, settings, *, cal, now: datetime, escalate_after: int,
                    superior_of: Callable[[str], str | None], write_task: Callable[[int], object]) -> list[dict]:
    today = now.date()
    with store.read() as conn:
        rows = conn.execute(
            select(s.tasks, s.cases.c.number, s.cases.c.applicant).join(s.cases, s.cases.c.id == s.tasks.c.case_id)
            .where(s.tasks.c.status == TaskStatus.OPEN, s.tasks.c.due_on < today).order_by(s.tasks.c.id)).mappings()
        overdue = [Overdue(Task.of({c.name: r[c.name] for c in s.tasks.columns}), r["number"], r["applicant"])
                   for r in rows]
    actions = []
    for due in overdue:
        task = due.task
        late = cal.workdays_between(task.due_on, today)
        superior = superior_of(task.assignee) if late > escalate_after else None
        if superior and superior == due.applicant:  # never up to the applicant: no self-approval
            actions.extend(_no_superior(store, due, now, self_approval=True))
            superior = None
        elif superior:
            actions.append(_escalate(store, due, superior, late, now, cal, write_task))
        elif late > escalate_after:
            actions.extend(_no_superior(store, due, now))
        if task.reminded_at is None and not superior:
            actions.append(_remind(store, settings, due, late, now))
    return actions


def _remind(store, settings, due: Overdue, late: int, now: datetime) -> dict:
    task = due.task
    note = person_folder(settings, task.assignee) / f"催办 {safe_name(due.number)}.txt"
    text = (f"{task.assignee} 您好:\n申请 {due.number}({task.role}审批)的办理时限为 {task.due_on:%Y-%m-%d},"
            f"已超时 {late} 个工作日,请尽快办理。\n超时未办理的审批将按制度上报您的直属上级。\n")
    atomic_save(lambda tmp: _write(tmp, text), note)
    with store.begin() as conn:
        updated = conn.execute(s.tasks.update().where(s.tasks.c.id == task.id, s.tasks.c.reminded_at.is_(None))
                               .values(reminded_at=now)).rowcount
        if updated:
            audit.append(conn, at=now, actor=engine.SYSTEM, action="task-reminded", subject=due.number,
                         detail={"task": task.id, "assignee": task.assignee, "late_workdays": late})
    return {"action": "reminded", "task": task.id, "case": due.number, "assignee": task.assignee,
            "late_workdays": late, "file": str(note)}


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def _escalate(store, due: Overdue, superior: str, late: int, now, cal, write_task) -> dict:
    task = due.task
    reason = f"超过办理时限 {late} 个工作日未办理,按制度上报直属上级 {superior}。"
    with store.begin() as conn:
        new_id = engine.escalate(conn, task.id, superior, now, cal, reason)
        mark_dirty(conn, registers_for_tables({"tasks"}), now, cases=[task.case_id])  # 当前审批人 changed
    write_task(new_id)
    return {"action": "escalated", "task": task.id, "case": due.number, "assignee": task.assignee,
            "to": superior, "new_task": new_id, "late_workdays": late}


def _no_superior(store, due: Overdue, now, self_approval: bool = False) -> list[dict]:
    """Nobody to escalate to: tell the administrator once instead."""
    task = due.task
    subject = f"{due.number}#{task.id}"
    with store.begin() as conn:
        seen = conn.execute(select(s.alerts.c.id).where(s.alerts.c.kind == "no-superior", s.alerts.c.subject == subject)).first()
        if seen:
            return []
        message = (f"{task.assignee} 的审批(申请 {due.number})已超时,但其直属上级正是申请人 {due.applicant},"
                   "不能由申请人审批自己的申请,因此没有上报,请管理员处理。" if self_approval else
                   f"{task.assignee} 的审批(申请 {due.number})已超时,但人员表中没有其直属上级,无法上报,请管理员处理。")
        conn.execute(s.alerts.insert().values(at=now, kind="no-superior", subject=subject, message=message, resolved=False))
    return [{"action": "no-superior", "task": task.id, "case": due.number, "assignee": task.assignee}]

"""The applicant's gestures: a receipt moved into ``outbox/requests/<姓名>/撤回/`` withdraws the
case, one moved into ``催办/`` reminds the current approver.

The same crash-safe order as decisions handed back as files: (1) what the gesture does
and a row saying it was handled (``applicant_requests``, keyed by file, hash and day) commit
in one transaction with their audit entry; (2) only then are files written — the 催办 note,
the answer to a refused gesture, task files filed away — and the gesture file removed (it
is our own receipt; the receipt is rendered again from the store). A run killed between
the two finds the row and only finishes the files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select

from automation.act.effects import on_decided
from automation.act.receipts import GESTURE_FOLDERS, REMIND_FOLDER, WITHDRAW_FOLDER
from automation.decide import engine
from automation.decide.officefile import TASK_PROP, read_props
from automation.decide.scan import is_candidate
from automation.decide.task_files import DONE_FOLDER, person_folder
from automation.errors import OfficeFlowError
from automation.fsutil import atomic_write_text, move_unique, safe_name, sha256_file
from automation.record import audit, codec
from automation.record import schema as s
from automation.record.instances import Case, Task
from automation.record.registers.render import mark_dirty, registers_for_tables
from automation.record.status import CaseStatus, TaskStatus

log = logging.getLogger("officeflow")
KINDS = {WITHDRAW_FOLDER: "withdraw", REMIND_FOLDER: "remind"}
WORDS = {"withdraw": "撤回", "remind": "催办"}
UNTIL_FINAL_PARAM = "撤回至终审_"  # + 表单: a 参数 row whose value is 是 allows 撤回 until the final decision


@dataclass(frozen=True)
class Gesture:
    path: Path
    owner: str  # the folder's person (safe name)
    kind: str  # withdraw | remind

    @property
    def number(self) -> str:
        return self.path.name.split(" ")[0]


@dataclass(frozen=True)
class GestureResult:
    gesture: Gesture
    accepted: bool
    reason: str | None = None

    def to_dict(self) -> dict:
        return {"file": str(self.gesture.path), "kind": self.gesture.kind, "accepted": self.accepted, "reason": self.reason}


def find_gestures(settings) -> list[Gesture]:
    found: list[Gesture] = []
    if not settings.requests.is_dir():
        return found
    for person in sorted(p for p in settings.requests.iterdir() if p.is_dir()):
        for folder in GESTURE_FOLDERS:
            for path in sorted(filter(is_candidate, (person / folder).glob("*"))):
                found.append(Gesture(path, person.name, KINDS[folder]))
    return found


def apply_gestures(rt) -> list[GestureResult]:
    results = []
    for gesture in find_gestures(rt.settings):
        try:
            results.append(apply_one(rt, gesture))
        except OSError as exc:  # still being copied, or the share blinked: the next pass tries again
            log.info("暂时无法处理 %s:%s", gesture.path.name, exc)
    return results


def apply_one(rt, gesture: Gesture) -> GestureResult:
    now, today = rt.clock.now(), rt.clock.today()
    file_hash = sha256_file(gesture.path)[0]
    rel = rt.rel(gesture.path)
    with rt.store.read() as conn:
        done = conn.execute(select(s.applicant_requests).where(
            s.applicant_requests.c.file == rel, s.applicant_requests.c.file_hash == file_hash,
            s.applicant_requests.c.kind == gesture.kind, s.applicant_requests.c.on == today)).mappings().first()
    if done is None:
        done = _record(rt, gesture, rel, file_hash, now, today)
    _finish(rt, gesture, done)
    return GestureResult(gesture, bool(done["accepted"]), done["reason"])


def _record(rt, gesture: Gesture, rel: str, file_hash: str, now: datetime, today: date) -> dict:
    """What the gesture does, the row that says it was handled and the audit entry: one transaction."""
    row = dict(kind=gesture.kind, person=gesture.owner, file=rel, file_hash=file_hash, on=today, at=now)
    try:
        with rt.store.begin() as conn:
            case = _case_of(conn, gesture)
            act = _withdraw if gesture.kind == "withdraw" else _remind
            act(rt, conn, case, gesture, now=now, today=today, rel=rel, file_hash=file_hash)
            row.update(case_id=case.id, accepted=True, reason=None)
            row["id"] = conn.execute(s.applicant_requests.insert().values(**row)).inserted_primary_key[0]
            mark_dirty(conn, registers_for_tables({"cases", "tasks", "applicant_requests"}), now, cases=[case.id])
        return row
    except OfficeFlowError as exc:
        reason = exc.message
    with rt.store.begin() as conn:
        case = engine.case_by_number(conn, gesture.number)
        row.update(case_id=case.id if case else None, accepted=False, reason=reason)
        row["id"] = conn.execute(s.applicant_requests.insert().values(**row)).inserted_primary_key[0]
        audit.append(conn, at=now, actor=gesture.owner, action=f"{gesture.kind}-refused", subject=gesture.number,
                     detail={"reason": reason}, file=rel, file_hash=file_hash)
    return row


def _case_of(conn, gesture: Gesture) -> Case:
    case = engine.case_by_number(conn, gesture.number)
    word = WORDS[gesture.kind]
    if case is None:
        raise OfficeFlowError(f"无法从文件名「{gesture.path.name}」找到对应的申请,本次{word}未办理。"
                              f"请把系统生成的回执(文件名以申请编号开头)原样移入「{word}」文件夹。", code="gesture-case-unknown")
    if safe_name(case.applicant or "") != gesture.owner:
        raise OfficeFlowError(f"申请 {case.number} 的申请人是「{case.applicant}」,只能由申请人本人在自己的文件夹中{word}。",
                              code="gesture-not-applicant")
    return case


def _withdraw(rt, conn, case: Case, gesture: Gesture, *, now, today, rel, file_hash) -> None:
    until_final = str(rt.policy.param(UNTIL_FINAL_PARAM + (case.form_title or ""), "") or "").strip() in ("是", "1")
    engine.withdraw(conn, case_id=case.id, actor=case.applicant or gesture.owner, now=now,
                    until_final=until_final, file=rel, file_hash=file_hash)
    # Records opened at submission (an expense line 审批中, a trip) close as for a case not approved.
    on_decided(conn, case=engine.load_case(conn, case.id), values=codec.loads(case.data), outcome="rejected",
               policy=rt.policy, today=today, cal=rt.calendar)


def _remind(rt, conn, case: Case, gesture: Gesture, *, now, today, rel, file_hash) -> None:
    if case.status != CaseStatus.IN_APPROVAL:
        raise OfficeFlowError(f"申请 {case.number} 当前状态为「{engine.status_label(case.status)}」,"
                              "没有等待审批的人,无需催办。", code="remind-not-in-approval")
    holders = [t.assignee for t in engine.case_tasks(conn, case.id) if t.status == TaskStatus.OPEN]
    earlier = conn.execute(select(func.min(s.applicant_requests.c.at)).where(
        s.applicant_requests.c.case_id == case.id, s.applicant_requests.c.kind == "remind",
        s.applicant_requests.c.accepted.is_(True), s.applicant_requests.c.on == today)).scalar()
    if earlier is not None:
        raise OfficeFlowError(f"申请 {case.number} 今天({today:%Y-%m-%d})已经催办过一次,每个工作日最多催办一次,"
                              "请明天再试。", code="remind-once-a-day")
    audit.append(conn, at=now, actor=case.applicant or gesture.owner, action="case-reminded", subject=case.number,
                 detail={"to": holders}, file=rel, file_hash=file_hash)


# --- files, after the commit (safe to repeat) ----------------------------------------------------


def _finish(rt, gesture: Gesture, done: dict) -> None:
    with rt.store.read() as conn:
        case = engine.load_case(conn, done["case_id"]) if done["case_id"] else None
        tasks = engine.case_tasks(conn, case.id) if case else []
    if not done["accepted"]:
        _answer(rt, gesture, done)
    elif gesture.kind == "remind":
        for task in (t for t in tasks if t.status == TaskStatus.OPEN):
            _remind_note(rt, case, task, done)
    else:
        for task in (t for t in tasks if t.status == TaskStatus.CANCELLED and t.file_path):
            _file_away_withdrawn(rt, case, task)
    if gesture.path.exists():
        gesture.path.unlink()  # our own receipt; it is rendered again from the store


def _answer(rt, gesture: Gesture, done: dict) -> None:
    word = WORDS[gesture.kind]
    note = gesture.path.parent.parent / f"{word}未办理 {safe_name(gesture.number)}.txt"
    atomic_write_text(note, f"{word}未办理\n==========\n文件:{gesture.path.name}\n时间:{done['at']:%Y-%m-%d %H:%M}\n"
                            f"原因:{done['reason']}\n")


def _remind_note(rt, case: Case, task: Task, done: dict) -> None:
    note = person_folder(rt.settings, task.assignee) / f"催办 {safe_name(case.number)}.txt"
    due = f",办理时限为 {task.due_on:%Y-%m-%d}" if task.due_on else ""
    text = (f"{task.assignee} 您好:\n申请人 {case.applicant} 于 {done['at']:%Y-%m-%d %H:%M} 催办申请 {case.number}"
            f"({case.form_title},{task.role}审批){due},请尽快办理。\n")
    atomic_write_text(note, text)


def _file_away_withdrawn(rt, case: Case, task: Task) -> None:
    """The task file of a withdrawn case leaves the to-do folder for 已办, with a note saying why."""
    path = rt.abs(task.file_path)
    if not path.exists() or not _is_own_task_file(path, task.id):
        return
    moved = move_unique(path, path.parent / DONE_FOLDER)
    atomic_write_text(moved.with_name(f"{moved.name}.说明.txt"),
                      f"申请 {case.number}({case.form_title})已由申请人 {case.applicant} 撤回,"
                      f"此审批无需再办理。\n撤回时间:{case.decided_at:%Y-%m-%d %H:%M}\n")


def _is_own_task_file(path: Path, task_id: int) -> bool:
    try:
        return read_props(path).get(TASK_PROP) == str(task_id)
    except Exception:  # unreadable (half-written, damaged): leave it alone
        return False

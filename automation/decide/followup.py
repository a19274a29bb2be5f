"""After a decision: business effects, contract numbers, and the files people receive.

Effects and the contract number are recorded inside the transaction that
records the decision (``decide.outcome.record_outcome``, called by the scan). Files — next task files, contracts,
copies returned to the applicant, 抄送 copies — are renderings of the store and
are produced by ``reconcile_outputs``, which is safe to run any number of times:
after a crash it simply writes what is missing.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import String, bindparam, cast, select

from automation.act import notify
from automation.act.approval_record import ENDED, KIND, convert_pending, write_records
from automation.act.cc_copy import APPROVED, SUBMIT, due_at, entries, write_copy
from automation.act.contracts import pdfs_beside, render_for_case
from automation.act.decision_copy import write_decision_copy
from automation.act.receipts import refresh as refresh_receipts
from automation.act.receipts import started_at
from automation.decide import scan, timers
from automation.decide.engine import case_history, load_case
from automation.decide.officefile import TASK_PROP, read_props
from automation.decide.outcome import template_for
from automation.decide.task_files import (
    DECISION_FOLDERS,
    DONE_FOLDER,
    issue_task_file,
    load_for_issue,
    safe_name,
)
from automation.errors import OfficeFlowError
from automation.fsutil import move_unique
from automation.policy.approver_options import options_for
from automation.policy.chain import assignee_for
from automation.record import codec
from automation.record import schema as s
from automation.record.instances import Case
from automation.record.status import CaseStatus, TaskStatus

log = logging.getLogger("officeflow")


def apply_decisions(rt) -> int:
    results = scan.apply_decisions(rt.store, rt.settings, specs=rt.specs, cal=rt.calendar, now=rt.clock.now(),
                                   policy=rt.policy, seen=rt.decision_stamps)
    return sum(1 for r in results if r.outcome is not None)


def check_time_limits(rt) -> int:
    policy = rt.policy

    def superior_of(name: str):
        """The 直属上级 who is still 在职 — or whoever acts for them today."""
        person = policy.person(name)
        superior = policy.person(person.superior) if person and person.superior else None
        if superior is None or not superior.active:
            return None
        return assignee_for(policy, superior, rt.clock.today()).name

    def write_task(task_id: int):
        with rt.store.workers.claim("task", str(task_id)) as mine:  # (another worker may be writing it already)
            return mine and _issue_claimed(rt, task_id)

    escalate_after = int(policy.params.get("升级延迟工作日", rt.settings.escalation.escalate_after_workdays))
    actions = timers.check_deadlines(rt.store, rt.settings, cal=rt.calendar, now=rt.clock.now(),
                              escalate_after=escalate_after, superior_of=superior_of, write_task=write_task)
    return len(actions)


def _issue(rt, task_id: int, loaded=None):
    if loaded is None:
        with rt.store.read() as conn:
            loaded = load_for_issue(conn, task_id)
    case = loaded[1]
    people = tuple(p.name for p in rt.policy.people.values() if p.active)
    return issue_task_file(rt.store, rt.settings, task_id, spec=rt.specs.get(case.form_id), people=people,
                           transfer_allowed=options_for(rt.policy, case.form_title).transfer_allowed, loaded=loaded)


def reconcile_outputs(rt, *, receipts: bool = True) -> None:
    """Write every output the store says should exist and does not yet.

    ``receipts=False`` (a burst still arriving) leaves the applicants' receipts and 我的申请 for the
    pass after the burst: each case then gets one receipt of its latest state, not one per pass."""
    steps = (_missing_task_files, _withdrawn_task_files, _answered_reminders, _pending_contracts, _decision_returns,
             _approval_records, _cc_copies, *((_receipts,) if receipts else ()), _notices)
    for step in steps:
        try:
            step(rt)
        except Exception:  # one broken output must not stop the others or the watcher
            log.exception("生成输出文件时出错(%s),下次处理时重试。", step.__name__)


def _missing_task_files(rt) -> None:
    issue_task_files(rt)


def issue_task_files(rt, *, reverse: bool = False) -> int:
    """Write the file of every open task whose file was never written (a case just opened, a crash)
    or has gone (deleted by mistake); returns how many were written.

    Safe on several workers at once: each task is claimed first (``("task", id)``, a lease like an
    inbox file's) and looked at again once it is ours, so two workers never write the same task file
    and its ``task-file-written`` entry is made once. A worker killed while writing leaves its claim to
    run out; the next worker then writes the file afresh (its path is the case's, so a half-done one is
    replaced, never doubled). ``reverse`` walks the list from its end: two workers start at opposite
    ends and meet in the middle instead of contending for every task."""
    with rt.store.read() as conn:
        rows = list(conn.execute(select(s.tasks.c.id, s.tasks.c.file_path, s.tasks.c.case_id)
                                 .where(s.tasks.c.status == TaskStatus.OPEN).order_by(s.tasks.c.id)))
    case_of = {row.id: row.case_id for row in rows}
    written = 0
    missing = [row.id for row in (reversed(rows) if reverse else rows) if _file_missing(rt, row.file_path)]
    for task_id in rt.store.workers.claimed("task", missing):  # (a few claimed at a time; another worker's left out)
        try:
            written += _issue_claimed(rt, task_id, recheck=rt.store.is_shared,  # (one process: just listed)
                                      case_id=case_of[task_id])
        except Exception:  # one unwritable task file must not hold up the others
            log.exception("无法生成审批任务 #%s 的文件,下次处理时重试。", task_id)
    return written


def _file_missing(rt, file_path: str | None) -> bool:
    return file_path is None or not _task_file_somewhere(rt.abs(file_path))


def _issue_claimed(rt, task_id: int, *, recheck: bool = True, case_id: int | None = None) -> bool:
    """Issue one task's file (its claim ours) if it is still open and still without it."""
    with rt.store.read() as conn:  # (what the file is written from in the same read: one per task file)
        if recheck and case_id is None:  # the case as the task says, read now that the task is ours
            row = conn.execute(_TASK_STATE, {"task_id": task_id}).first()
            if row is None:
                return False
            case_id = row.case_id
        loaded = load_for_issue(conn, task_id, case_id)
    # Again, now that it is ours: another worker may have written it meanwhile (the task as just read
    # with its case's tasks, after the claim: no read of its own).
    task = loaded[0]
    if recheck and (task.status != TaskStatus.OPEN or not _file_missing(rt, task.file_path)):
        return False
    _issue(rt, task_id, loaded)
    return True


_TASK_STATE = select(s.tasks.c.status, s.tasks.c.file_path, s.tasks.c.case_id).where(s.tasks.c.id == bindparam("task_id"))


def _each(step, *args, what: str):
    """Run one item's output step; a failure is logged and retried next pass, never blocking the rest."""
    try:
        return step(*args)
    except Exception:
        log.exception("生成 %s 时出错,下次处理时重试。", what)
        return None


def _task_file_somewhere(path: Path) -> bool:
    """In the to-do folder, or already dropped into a decision folder and not yet processed."""
    return path.exists() or any((path.parent / folder / path.name).exists() for folder in DECISION_FOLDERS)


WITHDRAWN = (TaskStatus.CANCELLED, TaskStatus.ESCALATED)


def _withdrawn_task_files(rt) -> None:
    """A task closed without its holder (或签 won by another, case ended, escalated) leaves
    the holder's to-do folder, so nobody works on a file that can no longer count."""
    with rt.store.read() as conn:
        rows = list(conn.execute(select(s.tasks.c.id, s.tasks.c.file_path).where(
            s.tasks.c.status.in_(WITHDRAWN), s.tasks.c.file_path.is_not(None))))
    for row in rows:
        path = rt.abs(row.file_path)
        if path.exists() and _is_task_file(path, row.id):
            try:
                _file_away(path)
            except OSError as exc:  # open in Excel on a share: try again on the next pass
                log.info("暂时无法移走已撤回的审批文件 %s:%s", path.name, exc)


def _answered_reminders(rt) -> None:
    """A 催办 note leaves the to-do folder once its task is decided or escalated."""
    with rt.store.read() as conn:
        open_ = {(safe_name(r.assignee), safe_name(r.number)) for r in conn.execute(
            select(s.tasks.c.assignee, s.cases.c.number).join(s.cases, s.cases.c.id == s.tasks.c.case_id)
            .where(s.tasks.c.status == TaskStatus.OPEN))}
    for note in rt.settings.approvals.glob("*/催办 *.txt"):
        number = note.name[len("催办 "):-len(".txt")]
        if (note.parent.name, number) not in open_:
            try:
                _file_away(note)
            except OSError as exc:
                log.info("暂时无法移走催办提示 %s:%s", note.name, exc)


def _is_task_file(path: Path, task_id: int) -> bool:
    """The file at a task's path may by now be a later round's task: only move our own."""
    try:
        return read_props(path).get(TASK_PROP) == str(task_id)
    except Exception:  # unreadable (half-written, damaged): leave it alone
        return False


def _file_away(path: Path) -> Path:
    return move_unique(path, path.parent / DONE_FOLDER)


def _pending_contracts(rt) -> None:
    with rt.store.read() as conn:
        rows = list(conn.execute(select(s.contracts.c.case_id).where(s.contracts.c.status == "待生成")))
    made: list[tuple[str, Path]] = []
    for row in rows:
        path = _each(lambda case_id: render_case_contract(rt, case_id, pdf=False), row.case_id,
                     what=f"申请#{row.case_id} 的合同")
        if path is not None:
            with rt.store.read() as conn:
                number = conn.execute(select(s.contracts.c.number).where(s.contracts.c.case_id == row.case_id)).scalar()
            made.append((number, path))
    # The pass's PDFs in one LibreOffice run, once every contract of the pass is written.
    _each(pdfs_beside, rt.store, made, what="合同的 PDF")


def render_case_contract(rt, case_id: int, *, pdf: bool = True):
    with rt.store.read() as conn:
        case = load_case(conn, case_id)
    values = codec.loads(case.data)
    template = template_for(rt.policy, rt.settings.contracts, case, values)
    if template is None:
        return None
    return render_for_case(rt.store, rt.settings, case_id, template_path=template, company=rt.policy.company,
                           spec=rt.specs.get(case.form_id), pdf=pdf)


def rerender_contract(rt, number: str):
    """``officeflow contracts render <编号>``: the same number and content, from the store."""
    with rt.store.read() as conn:
        case_id = conn.execute(select(s.contracts.c.case_id).where(s.contracts.c.number == number)).scalar()
        if case_id is None:
            case_id = conn.execute(select(s.cases.c.id).where(s.cases.c.number == number)).scalar()
    if case_id is None:
        raise OfficeFlowError(f"找不到编号为 {number} 的合同或申请。请用 officeflow status 查看编号。", code="contract-unknown")
    with rt.store.read() as conn:
        has_contract = conn.execute(select(s.contracts.c.id).where(s.contracts.c.case_id == case_id)).first()
    if not has_contract:
        raise OfficeFlowError(f"申请 {number} 尚未批准或不需要合同,无法生成合同。", code="contract-not-approved")
    return render_case_contract(rt, case_id)


def _claim_output(rt, kind: str, key: str, path: Path) -> bool:
    """Record that an output was written; False if it already was (never write it twice)."""
    with rt.store.begin() as conn:
        if conn.execute(select(s.outputs.c.key).where(s.outputs.c.kind == kind, s.outputs.c.key == key)).first():
            return False
        conn.execute(s.outputs.insert().values(kind=kind, key=key, path=rt.rel(path), at=rt.clock.now()))
    return True


def _claim_outputs(rt, kind: str, written: list[tuple[str, Path]]) -> None:
    """``_claim_output`` of several outputs of one kind, in one transaction (those already recorded kept)."""
    if not written:
        return
    o = s.outputs.c
    with rt.store.begin() as conn:
        known = set(conn.execute(select(o.key).where(o.kind == kind, o.key.in_([key for key, _ in written]))).scalars())
        rows = [dict(kind=kind, key=key, path=rt.rel(path), at=rt.clock.now()) for key, path in dict(written).items()
                if key not in known]
        if rows:
            conn.execute(s.outputs.insert(), rows)


def _done_outputs(rt, kind: str) -> set[str]:
    with rt.store.read() as conn:
        return {r.key for r in conn.execute(select(s.outputs.c.key).where(s.outputs.c.kind == kind))}


def _decision_returns(rt) -> None:
    key = s.cases.c.number + "#" + cast(s.cases.c.round, String)
    for case in _without_output(rt, "decision-return", key, s.cases.c.status.in_((CaseStatus.REJECTED, CaseStatus.RETURNED))):
        path = _each(_decision_copy, rt, case, what=f"{case.number} 的退回副本")
        if path is not None:
            _claim_output(rt, "decision-return", f"{case.number}#{case.round}", path)


def _cc_copies(rt) -> None:
    """抄送 copies at the 时机 the policy names: at submission, after approval, or both."""
    # Only cases still under way: a copy at submission is news, not history.
    _cc_stage(rt, SUBMIT, "cc-submit-case", s.cases.c.cc.is_not(None) & s.cases.c.status.in_((CaseStatus.IN_APPROVAL, CaseStatus.BLOCKED)))
    _cc_stage(rt, APPROVED, "cc-case", (s.cases.c.status == CaseStatus.APPROVED) & s.cases.c.cc.is_not(None))


def _cc_stage(rt, stage: str, marker: str, condition) -> None:
    for case in _without_output(rt, marker, s.cases.c.number, condition):
        done = _done_outputs(rt, "cc")
        for name, timing in entries(codec.loads(case.cc)):
            key = f"{case.number}#{name}" + (f"#{SUBMIT}" if stage == SUBMIT else "")
            if due_at(timing, stage) and key not in done:
                path = _each(write_copy, rt, name, case, stage, what=f"抄送 {name}")
                if path is None:
                    break  # retried next pass: the case is not marked done
                _claim_output(rt, "cc", key, path)
        else:
            _claim_output(rt, marker, case.number, rt.settings.cc)


def _approval_records(rt) -> None:
    """The printable 审批单 of every case that ended (通过, 驳回, 撤回), written once."""
    since = started_at(rt, KIND)
    ended = s.cases.c.status.in_(ENDED) & (s.cases.c.decided_at >= since)
    cases = _without_output(rt, KIND, s.cases.c.number, ended)
    written = write_records(rt, [case.id for case in cases])
    _claim_outputs(rt, KIND, [(case.number, written[case.id]) for case in cases if written.get(case.id) is not None])
    convert_pending(rt)


def _notices(rt) -> None:
    notify.enqueue(rt)
    notify.send_due(rt)


def _receipts(rt) -> None:
    refresh_receipts(rt)


def _without_output(rt, kind: str, key, condition) -> list[Case]:
    """Cases matching ``condition`` whose output of ``kind`` was never written (a query, not a scan)."""
    written = select(s.outputs.c.key).where(s.outputs.c.kind == kind, s.outputs.c.key == key)
    with rt.store.read() as conn:
        return [Case.of(r) for r in conn.execute(select(s.cases).where(condition, ~written.exists())).mappings()]


def _decision_copy(rt, case: Case):
    with rt.store.read() as conn:
        history = case_history(conn, case.id)
    return write_decision_copy(rt, case, history)

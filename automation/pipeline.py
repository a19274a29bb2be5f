"""The flow, in one place:

intake → identify → extract → validate → route → decide → act → record

This is the only module that calls one stage after another; every stage is a
library that imports only the stages below it (``lint-imports`` enforces it).
``process_pending`` is the single entry point: ``officeflow process`` calls it
once, ``officeflow watch`` calls it after each burst of file events and on a
periodic sweep. Events are only hints; this scan is the truth, so a missed or
doubled event can neither lose nor double a file. ``check_file`` gives the same
verdict as ``process_file`` without submitting anything.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
import traceback
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from defusedxml import DefusedXmlException
from lxml import etree

from automation.decide import cases, followup, reroute
from automation.decide.gestures import apply_gestures
from automation.errors import OfficeFlowError, PolicyError, UnrecognisedFormError, UnsafeFileError
from automation.extract.read import applicant_readings, controls_lost_problem
from automation.faults import is_system_fault
from automation.forms import opened
from automation.identify.identify import FALLBACK_NOTES
from automation.intake import budget
from automation.intake import dispositions as d
from automation.intake import receive as intake
from automation.intake.dispositions import Disposition
from automation.intake.private import with_kind
from automation.intake.safety import SAVE_AS_CODES, inspect_file
from automation.intake.names import readable, stored
from automation.intake.personal import ensure_folders, submitter_problems
from automation.intake.scanner import inbox_problem, list_inbox
from automation.intake.strict import CONVERTED_NOTE, to_transitional
from automation.intake.stability import StabilityTracker, changed_since
from automation.record import audit
from automation.record import submissions as subs
from automation.record.registers.render import AUDIT_ANCHORED, register_path, render_due
from automation.route.chain import compose_route
from automation.runtime import Runtime
from automation.validate.check import (
    CheckedFile,
    CheckResult,
    file_missing,
    policy_fault,
    unknown_form,
    unsafe,
)
from automation.validate.combined import validate_form
from automation.workspace import migrate_layout

log = logging.getLogger("officeflow")
DAMAGED = (zipfile.BadZipFile, ElementTree.ParseError, etree.XMLSyntaxError, DefusedXmlException, EOFError)


@dataclass
class RunSummary:
    taken: dict[str, int] = field(default_factory=dict)  # outcome → count
    decisions: int = 0
    reminders: int = 0
    registers: list[str] = field(default_factory=list)
    waiting: int = 0  # files not yet stable

    def count(self, outcome: str) -> None:
        self.taken[outcome] = self.taken.get(outcome, 0) + 1

    def to_dict(self) -> dict:
        return {"taken": self.taken, "decisions": self.decisions, "reminders": self.reminders,
                "registers": self.registers, "waiting": self.waiting}


# --- the whole pass --------------------------------------------------------------------------


def process_pending(rt: Runtime, *, tracker: StabilityTracker | None = None, stop: threading.Event | None = None,
                    wait_stable: bool = True, on_file=None, render_now: bool = True) -> RunSummary:
    """One pass over everything pending: inbox, decisions, time limits, reroute, outputs, registers.

    ``render_now`` renders every register touched so far; the watcher passes False so
    that a burst of cases coalesces into one render per register.
    """
    summary = RunSummary()
    stop = stop or threading.Event()
    # Several workers on one PostgreSQL: each inbox file and each decision file is claimed by one
    # of them; the rest of the work done once per share runs on the leader only. On SQLite: always the leader.
    leader = rt.store.workers.is_leader()
    rt.policies.refresh()                                              # policy: re-read 制度.xlsx if it changed
    if leader:
        migrate_layout(rt.settings, rt.store)                          # workspace: an older layout's folders
    if not inbox_refused(rt):                                          # intake: never through inbox/ as a link
        intake.recover(rt)                                             # intake: finish what a killed run left
        ensure_folders(rt)                                             # intake: personal inboxes, if on
        take_in(rt, summary, tracker or StabilityTracker(rt.settings.watch.quiet_seconds), stop, wait_stable, on_file)
    if stop.is_set():
        return summary
    if leader:
        release_held(rt)                                               # forms held for a policy fault
    summary.decisions = followup.apply_decisions(rt)                  # decide: files moved or filled in, on any
    if not leader:                                                     # worker (each claimed before it is opened)
        followup.issue_task_files(rt, reverse=True)                    # act: task files, on any worker (each
        return summary                                                 # task claimed; from the list's other end)
    apply_gestures(rt)                                                 # decide: 撤回 / 催办 by applicants
    summary.reminders = followup.check_time_limits(rt)                # decide: reminders, escalation
    reroute_blocked(rt)                                                # route → decide: cases the policy now covers
    settled = render_now or not summary.waiting  # while files are still arriving, take them in first
    followup.reconcile_outputs(rt, receipts=settled)                   # act: task files, contracts, copies
    if settled:
        summary.registers = render_registers(rt, force=render_now)     # record: registers
    anchor_audit(rt)                                                   # record: the audit head, outside the store
    return summary


_SAID_INBOX: list[str] = []


def inbox_refused(rt: Runtime) -> bool:
    """inbox/ is not read while it is a link to somewhere else (said once, until it changes)."""
    problem = inbox_problem(rt.settings.inbox, rt.settings.inbox_as_written)
    if problem and problem not in _SAID_INBOX:
        log.error("%s", problem)
    _SAID_INBOX[:] = [problem] if problem else []
    return problem is not None


WRITERS_PATIENCE = 20  # quiet periods a waiting pass gives files still being written, after its last progress


def take_in(rt: Runtime, summary: RunSummary, tracker: StabilityTracker, stop: threading.Event,
            wait_stable: bool, on_file=None) -> None:
    """Take in every stable file; with ``wait_stable`` keep looking until none is still changing —
    but not for ever: a file that never stops changing (a log written into the inbox, a copy that
    stalled) must not keep a one-shot ``officeflow process`` from its decisions, reminders and
    registers. After ``WRITERS_PATIENCE`` quiet periods without taking anything in, the pass goes
    on; the file waits for the next one (``summary.waiting`` says how many)."""
    patience = max(5.0, WRITERS_PATIENCE * rt.settings.watch.quiet_seconds)
    progress = time.monotonic()
    while not stop.is_set():
        # (a worker for one office takes in that office's folder only: [offices] in officeflow.toml)
        pending = [p for p in list_inbox(rt.settings.inbox) if rt.settings.takes_in(p)]
        tracker.prune(set(pending))
        stable = [p for p in pending if tracker.check(p)]
        again = 0  # saved over while we read them: new arrivals, still changing, waited for like the others
        # Several workers: each file claimed before it is opened, a few at a time (those another worker has are left out).
        for path in rt.store.workers.claimed("inbox", stable, key=lambda p: stored(p.relative_to(rt.settings.inbox).as_posix())):
            if stop.is_set():
                return
            seen = tracker.snapshot(path)
            try:
                outcome = process_file(rt, path, first_seen=tracker.first_seen(path), stable=seen)
            except OSError as exc:
                if is_system_fault(exc):  # a full disk or a read-only share: every file alike; wait
                    raise
                # This file's own trouble (say, a name the archive's file system refuses): its
                # record resumes on the next pass; the files after it must not wait.
                log.warning("暂时无法处理 %s:%s", readable(path.name), exc)
                outcome = None
            tracker.forget(path)
            again += outcome is None and changed_since(path, seen)
            if outcome:
                progress = time.monotonic()
                summary.count(outcome)
                if on_file:
                    on_file(path, outcome)
        summary.waiting = len(pending) - len(stable) + again
        if not wait_stable or summary.waiting == 0:
            return
        if time.monotonic() - progress > patience:
            log.info("还有 %d 个文件在 %.0f 秒内一直在变化,本轮不再等待,下一轮再处理。", summary.waiting, patience)
            return
        stop.wait(_settling_wait(tracker, rt.settings.watch.quiet_seconds))


def _settling_wait(tracker: StabilityTracker, quiet: float) -> float:
    """How long a pass waiting for files still being written sleeps: until the first of them has had its
    whole quiet period (``tracker.due_in``), not a fixed beat that overshoots it by up to a beat and lists
    the inbox again and again meanwhile. A short beat only when no file is inside its quiet period (one
    that changed while it was read is seen afresh at the next listing)."""
    due = tracker.due_in()
    if due is None:
        return min(0.2, max(0.05, quiet / 4))
    return due + 0.002  # (just past the moment: the check is ``now - since >= quiet``)


# --- one submission ----------------------------------------------------------------------------


def process_file(rt: Runtime, path: Path, first_seen: float | None = None,
                 stable: tuple[int, int] | None = None) -> str | None:
    """Take in one stable entry, top to bottom. Returns its outcome, or None if it vanished or changed meanwhile."""
    arrival = intake.receive(rt, path, first_seen, stable)             # intake: private copy, recorded first
    if arrival is None:
        return None                                                    # gone, still changing or locked: next pass
    return process_arrival(rt, arrival)


def process_arrival(rt: Runtime, arrival: intake.Arrival) -> str:
    if arrival.row.status == subs.MOVING:                              # a killed run planned it: finish the move
        return intake.complete(rt, arrival.row.id)
    known = arrival.verdict or intake.screen(rt, arrival.row)          # refused, unreadable, crash loop, duplicate
    disposition = known or verdict(rt, arrival.copy, arrival.row)      # … else what the copy is
    return settle(rt, arrival, disposition, judged=known is None)      # decide: the case; act: file and companion


def verdict(rt: Runtime, path: Path, row=None, *, private: bool = True) -> Disposition:
    """What a file is — unsafe, unrecognised, damaged, invalid, or a form to route. Never raises for a bad file.

    ``private``: ``path`` is our own copy, which may be renamed and converted (Strict Open XML);
    an archived file (a held form judged again) is never rewritten.
    """
    try:
        with intake.time_budget(rt.settings.limits.max_seconds_per_file), opened.sharing():  # one read per file
            return _judge(rt, path, row, private)
    except budget.MemoryBudgetExceeded:
        limit = rt.settings.limits.max_memory_mb
        return d.quarantine("file-too-much-memory", f"读取此文件需要的内存超过了 {limit:g} MB 的上限,为不影响其他文件的处理,"
                            "已将其原样隔离。请删除表单中多余的行、图片或工作表后「另存为」新文件再提交;如仍不行,请联系办公室管理员。")
    except (intake.TimeBudgetExceeded, budget.ReadTimeExceeded):
        limit = rt.settings.limits.max_seconds_per_file
        return d.quarantine("file-too-slow", f"读取和检查此文件超过了 {limit:g} 秒的时间上限,为不影响其他文件的处理,已将其原样隔离。"
                            "请删除表单中多余的行、图片或工作表后「另存为」新文件再提交;如仍不行,请联系办公室管理员。")
    except OfficeFlowError as exc:
        return d.quarantine(exc.code, exc.message)
    except Exception as exc:  # the watcher must never die on a file; keep the evidence
        log.error("处理 %s 时发生内部错误:%s\n%s", path.name, exc, traceback.format_exc())
        return d.quarantine("internal-error",
                            "处理此文件时程序发生了内部错误,文件已原样隔离保存,没有丢失。"
                            "请联系管理员查看日志(日志中记有此文件名和出错的位置)。")


def _judge(rt: Runtime, path: Path, row=None, private: bool = True) -> Disposition:
    try:
        kind = inspect_file(path, rt.settings.limits)                  # intake: safe to parse?
    except UnsafeFileError as exc:
        if exc.code in SAVE_AS_CODES:  # a fine file in a format we do not read: say how to save it
            return d.unrecognised(exc.code, exc.message)
        raise
    path = with_kind(path, kind)                                       # (our private copy, named by content)
    converted = private and to_transitional(path)                      # intake: Strict Open XML, as Transitional
    try:                                                               # identify: which form, version;
        spec, version, how, form = budget.read_identified(             # extract: typed values — within the
            path, kind, rt.specs, rt.settings.limits)                  # memory and time budget (big files)
    except UnrecognisedFormError as exc:
        return d.unrecognised(exc.code, exc.message)
    except DAMAGED:  # the package opened, but a part inside is broken
        return d.quarantine("file-damaged", "文件内部结构已损坏,无法读取。")
    if form.doubt:                                                     # extract: controls lost on a re-save
        return controls_lost(rt, form)
    extra = submitter_problems(rt, row, form) if row is not None else []  # personal inboxes: own name only
    # one for the form: validation and routing ask the registers the same questions, over one connection
    with rt.lookups().held() as lookups:
        try:
            report, existing = validate_form(rt, form, extra, lookups)    # validate: fields, numbers, 校验规则
            if not report.valid:
                return d.Invalid(outcome="returned", code="form-invalid", reason=_summary(report),
                                 form_id=form.spec.id, form_version=form.version, problems=report.problems,
                                 spec=form.spec, person=applicant_of(rt, form))
            route = compose_route(rt.policy, form.spec, form.values, applicant=form.applicant,   # route: the chain
                                  department=cases.department_of(rt, form), today=rt.clock.today(), lookups=lookups)
        except PolicyError as fault:  # the policy's fault, never the submitter's: hold the form
            return d.held(fault, form_id=form.spec.id, form_version=form.version)
    return d.Accepted(outcome="archived", code="accepted", reason="表单有效,已进入审批。" + FALLBACK_NOTES.get(how, "")
                      + (CONVERTED_NOTE if converted else ""),
                      form_id=form.spec.id, form_version=form.version, problems=report.warnings,
                      form=form, route=route, existing=existing)


def controls_lost(rt: Runtime, form) -> Disposition:
    """Values that cannot be read with confidence: one specific message, never "every field missing"."""
    problem = controls_lost_problem(form)
    return d.Invalid(outcome="returned", code=problem.code, reason=problem.message, form_id=form.spec.id,
                     form_version=form.version, problems=[problem], spec=form.spec, person=applicant_of(rt, form))


def applicant_of(rt: Runtime, form) -> str | None:
    """Whoever the form names as applicant, by any reading that matches the roster."""
    for name in applicant_readings(form):
        if rt.policy.person(name) is not None:
            return name
    return form.applicant


def settle(rt: Runtime, arrival: intake.Arrival, disposition: Disposition, *, judged: bool = False) -> str:
    """Commit the verdict — for an accepted form with its case — and the planned move; then carry it out.

    ``judged``: the verdict is the copy's own (``verdict``), reached after ``screen`` found no twin. Several
    workers may judge the same bytes at once (nothing keeps them apart: a claim on the content would cost
    two round trips per file for a rare case), and the second one's verdict may even be coloured by the
    first one's case; so whichever commits second finds the other's case here and is filed as its
    duplicate, exactly as if it had been screened after it."""
    now = rt.clock.now()
    submission_id = arrival.row.id
    name = intake.filed_name(rt, arrival)
    # Several workers: files of the same name (from two people's folders) are filed one after the
    # other, so the second sees the first in place and gets a name of its own.
    with rt.store.workers.waiting_for("name", name.casefold()):
        while True:
            move = intake.plan_move(rt, name, disposition)
            with rt.store.begin() as conn:
                # Under the write lock: two workers never both open a case for the same bytes.
                twin = intake.twin_in(conn, arrival.row) if judged or isinstance(disposition, d.Accepted) else None
                if twin is None:
                    case_id = _open_case(rt, conn, disposition, submission_id, now, file_hash=arrival.row.sha256)
                    planned = intake.record_plan(rt, conn, submission_id, disposition, move, case_id=case_id, now=now)
            if twin is None:
                return intake.complete(rt, submission_id, disposition, planned=planned)
            disposition, judged = twin, False  # planned again: a duplicate is filed where duplicates go


def _open_case(rt: Runtime, conn, disposition: Disposition, submission_id: int, now, *,
               file_hash: str | None = None) -> int | None:
    if not isinstance(disposition, d.Accepted):
        return None
    return cases.open_or_continue(rt, conn, form=disposition.form, route=disposition.route,
                                  warnings=disposition.problems, submission_id=submission_id, now=now,
                                  existing=disposition.existing, source_file=disposition.dest_rel, file_hash=file_hash)


def release_held(rt: Runtime) -> int:
    """Forms held (等待制度修正) are assessed again from their archived bytes after the policy changed.

    A form that still cannot be judged stays held; the administrator's report lists
    every held form either way. Returns how many forms left the hold.
    """
    with rt.store.read() as conn:
        rows = subs.held(conn)
    if rows and rt.held_generation != rt.policies.generation:
        rt.held_generation = rt.policies.generation
        for row in rows:
            archived = rt.abs(row.dest_path)
            disposition = intake.twin(rt, row) or verdict(rt, archived, row, private=False)
            if disposition.code != d.HELD_CODE:
                _release(rt, row.id, archived, disposition)
        with rt.store.read() as conn:
            still = subs.held(conn)
    else:
        still = rows
    rt.policies.report_held(still)
    return len(rows) - len(still)


def _release(rt: Runtime, submission_id: int, archived: Path, disposition: Disposition) -> str:
    now = rt.clock.now()
    move = intake.archived_move(rt, archived, disposition)
    with rt.store.begin() as conn:
        case_id = _open_case(rt, conn, disposition, submission_id, now)
        intake.record_release(rt, conn, submission_id, disposition, move, case_id=case_id, now=now)
    # Its original left the inbox long ago: a file there now under the same name is a new arrival.
    return intake.complete(rt, submission_id, disposition, retire=False)


def _summary(report) -> str:
    first = report.errors[0].message if report.errors else ""
    return f"表单有 {len(report.errors)} 处错误需要修改。第一处:{first}"


# --- ``officeflow check``: the same verdict, nothing submitted ----------------------------------


def check_file(rt: Runtime, path: Path) -> CheckedFile:
    """The verdict ``process_file`` would give this file (the same ``verdict``), nothing submitted."""
    if not path.is_file():
        return CheckedFile(str(path), None, [file_missing(value=str(path))])
    with tempfile.TemporaryDirectory(prefix="officeflow-check-") as folder:
        # Judged on a private copy, as intake does: the verdict may rename the copy by its content.
        found = verdict(rt, Path(shutil.copy2(path, Path(folder) / path.name)))
    return CheckedFile(str(path), _form_title(rt, found), _shown_problems(found), outcome=found.outcome, code=found.code)


def _form_title(rt: Runtime, found: Disposition) -> str | None:
    spec = rt.specs.get(found.form_id) if found.form_id else None
    return spec.title if spec else None


def _shown_problems(found: Disposition) -> list:
    """The form's problems — or, for a file that is not judged as a form, why not."""
    if isinstance(found, d.Unrecognised):
        return [unknown_form(message=found.reason)]
    if isinstance(found, d.Quarantine):
        return [unsafe(message=found.reason)]
    if isinstance(found, d.Held):  # the administrator's to fix; the form is not judged
        return [policy_fault(where=found.location or "制度", message=found.detail, level="warning")]
    return list(found.problems)


def check_files(rt: Runtime, paths: list[Path]) -> CheckResult:
    return CheckResult([check_file(rt, p) for p in paths])


# --- the approval half -------------------------------------------------------------------------


def reroute_blocked(rt: Runtime) -> int:
    """Cases waiting for a holder: route them again with the policy in force, then open their tasks."""
    opened = 0
    for case in reroute.blocked_cases(rt.store):                       # decide: cases 待配置
        spec = rt.specs.get(case.form_id)
        if spec is None:
            continue
        route = compose_route(rt.policy, spec, case.values, applicant=case.applicant,   # route: the chain again
                              department=case.department, today=rt.clock.today(), lookups=rt.lookups())
        opened += len(reroute.unblock(rt.store, case.case_id, route, now=rt.clock.now(), cal=rt.calendar))
    return opened


def anchor_audit(rt: Runtime) -> None:
    """The audit chain's head, written outside the store after every pass (see record/audit.py):
    the checkpoint, and 审批台账's 说明 line (one part of the register rewritten, no render)."""
    book = register_path(rt.settings.registers, AUDIT_ANCHORED)
    try:
        key = audit.load_key(rt.settings.audit.key_file)
        with rt.store.read() as conn:
            problem = audit.refresh_checkpoint(conn, rt.settings.audit_checkpoint, key=key, at=rt.clock.now(),
                                               register=book)
    except OSError as exc:  # a full disk or a read-only share: the next pass tries again
        log.warning("暂时无法更新审计链检查点:%s", exc)
        return
    try:  # the register's 说明 line too, though its rows did not change (one part rewritten, no render)
        with rt.store.read() as conn:
            kept = audit.refresh_register_anchor(conn, book)
    except OSError as exc:  # open in Excel, or the share is away: the next pass tries again
        log.info("审批台账暂时无法更新说明行中的审计链锚点(%s),下一轮再试。", exc)
        kept = None
    if problem:
        log.error("审计链与检查点不一致,检查点保持不变以便核查:%s。请运行 officeflow audit verify。", problem)
    if kept:
        log.error("审计链与审批台账的说明行不一致,说明行保持不变以便核查:%s。请运行 officeflow audit verify。", kept)


def render_registers(rt: Runtime, *, force: bool) -> list[str]:
    result = render_due(rt.store, rt.settings, today=rt.clock.today(),
                        workdays_between=rt.calendar.workdays_between, force=force)
    return list(result.rendered)

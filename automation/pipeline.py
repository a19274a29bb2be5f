"""The flow, in one place:

intake → identify → extract → validate → route → decide → act → record

``process_pending`` is the single entry point: ``officeflow process`` calls it
once, ``officeflow watch`` calls it after each burst of file events and on a
periodic sweep. Events are only hints; this scan is the truth, so a missed or
doubled event can neither lose nor double a file.
"""

from __future__ import annotations

import logging
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from defusedxml import DefusedXmlException
from lxml import etree

from automation.intake import receive as intake
from automation.intake.scanner import list_inbox
from automation.intake.stability import StabilityTracker
from automation.runtime import Runtime

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


def process_pending(rt: Runtime, *, tracker: StabilityTracker | None = None, stop: threading.Event | None = None,
                    wait_stable: bool = True, on_file=None, render_now: bool = True) -> RunSummary:
    """One pass over everything pending: inbox, decisions, time limits, outputs, registers.

    ``render_now`` renders every register touched so far; the watcher passes False so
    that a burst of cases coalesces into one render per register.
    """
    summary = RunSummary()
    stop = stop or threading.Event()
    rt.policies.refresh()
    intake.recover(rt)
    take_in(rt, summary, tracker or StabilityTracker(rt.settings.quiet_seconds), stop, wait_stable, on_file)
    if stop.is_set():
        return summary
    from automation.act import followup
    from automation.route.reroute import reroute_blocked

    release_held(rt)                                                   # forms held for a policy fault
    reroute_blocked(rt)                                                # route: cases the policy now covers
    summary.decisions = followup.apply_decisions(rt)                  # decide: files moved or filled in
    summary.reminders = followup.check_time_limits(rt)                # decide: reminders, escalation
    followup.reconcile_outputs(rt)                                     # act: task files, contracts, copies
    if render_now or not summary.waiting:  # while files are still arriving, take them in first
        summary.registers = render_registers(rt, force=render_now)     # record: registers
    return summary


def release_held(rt: Runtime) -> int:
    """Forms held (等待制度修正) are assessed again from their archived bytes after the policy changed.

    A form that still cannot be judged stays held; the administrator's report lists
    every held form either way. Returns how many forms left the hold.
    """
    from automation.intake.dispositions import HELD_CODE
    from automation.record import submissions as subs

    with rt.store.read() as conn:
        rows = subs.held(conn)
    if rows and rt.held_generation != rt.policies.generation:
        rt.held_generation = rt.policies.generation
        for row in rows:
            disposition = intake.assess_safely(rt, row, rt.abs(row.dest_path))
            if disposition.code != HELD_CODE:
                intake.release(rt, row.id, rt.abs(row.dest_path), disposition)
        with rt.store.read() as conn:
            still = subs.held(conn)
    else:
        still = rows
    rt.policies.report_held(still)
    return len(rows) - len(still)


def render_registers(rt: Runtime, *, force: bool) -> list[str]:
    from automation.record.registers.render import render_due

    result = render_due(rt.store, rt.settings, today=rt.clock.today(),
                        workdays_between=rt.calendar.workdays_between, force=force)
    return list(result.rendered)


def take_in(rt: Runtime, summary: RunSummary, tracker: StabilityTracker, stop: threading.Event,
            wait_stable: bool, on_file=None) -> None:
    """Take in every stable file; with ``wait_stable`` keep looking until none is still changing."""
    while not stop.is_set():
        pending = list_inbox(rt.settings.inbox)
        tracker.prune(set(pending))
        stable = [p for p in pending if tracker.check(p)]
        for path in stable:
            if stop.is_set():
                return
            outcome = intake.process_file(rt, path, first_seen=tracker.first_seen(path))
            tracker.forget(path)
            if outcome:
                summary.count(outcome)
                if on_file:
                    on_file(path, outcome)
        summary.waiting = len(pending) - len(stable)
        if not wait_stable or summary.waiting == 0:
            return
        stop.wait(min(0.2, max(0.05, rt.settings.quiet_seconds / 4)))


def assess(rt: Runtime, path: Path, row):
    """Decide what a stable, new file is: unsafe, unknown, invalid, or a case to route."""
    from automation.errors import UnrecognisedFormError
    from automation.extract.read import read_form
    from automation.identify.identify import identify
    from automation.intake import dispositions as d
    from automation.intake.private import with_kind
    from automation.intake.safety import inspect_file

    kind = inspect_file(path, rt.settings.limits)                      # intake: safe to parse?
    path = with_kind(path, kind)                                       # (our private copy, named by content)
    try:
        spec, version, how = identify(path, kind, rt.specs)            # identify: which form, version
        form = read_form(path, spec, version, how)                     # extract: typed values
    except UnrecognisedFormError as exc:
        return d.unrecognised(exc.code, exc.message)
    except DAMAGED as exc:  # the package opened, but a part inside is broken
        return d.quarantine("file-damaged", f"文件内部结构已损坏,无法读取({type(exc).__name__})。")
    return validate_and_route(rt, form)                                # validate → route


def validate_and_route(rt: Runtime, form):
    from automation.act import cases
    from automation.intake import dispositions as d
    from automation.route.chain import compose_route
    from automation.validate.combined import validate

    from automation.errors import PolicyError

    today = rt.clock.today()
    existing, problems = cases.resubmission_target(rt, form)
    try:
        report = validate(rt, form, extra=problems)                   # validate: fields + policy rules
        if not report.valid:
            return d.Invalid(outcome="returned", code="form-invalid", reason=_summary(report),
                             form_id=form.spec.id, form_version=form.version, problems=report.problems,
                             spec=form.spec, person=form.applicant)
        route = compose_route(rt.policy, form.spec, form.values, applicant=form.applicant,   # route: the chain
                              department=cases.department_of(rt, form), today=today, lookups=rt.lookups())
    except PolicyError as fault:  # the policy's fault, never the submitter's: hold the form
        return d.held(fault, form_id=form.spec.id, form_version=form.version)
    return d.Accepted(outcome="archived", code="accepted", reason="表单有效,已进入审批。",
                      form_id=form.spec.id, form_version=form.version, problems=report.warnings,
                      open_case=lambda rt_, conn, sub_id, now, source: cases.open_or_continue(
                          rt_, conn, form=form, route=route, warnings=report.warnings,
                          submission_id=sub_id, now=now, existing=existing, source_file=source))


def _summary(report) -> str:
    first = report.errors[0].message if report.errors else ""
    return f"表单有 {len(report.errors)} 处错误需要修改。第一处:{first}"

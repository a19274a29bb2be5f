"""Decisions handed back as files: moved into 同意/ 驳回/ 退回修改/, or with 审批结论 filled in.

A file counts only when it lies in its own approver's folder, its task is open
and its form data still has the fingerprint the task was issued with. A file that
does not count is put back in the owner's folder with a reason file, audited as
'decision-refused', and remembered by (hash, where it now lies) so the same file
left there is not refused again on every scan; changing or moving it again makes
it count as a new attempt.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import bindparam, select

from automation.decide import engine
from automation.decide.approval_view import step_choice
from automation.decide.conflicts import Found, conflicting, describe
from automation.decide.integrity import fingerprints
from automation.decide.officefile import (
    BACK_TO_NAME,
    CASE_PROP,
    COMMENT_NAME,
    DECISION_NAME,
    INPUT_NAMES,
    SIGN_MODE_NAME,
    SIGNER_NAME,
    TASK_PROP,
    TRANSFER_NAME,
    read_inputs,
    read_props,
)
from automation.decide.outcome import record_outcome
from automation.decide.task_files import DECISION_FOLDERS, DONE_FOLDER, issue_task_file
from automation.errors import OfficeFlowError
from automation.forms import opened
from automation.fsutil import (
    atomic_write_text,
    file_stamp,
    move_file,
    move_unique,
    safe_name,
    sha256_file,
    unique_path,
)
from automation.policy.approver_options import ApproverOptions, options_for
from automation.problems import Problem
from automation.problems import decision as refusal
from automation.record import audit, codec
from automation.record import schema as s
from automation.record.status import TaskStatus

log = logging.getLogger("officeflow")

FILE_KINDS = (".xlsx", ".docx")
REFUSED = "decision-refused"


@dataclass(frozen=True)
class DecisionFile:
    path: Path
    owner: str  # the approver whose folder it lies in
    decision: str
    comment: str | None
    by: str  # "folder" | "cell"
    cell: str | None = None  # what 审批结论 says, for a file moved into a folder
    inputs: dict = field(default_factory=dict)  # every approval input: 转交给, 加签人, 加签方式, 退回到 …

    def input(self, name: str) -> str | None:
        return self.inputs.get(name)


@dataclass(frozen=True)
class AppliedDecision:
    file: DecisionFile
    accepted: bool
    task_id: int | None
    reason: str | None = None
    moved_to: Path | None = None
    outcome: engine.DecisionOutcome | None = None
    problem: Problem | None = None  # why it did not count (``reason`` is its message)

    def to_dict(self) -> dict:
        return {"file": str(self.file.path), "owner": self.file.owner, "decision": self.file.decision,
                "by": self.file.by, "accepted": self.accepted, "task_id": self.task_id, "reason": self.reason,
                "code": self.problem.code if self.problem else None,
                "moved_to": str(self.moved_to) if self.moved_to else None,
                "outcome": self.outcome.to_dict() if self.outcome else None}


def is_candidate(path: Path) -> bool:
    """An Office file a person saved, not a lock, temp or reason file."""
    name = path.name
    if name.startswith(("~$", ".~lock", "~", ".")) or name.endswith(("#", ".tmp")):
        return False
    return path.is_file() and path.suffix.lower() in FILE_KINDS


@dataclass(frozen=True)
class Candidate:
    """A file that may hold a decision, found by listing folders only (nothing opened yet)."""
    path: Path
    owner: str
    folder: str | None  # the decision folder it was dropped into; None: a task file in the owner's folder


def list_decision_files(settings, unchanged: dict[Path, str] | None = None,
                        seen: dict[Path, str] | None = None) -> list[Candidate]:
    """Every file in 同意/ 驳回/ 退回修改/, and every task file saved since we last knew its state —
    by listing and ``stat`` only, so several workers can each open just the files they claimed.

    ``unchanged`` maps task files to the stamp they had when written; ``seen`` to the stamp they had
    when this worker last opened them and found nothing to do (no 审批结论, or refused already).
    Files at either stamp are left out. ``seen`` loses the entries of files no longer there.
    """
    unchanged = unchanged or {}
    found: list[Candidate] = []
    listed: set[Path] = set()
    if settings.approvals.is_dir():
        for person in sorted(p for p in settings.approvals.iterdir() if p.is_dir()):
            for folder in DECISION_FOLDERS:
                found.extend(Candidate(path, person.name, folder)
                             for path in sorted(filter(is_candidate, (person / folder).glob("*"))))
            for path in sorted(filter(is_candidate, person.glob("*"))):
                listed.add(path)
                stamp = file_stamp(path)
                if stamp is not None and stamp in (unchanged.get(path), (seen or {}).get(path)):
                    continue
                found.append(Candidate(path, person.name, None))
    if seen is not None:
        for gone in set(seen) - listed:
            del seen[gone]
    return found


def read_decision_file(candidate: Candidate) -> DecisionFile | None:
    """Open one listed file: its decision, or None for a task file saved without 审批结论
    (or damaged or half-written: it is looked at again once saved anew)."""
    path = candidate.path
    if candidate.folder is not None:
        inputs = _inputs_of(path)
        return DecisionFile(path, candidate.owner, candidate.folder, inputs[COMMENT_NAME], "folder",
                            inputs[DECISION_NAME], inputs)
    try:
        inputs = read_inputs(path)
    except Exception:
        return None
    if not inputs[DECISION_NAME]:
        return None
    return DecisionFile(path, candidate.owner, inputs[DECISION_NAME], inputs[COMMENT_NAME], "cell", inputs=inputs)


def find_decision_files(settings, unchanged: dict[Path, str] | None = None) -> list[DecisionFile]:
    """Decision files: anything in 同意/ 驳回/ 退回修改/, and task files saved with 审批结论 filled.

    ``unchanged`` maps task files to the stamp they had when written; those are not
    opened again (reading every pending task file on every pass does not scale).
    """
    found = (read_decision_file(c) for c in list_decision_files(settings, unchanged))
    return [item for item in found if item is not None]


def _inputs_of(path: Path) -> dict:
    try:
        return read_inputs(path)
    except Exception:  # an unreadable file still counts by its folder; integrity decides later
        return dict.fromkeys(INPUT_NAMES)


# --- applying -----------------------------------------------------------------------------

NOTHING_TO_DO = "nothing-to-do"  # opened: no 审批结论, or refused already — not opened again until saved anew
TRY_AGAIN = "try-again"  # open in Excel, the share blinked, its task file not yet recorded: the next pass tries again


def apply_decisions(store, settings, *, specs: dict, cal, now: datetime, policy=None,
                    seen: dict[Path, str] | None = None) -> list[AppliedDecision]:
    """Apply every decision file. With a ``policy``, what a decision causes (effects, a contract
    number) is recorded inside the decision's own transaction, so it commits with it or not at all;
    the policy also says what an approver's action needs (a reason, a name from 人员, 允许转交).

    Several workers on one PostgreSQL: each file is claimed (``record/claims.py``) before it is
    even opened, so any worker may take any decision file and no two ever apply the same one.
    ``seen`` (kept by the caller across passes) spares opening files found to hold nothing to do."""
    results = []
    candidates = list_decision_files(settings, _written_stamps(store, settings), seen)
    conflicts = _conflicts(store, settings, candidates)
    if conflicts:
        # The task file in place goes first: refused, it is replaced by a clean one, which the
        # refused copies' reason files can then point to (instead of the one holding a conclusion).
        candidates.sort(key=lambda c: not (c.folder is None and c.path in conflicts))
    # (claimed a few at a time, in one statement; those another worker has are left out)
    for candidate in store.workers.claimed("decision", candidates, key=lambda c: _rel(settings, c.path)):
        if not candidate.path.exists():  # another worker finished it meanwhile
            continue
        # One read of the file's bytes and zip directory for its hash, its inputs, its properties
        # and its fingerprint (forms.opened): each of them read the file again before.
        with opened.sharing():
            result = _apply_claimed(store, settings, candidate, specs=specs, cal=cal, now=now, policy=policy,
                                    conflict=conflicts.get(candidate.path))
        if isinstance(result, AppliedDecision):
            results.append(result)
            if seen is not None:
                seen.pop(candidate.path, None)
        elif result is NOTHING_TO_DO and seen is not None and candidate.folder is None:
            stamp = file_stamp(candidate.path)
            if stamp is not None:
                seen[candidate.path] = stamp
    return results


def _apply_claimed(store, settings, candidate: Candidate, *, specs: dict, cal, now: datetime,
                   policy=None, conflict: tuple[Found, ...] | None = None) -> AppliedDecision | str:
    item = earlier = None
    try:
        file_hash = sha256(candidate.path)
    except OSError:  # gone or locked: read the ordinary way (which says what to do with it)
        file_hash = None
    try:
        if file_hash is not None:
            with store.read() as conn:
                earlier = _earlier(conn, file_hash)
                if earlier.issued is not None:
                    # Exactly the bytes OfficeFlow wrote: nothing filled in, the form data as fingerprinted.
                    # A task file dragged into a decision folder unopened is not parsed at all
                    # (tests/test_decision_untouched_file.py); saved unchanged in place, it holds nothing to do.
                    if candidate.folder is None:
                        return NOTHING_TO_DO
                    item = untouched_decision_file(candidate)
                    judged = _judge(conn, settings, item, file_hash, earlier, specs=specs, policy=policy,
                                    conflict=conflict)
            if item is not None:
                return _carry_out(store, settings, item, judged, file_hash, cal=cal, now=now, policy=policy,
                                  specs=specs) or NOTHING_TO_DO
        item = read_decision_file(candidate)
        if item is None:
            return NOTHING_TO_DO
        return apply_one(store, settings, item, specs=specs, cal=cal, now=now, policy=policy,
                         file_hash=file_hash, earlier=earlier, conflict=conflict) or NOTHING_TO_DO
    except OSError as exc:
        log.info("暂时无法处理审批文件 %s:%s", candidate.path.name, exc)
        return TRY_AGAIN
    except Exception as exc:  # damaged file or a fault of ours: tell the approver, never loop
        log.exception("审批文件 %s 无法处理", candidate.path.name)
        if item is None:  # the store failed before the file was even looked at
            item = read_decision_file(candidate)
            if item is None:
                return TRY_AGAIN
        return _refuse_safely(store, settings, item, exc, now, specs) or TRY_AGAIN


ISSUED = "task-file-written"
DECIDED = "task-decided"
_a = s.audit_log.c
# Everything the log knows of one file's bytes, in one look-up on the file-hash index.
_EARLIER = (select(_a.action, _a.file, _a.detail)
            .where(_a.file_hash == bindparam("file_hash"), _a.action.in_((ISSUED, DECIDED, REFUSED)))
            .order_by(_a.id))


@dataclass(frozen=True)
class Issued:
    """A decision file byte-identical to a task file as written (its 'task-file-written' entry)."""
    task_id: int
    fingerprint: str | None


@dataclass(frozen=True)
class Earlier:
    """What the audit log holds of these exact bytes."""
    issued: Issued | None = None  # written by OfficeFlow as this task's file
    decided: tuple[tuple[str, str], ...] = ()  # (decision, where the file lay) already taken with them
    refused_at: frozenset[str] = frozenset()  # where they were refused already


def _earlier(conn, file_hash: str) -> Earlier:
    issued, decided, refused = None, [], set()
    for row in conn.execute(_EARLIER, {"file_hash": file_hash}):
        if row.action == REFUSED:
            refused.add(row.file)
            continue
        detail = codec.loads(row.detail) if row.detail else None
        if not isinstance(detail, dict):
            continue
        if row.action == DECIDED:
            decided.append((detail.get("decision"), row.file))
        elif isinstance(detail.get("task"), int) and not isinstance(detail.get("task"), bool):
            issued = Issued(detail["task"], detail.get("fingerprint"))  # the latest one counts
    return Earlier(issued, tuple(decided), frozenset(refused))


def _as_issued(store, path: Path) -> tuple[str | None, Issued | None]:
    """(the file's SHA-256, the task file these exact bytes were written as, if any)."""
    try:
        file_hash = sha256(path)
    except OSError:
        return None, None
    with store.read() as conn:
        return file_hash, _earlier(conn, file_hash).issued


def untouched_decision_file(candidate: Candidate) -> DecisionFile:
    """What ``read_decision_file`` finds in a task file as written: every approval input blank."""
    inputs = dict.fromkeys(INPUT_NAMES)
    return DecisionFile(candidate.path, candidate.owner, candidate.folder, None, "folder", None, inputs)


def _written_stamps(store, settings) -> dict[Path, str]:
    with store.read() as conn:
        rows = conn.execute(select(s.tasks.c.file_path, s.tasks.c.file_stamp).where(
            s.tasks.c.status == TaskStatus.OPEN, s.tasks.c.file_stamp.is_not(None)))
        return {settings.root / r.file_path: r.file_stamp for r in rows}


def apply_one(store, settings, item: DecisionFile, *, specs: dict, cal, now: datetime,
              policy=None, file_hash: str | None = None, earlier: Earlier | None = None,
              conflict: tuple[Found, ...] | None = None) -> AppliedDecision | str | None:
    """The decision applied or refused; None when this file was refused already, TRY_AGAIN when it
    cannot be judged yet. ``file_hash``: the file's SHA-256 when already known; ``earlier``: what the
    audit log holds of those bytes, when already read (under the file's claim: nobody adds to it meanwhile)."""
    file_hash = file_hash or sha256(item.path)
    with store.read() as conn:
        earlier = earlier if earlier is not None else _earlier(conn, file_hash)
        judged = _judge(conn, settings, item, file_hash, earlier, specs=specs, policy=policy, conflict=conflict)
    return _carry_out(store, settings, item, judged, file_hash, cal=cal, now=now, policy=policy, specs=specs)


@dataclass(frozen=True)
class _Judged:
    task_id: int | None
    problem: Problem | None
    done: AppliedDecision | str | None = None  # settled without deciding: already refused / decided, try again
    settled: bool = False
    rel: str | None = None  # the file's path as recorded (relative to the workspace)


def _judge(conn, settings, item: DecisionFile, file_hash: str, earlier: Earlier, *, specs: dict,
           policy, conflict: tuple[Found, ...] | None = None) -> _Judged:
    """Inside one read: whether the file was seen before, its task, and why it cannot count (if so)."""
    rel = _rel(settings, item.path)
    if rel in earlier.refused_at:
        return _Judged(None, None, None, settled=True)
    if (item.decision, rel) in earlier.decided:
        # Decided where it lies, but we stopped before moving the file: finish the move, decide nothing
        # again. The same bytes elsewhere are a copy kept from before: judged below (already decided).
        return _Judged(None, None, AppliedDecision(item, True, None, reason="已办理", moved_to=_to_done(item)),
                       settled=True)
    issued = earlier.issued if item.by == "folder" and item.cell is None and not any(item.inputs.values()) else None
    task_id = issued.task_id if issued is not None else _task_id_for(conn, item)
    row = _task_row(conn, task_id)
    if row is not None and row["status"] == TaskStatus.OPEN and row["fingerprint"] is None:
        # Its task file is written but not yet recorded (by the worker writing it, or a run killed
        # between the two): judged once the record is there, never refused for a missing fingerprint.
        return _Judged(task_id, None, TRY_AGAIN, settled=True)
    problem = (_precheck(conn, item, task_id, specs, rel, issued, row, conflict)
               or _action_problem(conn, item, task_id, policy, rel, row))
    return _Judged(task_id, problem, rel=rel)


_TASK_AND_CASE = (select(s.tasks, s.cases.c.form_id.label("case_form_id"), s.cases.c.form_title.label("case_title"))
                  .join(s.cases, s.cases.c.id == s.tasks.c.case_id).where(s.tasks.c.id == bindparam("task_id")))


def _task_row(conn, task_id: int | None):
    """The task, with its case's form id and title, in one statement."""
    if task_id is None:
        return None
    return conn.execute(_TASK_AND_CASE, {"task_id": task_id}).mappings().first()


def _carry_out(store, settings, item: DecisionFile, judged: _Judged, file_hash: str, *, cal, now, policy,
               specs) -> AppliedDecision | str | None:
    if judged.settled:
        return judged.done
    task_id, problem = judged.task_id, judged.problem
    rel = judged.rel or _rel(settings, item.path)
    if problem:
        return _refuse(store, settings, item, task_id, problem, file_hash, now, specs)
    try:
        with store.begin() as conn:
            outcome = engine.decide(conn, task_id=task_id, decision=item.decision, comment=item.comment,
                                    actor=item.owner, file=rel, file_hash=file_hash, now=now, cal=cal,
                                    **_action_arguments(item))
            if policy is not None:
                record_outcome(conn, outcome, policy=policy, contracts=settings.contracts, now=now, cal=cal)
    except OfficeFlowError as exc:  # deciding twice, or what the decision would cause is impossible
        return _refuse(store, settings, item, task_id, refusal.not_allowed(message=exc.message, location=rel,
                                                                           field="审批结论"), file_hash, now, specs)
    try:
        moved = _to_done(item)
        _file_away_note(settings, item)
    except OSError:  # still open in Excel: recorded already; the next pass finishes the move
        moved = None
    return AppliedDecision(item, True, task_id, moved_to=moved, outcome=outcome)


def _file_away_note(settings, item: DecisionFile) -> None:
    """The note of an earlier refusal of this file goes to 已办 once the decision counts."""
    note = settings.approvals / item.owner / f"{item.path.name}.原因.txt"
    if note.exists():
        move_unique(note, note.parent / DONE_FOLDER)


def _refuse_safely(store, settings, item: DecisionFile, exc: Exception, now, specs=None) -> AppliedDecision | None:
    """A file that could not be judged at all: refused as damaged, with a fresh task file when its
    task can still be told (by the file's properties or the case number its name starts with)."""
    try:
        file_hash = sha256(item.path)
    except OSError:
        return None
    try:
        with store.read() as conn:
            task_id = _task_id_for(conn, item)
    except Exception:  # the store itself is at fault: the reason file still tells the approver
        log.exception("无法确定审批文件 %s 所属的任务", item.path.name)
        task_id = None
    return _refuse(store, settings, item, task_id, refusal.damaged(location=_rel(settings, item.path)), file_hash,
                   now, specs)


def _to_done(item: DecisionFile) -> Path:
    person_root = item.path.parent.parent if item.by == "folder" else item.path.parent
    return move_unique(item.path, person_root / DONE_FOLDER)


def _conflicts(store, settings, candidates: list[Candidate]) -> dict[Path, tuple[Found, ...]]:
    """The files of this pass whose task has another file here with a different conclusion.

    Only an approver with files in more than one place this pass (one decision folder and another, or
    a folder and a 审批结论 filled in place) can have given two conclusions: files in one folder say
    that folder's conclusion (one whose cell disagrees is refused on its own), so the common pass —
    a stack of files moved into 同意/, or cells filled in place — opens nothing more. Two copies
    filled in place with different conclusions are not caught here: the first one judged counts.
    Files settled already (refused where they lie, decided) and task files left as written are not
    decisions of this pass."""
    by_owner: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_owner.setdefault(candidate.owner, []).append(candidate)
    found = []
    for group in (g for g in by_owner.values() if len({c.folder for c in g}) > 1):
        for candidate in group:
            try:
                with opened.sharing():
                    item = _live_decision(store, settings, candidate)
            except Exception:  # unreadable or gone: judged (and answered) on its own when applied
                item = None
            if item is not None:
                found.append(item)
    return conflicting(found)


def _live_decision(store, settings, candidate: Candidate) -> Found | None:
    file_hash = sha256(candidate.path)
    with store.read() as conn:
        earlier = _earlier(conn, file_hash)
        rel = _rel(settings, candidate.path)
        if rel in earlier.refused_at or any(where == rel for _, where in earlier.decided):
            return None
        if earlier.issued is not None:
            if candidate.folder is None:
                return None
            return Found(candidate.path, earlier.issued.task_id, candidate.folder, candidate.folder)
        item = read_decision_file(candidate)
        task_id = _task_id_for(conn, item) if item is not None else None
    if task_id is None:
        return None
    return Found(candidate.path, task_id, item.decision, candidate.folder)


def _task_id_for(conn, item: DecisionFile) -> int | None:
    try:
        props = read_props(item.path)
    except Exception:
        props = {}
    if props.get(TASK_PROP, "").isdigit():
        return int(props[TASK_PROP])
    number = props.get(CASE_PROP) or item.path.stem.split(" ")[0]
    row = conn.execute(
        select(s.tasks.c.id).join(s.cases, s.cases.c.id == s.tasks.c.case_id)
        .where(s.cases.c.number == number, s.tasks.c.assignee == item.owner, s.tasks.c.status == TaskStatus.OPEN)
    ).first()
    return row.id if row else None


def _precheck(conn, item: DecisionFile, task_id: int | None, specs: dict, where: str,
              issued: Issued | None = None, task=None, conflict: tuple[Found, ...] | None = None) -> Problem | None:
    """Why this file cannot count as a decision, as a coded problem; None when it can.
    ``task``: the task's row (``_task_row``) when already read."""
    if item.decision not in engine.DECISIONS:
        return refusal.conclusion_unknown(value=item.decision, field="审批结论", location=where)
    if item.cell and item.cell != item.decision:
        return refusal.folder_disagrees(value=item.cell, folder=item.decision, field="审批结论", location=where)
    if task is None:
        task = _task_row(conn, task_id) if task_id else None
    if task is None:
        return refusal.task_unknown(location=where)
    if safe_name(task["assignee"]) != item.owner:
        return refusal.wrong_folder(assignee=task["assignee"], owner=item.owner, location=where)
    if task["status"] != TaskStatus.OPEN:
        if task["decision"] and task["decided_at"] is not None:
            return refusal.already_decided(number=_subject(conn, task_id), task=task_id, by=task["assignee"],
                                           at=f"{task['decided_at']:%Y-%m-%d %H:%M}", decision=task["decision"],
                                           location=where)
        return refusal.not_on_chain(status=engine.status_label(task["status"]), location=where)
    # Only now, for a live decision of this approver on this open task: a file that is not one (another's
    # task, one closed already) does not make the other file ambiguous. And before the checks of the
    # content or of what the action needs: with two conclusions given, which one the approver meant
    # is not ours to guess even when one of them could not be carried out as filled in.
    if conflict and task_id in {other.task_id for other in conflict}:
        return refusal.conflicting(number=_subject(conn, task_id),
                                   task=task_id, found=describe(conflict), field=DECISION_NAME, location=where)
    if issued is not None and issued.fingerprint is not None and issued.fingerprint == task["fingerprint"]:
        return None  # the very bytes whose form data gave the task's fingerprint
    return _integrity_problem(conn, task, specs, item.path, where)


# --- what an action needs: a reason, a name from the roster, a step -----------------------------


def _action_problem(conn, item: DecisionFile, task_id: int, policy, where: str, task=None) -> Problem | None:
    """Why the approver's action cannot be carried out as filled in; None when it can."""
    title = task["case_title"] if task is not None else conn.execute(
        select(s.cases.c.form_title).join(s.tasks, s.tasks.c.case_id == s.cases.c.id)
        .where(s.tasks.c.id == task_id)).scalar()
    options = options_for(policy, title) if policy is not None else ApproverOptions()
    decision = item.decision
    if decision in (engine.REJECT, engine.RETURN) and options.reason_required and not item.comment:
        return refusal.reason_missing(decision=decision, field=COMMENT_NAME, location=where)
    if decision == engine.TRANSFER and not options.transfer_allowed:
        return refusal.transfer_forbidden(form=title, field=DECISION_NAME, location=where)
    if decision in (engine.TRANSFER, engine.ADD_SIGN):
        return _name_problem(item, policy, where) or _sign_mode_problem(item, where)
    back_to = item.input(BACK_TO_NAME)
    if decision == engine.RETURN and back_to not in (None, engine.TO_APPLICANT) and step_choice(back_to) is None:
        return refusal.back_to_unknown(value=back_to, field=BACK_TO_NAME, location=where)
    return None


def _handover_name(item: DecisionFile) -> tuple[str, str | None]:
    cell = TRANSFER_NAME if item.decision == engine.TRANSFER else SIGNER_NAME
    other = SIGNER_NAME if cell == TRANSFER_NAME else TRANSFER_NAME
    return cell, item.input(cell) or item.input(other)


def _name_problem(item: DecisionFile, policy, where: str) -> Problem | None:
    cell, name = _handover_name(item)
    if not name:
        return refusal.name_missing(decision=item.decision, cell=cell, field=cell, location=where)
    if policy is None:
        return None
    person = policy.person(name)
    if person is not None and person.active:
        return None
    active = [p.name for p in policy.people.values() if p.active]
    close = difflib.get_close_matches(name, active, n=1, cutoff=0.4)
    hint = f"您是否想写「{close[0]}」?" if close else "请从下拉列表中选择。"
    return refusal.name_unknown(cell=cell, value=name, hint=hint, field=cell, location=where)


def _sign_mode_problem(item: DecisionFile, where: str) -> Problem | None:
    if item.decision == engine.ADD_SIGN and item.input(SIGN_MODE_NAME) not in engine.SIGN_MODES:
        return refusal.sign_mode_missing(field=SIGN_MODE_NAME, location=where)
    return None


def _action_arguments(item: DecisionFile) -> dict:
    if item.decision in (engine.TRANSFER, engine.ADD_SIGN):
        return {"to": _handover_name(item)[1], "how": item.input(SIGN_MODE_NAME)}
    if item.decision == engine.RETURN:
        return {"back_to": step_choice(item.input(BACK_TO_NAME))}
    return {}


def _integrity_problem(conn, task, specs: dict, path: Path, where: str) -> Problem | None:
    form_id = task["case_form_id"]
    spec = specs.get(form_id)
    try:
        found = fingerprints(path, spec) if spec else ()
    except (OfficeFlowError, OSError, ValueError, KeyError) as exc:
        # staff read this: our own (Chinese) message, never a library's English exception text
        log.info("审批文件 %s 的表单内容无法读取:%r", path.name, exc)
        detail = exc.message if isinstance(exc, OfficeFlowError) and exc.message else "表单内容无法解析"
        return refusal.unreadable(detail=detail, location=where)
    if task["fingerprint"] not in found:
        return refusal.data_changed(location=where)
    return None


def _refuse(store, settings, item: DecisionFile, task_id, problem: Problem, file_hash: str, now,
            specs: dict | None = None) -> AppliedDecision:
    """Put the file back in the owner's folder, marked 未计入, with a reason file beside it and,
    while the task is open, a fresh clean task file, so the approver can always decide."""
    reason = problem.message
    person_root = settings.approvals / item.owner
    target = move_file(item.path, unique_path(person_root, _refused_name(item.path.name)))
    fresh = _fresh_task_file(store, settings, task_id, specs, now)
    advice = (f"\n已在同一文件夹中重新发出一份干净的审批文件「{fresh.name}」,请打开新文件办理"
              "(填写审批结论后保存,或拖入 同意/驳回/退回修改 文件夹)。" if fresh else "")
    note = target.with_name(f"{target.name}.原因.txt")
    atomic_write_text(note, f"文件:{target.name}\n审批人文件夹:{item.owner}\n结论:{item.decision}\n"
                            f"未计入原因:{reason}{advice}\n时间:{now:%Y-%m-%d %H:%M}\n")
    with store.begin() as conn:
        audit.append(conn, at=now, actor=item.owner, action=REFUSED, subject=_subject(conn, task_id),
                     detail={"task": task_id, "decision": item.decision, "by": item.by, "reason": reason,
                             "code": problem.code, "problem": problem.to_dict(),
                             "fresh_copy": fresh.name if fresh else None},
                     file=_rel(settings, target), file_hash=file_hash)
    return AppliedDecision(item, False, task_id, reason=reason, moved_to=target, problem=problem)


REFUSED_MARK = "(未计入)"


def _refused_name(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = stem.replace(REFUSED_MARK, "")
    return f"{stem}{REFUSED_MARK}.{ext}" if ext else f"{stem}{REFUSED_MARK}"


def _fresh_task_file(store, settings, task_id, specs: dict | None, now) -> Path | None:
    """A clean copy of an open task's file, written from the archived original."""
    if task_id is None:
        return None
    # Under the task's claim, as every task file is written: with the refused file moved away, another
    # worker's pass sees the task without its file and may be writing it now, or may have written it.
    with store.workers.claim("task", str(task_id)) as mine:
        if not mine:  # another worker is writing it: the approver gets that one
            return None
        with store.read() as conn:
            task = conn.execute(select(s.tasks).where(s.tasks.c.id == task_id)).mappings().first()
            form_id = conn.execute(select(s.cases.c.form_id).where(s.cases.c.id == task["case_id"])).scalar() if task else None
        if task is None or task["status"] != TaskStatus.OPEN:
            return None
        if task["file_path"] and (settings.root / task["file_path"]).exists():  # written meanwhile by another worker
            return settings.root / task["file_path"]
        try:
            return issue_task_file(store, settings, task_id, spec=(specs or {}).get(form_id))
        except Exception:  # the reason file still tells the approver; the next pass reissues a missing file
            log.exception("无法为审批任务 #%s 重新生成审批文件", task_id)
            return None


def _subject(conn, task_id) -> str | None:
    if task_id is None:
        return None
    return conn.execute(select(s.cases.c.number).join(s.tasks, s.tasks.c.case_id == s.cases.c.id)
                        .where(s.tasks.c.id == task_id)).scalar()


# --- files -----------------------------------------------------------------------------------


def sha256(path: Path) -> str:
    """The file's SHA-256; inside a ``forms.opened.sharing()`` scope, of the very bytes the readers are given."""
    shared = opened.opened(path)
    return shared.sha256.hex() if shared is not None else sha256_file(path)[0]


def _rel(settings, path: Path) -> str:
    try:
        return path.resolve().relative_to(settings.root).as_posix()
    except ValueError:
        return str(path)

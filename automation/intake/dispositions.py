"""Where a file goes, and what accompanies it. One class per kind of outcome.

A disposition knows the folder for the original, the companion file (reason
file or annotated copy) and what intake itself records in the transaction that
plans the move (an alert, for a held form). An accepted form also carries, as
plain data, what the pipeline commits in that same transaction: the form, its
route and the returned case it continues.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automation.act.returns import annotate_return
from automation.errors import UnsafeFileError
from automation.fsutil import atomic_target, atomic_write_text, safe_name, unique_path
from automation.intake.reasons import reason_file_name, unrecognised_text
from automation.intake.safety import reason_text
from automation.problems import Problem
from automation.record import schema as s
from automation.record.submissions import HELD, HELD_ALERT


@dataclass
class Disposition:
    outcome: str  # archived | returned | quarantined
    code: str
    reason: str
    form_id: str | None = None
    form_version: str | None = None
    duplicate_of: int | None = None
    problems: list[Problem] = field(default_factory=list)
    dest_rel: str | None = None  # set when the destination is chosen, before commit

    def dest_folder(self, rt) -> Path:
        return rt.settings.archive / rt.clock.now().strftime("%Y-%m")

    def extra_path(self, rt, dest: Path) -> Path | None:
        return dest.with_name(reason_file_name(dest.name))

    def commit(self, rt, conn, submission_id: int, now) -> None:
        """What intake records with the planned move, besides the move itself."""

    def write_extra(self, rt, row, source: Path, extra: Path) -> None:
        atomic_write_text(extra, unrecognised_text(file_name=row.name, sha256=row.sha256, when=row.seen_at, message=self.reason))


@dataclass
class Quarantine(Disposition):
    def dest_folder(self, rt) -> Path:
        return rt.settings.quarantine

    def write_extra(self, rt, row, source: Path, extra: Path) -> None:
        text = reason_text(UnsafeFileError(self.reason, code=self.code), file_name=row.name, sha256=row.sha256, when=row.seen_at)
        atomic_write_text(extra, text)


@dataclass
class Refused(Quarantine):
    """A link, pipe or device: nothing to file, so the reason file itself is the destination."""

    def extra_path(self, rt, dest: Path) -> Path | None:
        return None


@dataclass
class Unrecognised(Disposition):
    def dest_folder(self, rt) -> Path:
        return rt.settings.unrecognised


@dataclass
class Duplicate(Disposition):
    def write_extra(self, rt, row, source: Path, extra: Path) -> None:
        atomic_write_text(extra, (
            "OfficeFlow 处理说明\n====================\n"
            f"文件名:{row.name}\n收到时间:{row.seen_at:%Y-%m-%d %H:%M:%S}\nSHA-256:{row.sha256}\n\n"
            f"{self.reason}\n本文件已归档备查,没有产生新的申请或审批任务。\n"
        ))


@dataclass
class Invalid(Disposition):
    """A form with errors: the original is archived, an annotated copy goes back to the person."""

    spec: object = None
    person: str | None = None

    def extra_path(self, rt, dest: Path) -> Path | None:
        folder = rt.settings.requests / (safe_name(self.person) if self.person else "未署名")
        return unique_path(folder, dest.name)

    def write_extra(self, rt, row, source: Path, extra: Path) -> None:
        annotate_return(source, extra, self.spec, self.problems, header={
            "处理时间": f"{rt.clock.now():%Y-%m-%d %H:%M}",
            "结论": "表单有需要修改的地方,请按下列说明修改后重新放入 inbox/ 提交。",
            "原文件": row.name,
        })


@dataclass
class Accepted(Disposition):
    """A valid form: the pipeline opens its case (or continues the returned one) in the planning transaction."""

    form: Any = None  # the ExtractedForm
    route: Any = None  # the Route composed for it
    existing: int | None = None  # the returned case this submission continues

    def extra_path(self, rt, dest: Path) -> Path | None:
        return None


@dataclass
class Held(Disposition):
    """A form that cannot be judged because of a fault in the policy, not in the form.

    The original is archived untouched and the submission stays 等待制度修正 in the
    store: nothing goes back to the submitter and nothing is quarantined. The
    administrator is alerted; once 制度.xlsx is fixed the form is assessed again
    from its archived bytes (see ``pipeline.release_held``).
    """

    location: str | None = None
    detail: str | None = None  # the policy fault in the administrator's words

    def extra_path(self, rt, dest: Path) -> Path | None:
        return None

    def commit(self, rt, conn, submission_id: int, now) -> None:
        conn.execute(s.alerts.insert().values(
            at=now, kind=HELD_ALERT, subject=self.location or "制度", resolved=False,
            message=f"提交#{submission_id} 因制度问题暂缓处理(等待制度修正):{self.reason}"))


HELD_CODE = HELD
HELD_LABEL = "等待制度修正"


def held(fault, *, form_id: str | None, form_version: str | None) -> Disposition:
    where = f"({fault.location})" if getattr(fault, "location", None) else ""
    return Held(outcome="archived", code=HELD_CODE, form_id=form_id, form_version=form_version,
                location=getattr(fault, "location", None), detail=fault.message,
                reason=f"{HELD_LABEL}:制度中的规则{where}无法计算,问题在制度而不在表单。{fault.message}"
                       "表单已妥善保存,管理员修正 制度.xlsx 后会自动继续处理,无需重新提交。")


def quarantine(code: str, message: str) -> Disposition:
    return Quarantine(outcome="quarantined", code=code, reason=message)


def refused(code: str, message: str) -> Disposition:
    return Refused(outcome="quarantined", code=code, reason=message)


def unrecognised(code: str, message: str) -> Disposition:
    return Unrecognised(outcome="returned", code=code, reason=message)


def duplicate(twin) -> Disposition:
    return Duplicate(outcome="archived", code="duplicate", duplicate_of=twin.id,
                     reason=f"此文件与 {twin.seen_at:%Y-%m-%d %H:%M} 收到的「{twin.name}」(提交#{twin.id})内容完全相同,视为重复提交。")


def from_row(rt, row) -> Disposition:
    """Rebuild the disposition of a planned move (after a crash) from its stored row."""
    if row.outcome == "quarantined":
        return quarantine(row.reason_code, row.reason)
    if row.reason_code == "duplicate":
        return Duplicate(outcome="archived", code="duplicate", reason=row.reason)
    if row.problems and row.form_id:
        return Invalid(outcome="returned", code=row.reason_code, reason=row.reason, form_id=row.form_id,
                       problems=[Problem.from_dict(p) for p in json.loads(row.problems)], spec=rt.specs.get(row.form_id))
    return unrecognised(row.reason_code, row.reason)


def write_plain_reason(rt, row, source: Path, extra: Path) -> None:
    """Fallback when the annotated copy cannot be made: the person still gets their file
    back, unchanged, with the problems listed in a text file beside it."""
    problems = json.loads(row.problems) if row.problems else []
    lines = [f"- {p.get('location') or p.get('field') or ''}:{p['message']}" for p in problems] or [f"- {row.reason}"]
    is_note = extra.name.endswith(".txt")
    if source.exists() and not is_note:
        with atomic_target(extra) as tmp:
            shutil.copyfile(source, tmp)
    note = extra if is_note else extra.with_name(reason_file_name(extra.name))
    atomic_write_text(note, unrecognised_text(
        file_name=row.name, sha256=row.sha256, when=row.seen_at,
        message="表单需要修改(无法在文件上直接标注,请对照下列说明修改):\n" + "\n".join(lines)))

"""The copy an applicant gets back after 驳回 or 退回修改: the decision and the approver's reason on
top, and — for 退回修改 — the case number already in 「申请编号」, so that saving the corrected form
into inbox/ continues the same case. The reason is shown as the reason, never as an error of a cell.
"""

from __future__ import annotations

from pathlib import Path

from automation.act.returns import annotate_return
from automation.forms.spec import CASE_FIELD
from automation.fsutil import safe_name
from automation.problems.decision import rejected, returned_for_changes
from automation.record.instances import Case, Task

NO_COMMENT = "审批人未填写意见,如有疑问请联系 {who}。"
ENDING_DECISIONS = ("驳回", "退回修改")


def reason_text(who: str, comment: str | None) -> str:
    """The approver's reason as the applicant reads it; a blank one (where allowed) says whom to ask."""
    if not comment:
        return NO_COMMENT.format(who=who)
    return comment.rstrip("。.") + "。"


def write_decision_copy(rt, case: Case, history: list[Task]) -> Path | None:
    """``history`` is the case's decisions so far, oldest first (the decide stage reads it)."""
    spec = rt.specs.get(case.form_id)
    source = rt.abs(case.source_file) if case.source_file else None
    if spec is None or source is None or not source.exists():
        return None
    last = next((h for h in reversed(history) if h.decision in ENDING_DECISIONS), None)
    who = last.assignee if last is not None else "审批人"
    reason = reason_text(who, last.comment if last is not None else None)
    problem = (returned_for_changes if case.status == "returned" else rejected)(
        location=None, who=who, comment=reason, source=f"{last.role if last is not None else ''}审批")
    word = "退回修改" if case.status == "returned" else "已驳回"
    folder = rt.settings.requests / (safe_name(case.applicant) if case.applicant else "未署名")
    dest = folder / f"{safe_name(case.number)} {safe_name(case.form_title)} 第{case.round}轮 {word}{source.suffix}"
    # 退回修改: the case number goes into 「申请编号」 in the same pass (tests/test_decision_copy_one_pass.py)
    annotate_return(source, dest, spec, [problem], header=decision_header(rt, case, word, who, reason),
                    stamp={CASE_FIELD: case.number} if case.status == "returned" else None)
    return dest


def decision_header(rt, case: Case, word: str, who: str, reason: str) -> dict[str, str]:
    return {"申请编号": case.number, "结论": word, "审批人": who, "原因": reason,
            "处理时间": f"{rt.clock.now():%Y-%m-%d %H:%M}"}

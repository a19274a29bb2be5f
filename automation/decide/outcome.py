"""What a decision causes, inside the decision's own transaction: effects of a finished
case and its contract number, so they commit with the decision or not at all."""

from __future__ import annotations

from pathlib import Path

from automation.act.effects import on_decided
from automation.decide.engine import DecisionOutcome, load_case
from automation.policy.numbering import CONTRACT, allocate_contract_number
from automation.record import codec
from automation.record.instances import Case
from automation.record.registers.render import mark_dirty, registers_for_tables
from automation.record.status import CaseStatus

FINISHED = (CaseStatus.APPROVED, CaseStatus.REJECTED, CaseStatus.RETURNED)


def record_outcome(conn, outcome: DecisionOutcome, *, policy, contracts: Path, now, cal) -> None:
    """Inside the decision's transaction: effects of a finished case, the contract number."""
    tables = {"cases", "tasks"}
    # A case still in approval (outcome.finished False) has no effects: not read again for them.
    case = load_case(conn, outcome.case_id) if outcome.finished else None
    if case is not None and case.status in FINISHED:
        values = codec.loads(case.data)
        today = now.date()
        if case.status == CaseStatus.APPROVED and template_for(policy, contracts, case, values) is not None:
            # The number comes first: the contract effect fills the row it creates.
            allocate_contract_number(conn, case.id, contract_format(policy, case.form_title), today, at=now)
            tables.add("contracts")
        tables |= set(on_decided(conn, case=case, values=values, outcome=case.status, policy=policy,
                                 today=today, cal=cal, spec=policy.specs.get(case.form_id)))
    mark_dirty(conn, registers_for_tables(tables), now, cases=[outcome.case_id])


def contract_format(policy, title: str | None = None) -> str:
    return policy.numbering_rule(CONTRACT, title).format


def template_for(policy, contracts: Path, case: Case, values: dict) -> Path | None:
    """The contract template the policy workbook names for this form and 合同类型, if any."""
    name = policy.template_for(case.form_title, values.get("合同类型"))
    return (contracts / name) if name else None

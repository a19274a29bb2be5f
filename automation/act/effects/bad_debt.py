"""F8 坏账核销审批表: an approved write-off records who bears the loss and clears the receivable.

`001 · S1-R77` puts half on the 办事处经理 and the other half on the 区域经理
and 内务主管 together; it does not say how that half is split. The 25 % / 25 %
split is therefore a *default*, read from 参数 坏账分担比例_<角色> when the
administrator sets those rows, and the three ratios must add up to 1.
Amounts are rounded to the cent and the rounding remainder goes to the first
share, so the shares always add up exactly to 核销金额.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import select

from automation.act.effects.context import APPROVED, Effect
from automation.act.effects.customer_registration import canonical_name
from automation.errors import PolicyError
from automation.record import codec
from automation.record import schema as s
from automation.record.registers import row_marks

ROLES_AND_DEFAULT_RATIOS = (("办事处经理", Decimal("0.50")), ("区域经理", Decimal("0.25")), ("内务主管", Decimal("0.25")))
PARAM_PREFIX = "坏账分担比例_"
WRITTEN_OFF = "已核销"
RECEIVABLE_KIND = "writeoff"
CENT = Decimal("0.01")


def decided(fx: Effect, outcome: str) -> set[str]:
    if outcome != APPROVED or _already_recorded(fx):
        return set()
    amount = Decimal(fx.values["核销金额"]).quantize(CENT, rounding=ROUND_HALF_UP)
    customer, contract = canonical_name(fx.conn, fx.text("客户名称")), fx.text("原合同编号")
    fx.conn.execute(s.bad_debts.insert().values(
        case_id=fx.case_id, number=fx.number, customer=customer, contract_number=contract,
        amount=amount, shares=codec.dumps(shares_for(fx, amount)), status=WRITTEN_OFF,
    ))
    debtor = _receivable_customer(fx, contract, customer)
    fx.conn.execute(s.receivables.insert().values(
        customer=debtor, contract_number=contract, amount=-amount,
        kind=RECEIVABLE_KIND, case_id=fx.case_id, on=fx.today,
    ))
    row_marks.receivable_booked(fx.conn, debtor, contract)
    return {s.bad_debts.name, s.receivables.name}


def shares_for(fx: Effect, amount: Decimal) -> list[dict]:
    """[{"人员", "角色", "比例", "金额"}] in the order 办事处经理, 区域经理, 内务主管."""
    ratios = [(role, ratio_param(fx, role, default)) for role, default in ROLES_AND_DEFAULT_RATIOS]
    if sum(ratio for _, ratio in ratios) != 1:
        listed = "、".join(f"{PARAM_PREFIX}{role}={ratio}" for role, ratio in ratios)
        raise PolicyError(f"坏账分担比例之和应为 1(100%),目前为 {listed},请在「参数」表中改正。",
                          code="bad-debt-shares-invalid", location="参数")
    amounts = [(amount * ratio).quantize(CENT, rounding=ROUND_HALF_UP) for _, ratio in ratios]
    amounts[0] += amount - sum(amounts)
    return [{"人员": fx.text(role), "角色": role, "比例": ratio, "金额": money}
            for (role, ratio), money in zip(ratios, amounts)]


def ratio_param(fx: Effect, role: str, default: Decimal) -> Decimal:
    """A ratio as typed in 参数: 0.25, 25% or 25 all mean a quarter."""
    raw = str(fx.param(PARAM_PREFIX + role, default)).strip()
    try:
        ratio = Decimal(raw.rstrip("%").strip())
    except InvalidOperation:
        raise PolicyError(f"「参数」表中「{PARAM_PREFIX}{role}」的值 {raw} 不是比例,请填写如 0.25 或 25%。",
                          code="policy-param-invalid", location="参数") from None
    return ratio / 100 if raw.endswith("%") or ratio > 1 else ratio


def _already_recorded(fx: Effect) -> bool:
    return fx.conn.execute(select(s.bad_debts.c.id).where(s.bad_debts.c.case_id == fx.case_id)).first() is not None


def _receivable_customer(fx: Effect, contract: str | None, fallback: str | None) -> str | None:
    # The write-off must net against the contract's receivable, so use that row's spelling.
    r = s.receivables.c
    row = fx.conn.execute(select(r.customer).where(r.contract_number == contract).order_by(r.id)).first()
    return row.customer if row else fallback

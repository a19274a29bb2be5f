"""The approver options of 参数 (DingTalk's and Feishu's switches), read for one form.

Each option is a 参数 row; a row named ``<option>_<表单>`` overrides it for that
form, so 允许转交_坏账核销审批表 = 否 forbids 转交 on write-offs only. A value that is
not one of the choices falls back to the default; ``policy check`` reports it.
"""

from __future__ import annotations

from dataclasses import dataclass

DEDUP = "审批人去重"
DEDUP_NONE, DEDUP_CONSECUTIVE, DEDUP_ANY = "不去重", "连续重复时自动同意", "已审批过则自动同意"
DEDUP_CHOICES = (DEDUP_NONE, DEDUP_CONSECUTIVE, DEDUP_ANY)

ON_EMPTY = "审批人为空时"
EMPTY_PAUSE, EMPTY_PASS, EMPTY_ADMIN = "暂停并告警", "自动通过", "转交管理员"
EMPTY_CHOICES = (EMPTY_PAUSE, EMPTY_PASS, EMPTY_ADMIN)

ADMIN = "转交管理员"
REASON_REQUIRED = "驳回需填写意见"
TRANSFER_ALLOWED = "允许转交"
DELEGATION_ALLOWED = "允许代理"  # 否: the holder decides even while their 代理人 stands in (借款单, 001 · S1-R85)
YES, NO = "是", "否"

CHOICES = {DEDUP: DEDUP_CHOICES, ON_EMPTY: EMPTY_CHOICES, REASON_REQUIRED: (YES, NO), TRANSFER_ALLOWED: (YES, NO),
           DELEGATION_ALLOWED: (YES, NO)}
DEFAULTS = {DEDUP: DEDUP_NONE, ON_EMPTY: EMPTY_PAUSE, REASON_REQUIRED: YES, TRANSFER_ALLOWED: YES,
            DELEGATION_ALLOWED: YES}


@dataclass(frozen=True)
class ApproverOptions:
    dedup: str = DEDUP_NONE
    on_empty: str = EMPTY_PAUSE
    admin: str | None = None
    reason_required: bool = True
    transfer_allowed: bool = True
    delegation_allowed: bool = True

    def to_dict(self) -> dict:
        return {DEDUP: self.dedup, ON_EMPTY: self.on_empty, ADMIN: self.admin,
                REASON_REQUIRED: YES if self.reason_required else NO,
                TRANSFER_ALLOWED: YES if self.transfer_allowed else NO,
                DELEGATION_ALLOWED: YES if self.delegation_allowed else NO}


def option_value(params, name: str, form_title: str | None):
    """The form's own row first (``允许转交_费用报销单``), then the global one."""
    for key in ((f"{name}_{form_title}",) if form_title else ()) + (name,):
        value = params.get(key)
        if isinstance(value, bool):  # a 是/否-typed 参数 row is read as a bool
            return YES if value else NO
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def choice(params, name: str, form_title: str | None) -> str:
    value = option_value(params, name, form_title)
    return value if value in CHOICES[name] else DEFAULTS[name]


def options_for(policy, form_title: str | None) -> ApproverOptions:
    params = policy.params
    admin = option_value(params, ADMIN, form_title)
    return ApproverOptions(
        dedup=choice(params, DEDUP, form_title), on_empty=choice(params, ON_EMPTY, form_title), admin=admin,
        reason_required=choice(params, REASON_REQUIRED, form_title) == YES,
        transfer_allowed=choice(params, TRANSFER_ALLOWED, form_title) == YES,
        delegation_allowed=choice(params, DELEGATION_ALLOWED, form_title) == YES)


def bad_values(params) -> list[tuple[str, str, tuple[str, ...]]]:
    """(参数名, value, choices) for every option row whose value is not a choice: for ``policy check``."""
    bad = []
    for key, value in params.items():
        base = next((n for n in CHOICES if key == n or str(key).startswith(n + "_")), None)
        value = (YES if value else NO) if isinstance(value, bool) else value
        if base and str(value).strip() not in CHOICES[base]:
            bad.append((key, str(value), CHOICES[base]))
    return bad

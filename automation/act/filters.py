"""Jinja filters for contract templates: amounts in uppercase and with separators, Chinese dates.

Templates use the Chinese names (``{{ 合同金额|大写 }}``); the English aliases
exist for people who prefer Latin tags. An empty value renders as empty text,
so an optional field left blank never prints "None" into a contract.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


CENT = Decimal("0.01")


def _to_decimal(value) -> Decimal:
    if isinstance(value, float):
        # A float here is a bug upstream; going through str keeps the digits the user saw.
        value = str(value)
    try:
        return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValueError(f"「{value}」不是有效的金额") from exc


def upper_rmb(value) -> str:
    """壹拾贰万零叁佰肆拾伍元陆角柒分; 整 after 元 or 角 (会计基础工作规范 第五十二条)."""
    if value is None or value == "":
        return ""
    amount = _to_decimal(value)
    sign = "负" if amount < 0 else ""
    import cn2an  # imported late: ~0.15 s CPU at every start, and many runs meet no amount in words

    text = cn2an.an2cn(format(abs(amount), "f"), "rmb")
    # cn2an writes 整 only after 元; the rule also wants it after 角 when there are no 分.
    if text.endswith("角"):
        text += "整"
    return sign + text


def money(value) -> str:
    """1,234,567.89 — two decimals, thousands separators."""
    if value is None or value == "":
        return ""
    return f"{_to_decimal(value):,.2f}"


def cn_date(value) -> str:
    """2026年11月23日 (no leading zeros, as Chinese contracts write dates)."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return f"{value.year}年{value.month}月{value.day}日"


def percent(value) -> str:
    """0.05 → 5%; for 折扣率."""
    if value is None or value == "":
        return ""
    number = (Decimal(str(value)) * 100).normalize()
    return f"{number:f}%"


def blank_line(value, width: int = 12) -> str:
    """A value, or a line to fill in by hand, as printed contracts leave for missing details."""
    if value is None or str(value).strip() == "":
        return "_" * width
    return str(value)


FILTERS = {
    "大写": upper_rmb,
    "upper_rmb": upper_rmb,
    "金额": money,
    "money": money,
    "中文日期": cn_date,
    "cn_date": cn_date,
    "百分比": percent,
    "percent": percent,
    "留空": blank_line,
    "blank_line": blank_line,
}

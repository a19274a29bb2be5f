from datetime import date, datetime
from decimal import Decimal

import cn2an
import pytest
from hypothesis import given
from hypothesis import strategies as st

from automation.act.filters import blank_line, cn_date, money, percent, upper_rmb


@pytest.mark.parametrize("amount", ["0.05", "10", "100000", "120345.67", "1000000.00"])
def test_upper_rmb_matches_cn2an(amount):
    assert upper_rmb(Decimal(amount)) == cn2an.an2cn(amount, "rmb")


@pytest.mark.parametrize("amount, expected", [
    ("120345.67", "壹拾贰万零叁佰肆拾伍元陆角柒分"),
    ("10", "壹拾元整"),
    ("1000000.00", "壹佰万元整"),
    ("0.05", "伍分"),
    ("100.05", "壹佰元零伍分"),
    ("1001", "壹仟零壹元整"),
])
def test_upper_rmb_reads_as_accountants_write(amount, expected):
    assert upper_rmb(Decimal(amount)) == expected


def test_upper_rmb_ends_with_zheng_after_jiao_when_no_fen():
    # 会计基础工作规范 第五十二条: 到角为止的, 角字之后写"整"
    assert upper_rmb(Decimal("10.50")) == "壹拾元伍角整"


def test_upper_rmb_of_nothing_is_empty_and_of_a_negative_says_so():
    assert upper_rmb(None) == ""
    assert upper_rmb(Decimal("-10")) == "负壹拾元整"


def test_upper_rmb_accepts_exponent_decimals():
    assert upper_rmb(Decimal("1E+6")) == "壹佰万元整"


def test_money_has_thousands_separators_and_cents():
    assert money(Decimal("1234567.891")) == "1,234,567.89"
    assert money(Decimal("0")) == "0.00"
    assert money(None) == ""


@given(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False))
def test_money_keeps_every_digit(amount):
    assert Decimal(money(amount).replace(",", "")) == amount


@given(st.decimals(min_value=Decimal("0.01"), max_value=10**10, places=2, allow_nan=False, allow_infinity=False))
def test_upper_rmb_always_ends_in_zheng_or_fen(amount):
    text = upper_rmb(amount)
    assert text.endswith("整") or text.endswith("分")


def test_cn_date_without_leading_zeros():
    assert cn_date(date(2026, 11, 23)) == "2026年11月23日"
    assert cn_date(date(2026, 3, 5)) == "2026年3月5日"
    assert cn_date(datetime(2026, 1, 2, 8, 0)) == "2026年1月2日"
    assert cn_date(None) == ""


def test_percent_and_blank_line():
    assert percent(Decimal("0.05")) == "5%"
    assert percent(Decimal("0.125")) == "12.5%"
    assert blank_line(None) == "_" * 12
    assert blank_line("林建华") == "林建华"


def test_template_check_sample_amount_in_words_is_the_filters_own():
    from automation.act.template_lint import _SAMPLES

    assert _SAMPLES["amount_upper"] == upper_rmb(_SAMPLES["money"])

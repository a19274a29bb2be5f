from datetime import date, datetime, time, timedelta
from decimal import Decimal

import cn2an
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from automation.forms.parsers import PARSERS, ParseProblem, parse_value, upper_amount
from automation.forms.spec import FIELD_TYPES, FieldSpec
from automation.problems import KINDS


def spec(type_: str, **kw) -> FieldSpec:
    return FieldSpec(key="字段", label="字段", type=type_, **kw)


def refused(type_: str, raw, **kw) -> str:
    with pytest.raises(ParseProblem) as info:
        parse_value(spec(type_, **kw), raw)
    return info.value.code


D = Decimal


@pytest.mark.parametrize("raw, expected", [
    ("¥1,234.50", D("1234.50")), ("1234.5元", D("1234.50")), ("1,234", D("1234.00")),
    ("１２３４", D("1234.00")), ("（1,234.00）", D("-1234.00")), ("(1234)", D("-1234.00")),
    ("RMB 1 234.5", D("1234.50")), ("人民币 88元整", D("88.00")), ("￥0.05", D("0.05")),
    (1234.5000000001, D("1234.50")), (0.1 + 0.2, D("0.30")), (12, D("12.00")), (D("3.1"), D("3.10")),
    ("-5", D("-5.00")), ("", None), ("   ", None), (None, None),
])
def test_money_accepts_what_people_type(raw, expected):
    value = parse_value(spec("money"), raw)
    assert value == expected
    assert value is None or (isinstance(value, Decimal) and value.as_tuple().exponent == -2)


@pytest.mark.parametrize("raw", ["abc", "1.2.3", "12元3", float("nan"), float("inf"), True, "(-5)", "1e5",
                                 "1,2,3", "12,34", "1,2345", ",123", "1,234,56"])
def test_money_refuses_nonsense(raw):
    assert refused("money", raw) == "money-invalid"


@pytest.mark.parametrize("raw, expected", [("1,234,567.89", D("1234567.89")), ("12,345", D("12345.00")),
                                           ("¥1，234，567元", D("1234567.00"))])
def test_money_thousands_separators_in_groups_of_three(raw, expected):
    assert parse_value(spec("money"), raw) == expected


@pytest.mark.parametrize("raw", ["12.345", 12.345, "1234.567", D("0.001")])
def test_money_with_more_than_two_decimals_is_an_error_never_rounded(raw):
    assert refused("money", raw) == "money-too-precise"


@pytest.mark.parametrize("type_, raw", [("money", 1e20), ("money", "100000000000000"), ("money", 1e300),
                                        ("number", 1e20), ("integer", 10**20), ("percent", "1e20")])
def test_absurdly_large_numbers_are_refused_on_their_cell(type_, raw):
    assert refused(type_, raw) in ("number-out-of-range", "percent-invalid")


@pytest.mark.parametrize("raw, expected", [
    (46349, date(2026, 11, 23)), (46349.0, date(2026, 11, 23)), (datetime(2026, 11, 23, 9, 30), date(2026, 11, 23)),
    (date(2026, 11, 23), date(2026, 11, 23)), ("2026-11-23", date(2026, 11, 23)), ("2026/11/23", date(2026, 11, 23)),
    ("2026.11.23", date(2026, 11, 23)), ("2026年11月23日", date(2026, 11, 23)), ("20261123", date(2026, 11, 23)),
    (20261123, date(2026, 11, 23)), ("２０２６－１１－２３", date(2026, 11, 23)), ("2026-1-5", date(2026, 1, 5)),
    ("2026-11-23 00:00:00", date(2026, 11, 23)), (None, None), (" ", None),
])
def test_date_accepts_common_forms(raw, expected):
    assert parse_value(spec("date"), raw) == expected


@pytest.mark.parametrize("raw", ["2026-02-30", "明天", "11/23/2026", "2026-13-01", -3, 0, 10**9, time(9, 0), True])
def test_date_refuses_impossible_dates(raw):
    assert refused("date", raw) == "date-invalid"


def test_date_list_splits_on_chinese_and_ascii_separators():
    raw = "2026-11-23、2026/11/25，2026年12月1日;20261205\n2026.12.09"
    assert parse_value(spec("date_list"), raw) == [date(2026, 11, 23), date(2026, 11, 25), date(2026, 12, 1),
                                                   date(2026, 12, 5), date(2026, 12, 9)]
    assert parse_value(spec("date_list"), "、 ,") is None
    assert refused("date_list", "2026-11-23、下周") == "date-invalid"


@pytest.mark.parametrize("raw, field_max, expected", [
    ("5%", 1, D("0.05")), ("0.05", 1, D("0.05")), (0.05, 1, D("0.05")), ("5", 1, D("0.05")),
    ("５％", None, D("0.05")), ("12.5 %", 1, D("0.125")), ("5", None, D("5")), ("1", 1, D("1")),
])
def test_percent_reads_as_fraction(raw, field_max, expected):
    assert parse_value(spec("percent", max=field_max), raw) == expected


@pytest.mark.parametrize("raw, expected", [("12", 12), ("１２", 12), (12.0, 12), ("12.0", 12), (" 1,200 ", 1200), (7, 7)])
def test_integer_accepts(raw, expected):
    assert parse_value(spec("integer"), raw) == expected


@pytest.mark.parametrize("raw", ["12.5", 12.5, "十二", "1e3", True])
def test_integer_refuses(raw):
    assert refused("integer", raw) == "integer-invalid"


def test_number_is_decimal_never_float():
    assert parse_value(spec("number"), 0.1) == D("0.1")
    assert parse_value(spec("number"), "1,000.25") == D("1000.25")
    assert refused("number", "一百") == "number-invalid"


def test_choice_matches_after_normalising_and_lists_choices():
    field = spec("choice", choices=("预付款", "货到付款", "账期", "A"))
    assert parse_value(field, " 货到 付款 ") == "货到付款"
    assert parse_value(field, "Ａ") == "A"
    with pytest.raises(ParseProblem) as info:
        parse_value(field, "赊账")
    problem = info.value.problem(field="付款方式", location="表单!B9", value="赊账")
    assert problem.code == "choice-invalid"
    assert "预付款、货到付款、账期" in problem.message and "(表单!B9)" in problem.message


@pytest.mark.parametrize("raw, expected", [
    ("13812345678", "13812345678"), ("+86 138-1234-5678", "13812345678"), (13812345678.0, "13812345678"),
    ("010-12345678", "010-12345678"), ("(010)12345678转123", "010-12345678-123"), ("075526712345", "0755-26712345"),
    ("021 6543 2100", "021-65432100"), ("０２１－６５４３２１００", "021-65432100"),
])
def test_phone_normalises_mobiles_and_landlines(raw, expected):
    assert parse_value(spec("phone"), raw) == expected


@pytest.mark.parametrize("raw", ["12345", "12812345678", "1381234567", "110", "abc"])
def test_phone_refuses(raw):
    assert refused("phone", raw) == "phone-invalid"


def test_credit_code_check_digit_is_named():
    field = spec("credit_code")
    assert parse_value(field, "91350100m000100y43") == "91350100M000100Y43"
    with pytest.raises(ParseProblem) as info:
        parse_value(field, "91350100M000100Y44")
    message = info.value.problem(field="统一社会信用代码", location="表单!B4", value="x").message
    assert message == "「统一社会信用代码」(表单!B4) 校验位不正确,请核对营业执照后重新填写。"
    with pytest.raises(ParseProblem) as info:
        parse_value(field, "9135010")
    assert "校验位" not in info.value.params["reason"]


def test_id_number_check_digit_and_birth_date():
    field = spec("id_number")
    assert parse_value(field, "11010519491231002x") == "11010519491231002X"
    assert refused("id_number", "110105194912310021") == "id-number-invalid"
    assert refused("id_number", "110105194913310025") == "id-number-invalid"  # month 13


@pytest.mark.parametrize("raw, expected", [
    ("壹拾贰万零叁佰肆拾伍元陆角柒分", D("120345.67")), ("壹佰万元整", D("1000000.00")), ("伍分", D("0.05")),
    ("壹万元零伍分", D("10000.05")), ("拾元整", D("10.00")), ("人民币壹仟贰佰叁拾肆元伍角", D("1234.50")),
    ("零元伍角", D("0.50")), ("壹拾圆正", D("10.00")),
])
def test_amount_upper_reads_yuan_jiao_fen(raw, expected):
    assert parse_value(spec("amount_upper"), raw) == expected


@pytest.mark.parametrize("raw", ["壹壹元", "一千块", "元", "整", "伍角伍角", "1234", "壹点伍元"])
def test_amount_upper_refuses(raw):
    assert refused("amount_upper", raw) == "amount-upper-invalid"


@pytest.mark.parametrize("amount", ["0.05", "10", "100000", "120345.67", "1000000.00"])
def test_upper_amount_matches_cn2an_and_reads_back(amount):
    text = upper_amount(D(amount))
    assert text == cn2an.an2cn(amount, "rmb")
    assert parse_value(spec("amount_upper"), text) == D(amount).quantize(D("0.01"))


def test_upper_amount_known_values():
    assert upper_amount(D("120345.67")) == "壹拾贰万零叁佰肆拾伍元陆角柒分"
    assert upper_amount(D("10")) == "壹拾元整"


def test_text_is_stripped_and_width_normalised():
    assert parse_value(spec("text"), "  华东（北京）ＡＢＣ  ") == "华东(北京)ABC"
    assert parse_value(spec("customer"), 12345.0) == "12345"
    assert parse_value(spec("person"), "   ") is None


def test_every_field_type_has_a_parser_and_every_kind_a_chinese_title():
    assert set(PARSERS) == set(FIELD_TYPES)
    ours = [k for k in KINDS.values() if k.code in {
        "required-missing", "money-invalid", "date-invalid", "integer-invalid", "number-invalid", "percent-invalid",
        "choice-invalid", "phone-invalid", "credit-code-invalid", "id-number-invalid", "amount-upper-invalid",
        "amount-upper-mismatch", "text-too-long", "pattern-mismatch", "value-below-min", "value-above-max",
        "table-required-empty"}]
    assert len(ours) == 17
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in k.title) for k in ours)


anything = st.one_of(
    st.none(), st.text(max_size=40), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.dates(), st.datetimes(), st.booleans(), st.decimals(allow_nan=True, allow_infinity=True),
    st.times(), st.timedeltas(max_value=timedelta(days=10**5)),
    st.text(alphabet="零壹贰叁肆伍陆柒捌玖拾佰仟万亿元圆角分整一二十百", max_size=20),
    st.text(alphabet="0123456789０１２３４５６７８９,.-+()（）¥元%年月日/、 ", max_size=24),
)


@settings(max_examples=300, deadline=None)
@given(type_=st.sampled_from(sorted(FIELD_TYPES)), raw=anything)
def test_parse_value_only_ever_raises_parse_problem(type_, raw):
    field = spec(type_, choices=("是", "否") if type_ == "choice" else (), max=1 if type_ == "percent" else None)
    try:
        parse_value(field, raw)
    except ParseProblem as exc:
        problem = exc.problem(field="字段", location="表单!B2", value=raw)
        assert problem.code == exc.code and "「字段」" in problem.message

"""What people type into a form cell → a typed value.

One parser per field type. A parser forgives the usual ways of writing a value
(``¥1,234.50``, full-width digits, ``2026年11月23日``) and refuses the rest by
raising :class:`ParseProblem`; the reader turns that into a located Problem.
Blank is ``None`` — whether blank is allowed is the field check's business.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Callable

from openpyxl.utils.datetime import from_excel
from stdnum.cn import ric, uscc
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidLength,
    ValidationError,
)

from automation.forms.spec import FieldSpec
from automation.problems import Problem, ProblemKind
from automation.problems.field import (  # noqa: F401 (the field kinds, declared in the catalogue)
    _FIX,
    REQUIRED_MISSING,
    MONEY_INVALID,
    DATE_INVALID,
    INTEGER_INVALID,
    NUMBER_INVALID,
    PERCENT_INVALID,
    CHOICE_INVALID,
    PHONE_INVALID,
    CREDIT_CODE_INVALID,
    ID_NUMBER_INVALID,
    AMOUNT_UPPER_INVALID,
    AMOUNT_UPPER_MISMATCH,
    TEXT_TOO_LONG,
    PATTERN_MISMATCH,
    VALUE_BELOW_MIN,
    VALUE_ABOVE_MAX,
    MONEY_TOO_PRECISE,
    NUMBER_OUT_OF_RANGE,
    TABLE_REQUIRED_EMPTY,
)

CENT = Decimal("0.01")


class ParseProblem(Exception):
    """A value that cannot be read as its field type; carries the kind and its params."""

    def __init__(self, problem_kind: ProblemKind, **params: Any):
        super().__init__(problem_kind.code)
        self.kind = problem_kind
        self.params = params

    @property
    def code(self) -> str:
        return self.kind.code

    def problem(self, *, field: str, location: str | None, value: Any, row: int | None = None) -> Problem:
        return self.kind(field=field, location=location, value=value, row=row, **self.params)


# --- shared helpers -------------------------------------------------------------


def _text(raw: Any) -> str | None:
    """The raw value as normalised text; None when blank."""
    if raw is None:
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # Excel stores every number as a float: 13812345678.0
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    return text or None


def _is_number(raw: Any) -> bool:
    return isinstance(raw, (int, float, Decimal)) and not isinstance(raw, bool)


def _decimal(raw: Any) -> Decimal | None:
    """A Decimal from a numeric cell, or None when it is not finite."""
    if isinstance(raw, float):
        return Decimal(repr(raw)) if math.isfinite(raw) else None
    value = Decimal(raw)
    return value if value.is_finite() else None


# Thousands separators only between groups of three: 1,234,567.89 — never 1,2,3.
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\d{1,3}([,_']\d{3})+(\.\d*)?|\.\d+)")
LIMIT = Decimal(10) ** 12  # far above any office amount; an absurd value is a typo, returned on its cell


def _number_text(text: str) -> Decimal | None:
    """A plain number typed as text (thousands separators in groups of three, spaces allowed)."""
    text = re.sub(r"\s", "", text).replace("−", "-")
    if not _NUMBER.fullmatch(text) or len(text) > 40:
        return None
    return Decimal(re.sub(r"[,_']", "", text))


def _in_range(value: Decimal) -> Decimal:
    if abs(value) >= LIMIT:
        raise ParseProblem(NUMBER_OUT_OF_RANGE)
    return value


def _quantize_cents(value: Decimal) -> Decimal:
    try:
        return value.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ParseProblem(MONEY_INVALID) from None


# --- money ----------------------------------------------------------------------

_CURRENCY = re.compile(r"^(RMB|CNY|人民币|¥)+|(元整|元|圆)$", re.IGNORECASE)


def parse_money(field: FieldSpec, raw: Any) -> Decimal | None:
    if _is_number(raw):
        if isinstance(raw, float) and math.isfinite(raw):
            if not math.isclose(raw, round(raw, 2), rel_tol=1e-12, abs_tol=1e-9):
                raise ParseProblem(MONEY_TOO_PRECISE)  # 12.345 is a typo, never silently 12.35
            raw = round(raw, 2)  # Excel floats: 1234.5000000001 is 1234.50
        value = _decimal(raw)
        if value is None:
            raise ParseProblem(MONEY_INVALID)
        if _in_range(value) != value.quantize(CENT):
            raise ParseProblem(MONEY_TOO_PRECISE)
        return _quantize_cents(value)
    text = _text(raw)
    if text is None:
        return None
    return _money_text(text)


def _money_text(text: str) -> Decimal:
    text = re.sub(r"\s", "", text)
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1]
    text = _CURRENCY.sub("", text)
    text = _CURRENCY.sub("", text)  # "¥1,234元" carries a sign at each end
    value = _number_text(text)
    if value is None or (negative and value < 0):
        raise ParseProblem(MONEY_INVALID)
    _in_range(value)
    if value != value.quantize(CENT):
        raise ParseProblem(MONEY_TOO_PRECISE)  # a third decimal is a typo, not something to round away
    return _quantize_cents(-value if negative else value)


# --- numbers ----------------------------------------------------------------------


def parse_integer(field: FieldSpec, raw: Any) -> int | None:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return int(_in_range(Decimal(raw)))
    value = parse_number(field, raw, problem=INTEGER_INVALID)
    if value is None:
        return None
    if value != value.to_integral_value():
        raise ParseProblem(INTEGER_INVALID)
    return int(_in_range(value))


def parse_number(field: FieldSpec, raw: Any, problem=NUMBER_INVALID) -> Decimal | None:
    """A cell's number, or typed text such as ``1,234.5`` or full-width ``１２３４``."""
    if _is_number(raw):
        value = _decimal(raw)
    else:
        text = _text(raw)
        if text is None:
            return None
        value = _number_text(text)
    if value is None:
        raise ParseProblem(problem)
    return _in_range(value)


def parse_percent(field: FieldSpec, raw: Any) -> Decimal | None:
    if _is_number(raw):
        value = _decimal(round(raw, 10) if isinstance(raw, float) and math.isfinite(raw) else raw)
        typed_percent = False
    else:
        text = _text(raw)
        if text is None:
            return None
        text = re.sub(r"\s", "", text)
        typed_percent = text.endswith("%")
        value = _number_text(text.rstrip("%") if typed_percent else text)
    if value is None:
        raise ParseProblem(PERCENT_INVALID)
    _in_range(value)
    if typed_percent or (value > 1 and _max_is_fraction(field)):
        value = value / 100
    return value


def _max_is_fraction(field: FieldSpec) -> bool:
    try:
        return field.max is not None and Decimal(str(field.max)) <= 1
    except InvalidOperation:
        return False


# --- dates ------------------------------------------------------------------------

_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SERIAL_MAX = 2958465  # 9999-12-31 in Excel's calendar


def parse_date(field: FieldSpec, raw: Any) -> date | None:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, (time, timedelta)):
        raise ParseProblem(DATE_INVALID)
    if _is_number(raw):
        return _date_number(raw)
    text = _text(raw)
    return None if text is None else _date_text(text)


def _date_number(raw: Any) -> date:
    value = _decimal(raw)
    if value is not None and value == value.to_integral_value() and 19000101 <= value <= 29991231:
        return _date_text(str(int(value)))  # 20261123 typed into a number cell
    if value is None or not 1 <= value <= _SERIAL_MAX:
        raise ParseProblem(DATE_INVALID)
    return from_excel(float(value)).date()


def _date_text(text: str) -> date:
    match = _DATE.fullmatch(text) or _COMPACT.fullmatch(text)
    if not match:
        raise ParseProblem(DATE_INVALID)
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        raise ParseProblem(DATE_INVALID) from None


_LIST_SEPARATORS = re.compile(r"[、,，;；\n\r]+")


def parse_date_list(field: FieldSpec, raw: Any) -> list[date] | None:
    if raw is None or isinstance(raw, (date, datetime)) or _is_number(raw):
        single = parse_date(field, raw)
        return None if single is None else [single]
    # split before NFKC so that 、 and full-width separators are seen as typed
    pieces = [p.strip() for p in _LIST_SEPARATORS.split(str(raw))]
    dates = [parse_date(field, p) for p in pieces if p]
    return dates or None


# --- choices and identifiers ------------------------------------------------------


def _squeeze(text: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text))


def parse_choice(field: FieldSpec, raw: Any) -> str | None:
    text = _text(raw)
    if text is None:
        return None
    wanted = _squeeze(text)
    for choice in field.choices:
        if _squeeze(choice) == wanted:
            return choice
    raise ParseProblem(CHOICE_INVALID, choices="、".join(field.choices))


_MOBILE = re.compile(r"(?:\+?86|0086)?(1[3-9]\d{9})")
# Beijing (010) and 02x are the only 3-digit area codes; every other one has 4 digits.
_LANDLINE = re.compile(r"(010|02\d|0[3-9]\d{2})-?(\d{7,8})(?:(?:-|转|#|ext\.?|x)(\d{1,6}))?", re.IGNORECASE)


def parse_phone(field: FieldSpec, raw: Any) -> str | None:
    text = _text(raw)
    if text is None:
        return None
    compact = re.sub(r"[\s()]", "", text)
    mobile = _MOBILE.fullmatch(compact.replace("-", ""))
    if mobile:
        return mobile.group(1)
    landline = _LANDLINE.fullmatch(compact)
    if landline:
        area, number, ext = landline.groups()
        return f"{area}-{number}" + (f"-{ext}" if ext else "")
    raise ParseProblem(PHONE_INVALID)


def _identifier(raw: Any) -> str | None:
    text = _text(raw)
    return None if text is None else re.sub(r"[\s-]", "", text).upper()


def parse_credit_code(field: FieldSpec, raw: Any) -> str | None:
    return _stdnum_checked(raw, uscc.validate, CREDIT_CODE_INVALID, {
        ValidationError: "含有无效字符(只能是数字和除 I、O、Z、S、V 外的大写字母)"})


def parse_id_number(field: FieldSpec, raw: Any) -> str | None:
    return _stdnum_checked(raw, ric.validate, ID_NUMBER_INVALID, {
        InvalidComponent: "其中的出生日期或地区码不正确",
        ValidationError: "格式不正确(应为 17 位数字加 1 位数字或 X)"})


def _stdnum_checked(raw: Any, validate, problem, reasons: dict) -> str | None:
    """python-stdnum does the checking; we only turn its verdict into a sentence a person can act on."""
    code = _identifier(raw)
    if code is None:
        return None
    try:
        return validate(code)
    except InvalidChecksum:
        raise ParseProblem(problem, reason="校验位不正确") from None
    except InvalidLength:
        raise ParseProblem(problem, reason=f"应为 18 位,现为 {len(code)} 位") from None
    except ValidationError as exc:  # most specific reason first (InvalidComponent is a ValidationError)
        reason = next(text for kind_, text in reasons.items() if isinstance(exc, kind_))
        raise ParseProblem(problem, reason=reason) from None


# --- Chinese uppercase amounts ----------------------------------------------------

_UPPER_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_LOWER_DIGITS = "〇一二三四五六七八九"
_DIGIT = f"[{_UPPER_DIGITS}{_LOWER_DIGITS}两]"
_INTEGER_CHARS = re.compile(f"[{_UPPER_DIGITS}{_LOWER_DIGITS}拾佰仟万萬亿億十百千]+")
_AMOUNT = re.compile(f"(?:(.+?)[元圆])?零?(?:({_DIGIT})角)?零?(?:({_DIGIT})分)?")


def parse_amount_upper(field: FieldSpec, raw: Any) -> Decimal | None:
    text = _text(raw)
    if text is None:
        return None
    text = re.sub(r"^(人民币|RMB|大写)[::]?", "", re.sub(r"\s", "", text), flags=re.IGNORECASE)
    text = re.sub(r"[整正]$", "", text)
    match = _AMOUNT.fullmatch(text)
    if not text or not match or not any(match.groups()) or text.startswith("零角"):
        raise ParseProblem(AMOUNT_UPPER_INVALID)
    yuan, jiao, fen = match.groups()
    cents = _digit(jiao) * 10 + _digit(fen)
    return (Decimal(_upper_integer(yuan)) + Decimal(cents) / 100).quantize(CENT)


def upper_to_decimal(text: Any) -> Decimal | None:
    """An amount in Chinese words as Decimal, or None when it does not read as one."""
    try:
        return parse_amount_upper(None, text)
    except ParseProblem:
        return None


def _digit(char: str | None) -> int:
    if char is None:
        return 0
    if char == "两":
        return 2
    index = _UPPER_DIGITS.find(char)
    return index if index >= 0 else _LOWER_DIGITS.index(char)


def _upper_integer(text: str | None) -> int:
    if text is None:
        return 0
    text = text.replace("萬", "万").replace("億", "亿")
    if not _INTEGER_CHARS.fullmatch(text):
        raise ParseProblem(AMOUNT_UPPER_INVALID)
    import cn2an  # imported late: ~0.15 s CPU at every start, and many runs meet no amount in words

    try:
        value = cn2an.cn2an(text, "strict")
    except (ValueError, KeyError, IndexError, TypeError):
        raise ParseProblem(AMOUNT_UPPER_INVALID) from None
    if not isinstance(value, int) and not float(value).is_integer():
        raise ParseProblem(AMOUNT_UPPER_INVALID)
    return int(value)


def upper_amount(amount: Decimal) -> str:
    """120345.67 → 壹拾贰万零叁佰肆拾伍元陆角柒分; whole yuan end in 整."""
    import cn2an  # imported late: ~0.15 s CPU at every start, and many runs meet no amount in words

    return cn2an.an2cn(format(Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP), "f"), "rmb")


# --- text -------------------------------------------------------------------------


def parse_text(field: FieldSpec, raw: Any) -> str | None:
    if isinstance(raw, (datetime, date)):
        return raw.isoformat()[:10] if not isinstance(raw, datetime) or raw.time() == time() else raw.isoformat(" ")
    return _text(raw)


def parse_person(field: FieldSpec, raw: Any) -> str | None:
    """A name as the roster spells it: full-width folded, no spaces (「王 芳」 is 王芳)."""
    text = _text(raw)
    return re.sub(r"\s+", "", text) if text else None


PARSERS: dict[str, Callable[[FieldSpec, Any], Any]] = {
    "text": parse_text,
    "person": parse_person,
    "customer": parse_text,
    "integer": parse_integer,
    "number": parse_number,
    "money": parse_money,
    "amount_upper": parse_amount_upper,
    "date": parse_date,
    "date_list": parse_date_list,
    "choice": parse_choice,
    "phone": parse_phone,
    "credit_code": parse_credit_code,
    "id_number": parse_id_number,
    "percent": parse_percent,
}


def parse_value(field: FieldSpec, raw: Any) -> Any:
    """The typed value of ``raw`` for this field; None when blank; ParseProblem when unreadable."""
    return PARSERS[field.type](field, raw)

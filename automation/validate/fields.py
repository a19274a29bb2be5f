"""Field-level checks: what the spec alone says about each value.

Required, min/max, length, pattern, and a Chinese uppercase amount reading the
same as its figure. Rules that need the policy workbook live elsewhere.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Iterator

from automation.forms.extracted import MISSING, ExtractedForm
from automation.forms.parsers import (
    AMOUNT_UPPER_MISMATCH,
    PATTERN_MISMATCH,
    REQUIRED_MISSING,
    TABLE_REQUIRED_EMPTY,
    TEXT_TOO_LONG,
    VALUE_ABOVE_MAX,
    VALUE_BELOW_MIN,
    upper_amount,
)
from automation.forms.spec import FieldSpec
from automation.lookalike import is_mixed_script, look_alikes, script_names
from automation.problems import Location, Problem, Report
from automation.problems.field import NAME_MIXED_SCRIPTS

NUMERIC = ("integer", "number", "money", "percent")
TEXTUAL = ("text", "person", "customer")


def check_fields(form: ExtractedForm) -> list[Problem]:
    unreadable = {(p.field, p.row) for p in form.problems}
    return [p for p in _all_checks(form) if (p.field, p.row) not in unreadable]


def validate_form(form: ExtractedForm, extra_problems: Iterable[Problem] = ()) -> Report:
    """Parse problems, field checks and any problems found elsewhere, in one report."""
    report = Report(problems=[*form.problems, *check_fields(form), *extra_problems])
    report.stats = {
        "fields": len(form.spec.fields),
        "rows": {t.key: len(form.values.get(t.key) or []) for t in form.spec.tables},
        "errors": len(report.errors),
        "warnings": len(report.warnings),
    }
    return report


def _all_checks(form: ExtractedForm) -> Iterator[Problem]:
    for field in form.spec.fields:
        where = form.places.get(field.key, MISSING)
        yield from check_value(field, form.values.get(field.key), where)
        if field.type == "customer" or field.key == form.spec.customer_field:
            yield from _look_alike_name(field, form.values.get(field.key), where)
        if field.type == "amount_upper" and field.of:
            yield from _upper_matches(form, field, where)
    for table in form.spec.tables:
        rows = form.values.get(table.key) or []
        if table.required and not rows:
            yield TABLE_REQUIRED_EMPTY(field=table.key, location=form.places.get(table.key, MISSING))
        for n, row in enumerate(rows, start=1):
            for col in table.columns:
                where = form.location_of(col.key, table.key, n) or MISSING
                yield from check_value(col, row.get(col.key), where, row=n)


def check_value(field: FieldSpec, value: Any, where: Location | str, row: int | None = None) -> Iterator[Problem]:
    """Problems of one typed value against its own spec."""
    if value is None:
        if field.required:
            yield REQUIRED_MISSING(field=field.key, location=where, row=row)
        return
    if field.type in NUMERIC:
        yield from _bounds(field, value, where, row)
    if field.type in TEXTUAL and isinstance(value, str):
        yield from _text_rules(field, value, where, row)


def _bounds(field: FieldSpec, value: Any, where: Location | str, row: int | None) -> Iterator[Problem]:
    low, high = _limit(field.min), _limit(field.max)
    if low is not None and value < low:
        yield VALUE_BELOW_MIN(field=field.key, location=where, value=_show(value, field), row=row, limit=_show(low, field))
    if high is not None and value > high:
        yield VALUE_ABOVE_MAX(field=field.key, location=where, value=_show(value, field), row=row, limit=_show(high, field))


def _limit(bound: Any) -> Decimal | None:
    if bound is None:
        return None
    try:
        return Decimal(str(bound))
    except InvalidOperation:
        return None  # a bad bound is a spec problem, reported when specs are checked


def _show(value: Any, field: FieldSpec) -> str:
    if field.type == "money":
        return f"{Decimal(value):,.2f}"
    if field.type == "percent":
        return f"{(Decimal(value) * 100).normalize():f}%"
    return f"{Decimal(value).normalize():f}" if not isinstance(value, int) else str(value)


def _text_rules(field: FieldSpec, value: str, where: Location | str, row: int | None) -> Iterator[Problem]:
    if field.max_length and len(value) > field.max_length:
        yield TEXT_TOO_LONG(field=field.key, location=where, value=value, row=row,
                            max_length=field.max_length, length=len(value))
    if field.pattern and not re.fullmatch(field.pattern, value):
        hint = f"({field.help})" if field.help else ""
        yield PATTERN_MISMATCH(field=field.key, location=where, value=value, row=row, hint=hint)


def _look_alike_name(field: FieldSpec, value: Any, where: Location | str) -> Iterator[Problem]:
    """A customer name mixing scripts (Latin with Cyrillic, say) may be an impostor: warn the approver."""
    if not isinstance(value, str) or not is_mixed_script(value):
        return
    letters = "、".join(f"「{ch}」像「{proto}」" for ch, proto in look_alikes(value)) or "部分字符"
    yield NAME_MIXED_SCRIPTS(field=field.key, location=where, value=value, scripts=script_names(value), letters=letters)


def _upper_matches(form: ExtractedForm, field: FieldSpec, where: Location | str) -> Iterator[Problem]:
    upper, figure = form.values.get(field.key), form.values.get(field.of)
    if upper is None or figure is None or Decimal(upper) == Decimal(figure):
        return
    yield AMOUNT_UPPER_MISMATCH(field=field.key, location=where, value=form.raw.get(field.key), other=field.of,
                                figure=f"{Decimal(figure):,.2f}", expected=upper_amount(figure))

from datetime import date, datetime
from decimal import Decimal

from automation.record.registers.cells import (
    EXCEL_MAX_CHARS,
    TRUNCATED_MARK,
    excel_serial,
    safe_text,
    safe_value,
)
from automation.record.registers.definitions import weekdays_between
from automation.record.registers.live_excel import choose_backend


def test_control_characters_excel_rejects_are_removed():
    assert safe_text("甲\x00乙\x07丙\x1f丁\t戊\n") == "甲乙丙丁\t戊\n"


def test_text_longer_than_excel_limit_is_truncated_with_marker():
    text = safe_text("字" * (EXCEL_MAX_CHARS + 10))
    assert len(text) == EXCEL_MAX_CHARS
    assert text.endswith(TRUNCATED_MARK)


def test_typed_values_stay_typed_and_formulas_stay_text():
    assert safe_value(Decimal("1.10")) == Decimal("1.10")
    assert safe_value(date(2026, 1, 2)) == date(2026, 1, 2)
    assert safe_value("=1+1") == "=1+1"
    assert safe_value(None) is None


def test_excel_serial_matches_excel_epoch():
    assert excel_serial(date(2026, 1, 1)) == 46023
    assert excel_serial(datetime(2026, 1, 1, 12, 0)) == 46023.5


def test_weekday_default_calendar_counts_after_start_up_to_end():
    assert weekdays_between(date(2026, 11, 20), date(2026, 11, 23)) == 1  # Fri → Mon
    assert weekdays_between(date(2026, 11, 16), date(2026, 11, 30)) == 10
    assert weekdays_between(date(2026, 11, 23), date(2026, 11, 20)) == -1


def test_live_excel_is_not_chosen_on_a_machine_without_excel():
    assert choose_backend("live") == "file"
    assert choose_backend("file") == "file"

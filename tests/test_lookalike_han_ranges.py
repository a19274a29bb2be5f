"""Han letters are told by their code point, not by the look-alike tables: the shortcut agrees with the
tables on every code point it covers, and a Chinese name is normalised without loading them."""

from __future__ import annotations

import subprocess
import sys

from automation import lookalike


def test_every_code_point_of_the_han_ranges_is_han_in_the_tables():
    from confusable_homoglyphs import categories

    for first, last in lookalike._HAN_RANGES:
        differing = [hex(code) for code in range(first, last + 1) if categories.alias(chr(code)) != "HAN"]
        assert differing == [], differing[:10]
    outside = [0x33FF, 0x4DC0, 0x4DFF, 0xA000]  # just past each end: left to the tables
    assert all(lookalike._script(chr(code)) == categories.alias(chr(code)) for code in outside)


_PROBE = """
import sys
from automation.record.names import normalise_customer_name
from automation.lookalike import is_mixed_script
assert normalise_customer_name("  华东(上海)精密仪器股份有限公司 ") == "华东上海精密仪器"
assert not is_mixed_script("华东精密仪器有限公司")
print(sorted(m for m in sys.modules if m.startswith("confusable_homoglyphs")))
"""


def test_a_chinese_name_is_normalised_without_the_tables():
    out = subprocess.run([sys.executable, "-c", _PROBE], check=True, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_a_disguised_latin_letter_beside_han_still_loads_and_maps():
    assert lookalike.skeleton("АВС贸易") == lookalike.skeleton("ABC贸易") == "ABC贸易"
    assert lookalike.is_mixed_script("АBC贸易")

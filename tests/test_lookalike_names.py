"""Look-alike identities: Cyrillic or Greek letters that look Latin must not slip past the
blacklist or 客户交叉, and a name mixing scripts is flagged to the approver."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest

from automation.record.names import normalise_customer_name
from automation.clock import Clock
from automation.lookalike import is_mixed_script, look_alikes, skeleton
from automation.record import schema as s
from automation.record.lookups import StoreLookups
from automation.record.store import open_store

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
LATIN = "ABC贸易有限公司"
CYRILLIC = "\u0410\u0412\u0421贸易有限公司"  # А В С
GREEK = "\u0391\u0392C贸易有限公司"  # Α Β


@pytest.fixture
def store(tmp_path):
    st = open_store("sqlite:///" + str(tmp_path / "state.db"), Clock(fixed=NOW))
    with st.begin() as conn:
        conn.execute(s.customers.insert().values(name=LATIN, norm_name=normalise_customer_name(LATIN), status="黑名单",
                                                 owner="王芳", registered_on=date(2026, 6, 1), last_active_on=date(2026, 10, 1)))
    yield StoreLookups(st)
    st.dispose()


def test_skeleton_maps_cyrillic_and_greek_look_alikes_to_latin():
    assert CYRILLIC != LATIN
    assert skeleton(CYRILLIC) == skeleton(GREEK) == LATIN
    assert skeleton("上海远航机电设备") == "上海远航机电设备", "Chinese is compared as typed"
    assert look_alikes(CYRILLIC) == [("\u0410", "A"), ("\u0412", "B"), ("\u0421", "C")]


@pytest.mark.parametrize("name", [CYRILLIC, GREEK, "ＡВС 贸易 有限公司"])
def test_cyrillic_look_alike_customer_name_hits_the_blacklist(store, name):
    assert store.customer_status(name) == "黑名单"


def test_greek_look_alike_customer_name_is_a_customer_conflict(store):
    assert store.customer_conflict(GREEK, None, "陈静", date(2026, 5, 6)) == "王芳"


@pytest.mark.parametrize("name, mixed", [(CYRILLIC, True), (GREEK, True), (LATIN, False), ("上海甲乙", False),
                                         ("ООО Ромашка", False), ("ABCアイ商事", False)])
def test_mixed_script_detection_follows_uts39_highly_restrictive(name, mixed):
    assert is_mixed_script(name) is mixed


def test_mixed_script_customer_name_warns_the_approver(office):
    from automation import samples

    values = samples.customer_registration(1, office.today, name="\u0410\u0412\u0421机电设备有限公司")
    office.submit("customer_registration", values)
    office.run()
    case = office.case(form_id="customer_registration")
    assert case["status"] == "in_approval"
    warnings = json.loads(case["warnings"] or "[]")
    codes = [w["code"] for w in warnings]
    assert "name-mixed-scripts" in codes
    text = next(w["message"] for w in warnings if w["code"] == "name-mixed-scripts")
    assert "西里尔字母" in text and "「А」像「A」" in text
    import openpyxl

    task = office.task(office.open_holders(case["number"])[0])
    book = openpyxl.load_workbook(task)
    cells = [str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value]
    assert any("仿冒" in c for c in cells), "the approver sees the warning in the task file"

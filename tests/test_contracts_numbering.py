import threading
from datetime import date

import pytest
from sqlalchemy import select
from support.contracts import add_case, make_store

from automation.errors import PolicyError
from automation.policy.numbering import (
    DEFAULT_FORMAT,
    allocate_contract_number,
    check_format,
    format_number,
)
from automation.record import schema as s

DAY = date(2026, 11, 23)


def test_default_format_gives_ht_year_and_four_digits():
    assert format_number(DEFAULT_FORMAT, when=DAY, seq=7) == "HT-2026-0007"


def test_format_supports_month_day_and_form_code():
    fmt = "{表单代码}-{年}{月}{日}-{序号:03d}"
    assert format_number(fmt, when=date(2026, 3, 5), seq=12, form_code="XS") == "XS-20260305-012"


@pytest.mark.parametrize("fmt, hint", [("HT-{年份}-{序号:04d}", "{年}"), ("HT-{年}-{序列}", "{序号}")])
def test_unknown_placeholder_is_refused_with_a_suggestion(fmt, hint):
    with pytest.raises(PolicyError) as err:
        check_format(fmt)
    assert hint in err.value.message


@pytest.mark.parametrize("fmt", ["HT-{年}", "HT-{年.__class__}-{序号}", "HT-{年", "HT-{序号!r}"])
def test_unsafe_or_useless_formats_are_refused(fmt):
    with pytest.raises(PolicyError):
        check_format(fmt)


def test_same_case_gets_the_same_number_when_processed_again(tmp_path, store_url):
    store = make_store(tmp_path, store_url)
    with store.begin() as conn:
        case_id = add_case(conn, "SQ-1")
        first = allocate_contract_number(conn, case_id, DEFAULT_FORMAT, DAY)
    with store.begin() as conn:
        again = allocate_contract_number(conn, case_id, DEFAULT_FORMAT, DAY)
        row = conn.execute(select(s.contracts)).mappings().one()
    assert first == again == "HT-2026-0001"
    assert (row["status"], row["year"], row["case_id"]) == ("待生成", 2026, case_id)


def test_rolled_back_approval_leaves_no_gap(tmp_path, store_url):
    store = make_store(tmp_path, store_url)
    with store.begin() as conn:
        ids = [add_case(conn, f"SQ-{i}") for i in range(2)]
    with pytest.raises(RuntimeError):
        with store.begin() as conn:
            allocate_contract_number(conn, ids[0], DEFAULT_FORMAT, DAY)
            raise RuntimeError("crash inside the approval transaction")
    with store.begin() as conn:
        assert allocate_contract_number(conn, ids[1], DEFAULT_FORMAT, DAY) == "HT-2026-0001"


def test_numbers_restart_each_year(tmp_path, store_url):
    store = make_store(tmp_path, store_url)
    with store.begin() as conn:
        ids = [add_case(conn, f"SQ-{i}") for i in range(3)]
        got = [allocate_contract_number(conn, ids[0], DEFAULT_FORMAT, date(2026, 12, 31)),
               allocate_contract_number(conn, ids[1], DEFAULT_FORMAT, date(2027, 1, 1)),
               allocate_contract_number(conn, ids[2], DEFAULT_FORMAT, date(2027, 1, 2))]
    assert got == ["HT-2026-0001", "HT-2027-0001", "HT-2027-0002"]


def test_crash_between_approval_and_rendering_keeps_the_number(tmp_path, store_url):
    store = make_store(tmp_path, store_url)
    with store.begin() as conn:
        case_id = add_case(conn, "SQ-1")
        number = allocate_contract_number(conn, case_id, DEFAULT_FORMAT, DAY)
    store.dispose()  # the process dies before any contract is rendered
    restarted = make_store(tmp_path, store_url)
    with restarted.begin() as conn:
        assert allocate_contract_number(conn, case_id, DEFAULT_FORMAT, DAY) == number
        assert conn.execute(select(s.counters.c.value)).scalar() == 1


def test_fifty_approvals_on_two_workers_are_numbered_without_gap_or_repeat(tmp_path, store_url):
    store = make_store(tmp_path, store_url)
    with store.begin() as conn:
        ids = [add_case(conn, f"SQ-{i:03d}") for i in range(50)]
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def worker(share):
        try:
            for case_id in share:
                with store.begin() as conn:
                    results[case_id] = allocate_contract_number(conn, case_id, DEFAULT_FORMAT, DAY)
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(ids[i::2],)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert sorted(results.values()) == [f"HT-2026-{n:04d}" for n in range(1, 51)]
    with store.read() as conn:
        stored = conn.execute(select(s.contracts.c.case_id, s.contracts.c.number)).all()
    assert dict(stored) == results


def test_case_complaint_and_contract_numbers_all_come_from_their_numbering_rule(tmp_path, store_url):
    from support.policy import make_specs, policy_copy

    from automation.policy.numbering import CASE, COMPLAINT, CONTRACT, allocate
    from automation.policy.workbook import load_policy

    policy = load_policy(policy_copy(tmp_path), make_specs())
    store = make_store(tmp_path, store_url)
    day = date(2026, 3, 5)
    case_rule = policy.numbering_rule(CASE, "费用报销单", default_code="expense_claim")
    with store.begin() as conn:
        case = allocate(conn, case_rule, day)
        complaint = allocate(conn, policy.numbering_rule(COMPLAINT, "客户投诉处理单"), day)
        case_id = add_case(conn, "SQ-1")
        contract = allocate_contract_number(conn, case_id, policy.numbering_rule(CONTRACT, "销售合同审批表").format, day)
    assert (case, complaint, contract) == (case_rule.render(day, 1), "TS-2026-0001", "HT-2026-0001")
    assert case == "BX-202603-0001"
    with pytest.raises(RuntimeError):
        with store.begin() as conn:
            allocate(conn, case_rule, day)
            raise RuntimeError("crash inside the case's transaction")
    with store.begin() as conn:
        assert allocate(conn, case_rule, day) == "BX-202603-0002"  # the rolled-back number was not lost


def test_a_form_without_its_own_numbering_row_gets_the_default_rule_with_its_form_code():
    from automation.policy.numbering import CASE, default_rule

    rule = default_rule(CASE, "某新表单", code="new_form")
    assert rule.render(date(2026, 3, 5), 7) == "new_form-202603-0007" and rule.counter == "申请编号:new_form"

"""Claims with leases, the leader lock, and the counters and audit head under concurrency —
against a real PostgreSQL (and SQLite, where one process owns the workspace)."""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import select
from support.contracts import add_case, make_store
from support.threads import run_threads
from support.workspace import wait_for

from automation.clock import Clock
from automation.policy.numbering import DEFAULT_FORMAT, allocate_contract_number
from automation.record import audit
from automation.record import schema as s
from automation.record.store import next_number, open_store


def test_on_sqlite_every_claim_is_granted_and_the_one_worker_leads(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        assert store.workers.take("inbox", "a.xlsx") and store.workers.take("inbox", "a.xlsx")
        assert store.workers.is_leader()
    finally:
        store.dispose()


def test_a_claimed_file_is_skipped_by_another_worker_until_released(pg_url):
    a, b = open_store(pg_url), open_store(pg_url)
    try:
        assert a.workers.take("inbox", "报销单.xlsx")
        assert not b.workers.take("inbox", "报销单.xlsx")
        assert b.workers.take("inbox", "别的文件.xlsx")
        a.workers.release("inbox", "报销单.xlsx")
        assert b.workers.take("inbox", "报销单.xlsx")
    finally:
        a.dispose()
        b.dispose()


def test_a_dead_workers_lease_runs_out_and_another_takes_over_while_a_live_one_keeps_its_claim(pg_url):
    alive, dead, other = (open_store(pg_url, lease_seconds=1) for _ in range(3))
    try:
        assert alive.workers.take("inbox", "活着的.xlsx")
        assert dead.workers.take("inbox", "死掉的.xlsx")
        dead.workers._stop.set()  # its heartbeat stops, as when the process is killed
        dead.engine.dispose()
        wait_for(lambda: other.workers.take("inbox", "死掉的.xlsx"), timeout=30, message="the dead lease to run out")
        for _ in range(3):  # well past one lease: the live worker's heartbeat keeps its claim
            assert not other.workers.take("inbox", "活着的.xlsx")
            threading.Event().wait(0.7)
        with other.read() as conn:
            holder = conn.execute(select(s.claims.c.holder).where(s.claims.c.key == "死掉的.xlsx")).scalar()
        assert holder == other.workers.name
    finally:
        for store in (alive, other):
            store.dispose()


def test_each_of_many_files_is_claimed_by_exactly_one_of_four_workers(pg_url):
    stores = [open_store(pg_url) for _ in range(4)]
    won: dict[int, list[str]] = {i: [] for i in range(4)}
    keys = [f"文件{i:03d}.xlsx" for i in range(60)]

    def worker(i):
        for key in keys:
            if stores[i].workers.take("inbox", key):
                won[i].append(key)

    try:
        assert run_threads(worker, 4) == []
    finally:
        for store in stores:
            store.dispose()
    claimed = [k for keys_won in won.values() for k in keys_won]
    assert sorted(claimed) == keys, "every file claimed, none twice"


def test_the_leader_lock_is_held_by_one_worker_and_passes_on_when_it_dies(pg_url):
    first, second = open_store(pg_url), open_store(pg_url)
    try:
        assert first.workers.is_leader()
        assert not second.workers.is_leader()
        assert first.workers.is_leader()  # still ours on the next pass
        first.dispose()  # the leader's connection closes, as when its process dies
        wait_for(second.workers.is_leader, timeout=30, message="the lead to pass on")
    finally:
        second.dispose()


def test_counters_stay_gap_free_under_concurrent_transactions_by_their_row_lock_alone(pg_url):
    """Without the store's write lock (plain engine transactions): the counter row's lock suffices."""
    store = open_store(pg_url)
    got: list[int] = []

    def worker(i):
        for _ in range(25):
            with store.engine.begin() as conn:
                got.append(next_number(conn, "申请编号:测试", "2026"))

    try:
        assert run_threads(worker, 4) == []
    finally:
        store.dispose()
    assert sorted(got) == list(range(1, 101))


def test_the_audit_chain_stays_one_chain_under_concurrent_appends_by_its_head_lock_alone(pg_url):
    store = open_store(pg_url, Clock())

    def worker(i):
        for n in range(20):
            with store.engine.begin() as conn:
                audit.append(conn, at=store.now(), actor=f"工作进程{i}", action="step", subject=f"#{i}-{n}")

    try:
        assert run_threads(worker, 4) == []
        with store.read() as conn:
            report = audit.verify_chain(conn)
    finally:
        store.dispose()
    assert report.ok and report.entries == 80


def test_contract_numbers_from_several_processes_are_gap_free(tmp_path, pg_url):
    """Approvals committed by several OS processes at once (as by several workers; on SQLite
    the thread version in test_contracts_numbering covers the one-writer lock)."""
    import multiprocessing

    processes, store_url = 3, pg_url
    store = make_store(tmp_path, store_url)
    with store.begin() as conn:
        ids = [add_case(conn, f"SQ-{i:03d}") for i in range(30)]
    store.dispose()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(processes) as pool:
        numbers = pool.starmap(_allocate_share, [(store_url, str(tmp_path), ids[i::processes]) for i in range(processes)])
    flat = sorted(n for share in numbers for n in share)
    assert flat == [f"HT-2026-{n:04d}" for n in range(1, 31)]


def _allocate_share(url: str, tmp: str, ids: list[int]) -> list[str]:
    from pathlib import Path

    store = make_store(Path(tmp), url)
    try:
        out = []
        for case_id in ids:
            with store.begin() as conn:
                out.append(allocate_contract_number(conn, case_id, DEFAULT_FORMAT, date(2026, 11, 23)))
        return out
    finally:
        store.dispose()


def test_doctor_says_which_postgresql_and_how_many_workers_and_names_an_unreachable_one(tmp_path, pg_url):
    from automation.doctor import DoctorReport, check_postgres

    store = open_store(pg_url)  # one connected worker
    try:
        report = DoctorReport()
        check_postgres(pg_url, report)
    finally:
        store.dispose()
    found = report.findings[0]
    assert found.level == "正常" and "PostgreSQL 15" in found.message and "1 个 OfficeFlow 工作进程" in found.message, found
    down = DoctorReport()
    check_postgres("postgresql+psycopg://officeflow:机密@127.0.0.1:1/officeflow", down)
    message = down.findings[0].message
    assert down.findings[0].level != "正常" and "无法连接数据库服务器" in message and "机密" not in message, message


def test_service_status_counts_the_workers_connected_to_postgresql(tmp_path, pg_url, capsys):
    from support.workers import use_store
    from support.workspace import make_workspace

    from automation.cli.main import main

    root = make_workspace(tmp_path)
    use_store(root, pg_url)
    assert main(["service", "status", "--workspace", str(root)]) == 0
    assert "没有工作进程连接着数据库" in capsys.readouterr().out  # the look itself is not counted
    worker = open_store(pg_url)  # a worker's connections (one process: one name)
    try:
        assert main(["service", "status", "--workspace", str(root)]) == 0
    finally:
        worker.dispose()
    assert "现有 1 个工作进程" in capsys.readouterr().out

"""``Workers.claimed`` over a long list (a burst in the inbox): each statement offers a bounded window of
keys, each key is computed once, and items another worker holds — even more than one window of them —
are skipped, not waited for, while every other item is still yielded, in order."""

from __future__ import annotations

import threading
import time

from support.threads import run_threads

from automation.record import claims
from automation.record.store import open_store


def test_a_long_list_is_claimed_in_bounded_windows_past_another_workers_items(pg_url):
    mine, other = open_store(pg_url), open_store(pg_url)
    keys = [f"收件{i:04d}.xlsx" for i in range(300)]
    held = set(keys[:50]) | set(keys[120:130])  # more than one window at the start, and a stretch further on
    offered: list[int] = []
    computed: list[str] = []
    take_some = mine.workers.take_some

    def counting_take_some(kind, batch_keys, limit):
        offered.append(len(batch_keys))
        return take_some(kind, batch_keys, limit)

    def key(item: str) -> str:
        computed.append(item)
        return item

    try:
        for k in sorted(held):
            assert other.workers.take("inbox", k)
        mine.workers.take_some = counting_take_some
        got = list(mine.workers.claimed("inbox", keys, key=key, batch=8))
        assert got == [k for k in keys if k not in held]
        assert sorted(computed) == sorted(keys)  # once each, not once per batch
        assert max(offered) <= claims.WINDOW * 8
        assert len(offered) < len(keys)  # batches, not one statement per item
        # released as it went: the other worker can take what this one had
        assert other.workers.take("inbox", got[0]) and other.workers.take("inbox", got[-1])
    finally:
        mine.dispose()
        other.dispose()


def test_on_sqlite_claimed_yields_every_item_without_computing_keys(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        def key(item):
            raise AssertionError("no key is needed when one process owns the workspace")

        assert list(store.workers.claimed("inbox", ["a", "b", "c"], key=key)) == ["a", "b", "c"]
    finally:
        store.dispose()


def test_a_name_held_inside_a_batch_is_let_go_with_the_batch_in_one_statement(pg_url):
    mine, other = open_store(pg_url), open_store(pg_url)
    statements: list[str] = []
    from sqlalchemy import event

    event.listen(mine.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    try:
        items = [f"收件{i}.xlsx" for i in range(3)]
        for item in mine.workers.claimed("inbox", items, batch=8):
            with mine.workers.waiting_for("name", item.casefold()):
                pass
            assert not other.workers.take("name", item.casefold())  # still ours until the batch ends
        deletes = [s for s in statements if s.lstrip().upper().startswith("DELETE")]
        assert len(deletes) == 1  # the batch's inbox claims and its names, together
        for item in items:
            assert other.workers.take("inbox", item) and other.workers.take("name", item.casefold())
        with mine.workers.waiting_for("name", "单独.xlsx"):  # outside a batch: let go at once
            pass
        assert other.workers.take("name", "单独.xlsx")
    finally:
        mine.dispose()
        other.dispose()


def test_names_held_over_in_a_batch_are_let_go_before_waiting_so_two_workers_never_wait_for_each_other(pg_url):
    """Personal folders repeat names: worker A files a/报销单 then wants 出差, while worker B has filed
    b/出差 and wants 报销单. Each holds its filed name until its batch ends, so unless a worker lets its
    held-over names go before it waits, both wait a whole lease for the other."""
    lease = 20.0
    a, b = open_store(pg_url, lease_seconds=lease), open_store(pg_url, lease_seconds=lease)
    filed: dict[str, float] = {}
    both_hold = threading.Barrier(2, timeout=10)

    def worker(store, tag, first, second):
        for n, path in enumerate(store.workers.claimed("inbox", [f"{tag}/{first}", f"{tag}/{second}"], batch=8)):
            if n == 1:
                both_hold.wait()  # each has filed its first name and holds it over
            started = time.monotonic()
            with store.workers.waiting_for("name", path.split("/")[1]):
                filed[path] = time.monotonic() - started

    try:
        sides = [(a, "a", "报销单.xlsx", "出差.xlsx"), (b, "b", "出差.xlsx", "报销单.xlsx")]
        assert run_threads(lambda i: worker(*sides[i]), 2, timeout=2 * lease) == []
        assert sorted(filed) == ["a/出差.xlsx", "a/报销单.xlsx", "b/出差.xlsx", "b/报销单.xlsx"]
        assert max(filed.values()) < lease / 4, filed
    finally:
        a.dispose()
        b.dispose()

"""Several workers on one PostgreSQL: a worker's news (files taken in, decisions recorded) wakes
the idle ones through LISTEN/NOTIFY, so they do not wait for their next sweep."""

from __future__ import annotations

from support.workers import use_store
from support.workspace import make_workspace, running_watcher, wait_for

from automation.record.store import open_store


def test_an_idle_worker_is_woken_by_another_workers_news_not_by_its_sweep(tmp_path, pg_url):
    # Left alone, this worker would look again only after a minute: no sweep, no file event before then.
    root = make_workspace(tmp_path, sweep_seconds=120, coalesce_seconds=60)
    use_store(root, pg_url)
    with running_watcher(root, poll_seconds=120) as (rt, watcher):
        wait_for(lambda: watcher.stats.passes >= 1, timeout=60, message="a first pass")
        passes = watcher.stats.passes
        other = open_store(pg_url)
        try:
            # What another worker says after a pass with work; said again until heard (the listener may
            # still be connecting), never relied on for correctness: the sweep finds the work anyway.
            wait_for(lambda: other.workers.announce() or watcher.stats.passes > passes, timeout=30, interval=0.5,
                     message="a pass woken by the other worker's news")
        finally:
            other.dispose()


def test_on_sqlite_there_is_nobody_to_wake(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        assert store.workers.listen(lambda: None) is None
        store.workers.announce()  # nothing to say to anyone, and no error
    finally:
        store.dispose()

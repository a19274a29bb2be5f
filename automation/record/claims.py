"""Several workers on one PostgreSQL: claims with leases, and one leader.

On SQLite one process owns the workspace (the file lock in ``intake/worklock.py``), so
every claim is granted and that process is always the leader.

On PostgreSQL:

* **Claims.** Each piece of work (an inbox file or a decision file, by its path) is claimed
  by one worker before it is even opened: one unique ``claims`` row per piece, made or taken
  over in a single ``INSERT … ON CONFLICT DO UPDATE … WHERE`` (free, ours, or its lease run
  out) — one round trip; two workers contend only for that statement, never while one works,
  and the loser simply moves on — with a lease that ends at ``expires`` (the database's clock). A heartbeat thread renews the leases its worker
  holds. A worker killed mid-file stops renewing; when the lease has run out another
  worker claims the file and finishes it from its submission row, exactly once (the
  submission row's one-way states are the only writer of the outcome; a decision file's
  decision is recorded with the file's hash, so the next worker only moves it to 已办).
* **Task files** are written by every worker: each task is claimed (``("task", id)``) and
  looked at again before its file is written (``decide/followup.issue_task_files``), so a
  burst's task files come out of both cores and a worker killed mid-file hands the task on
  when its lease runs out.
* **The leader.** Work that must run once per share — time limits and
  reminders, rerouting, the other output files, registers, the audit checkpoint, the folder layout —
  runs on the worker holding a session-level advisory lock on its own connection. When
  that worker dies its connection closes, the server drops the lock, and the next worker
  to ask takes it over.
* **Waking.** A worker that took in files or recorded decisions says so with ``NOTIFY``; the
  others ``LISTEN`` and run their next pass at once (the leader writes the next task files,
  say, right after another worker recorded a decision), not at their next sweep.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

from sqlalchemy import column, func, select, table, text
from sqlalchemy.engine import Connection

from automation.record.dialect import LEADER_LOCK

log = logging.getLogger("officeflow")

T = TypeVar("T")
CHANNEL = "officeflow"  # LISTEN / NOTIFY: a worker's news wakes the idle ones
WINDOW = 4  # ``claimed`` offers this many batches' keys per statement: room to skip another worker's batch


def worker_name() -> str:
    """Who holds a claim: the machine, the process and a random part (pids repeat)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _key(key: str) -> str:
    """Keys fit the column: a very long path is claimed by its SHA-256."""
    return key if len(key) <= 400 else "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


# The claim statements, written once (building and caching a statement per call cost more client CPU
# than the round trip itself). ``expires`` is in the database's clock: the workers' clocks never matter.
_NOW = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS DOUBLE PRECISION)"
_FREE_OURS_OR_EXPIRED = f"(claims.holder IS NULL OR claims.holder = EXCLUDED.holder OR claims.expires < {_NOW})"
# One row made, or taken over when free, ours or expired; ``prior`` is who held it before (the
# statement's snapshot), for the log.
_TAKE = text(f"""
INSERT INTO claims (kind, key, holder, expires) VALUES (:kind, :key, :holder, {_NOW} + :lease)
ON CONFLICT (kind, key) DO UPDATE SET holder = EXCLUDED.holder, expires = EXCLUDED.expires
WHERE {_FREE_OURS_OR_EXPIRED}
RETURNING claims.key, (SELECT p.holder FROM claims p WHERE p.kind = claims.kind AND p.key = claims.key) AS prior""")
# The first :limit keys no other worker holds, claimed in key order (two workers' batches then lock
# rows in the same order, never each waiting for the other); a key taken by another worker between
# the look and the insert is simply not returned.
_TAKE_SOME = text(f"""
WITH wanted AS (
    SELECT u.key FROM unnest(CAST(:keys AS VARCHAR[])) WITH ORDINALITY AS u(key, n)
    WHERE NOT EXISTS (SELECT 1 FROM claims c WHERE c.kind = :kind AND c.key = u.key AND c.holder IS NOT NULL
                      AND c.holder <> :holder AND c.expires >= {_NOW})
    ORDER BY u.n LIMIT :limit)
INSERT INTO claims (kind, key, holder, expires) SELECT :kind, wanted.key, :holder, {_NOW} + :lease FROM wanted
ORDER BY wanted.key
ON CONFLICT (kind, key) DO UPDATE SET holder = EXCLUDED.holder, expires = EXCLUDED.expires
WHERE {_FREE_OURS_OR_EXPIRED}
RETURNING claims.key, (SELECT p.holder FROM claims p WHERE p.kind = claims.kind AND p.key = claims.key) AS prior""")
_RELEASE = text("DELETE FROM claims c USING unnest(CAST(:kinds AS VARCHAR[]), CAST(:keys AS VARCHAR[])) AS u(kind, key)"
                " WHERE c.kind = u.kind AND c.key = u.key AND c.holder = :holder")
_RENEW = text(f"UPDATE claims SET expires = {_NOW} + :lease"
              " WHERE holder = :holder AND kind = :kind AND key = ANY(CAST(:keys AS VARCHAR[]))")


class Workers:
    def __init__(self, store, *, lease_seconds: float = 60.0):
        """``store``: the :class:`~automation.record.store.Store` whose engine the claims live in."""
        self.store = store
        self.shared = store.is_shared
        self.name = worker_name()
        self.lease_seconds = max(1.0, float(lease_seconds))
        self._held: set[tuple[str, str]] = set()
        # Claims a ``waiting_for`` block inside ``claimed`` let go of: released with that batch's claims,
        # in its one statement (a file's name claim cost a DELETE per file of its own).
        self._later: set[tuple[str, str]] = set()
        self._claiming = 0  # ``claimed`` iterations under way
        self._lock = threading.Lock()
        self._leader_conn: Connection | None = None
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    # --- claims -------------------------------------------------------------------------

    def take(self, kind: str, key: str) -> bool:
        """Claim ``(kind, key)`` for this worker: True if it is now ours (free, expired or ours already)."""
        if not self.shared:
            return True
        key = _key(key)
        with self._autocommit() as conn:  # not Store.begin: a claim never waits for the writer
            row = conn.execute(_TAKE, {"kind": kind, "key": key, "holder": self.name,
                                       "lease": self.lease_seconds}).first()
        if row is None:
            return False
        self._taken(kind, [row])
        return True

    def take_some(self, kind: str, keys: Sequence[str], limit: int) -> list[int]:
        """Claim up to ``limit`` of ``keys`` (the first ones no other worker holds) in one statement;
        returns the positions in ``keys`` of those now ours, in order. Keys held by another worker
        are skipped, not waited for: with a small ``limit`` two workers walking the same list take
        alternate batches instead of contending for every item."""
        if not self.shared:
            return list(range(min(limit, len(keys))))
        first: dict[str, int] = {}
        for i, key in enumerate(keys):
            first.setdefault(_key(key), i)
        if not first:
            return []
        with self._autocommit() as conn:
            rows = conn.execute(_TAKE_SOME, {"kind": kind, "keys": list(first), "holder": self.name,
                                             "lease": self.lease_seconds, "limit": limit}).all()
        self._taken(kind, rows)
        return sorted(first[row.key] for row in rows)

    def _taken(self, kind: str, rows) -> None:
        for row in rows:
            if row.prior not in (None, self.name):
                log.warning("工作进程 %s 的租约已过期,由本进程(%s)接手:%s", row.prior, self.name, row.key)
        with self._lock:
            self._held.update((kind, row.key) for row in rows)
        if rows:
            self._ensure_heartbeat()

    def release(self, kind: str, key: str) -> None:
        self.release_all(kind, [key])

    def release_all(self, kind: str, keys: Sequence[str]) -> None:
        """Give up this worker's claims on ``keys``, in one statement. An inbox file's claim only after
        the writes deferred while it was held are committed (``Store.defer``): while it is claimed,
        no other worker's recovery finishes the file again."""
        if kind == "inbox":
            try:
                self.store.flush()
            except BaseException:
                # The marks stay pending, so the claims must not be let go now; but nor renewed for
                # ever: left to lapse with their lease, after which any worker's recovery finishes them.
                with self._lock:
                    self._held.difference_update((kind, _key(key)) for key in keys)
                raise
        if not self.shared:
            return
        with self._lock:
            pairs = sorted({(kind, _key(key)) for key in keys} | self._later)
            self._later = set()
            self._held.difference_update(pairs)
        if not pairs:
            return
        with self._autocommit() as conn:
            conn.execute(_RELEASE, {"kinds": [k for k, _ in pairs], "keys": [key for _, key in pairs],
                                    "holder": self.name})

    def _release_later(self) -> None:
        with self._lock:
            pairs, self._later = sorted(self._later), set()
            self._held.difference_update(pairs)
        if pairs:
            with self._autocommit() as conn:
                conn.execute(_RELEASE, {"kinds": [k for k, _ in pairs], "keys": [key for _, key in pairs],
                                        "holder": self.name})

    def claimed(self, kind: str, items: Iterable[T], key: Callable[[T], str] = str, *, batch: int = 8) -> Iterator[T]:
        """The items of ``items`` this worker may work on, in order, each claimed before it is yielded
        and released once the caller is past it: ``for path in workers.claimed("inbox", paths, key=…)``.

        The claims are taken ``batch`` at a time in one statement (``take_some``) and released a batch
        at a time in another, instead of two round trips per item; items another worker holds are
        left out. Everything on SQLite. Close the iterator (or leave the loop) to release early.

        Each statement offers the next ``WINDOW × batch`` keys only, and each key is computed once: offering
        every remaining key made a burst quadratic (1,000 inbox files: 125 batches of up to 1,000 keys
        built, sent and unnested by the server each time)."""
        pending = list(items)
        if not self.shared:
            yield from pending
            return
        keys = [key(item) for item in pending]
        window = max(batch, WINDOW * batch)
        self._claiming += 1
        try:
            yield from self._claim_windows(kind, pending, keys, batch, window)
        finally:
            self._claiming -= 1
            if not self._claiming and self._later:  # a claim held over from the last batch, if any
                try:
                    self.release_all(kind, [])
                except Exception as exc:  # the database went away: the leases run out on their own
                    log.warning("无法释放认领,租约到期后自动失效:%s", exc)

    def _claim_windows(self, kind: str, pending: list, keys: list[str], batch: int, window: int):
        start = 0
        while start < len(pending):
            offered = keys[start:start + window]
            got = self.take_some(kind, offered, batch)
            if not got:  # every offered item is another worker's: look further on
                start += len(offered)
                continue
            try:
                for i in got:
                    yield pending[start + i]
            finally:
                try:
                    self.release_all(kind, [offered[i] for i in got])
                except Exception as exc:  # the database went away: the leases run out on their own
                    log.warning("无法释放认领,租约到期后自动失效:%s", exc)
            start += got[-1] + 1

    @contextmanager
    def _autocommit(self) -> Iterator[Connection]:
        with self.store.engine.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def claim(self, kind: str, key: str) -> Iterator[bool]:
        """``with workers.claim("inbox", path) as mine:`` — work on it only ``if mine``; released after."""
        mine = self.take(kind, key)
        try:
            yield mine
        finally:
            if mine:
                try:
                    self.release(kind, key)
                except Exception as exc:  # the database went away: the lease runs out on its own
                    log.warning("无法释放认领(%s),租约到期后自动失效:%s", key, exc)

    @contextmanager
    def waiting_for(self, kind: str, key: str, *, timeout: float | None = None) -> Iterator[None]:
        """Hold ``(kind, key)`` for the block, waiting while another worker holds it (at most
        ``timeout`` seconds, default one lease — then its lease has run out anyway)."""
        deadline = time.monotonic() + (self.lease_seconds if timeout is None else timeout)
        while not self.take(kind, key):
            # The names this batch holds over are let go before waiting: another worker may be waiting
            # for one of them while holding the one wanted here (the same names in two people's folders,
            # met in the opposite order) — each would wait out a whole lease for the other.
            self._release_later()
            if time.monotonic() > deadline:
                raise TimeoutError(f"等待其他工作进程处理同一内容超时:{key}")
            self._stop.wait(0.1)
        try:
            yield
        finally:
            if self._claiming:  # inside ``claimed``: let go with its batch, in the same statement
                with self._lock:
                    self._later.add((kind, _key(key)))
            else:
                self.release(kind, key)

    def renew(self) -> int:
        """Extend the lease of every claim this worker holds; returns how many."""
        with self._lock:
            held = list(self._held)
        if not held or not self.shared:
            return 0
        by_kind: dict[str, list[str]] = {}
        for kind, key in held:
            by_kind.setdefault(kind, []).append(key)
        renewed = 0
        with self.store.engine.begin() as conn:
            for kind, keys in sorted(by_kind.items()):
                renewed += conn.execute(_RENEW, {"holder": self.name, "kind": kind, "keys": sorted(keys),
                                                 "lease": self.lease_seconds}).rowcount
        return renewed

    def _ensure_heartbeat(self) -> None:
        if self._heartbeat is not None and self._heartbeat.is_alive():
            return
        self._heartbeat = threading.Thread(target=self._beat, name="officeflow-lease", daemon=True)
        self._heartbeat.start()

    def _beat(self) -> None:
        interval = self.lease_seconds / 3
        while not self._stop.wait(interval):
            try:
                self.renew()
            except Exception as exc:  # the database is unreachable: try again next beat
                log.warning("无法续期认领的租约:%s", exc)

    # --- waking idle workers: LISTEN / NOTIFY ----------------------------------------------

    def announce(self) -> None:
        """Tell the other workers there is news (files taken in, decisions recorded), so an idle
        one runs its next pass now instead of at its next sweep. Nothing on SQLite."""
        if not self.shared:
            return
        with self._autocommit() as conn:
            conn.execute(select(func.pg_notify(CHANNEL, self.name)))

    def listen(self, wake: Callable[[], None]) -> Callable[[], None] | None:
        """Call ``wake`` whenever another worker announces news, from a thread of its own with its
        own connection (reconnecting when the database comes back). Returns the function that
        stops it; None on SQLite, where one worker owns the workspace."""
        if not self.shared:
            return None
        stop = threading.Event()
        thread = threading.Thread(target=self._listen, args=(wake, stop), name="officeflow-listen", daemon=True)
        thread.start()

        def stop_listening() -> None:
            stop.set()
            thread.join(timeout=5)

        return stop_listening

    def _listen(self, wake: Callable[[], None], stop: threading.Event) -> None:
        while not stop.is_set():
            raw = None
            try:
                raw = self.store.engine.raw_connection()
                conn = raw.driver_connection
                raw.detach()  # its own connection, outside the pool, for as long as it listens
                conn.autocommit = True
                conn.execute(f"LISTEN {CHANNEL}")
                while not stop.is_set():
                    for note in conn.notifies(timeout=1.0):
                        if note.payload != self.name:
                            wake()
            except Exception as exc:  # the database is unreachable: passes still run on their timer
                log.info("暂时无法接收其他工作进程的通知,稍后重试:%s", exc)
                stop.wait(5.0)
            finally:
                if raw is not None:
                    try:
                        raw.close()
                    except Exception:
                        pass

    # --- the leader -----------------------------------------------------------------------

    def is_leader(self) -> bool:
        """True if this worker does the once-per-share work now (always, on SQLite)."""
        if not self.shared:
            return True
        if self._leader_conn is not None:
            try:
                self._leader_conn.execute(select(1))
                self._leader_conn.commit()
                return True
            except Exception as exc:  # our connection (and with it the lock) is gone
                log.warning("与数据库的主控连接已中断,将重新竞选:%s", exc)
                self._drop_leader()
        conn = self.store.engine.connect()
        try:
            got = conn.execute(select(func.pg_try_advisory_lock(LEADER_LOCK))).scalar()
            conn.commit()
        except Exception:
            conn.close()
            raise
        if got:
            self._leader_conn = conn
            log.info("本工作进程(%s)成为主控,负责审批决定、时限提醒、台账等全局工作。", self.name)
            return True
        conn.close()
        return False

    def _drop_leader(self) -> None:
        conn, self._leader_conn = self._leader_conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception:
                pass

    def close(self) -> None:
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=5)
        if self._leader_conn is not None:
            try:
                self._leader_conn.execute(select(func.pg_advisory_unlock(LEADER_LOCK)))
                self._leader_conn.commit()
            except Exception:
                pass
            self._drop_leader()
        with self._lock:
            held = list(self._held)
        for kind, key in held:
            try:
                self.release(kind, key)
            except Exception:
                break


_ACTIVITY = table("pg_stat_activity", column("application_name"), column("datname"))


def connected_workers(conn: Connection) -> int:
    """How many OfficeFlow processes are connected to this PostgreSQL database now (one name per process)."""
    return conn.execute(select(func.count(_ACTIVITY.c.application_name.distinct())).where(
        _ACTIVITY.c.application_name.like("officeflow %"), _ACTIVITY.c.datname == func.current_database())).scalar()

"""The long-running service above the pipeline: watcher, supervision, signals.

Events are hints; ``process_pending`` is the truth.

File events (native, or polling on network shares) only wake the loop; every
pass re-scans inbox/ and the approval folders. A sweep runs on a timer anyway,
so a missed event delays a file by at most ``sweep_seconds``. The observer is
supervised: watchdog's thread dies on a handler error, and its polling
emitter gives up for good on an ``OSError`` from a flapping share — both are
restarted here instead of going silently deaf.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from automation.faults import describe as describe_fault
from automation.intake.stability import StabilityTracker
from automation.pipeline import WRITERS_PATIENCE, RunSummary, process_pending
from automation.runtime import Runtime

log = logging.getLogger("officeflow")


class _Wake(FileSystemEventHandler):
    """Wakes the loop on any event; with a tracker, also says which inbox files a writer closed."""

    def __init__(self, event: threading.Event, tracker: StabilityTracker | None = None, inbox: Path | None = None):
        self.event = event
        self.tracker = tracker
        self.inbox = inbox

    def on_any_event(self, event) -> None:  # never raise here: it would kill the observer thread
        try:
            if self.tracker is not None and not event.is_directory:
                self._note(event)
        except Exception:  # a hint lost costs only the quiet period
            pass
        self.event.set()

    def _note(self, event) -> None:
        kind = event.event_type
        if kind == "closed":  # inotify IN_CLOSE_WRITE: the writer is done with it
            self._mark(event.src_path, self.tracker.closed)
        elif kind == "moved":  # renamed into place: a save's last step, or a finished copy moved in
            self._mark(event.dest_path, self.tracker.closed)
        elif kind == "modified":
            self._mark(event.src_path, self.tracker.changed)

    def _mark(self, where, action) -> None:
        if not where:
            return
        path = Path(os.fsdecode(where))
        if path.is_relative_to(self.inbox):
            action(path)


# watchdog warns (in English, several KB each) whenever a deep folder's watch is re-added;
# harmless for us, and on a console or a pipe nobody drains it is noise that can block the service.
warnings.filterwarnings("ignore", message="Callback with id", category=RuntimeWarning, module="watchdog")


def make_observer(poll_seconds: float | None):
    """Native events by default; polling (for SMB/NFS shares) when an interval is given.

    On Linux the native observer reports a file moved in from outside the watched
    folders as a move (not a bare create), so a finished file renamed in counts as closed.
    """
    if poll_seconds:
        return PollingObserver(timeout=poll_seconds)
    if sys.platform.startswith("linux"):
        return Observer(generate_full_events=True)
    return Observer()


@dataclass
class WatchStats:
    passes: int = 0
    restarts: int = 0
    total: RunSummary = field(default_factory=RunSummary)


class Watcher:
    def __init__(self, rt: Runtime, *, poll_seconds: float | None = None, on_pass=None):
        self.rt = rt
        self.poll_seconds = poll_seconds if poll_seconds is not None else (
            rt.settings.watch.poll_seconds if rt.settings.watch.mode == "poll" else None)
        self.wake = threading.Event()
        self.on_pass = on_pass
        self.stats = WatchStats()
        self.tracker = self._tracker()
        self._observer = None
        self._last_fault: str | None = None

    @property
    def close_events(self) -> bool:
        """Whether writers' close-after-write reaches us: native inotify on a local Linux disk only."""
        return not self.poll_seconds and sys.platform.startswith("linux")

    def _tracker(self) -> StabilityTracker:
        """With close events, the quiet period only for files written again after their close. Without
        (polling, other systems): an Office file whose zip end proves it complete after the shorter
        ``poll_quiet_seconds``; one still being written waits as long as ``officeflow process`` waits for
        writers; any other file the full quiet period (intake/stability.py)."""
        watch = self.rt.settings.watch
        if self.close_events:
            return StabilityTracker(watch.quiet_seconds)
        return StabilityTracker(watch.quiet_seconds, settled=watch.poll_quiet_seconds,
                                patience=WRITERS_PATIENCE * watch.quiet_seconds)

    def _start_observer(self):
        s = self.rt.settings
        for folder in (s.inbox, s.approvals, s.policies):
            folder.mkdir(parents=True, exist_ok=True)
        observer = make_observer(self.poll_seconds)
        # Close events only from native inotify on a local disk; polling keeps the quiet period.
        handler = _Wake(self.wake, self.tracker if self.close_events else None, s.inbox)
        observer.schedule(handler, str(s.inbox), recursive=True)
        observer.schedule(handler, str(s.approvals), recursive=True)
        observer.schedule(handler, str(s.policies), recursive=False)
        observer.daemon = True
        observer.start()
        return observer

    def _supervise(self) -> None:
        if self._observer is None or not self._observer.is_alive():
            if self._observer is not None:
                log.warning("文件监视线程已停止,正在重新启动。")
                self.stats.restarts += 1
            try:
                self._observer = self._start_observer()
            except OSError as exc:  # the share is gone for now; the sweep keeps working
                log.warning("无法启动文件监视(%s),将仅靠定期扫描。", exc)
                self._observer = None

    def run(self, stop: threading.Event) -> WatchStats:
        self._supervise()
        # Several workers on one PostgreSQL: another worker's news wakes this one (LISTEN/NOTIFY).
        stop_listening = self.rt.store.workers.listen(self.wake.set)
        try:
            while not stop.is_set():
                summary = self._pass(stop)
                self._idle(stop, self.next_pass_in(summary))
                self.wake.clear()
                self._supervise()
        finally:
            if stop_listening is not None:
                stop_listening()
            if self._observer is not None:
                self._observer.stop()
                self._observer.join(timeout=5)
        return self.stats

    WAITING_BEAT = 0.25  # seconds between passes while a file waits for something else than its quiet period
    DUE_MARGIN = 0.01  # looked at just after the quiet period ends, so that ``check`` finds it ended

    def next_pass_in(self, summary: RunSummary) -> float:
        """Seconds to the next pass unless an event comes first: while files are still settling, the moment
        the first of them has been quiet long enough (at most a beat away); otherwise the sweep."""
        if not summary.waiting:
            return min(self.rt.settings.watch.sweep_seconds, max(0.5, self.rt.settings.register_writing.coalesce_seconds))
        due = self.tracker.due_in()
        return self.WAITING_BEAT if due is None else min(self.WAITING_BEAT, due + self.DUE_MARGIN)

    def _pass(self, stop: threading.Event) -> RunSummary:
        try:
            summary = process_pending(self.rt, tracker=self.tracker, stop=stop, wait_stable=False, render_now=False)
        except Exception as exc:  # a fault outside any one file (disk full, store busy): wait and retry
            fault = describe_fault(exc)
            if fault is None:
                log.exception("处理过程中出现错误,稍后重试:%s", exc)
            elif fault != self._last_fault:  # said once, not every second while it lasts
                log.error("%s系统将自动重试。", fault)
            self._last_fault = fault
            stop.wait(1.0)
            return RunSummary()
        if self._last_fault:
            log.warning("故障已排除,恢复正常处理。")
            self._last_fault = None
        self.stats.passes += 1
        if summary.taken or summary.decisions:
            self._announce()
        for outcome, n in summary.taken.items():
            self.stats.total.taken[outcome] = self.stats.total.taken.get(outcome, 0) + n
        if self.on_pass:
            self.on_pass(summary)
        return summary

    def _idle(self, stop: threading.Event, timeout: float) -> None:
        """Until woken (a file event, another worker's news) or ``timeout``; a stop ends it within a second."""
        deadline = time.monotonic() + timeout
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or self.wake.wait(min(1.0, left)):
                return

    def _announce(self) -> None:
        try:
            self.rt.store.workers.announce()
        except Exception as exc:  # only a hint: the others' sweep finds the work anyway
            log.info("无法通知其他工作进程:%s", exc)


@contextmanager
def stop_on_signals(signals=(signal.SIGINT, signal.SIGTERM)) -> Iterator[threading.Event]:
    """An event set by Ctrl-C or SIGTERM: the file in hand is finished, then the service leaves.
    The previous handlers are restored on the way out."""
    stop = threading.Event()

    def _stop(signum, frame):
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in signals}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

"""Run a function on several threads at once and bring their exceptions back to the test."""

from __future__ import annotations

import threading
from collections.abc import Callable


def run_threads(target: Callable[[int], object], n: int, timeout: float = 60) -> list[BaseException]:
    """``target(i)`` for i in 0..n-1, each on its own thread; the exceptions they raised (a test
    thread's failure would otherwise vanish with the thread). Fails if one is still running."""
    errors: list[BaseException] = []

    def run(i):
        try:
            target(i)
        except BaseException as exc:  # surfaced in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads)
    return errors

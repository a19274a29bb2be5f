"""Reading one file within a memory and a time budget, in any thread.

Intake has already bounded what a file may *declare* (size, entries, inflated
size, ratio). What parsing it costs is another matter: a valid package of
200 MB of sheet XML, or a part built to make a reader work hard, can take
gigabytes or minutes, and a watcher that runs out of memory stops the whole
office. So a file whose inflated package exceeds ``[limits] isolate_above_mb``
(and every file when the time budget cannot be kept in this thread, see
below) is identified and read in a child process (started by a fork server, see ``_context``),
under ``RLIMIT_AS`` = its start size + ``max_memory_mb`` and killed after ``max_seconds_per_file``. The child returns the form it read (or why it
could not); the rest of the verdict runs here, on that form. Small files — our
forms are 25–820 KB inflated — are read in-process as before: they cannot
exhaust either budget.

The time budget in-process is SIGALRM, which only the main thread can use;
in any other thread every file goes through the child, so the budget holds
there too. Where no child can be started (an OS refusing processes) the file is read in-process
and the crash-loop guard (``receive.MAX_ATTEMPTS``) remains the bound; the
memory limit is applied only where ``/proc/self/statm`` and ``RLIMIT_AS``
exist (Linux), elsewhere only the time budget holds.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import threading
import traceback
import zipfile
from pathlib import Path

from automation.errors import OfficeFlowError, UnrecognisedFormError
from automation.extract.read import read_form
from automation.forms import opened
from automation.identify.identify import identify

log = logging.getLogger("officeflow")
_CONTEXT: list = []
_DAMAGED_NAMES = ("BadZipFile", "ParseError", "XMLSyntaxError", "DefusedXmlException", "EOFError")


class MemoryBudgetExceeded(BaseException):
    """Reading one file needed more than ``max_memory_mb`` (a BaseException, like TimeBudgetExceeded)."""


class ReadTimeExceeded(BaseException):
    """The child reading one file ran past ``max_seconds_per_file`` and was stopped."""


class ChildReadError(RuntimeError):
    """Reading failed in the child for a reason of its own; its traceback is the message (for the log)."""


class DamagedInChild(zipfile.BadZipFile):
    """The child found a part inside the package broken (the pipeline's DAMAGED answer)."""


def inflated_size(path: Path) -> int:
    try:
        with opened.open_zip(path) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return 0


def alarm_usable() -> bool:
    """SIGALRM can bound the time here (POSIX, main thread)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def needs_child(path: Path, limits) -> bool:
    if not (limits.max_memory_mb > 0 or limits.max_seconds_per_file > 0):
        return False
    if limits.max_seconds_per_file > 0 and not alarm_usable():
        return True
    return inflated_size(path) > limits.isolate_above_mb * 1024 * 1024


def read_identified(path: Path, kind: str, specs: dict, limits):
    """(spec, version, how, form) of the file at ``path``, within the budgets.

    Raises UnrecognisedFormError, a damaged-package error (a ``zipfile.BadZipFile``),
    MemoryBudgetExceeded or ReadTimeExceeded.
    """
    if needs_child(path, limits):
        answer = _in_child(path, kind, specs, limits)
        if answer is not None:
            return answer
    return _read(path, kind, specs)


def _read(path: Path, kind: str, specs: dict):
    spec, version, how = identify(path, kind, specs)
    return spec, version, how, read_form(path, spec, version, how)


# --- the child ---------------------------------------------------------------------------


def _context():
    """``forkserver`` where there is one, ``spawn`` elsewhere; never a plain ``fork``.

    The watcher has threads (watchdog's observers, a watcher run in a thread): a process forked from
    one of them inherits every lock another thread held at that instant (logging, the import lock,
    a connection pool) and can wait on it for ever, which looked like a read that ran out of time.
    The fork server is started once by exec, with this module imported, and forks each child from
    its own single thread: as quick as ``fork`` after the first file, and safe."""
    if not _CONTEXT:
        import multiprocessing  # only when a big file is read in a child: not loaded by every command

        methods = multiprocessing.get_all_start_methods()
        if "forkserver" in methods:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload([__name__])
        else:
            ctx = multiprocessing.get_context("spawn")
        _CONTEXT.append(ctx)
    return _CONTEXT[0]


def _in_child(path: Path, kind: str, specs: dict, limits):
    """The answer of a child process, or None when no child could be started or its answer could
    not be sent (then the caller reads in-process)."""
    try:
        ctx = _context()
        receiver, sender = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_child_main, args=(sender, str(path), kind, specs, limits.max_memory_mb),
                            name="officeflow-read", daemon=True)
        child.start()
    except (OSError, ValueError, RuntimeError) as exc:  # no child possible here: in-process, said once
        log.warning("无法启动独立进程读取文件(%s),改为在本进程内读取;内存上限此时不起作用。", exc)
        return None
    sender.close()
    try:
        timeout = limits.max_seconds_per_file if limits.max_seconds_per_file > 0 else None
        if not receiver.poll(timeout):  # (a child that died closes the pipe: poll answers at once)
            _stop(child)
            raise ReadTimeExceeded()
        try:
            answer = receiver.recv()
        except EOFError:  # died without a word
            child.join(5)
            if child.exitcode is not None and child.exitcode < 0:
                raise MemoryBudgetExceeded() from None  # killed by the system (out of memory) or crashed
            raise ChildReadError(f"读取进程未给出结果即退出(退出码 {child.exitcode})") from None
    finally:
        receiver.close()
        if child.is_alive():
            child.join(5)
            _stop(child)
    return _unpack(answer, path, specs)


def _stop(child) -> None:
    if child.is_alive():
        child.kill()
    child.join(5)


def _unpack(answer: tuple, path: Path, specs: dict):
    what = answer[0]
    if what == "ok":
        _, spec_id, version, how, form = answer
        spec = specs[spec_id]
        form.spec, form.path = spec, Path(path)
        return spec, version, how, form
    if what == "unrecognised":
        _, message, code, location = answer
        raise UnrecognisedFormError(message, code=code, location=location)
    if what == "refused":  # one of our own checks (e.g. a table too long): its code and message
        _, message, code, location = answer
        raise OfficeFlowError(message, code=code, location=location)
    if what == "damaged":
        raise DamagedInChild(answer[1])
    if what == "memory":
        raise MemoryBudgetExceeded()
    if what == "unsent":  # the answer would not cross to us (a fault of ours): read here instead
        log.info("独立读取进程的结果无法传回,改为在本进程内读取:%s", answer[1])
        return None
    # Any other failure is not read again here: under a memory limit a failed allocation can surface
    # as any exception, and reading the file again in this process would defeat the budget.
    raise ChildReadError(answer[1] if len(answer) > 1 else what)


def _child_main(sender, path: str, kind: str, specs: dict, max_memory_mb: float) -> None:
    _quiet()
    try:
        _limit_memory(max_memory_mb)
        spec, version, how, form = _read(Path(path), kind, specs)
        answer: tuple = ("ok", spec.id, version, how, form)
    except Exception as exc:  # (MemoryError included) sorted here; the parent decides
        answer = _answer_for(exc)
    _send(sender, answer)


def _answer_for(exc: BaseException) -> tuple:
    if _out_of_memory(exc):
        return ("memory",)
    if isinstance(exc, UnrecognisedFormError):
        return ("unrecognised", exc.message, exc.code, exc.location)
    if isinstance(exc, OfficeFlowError):
        return ("refused", exc.message, exc.code, exc.location)
    if type(exc).__name__ in _DAMAGED_NAMES or isinstance(exc, (zipfile.BadZipFile, EOFError)):
        return ("damaged", type(exc).__name__)
    return ("error", "".join(traceback.format_exception(exc, limit=5)))


def _out_of_memory(exc: BaseException | None) -> bool:
    """A MemoryError anywhere in the chain, or a failed allocation reported in a library's own words
    (libxml2: "Memory allocation failed", zlib: "insufficient memory", "Cannot allocate memory")."""
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, MemoryError) or (isinstance(exc, OSError) and exc.errno == errno.ENOMEM):
            return True
        # Only these libraries' own messages are looked at (never ours: they may quote a file name).
        if type(exc).__name__ in ("XMLSyntaxError", "ParseError", "error") and not isinstance(exc, OfficeFlowError):
            text = str(exc).lower()
            if "memory" in text or "cannot allocate" in text:
                return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _send(sender, answer: tuple) -> None:
    try:
        sender.send(answer)
    except MemoryError:
        sender.send(("memory",))
    except Exception:  # the form would not pickle: a fault of ours, read in the parent instead
        sender.send(("unsent", traceback.format_exc(limit=5)))
    finally:
        sender.close()


def _quiet() -> None:
    """The child's own stderr goes nowhere: what went wrong is in its answer (a process out of
    memory otherwise prints half-formed "Exception ignored" lines on the service's console)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        pass


def memory_limit_holds() -> bool:
    """Whether this platform can cap a reading child's memory: ``RLIMIT_AS`` plus ``/proc/self/statm``
    to measure the child's start size, i.e. Linux. Elsewhere (Windows, macOS) only the time budget,
    the declared/inflated size limits and the crash-loop guard bound one file."""
    try:
        import resource  # noqa: F401  (POSIX only)
    except ImportError:
        return False
    return hasattr(resource, "RLIMIT_AS") and os.path.exists("/proc/self/statm")


def _limit_memory(max_memory_mb: float) -> None:
    if max_memory_mb <= 0:
        return
    try:
        import resource  # POSIX only (no such module on Windows): imported where the limit is set

        with open("/proc/self/statm", encoding="ascii") as statm:
            start = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (ImportError, OSError, ValueError, IndexError):
        return  # not Linux: only the time budget holds (see the module note)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = start + int(max_memory_mb * 1024 * 1024)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))

"""System faults: a full disk and a read-only store are explained in Chinese, lose nothing,
and the work resumes by itself once the fault is gone.

The disk really fills: outbox/ (or .officeflow/) is a small tmpfs. Mounting needs root
(or CAP_SYS_ADMIN); where the platform refuses, these tests are skipped.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from support.forms import build_blank, fill_xlsx
from support.workspace import files_under, make_workspace, running_watcher, wait_for

from automation import samples
from automation.faults import describe
from automation.record import schema as s
from automation.runtime import open_runtime


@contextmanager
def tmpfs(folder: Path, size_kb: int):
    """Mount a small tmpfs on ``folder``, keeping what was in it."""
    keep = folder.with_name(folder.name + ".before")
    shutil.copytree(folder, keep)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        shutil.rmtree(keep)
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        shutil.copytree(keep, folder, dirs_exist_ok=True)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)
        shutil.rmtree(keep, ignore_errors=True)


def fill_up(folder: Path) -> Path:
    """Take every free byte of the file system holding ``folder``."""
    filler = folder / "占满磁盘.bin"
    with open(filler, "wb", buffering=0) as fh:
        for size in (65536, 4096, 1):
            try:
                while True:
                    fh.write(b"\0" * size)
            except OSError:
                pass
    return filler


def _forms(tmp_path: Path, root: Path, n: int) -> dict[str, bytes]:
    dropped = {}
    for i in range(n):
        path = fill_xlsx(build_blank("customer_registration", tmp_path / f"blank{i}"),
                         samples.customer_registration(i + 1, date.today()))
        name = f"客户登记{i}.xlsx"
        dropped[name] = path.read_bytes()
        os.replace(path, root / "inbox" / name)
    return dropped


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automation", *args, "--workspace", str(root)],
                          capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)


def _subs(root: Path) -> list[dict]:
    rt = open_runtime(root)
    try:
        with rt.store.read() as conn:
            return [dict(r) for r in conn.execute(select(s.submissions).order_by(s.submissions.c.id)).mappings()]
    finally:
        rt.close()


def _no_temp_files(folder: Path) -> None:
    stray = [p for p in files_under(folder) if p.name.startswith(".officeflow-tmp-") or p.name.endswith(".tmp")]
    assert not stray, stray


def test_disk_full_while_filing_loses_nothing_and_resumes(tmp_path):
    root = make_workspace(tmp_path)
    dropped = _forms(tmp_path, root, 3)
    with tmpfs(root / "outbox", 1024) as outbox:
        filler = fill_up(outbox)
        first = _cli(root, "process")
        assert first.returncode == 3, first.stdout + first.stderr
        assert "磁盘空间已满" in first.stderr and "自动继续" in first.stderr
        assert "程序内部错误" not in first.stderr and "Traceback" not in first.stderr
        _no_temp_files(outbox)
        assert not [p for p in files_under(outbox / "archive")], "no partial or premature archive copy"
        assert sorted(p.name for p in (root / "inbox").iterdir()) == sorted(dropped), "every original kept"
        filler.unlink()
        again = _cli(root, "process")
        assert again.returncode == 0, again.stdout + again.stderr
        subs = _subs(root)
        assert len(subs) == 3 and {x["status"] for x in subs} == {"archived"}
        for x in subs:
            assert (root / x["dest_path"]).read_bytes() == dropped[x["name"]]
            assert hashlib.sha256(dropped[x["name"]]).hexdigest() == x["sha256"]
        assert not os.listdir(root / "inbox")
        assert len([p for p in files_under(outbox / "approvals") if p.suffix == ".xlsx"]) == 3
        _no_temp_files(outbox)
        assert _cli(root, "audit", "verify").returncode == 0


def test_watcher_survives_a_full_disk_and_resumes_by_itself(tmp_path):
    root = make_workspace(tmp_path)
    with tmpfs(root / "outbox", 1024) as outbox:
        filler = fill_up(outbox)
        with running_watcher(root) as (rt, watcher):
            dropped = _forms(tmp_path, root, 2)
            # The first file is planned, its filing fails, and the watcher waits instead of going on.
            wait_for(lambda: [x["status"] for x in _subs(root)] == ["moving"], timeout=60, message="the first plan")
            wait_for(lambda: watcher._last_fault, timeout=30, message="the fault noticed")
            assert "磁盘空间已满" in watcher._last_fault
            filler.unlink()
            wait_for(lambda: [x["status"] for x in _subs(root)] == ["archived", "archived"], timeout=60,
                     message="the files to be filed once space is back")
            wait_for(lambda: len([p for p in files_under(outbox / "approvals") if p.suffix == ".xlsx"]) == 2,
                     timeout=60, message="the task files")
        assert sorted(x["name"] for x in _subs(root)) == sorted(dropped)
        _no_temp_files(outbox)


def test_read_only_store_gives_a_clear_message_and_resumes(tmp_path):
    root = make_workspace(tmp_path)
    assert _cli(root, "process").returncode == 0  # the store exists
    state = root / ".officeflow"
    with tmpfs(state, 8192):
        subprocess.run(["mount", "-o", "remount,ro", str(state)], check=True)
        _forms(tmp_path, root, 1)
        done = _cli(root, "process")
        assert done.returncode == 3, done.stdout + done.stderr
        assert "只读" in done.stderr and "自动继续" in done.stderr
        assert "程序内部错误" not in done.stderr and "OperationalError" not in done.stderr
        assert len(os.listdir(root / "inbox")) == 1, "the form waits in the inbox"
        subprocess.run(["mount", "-o", "remount,rw", str(state)], check=True)
        again = _cli(root, "process")
        assert again.returncode == 0, again.stderr
        assert [x["status"] for x in _subs(root)] == ["archived"]


def test_locked_store_is_explained_in_chinese(tmp_path):
    path = tmp_path / "state.db"
    holder = sqlite3.connect(path, timeout=0)
    holder.execute("CREATE TABLE t (x)")
    holder.commit()
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError) as caught:
            other.execute("INSERT INTO t VALUES (1)")
    finally:
        other.close()
        holder.rollback()
        holder.close()
    text = describe(caught.value)
    assert text and "锁定" in text and "自动继续" in text


def test_a_file_error_that_is_not_a_system_fault_is_not_described_as_one():
    assert describe(ValueError("boom")) is None
    assert describe(FileNotFoundError(2, "No such file")) is None


def _process_with_store(root: Path, url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automation", "process", "--workspace", str(root)],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                          env={**os.environ, "OFFICEFLOW_STORE_URL": url})


def _explained(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode == 3, done.stdout + done.stderr
    assert "程序内部错误" not in done.stderr and "OperationalError" not in done.stderr, done.stderr
    assert "自动继续" in done.stderr and all(w in done.stderr for w in words), done.stderr


def test_store_server_whose_name_does_not_resolve_is_explained_in_chinese(tmp_path):
    root = make_workspace(tmp_path)
    # .invalid never resolves (RFC 2606)
    _explained(_process_with_store(root, "postgresql+psycopg://of:pw@officeflow-db.invalid:5432/office"),
               "找不到数据库服务器", "[store] url")


def test_store_address_where_something_else_answers_is_explained_in_chinese(tmp_path):
    """A wrong port: a web server (here a socket answering HTTP) instead of PostgreSQL."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    stop = threading.Event()

    def answer() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        port = server.getsockname()[1]
        done = _process_with_store(make_workspace(tmp_path), f"postgresql+psycopg://of:pw@127.0.0.1:{port}/office")
    finally:
        stop.set()
        try:
            server.shutdown(socket.SHUT_RDWR)  # wakes the accept() waiting in the thread
        except OSError:
            pass
        server.close()
        thread.join(timeout=10)
        assert not thread.is_alive()
    _explained(done, "数据库服务器", "[store] url")

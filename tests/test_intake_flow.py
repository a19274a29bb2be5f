"""Intake end to end: real files dropped into a real workspace, the real watcher and store."""

from __future__ import annotations

import os
import random
import time
from datetime import date

import pytest
from sqlalchemy import func, select
from support import bad_files
from support.forms import build_blank, fill_docx, fill_xlsx
from support.workspace import files_under, make_workspace, running_watcher, wait_for

from automation import samples
from automation.pipeline import process_pending
from automation.record import schema as s
from automation.runtime import open_runtime


def _submissions(rt):
    with rt.store.read() as conn:
        return [dict(r) for r in conn.execute(select(s.submissions).order_by(s.submissions.c.id)).mappings()]


def _customer_form(folder, seq, today=None):
    path = build_blank("customer_registration", folder / f"blank{seq}")
    return fill_xlsx(path, samples.customer_registration(seq, today or date.today()))


def _process(root):
    rt = open_runtime(root)
    try:
        process_pending(rt)
        return _submissions(rt)
    finally:
        rt.close()


def test_lock_and_temp_files_are_ignored(tmp_path):
    root = make_workspace(tmp_path)
    inbox = root / "inbox"
    names = ["~$报销单.xlsx", ".~lock.报销单.xlsx#", "~WRL0001.tmp", "保存中.tmp", ".~报销单.docx", ".隐藏.xlsx",
             "desktop.ini", "Thumbs.db"]
    for name in names:
        (inbox / name).write_bytes(b"lock")
    subs = _process(root)
    assert subs == []
    assert sorted(p.name for p in files_under(inbox)) == sorted(names)


def test_valid_form_is_archived_and_routed(tmp_path):
    root = make_workspace(tmp_path)
    form = _customer_form(tmp_path, 1)
    os.replace(form, root / "inbox" / "客户登记.xlsx")
    subs = _process(root)
    assert [(x["status"], x["form_id"]) for x in subs] == [("archived", "customer_registration")]
    assert (root / subs[0]["dest_path"]).exists()
    assert not list(files_under(root / "inbox"))
    tasks = [p for p in files_under(root / "outbox" / "approvals") if p.suffix == ".xlsx"]
    assert len(tasks) == 1 and tasks[0].parent.name == "吴强"


@pytest.mark.parametrize("factory, code", [
    (bad_files.zero_byte, "file-empty"),
    (bad_files.random_bytes, "file-not-office"),
    (bad_files.xlsm_with_macro, "file-macro"),
    (bad_files.encrypted_xlsx, "file-encrypted"),
    (bad_files.zip_bomb, ("zip-bomb", "zip-too-large")),
    (bad_files.entity_bomb_xlsx, "xml-entity"),
])
def test_bad_file_is_quarantined_with_reason(tmp_path, factory, code):
    root = make_workspace(tmp_path)
    staging = tmp_path / "staging"
    staging.mkdir()
    made = factory(staging)
    path = root / "inbox" / made.name
    os.replace(made, path)
    subs = _process(root)
    codes = code if isinstance(code, tuple) else (code,)
    assert [x["status"] for x in subs] == ["quarantined"] and subs[0]["reason_code"] in codes
    dest = root / subs[0]["dest_path"]
    reason = root / subs[0]["extra_path"]
    assert dest.parent == root / "outbox" / "quarantine" and dest.exists()
    text = reason.read_text(encoding="utf-8-sig")
    assert subs[0]["sha256"] in text and path.name in text
    assert not path.exists()


def test_file_over_size_limit_is_quarantined(tmp_path):
    root = make_workspace(tmp_path, max_file_mb=0.01)
    (root / "inbox" / "大文件.xlsx").write_bytes(os.urandom(50_000))
    subs = _process(root)
    assert [(x["status"], x["reason_code"]) for x in subs] == [("quarantined", "file-too-large")]


def test_docx_renamed_xlsx_is_identified_by_content(tmp_path):
    root = make_workspace(tmp_path)
    today = date.today()
    path = fill_docx(build_blank("trip_request", tmp_path), samples.trip_request(today))
    os.replace(path, root / "inbox" / "出差申请.xlsx")
    subs = _process(root)
    assert [(x["status"], x["form_id"]) for x in subs] == [("archived", "trip_request")]


def test_unknown_office_file_is_returned_unrecognised(tmp_path):
    root = make_workspace(tmp_path)
    bad_files.valid_xlsx(root / "inbox", "随便一个表.xlsx")
    subs = _process(root)
    assert subs[0]["status"] == "returned" and subs[0]["reason_code"] == "form-unknown"
    assert (root / subs[0]["dest_path"]).parent == root / "outbox" / "returned" / "未识别"
    assert "客户登记表" in (root / subs[0]["extra_path"]).read_text(encoding="utf-8-sig")


def test_duplicate_creates_no_new_case(tmp_path):
    root = make_workspace(tmp_path)
    form = _customer_form(tmp_path, 2)
    data = form.read_bytes()
    (root / "inbox" / "第一次.xlsx").write_bytes(data)
    _process(root)
    (root / "inbox" / "又交了一次.xlsx").write_bytes(data)
    subs = _process(root)
    assert [x["status"] for x in subs] == ["archived", "archived"]
    assert subs[1]["reason_code"] == "duplicate" and subs[1]["duplicate_of"] == subs[0]["id"]
    rt = open_runtime(root)
    with rt.store.read() as conn:
        assert conn.execute(select(func.count()).select_from(s.cases)).scalar() == 1
    rt.close()


def test_file_copied_slowly_is_read_once_when_complete(tmp_path):
    root = make_workspace(tmp_path, quiet_seconds=0.6)
    data = _customer_form(tmp_path, 3).read_bytes()
    target = root / "inbox" / "慢慢复制.xlsx"
    with running_watcher(root) as (rt, _):
        with open(target, "wb") as fh:
            for i in range(0, len(data), max(1, len(data) // 8)):
                fh.write(data[i:i + max(1, len(data) // 8)])
                fh.flush()
                os.fsync(fh.fileno())
                time.sleep(0.25)
        subs = wait_for(lambda: [x for x in _submissions(rt) if x["status"] in ("archived", "returned", "quarantined")],
                        message="the slow file to be taken in")
    assert len(subs) == 1 and subs[0]["status"] == "archived" and subs[0]["size"] == len(data)


def test_two_hundred_files_at_once_are_all_accounted_for(tmp_path):
    root = make_workspace(tmp_path)
    inbox = root / "inbox"
    valid = _customer_form(tmp_path, 9).read_bytes()
    for i in range(200):
        if i % 20 == 0:
            (inbox / f"表单{i:03d}.xlsx").write_bytes(valid)  # same content: duplicates after the first
        else:
            (inbox / f"杂项{i:03d}.xlsx").write_bytes(f"不是表单 {i}".encode())
    with running_watcher(root) as (rt, _):
        wait_for(lambda: not files_under(inbox), timeout=60, message="the inbox to empty")
        wait_for(lambda: all(x["status"] in ("archived", "returned", "quarantined") for x in _submissions(rt)), timeout=30)
        subs = _submissions(rt)
    assert len(subs) == 200
    assert len({x["original_path"] for x in subs}) == 200
    for x in subs:
        assert (root / x["dest_path"]).exists(), x


def _send_and_wait(proc, sig):
    proc.send_signal(sig)
    return proc.wait(timeout=30)


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_watch_stops_cleanly_and_picks_up_files_dropped_while_down(tmp_path, signame):
    import signal
    import subprocess
    import sys

    root = make_workspace(tmp_path)
    inbox = root / "inbox"
    cmd = [sys.executable, "-m", "automation", "watch", "--workspace", str(root)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: (root / ".officeflow" / "state.db").exists(), message="the watcher to start")
        for i in range(5):
            (inbox / f"杂项{i}.xlsx").write_bytes(f"垃圾{i}".encode())
        time.sleep(0.5)
        assert _send_and_wait(proc, getattr(signal, signame)) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not any(p.name.startswith(".officeflow-tmp-") for p in files_under(root / "outbox"))
    for i in range(5, 8):
        (inbox / f"杂项{i}.xlsx").write_bytes(f"垃圾{i}".encode())
    subs = _process(root)
    assert len(subs) == 8 and all(x["status"] == "quarantined" for x in subs)
    assert not files_under(inbox)


def test_sigkill_at_random_moments_loses_and_doubles_nothing(tmp_path):
    import signal
    import subprocess
    import sys

    root = make_workspace(tmp_path)
    inbox = root / "inbox"
    staging = tmp_path / "staging"
    staging.mkdir()
    originals = {}
    for i in range(100):
        if i % 10 == 0:
            path = _customer_form(staging, 100 + i)
            data = path.read_bytes()
        else:
            data = f"第 {i} 个文件,不是表单".encode()
        originals[f"文件{i:03d}.xlsx"] = data
    for name, data in originals.items():
        (inbox / name).write_bytes(data)
    rng = random.Random(20261123)
    cmd = [sys.executable, "-m", "automation", "watch", "--workspace", str(root)]
    for _ in range(6):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.8, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    subs = _process(root)
    assert not files_under(inbox)
    assert len(subs) == 100, "one submission record per file"
    assert sorted(x["original_path"] for x in subs) == sorted(originals)
    assert all(x["status"] in ("archived", "returned", "quarantined") for x in subs)
    destinations = [root / x["dest_path"] for x in subs]
    assert len(set(destinations)) == 100 and all(p.exists() for p in destinations)
    for x in subs:
        assert (root / x["dest_path"]).read_bytes() == originals[x["original_path"]]
    stray = [p for p in files_under(root / "outbox") if p.name.startswith(".officeflow-tmp-")]
    assert not stray
    rt = open_runtime(root)
    with rt.store.read() as conn:
        cases = conn.execute(select(func.count()).select_from(s.cases)).scalar()
    rt.close()
    assert cases == 10


def test_polling_mode_for_network_shares_takes_files_in(tmp_path):
    root = make_workspace(tmp_path)
    with running_watcher(root, poll_seconds=0.3) as (rt, watcher):
        wait_for(lambda: watcher._observer is not None, message="the observer to start")
        assert type(watcher._observer).__name__ == "PollingObserver"
        (root / "inbox" / "共享盘上的文件.xlsx").write_bytes(b"not a form")
        wait_for(lambda: [x for x in _submissions(rt) if x["status"] == "quarantined"], message="the polled file")


def test_dead_observer_is_restarted_and_files_still_arrive(tmp_path):
    root = make_workspace(tmp_path)
    with running_watcher(root) as (rt, watcher):
        wait_for(lambda: watcher._observer is not None and watcher._observer.is_alive(), message="observer start")
        watcher._observer.stop()  # as when watchdog's thread dies on an error
        wait_for(lambda: watcher.stats.restarts >= 1, message="the observer to be restarted")
        (root / "inbox" / "重启之后.xlsx").write_bytes(b"not a form")
        wait_for(lambda: [x for x in _submissions(rt) if x["status"] == "quarantined"], message="the file after restart")


def test_submission_records_when_the_file_was_first_seen_and_when_stable(tmp_path):
    """Polling (a network share) cannot know a writer is done: the file waits its quiet period."""
    root = make_workspace(tmp_path, quiet_seconds=0.5)
    with running_watcher(root, poll_seconds=0.2) as (rt, _):
        (root / "inbox" / "计时.xlsx").write_bytes(b"not a form")
        sub = wait_for(lambda: [x for x in _submissions(rt) if x["status"] == "quarantined"], message="the file")[0]
    assert (sub["stable_at"] - sub["seen_at"]).total_seconds() >= 0.4


def test_file_closed_by_its_writer_is_taken_in_without_the_quiet_period(tmp_path):
    """Native events on a local disk say when the writer closed the file: no wait, both times kept."""
    root = make_workspace(tmp_path, quiet_seconds=30)
    with running_watcher(root) as (rt, watcher):
        wait_for(lambda: watcher.stats.passes >= 1, message="the watcher's first pass (its observer runs)")
        (root / "inbox" / "计时.xlsx").write_bytes(b"not a form")
        sub = wait_for(lambda: [x for x in _submissions(rt) if x["status"] == "quarantined"], timeout=25,
                       message="the file")[0]
    assert sub["seen_at"] <= sub["stable_at"]
    assert (sub["stable_at"] - sub["seen_at"]).total_seconds() < 10


def test_a_file_that_keeps_crashing_the_run_is_quarantined_not_retried_forever(tmp_path):
    from automation.fsutil import sha256_file
    from automation.intake.receive import MAX_ATTEMPTS

    root = make_workspace(tmp_path)
    path = root / "inbox" / "毒文件.xlsx"
    path.write_bytes(b"not a form")
    sha, size = sha256_file(path)
    rt = open_runtime(root)
    now = rt.clock.now()
    with rt.store.begin() as conn:  # as left by runs that died while reading it
        conn.execute(s.submissions.insert().values(original_path=path.name, name=path.name, size=size, sha256=sha,
                                                   seen_at=now, stable_at=now, status="received",
                                                   attempts=MAX_ATTEMPTS, updated_at=now))
    rt.close()
    subs = _process(root)
    assert [(x["status"], x["reason_code"], x["attempts"]) for x in subs] == [
        ("quarantined", "file-crashes-processing", MAX_ATTEMPTS + 1)]
    assert "连续" in (root / subs[0]["extra_path"]).read_text(encoding="utf-8-sig")


def test_form_with_a_broken_part_inside_is_quarantined_as_damaged(tmp_path):
    import zipfile

    root = make_workspace(tmp_path)
    form = _customer_form(tmp_path, 7)
    broken = root / "inbox" / "坏了的表单.xlsx"
    with zipfile.ZipFile(form) as src, zipfile.ZipFile(broken, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]  # cut off mid-element, as a failed copy would
            dst.writestr(info, data)
    subs = _process(root)
    assert [(x["status"], x["reason_code"]) for x in subs] == [("quarantined", "file-damaged")]
    assert "损坏" in (root / subs[0]["extra_path"]).read_text(encoding="utf-8-sig")

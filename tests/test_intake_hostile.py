"""No file can stop the office: hostile names, non-regular entries, symlinks and files
replaced mid-pass, each dropped into a real workspace and run through the real pipeline."""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from support.forms import build_blank, fill_xlsx
from support.workspace import files_under, make_workspace, wait_for

from automation import samples
from automation.intake import names, private
from automation.intake import receive as intake
from automation.pipeline import process_arrival, process_pending
from automation.record import schema as s
from automation.runtime import open_runtime

FINAL = ("archived", "returned", "quarantined")


def _form(folder: Path, seq: int = 1) -> Path:
    return fill_xlsx(build_blank("customer_registration", folder / f"blank{seq}"),
                     samples.customer_registration(seq, date.today()))


def _subs(rt) -> list[dict]:
    with rt.store.read() as conn:
        return [dict(r) for r in conn.execute(select(s.submissions).order_by(s.submissions.c.id)).mappings()]


def _cli_process(root: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automation", "process", "--workspace", str(root)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=timeout)


def _all_subs(root: Path) -> list[dict]:
    rt = open_runtime(root)
    try:
        return _subs(rt)
    finally:
        rt.close()


def _tasks(root: Path) -> list[Path]:
    return [p for p in files_under(root / "outbox" / "approvals") if p.suffix == ".xlsx"]


def _no_symlink_in_outbox(root: Path) -> None:
    links = [p for p in (root / "outbox").rglob("*") if p.is_symlink()]
    assert not links, links


def test_file_name_not_valid_utf8_is_taken_in_and_shown_readably(tmp_path):
    root = make_workspace(tmp_path)
    raw = "客户登记.xlsx".encode("gbk")  # as written by an old GBK client
    os.replace(_form(tmp_path), os.path.join(os.fsencode(root / "inbox"), raw))
    done = _cli_process(root)
    assert done.returncode == 0, done.stderr
    assert "客户登记.xlsx" in done.stdout
    [sub] = _all_subs(root)
    assert sub["status"] == "archived" and sub["form_id"] == "customer_registration"
    assert sub["name"] == "客户登记.xlsx"
    assert os.fsencode(names.from_stored(sub["original_path"])) == raw, "the OS name is kept losslessly"
    assert (root / sub["dest_path"]).name == "客户登记.xlsx"
    assert len(_tasks(root)) == 1 and not os.listdir(root / "inbox")


def test_undecodable_name_neither_gbk_nor_utf8_gets_a_replacement_rendering(tmp_path):
    root = make_workspace(tmp_path)
    raw = b"\xff\xfe\x80bad.xlsx"
    (Path(os.fsdecode(os.path.join(os.fsencode(root / "inbox"), raw)))).write_bytes(b"not a form at all")
    done = _cli_process(root)
    assert done.returncode == 0, done.stderr
    [sub] = _all_subs(root)
    assert sub["status"] == "quarantined" and sub["reason_code"] == "file-not-office"
    assert "\ufffd" in sub["name"] and sub["name"].endswith("bad.xlsx")
    assert os.fsencode(names.from_stored(sub["original_path"])) == raw
    assert (root / sub["extra_path"]).exists()


def test_fifo_in_inbox_does_not_stall(tmp_path):
    root = make_workspace(tmp_path)
    os.mkfifo(root / "inbox" / "x.xlsx")
    os.replace(_form(tmp_path), root / "inbox" / "客户登记.xlsx")
    done = _cli_process(root, timeout=60)  # before the fix this never returned
    assert done.returncode == 0, done.stderr
    subs = {x["name"]: x for x in _all_subs(root)}
    assert subs["客户登记.xlsx"]["status"] == "archived"
    assert (subs["x.xlsx"]["status"], subs["x.xlsx"]["reason_code"]) == ("quarantined", "entry-fifo")
    reason = (root / subs["x.xlsx"]["dest_path"]).read_text(encoding="utf-8-sig")
    assert "命名管道" in reason and "x.xlsx" in reason
    assert not os.listdir(root / "inbox")


def test_socket_in_inbox_is_refused_without_being_opened(tmp_path):
    root = make_workspace(tmp_path)
    sock = socket.socket(socket.AF_UNIX)
    path = root / "inbox" / "s.xlsx"
    try:
        sock.bind(str(path))
        done = _cli_process(root, timeout=60)
    finally:
        sock.close()
    assert done.returncode == 0, done.stderr
    [sub] = _all_subs(root)
    assert (sub["status"], sub["reason_code"]) == ("quarantined", "entry-socket")
    assert "套接字" in (root / sub["dest_path"]).read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("name", ["表.xlsx.", "表.xlsx ", "表.xlsx. .", "表"])
def test_valid_form_with_trailing_dot_or_space_in_its_name_is_routed(tmp_path, name):
    root = make_workspace(tmp_path)
    os.replace(_form(tmp_path), root / "inbox" / name)
    done = _cli_process(root)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    [sub] = _all_subs(root)
    assert (sub["status"], sub["reason_code"]) == ("archived", "accepted")
    assert (root / sub["dest_path"]).name == "表.xlsx"
    assert len(_tasks(root)) == 1


def test_symlink_to_a_form_outside_the_workspace_is_refused_and_its_target_untouched(tmp_path):
    root = make_workspace(tmp_path)
    outside = _form(tmp_path)
    before = outside.read_bytes()
    os.symlink(outside, root / "inbox" / "链接.xlsx")
    done = _cli_process(root)
    assert done.returncode == 0, done.stderr
    [sub] = _all_subs(root)
    assert (sub["status"], sub["reason_code"]) == ("quarantined", "entry-symlink")
    assert outside.read_bytes() == before, "the target is neither moved nor changed"
    assert not _tasks(root), "nothing outside the workspace was read and routed"
    reason = (root / sub["dest_path"]).read_text(encoding="utf-8-sig")
    assert "快捷方式" in reason and "没有改动它指向的文件" in reason
    assert not os.listdir(root / "inbox")
    _no_symlink_in_outbox(root)
    assert not any(before == p.read_bytes() for p in files_under(root / "outbox")), "no copy of the target either"


def test_symlinked_folder_in_inbox_is_not_followed(tmp_path):
    root = make_workspace(tmp_path)
    outside = tmp_path / "别处"
    outside.mkdir()
    os.replace(_form(tmp_path), outside / "客户登记.xlsx")
    os.symlink(outside, root / "inbox" / "部门")
    done = _cli_process(root)
    assert done.returncode == 0, done.stderr
    [sub] = _all_subs(root)
    assert (sub["status"], sub["reason_code"]) == ("quarantined", "entry-symlink")
    assert (outside / "客户登记.xlsx").exists() and not _tasks(root)
    _no_symlink_in_outbox(root)


def test_dangling_symlink_is_refused(tmp_path):
    root = make_workspace(tmp_path)
    os.symlink(tmp_path / "不存在.xlsx", root / "inbox" / "断链.xlsx")
    done = _cli_process(root)
    assert done.returncode == 0, done.stderr
    [sub] = _all_subs(root)
    assert (sub["status"], sub["reason_code"]) == ("quarantined", "entry-symlink")
    assert not os.path.lexists(root / "inbox" / "断链.xlsx")


def test_file_replaced_between_read_and_move_is_archived_as_validated_and_retaken(tmp_path):
    root = make_workspace(tmp_path)
    path = root / "inbox" / "客户登记.xlsx"
    os.replace(_form(tmp_path, 1), path)
    validated = path.read_bytes()
    replacement = _form(tmp_path, 2).read_bytes()
    rt = open_runtime(root)
    try:
        taken = private.take_copy(path, rt.settings.state, rt.settings.limits.max_file_bytes)
        path.write_bytes(replacement)  # someone saves over it while the pass is busy with the copy
        assert process_arrival(rt, intake._take(rt, path, taken, rt.clock.now())) == "archived"
        [first] = _subs(rt)
        archived = (root / first["dest_path"]).read_bytes()
        assert archived == validated and hashlib.sha256(archived).hexdigest() == first["sha256"]
        assert path.read_bytes() == replacement, "the replacement stays in the inbox as a new arrival"
        process_pending(rt)
        first, second = _subs(rt)
    finally:
        rt.close()
    assert second["status"] == "archived" and second["sha256"] == hashlib.sha256(replacement).hexdigest()
    assert (root / second["dest_path"]).read_bytes() == replacement
    assert not path.exists()


def test_private_copies_do_not_pile_up(tmp_path):
    root = make_workspace(tmp_path)
    os.replace(_form(tmp_path), root / "inbox" / "客户登记.xlsx")
    (root / "inbox" / "乱码.xlsx").write_bytes(b"junk")
    _cli_process(root)
    leftovers = [p for p in (root / ".officeflow" / "intake").rglob("*") if p.is_file()]
    assert not leftovers


def test_unreadable_file_is_quarantined_after_bounded_attempts(tmp_path):
    """Permissions only bind an unprivileged worker, so as root (CI) the worker is a forked child
    that drops to ``nobody`` after opening nothing of the workspace: the denial is the kernel's."""
    if os.geteuid() == 0:
        base = Path(tempfile.mkdtemp(prefix="officeflow-unprivileged-", dir="/tmp"))
        base.chmod(0o755)
        try:
            _assert_unreadable_is_quarantined(make_workspace(base), drop_to=pwd.getpwnam("nobody"))
        finally:
            shutil.rmtree(base, ignore_errors=True)
    else:
        _assert_unreadable_is_quarantined(make_workspace(tmp_path), drop_to=None)


def _assert_unreadable_is_quarantined(root: Path, drop_to) -> None:
    toml = root / "officeflow.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("[limits]\n", "[limits]\nunreadable_after_seconds = 0\n"),
                    encoding="utf-8")
    rt = open_runtime(root)
    process_pending(rt)  # creates the store and loads every module while still allowed to
    rt.close()
    path = root / "inbox" / "锁住的.xlsx"
    path.write_bytes(b"secret")
    path.chmod(0)
    if drop_to is None:
        _unreadable_passes(root)
    else:
        _run_as(drop_to, root, _unreadable_passes)
    rt = open_runtime(root)
    try:
        [sub] = _subs(rt)
    finally:
        rt.close()
    assert (sub["status"], sub["reason_code"]) == ("quarantined", "file-unreadable")
    assert "没有读取权限" in sub["reason"]


def _unreadable_passes(root: Path) -> None:
    rt = open_runtime(root)
    try:
        for _ in range(4):
            process_pending(rt)
            assert _subs(rt) == [], "bounded attempts: not given up on at the first denial"
        process_pending(rt)
    finally:
        rt.close()


def _run_as(user, root: Path, work) -> None:
    """Run ``work(root)`` in a forked child as ``user``; its failure is re-raised here with its traceback."""
    for p in [root, *root.rglob("*")]:
        if p.name != "锁住的.xlsx":
            os.chown(p, user.pw_uid, user.pw_gid, follow_symlinks=False)
    failure = root / "child-failure.txt"
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            work(root)
            code = 0
        except BaseException:
            failure.write_text(traceback.format_exc(), encoding="utf-8")
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, failure.read_text(encoding="utf-8") if failure.exists() else status


def _hostile_mix(root: Path, staging: Path) -> dict[str, str]:
    """Drop one of each hostile entry into the inbox; returns name → expected reason code."""
    from support import bad_files

    inbox = root / "inbox"
    expected = {}
    os.mkfifo(inbox / "管道.xlsx")
    expected["管道.xlsx"] = "entry-fifo"
    os.symlink(_form(staging, 7), inbox / "链接.xlsx")
    expected["链接.xlsx"] = "entry-symlink"
    (staging / "外面").mkdir()
    os.symlink(staging / "外面", inbox / "链接目录")
    expected["链接目录"] = "entry-symlink"
    os.symlink(staging / "没有这个", inbox / "断链.docx")
    expected["断链.docx"] = "entry-symlink"
    raw = os.path.join(os.fsencode(inbox), "乱码名.xlsx".encode("gbk"))
    with open(raw, "wb") as fh:
        fh.write(b"GBK name, junk content")
    expected["乱码名.xlsx"] = "file-not-office"
    for factory, code in ((bad_files.zero_byte, "file-empty"), (bad_files.random_bytes, "file-not-office"),
                          (bad_files.zip_bomb, ("zip-bomb", "zip-too-large")), (bad_files.entity_bomb_xlsx, "xml-entity")):
        made = factory(staging)
        os.replace(made, inbox / made.name)
        expected[made.name] = code
    (inbox / "尾点.xlsx.").write_bytes(b"junk with a trailing dot")
    expected["尾点.xlsx."] = "file-not-office"
    return expected


def test_hostile_mix_dropped_into_a_running_watch_does_not_stop_a_valid_form(tmp_path):
    import signal
    import time

    root = make_workspace(tmp_path, quiet_seconds=0.2)
    staging = tmp_path / "staging"
    staging.mkdir()
    valid = _form(staging, 1)
    proc = subprocess.Popen([sys.executable, "-m", "automation", "watch", "--workspace", str(root)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: (root / ".officeflow" / "state.db").exists(), timeout=60, message="the watcher to start")
        expected = _hostile_mix(root, staging)
        os.replace(valid, root / "inbox" / "有效的客户登记.xlsx")
        dropped = time.monotonic()
        wait_for(lambda: _tasks(root), timeout=60, message="the valid form to be routed")
        routed_after = time.monotonic() - dropped
        wait_for(lambda: not os.listdir(root / "inbox"), timeout=60, message="the inbox to empty")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert routed_after < 30, f"valid form routed after {routed_after:.1f}s"
    subs = {x["name"]: x for x in _all_subs(root)}
    assert subs["有效的客户登记.xlsx"]["status"] == "archived"
    for name, code in expected.items():
        sub = subs[name]
        codes = code if isinstance(code, tuple) else (code,)
        assert sub["status"] == "quarantined" and sub["reason_code"] in codes, (name, sub["reason_code"])
        reason_file = root / (sub["extra_path"] or sub["dest_path"])
        text = reason_file.read_text(encoding="utf-8-sig")
        assert name in text and "问题:" in text, name
    assert len(subs) == len(expected) + 1
    _no_symlink_in_outbox(root)
    assert (staging / "blank7" / "客户登记表.xlsx").exists(), "a link's target is never moved"


def test_file_over_its_time_budget_is_quarantined_and_the_next_is_taken(tmp_path):
    root = make_workspace(tmp_path)
    toml = root / "officeflow.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("[limits]\n", "[limits]\nmax_seconds_per_file = 0.001\n"),
                    encoding="utf-8")
    os.replace(_form(tmp_path, 1), root / "inbox" / "慢.xlsx")
    done = _cli_process(root)
    assert done.returncode == 0, done.stderr
    [sub] = _all_subs(root)
    assert (sub["status"], sub["reason_code"]) == ("quarantined", "file-too-slow")
    assert "时间上限" in sub["reason"]
    toml.write_text(toml.read_text(encoding="utf-8").replace("max_seconds_per_file = 0.001", "max_seconds_per_file = 120"),
                    encoding="utf-8")
    os.replace(_form(tmp_path, 2), root / "inbox" / "正常.xlsx")
    assert _cli_process(root).returncode == 0
    assert [x["status"] for x in _all_subs(root)] == ["quarantined", "archived"]


def _limits(root: Path, **values) -> None:
    toml = root / "officeflow.toml"
    lines = "".join(f"{key} = {value}\n" for key, value in values.items())
    toml.write_text(toml.read_text(encoding="utf-8").replace("[limits]\n", "[limits]\n" + lines), encoding="utf-8")


def _big_form(folder: Path, rows: int) -> Path:
    """A valid 客户登记表 carrying an extra sheet of ``rows`` rows (≈ 1.7 MB inflated for 8000)."""
    import openpyxl

    path = _form(folder, 9)
    wb = openpyxl.load_workbook(path)
    sheet = wb.create_sheet("附注")
    for r in range(1, rows + 1):
        sheet.append([f"第{r}行附注内容{r * 7919}", r, f"x{r}"])
    wb.save(path)
    return path


def test_file_over_its_memory_budget_is_quarantined_and_the_next_is_taken(tmp_path):
    """A package bigger than [limits] isolate_above_mb is read in a child process under RLIMIT_AS;
    here the budget (2 MB over the child's start) is far below what reading 1.7 MB of XML takes."""
    root = make_workspace(tmp_path)
    _limits(root, max_memory_mb=2, isolate_above_mb=1)
    os.replace(_big_form(tmp_path, 8000), root / "inbox" / "大.xlsx")
    os.replace(_form(tmp_path, 2), root / "inbox" / "正常.xlsx")  # small: read in-process, budget irrelevant
    done = _cli_process(root)
    assert done.returncode == 0, done.stderr
    by_name = {sub["name"]: sub for sub in _all_subs(root)}
    assert (by_name["大.xlsx"]["status"], by_name["大.xlsx"]["reason_code"]) == ("quarantined", "file-too-much-memory")
    assert "内存超过了 2 MB 的上限" in by_name["大.xlsx"]["reason"]
    assert by_name["正常.xlsx"]["status"] == "archived"
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
    assert sorted(p.name for p in files_under(root / "inbox")) == []


def test_time_budget_holds_when_processing_runs_in_another_thread(tmp_path):
    """SIGALRM is the main thread's; elsewhere every file is read in a child that is stopped on time."""
    import threading

    root = make_workspace(tmp_path)
    _limits(root, max_seconds_per_file=0.001)
    os.replace(_form(tmp_path, 1), root / "inbox" / "慢.xlsx")
    rt = open_runtime(root)
    errors: list[BaseException] = []

    def run():
        try:
            process_pending(rt)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    try:
        worker = threading.Thread(target=run)
        worker.start()
        worker.join(120)
        assert not worker.is_alive() and not errors, errors
        [sub] = _subs(rt)
    finally:
        rt.close()
    assert (sub["status"], sub["reason_code"]) == ("quarantined", "file-too-slow")
    # with a sane budget the same thread reads a form through the child and routes it
    toml = root / "officeflow.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("max_seconds_per_file = 0.001", "max_seconds_per_file = 120"),
                    encoding="utf-8")
    os.replace(_form(tmp_path, 2), root / "inbox" / "正常.xlsx")
    rt = open_runtime(root)
    try:
        worker = threading.Thread(target=run)
        worker.start()
        worker.join(120)
        assert not errors, errors
        assert [x["status"] for x in _subs(rt)] == ["quarantined", "archived"]
    finally:
        rt.close()


def test_file_rewritten_after_its_stability_check_waits_and_ends_in_one_place(tmp_path):
    """The quiet period passed on one save; a second save began before the copy was taken. The half-
    written bytes are not judged (they would be quarantined as damaged): the file waits its own quiet
    period and the finished save is taken in once, archived with its own hash."""
    from automation.intake.stability import StabilityTracker
    from automation.pipeline import process_file

    root = make_workspace(tmp_path)
    path = root / "inbox" / "客户登记.xlsx"
    os.replace(_form(tmp_path, 1), path)
    final = _form(tmp_path, 2).read_bytes()
    clock = [0.0]
    tracker = StabilityTracker(2.0, monotonic=lambda: clock[0])
    rt = open_runtime(root)
    try:
        assert not tracker.check(path)
        clock[0] = 5.0
        assert tracker.check(path)  # stable: the first save
        path.write_bytes(final[: len(final) // 3])  # the second save, a third of the way through
        assert process_file(rt, path, first_seen=tracker.first_seen(path), stable=tracker.snapshot(path)) is None
        assert _subs(rt) == [] and path.exists()
        path.write_bytes(final)  # the save completes
        process_pending(rt)
        [sub] = _subs(rt)
    finally:
        rt.close()
    assert sub["status"] == "archived" and sub["sha256"] == hashlib.sha256(final).hexdigest()
    assert (root / sub["dest_path"]).read_bytes() == final and not path.exists()
    assert not [p for p in (root / ".officeflow" / "intake").rglob("*") if p.is_file()]


def test_file_read_in_the_child_keeps_its_own_verdict_whatever_its_name(tmp_path):
    """Every file through the budget child (isolate_above_mb = 0): an unknown workbook named
    memory.xlsx is 未识别 (returned), not taken for a file over its memory budget, and a form is routed."""
    from openpyxl import Workbook

    root = make_workspace(tmp_path)
    _limits(root, isolate_above_mb=0)
    wb = Workbook()
    wb.active["A1"] = "年度预算"
    wb.save(root / "inbox" / "memory.xlsx")
    os.replace(_form(tmp_path, 1), root / "inbox" / "客户登记.xlsx")
    assert _cli_process(root).returncode == 0
    by_name = {sub["name"]: sub for sub in _all_subs(root)}
    assert (by_name["memory.xlsx"]["status"], by_name["memory.xlsx"]["reason_code"]) == ("returned", "form-unknown")
    assert by_name["客户登记.xlsx"]["status"] == "archived"



def test_reading_child_is_never_a_plain_fork_of_a_process_with_threads(tmp_path):
    """A child forked from a process with threads (the watcher always has watchdog's) inherits every
    lock another thread held at that instant and can wait on it for ever: the watcher stalled so in
    CI. The reading child comes from a fork server (one thread, started by exec) and still reads a
    form off the main thread."""
    import threading

    from automation.intake import budget

    root = make_workspace(tmp_path)
    _limits(root, isolate_above_mb=0)
    form = _form(tmp_path, 1)
    rt = open_runtime(root)
    answer: list = []
    try:
        reader = threading.Thread(target=lambda: answer.append(
            budget.read_identified(form, "xlsx", rt.specs, rt.settings.limits)))
        reader.start()
        reader.join(120)
    finally:
        rt.close()
    assert budget._context().get_start_method() == "forkserver"
    [(spec, _version, _how, read)] = answer
    assert spec.id == "customer_registration" and read.values


def _outside_form(tmp_path: Path) -> tuple[Path, bytes]:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "外面的表.xlsx"
    os.replace(_form(tmp_path, 7), target)
    return target, target.read_bytes()


def test_inbox_replaced_by_a_symlink_before_start_is_not_read(tmp_path):
    from automation.doctor import diagnose
    from automation.settings import load_settings

    root = make_workspace(tmp_path)
    target, before = _outside_form(tmp_path)
    shutil.rmtree(root / "inbox")
    os.symlink(target.parent, root / "inbox")
    done = _cli_process(root)
    assert done.returncode == 0, done.stderr
    assert "快捷方式" in done.stderr and "[folders] inbox" in done.stderr
    assert target.read_bytes() == before, "the file outside the workspace is neither read into the archive nor moved"
    assert not _all_subs(root) and not files_under(root / "outbox" / "archive")
    errors = [f for f in diagnose(load_settings(root), clock_probe=False).findings if f.level == "错误"]
    assert any("快捷方式" in f.message for f in errors), "doctor says so too"


def test_inbox_swapped_for_a_symlink_while_running_is_not_followed_and_resumes_when_restored(tmp_path, caplog):
    root = make_workspace(tmp_path)
    target, before = _outside_form(tmp_path)
    rt = open_runtime(root)
    try:
        process_pending(rt)
        os.rename(root / "inbox", root / "inbox.real")
        os.symlink(target.parent, root / "inbox")
        process_pending(rt)
        assert "快捷方式" in caplog.text
        assert target.read_bytes() == before and not _subs(rt)
        (root / "inbox").unlink()
        os.rename(root / "inbox.real", root / "inbox")
        os.replace(_form(tmp_path, 8), root / "inbox" / "本来的.xlsx")
        process_pending(rt)
        [sub] = _subs(rt)
    finally:
        rt.close()
    assert sub["status"] == "archived" and sub["name"] == "本来的.xlsx"
    assert target.read_bytes() == before


def test_folder_nested_past_the_path_length_limit_does_not_stop_the_office(tmp_path):
    root = make_workspace(tmp_path)
    fd = os.open(root / "inbox", os.O_RDONLY)
    try:  # built through directory descriptors: no path to it is short enough to name
        for level in range(18):
            name = f"层{level:02d}" + "长" * 80
            os.mkdir(name, dir_fd=fd)
            inner = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        with open(os.open("深处的表.xlsx", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "wb") as out:
            out.write(_form(tmp_path, 3).read_bytes())
    finally:
        os.close(fd)
    os.replace(_form(tmp_path, 4), root / "inbox" / "浅处的表.xlsx")
    done = _cli_process(root)
    assert done.returncode == 0, done.stderr
    assert "嵌套太深" in done.stderr and "程序内部错误" not in done.stderr
    [sub] = _all_subs(root)
    assert (sub["name"], sub["status"]) == ("浅处的表.xlsx", "archived")


def test_names_of_255_bytes_are_filed_under_names_the_file_system_accepts(tmp_path):
    root = make_workspace(tmp_path)
    form_name, junk_name = "表" * 83 + "x.xlsx", "废" * 83 + "y.xlsx"  # 3 × 83 + 6 = 255 bytes, the limit
    assert len(form_name.encode()) == len(junk_name.encode()) == 255
    os.replace(_form(tmp_path, 5), root / "inbox" / form_name)
    (root / "inbox" / junk_name).write_bytes(b"not an office file")
    rt = open_runtime(root)
    try:
        process_pending(rt)
        rows = {r["name"]: r for r in _subs(rt)}
    finally:
        rt.close()
    assert (rows[form_name]["status"], rows[junk_name]["status"]) == ("archived", "quarantined")
    filed = files_under(root / "outbox" / "archive") + files_under(root / "outbox" / "quarantine")
    assert len(filed) == 3 and all(len(p.name.encode()) <= 255 for p in filed)  # the reason file's name too
    assert [p for p in filed if p.name.endswith(".原因.txt")], "the quarantined file has its reason beside it"
    assert not os.listdir(root / "inbox")


def test_file_name_that_looks_like_console_markup_is_shown_as_it_is(tmp_path):
    root = make_workspace(tmp_path)
    name = "[bold][red]加粗[2024]报销.xlsx"
    os.replace(_form(tmp_path, 6), root / "inbox" / name)
    done = _cli_process(root)
    assert done.returncode == 0, done.stderr
    assert name in done.stdout, done.stdout


def test_file_that_never_stops_growing_does_not_hold_up_a_process_pass(tmp_path):
    """A log someone writes into the inbox: ``process`` takes the others in, does the rest of its
    pass (registers) and returns, leaving that file for the next pass instead of waiting for ever."""
    root = make_workspace(tmp_path)
    os.replace(_form(tmp_path, 9), root / "inbox" / "正常的表.xlsx")
    growing = root / "inbox" / "一直在写.xlsx"
    stop = threading.Event()

    def write() -> None:
        with growing.open("ab") as out:
            while not stop.is_set():
                out.write(b"x" * 64)
                out.flush()
                stop.wait(0.05)  # the writer's own pace: this is the scenario, not a synchronisation

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    rt = open_runtime(root)
    try:
        wait_for(growing.exists, message="the growing file")
        started = time.monotonic()
        summary = process_pending(rt)
        took = time.monotonic() - started
        rows = _subs(rt)
    finally:
        stop.set()
        writer.join(timeout=10)
        rt.close()
    assert summary.waiting == 1, "the growing file is still waiting"
    assert [(r["name"], r["status"]) for r in rows] == [("正常的表.xlsx", "archived")]
    assert "审批台账" in summary.registers, "the rest of the pass ran"
    assert took < 60
    assert growing.exists()


def test_outbox_folder_swapped_for_a_symlink_is_never_written_through(tmp_path):
    """Whoever can write to the share replaces outbox/quarantine with a link to a system folder,
    then drops a file whose bytes they choose: nothing may be written there, and once the link
    is gone the file is filed where it belongs."""
    root = make_workspace(tmp_path)
    assert _cli_process(root).returncode == 0  # the folders exist
    elsewhere = tmp_path / "system-folder"
    elsewhere.mkdir()
    shutil.rmtree(root / "outbox" / "quarantine")
    os.symlink(elsewhere, root / "outbox" / "quarantine")
    (root / "inbox" / "evil").write_bytes(b"* * * * * root echo chosen by the sender\n")
    done = _cli_process(root)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "快捷方式" in done.stderr and "outbox/quarantine" in done.stderr and "自动继续" in done.stderr
    assert not os.listdir(elsewhere), "nothing was written through the link"
    (root / "outbox" / "quarantine").unlink()
    (root / "outbox" / "quarantine").mkdir()
    again = _cli_process(root)
    assert again.returncode == 0, again.stderr
    [sub] = _all_subs(root)
    assert sub["status"] == "quarantined" and (root / sub["dest_path"]).exists()
    assert not os.listdir(elsewhere) and not os.listdir(root / "inbox")
    _no_symlink_in_outbox(root)

"""A file that changes *while* intake copies it: the copy is torn (the first bytes of one save,
the rest of the next), so nothing of it may be filed. inbox/ is a small FUSE file system
(``mfusepy`` over a backing folder, as a file server would serve it) that rewrites the file
in place at the moment intake asks for its second block: the change happens inside the
copy, deterministically, with no sleeps. Intake must notice (``ChangedWhileReading``), file
nothing under the torn bytes' hash, and take the new save in as a new arrival.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from support.forms import build_blank, fill_xlsx
from support.workspace import make_workspace, wait_for

from automation import samples
from automation.doctor import filesystem_type
from automation.pipeline import process_pending
from automation.record import schema as s
from automation.runtime import open_runtime

try:  # a test dependency; it needs libfuse (installed with bindfs, see .ci/run)
    import mfusepy  # noqa: F401
    _NO_FUSE = None
except (ImportError, OSError) as exc:  # mfusepy raises OSError when libfuse is missing
    _NO_FUSE = f"mfusepy or libfuse is missing: {exc}"
if _NO_FUSE is None and (not os.path.exists("/dev/fuse") or shutil.which("fusermount") is None):
    _NO_FUSE = "FUSE is not available on this machine"
# Under CI (which installs bindfs and with it libfuse) a missing FUSE is a failure, never a skip.
pytestmark = pytest.mark.skipif(_NO_FUSE is not None and not os.environ.get("CI"), reason=_NO_FUSE or "")

BLOCK = 4096  # the largest read the kernel sends to the file system (max_read): a form spans several

# The file server. For every file NAME with a pending replacement in CONTROL/NAME, the first
# read past the first block rewrites the backing file in place with the replacement (same
# inode, new size and time) and leaves CONTROL/NAME.fired as proof; the read is then served
# from the rewritten file. With CONTROL/NAME.rename instead, that read renames the file (to the
# name the control file holds) inside the inbox, as someone tidying the share would. No caching (direct_io, zero timeouts): every read and stat asks us.
SERVER = textwrap.dedent("""
    import errno, os, sys
    import mfusepy as fuse

    class Share(fuse.Operations):
        def __init__(self, root, control):
            self.root, self.control = root, control
            self.handles = {}

        def _p(self, path):
            return os.path.join(self.root, path.lstrip("/"))

        def getattr(self, path, fh=None):
            try:
                st = os.fstat(fh) if fh is not None else os.lstat(self._p(path))
            except FileNotFoundError:  # renamed on the server: an open handle still answers, as on SMB
                if path not in self.handles:
                    raise fuse.FuseOSError(errno.ENOENT)
                st = os.fstat(self.handles[path])
            except OSError as exc:
                raise fuse.FuseOSError(exc.errno)
            return {**{k: getattr(st, k) for k in ("st_mode", "st_nlink", "st_uid", "st_gid", "st_size")},
                    "st_atime": st.st_atime_ns / 1e9, "st_mtime": st.st_mtime_ns / 1e9, "st_ctime": st.st_ctime_ns / 1e9}

        def readdir(self, path, fh):
            return [".", ".."] + os.listdir(self._p(path))

        def open(self, path, flags):
            try:
                fh = os.open(self._p(path), flags & ~(os.O_CREAT | os.O_EXCL | os.O_TRUNC))
            except OSError as exc:
                raise fuse.FuseOSError(exc.errno)
            self.handles[path] = fh
            return fh

        def read(self, path, size, offset, fh):
            pending = os.path.join(self.control, os.path.basename(path))
            if offset > 0 and os.path.exists(pending + ".rename"):  # renamed inside the inbox mid-copy
                with open(pending + ".rename", encoding="utf-8") as src:
                    new = src.read()
                os.rename(self._p(path), os.path.join(os.path.dirname(self._p(path)), new))
                os.replace(pending + ".rename", pending + ".fired")
            elif offset > 0 and os.path.exists(pending):
                with open(pending, "rb") as src:
                    data = src.read()
                with open(self._p(path), "r+b") as dst:  # saved over in place, as Excel's "save" may
                    dst.truncate(0)
                    dst.write(data)
                os.replace(pending, pending + ".fired")
            return os.pread(fh, size, offset)

        def release(self, path, fh):
            if self.handles.get(path) == fh:
                del self.handles[path]
            os.close(fh)
            return 0

        def unlink(self, path):
            try:
                os.unlink(self._p(path))
            except OSError as exc:
                raise fuse.FuseOSError(exc.errno)
            return 0

        def rename(self, old, new):
            os.rename(self._p(old), self._p(new))
            return 0

        def mkdir(self, path, mode):
            os.mkdir(self._p(path), mode)
            return 0

        def statfs(self, path):
            st = os.statvfs(self.root)
            return {k: getattr(st, k) for k in ("f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail",
                                                "f_files", "f_ffree", "f_favail", "f_flag", "f_namemax")}

    root, control, mountpoint, block = sys.argv[1:5]
    fuse.FUSE(Share(root, control), mountpoint, foreground=True, nothreads=True, direct_io=True,
              attr_timeout=0, entry_timeout=0, negative_timeout=0, max_read=int(block))
""")


@contextmanager
def served_inbox(tmp_path: Path, inbox: Path):
    """inbox/ served by the file server above; yields (backing folder, control folder)."""
    backing, control = tmp_path / "server" / "inbox", tmp_path / "server" / "control"
    backing.mkdir(parents=True)
    control.mkdir()
    script = tmp_path / "server" / "share.py"
    script.write_text(SERVER, encoding="utf-8")
    log = open(tmp_path / "server" / "share.log", "wb")
    server = subprocess.Popen([sys.executable, str(script), str(backing), str(control), str(inbox), str(BLOCK)],
                              stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: filesystem_type(inbox) == "fuse" or server.poll() is not None, timeout=30,
                 message="the FUSE mount")
        if server.poll() is not None:
            pytest.fail(f"the FUSE server did not start: {(tmp_path / 'server' / 'share.log').read_text()}")
        yield backing, control
    finally:
        subprocess.run(["fusermount", "-u", str(inbox)], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _form(folder: Path, seq: int) -> bytes:
    return fill_xlsx(build_blank("customer_registration", folder / f"blank{seq}"),
                     samples.customer_registration(seq, date.today())).read_bytes()


def test_file_saved_over_while_intake_copies_it_is_retaken_as_a_new_arrival(tmp_path, caplog):
    root = make_workspace(tmp_path)
    first, second = _form(tmp_path, 1), _form(tmp_path, 2)
    assert len(first) > 2 * BLOCK and first != second
    with served_inbox(tmp_path, root / "inbox") as (backing, control):
        (backing / "客户登记.xlsx").write_bytes(first)
        (control / "客户登记.xlsx").write_bytes(second)  # the next save, landing mid-copy
        rt = open_runtime(root)
        try:
            with caplog.at_level(logging.INFO, logger="officeflow"):
                process_pending(rt)
            with rt.store.read() as conn:
                rows = [dict(r) for r in conn.execute(select(s.submissions).order_by(s.submissions.c.id)).mappings()]
        finally:
            rt.close()
        assert (control / "客户登记.xlsx.fired").exists(), "the file really changed during a read"
        assert "在读取时被修改" in caplog.text, "intake noticed the change while copying"
        assert not list(backing.iterdir()), "the new save was taken in and retired from the inbox"
    # Exactly one submission: the new save, archived as its own bytes; nothing under a torn hash.
    assert [(r["status"], r["sha256"]) for r in rows] == [("archived", hashlib.sha256(second).hexdigest())]
    assert (root / rows[0]["dest_path"]).read_bytes() == second
    assert not [p for p in (root / ".officeflow" / "intake").rglob("*") if p.is_file()], "no private copy left"


def test_file_renamed_inside_the_inbox_while_intake_copies_it_is_taken_in_under_its_new_name(tmp_path, caplog):
    root = make_workspace(tmp_path)
    form = _form(tmp_path, 3)
    with served_inbox(tmp_path, root / "inbox") as (backing, control):
        (backing / "草稿.xlsx").write_bytes(form)
        (control / "草稿.xlsx.rename").write_text("定稿.xlsx", encoding="utf-8")
        rt = open_runtime(root)
        try:
            with caplog.at_level(logging.INFO, logger="officeflow"):
                process_pending(rt)  # one pass: it must not end with the renamed file left behind
            with rt.store.read() as conn:
                rows = [dict(r) for r in conn.execute(select(s.submissions).order_by(s.submissions.c.id)).mappings()]
        finally:
            rt.close()
        assert (control / "草稿.xlsx.fired").exists(), "the file really was renamed during a read"
        assert "在读取时被修改" in caplog.text
        assert not list(backing.iterdir()), "taken in under its new name and retired from the inbox"
    assert [(r["name"], r["status"], r["sha256"]) for r in rows] == [
        ("定稿.xlsx", "archived", hashlib.sha256(form).hexdigest())]
    assert (root / rows[0]["dest_path"]).read_bytes() == form

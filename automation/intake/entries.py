"""Entries in inbox/ that are not files we may read: symlinks, FIFOs, sockets, devices,
and files that cannot be read at all.

None of them is ever opened. A symlink is never followed (its target may be
anything on the machine); a FIFO would block the reader forever. Each is
refused with a reason file in quarantine/ and removed from inbox/ — removing a
link or a pipe touches neither its target nor any data. A file we cannot read
(no permission, locked) is retried for a while and then quarantined as it is.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import time
from datetime import datetime
from pathlib import Path

from automation.fsutil import atomic_write_text
from automation.intake import names
from automation.intake.reasons import problem_and_advice

log = logging.getLogger("officeflow")

REFUSAL_CODES = ("entry-symlink", "entry-fifo", "entry-socket", "entry-device", "entry-special")
_LABELS = {
    "entry-symlink": "快捷方式(符号链接)",
    "entry-fifo": "命名管道(FIFO)",
    "entry-socket": "套接字(socket)",
    "entry-device": "设备文件",
    "entry-special": "特殊文件系统条目",
}
_ADVICE = "请把表单文件本身(而不是快捷方式或其他特殊条目)复制到 inbox/ 中再提交。如不清楚这个条目从何而来,请告知信息部门。"
UNREADABLE_ATTEMPTS = 5
_FAILURES: dict[tuple[str, str], tuple[int, float]] = {}


def kind_of(st: os.stat_result) -> str:
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        return "entry-symlink"
    if stat.S_ISFIFO(mode):
        return "entry-fifo"
    if stat.S_ISSOCK(mode):
        return "entry-socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "entry-device"
    return "entry-special"


def is_refusal(code: str | None) -> bool:
    return code in REFUSAL_CODES


def link_target(path: Path) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def identity(path: Path, st: os.stat_result, code: str) -> str:
    """A stable fingerprint of an entry that has no content of its own (stored as its SHA-256)."""
    target = link_target(path) if code == "entry-symlink" else None
    text = f"{code}|{st.st_dev}|{st.st_ino}|{st.st_mtime_ns}|{target!r}"
    return hashlib.sha256(os.fsencode(text) if not names.is_lossless_text(text) else text.encode()).hexdigest()


def refusal_message(path: Path, code: str) -> str:
    shown = names.readable(path.name)
    label = _LABELS[code]
    if code == "entry-symlink":
        return (f"收件箱中的「{shown}」是一个{label},不是文件本身。为安全起见,系统不会打开它指向的内容,"
                f"也没有改动它指向的文件。{_ADVICE}")
    return f"收件箱中的「{shown}」不是普通文件,而是一个{label}。为安全起见,系统没有打开它。{_ADVICE}"


def refusal_text(row, path: Path, when: datetime) -> str:

    target = link_target(path)
    pointed = f"\n指向:{names.readable(target)}" if target is not None else ""
    problem, advice = problem_and_advice(row.reason, _ADVICE)
    return (
        "OfficeFlow 隔离说明\n"
        "====================\n"
        f"文件名:{row.name}\n"
        f"收到时间:{when:%Y-%m-%d %H:%M:%S}\n"
        f"类型:{_LABELS.get(row.reason_code, _LABELS['entry-special'])}{pointed}\n\n"
        f"问题:{problem}\n\n"
        f"处理建议:{advice}\n\n"
        "该条目已从 inbox/ 中移除;它指向或代表的内容没有被读取、复制、移动或修改。\n"
    )


def complete_refusal(rt, row, src: Path, dest: Path) -> None:
    """Write the reason file (which is the refusal's destination) and take the entry out of inbox/."""
    if not dest.exists():
        atomic_write_text(dest, refusal_text(row, src, row.seen_at))
    try:
        st = os.lstat(src)
    except OSError:
        return
    if stat.S_ISREG(st.st_mode) or identity(src, st, kind_of(st)) != row.sha256:
        return  # something else now has this name: a new arrival, taken in on the next pass
    try:
        os.unlink(src)  # removes the link or pipe itself, never what it points to
    except OSError as exc:
        log.warning("无法从收件箱移除 %s:%s", row.name, exc)


def record_failure(path: Path, inbox: Path) -> tuple[int, float]:
    """Count one failed read; returns (failures so far, seconds since the first)."""
    key = (str(inbox), names.stored(str(path)))
    count, first = _FAILURES.get(key, (0, time.monotonic()))
    _FAILURES[key] = (count + 1, first)
    return count + 1, time.monotonic() - first


def forget_failures(path: Path, inbox: Path) -> None:
    _FAILURES.pop((str(inbox), names.stored(str(path))), None)


def unreadable_message(path: Path, exc: OSError, attempts: int) -> str:
    shown = names.readable(path.name)
    why = {13: "没有读取权限", 1: "没有读取权限", 16: "被其他程序占用", 11: "被其他程序锁定"}.get(exc.errno or 0, "读取时出错")
    return (f"系统连续 {attempts} 次无法读取「{shown}」({why})。为不影响其他文件的处理,已将其原样隔离。"
            "请确认文件已关闭、共享文件夹的权限正确后重新放入 inbox/;如有疑问请联系办公室管理员。")


def unreadable_identity(st: os.stat_result) -> str:
    return hashlib.sha256(f"unreadable|{st.st_dev}|{st.st_ino}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()

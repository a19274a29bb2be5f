"""What is waiting in inbox/: every entry at any depth, minus lock and temp files.

Entries are listed with ``lstat`` and never opened here: a FIFO, socket, device
or symlink is listed too (so it can be refused with a reason) but never
followed — a symlinked folder is not descended into, whatever it points at.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from pathlib import Path

from automation.fsutil import TEMP_PREFIX
from automation.intake.ignore import is_ignored
from automation.intake.names import readable

log = logging.getLogger("officeflow")


_SAID_TOO_DEEP: set[str] = set()


def _walk_error(exc: OSError) -> None:
    """A folder that vanished is nothing; one nested past the path-length limit is said once."""
    if exc.errno == errno.ENAMETOOLONG and exc.filename and exc.filename not in _SAID_TOO_DEEP:
        _SAID_TOO_DEEP.add(exc.filename)
        log.warning("收件箱中的文件夹嵌套太深(路径超过系统允许的长度),其中的文件无法读取,将留在原处:%s。"
                    "请把文件移到层级较浅的文件夹中再提交。", readable(os.fsdecode(exc.filename)[:200]) + "…")


def list_inbox(inbox: Path) -> list[Path]:
    """Entries to consider, oldest first (so a burst is taken in the order it arrived)."""
    found: list[tuple[float, str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(inbox, followlinks=False, onerror=_walk_error):
        linked = [d for d in dirnames if _is_link(Path(dirpath) / d)]
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in linked]
        for name in (*filenames, *linked):
            path = Path(dirpath) / name
            if name.startswith(TEMP_PREFIX) or name == ".gitkeep" or is_ignored(path, inbox=inbox):
                continue
            try:
                st = os.lstat(path)
            except OSError:
                continue
            found.append((st.st_mtime, path.as_posix(), path))
    found.sort(key=lambda item: (item[0], os.fsencode(item[1])))
    return [p for _, _, p in found]


def inbox_problem(inbox: Path, as_written: Path | None = None) -> str | None:
    """Why inbox/ must not be read at all now: it is (or has become) a link to somewhere else.

    ``inbox`` is the folder resolved when the settings were read, ``as_written`` the path in
    officeflow.toml. Following such a link would read, and move, files outside the workspace."""
    written = as_written or inbox
    target = os.path.realpath(written)
    if not (_is_link(written) or _is_link(inbox) or Path(target) != Path(os.path.realpath(inbox))
            or (as_written is not None and Path(target) != inbox)):
        return None
    return (f"收件箱文件夹 {written} 是一个快捷方式(符号链接),指向 {target}。为防止读取或移动工作区以外的文件,"
            "系统暂不处理收件箱。请把它换回普通文件夹;如需使用共享盘上的文件夹,请在 officeflow.toml 的 "
            "[folders] inbox 中直接写出该文件夹的路径,然后重新启动 officeflow watch。")


def _is_link(path: Path) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISLNK(st.st_mode) or _is_junction(path)


def _is_junction(path: Path) -> bool:
    check = getattr(os.path, "isjunction", None)  # Python 3.12+, Windows junctions
    return bool(check and check(path))

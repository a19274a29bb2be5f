"""System faults (not a file's fault): a full disk, a read-only or locked store, a share that
went away. Each gets one Chinese sentence that says what happened and what to do.

None of them loses work: a file not yet taken in stays in inbox/, a half-done
move resumes from its record, and the watcher retries on its own — so every
message ends by saying the work resumes once the fault is gone.
"""

from __future__ import annotations

import errno
import sqlite3

from sqlalchemy.exc import DBAPIError

RESUMES = "故障排除后系统会自动继续处理,文件不会丢失。"

_OS_FAULTS = {
    errno.ENOSPC: "磁盘空间已满,无法写入文件。请清理磁盘或扩容。",
    getattr(errno, "EDQUOT", -1): "磁盘配额已用完,无法写入文件。请清理文件或请信息部门提高配额。",
    errno.EROFS: "文件夹所在的磁盘是只读的,无法写入。请检查共享盘是否以只读方式挂载。",
    errno.EACCES: "没有写入权限。请确认运行 OfficeFlow 的账户对工作区文件夹有读写权限。",
    errno.EPERM: "没有写入权限。请确认运行 OfficeFlow 的账户对工作区文件夹有读写权限。",
    errno.EIO: "读写磁盘时出错(可能是共享盘断开或磁盘故障)。请检查共享盘连接和磁盘状态。",
    getattr(errno, "ESTALE", -1): "共享盘连接已失效(网络盘断开后重连)。请检查网络共享盘的连接。",
    getattr(errno, "ENOTCONN", -1): "共享盘未连接。请检查网络共享盘的连接。",
    getattr(errno, "EHOSTDOWN", -1): "共享盘所在的服务器无法访问。请检查网络和文件服务器。",
    errno.ELOOP: "工作区中的一个文件夹被换成了快捷方式(符号链接),为防止文件被写到工作区以外,系统不会通过它写入。"
                 "请删除该链接,换回普通文件夹。",
}

_STORE_FAULTS = (
    ("readonly", "数据库是只读的,系统无法记录处理结果。请确认 .officeflow/ 文件夹和其中的 state.db 对运行 OfficeFlow 的账户可写。"),
    ("database is locked", "数据库正被其他程序锁定。请关闭正在查看 state.db 的程序(例如数据库查看工具)。"),
    ("database or disk is full", "磁盘空间已满,数据库无法写入。请清理磁盘或扩容。"),
    ("unable to open database file", "无法打开数据库文件:.officeflow/ 文件夹可能是只读的、没有写权限、不存在,或所在共享盘已断开。"
                                     "请确认运行 OfficeFlow 的账户对它可读写。"),
    ("disk i/o error", "读写数据库时发生磁盘错误(可能是共享盘断开或磁盘故障)。请检查磁盘和网络连接。"),
    ("no such table", "数据库文件不完整或已被替换。请从备份恢复 .officeflow/state.db,或联系信息部门。"),
    ("file is not a database", "数据库文件已损坏或不是 OfficeFlow 的数据库。请从备份恢复 .officeflow/state.db。"),
    ("connection refused", "无法连接数据库服务器。请确认 PostgreSQL 服务器已启动、网络畅通。"),
    ("could not connect", "无法连接数据库服务器。请确认 PostgreSQL 服务器已启动、网络畅通。"),
    ("server closed the connection", "与数据库服务器的连接中断。请检查数据库服务器和网络。"),
    ("terminating connection", "数据库服务器中断了连接(可能正在重启或维护)。请检查 PostgreSQL 服务器。"),
    ("not currently accepting connections", "数据库暂时不接受连接(可能正在维护或恢复)。请检查 PostgreSQL 服务器。"),
    ("the database system is", "数据库服务器正在启动、关闭或恢复中,暂时无法使用。请稍候或检查 PostgreSQL 服务器。"),
    ("connection timeout expired", "连接数据库服务器超时。请确认 PostgreSQL 服务器已启动、网络畅通。"),
    ("password authentication failed", "数据库用户名或密码不正确。请检查 [store] url 或环境变量 OFFICEFLOW_STORE_URL。"),
    ("failed to resolve host", "找不到数据库服务器(服务器名称无法解析)。请检查 [store] url 中的服务器名称,以及本机的网络和 DNS 设置。"),
    ("could not translate host name", "找不到数据库服务器(服务器名称无法解析)。请检查 [store] url 中的服务器名称,以及本机的网络和 DNS 设置。"),
    ("no route to host", "无法连接数据库服务器(网络不通)。请检查网络连接和 [store] url 中的服务器地址。"),
    ("network is unreachable", "无法连接数据库服务器(网络不通)。请检查网络连接和 [store] url 中的服务器地址。"),
    ("received invalid response", "连接到的不是 PostgreSQL 数据库服务器。请检查 [store] url 中的服务器地址和端口。"),
    ("connection failed", "无法连接数据库服务器。请确认 PostgreSQL 服务器已启动、网络畅通,并检查 [store] url 中的地址和端口。"),
)


def describe(exc: BaseException) -> str | None:
    """A Chinese sentence for a system fault, or None if ``exc`` is not one."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        text = _describe_one(exc)
        if text:
            return text
        exc = exc.__cause__ or exc.__context__
    return None


def _describe_one(exc: BaseException) -> str | None:
    if isinstance(exc, OSError) and exc.errno in _OS_FAULTS:
        where = f"(位置:{exc.filename})" if getattr(exc, "filename", None) else ""
        return f"{_OS_FAULTS[exc.errno]}{where}{RESUMES}"
    if _is_store_error(exc):
        message = str(getattr(exc, "orig", None) or exc).lower()
        for needle, text in _STORE_FAULTS:
            if needle in message:
                return f"{text}{RESUMES}"
    return None


def _is_store_error(exc: BaseException) -> bool:
    return isinstance(exc, (DBAPIError, sqlite3.Error))


def is_system_fault(exc: BaseException) -> bool:
    """Faults that affect every file alike (so a pass should stop and wait, not go on)."""
    return describe(exc) is not None

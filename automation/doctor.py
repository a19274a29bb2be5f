"""``officeflow doctor``: what can be checked about the installation, checked.

Each check returns a finding (ok / 提示 / 警告 / 错误) with a Chinese sentence
that says what to do. Nothing here changes the workspace except a probe file
written to (and removed from) inbox/ to measure the share's clock.
"""

from __future__ import annotations

import os
import shutil
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, func, select
from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer

from automation.faults import describe
from automation.forms.spec import load_specs
from automation.fsutil import TEMP_PREFIX
from automation.intake.budget import memory_limit_holds
from automation.intake.scanner import inbox_problem
from automation.policy.lint import lint_policy
from automation.record.claims import connected_workers
from automation.record.store import display_url, normalise_url

OK, NOTE, WARN, ERROR = "正常", "提示", "警告", "错误"
NETWORK_FS = {"nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "fuse.sshfs", "9p", "afs", "ceph", "glusterfs",
              "fuse.bindfs", "fuse.glusterfs", "davfs", "fuse.davfs2", "fuse.rclone", "fuse.s3fs"}
MIN_FREE_BYTES = 500 * 1024 * 1024
MAX_SKEW_SECONDS = 2.0


@dataclass(frozen=True)
class Finding:
    check: str
    level: str
    message: str

    def to_dict(self) -> dict:
        return {"check": self.check, "level": self.level, "message": self.message}


@dataclass
class DoctorReport:
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.level == ERROR for f in self.findings)

    def add(self, check: str, level: str, message: str) -> None:
        self.findings.append(Finding(check, level, message))

    def to_dict(self) -> dict:
        return {"ok": self.ok, "findings": [f.to_dict() for f in self.findings]}


def diagnose(settings, specs=None, *, clock_probe: bool = True) -> DoctorReport:
    report = DoctorReport()
    check_folders(settings, report)
    check_store_location(settings, report)
    check_disk(settings, report)
    if clock_probe:
        check_clock_skew(settings, report)
        check_native_events(settings, report)
    check_policy(settings, specs, report)
    check_libreoffice(report)
    check_personal_inboxes(settings, report)
    check_read_budget(settings, report)
    return report


# --- folders and permissions ---------------------------------------------------------

def check_folders(settings, report: DoctorReport) -> None:
    linked = inbox_problem(settings.inbox, getattr(settings, "inbox_as_written", None))
    if linked:
        report.add("文件夹", ERROR, linked)
    for label, folder in (("收件箱 inbox/", settings.inbox), ("输出 outbox/", settings.outbox),
                          ("数据 .officeflow/", settings.state)):
        if not folder.exists():
            report.add("文件夹", WARN, f"{label}不存在({folder}),启动时会自动创建;如位于共享盘,请确认共享盘已连接。")
            continue
        if not os.access(folder, os.W_OK):
            report.add("文件夹", ERROR, f"服务账户对{label}没有写权限({folder}),请授予运行 OfficeFlow 的账户读写权限。")
        else:
            report.add("文件夹", OK, f"{label}可读写。")
    _check_mode(settings.state, "数据 .officeflow/", report, private=True)
    approvals = settings.approvals
    if approvals.is_dir():
        loose = [p.name for p in sorted(approvals.iterdir()) if p.is_dir() and _others_can_write(p)]
        if loose:
            report.add("权限", WARN, f"审批文件夹 {'、'.join(loose[:8])} 允许所有人写入:任何人都能把文件拖进他人的「同意」文件夹。"
                                     "请按 docs/安全说明.md 设置为仅本人和服务账户可写。")
        else:
            report.add("权限", OK, "审批文件夹没有对所有人开放写权限。")


def _check_mode(folder: Path, label: str, report: DoctorReport, *, private: bool) -> None:
    if os.name != "posix" or not folder.exists():
        return
    st = folder.stat()
    if private and st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        report.add("权限", WARN, f"{label}对其他用户可写(权限 {stat.filemode(st.st_mode)}),其中的数据库和审计检查点可能被改动;"
                                "请执行 chmod go-w 并确认属主是服务账户。")
    elif private and st.st_uid != os.geteuid():
        report.add("权限", NOTE, f"{label}的属主(uid {st.st_uid})不是当前运行账户(uid {os.geteuid()})。")


def _others_can_write(folder: Path) -> bool:
    if os.name != "posix":
        return False
    return bool(folder.stat().st_mode & stat.S_IWOTH)


# --- the store ------------------------------------------------------------------------

def filesystem_type(path: Path) -> str | None:
    """The file system type of the mount holding ``path`` (Linux /proc/mounts), if known."""
    try:
        lines = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    target = str(Path(path).resolve())
    best, kind = "", None
    for line in lines:
        parts = line.split()
        if len(parts) < 3:
            continue
        mount = parts[1].replace("\\040", " ")
        if (target == mount or target.startswith(mount.rstrip("/") + "/")) and len(mount) >= len(best):
            best, kind = mount, parts[2]
    return kind


def check_store_location(settings, report: DoctorReport) -> None:
    if not settings.store_url.startswith("sqlite"):
        check_postgres(settings.store_url, report)
        return
    kind = filesystem_type(settings.state)
    if kind in NETWORK_FS or (kind or "").startswith("fuse."):
        report.add("数据库", ERROR, f"SQLite 数据库位于网络共享盘上(文件系统 {kind}):网络盘上的文件锁不可靠,数据库可能损坏。"
                                  "请把 [folders] state 设为本机磁盘上的文件夹,或改用 PostgreSQL(store.url)。")
    else:
        report.add("数据库", OK, f"SQLite 数据库位于本机磁盘({kind or '未知文件系统'})。")


def check_postgres(url: str, report: DoctorReport) -> None:
    """The driver is installed, the server answers, and how many OfficeFlow workers are connected."""
    url = normalise_url(url)
    where = display_url(url)
    if url.startswith("postgresql"):
        try:
            import psycopg  # noqa: F401  (optional: the driver only the postgres extra installs)
        except ImportError:
            report.add("数据库", ERROR, "store.url 指向 PostgreSQL,但本机没有安装数据库驱动 psycopg。"
                                      "请运行 pip install -e '.[postgres]' 后重试。")
            return
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 5} if url.startswith("postgresql") else {})
        try:
            with engine.connect() as conn:
                version = conn.execute(select(func.current_setting("server_version"))).scalar()
                workers = connected_workers(conn)
        finally:
            engine.dispose()
    except Exception as exc:
        reason = describe(exc) or "无法连接数据库服务器,请确认地址、用户名、密码和网络。"
        report.add("数据库", ERROR, f"无法连接 PostgreSQL 数据库 {where}:{reason}")
        return
    report.add("数据库", OK, f"使用 PostgreSQL {version}({where}),现有 {workers} 个 OfficeFlow 工作进程连接着它;"
                           "多台机器可同时运行 officeflow watch。")


def check_disk(settings, report: DoctorReport) -> None:
    for label, folder in (("数据 .officeflow/", settings.state), ("输出 outbox/", settings.outbox)):
        probe = folder if folder.exists() else settings.root
        try:
            usage = shutil.disk_usage(probe)
        except OSError as exc:
            report.add("磁盘", ERROR, f"无法读取{label}所在磁盘的空间({exc.strerror or exc})。")
            continue
        free_mb = usage.free / 1024 / 1024
        if usage.free < MIN_FREE_BYTES // 5:
            report.add("磁盘", ERROR, f"{label}所在磁盘只剩 {free_mb:,.0f} MB,空间不足时系统会暂停处理;请立即清理磁盘。")
        elif usage.free < MIN_FREE_BYTES:
            report.add("磁盘", WARN, f"{label}所在磁盘只剩 {free_mb:,.0f} MB,请尽快清理或扩容。")
        else:
            report.add("磁盘", OK, f"{label}所在磁盘可用 {free_mb:,.0f} MB。")


def check_clock_skew(settings, report: DoctorReport) -> None:
    """Write a probe file into inbox/ and compare the share's time stamp with this machine's clock."""

    if not settings.inbox.is_dir():
        return
    probe = settings.inbox / f"{TEMP_PREFIX}doctor-{os.getpid()}"
    try:
        before = time.time()
        probe.write_bytes(b"officeflow doctor")
        after = time.time()
        stamp = probe.stat().st_mtime
    except OSError as exc:
        report.add("时钟", WARN, f"无法在 inbox/ 写入测试文件来比较时钟({exc.strerror or exc})。")
        return
    finally:
        probe.unlink(missing_ok=True)
    skew = 0.0 if before - 1 <= stamp <= after + 1 else stamp - (before + after) / 2
    if abs(skew) > MAX_SKEW_SECONDS:
        report.add("时钟", WARN, f"共享盘的时间与本机相差 {skew:+.0f} 秒:文件的时间和时限计算可能不准。"
                                "请让共享盘服务器和本机都与同一时间服务器(NTP)同步。")
    else:
        report.add("时钟", OK, "共享盘与本机时钟一致。")


def native_events_arrive(folder: Path, timeout: float = 3.0) -> bool:
    """Self-test: watch ``folder`` natively, write a probe file, and wait for its event.

    On SMB/NFS (and FUSE) shares a file written by another machine raises no
    event here; then only polling (``watch --poll``) sees new files promptly."""



    seen = threading.Event()
    probe = folder / f"{TEMP_PREFIX}event-probe-{os.getpid()}"

    class _Probe(FileSystemEventHandler):
        def on_any_event(self, event) -> None:
            if os.fsdecode(getattr(event, "src_path", "")).endswith(probe.name):
                seen.set()

    observer = Observer()
    try:
        observer.schedule(_Probe(), str(folder), recursive=False)
        observer.start()
    except OSError:
        return False
    try:
        probe.write_bytes(b"probe")
        return seen.wait(timeout)
    finally:
        probe.unlink(missing_ok=True)
        observer.stop()
        observer.join(timeout=5)


def on_a_share(path: Path) -> str | None:
    """The file system type when ``path`` is on a network share or FUSE mount, else None."""
    kind = filesystem_type(path)
    return kind if kind and (kind in NETWORK_FS or kind == "fuse" or kind.startswith("fuse.")) else None


def polling_advice(settings) -> str | None:
    """Why native events cannot be trusted for inbox/ (None when they can).

    A probe written here raises an event even on a share; files written by
    other machines on SMB/NFS (or behind FUSE) do not. So a share is judged by
    its file system type, and a local folder by the probe."""
    share = on_a_share(settings.inbox)
    if share:
        return f"inbox/ 位于网络共享盘或 FUSE 挂载上(文件系统 {share}),其他电脑写入的文件不会产生系统文件事件"
    if not native_events_arrive(settings.inbox):
        return "inbox/ 收不到系统文件事件"
    return None


def check_native_events(settings, report: DoctorReport) -> None:
    if not settings.inbox.is_dir():
        return
    advice = polling_advice(settings)
    if advice and settings.watch.mode != "poll":
        report.add("文件事件", WARN, f"{advice}:新文件要等定期扫描才会处理。"
                                  "请在 officeflow.toml 的 [watch] 中设置 mode = \"poll\",或运行 officeflow watch --poll 2。")
        return
    if not advice:
        mode = "轮询" if settings.watch.mode == "poll" else "系统文件事件"
        report.add("文件事件", OK, f"inbox/ 能收到系统文件事件(当前设置:{mode})。")
    else:
        report.add("文件事件", OK, f"{advice},已设置为轮询模式,没有问题。")


def check_policy(settings, specs, report: DoctorReport) -> None:

    try:
        result = lint_policy(settings.policy_workbook, specs if specs is not None else load_specs(settings.forms))
    except Exception as exc:  # a broken workbook or spec: say so rather than stop the other checks
        report.add("制度", ERROR, f"无法检查《制度.xlsx》:{exc}")
        return
    if result.ok:
        report.add("制度", OK, "《制度.xlsx》检查通过。")
    else:
        errors = [p for p in result.problems if p.is_error]
        report.add("制度", ERROR, f"《制度.xlsx》有 {len(errors)} 处错误,请运行 officeflow policy check 查看并修改。")


def check_libreoffice(report: DoctorReport) -> None:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        report.add("LibreOffice", OK, f"已安装 LibreOffice({found}),合同可同时生成 PDF。")
    else:
        report.add("LibreOffice", NOTE, "未找到 LibreOffice:合同只生成 Word 文件,不生成 PDF。如需 PDF,请安装 LibreOffice。")


def check_personal_inboxes(settings, report: DoctorReport) -> None:
    if not settings.intake.personal_inbox:
        return
    folders = [p for p in sorted(settings.inbox.iterdir()) if p.is_dir()] if settings.inbox.is_dir() else []
    loose = [p.name for p in folders if _others_can_write(p)]
    if loose:
        report.add("个人收件箱", WARN, f"个人收件箱 {'、'.join(loose[:8])} 允许所有人写入,他人可以冒名提交;"
                                   "请按 docs/安全说明.md 设置为仅本人和服务账户可写。")
    else:
        report.add("个人收件箱", OK, f"{len(folders)} 个个人收件箱均未对所有人开放写权限。")


def check_read_budget(settings, report: DoctorReport, *, memory_capped: bool | None = None) -> None:
    """Whether one file's reading is bounded in memory here, or only in time (see docs/安全说明.md)."""
    limits = settings.limits
    capped = memory_limit_holds() if memory_capped is None else memory_capped
    seconds = f"每个文件最多处理 {limits.max_seconds_per_file:g} 秒" if limits.max_seconds_per_file > 0 else "未设置处理时间上限"
    if limits.max_memory_mb <= 0:
        report.add("读取上限", WARN, f"[limits] max_memory_mb 为 0,读取文件时不限制内存({seconds}):"
                                 "一个刻意构造的巨大工作簿可能耗尽内存、使服务停止。建议恢复默认值 1024。")
    elif not capped:
        report.add("读取上限", WARN, f"本系统不支持限制读取进程的内存(此上限只在 Linux 上有效),"
                                 f"[limits] max_memory_mb = {limits.max_memory_mb:g} 不起作用;{seconds},"
                                 "文件大小和解压大小的上限照常有效。若收件箱对外部人员开放,建议把服务部署在 Linux 上。")
    else:
        report.add("读取上限", OK, f"解压后超过 {limits.isolate_above_mb:g} MB 的文件在独立进程中读取,"
                               f"内存上限 {limits.max_memory_mb:g} MB,{seconds}。")

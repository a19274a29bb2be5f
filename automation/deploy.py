"""Running ``officeflow watch`` as a system service: a systemd unit on Linux, a start-up
task on Windows, and a status report that says whether it runs.

``install`` writes the file and checks it (``systemd-analyze verify`` where that
exists); enabling and starting stay IT's explicit step, printed as the next
commands, because they need administrator rights and should be a decision.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from automation.errors import OfficeFlowError
from automation.fsutil import atomic_write_bytes
from automation.intake.worklock import is_held

DEFAULT_NAME = "officeflow"
SERVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
SYSTEMD_DIR = Path("/etc/systemd/system")
RESTART_SECONDS = 10


@dataclass
class ServiceFile:
    platform: str  # "linux" | "windows"
    path: Path
    text: str
    verified: bool | None = None  # None: no verifier on this machine
    verify_output: str = ""
    next_steps: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"platform": self.platform, "path": str(self.path), "verified": self.verified,
                "verify_output": self.verify_output, "next_steps": list(self.next_steps)}


def current_platform() -> str:
    return "windows" if os.name == "nt" else "linux"


def watch_command(workspace: Path) -> list[str]:
    """The interpreter this OfficeFlow runs under, so the service uses the same installation."""
    return [sys.executable, "-m", "automation", "watch", "--workspace", str(workspace)]


# --- systemd --------------------------------------------------------------------------

def _systemd_word(arg: str) -> str:
    """One ExecStart argument, quoted for systemd (spaces, quotes, backslashes, % specifiers)."""
    text = arg.replace("%", "%%")
    if not any(c in text for c in ' \t"\\\'$;'):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_unit(workspace: Path, user: str, *, name: str = DEFAULT_NAME) -> str:
    workspace = Path(workspace).resolve()
    command = " ".join(_systemd_word(a) for a in watch_command(workspace))
    where = str(workspace).replace("%", "%%")
    return "\n".join([
        "[Unit]",
        f"Description=OfficeFlow {name}: watch {where}",
        "Documentation=man:systemd.service(5)",
        "After=network-online.target remote-fs.target",
        "Wants=network-online.target",
        f"RequiresMountsFor={where}",
        "",
        "[Service]",
        "Type=simple",
        f"User={user}",
        f"WorkingDirectory={where}",
        f"ExecStart={command}",
        "Environment=PYTHONUNBUFFERED=1",
        # Ctrl-C's counterpart: the watcher finishes the file in hand, then leaves.
        "KillSignal=SIGTERM",
        "TimeoutStopSec=120",
        "Restart=on-failure",
        f"RestartSec={RESTART_SECONDS}",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ])


def verify_unit(path: Path) -> tuple[bool | None, str]:
    """``systemd-analyze verify``; (None, "") where it is not installed."""
    program = shutil.which("systemd-analyze")
    if program is None:
        return None, ""
    try:
        proc = subprocess.run([program, "verify", str(path)], capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, str(exc)
    output = (proc.stdout + proc.stderr).strip()
    return proc.returncode == 0, output


# --- Windows Task Scheduler -------------------------------------------------------------

def windows_task(workspace: Path, user: str, *, name: str = "OfficeFlow") -> str:
    """A Task Scheduler task: at system start-up, whether or not anyone is logged on,
    restarted every minute if it stops with an error."""
    workspace = Path(workspace).resolve()
    program, *args = watch_command(workspace)
    arguments = " ".join(f'"{a}"' if " " in a else a for a in args)
    return f"""<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.4" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>OfficeFlow {escape(name)}:监视工作区 {escape(str(workspace))}</Description>
  </RegistrationInfo>
  <Triggers>
    <BootTrigger><Enabled>true</Enabled><Delay>PT1M</Delay></BootTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>{escape(user)}</UserId>
      <LogonType>Password</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure><Interval>PT1M</Interval><Count>999</Count></RestartOnFailure>
    <StartWhenAvailable>true</StartWhenAvailable>
    <Enabled>true</Enabled>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{escape(program)}</Command>
      <Arguments>{escape(arguments)}</Arguments>
      <WorkingDirectory>{escape(str(workspace))}</WorkingDirectory>
    </Exec>
  </Actions>
</Task>
"""


# --- install / status --------------------------------------------------------------------

def default_user() -> str:
    return os.environ.get("SUDO_USER") or getpass.getuser()


def check_name(name: str) -> str:
    if not SERVICE_NAME.fullmatch(name):
        raise OfficeFlowError(f"服务名称「{name}」不可用:systemd 和任务计划只接受英文字母、数字和 - _ . 组成的名称,"
                              "例如 officeflow-sales。", code="service-name-invalid")
    return name


def install(workspace: Path, *, platform: str | None = None, user: str | None = None, dest: Path | None = None,
            name: str = DEFAULT_NAME) -> ServiceFile:
    """Write the service file for ``platform`` (default: this machine's) and check it."""
    check_name(name)
    platform = platform or current_platform()
    user = user or default_user()
    workspace = Path(workspace).resolve()
    if platform == "windows":
        folder = Path(dest) if dest else workspace
        path = folder / f"{name}-任务.xml"
        text = windows_task(workspace, user, name=name)
        _write(path, text, encoding="utf-16")
        steps = [f'schtasks /Create /TN "{name}" /XML "{path}" /RU {user} /RP *',
                 f'schtasks /Run /TN "{name}"', f"officeflow service status --workspace \"{workspace}\""]
        return ServiceFile(platform, path, text, None, "", steps)
    folder = Path(dest) if dest else SYSTEMD_DIR
    path = folder / f"{name}.service"
    text = systemd_unit(workspace, user, name=name)
    _write(path, text)
    verified, output = verify_unit(path)
    steps = [] if folder == SYSTEMD_DIR else [f"sudo cp '{path}' {SYSTEMD_DIR}/"]
    steps += ["sudo systemctl daemon-reload", f"sudo systemctl enable --now {name}.service",
              f"officeflow service status --workspace '{workspace}'"]
    return ServiceFile(platform, path, text, verified, output, steps)


def _write(path: Path, text: str, encoding: str = "utf-8") -> None:
    # No BOM for systemd; Task Scheduler wants the UTF-16 its XML declares (Python writes the BOM).
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, text.encode(encoding))


@dataclass
class ServiceStatus:
    workspace: str
    watching: bool  # a watcher (service or terminal) holds this workspace's worker lock
    manager: str  # what was asked: "systemd" | "schtasks" | "" (neither available)
    state: str  # the manager's word for it, or ""
    detail: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"workspace": self.workspace, "watching": self.watching, "manager": self.manager, "state": self.state,
                "detail": dict(self.detail)}


def status(workspace: Path, state_dir: Path, *, name: str = DEFAULT_NAME) -> ServiceStatus:
    detail: dict = {}
    manager, state = "", ""
    if os.name == "nt" and shutil.which("schtasks"):
        manager = "schtasks"
        proc = _ask(["schtasks", "/Query", "/TN", "OfficeFlow" if name == DEFAULT_NAME else name, "/FO", "LIST"])
        state = "未安装" if proc is None or proc.returncode else _schtasks_state(proc.stdout)
    elif shutil.which("systemctl"):
        manager = "systemd"
        proc = _ask(["systemctl", "show", f"{name}.service", "--no-pager",
                     "-p", "LoadState,ActiveState,SubState,MainPID,NRestarts,ExecMainStartTimestamp"])
        if proc is not None and proc.returncode == 0:
            detail = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
            state = detail.get("ActiveState", "")
    return ServiceStatus(str(workspace), is_held(state_dir), manager, state, detail)


def _ask(command: list[str]):
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None


def _schtasks_state(text: str) -> str:
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("Status", "状态"):
            return value.strip()
    return ""

"""Workspace settings from ``officeflow.toml``; every path resolved against the workspace root."""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar

from automation.errors import SettingsError

SETTINGS_FILE = "officeflow.toml"
STORE_URL_ENV = "OFFICEFLOW_STORE_URL"  # wins over [store] url (e.g. a password kept out of the file)
OFFICE_ENV = "OFFICEFLOW_OFFICE"  # the [offices."名称"] whose inbox folder this worker takes in (or watch --office)


@dataclass(frozen=True)
class Limits:
    max_file_mb: float = 20
    max_zip_entries: int = 2000
    max_uncompressed_mb: float = 200
    max_compression_ratio: float = 100
    max_seconds_per_file: float = 120  # reading and judging one file; then it is quarantined
    unreadable_after_seconds: float = 300  # a file nobody can read is quarantined after this long (and 5 tries)
    max_memory_mb: float = 1024  # reading one file may use this much more memory; then it is quarantined
    isolate_above_mb: float = 2  # packages inflating beyond this are read in a child process (intake/budget.py)

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def max_uncompressed_bytes(self) -> int:
        return int(self.max_uncompressed_mb * 1024 * 1024)


@dataclass(frozen=True)
class Notify:
    """[notify]: e-mail notices, off unless ``enabled``. The password is never in a file: it is
    read from the environment variable named by ``password_env``."""

    CHOICES: ClassVar[dict] = {"tls": ("none", "starttls", "ssl")}

    enabled: bool = False
    host: str = "localhost"
    port: int = 25
    tls: str = "none"  # none | starttls | ssl
    sender: str = "officeflow@localhost"
    user: str | None = None
    password_env: str | None = None
    timeout: float = 10.0
    retry_max_seconds: float = 3600.0
    digest: bool = False  # also one mail a day per approver listing every open task
    digest_hour: int = 9  # sent on the first pass at or after this hour (office time)
    # who hears of forms held for a policy fault: an e-mail address or a name in 人员
    # (unset: the person named by 参数 转交管理员)
    admin: str | None = None


@dataclass(frozen=True)
class Folders:
    """[folders]: where each folder is, relative to the workspace."""

    inbox: str = "inbox"
    outbox: str = "outbox"
    forms: str = "forms"
    contracts: str = "contracts"
    policies: str = "policies"
    state: str = ".officeflow"


@dataclass(frozen=True)
class Store:
    url: str = "sqlite:///.officeflow/state.db"
    lease_seconds: float = 60.0  # on PostgreSQL: a dead worker's claim on a file runs out after this


@dataclass(frozen=True)
class Watch:
    CHOICES: ClassVar[dict] = {"mode": ("native", "poll")}

    mode: str = "native"
    poll_seconds: float = 2.0
    quiet_seconds: float = 1.0
    # Without close events (polling, Windows): an Office file whose zip end proves it complete is read after
    # this many quiet seconds; one still being written waits (intake/stability.py; measured in bench_latency.py)
    poll_quiet_seconds: float = 0.3
    sweep_seconds: float = 30.0


@dataclass(frozen=True)
class Time:
    timezone: str = "Asia/Shanghai"


@dataclass(frozen=True)
class Approvals:
    escalate_after_workdays: int = 1


@dataclass(frozen=True)
class Registers:
    coalesce_seconds: float = 3.0
    retry_max_seconds: float = 60.0
    mode: str = "file"


@dataclass(frozen=True)
class Intake:
    personal_inbox: bool = False  # inbox/<姓名>/ per person, own name only


@dataclass(frozen=True)
class Audit:
    key_file: str | None = None  # HMAC key for audit checkpoints; keep it outside the workspace


@dataclass(frozen=True)
class Outputs:
    approval_record_pdf: bool = True  # a PDF beside each 审批单 where LibreOffice is installed


# Every section of officeflow.toml and the dataclass it is read into.
SECTIONS = {"folders": Folders, "store": Store, "watch": Watch, "limits": Limits, "time": Time,
            "approvals": Approvals, "registers": Registers, "intake": Intake, "audit": Audit,
            "outputs": Outputs, "notify": Notify}


@dataclass(frozen=True)
class Settings:
    """Read once per run, never changed: the resolved folders and store, then one frozen value per section."""

    root: Path
    inbox: Path
    outbox: Path
    forms: Path
    contracts: Path
    policies: Path
    state: Path
    store_url: str
    watch: Watch = field(default_factory=Watch)
    limits: Limits = field(default_factory=Limits)
    time: Time = field(default_factory=Time)
    escalation: Approvals = field(default_factory=Approvals)  # [approvals] (settings.approvals is the folder)
    register_writing: Registers = field(default_factory=Registers)  # [registers] (settings.registers is the folder)
    intake: Intake = field(default_factory=Intake)
    audit: Audit = field(default_factory=Audit)
    outputs: Outputs = field(default_factory=Outputs)
    notify: Notify = field(default_factory=Notify)
    database: Store = field(default_factory=Store)  # [store] (its url, resolved, is store_url)
    inbox_as_written: Path | None = None  # root / [folders] inbox, unresolved: a link there is refused (intake/scanner.py)
    # [offices."上海"] inbox = "上海": each office's own folder inside inbox/ (several workers on one
    # PostgreSQL, one per office, sharing people, policies and registers); ``office``: the one this worker
    # takes in, None for every file in inbox/.
    offices: dict[str, Path] = field(default_factory=dict)
    office: str | None = None

    @property
    def office_inbox(self) -> Path:
        """The folder this worker takes files in from: its office's, or the whole inbox."""
        return self.offices[self.office] if self.office else self.inbox

    def takes_in(self, path: Path) -> bool:
        """True if a file found in inbox/ is this worker's to take in."""
        return self.office is None or Path(path).is_relative_to(self.offices[self.office])

    @property
    def audit_checkpoint(self) -> Path:
        """The audit chain's head, anchored beside the store (see record/audit.py)."""
        return self.state / "audit-checkpoint.json"

    # Folders under outbox/, named once so every stage agrees.
    @property
    def approvals(self) -> Path:
        return self.outbox / "approvals"

    @property
    def cc(self) -> Path:
        return self.outbox / "cc"

    @property
    def returned(self) -> Path:
        """Only 未识别/ lives here now: files nobody could be matched to."""
        return self.outbox / "returned"

    @property
    def unrecognised(self) -> Path:
        return self.returned / "未识别"

    @property
    def requests(self) -> Path:
        """outbox/requests/<姓名>/: receipts, returned forms, 我的申请, 撤回/ and 催办/."""
        return self.outbox / "requests"

    @property
    def contracts_out(self) -> Path:
        return self.outbox / "contracts"

    @property
    def registers(self) -> Path:
        return self.outbox / "registers"

    @property
    def archive(self) -> Path:
        return self.outbox / "archive"

    @property
    def quarantine(self) -> Path:
        return self.outbox / "quarantine"

    @property
    def policy_workbook(self) -> Path:
        return self.policies / "制度.xlsx"

    def with_(self, **changes) -> "Settings":
        """A copy with some values changed; a section given as a dict changes only those keys
        (``with_(watch={"poll_seconds": 0.5})``)."""
        return replace(self, **{name: replace(getattr(self, name), **value) if isinstance(value, dict) else value
                                for name, value in changes.items()})


def load_settings(root: Path | str, office: str | None = None) -> Settings:
    """Read ``officeflow.toml`` under ``root``; a missing file or key means the default.

    ``office`` (or ``OFFICEFLOW_OFFICE``): take in only that office's inbox folder."""
    root = Path(root).resolve()
    path = root / SETTINGS_FILE
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"设置文件格式有误:{_toml_reason(exc)}。请对照 officeflow init 生成的示例修改。",
                            location=str(path)) from exc
    lines = _key_lines(text)
    if isinstance(data.get("notify"), dict) and "password" in data["notify"]:
        raise SettingsError("[notify] 中不能写密码。请把密码放在环境变量中,并用 password_env 写明变量名。",
                            location=_where(path, lines.get(("notify", "password"))))
    sections = {name: _read_section(cls, name, data, lines, path) for name, cls in SECTIONS.items()}
    folders: Folders = sections["folders"]

    def folder(key: str) -> Path:
        return (root / getattr(folders, key)).resolve()

    url = os.environ.get(STORE_URL_ENV) or sections["store"].url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        # A relative SQLite path is relative to the workspace, not to the current directory.
        url = "sqlite:///" + str((root / url[len("sqlite:///"):]).resolve())
    return Settings(
        root=root, inbox=folder("inbox"), outbox=folder("outbox"), forms=folder("forms"),
        contracts=folder("contracts"), policies=folder("policies"), state=folder("state"), store_url=url,
        watch=sections["watch"], limits=sections["limits"], time=sections["time"], escalation=sections["approvals"],
        register_writing=sections["registers"], intake=sections["intake"], audit=sections["audit"],
        outputs=sections["outputs"], notify=sections["notify"], database=sections["store"],
        inbox_as_written=Path(os.path.abspath(root / folders.inbox)),
        **_offices(data, folder("inbox"), office or os.environ.get(OFFICE_ENV) or None, path, lines),
    )


def _offices(data: dict, inbox: Path, office: str | None, path: Path, lines: dict) -> dict:
    """[offices."名称"] inbox = "folder inside inbox/", and the office chosen for this worker."""
    table = data.get("offices", {})
    if not isinstance(table, dict):
        raise SettingsError("设置文件中的 [offices] 应为一个小节,例如 [offices.\"上海\"] 下写 inbox = \"上海\"。",
                            location=_where(path, lines.get((None, "offices"))))
    offices = {}
    for name, section in table.items():
        folder = section.get("inbox") if isinstance(section, dict) else None
        if not isinstance(folder, str) or not folder.strip():
            raise SettingsError(f"[offices.\"{name}\"] 须写明 inbox = \"收件箱中的文件夹名\",例如 inbox = \"{name}\"。",
                                location=str(path))
        resolved = (inbox / folder).resolve()
        if resolved == inbox or not resolved.is_relative_to(inbox):
            raise SettingsError(f"[offices.\"{name}\"] 的 inbox「{folder}」须是收件箱 {inbox} 里的一个文件夹。",
                                location=str(path))
        offices[name] = resolved
    if office is not None and office not in offices:
        known = "、".join(offices) or "(尚未设置任何办公室)"
        raise SettingsError(f"officeflow.toml 中没有办公室「{office}」。已设置的办公室:{known}。"
                            "请在 [offices.\"名称\"] 中设置它的收件箱文件夹,或改正名称。", location=str(path))
    return {"offices": offices, "office": office}


def _read_section(cls, name: str, data: dict, lines: dict, path: Path):
    """One section, each value coerced to its field's annotation; a bad one names its key and line."""
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise SettingsError(f"设置文件中的 [{name}] 应为一个小节。", location=_where(path, lines.get((None, name))))
    hints = typing.get_type_hints(cls)
    known = [f.name for f in fields(cls)]
    for key in table:  # a key the section does not know is left alone, unless it is a slip for one it does
        meant = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
        if key not in known and meant:
            raise SettingsError(f"设置项 [{name}] {key} 不存在,您是否想写「{meant[0]}」?请改正后重新运行。",
                                location=_where(path, lines.get((name, key))))
    values = {}
    for f in fields(cls):
        if f.name in table:
            values[f.name] = _coerce(table[f.name], hints[f.name], name, f.name, _where(path, lines.get((name, f.name))))
    for key, allowed in getattr(cls, "CHOICES", {}).items():
        if key in values and values[key] not in allowed:
            raise SettingsError(f"[{name}] {key} 只能是 {'、'.join(allowed[:-1])} 或 {allowed[-1]},现为「{values[key]}」。",
                                location=_where(path, lines.get((name, key))))
    return cls(**values)


_LABELS = {bool: " true 或 false", int: "整数", float: "数字", str: "文本(加英文双引号)"}


def _coerce(raw: Any, hint: Any, section: str, key: str, where: str):
    kind = next((t for t in typing.get_args(hint) if t is not type(None)), None) if typing.get_args(hint) else hint
    value = _as(raw, kind)
    if value is None:
        raise SettingsError(f"设置项 [{section}] {key} 应为{_LABELS.get(kind, '其他值')},现为「{raw}」。请改正后重新运行。",
                            location=where)
    if kind in (int, float) and value < 0:
        raise SettingsError(f"设置项 [{section}] {key} 不能为负数,现为 {raw}。请改正后重新运行。", location=where)
    return value


def _as(raw: Any, kind: type):
    """``raw`` as ``kind``, or None when it cannot be one (a switch is only ever true or false)."""
    if kind is bool or isinstance(raw, bool):
        return raw if kind is bool and isinstance(raw, bool) else None
    if kind is str:
        return raw if isinstance(raw, str) else (str(raw) if isinstance(raw, (int, float)) else None)
    try:
        number = float(raw) if isinstance(raw, (int, float, str)) else None
    except ValueError:
        return None
    if number is None or not math.isfinite(number):
        return None
    if kind is int:
        return int(number) if number.is_integer() else None
    return number


_HEADER = re.compile(r"^\[\s*\"?([^\]\"]+?)\"?\s*\]")
_KEY = re.compile(r'^"?([A-Za-z0-9_-]+)"?\s*=')


def _key_lines(text: str) -> dict[tuple[str | None, str], int]:
    """(section, key) → the line it is written on (tomllib does not say)."""
    found: dict = {}
    section = None
    for n, line in enumerate(text.splitlines(), start=1):
        header, key = _HEADER.match(line.strip()), _KEY.match(line.strip())
        if header:
            section = header.group(1).strip()
            found.setdefault((None, section), n)
        elif key:
            found.setdefault((section, key.group(1)), n)
    return found


def _where(path: Path, line: int | None) -> str:
    return f"{path} 第 {line} 行" if line else str(path)


def _toml_reason(exc: tomllib.TOMLDecodeError) -> str:
    """tomllib says where in English ("… (at line 3, column 5)"): keep the place, in Chinese."""
    found = re.search(r"at line (\d+), column (\d+)", str(exc))
    return f"第 {found.group(1)} 行第 {found.group(2)} 列写法不对" if found else "写法不对"

"""Workspace settings from ``officeflow.toml``; every path resolved against the workspace root."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from automation.errors import SettingsError

SETTINGS_FILE = "officeflow.toml"


@dataclass(frozen=True)
class Limits:
    max_file_mb: float = 20
    max_zip_entries: int = 2000
    max_uncompressed_mb: float = 200
    max_compression_ratio: float = 100
    max_seconds_per_file: float = 120  # reading and judging one file; then it is quarantined
    unreadable_after_seconds: float = 300  # a file nobody can read is quarantined after this long (and 5 tries)

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


@dataclass(frozen=True)
class Settings:
    root: Path
    inbox: Path
    outbox: Path
    forms: Path
    contracts: Path
    policies: Path
    state: Path
    store_url: str
    watch_mode: str = "native"
    poll_seconds: float = 2.0
    quiet_seconds: float = 1.0
    sweep_seconds: float = 30.0
    timezone: str = "Asia/Shanghai"
    escalate_after_workdays: int = 1
    coalesce_seconds: float = 3.0
    retry_max_seconds: float = 60.0
    register_mode: str = "file"
    limits: Limits = field(default_factory=Limits)
    notify: Notify = field(default_factory=Notify)
    personal_inbox: bool = False  # [intake] personal_inbox: inbox/<姓名>/ per person, own name only
    audit_key_file: str | None = None  # HMAC key for audit checkpoints; keep it outside the workspace
    approval_record_pdf: bool = True  # [outputs]: a PDF beside each 审批单 where LibreOffice is installed

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
        return replace(self, **changes)


def _section(data: dict, name: str) -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise SettingsError(f"设置文件中的 [{name}] 应为一个小节。", location=SETTINGS_FILE)
    return value


def load_settings(root: Path | str) -> Settings:
    """Read ``officeflow.toml`` under ``root``; a missing file means all defaults."""
    root = Path(root).resolve()
    path = root / SETTINGS_FILE
    data: dict = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"设置文件格式有误:{exc}。请对照 officeflow init 生成的示例修改。", location=str(path)) from exc
    folders = _section(data, "folders")
    store = _section(data, "store")
    watch = _section(data, "watch")
    limits = _section(data, "limits")
    when = _section(data, "time")
    approvals = _section(data, "approvals")
    registers = _section(data, "registers")
    notify = _section(data, "notify")
    if notify.get("tls", "none") not in ("none", "starttls", "ssl"):
        raise SettingsError(f"[notify] tls 只能是 none、starttls 或 ssl,现为「{notify.get('tls')}」。", location=str(path))
    if "password" in notify:
        raise SettingsError("[notify] 中不能写密码。请把密码放在环境变量中,并用 password_env 写明变量名。",
                            location=str(path))
    audit = _section(data, "audit")
    intake = _section(data, "intake")
    outputs = _section(data, "outputs")

    def folder(key: str, default: str) -> Path:
        return (root / folders.get(key, default)).resolve()

    state = folder("state", ".officeflow")
    url = store.get("url", "sqlite:///.officeflow/state.db")
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        # A relative SQLite path is relative to the workspace, not to the current directory.
        url = "sqlite:///" + str((root / url[len("sqlite:///"):]).resolve())
    mode = watch.get("mode", "native")
    if mode not in ("native", "poll"):
        raise SettingsError(f"[watch] mode 只能是 native 或 poll,现为「{mode}」。", location=str(path))
    try:
        return Settings(
            root=root,
            inbox=folder("inbox", "inbox"),
            outbox=folder("outbox", "outbox"),
            forms=folder("forms", "forms"),
            contracts=folder("contracts", "contracts"),
            policies=folder("policies", "policies"),
            state=state,
            store_url=url,
            watch_mode=mode,
            poll_seconds=float(watch.get("poll_seconds", 2.0)),
            quiet_seconds=float(watch.get("quiet_seconds", 1.0)),
            sweep_seconds=float(watch.get("sweep_seconds", 30.0)),
            timezone=str(when.get("timezone", "Asia/Shanghai")),
            escalate_after_workdays=int(approvals.get("escalate_after_workdays", 1)),
            coalesce_seconds=float(registers.get("coalesce_seconds", 3.0)),
            retry_max_seconds=float(registers.get("retry_max_seconds", 60.0)),
            register_mode=str(registers.get("mode", "file")),
            personal_inbox=bool(intake.get("personal_inbox", False)),
            audit_key_file=str(audit["key_file"]) if audit.get("key_file") else None,
            approval_record_pdf=_switch(outputs, "approval_record_pdf", True, path),
            limits=Limits(**{k: limits[k] for k in limits if k in Limits.__dataclass_fields__}),
            notify=Notify(**{k: notify[k] for k in notify if k in Notify.__dataclass_fields__}),
        )
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"设置文件中的数值有误:{exc}", location=str(path)) from exc


def _switch(section: dict, key: str, default: bool, path: Path) -> bool:
    value = section.get(key, default)
    if not isinstance(value, bool):
        raise SettingsError(f"设置项 {key} 只能写 true 或 false,现为「{value}」。", location=str(path))
    return value

"""``officeflow doctor`` on real workspaces: what it reports, and that it says what to do."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from support.workspace import make_workspace

from automation.doctor import diagnose, filesystem_type
from automation.settings import load_settings


def _doctor(root, *args):
    return subprocess.run([sys.executable, "-m", "automation", "doctor", "--workspace", str(root), *args],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def _findings(report) -> dict[str, list]:
    found: dict[str, list] = {}
    for f in report.findings:
        found.setdefault(f.check, []).append(f)
    return found


def test_doctor_on_a_fresh_workspace_reports_no_error(tmp_path):
    root = make_workspace(tmp_path)
    done = _doctor(root, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(done.stdout)
    checks = {f["check"] for f in data["findings"]}
    assert {"文件夹", "数据库", "磁盘", "时钟", "文件事件", "制度", "LibreOffice"} <= checks
    assert not any(f["level"] == "错误" for f in data["findings"])
    assert not os.listdir(root / "inbox"), "the probe files are removed"


def test_doctor_warns_when_approval_folders_are_writable_by_everyone(tmp_path):
    root = make_workspace(tmp_path)
    folder = root / "outbox" / "approvals" / "吴强"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    report = diagnose(load_settings(root), clock_probe=False)
    perms = _findings(report)["权限"]
    assert any(f.level == "警告" and "吴强" in f.message and "安全说明" in f.message for f in perms)


def test_doctor_refuses_a_broken_policy_workbook(tmp_path):
    root = make_workspace(tmp_path)
    (root / "policies" / "制度.xlsx").write_bytes(b"not a workbook")
    done = _doctor(root)
    assert done.returncode == 1
    assert "制度" in done.stdout


def test_doctor_flags_a_sqlite_store_on_a_network_share(tmp_path):
    root = make_workspace(tmp_path)
    settings = load_settings(root)
    kind = filesystem_type(settings.state)
    report = diagnose(settings, clock_probe=False)
    store = _findings(report)["数据库"][0]
    if kind and (kind.startswith("fuse.") or kind in ("nfs", "nfs4", "cifs", "smb3")):
        assert store.level == "错误"
    else:
        assert store.level == "正常" and (kind or "未知") in store.message


def test_doctor_says_whether_the_memory_budget_holds_on_this_platform(tmp_path):
    from automation.doctor import DoctorReport, check_read_budget
    from automation.intake.budget import memory_limit_holds

    settings = load_settings(make_workspace(tmp_path))
    [here] = _findings(diagnose(settings, clock_probe=False))["读取上限"]
    assert memory_limit_holds() == sys.platform.startswith("linux")
    assert here.level == ("正常" if memory_limit_holds() else "警告")
    assert "1024 MB" in here.message or "只在 Linux 上有效" in here.message
    elsewhere = DoctorReport()
    check_read_budget(settings, elsewhere, memory_capped=False)  # what Windows and macOS are told
    [told] = elsewhere.findings
    assert told.level == "警告" and "只在 Linux 上有效" in told.message and "120 秒" in told.message


def test_doctor_warns_when_the_memory_budget_is_switched_off(tmp_path):
    root = make_workspace(tmp_path)
    toml = root / "officeflow.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("[limits]\n", "[limits]\nmax_memory_mb = 0\n"),
                    encoding="utf-8")
    [found] = _findings(diagnose(load_settings(root), clock_probe=False))["读取上限"]
    assert found.level == "警告" and "max_memory_mb 为 0" in found.message

"""Running as a service: the systemd unit and the Windows start-up task IT installs, and the status."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from support.workspace import make_workspace

from automation.deploy import install, status, systemd_unit, verify_unit
from automation.errors import OfficeFlowError
from automation.intake.worklock import is_held, worker_lock

HAS_VERIFY = shutil.which("systemd-analyze") is not None


def test_unit_runs_the_watcher_on_the_workspace_as_its_user_and_restarts(tmp_path):
    root = make_workspace(tmp_path / "共享 工作区")
    unit = install(root, platform="linux", user="root", dest=tmp_path / "units")
    text = unit.path.read_text(encoding="utf-8")
    assert not text.startswith("\ufeff")  # systemd wants no byte-order mark
    lines = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    assert lines["User"] == "root" and lines["WorkingDirectory"] == str(root)
    assert lines["Restart"] == "on-failure" and lines["KillSignal"] == "SIGTERM"
    assert lines["ExecStart"] == f'{sys.executable} -m automation watch --workspace "{root}"'
    assert lines["WantedBy"] == "multi-user.target"
    assert "sudo systemctl enable --now officeflow.service" in unit.next_steps


@pytest.mark.skipif(not HAS_VERIFY, reason="systemd-analyze is not installed")
def test_generated_unit_passes_systemd_analyze_verify(tmp_path):
    root = make_workspace(tmp_path / "共享 工作区")
    unit = install(root, platform="linux", user="root", dest=tmp_path / "units", name="officeflow-sales")
    assert unit.verified is True, unit.verify_output


def test_a_service_name_systemd_cannot_take_is_refused_in_chinese(tmp_path):
    with pytest.raises(OfficeFlowError) as refused:
        install(tmp_path, platform="linux", user="root", dest=tmp_path / "units", name="officeflow-销售")
    assert "officeflow-sales" in str(refused.value) and not (tmp_path / "units").exists()


@pytest.mark.skipif(not HAS_VERIFY, reason="systemd-analyze is not installed")
def test_the_verifier_does_catch_a_broken_unit(tmp_path):
    broken = tmp_path / "broken.service"
    broken.write_text(systemd_unit(tmp_path, "root").replace(f"ExecStart={sys.executable}", "ExecStart=python"),
                      encoding="utf-8")
    ok, output = verify_unit(broken)
    assert ok is False and output


def test_windows_task_starts_at_boot_and_restarts_on_failure(tmp_path):
    root = make_workspace(tmp_path)
    task = install(root, platform="windows", user="OFFICE\\officeflow", dest=tmp_path / "tasks")
    assert task.path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")  # the UTF-16 its XML declares
    ns = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
    tree = ET.fromstring(task.path.read_text(encoding="utf-16").split("?>", 1)[1])
    assert tree.find("t:Triggers/t:BootTrigger", ns) is not None
    assert tree.find("t:Settings/t:RestartOnFailure/t:Count", ns).text == "999"
    assert tree.find("t:Settings/t:ExecutionTimeLimit", ns).text == "PT0S"
    assert tree.find("t:Principals/t:Principal/t:UserId", ns).text == "OFFICE\\officeflow"
    assert tree.find("t:Actions/t:Exec/t:Command", ns).text == sys.executable
    assert str(root) in tree.find("t:Actions/t:Exec/t:Arguments", ns).text
    assert any(step.startswith("schtasks /Create") for step in task.next_steps)


def test_status_says_whether_a_watcher_holds_the_workspace(tmp_path):
    root = make_workspace(tmp_path)
    state = root / ".officeflow"
    assert status(root, state).watching is False
    with worker_lock(state):
        assert is_held(state) and status(root, state).watching is True
    assert is_held(state) is False


def test_service_commands_from_the_command_line(tmp_path):
    root = make_workspace(tmp_path)
    run = lambda *a: subprocess.run([sys.executable, "-m", "automation", *a, "--workspace", str(root)],  # noqa: E731
                                    capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    made = run("service", "install", "--dest", str(tmp_path / "units"), "--user", "root")
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "units" / "officeflow.service").is_file() and "systemctl enable" in made.stdout
    report = run("service", "status", "--json")
    assert report.returncode == 0 and json.loads(report.stdout)["watching"] is False

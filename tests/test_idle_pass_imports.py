"""An idle pass (empty inbox) and the light commands do not import what they never use: docxtpl and
Jinja (contracts), rich (people's output, not --json) and the stages behind `process` for --version.
Each check runs in a fresh interpreter, where sys.modules shows what the command really imported."""

from __future__ import annotations

import json
import subprocess
import sys

from automation.workspace import init_workspace

PROBE = """
import contextlib, io, json, sys
from automation.cli.main import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _imported(*argv: str) -> tuple[int, set[str]]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True, timeout=120)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result["code"], {name.split(".")[0] for name in result["modules"]} | set(result["modules"])


def test_an_idle_pass_imports_neither_docxtpl_nor_jinja_nor_rich(tmp_path):
    init_workspace(tmp_path / "ws")
    code, modules = _imported("process", "--json", "--workspace", str(tmp_path / "ws"))
    assert code == 0
    assert "sqlalchemy" in modules  # the pass did run against its store
    assert not modules & {"docxtpl", "jinja2", "rich", "automation.act.contract_docx", "automation.act.template_lint"}


def test_version_imports_no_stage_and_no_store():
    code, modules = _imported("--version")
    assert code == 0
    assert not modules & {"sqlalchemy", "openpyxl", "docx", "rich", "automation.pipeline", "automation.runtime"}

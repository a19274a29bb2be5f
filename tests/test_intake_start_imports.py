"""``officeflow process`` with nothing to do loads only what a pass needs: libraries needed only by some
files (look-alike letter tables, a child process for big files, the progress bar of a large batch, the
PostgreSQL dialect on SQLite) are loaded when first used, not at start."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from support.workspace import make_workspace

NOT_AT_START = ("confusable_homoglyphs", "multiprocessing", "rich.progress", "sqlalchemy.dialects.postgresql")

_PROBE = """
import json, runpy, sys
out, sys.argv = sys.argv[1], ["officeflow", *sys.argv[2:]]
try:
    runpy.run_module("automation", run_name="__main__")
except SystemExit as exc:
    code = exc.code
with open(out, "w") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""


def _loaded(tmp_path, *args) -> tuple[int, set[str]]:
    out = tmp_path / "modules.json"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSTARTUP"}
    subprocess.run([sys.executable, "-c", _PROBE, str(out), *args], check=True, env=env, timeout=120,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    found = json.loads(out.read_text())
    return found["code"], set(found["modules"])


def test_process_with_nothing_to_do_does_not_load_what_only_some_files_need(tmp_path):
    root = make_workspace(tmp_path)
    for args in (("process", "--workspace", str(root)), ("process", "--json", "--workspace", str(root))):
        code, modules = _loaded(tmp_path, *args)
        assert code == 0
        assert "automation.pipeline" in modules and "sqlalchemy.dialects.sqlite" in modules  # (the probe saw a pass)
        assert not [m for m in NOT_AT_START if m in modules], args


def test_what_is_not_loaded_at_start_is_loaded_when_a_file_needs_it(tmp_path):
    """The deferred imports are real ones: a customer's name compared with the register loads the look-alike tables."""
    from automation.lookalike import is_mixed_script, skeleton

    assert skeleton("АВС贸易") == skeleton("ABC贸易") and is_mixed_script("АBC")
    assert "confusable_homoglyphs.confusables" in sys.modules

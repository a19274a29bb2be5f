"""Real workspaces in temporary folders: the default pack, a real store, the real pipeline."""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from automation.runtime import open_runtime
from automation.workspace import init_workspace

# Fast to react; no LibreOffice start per finished case (the 审批单 PDF tests switch it back on).
FAST = {"quiet_seconds": 0.3, "sweep_seconds": 1.0, "coalesce_seconds": 0.2, "poll_seconds": 0.3,
        "approval_record_pdf": False}


def tune(root: Path, **values) -> None:
    """Set ``key = value`` lines in officeflow.toml (only keys already present)."""
    path = root / "officeflow.toml"
    text = path.read_text(encoding="utf-8")
    for key, value in values.items():
        literal = f'"{value}"' if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
        text, n = re.subn(rf"^{key} = .*$", f"{key} = {literal}", text, flags=re.M)
        assert n == 1, key
    path.write_text(text, encoding="utf-8")


_TEMPLATE: dict[str, Path] = {}


def make_workspace(tmp_path: Path, **settings) -> Path:
    """A fresh workspace; the default pack is built once per test process and copied
    (the template's name holds the process id: pytest-xdist workers share the base folder)."""
    if "root" not in _TEMPLATE:
        base = Path(tmp_path).parent.parent / f"officeflow-template-{os.getpid()}"
        if not base.exists():
            init_workspace(base)
        _TEMPLATE["root"] = base
    root = Path(tmp_path) / "ws"
    shutil.copytree(_TEMPLATE["root"], root, ignore=shutil.ignore_patterns(".officeflow"))
    tune(root, **{**FAST, **settings})
    return root


def wait_for(condition, timeout: float = 20.0, interval: float = 0.05, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


@contextmanager
def running_watcher(root: Path, **kwargs):
    """The real watcher in a thread; stopped and joined on exit (no leaked threads)."""
    from automation.service import Watcher

    rt = open_runtime(root)
    stop = threading.Event()
    watcher = Watcher(rt, **kwargs)
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield rt, watcher
    finally:
        stop.set()
        thread.join(timeout=20)
        rt.close()
        assert not thread.is_alive(), "watcher thread did not stop"


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != ".gitkeep")

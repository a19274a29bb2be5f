"""The policy in force, re-read when 制度.xlsx changes.

A broken workbook never replaces a good one: the same checks as
``officeflow policy check`` run first; on failure the last good policy stays in
force, the report is written next to the workbook (制度.检查结果.txt) and an
alert shows in ``officeflow status``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from automation.clock import Clock
from automation.errors import OfficeFlowError, PolicyError
from automation.fsutil import atomic_write_text
from automation.record import audit
from automation.record import schema as s

log = logging.getLogger("officeflow")
REPORT_NAME = "制度.检查结果.txt"


class PolicyHolder:
    def __init__(self, settings, specs, store, clock: Clock):
        self.settings = settings
        self.specs = specs
        self.store = store
        self.clock = clock
        self.current = None
        self.calendar = None
        self._signature: tuple | None = None
        self._candidate: tuple | None = None
        self._candidate_since = 0.0

    @property
    def path(self) -> Path:
        return self.settings.policy_workbook

    @property
    def report_path(self) -> Path:
        return self.path.with_name(REPORT_NAME)

    def _stat(self) -> tuple | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_size, st.st_mtime_ns)

    def _settled(self, signature: tuple) -> bool:
        """Excel writes a workbook in several steps: read it only once it has stopped changing."""
        now = time.monotonic()
        if signature != self._candidate:
            self._candidate, self._candidate_since = signature, now
        return now - self._candidate_since >= self.settings.quiet_seconds

    def load_initial(self) -> None:
        if not self.path.exists():
            raise PolicyError(f"找不到制度文件 {self.path}。请运行 officeflow init 生成默认制度。")
        if not self.refresh(force=True):
            raise PolicyError(f"制度文件有错误,无法启动。详见 {self.report_path}(或运行 officeflow policy check)。",
                              location=str(self.path))

    def refresh(self, force: bool = False) -> bool:
        """Re-read the workbook if it changed. True when the policy in force is good."""
        from automation.policy.lint import lint_policy
        from automation.policy.workbook import load_policy

        signature = self._stat()
        if not force and (signature is None or signature == self._signature or not self._settled(signature)):
            return self.current is not None
        self._signature = signature
        try:
            report = lint_policy(self.path, self.specs)
            if not report.ok:
                self._refuse(report.render_text())
                return self.current is not None
            policy = load_policy(self.path, self.specs)
        except OfficeFlowError as exc:
            self._refuse(f"制度文件无法读取:{exc}")
            return self.current is not None
        except (OSError, KeyError, ValueError) as exc:
            # Excel may still be writing the file; try again at the next change or sweep.
            self._signature = None
            log.warning("制度文件暂时无法读取:%s", exc)
            return self.current is not None
        first = self.current is None
        self.current = policy
        self.calendar = policy.calendar
        if self.report_path.exists():
            self.report_path.unlink()
        if not first:
            self._record("policy-reloaded", "制度已重新加载并生效。")
        return True

    def _refuse(self, text: str) -> None:
        header = (f"制度检查结果 {self.clock.now():%Y-%m-%d %H:%M:%S}\n"
                  f"文件:{self.path.name}\n"
                  f"结论:有错误,{'继续使用上一版有效制度' if self.current else '无法启动'}。\n\n")
        atomic_write_text(self.report_path, header + text)
        self._record("policy-refused", f"制度文件有错误,未生效;详见 {REPORT_NAME}。", alert=True)

    def _record(self, action: str, message: str, alert: bool = False) -> None:
        now = self.clock.now()
        with self.store.begin() as conn:
            audit.append(conn, at=now, actor="系统", action=action, subject=self.path.name, detail={"说明": message})
            if alert:
                conn.execute(s.alerts.insert().values(at=now, kind="policy", subject=self.path.name, message=message, resolved=False))
            else:
                conn.execute(s.alerts.update().where(s.alerts.c.kind == "policy").values(resolved=True))

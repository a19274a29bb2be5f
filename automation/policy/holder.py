"""The policy in force, re-read when 制度.xlsx changes.

A broken workbook never replaces a good one: the same checks as
``officeflow policy check`` run first; on failure the last good policy stays in
force, the report is written next to the workbook (制度.检查结果.txt) and an
alert shows in ``officeflow status``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path

from sqlalchemy import select

from automation.clock import Clock
from automation.errors import OfficeFlowError, PolicyError
from automation.fsutil import atomic_target, atomic_write_text
from automation.policy.lint import lint_policy
from automation.policy.workbook import load_policy, read_sheets
from automation.record import audit
from automation.record import schema as s
from automation.record.submissions import HELD_ALERT, held

log = logging.getLogger("officeflow")
REPORT_NAME = "制度.检查结果.txt"
LAST_GOOD_NAME = "上一版有效制度.xlsx"  # in .officeflow/: the stored copy the loader reads


class PolicyHolder:
    def __init__(self, settings, specs, store, clock: Clock):
        self.settings = settings
        self.specs = specs
        self.store = store
        self.clock = clock
        self.current = None
        self.calendar = None
        self.generation = 0  # bumped whenever another policy comes into force
        self.fallback: str | None = None  # set while the last good policy from the store is in force
        self._signature: tuple | None = None
        self._candidate: tuple | None = None
        self._candidate_since = 0.0
        self._refusal: str | None = None  # the report part about a refused workbook
        self._held: str | None = None  # the report part about forms held by a policy fault

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
        return now - self._candidate_since >= self.settings.watch.quiet_seconds

    def load_initial(self) -> None:
        if self.refresh(force=True) if self.path.exists() else False:
            return
        if self._fall_back():
            return
        if not self.path.exists():
            raise PolicyError(f"找不到制度文件 {self.path}。请运行 officeflow init 生成默认制度。")
        raise PolicyError(f"制度文件有错误,无法启动。详见 {self.report_path}(或运行 officeflow policy check)。",
                          location=str(self.path))

    def refresh(self, force: bool = False) -> bool:
        """Re-read the workbook if it changed. True when the policy in force is good."""
        signature = self._stat()
        if not force and (signature is None or signature == self._signature or not self._settled(signature)):
            return self.current is not None
        self._signature = signature
        try:
            content = self.path.read_bytes()
            try:
                sheets = read_sheets(self.path)  # read once, then checked and loaded
            except PolicyError:
                sheets = None  # the check reports the unreadable workbook
            report = lint_policy(self.path, self.specs, spec_expressions=False, sheets=sheets)
            if not report.ok:
                self._refuse(report.render_text())
                return self.current is not None
            policy = load_policy(self.path, self.specs, sheets=sheets)
        except OfficeFlowError as exc:
            self._refuse(f"制度文件无法读取:{exc}")
            return self.current is not None
        except (OSError, KeyError, ValueError) as exc:
            # Excel may still be writing the file; try again at the next change or sweep.
            self._signature = None
            log.warning("制度文件暂时无法读取:%s", exc)
            return self.current is not None
        first = self.current is None
        if self._stat() == signature:  # the bytes read are the bytes checked
            self._remember(content)
        self._put_in_force(policy)
        self._refusal = None
        self._write_report()
        if not first:
            self._record("policy-reloaded", "制度已重新加载并生效。")
        return True

    def _put_in_force(self, policy, fallback: str | None = None) -> None:
        self.current = policy
        self.calendar = policy.calendar
        self.fallback = fallback
        self.generation += 1

    # --- the last good policy, kept in the store ----------------------------------

    def _remember(self, content: bytes) -> None:
        digest = hashlib.sha256(content).hexdigest()
        with self.store.begin() as conn:
            known = conn.execute(select(s.policy_versions.c.id).where(s.policy_versions.c.sha256 == digest)).first()
            if known is None:
                conn.execute(s.policy_versions.insert().values(sha256=digest, name=self.path.name, content=content,
                                                                stored_at=self.clock.now()))

    def last_good(self):
        """The newest policy that passed the checks, as stored: (content, sha256, stored_at) or None."""
        v = s.policy_versions.c
        with self.store.read() as conn:
            return conn.execute(select(v.content, v.sha256, v.stored_at).order_by(v.id.desc()).limit(1)).first()

    def _fall_back(self) -> bool:
        """制度.xlsx is broken (or missing) at start-up: run on the last good policy from the store."""
        row = self.last_good()
        if row is None:
            return False
        copy = self.settings.state / LAST_GOOD_NAME
        copy.parent.mkdir(parents=True, exist_ok=True)
        with atomic_target(copy) as tmp:
            Path(tmp).write_bytes(row.content)
        try:
            policy = load_policy(copy, self.specs)
        except (OfficeFlowError, OSError, KeyError, ValueError) as exc:
            log.error("数据库中保存的上一版制度无法读取:%s", exc)
            return False
        when = row.stored_at.astimezone(self.clock.tz)
        note = (f"启动时 {self.path.name} 有错误,正在使用上一版有效制度"
                f"({when:%Y-%m-%d %H:%M} 通过检查,SHA-256 {row.sha256[:12]}…)。"
                f"请按 {REPORT_NAME} 修改 {self.path.name},保存后会自动生效。")
        self._put_in_force(policy, fallback=note)
        self._refusal = f"{note}\n\n{self._refusal or ''}"
        self._write_report()
        self._record("policy-fallback", note, alert=True)
        return True

    # --- the administrator's report -------------------------------------------------

    def report_held(self, rows) -> None:
        """List the forms held (等待制度修正) in the report, or clear that part once none is left."""
        text = _held_text(rows) if rows else None
        if text == self._held:
            return
        had = self._held is not None
        self._held = text
        self._write_report()
        if had and text is None:
            with self.store.begin() as conn:
                conn.execute(s.alerts.update().where(s.alerts.c.kind == HELD_ALERT).values(resolved=True))
                audit.append(conn, at=self.clock.now(), actor="系统", action="held-forms-released",
                             subject=self.path.name, detail={"说明": "制度修正后,等待制度修正的表单已全部继续处理。"})

    def _write_report(self) -> None:
        # Held forms are read from the store, so any process (status, check…) writes the same report.
        with self.store.read() as conn:
            rows = held(conn)
        parts = [p for p in (self._refusal, _held_text(rows) if rows else None) if p]
        if not parts:
            if self.report_path.exists():
                self.report_path.unlink()
            return
        header = f"制度检查结果 {self.clock.now():%Y-%m-%d %H:%M:%S}\n文件:{self.path.name}\n\n"
        atomic_write_text(self.report_path, header + "\n\n".join(parts))

    def _refuse(self, text: str) -> None:
        if self.fallback:
            verdict = "有错误,继续使用数据库中保存的上一版有效制度"
        else:
            verdict = "有错误,继续使用上一版有效制度" if self.current else "有错误,无法启动"
        self._refusal = f"结论:{verdict}。\n\n{text}"
        self._write_report()
        self._record("policy-refused", f"制度文件有错误,未生效;详见 {REPORT_NAME}。", alert=True)

    def _record(self, action: str, message: str, alert: bool = False) -> None:
        now = self.clock.now()
        with self.store.begin() as conn:
            audit.append(conn, at=now, actor="系统", action=action, subject=self.path.name, detail={"说明": message})
            if alert:
                if not _open_alert(conn, "policy", message):  # every command opens a runtime: say it once
                    conn.execute(s.alerts.insert().values(at=now, kind="policy", subject=self.path.name, message=message,
                                                          resolved=False))
            else:  # a good policy is in force again
                conn.execute(s.alerts.update().where(s.alerts.c.kind == "policy").values(resolved=True))


def _open_alert(conn, kind: str, message: str) -> bool:
    a = s.alerts.c
    return conn.execute(select(a.id).where(a.kind == kind, a.message == message, a.resolved.is_(False))).first() is not None


def _held_text(rows) -> str:
    lines = [f"以下 {len(rows)} 张表单因制度中的规则无法计算而暂缓处理(等待制度修正)。问题在制度而不在表单,",
             "表单已妥善保存;修正 制度.xlsx 并保存后会自动继续处理,提交人无需重新提交。", ""]
    for n, row in enumerate(rows, start=1):
        lines.append(f"{n}. 提交#{row.id}「{row.name}」:{row.reason}")
    return "\n".join(lines) + "\n"

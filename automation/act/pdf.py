"""A PDF beside each contract when LibreOffice is installed; its absence is reported once.

Each conversion gets its own LibreOffice profile (-env:UserInstallation) in a
temporary folder: two workers sharing the default profile make the second
soffice exit at once without converting anything.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from automation.errors import TemplateError
from automation.fsutil import move_file

log = logging.getLogger(__name__)

# Set once soffice was found missing, so the log says so once, not once per contract.
absence_reported = False


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def available() -> bool:
    return soffice() is not None


def to_pdf(docx: Path, timeout: float = 120) -> Path | None:
    """Convert ``docx`` to ``<same name>.pdf`` beside it. None when LibreOffice is not installed.

    Raises TemplateError (code ``pdf-conversion-failed``) when LibreOffice fails or times out.
    """
    program = soffice()
    if program is None:
        _report_absence()
        return None
    docx = Path(docx)
    with tempfile.TemporaryDirectory(prefix="officeflow-soffice-") as work:
        out_dir = Path(work) / "out"
        command = [
            program, f"-env:UserInstallation={Path(work, 'profile').as_uri()}",
            "--headless", "--norestore", "--convert-to", "pdf", "--outdir", str(out_dir), str(docx),
        ]
        _run(command, timeout, docx)
        produced = out_dir / (docx.stem + ".pdf")
        if not produced.exists():
            raise TemplateError(f"LibreOffice 没有生成「{docx.name}」的 PDF。", code="pdf-conversion-failed",
                                location=str(docx))
        return move_file(produced, docx.with_suffix(".pdf"))


def _run(command: list[str], timeout: float, docx: Path) -> None:
    # A new session so that on timeout the whole soffice process group can be ended.
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        proc.communicate()
        raise TemplateError(f"LibreOffice 转换「{docx.name}」超过 {timeout:g} 秒未完成,已停止。",
                            code="pdf-conversion-failed", location=str(docx)) from None
    if proc.returncode != 0:
        detail = err.decode("utf-8", "replace").strip()[:300]
        raise TemplateError(f"LibreOffice 转换「{docx.name}」失败(退出码 {proc.returncode}):{detail}",
                            code="pdf-conversion-failed", location=str(docx))


def _kill(proc: subprocess.Popen) -> None:
    if hasattr(os, "killpg"):
        os.killpg(proc.pid, signal.SIGKILL)  # soffice forks soffice.bin; end both
    else:
        proc.kill()


def _report_absence() -> None:
    global absence_reported
    if not absence_reported:
        log.warning("未安装 LibreOffice(找不到 soffice),合同只生成 Word 文件,不生成 PDF。")
        absence_reported = True

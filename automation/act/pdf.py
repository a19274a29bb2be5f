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
    made = to_pdfs([docx], timeout=timeout)
    return None if made is None else made[0]


def to_pdfs(docxs: list[Path], timeout: float | None = None) -> list[Path] | None:
    """Convert every file in ``docxs`` to a PDF beside it in ONE LibreOffice run (its start-up,
    about a second, is paid once per batch, not once per file). None when LibreOffice is not
    installed; TemplateError when it fails, times out, or leaves any of them unconverted."""
    program = soffice()
    if program is None:
        _report_absence()
        return None
    docxs = [Path(d) for d in docxs]
    if not docxs:
        return []
    if len({d.stem for d in docxs}) < len(docxs):  # one output folder: same-named files go one by one
        return [pdf for d in docxs for pdf in (to_pdfs([d], timeout) or [])]
    timeout = timeout if timeout is not None else 120 + 30 * (len(docxs) - 1)
    with tempfile.TemporaryDirectory(prefix="officeflow-soffice-") as work:
        out_dir = Path(work) / "out"
        command = [
            program, f"-env:UserInstallation={Path(work, 'profile').as_uri()}",
            "--headless", "--norestore", "--convert-to", "pdf", "--outdir", str(out_dir), *map(str, docxs),
        ]
        _run(command, timeout, docxs[0] if len(docxs) == 1 else None)
        missing = [d for d in docxs if not (out_dir / (d.stem + ".pdf")).exists()]
        made = [move_file(out_dir / (d.stem + ".pdf"), d.with_suffix(".pdf")) for d in docxs if d not in missing]
        if missing:
            raise TemplateError(f"LibreOffice 没有生成「{missing[0].name}」的 PDF。", code="pdf-conversion-failed",
                                location=str(missing[0]))
        return made


def _run(command: list[str], timeout: float, docx: Path | None) -> None:
    what = f"「{docx.name}」" if docx else "这一批合同"
    # A new session so that on timeout the whole soffice process group can be ended.
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        proc.communicate()
        raise TemplateError(f"LibreOffice 转换{what}超过 {timeout:g} 秒未完成,已停止。",
                            code="pdf-conversion-failed", location=str(docx or "")) from None
    if proc.returncode != 0:
        detail = err.decode("utf-8", "replace").strip()[:300]
        raise TemplateError(f"LibreOffice 转换{what}失败(退出码 {proc.returncode}):{detail}",
                            code="pdf-conversion-failed", location=str(docx or ""))


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

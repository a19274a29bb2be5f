"""The real LibreOffice, as a component of the test suite.

    outs = resave([a.docx, b.docx], "docx", tmp_path / "lo")   # one soffice call for the batch

Every conversion runs ``soffice --headless --convert-to`` with a private user
profile (``-env:UserInstallation``) made once per test session, so parallel
sessions never share LibreOffice's profile lock, and one call converts a whole
batch (starting LibreOffice costs more than converting a form). Tests that need
it take the ``soffice`` fixture: without LibreOffice they are skipped with the
reason and the install command, except under ``CI=true``, where a missing
LibreOffice is a failure (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

INSTALL = "apt-get install -y libreoffice-calc-nogui libreoffice-writer-nogui fonts-noto-cjk"
# Target format → LibreOffice export filter. The OOXML filters are the ones "Save as .xlsx/.docx" uses.
FILTERS = {
    "xlsx": "xlsx:Calc MS Excel 2007 XML",
    "docx": "docx:MS Word 2007 XML",
    "ods": "ods",
    "odt": "odt",
}
TIMEOUT = 240  # seconds for one batch, on 2 shared cores
_PROFILE: list[Path] = []


def soffice_binary() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def require_soffice() -> str:
    """The soffice binary, or skip (locally) / fail (under CI) with the reason."""
    binary = soffice_binary()
    if binary:
        return binary
    reason = f"LibreOffice (soffice) 未安装,往返测试需要它:{INSTALL}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI 中必须安装 LibreOffice。{reason}", pytrace=False)
    pytest.skip(reason)


def _profile() -> Path:
    if not _PROFILE:
        _PROFILE.append(Path(tempfile.mkdtemp(prefix="officeflow-lo-profile-")))
    return _PROFILE[0]


def resave(files: list[Path], target: str, outdir: Path) -> list[Path]:
    """Open each file in LibreOffice and save it as ``target`` into ``outdir``; one soffice call.

    Returns the converted files in the order given (same stem, new extension).
    """
    binary = require_soffice()
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    files = [Path(f) for f in files]
    stems = [f.stem for f in files]
    assert len(set(stems)) == len(stems), "one batch cannot hold two files of the same name"
    cmd = [binary, f"-env:UserInstallation={_profile().as_uri()}", "--headless", "--norestore", "--nologo",
           "--convert-to", FILTERS[target], "--outdir", str(outdir), *map(str, files)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL,
                          env={**os.environ, "HOME": str(_profile())})
    outs = [outdir / f"{f.stem}.{target}" for f in files]
    missing = [o.name for o in outs if not o.exists()]
    assert not missing, f"LibreOffice did not write {missing}: {done.stdout[-2000:]} {done.stderr[-2000:]}"
    return outs


def resave_one(path: Path, target: str, outdir: Path) -> Path:
    return resave([path], target, outdir)[0]


def cleanup_profile() -> None:
    for profile in _PROFILE:
        shutil.rmtree(profile, ignore_errors=True)
    _PROFILE.clear()

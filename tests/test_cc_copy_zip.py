"""抄送 copies written at zip level equal the ones written through python-docx / openpyxl.

``cc_copy.write_file`` rewrites only what a copy changes and copies the other parts as
stored; ``cc_copy.write_with_library`` is the old load-and-save path, kept for packages
the zip writers leave alone.
"""

from __future__ import annotations

import zipfile

import docx
import pytest
from support.forms import build_blank, fill_docx, repo_specs

from automation.act import cc_copy, return_docx

LINES = [cc_copy.MARK, "出差申请表 CC-202611-0001 审批中,当前在 王经理", "抄送给:李四。本副本仅供知悉,无需填写或提交。"]
STEPS = [("1", "经理", "王经理", "同意", "2026-11-23 09:30", "好的"), ("2", "财务", "赵会计", "同意", "2026-11-23 10:30", "")]


def _parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.mark.parametrize("steps", [STEPS, []])
@pytest.mark.parametrize("spec_id", ["trip_request", "complaint"])
def test_word_copy_at_zip_level_equals_the_python_docx_copy(tmp_path, spec_id, steps):
    src = fill_docx(build_blank(spec_id, tmp_path / "blank"), {"申请人": "张三"} if spec_id == "trip_request" else {})
    assert return_docx.write(src, tmp_path / "probe.docx", lambda d: cc_copy._edit_docx(d, LINES, steps))
    fast = cc_copy.write_file(src, tmp_path / "fast" / src.name, LINES, steps)
    slow = cc_copy.write_with_library(src, tmp_path / "slow" / src.name, LINES, steps)
    original, a, b = _parts(src), _parts(fast), _parts(slow)
    assert a["word/document.xml"] == b["word/document.xml"]
    assert list(a) == list(original)
    assert all(a[n] == original[n] for n in original if n != "word/document.xml")
    document = docx.Document(str(fast))
    assert document.tables[0].cell(0, 0).text == cc_copy.MARK
    assert not [p for p in document.paragraphs if "即可提交" in p.text]

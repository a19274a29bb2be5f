"""F9 请假单 and F12 用印申请单 are made of data only: their spec in forms/ and rows in 制度.xlsx.

No Python module under automation/ may name them (their ids, titles or registers). The one
exception is the default pack's data, ``automation/policy/pack.py``: it is the rows an
administrator would type into 制度.xlsx, transcribed from POLICY-PACK.md, and nothing reads
it at run time (``workbook_build`` writes it into the workbook).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from automation.act.effects import HANDLERS
from automation.forms.spec import load_spec

AUTOMATION = Path(__file__).resolve().parent.parent / "automation"
FORMS = Path(__file__).resolve().parent.parent / "forms"
PACK_DATA = AUTOMATION / "policy" / "pack.py"
NAMES = {"leave_request": ("leave_request", "请假单", "请假台账"), "seal_request": ("seal_request", "用印申请单", "用印台账")}


def offenders(root: Path, words: tuple[str, ...], *, except_: Path | None = None) -> list[tuple[str, str]]:
    return [(path.relative_to(root).as_posix(), word)
            for path in sorted(root.rglob("*.py")) if path != except_
            for word in words if word in path.read_text(encoding="utf-8")]


@pytest.mark.parametrize("form_id", sorted(NAMES))
def test_no_module_under_automation_names_the_form(form_id):
    assert offenders(AUTOMATION, NAMES[form_id], except_=PACK_DATA) == []


@pytest.mark.parametrize("form_id", sorted(NAMES))
def test_the_form_has_no_effect_of_its_own_and_declares_its_register(form_id):
    spec = load_spec(FORMS / f"{form_id}.yaml")
    assert form_id not in HANDLERS
    assert (spec.title, spec.register.name) == NAMES[form_id][1:]
    assert spec.summary_fields and spec.code


def test_the_scan_finds_a_module_that_names_a_form(tmp_path):
    (tmp_path / "act").mkdir()
    (tmp_path / "act" / "leave.py").write_text('SPEC_ID = "leave_request"\n', encoding="utf-8")
    (tmp_path / "data.py").write_text('TITLE = "请假单"\n', encoding="utf-8")
    assert offenders(tmp_path, NAMES["leave_request"], except_=tmp_path / "data.py") == [("act/leave.py", "leave_request")]

"""The Strict check looks at the parts the safety scan kept (the same bytes, CRC checked) instead of
inflating them through zipfile again; its answer is the one it gives on its own, Strict or not."""

from __future__ import annotations

import zipfile

import pytest
from support import producers
from support.forms import build_blank

from automation.forms import opened
from automation.intake.safety import inspect_file
from automation.intake.strict import is_strict
from automation.settings import Limits


@pytest.mark.parametrize("spec_id", ["trip_request", "expense_claim"])
@pytest.mark.parametrize("strict", [False, True])
def test_the_strict_check_inside_a_scan_agrees_with_it_alone_and_opens_no_part(tmp_path, monkeypatch, spec_id, strict):
    form = build_blank(spec_id, tmp_path)
    if strict:
        producers.strict_open_xml(form)
    alone = is_strict(form)
    assert alone is strict
    with opened.sharing():
        inspect_file(form, Limits())
        opens = []
        real = zipfile.ZipFile.open
        monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, *a, **k: opens.append(a[0]) or real(self, *a, **k))
        assert is_strict(form) is alone
    assert opens == []

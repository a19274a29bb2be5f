"""While one submission is judged its package is read and its zip directory parsed once
(forms/opened.py): the safety scan, the Strict check, identification and extraction share them.
A file replaced meanwhile is read anew; outside the scope nothing is shared."""

from __future__ import annotations

import os
import zipfile
from datetime import date

import pytest
from support.forms import build_blank, fill_docx, fill_xlsx

from automation import samples
from automation.extract.read import read_form
from automation.forms import opened
from automation.forms import raw as raw_module
from automation.forms.spec import load_specs
from automation.identify.identify import identify
from automation.intake.safety import inspect_file
from automation.intake.strict import is_strict
from automation.settings import Limits
from support.forms import FORMS


@pytest.fixture
def zip_opens(monkeypatch):
    """How many zip directories are parsed (every zipfile.ZipFile made, whoever makes it)."""
    made = []

    class Counted(zipfile.ZipFile):
        def __init__(self, *args, **kwargs):
            made.append(args[0])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(zipfile, "ZipFile", Counted)
    return made


def _judge(path):
    raw_module._READ.clear()
    kind = inspect_file(path, Limits())
    is_strict(path)
    spec, version, how = identify(path, kind, load_specs(FORMS))
    return read_form(path, spec, version, how)


@pytest.mark.parametrize("kind", ["xlsx", "docx"])
def test_a_file_judged_is_read_and_its_zip_directory_parsed_once(tmp_path, zip_opens, kind):
    if kind == "xlsx":
        form = fill_xlsx(build_blank("customer_registration", tmp_path),
                         samples.customer_registration(7, date(2026, 11, 23)))
    else:
        form = fill_docx(build_blank("trip_request", tmp_path), samples.trip_request(date(2026, 11, 23)))
    alone = _judge(form)
    separate = len(zip_opens)
    zip_opens.clear()
    with opened.sharing():
        shared = _judge(form)
    assert len(zip_opens) == 1 < separate
    assert (shared.values, shared.raw, shared.places) == (alone.values, alone.raw, alone.places)


def test_a_file_replaced_or_touched_while_judged_is_read_anew(tmp_path):
    path, other = tmp_path / "a.bin", tmp_path / "b.bin"
    path.write_bytes(b"first")
    other.write_bytes(b"again")
    with opened.sharing():
        first = opened.opened(path)
        assert opened.opened(path) is first and first.data == b"first"
        os.replace(other, path)  # as the Strict conversion swaps in its new file
        assert opened.read_bytes(path) == b"again"
        path.write_bytes(b"third")
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
        assert opened.read_bytes(path) == b"third"
    assert opened.opened(path) is None  # no scope: nothing shared


def test_a_fifo_is_never_read_ahead(tmp_path):
    fifo = tmp_path / "pipe.xlsx"
    os.mkfifo(fifo)
    with opened.sharing():
        assert opened.opened(fifo) is None  # (reading it would block)

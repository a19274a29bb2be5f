"""A decision file is parsed once: its approval inputs and the fingerprint of its form data come from
one read (decide.officefile.read_inputs hands the parsed workbook or body on to decide.integrity).

Real task files (Excel: 销售合同审批表 with its 明细; Word: 出差申请表) issued by the real writer. The
parse is counted by wrapping the reader's own entry point (the real one still does the work).
"""

from __future__ import annotations

import shutil

import pytest
from support.decide import desk, route, step, trip_task_file

from automation.decide.integrity import fingerprints
from automation.decide.officefile import DECISION_NAME, read_inputs
from automation.forms import docx_reader, raw as raw_module, xlsx_reader
from automation.forms.fill import fill_docx


def _xlsx_task_file(tmp_path):
    d = desk(tmp_path)
    case_id = d.open(route(step("办事处经理", "吴强")))
    return d, d.task_file(d.tasks(case_id)[0].id)


def _counting(monkeypatch, module, name):
    calls = []
    real = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def _fresh(path, spec):
    raw_module._READ.clear()
    xlsx_reader._HANDED_ON.clear()
    docx_reader._HANDED_ON.clear()
    return fingerprints(path, spec)


def test_excel_decision_file_inputs_and_fingerprint_come_from_one_read(tmp_path, monkeypatch):
    d, path = _xlsx_task_file(tmp_path)
    expected = _fresh(path, d.spec)
    raw_module._READ.clear()
    reads = _counting(monkeypatch, xlsx_reader, "_lean")
    inputs = read_inputs(path)
    assert fingerprints(path, d.spec) == expected
    assert len(reads) == 1
    assert inputs[DECISION_NAME] is None


def test_word_decision_file_inputs_and_fingerprint_come_from_one_parse(tmp_path, monkeypatch):
    d = desk(tmp_path)
    _, _, path = trip_task_file(d, "CC-2026-0001")
    expected = _fresh(path, d.spec)
    parses = _counting(monkeypatch, docx_reader, "load_tolerant")
    inputs = read_inputs(path)
    assert fingerprints(path, d.spec) == expected
    assert len(parses) == 1
    assert inputs[DECISION_NAME] is None


@pytest.mark.parametrize("kind", ["xlsx", "docx"])
def test_decision_file_saved_anew_between_inputs_and_fingerprint_is_read_again(tmp_path, monkeypatch, kind):
    """The handed-on read belongs to the bytes it came from: a file saved over meanwhile is read afresh."""
    if kind == "xlsx":
        d, path = _xlsx_task_file(tmp_path)
        module, name = xlsx_reader, "_lean"
        changed = tmp_path / "changed.xlsx"
        shutil.copy(path, changed)
        from support.decide import set_named
        set_named(changed, "客户名称", "另一家公司")
    else:
        d = desk(tmp_path)
        _, _, path = trip_task_file(d, "CC-2026-0002")
        module, name = docx_reader, "load_tolerant"
        changed = tmp_path / "changed.docx"
        shutil.copy(path, changed)
        fill_docx(changed, {"出差地点": "北京"})
    expected = _fresh(changed, d.spec)
    assert expected != _fresh(path, d.spec)
    raw_module._READ.clear()
    reads = _counting(monkeypatch, module, name)
    read_inputs(path)
    shutil.copy(changed, path)  # saved over between the two reads
    assert fingerprints(path, d.spec) == expected
    assert len(reads) == 2

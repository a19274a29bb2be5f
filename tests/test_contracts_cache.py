"""Contracts render from a template compiled once per process, and a pass's PDFs come from one
LibreOffice run: the same documents as before, a changed template is used at once."""

from __future__ import annotations

import os
import shutil
import stat

import zipfile
from datetime import date
from pathlib import Path

import pytest
from docxtpl import DocxTemplate
from support.contracts import COMPANY, SHIPPED_TEMPLATE, add_case, add_customer, make_store, workspace
from support.producers import rewrite

from automation.act import contracts
from automation.act.pdf import soffice, to_pdfs
from automation.policy.numbering import DEFAULT_FORMAT, allocate_contract_number

def _cases(store, n: int) -> list[int]:
    ids = []
    with store.begin() as conn:
        add_customer(conn)
        for i in range(n):
            ids.append(add_case(conn, f"SQ-2026-{i + 1:04d}"))
            allocate_contract_number(conn, ids[-1], DEFAULT_FORMAT, date(2026, 11, 23))
    return ids

def _body(path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read("word/document.xml")

def test_cached_render_writes_the_same_document_as_a_fresh_docxtpl_render(tmp_path):
    settings, store = workspace(tmp_path), make_store(tmp_path)
    template = settings.contracts / "销售合同.docx"
    first, second = _cases(store, 2)
    contracts.render_for_case(store, settings, first, template_path=template, company=COMPANY, pdf=False)
    cached = contracts.render_for_case(store, settings, second, template_path=template, company=COMPANY, pdf=False)
    # The same contract rendered the way it was before the cache: a fresh template and environment.
    with store.read() as conn:
        case, contract, customer = contracts._load(conn, second)
    context = contracts.build_context(case, contracts.codec.loads(case["data"]), customer, COMPANY, contract["number"],
                                      contracts._contract_day(contract, store))
    fresh = DocxTemplate(str(template))
    fresh.render(context, jinja_env=contracts.make_env(), autoescape=True)
    fresh.save(str(tmp_path / "fresh.docx"))
    assert _body(cached) == _body(tmp_path / "fresh.docx")
    assert contract["number"].encode() in _body(cached)

def test_a_changed_template_is_used_at_the_next_render(tmp_path):
    settings, store = workspace(tmp_path), make_store(tmp_path)
    template = settings.contracts / "销售合同.docx"
    first, second = _cases(store, 2)
    before = contracts.render_for_case(store, settings, first, template_path=template, company=COMPANY, pdf=False)
    assert "本合同经双方修订".encode() not in _body(before)

    def amend(parts):
        xml = parts["word/document.xml"].decode("utf-8")
        at = xml.rindex("</w:body>")
        extra = '<w:p><w:r><w:t>本合同经双方修订 {{ 合同编号 }}</w:t></w:r></w:p>'
        parts["word/document.xml"] = (xml[:at] + extra + xml[at:]).encode("utf-8")
        return parts

    rewrite(template, amend)
    after = contracts.render_for_case(store, settings, second, template_path=template, company=COMPANY, pdf=False)
    with store.read() as conn:
        number = contracts._load(conn, second)[1]["number"]
    assert f"本合同经双方修订 {number}".encode() in _body(after)

@pytest.mark.usefixtures("soffice")
def test_pdfs_of_several_contracts_come_from_one_libreoffice_run(tmp_path, monkeypatch):
    real = soffice()
    log = tmp_path / "runs.log"
    shim = tmp_path / "bin" / "soffice"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\necho run >> "{log}"\nexec "{real}" "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{shim.parent}{os.pathsep}{os.environ['PATH']}")
    docs = []
    for name in ("HT-2026-0001 甲公司.docx", "HT-2026-0002 乙公司.docx", "HT-2026-0003 丙公司.docx"):
        docs.append(shutil.copy(SHIPPED_TEMPLATE, tmp_path / name))
    made = to_pdfs(docs)
    assert sorted(p.name for p in made) == sorted(Path(d).stem + ".pdf" for d in docs)
    assert all(p.read_bytes().startswith(b"%PDF") for p in made)
    assert log.read_text().count("run") == 1

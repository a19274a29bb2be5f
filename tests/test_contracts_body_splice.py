"""A lent template's rendered body is spliced into the document part instead of moved into the
document and back: every part equals a plain docxtpl render saved by python-docx, with line
breaks and tabs in the values (docxtpl's listing pass) and without, and the splice stays on."""

from __future__ import annotations

from datetime import date

import pytest
from docxtpl import DocxTemplate
from support.contracts import (COMPANY, CUSTOMER_ROW, SHIPPED_TEMPLATE, f3_spec, f3_values, no_opened_templates,  # noqa: F401 (a fixture)
                              package_parts)

from automation.act import contract_docx, contracts


pytestmark = pytest.mark.usefixtures("no_opened_templates")
_parts = package_parts


def _python_docx(context, dest) -> dict[str, bytes]:
    doc = DocxTemplate(str(SHIPPED_TEMPLATE))
    doc.render(context, jinja_env=contract_docx.make_env(), autoescape=True)
    doc.save(str(dest))
    return _parts(dest)


def _idle_lent() -> contract_docx._Lent:
    (idle,) = contract_docx._OPENED._idle.values()
    return idle[0]


def _context(number: str, **changes) -> dict:
    values = f3_values(**changes)
    return contracts.build_context({"number": "SQ-2026-0001"}, values, dict(CUSTOMER_ROW, name=values["客户名称"]),
                                   COMPANY, number, date(2026, 11, 23), fields=f3_spec().all_keys)


def test_spliced_contracts_equal_python_docx_saves_with_and_without_line_breaks(tmp_path):
    contexts = [
        ("HT-2026-0001", _context("HT-2026-0001")),
        ("HT-2026-0002", _context("HT-2026-0002", 特殊条款="分两批交货\n第二批\t月底前", 客户名称="厦门 \"A&B\" 商贸")),
        ("HT-2026-0003", _context("HT-2026-0003", 特殊条款="无")),
        ("HT-2026-0004", _context("HT-2026-0004", 特殊条款="第一行\n第二行")),
    ]
    for number, context in contexts:
        ours = contracts.render_contract(SHIPPED_TEMPLATE, context, tmp_path / "out", number, "客户")
        assert _parts(ours) == _python_docx(context, tmp_path / f"reference-{number}.docx"), number
    assert contract_docx._OPENED.opened == 1
    lent = _idle_lent()
    assert lent.verified and lent.splice  # proven equal on the first render, spliced on the others
    broken = _parts(tmp_path / "out" / "HT-2026-0002 客户.docx")["word/document.xml"]
    assert b"<w:br/>" in broken and b"<w:tab/>" in broken


def test_a_document_part_the_splice_cannot_lay_out_is_serialised_by_python_docx(tmp_path):
    context = _context("HT-2026-0009")
    ours = contracts.render_contract(SHIPPED_TEMPLATE, context, tmp_path / "out", "HT-2026-0009", "客户")
    lent = _idle_lent()
    lent.loose_open = b"<w:body never>"  # as if the rendered body began differently from the template's
    again = contracts.render_contract(SHIPPED_TEMPLATE, context, tmp_path / "again", "HT-2026-0009", "客户")
    reference = _python_docx(context, tmp_path / "reference.docx")
    assert _parts(ours) == reference == _parts(again)

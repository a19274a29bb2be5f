"""A contract template's package is opened by python-docx once per process and lent to each render:
every part of every contract equals a render from a freshly opened template, the footnotes and
core properties of one contract never leak into the next, and a package the render would change
in ways that cannot be undone is opened again for every render."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from docxtpl import DocxTemplate
from lxml import etree
from support.contracts import (COMPANY, CUSTOMER_ROW, SHIPPED_TEMPLATE, f3_spec, f3_values, no_opened_templates,  # noqa: F401 (a fixture)
                              package_parts)
from support.producers import rewrite

from automation.act import contracts

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
FOOTNOTES_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes"
FOOTNOTES_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
DC = "http://purl.org/dc/elements/1.1/"
CORE_TYPE = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"


pytestmark = pytest.mark.usefixtures("no_opened_templates")
_parts = package_parts


def _contexts() -> list[tuple[str, str, dict]]:
    """Three contracts that differ in number, customer, rows, blank fields and dates."""
    one = f3_values()
    two = f3_values(客户名称="泉州晋江鞋业有限公司", 明细=one["明细"][:1], 合同金额=one["明细"][0]["金额"], 特殊条款="分两批交货")
    three = f3_values(客户名称="漳州 <A&B> 食品有限公司", 销售员=None, 交货日期=date(2027, 1, 5))
    made = []
    for n, values in enumerate((one, two, three), start=1):
        number = f"HT-2026-{n:04d}"
        customer = dict(CUSTOMER_ROW, name=values["客户名称"])
        context = contracts.build_context({"number": f"SQ-2026-{n:04d}"}, values, customer, COMPANY, number,
                                          date(2026, 11, 20 + n), fields=f3_spec().all_keys)
        made.append((number, values["客户名称"], context))
    return made


def _fresh(template, context, dest, *, python_docx: bool = False):
    """The reference: docxtpl on a freshly opened template, saved as contracts were saved before the
    package was kept open (at zip level when it can be), or by python-docx throughout."""
    doc = DocxTemplate(str(template))
    doc.render(context, jinja_env=contracts.make_env(), autoescape=True)
    if python_docx or not contracts._save_at_zip_level(doc, template, dest):
        doc.save(str(dest))
    return _parts(dest)


def test_contracts_from_one_opened_template_equal_fresh_renders_part_for_part(tmp_path):
    made = []
    for number, customer, context in _contexts():
        path = contracts.render_contract(SHIPPED_TEMPLATE, context, tmp_path / "out", number, customer)
        made.append((number, _parts(path), _fresh(SHIPPED_TEMPLATE, context, tmp_path / f"fresh-{number}.docx"),
                     _fresh(SHIPPED_TEMPLATE, context, tmp_path / f"docx-{number}.docx", python_docx=True)))
    assert contracts._OPENED.opened == 1  # the package was opened once, lent three times
    for number, ours, reference, python_docx in made:
        assert ours == reference == python_docx  # every part, byte for byte
        assert number.encode() in ours["word/document.xml"] and number.encode() in ours["word/footer1.xml"]
    assert b"&lt;A&amp;B&gt;" in made[2][1]["word/document.xml"]
    assert made[0][1]["word/document.xml"] != made[1][1]["word/document.xml"]


def _with_footnotes(parts: dict[str, bytes]) -> dict[str, bytes]:
    parts["word/footnotes.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes xmlns:w="{W}">'
        '<w:footnote w:id="1"><w:p><w:r><w:t>本合同编号 {{ 合同编号 }},签订于 {{ 签订地点 }}</w:t></w:r></w:p>'
        '</w:footnote></w:footnotes>').encode("utf-8")
    rels = etree.fromstring(parts["word/_rels/document.xml.rels"])
    etree.SubElement(rels, f"{{{rels.nsmap[None]}}}Relationship", Id="rId900", Type=FOOTNOTES_TYPE,
                     Target="footnotes.xml")
    parts["word/_rels/document.xml.rels"] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8", standalone=True)
    types = etree.fromstring(parts["[Content_Types].xml"])
    etree.SubElement(types, f"{{{types.nsmap[None]}}}Override", PartName="/word/footnotes.xml", ContentType=FOOTNOTES_CT)
    parts["[Content_Types].xml"] = etree.tostring(types, xml_declaration=True, encoding="UTF-8", standalone=True)
    # The core properties carry a tag too: docxtpl renders the title, and the next contract must not inherit it.
    core = etree.fromstring(parts["docProps/core.xml"])
    title = core.find(f"{{{DC}}}title")
    if title is None:
        title = etree.SubElement(core, f"{{{DC}}}title")
    title.text = "合同 {{ 合同编号 }}"
    parts["docProps/core.xml"] = etree.tostring(core, xml_declaration=True, encoding="UTF-8", standalone=True)
    return parts


def test_footnotes_and_properties_of_one_contract_do_not_reach_the_next(tmp_path):
    template = rewrite(shutil.copy(SHIPPED_TEMPLATE, tmp_path / "带脚注.docx"), _with_footnotes)
    made = []
    for number, customer, context in _contexts():
        path = contracts.render_contract(template, context, tmp_path / "out", number, customer)
        made.append((number, _parts(path), _fresh(template, context, tmp_path / f"fresh-{number}.docx")))
    assert contracts._OPENED.opened == 1
    numbers = [number for number, _, _ in made]
    for number, ours, reference in made:
        assert ours == reference
        assert f"本合同编号 {number}".encode() in ours["word/footnotes.xml"]
        assert f"合同 {number}".encode() in ours["docProps/core.xml"]
        for other in set(numbers) - {number}:
            assert other.encode() not in ours["word/footnotes.xml"] + ours["docProps/core.xml"] + ours["word/document.xml"]


def _without_core_properties(parts: dict[str, bytes]) -> dict[str, bytes]:
    del parts["docProps/core.xml"]
    rels = etree.fromstring(parts["_rels/.rels"])
    for rel in [r for r in rels if r.get("Type") == CORE_TYPE]:
        rels.remove(rel)
    parts["_rels/.rels"] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8", standalone=True)
    types = etree.fromstring(parts["[Content_Types].xml"])
    for override in [o for o in types if o.get("PartName") == "/docProps/core.xml"]:
        types.remove(override)
    parts["[Content_Types].xml"] = etree.tostring(types, xml_declaration=True, encoding="UTF-8", standalone=True)
    return parts


def test_a_template_without_core_properties_is_opened_afresh_for_every_render(tmp_path):
    # python-docx adds a core properties part while rendering such a package: it is saved by
    # python-docx, as before, and its changed document is not lent again.
    template = rewrite(shutil.copy(SHIPPED_TEMPLATE, tmp_path / "无属性.docx"), _without_core_properties)
    made = []
    for number, customer, context in _contexts()[:2]:
        path = contracts.render_contract(template, context, tmp_path / "out", number, customer)
        made.append((number, _parts(path), _fresh(template, context, tmp_path / f"fresh-{number}.docx")))
    assert contracts._OPENED.opened == 2
    for number, ours, reference in made:
        assert set(ours) == set(reference) and "docProps/core.xml" in ours
        # core.xml holds python-docx's "modified" time of each save; every other part is equal
        assert {k: v for k, v in ours.items() if k != "docProps/core.xml"} == \
            {k: v for k, v in reference.items() if k != "docProps/core.xml"}
        assert number.encode() in ours["word/document.xml"]


def test_a_failed_render_does_not_lend_its_document_again(tmp_path):
    number, customer, context = _contexts()[0]
    broken = {k: v for k, v in context.items() if k != "合同编号"}
    with pytest.raises(contracts.TemplateError):
        contracts.render_contract(SHIPPED_TEMPLATE, broken, tmp_path / "out", number, customer)
    path = contracts.render_contract(SHIPPED_TEMPLATE, context, tmp_path / "out", number, customer)
    assert contracts._OPENED.opened == 2
    assert _parts(path) == _fresh(SHIPPED_TEMPLATE, context, tmp_path / "fresh.docx")

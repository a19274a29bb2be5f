"""A rendered contract is saved at zip level: only the parts docxtpl renders are written anew."""

from __future__ import annotations

import zipfile
from datetime import date

from support.contracts import COMPANY, CUSTOMER_ROW, SHIPPED_TEMPLATE, f3_spec, f3_values

from automation.act import contracts


def _parts(path):
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        return {name: zf.read(name) for name in zf.namelist()}


def test_contract_saved_at_zip_level_equals_python_docx_save_and_copies_the_styles(tmp_path):
    values = f3_values()
    context = contracts.build_context({"number": "SQ-2026-0001"}, values, CUSTOMER_ROW, COMPANY, "HT-2026-0042",
                                      date(2026, 11, 23), fields=f3_spec().all_keys)
    ours = contracts.render_contract(SHIPPED_TEMPLATE, context, tmp_path / "out", "HT-2026-0042", values["客户名称"])
    doc = contracts._Template(str(SHIPPED_TEMPLATE))
    doc.render(context, jinja_env=contracts.render_env(), autoescape=True)
    reference = tmp_path / "python-docx.docx"
    doc.save(str(reference))
    mine, theirs, template = _parts(ours), _parts(reference), _parts(SHIPPED_TEMPLATE)
    assert mine == theirs  # every part, byte for byte
    assert "HT-2026-0042".encode() in mine["word/document.xml"] and "HT-2026-0042".encode() in mine["word/footer1.xml"]
    with zipfile.ZipFile(ours) as out, zipfile.ZipFile(SHIPPED_TEMPLATE) as src:
        # Copied as stored: the compressed bytes of the styles part are the template's.
        assert out.getinfo("word/styles.xml").compress_size == src.getinfo("word/styles.xml").compress_size
        assert out.getinfo("word/styles.xml").CRC == src.getinfo("word/styles.xml").CRC
    assert mine["word/styles.xml"] == template["word/styles.xml"]


def test_contract_with_a_replaced_picture_is_saved_by_python_docx(tmp_path):
    values = f3_values()
    context = contracts.build_context({"number": "SQ-2026-0001"}, values, CUSTOMER_ROW, COMPANY, "HT-2026-0043",
                                      date(2026, 11, 23), fields=f3_spec().all_keys)
    doc = contracts._Template(str(SHIPPED_TEMPLATE))
    doc.render(context, jinja_env=contracts.render_env(), autoescape=True)
    doc.zipname_to_replace["docProps/thumbnail.jpeg"] = b"not a picture"
    assert contracts._save_at_zip_level(doc, SHIPPED_TEMPLATE, tmp_path / "x.docx") is False
    assert not (tmp_path / "x.docx").exists()

import shutil
import subprocess
from datetime import date

import pytest
from support.contracts import (
    COMPANY,
    SHIPPED_TEMPLATE,
    add_case,
    add_customer,
    make_store,
    workspace,
)

from automation.act.contracts import render_for_case
from automation.act.pdf import to_pdf
from automation.errors import TemplateError
from automation.policy.numbering import DEFAULT_FORMAT, allocate_contract_number

needs_soffice = pytest.mark.usefixtures("soffice")  # skipped when absent, a failure under CI (conftest)


@needs_soffice
def test_pdf_beside_the_contract_shows_the_contract_on_its_first_page(tmp_path):
    settings, store = workspace(tmp_path), make_store(tmp_path)
    with store.begin() as conn:
        add_customer(conn)
        case_id = add_case(conn, "SQ-2026-0001")
        allocate_contract_number(conn, case_id, DEFAULT_FORMAT, date(2026, 11, 23))
    docx = render_for_case(store, settings, case_id, template_path=settings.contracts / "销售合同.docx", company=COMPANY)
    pdf = docx.with_suffix(".pdf")
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                       check=True, timeout=60)
        pages = list(tmp_path.glob("page*.png"))
        assert len(pages) == 1 and pages[0].stat().st_size > 10_000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-l", "1", str(pdf), "-"], capture_output=True, check=True,
                              timeout=60).stdout.decode("utf-8")
        assert "HT-2026-0001" in text and "厦门海沧精密机械有限公司" in text
        assert "壹拾贰万零叁佰肆拾伍元陆角柒分" in text


@needs_soffice
def test_conversion_that_overruns_its_timeout_is_stopped_and_named(tmp_path):
    docx = tmp_path / "合同.docx"
    shutil.copy(SHIPPED_TEMPLATE, docx)
    with pytest.raises(TemplateError) as err:
        to_pdf(docx, timeout=0.01)
    assert err.value.code == "pdf-conversion-failed"
    assert not docx.with_suffix(".pdf").exists()

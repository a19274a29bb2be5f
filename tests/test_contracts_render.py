from datetime import date
from decimal import Decimal
from pathlib import Path

import cn2an
import pytest
from docx import Document
from sqlalchemy import select
from support.contracts import (
    COMPANY,
    CUSTOMER_ROW,
    SHIPPED_TEMPLATE,
    add_case,
    add_customer,
    docx_text,
    f3_spec,
    f3_values,
    make_store,
    table_rows,
    workspace,
    write_template,
)

from automation.act import pdf
from automation.act.contracts import (
    build_context,
    reason_path,
    render_contract,
    render_for_case,
    safe_file_name,
)
from automation.errors import TemplateError
from automation.policy.numbering import DEFAULT_FORMAT, allocate_contract_number
from automation.record import schema as s

TODAY = date(2026, 11, 23)


def render(tmp_path: Path, **changes) -> Path:
    values = f3_values(**changes)
    context = build_context({"number": "SQ-2026-0001"}, values, CUSTOMER_ROW, COMPANY, "HT-2026-0042", TODAY,
                            fields=f3_spec().all_keys)
    return render_contract(SHIPPED_TEMPLATE, context, tmp_path / "out", "HT-2026-0042", values["客户名称"])


def paragraph_with(path: Path, text: str) -> str:
    found = [p.text for p in Document(str(path)).paragraphs if text in p.text]
    assert found, f"no paragraph contains {text!r}"
    return found[0]


def test_contract_carries_number_parties_and_dates(tmp_path):
    path = render(tmp_path)
    assert path.name == "HT-2026-0042 厦门海沧精密机械有限公司.docx"
    assert "HT-2026-0042" in paragraph_with(path, "合同编号")
    assert paragraph_with(path, "甲方（卖方）：") == "甲方（卖方）：福州闽江贸易有限公司"
    assert paragraph_with(path, "乙方（买方）：") == "乙方（买方）：厦门海沧精密机械有限公司"
    assert COMPANY["统一社会信用代码"] in docx_text(path)
    assert CUSTOMER_ROW["credit_code"] in docx_text(path)
    assert paragraph_with(path, "签订日期") == "签订日期：2026年11月20日"
    assert "2026年12月15日" in paragraph_with(path, "交货日期")
    assert "HT-2026-0042" in Document(str(path)).sections[0].footer.paragraphs[0].text


def test_every_line_item_the_total_and_the_uppercase_amount_are_in_the_goods_table(tmp_path):
    rows = table_rows(render(tmp_path))
    assert rows[0] == ["序号", "品名", "规格型号", "数量", "单价（元）", "金额（元）"]
    assert rows[1] == ["1", "数控车床", "CK6150/1000", "2", "48,000.00", "96,000.00"]
    assert rows[2] == ["2", "液压卡盘", "KH-250", "5", "3,469.13", "17,345.65"]
    assert rows[3] == ["3", "刀具套装", "", "3", "2,333.34", "7,000.02"]
    assert rows[4][0] == "合    计" and rows[4][3] == "10" and rows[4][5] == "120,345.67"
    assert "人民币壹拾贰万零叁佰肆拾伍元陆角柒分" in rows[5][0] and "¥120,345.67" in rows[5][0]
    assert len(rows) == 6


@pytest.mark.parametrize("amount", ["0.05", "10", "100000", "120345.67", "1000000.00"])
def test_uppercase_amount_in_the_contract_matches_cn2an(tmp_path, amount):
    item = {"品名": "样品", "规格型号": "A", "数量": Decimal(1), "单价": Decimal(amount), "金额": Decimal(amount)}
    rows = table_rows(render(tmp_path, 明细=[item], 合同金额=Decimal(amount)))
    assert f"人民币{cn2an.an2cn(amount, 'rmb')}" in rows[-1][0]


def test_payment_terms_on_account_name_the_days(tmp_path):
    text = paragraph_with(render(tmp_path), "付款方式：")
    assert "账期为45天" in text and "45日内" in text and "¥120,345.67" in text


@pytest.mark.parametrize("method, phrase", [("预付款", "本合同签订之日起五个工作日内"), ("货到付款", "验收合格之日起三日内")])
def test_payment_terms_follow_the_payment_method(tmp_path, method, phrase):
    path = render(tmp_path, 付款方式=method, 账期天数=None)
    text = paragraph_with(path, "付款方式：")
    assert phrase in text and "账期" not in text
    assert "{%" not in docx_text(path)


def test_quote_discount_and_special_terms_appear_when_given(tmp_path):
    path = render(tmp_path, 特殊条款="质保期延长至二十四个月")
    assert "BJ-2026-1107" in paragraph_with(path, "本合同价格") and "3%" in paragraph_with(path, "本合同价格")
    assert paragraph_with(path, "特别约定") == "1. 特别约定：质保期延长至二十四个月。"


def test_blank_optional_fields_read_naturally(tmp_path):
    path = render(tmp_path, 报价单号=None, 折扣率=None)
    assert paragraph_with(path, "本合同价格") == "2. 本合同价格由双方协商确定。"
    assert paragraph_with(path, "特别约定") == "1. 特别约定：无。"
    assert "None" not in docx_text(path)


def test_customer_name_with_markup_characters_is_escaped_not_broken(tmp_path):
    name = "A&B <贸易> 公司/分部"
    values = f3_values(客户名称=name)
    context = build_context({}, values, {**CUSTOMER_ROW, "name": name}, COMPANY, "HT-2026-0001", TODAY)
    path = render_contract(SHIPPED_TEMPLATE, context, tmp_path, "HT-2026-0001", name)
    assert path.parent == tmp_path and "/" not in path.name[len("HT-2026-0001 "):]
    assert paragraph_with(path, "乙方（买方）：") == f"乙方（买方）：{name}"


@pytest.mark.parametrize("text, expected", [
    ('a/b\\c:d*e?f"g<h>i|j', "a_b_c_d_e_f_g_h_i_j"),
    ("  ..名称.. ", "名称"),
    ("CON", "_CON"),
])
def test_safe_file_name(text, expected):
    assert safe_file_name(text) == expected


def test_safe_file_name_is_length_limited_in_characters_and_bytes():
    assert len(safe_file_name("x" * 300)) == 80
    assert len(safe_file_name("公" * 300).encode("utf-8")) <= 200


def test_misspelt_variable_fails_loudly_instead_of_printing_a_blank(tmp_path):
    template = write_template(tmp_path / "t.docx", "买方:{{ 客户名陈 }}")
    with pytest.raises(TemplateError) as err:
        render_contract(template, {"客户名称": "甲"}, tmp_path / "out", "HT-1", "甲")
    assert err.value.code == "template-unknown-variable"
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


# --- render_for_case: the store, the outbox, failure handling ----------------


def approved_case(settings, store):
    with store.begin() as conn:
        add_customer(conn)
        case_id = add_case(conn, "SQ-2026-0007")
        allocate_contract_number(conn, case_id, DEFAULT_FORMAT, TODAY)
    return case_id


def test_render_for_case_writes_the_contract_and_records_it(tmp_path):
    settings, store = workspace(tmp_path), make_store(tmp_path)
    case_id = approved_case(settings, store)
    path = render_for_case(store, settings, case_id, template_path=settings.contracts / "销售合同.docx",
                           company=COMPANY, pdf=False)
    assert path == settings.contracts_out / "HT-2026-0001 厦门海沧精密机械有限公司.docx"
    with store.read() as conn:
        row = conn.execute(select(s.contracts)).mappings().one()
        actions = conn.execute(select(s.audit_log.c.action)).scalars().all()
    assert (row["status"], row["file_path"], row["render_error"]) == ("已生成", "outbox/contracts/" + path.name, None)
    assert actions == ["contract-rendered"]


def test_regenerating_gives_the_same_number_and_content(tmp_path):
    settings, store = workspace(tmp_path), make_store(tmp_path)
    case_id = approved_case(settings, store)
    kwargs = dict(template_path=settings.contracts / "销售合同.docx", company=COMPANY, pdf=False)
    first = render_for_case(store, settings, case_id, **kwargs)
    text = docx_text(first)
    first.unlink()
    second = render_for_case(store, settings, case_id, **kwargs)
    assert second == first and docx_text(second) == text
    with store.read() as conn:
        assert conn.execute(select(s.contracts.c.number)).scalars().all() == ["HT-2026-0001"]


def test_broken_template_keeps_the_approval_and_leaves_a_reason_and_an_alert(tmp_path):
    settings, store = workspace(tmp_path), make_store(tmp_path)
    case_id = approved_case(settings, store)
    broken = write_template(settings.contracts / "坏模板.docx", "{{ 合同编号 }}", "{% if 付款方式 %}未结束")
    assert render_for_case(store, settings, case_id, template_path=broken, company=COMPANY, pdf=False) is None
    reason = reason_path(settings, "HT-2026-0001")
    assert reason.name == "HT-2026-0001 生成失败.原因.txt"
    assert "审批已经完成并且仍然有效" in reason.read_text(encoding="utf-8-sig")
    with store.read() as conn:
        case = conn.execute(select(s.cases.c.status)).scalar()
        contract = conn.execute(select(s.contracts)).mappings().one()
        alert = conn.execute(select(s.alerts)).mappings().one()
    assert case == "approved"
    assert contract["status"] == "生成失败" and contract["render_error"]
    assert (alert["kind"], alert["subject"], alert["resolved"]) == ("contract-render-failed", "HT-2026-0001", False)
    # Fixed template: the same number renders, the reason file goes and the alert is resolved.
    fixed = render_for_case(store, settings, case_id, template_path=settings.contracts / "销售合同.docx",
                            company=COMPANY, pdf=False)
    assert fixed is not None and fixed.name.startswith("HT-2026-0001 ")
    assert not reason.exists()
    with store.read() as conn:
        assert conn.execute(select(s.alerts.c.resolved)).scalar() is True


def test_without_libreoffice_the_docx_is_still_produced(tmp_path, monkeypatch):
    settings, store = workspace(tmp_path), make_store(tmp_path)
    case_id = approved_case(settings, store)
    empty = tmp_path / "no-programs"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # soffice cannot be found
    path = render_for_case(store, settings, case_id, template_path=settings.contracts / "销售合同.docx", company=COMPANY)
    assert path is not None and path.exists()
    assert not path.with_suffix(".pdf").exists()
    assert pdf.absence_reported is True
    with store.read() as conn:
        assert conn.execute(select(s.alerts)).first() is None  # absence is not an error

import json

from support.contracts import (
    REPO,
    SHIPPED_TEMPLATE,
    SHIPPED_TEMPLATES,
    docx_text,
    f3_spec,
    write_template,
)

from automation.act import contract_template
from automation.act.template_lint import lint_templates, sample_context_for
from automation.forms.spec import load_specs



def codes(report):
    return sorted({p.code for p in report.problems})


def test_shipped_templates_pass_the_lint():
    report = lint_templates(SHIPPED_TEMPLATES, load_specs(REPO / "forms"))
    assert report.templates == ["销售合同.docx"]
    # Not even a warning: a fresh workspace's `contracts lint` must not cry wolf.
    assert report.problems == []


def test_a_deal_field_left_out_of_the_template_is_still_a_warning(tmp_path):
    write_template(tmp_path / "合同.docx", "乙方:{{ 客户名称 }}", "金额:{{ 合同金额|大写 }}")
    report = lint_templates(tmp_path, f3_spec())
    unused = {p.field for p in report.problems if p.code == "template-field-unused"}
    assert {"交货日期", "付款方式", "明细"} <= unused
    # Printed through its figure, or about the application rather than the deal: not warned.
    assert unused.isdisjoint({"合同金额大写", "申请人", "申请日期", "销售员", "偏离说明"})


def test_shipped_template_is_what_the_script_builds(tmp_path):
    built = contract_template.build(tmp_path / "销售合同.docx")
    assert docx_text(built) == docx_text(SHIPPED_TEMPLATE)


def test_misspelt_variable_is_reported_with_a_suggestion(tmp_path):
    write_template(tmp_path / "合同.docx", "乙方:{{ 客户名陈 }}", "{{ 合同编号 }}")
    report = lint_templates(tmp_path, f3_spec())
    problem = next(p for p in report.problems if p.code == "template-unknown-variable")
    assert not report.ok
    assert problem.field == "客户名陈" and "您是否想写「客户名称」" in problem.message
    assert problem.location == "合同.docx"


def test_misspelt_key_of_a_party_or_a_line_item_is_reported(tmp_path):
    write_template(tmp_path / "合同.docx", "{{ 买方.地扯 }}", "{% for r in 明细 %}{{ r.品明 }}{% endfor %}")
    report = lint_templates(tmp_path, f3_spec())
    unknown = sorted(p.field for p in report.problems if p.code == "template-unknown-variable")
    assert unknown == ["r.品明", "买方.地扯"]
    assert any("「品名」" in p.message for p in report.problems)


def test_unclosed_tag_is_a_syntax_error_with_where(tmp_path):
    write_template(tmp_path / "合同.docx", "第一段", "{% if 付款方式 == '账期' %}账期条款", "最后一段")
    report = lint_templates(tmp_path, f3_spec())
    assert codes(report) == ["template-syntax-error"]
    assert report.problems[0].location.startswith("合同.docx")
    assert "结束标签" in report.problems[0].message


def test_unclosed_variable_braces_are_a_syntax_error(tmp_path):
    write_template(tmp_path / "合同.docx", "合同编号:{{ 合同编号 }", "乙方:{{ 客户名称 }}")
    report = lint_templates(tmp_path, f3_spec())
    assert "template-syntax-error" in codes(report)


def test_unknown_filter_gets_a_suggestion(tmp_path):
    write_template(tmp_path / "合同.docx", "{{ 合同金额|大写的 }}")
    report = lint_templates(tmp_path, f3_spec())
    assert codes(report) == ["template-syntax-error"]
    assert "您是否想写「大写」" in report.problems[0].message


def test_template_that_breaks_on_blank_values_is_reported(tmp_path):
    write_template(tmp_path / "合同.docx", "{{ 合同编号 }} {{ 账期天数 + 1 }}")
    report = lint_templates(tmp_path, f3_spec())
    failed = [p for p in report.problems if p.code == "template-render-failed"]
    assert len(failed) == 1 and "空白数据" in failed[0].message


def test_fields_a_template_never_uses_are_warnings(tmp_path):
    write_template(tmp_path / "合同.docx", "{{ 合同编号 }} {{ 客户名称 }}")
    report = lint_templates(tmp_path, f3_spec())
    unused = {p.field for p in report.problems if p.code == "template-field-unused"}
    assert report.ok
    assert {"合同金额", "明细", "付款方式"} <= unused and "客户名称" not in unused
    assert all(p.level == "warning" for p in report.problems)


def test_lock_files_are_not_templates_and_report_serialises(tmp_path):
    write_template(tmp_path / "合同.docx", "{{ 合同编号 }}")
    write_template(tmp_path / "~$合同.docx", "{{ 乱码 }}")
    report = lint_templates(tmp_path, f3_spec(), sample_context_for(f3_spec()))
    data = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert data["templates"] == ["合同.docx"] and data["ok"] is True
    assert {p["code"] for p in data["problems"]} == {"template-field-unused"}

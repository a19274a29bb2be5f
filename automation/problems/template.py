"""Mistakes in a contract template (contracts/*.docx), found by ``officeflow contracts lint`` before a
customer's contract meets them. The location is the template file and the text near the mistake."""

from __future__ import annotations

from automation.problems import WARNING, kind

UNKNOWN_VARIABLE = kind(
    "template-unknown-variable", "合同模板引用了未知变量",
    "合同模板「{template}」中的「{name}」不是表单或合同提供的变量。{hint}",
)
SYNTAX_ERROR = kind(
    "template-syntax-error", "合同模板标签写法有误",
    "合同模板「{template}」的标签写法有误:{detail}(请检查花括号是否成对、每个 if/for 是否都有结束标签)",
)
RENDER_FAILED = kind(
    "template-render-failed", "合同模板无法填充",
    "合同模板「{template}」用{sample}填充时出错:{detail}",
)
FIELD_UNUSED = kind(
    "template-field-unused", "表单字段未在合同模板中使用",
    "表单「{form}」的字段「{field}」没有出现在合同模板「{template}」中;如合同确实不需要它,可忽略此提示。",
    WARNING,
)

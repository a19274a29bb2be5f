"""Problems whose cause is the policy (制度.xlsx), not the form: the administrator's to fix."""

from __future__ import annotations

from automation.problems import WARNING, kind

policy_fault = kind("policy-fault", "制度规则无法计算",
                    "制度中的规则({where})无法计算,问题在制度而不在表单:{message}提交后表单会等待制度修正,修正后自动处理。")

# What ``officeflow policy check`` finds in 制度.xlsx, each at its sheet!cell (keyed by the linter's short names).
LINT = {
    "unreadable": kind("policy-unreadable", "制度无法读取", "{message}"),
    "sheet": kind("policy-sheet-missing", "缺少工作表", "制度工作簿缺少工作表「{sheet}」。"),
    "column": kind("policy-column-missing", "缺少列", "工作表「{sheet}」缺少列「{column}」。"),
    "bad_value": kind("policy-bad-value", "单元格内容无效", "{message}"),
    "syntax": kind("policy-expression-invalid", "条件写法有误", "{message}"),
    "name": kind("policy-unknown-name", "条件中有未知名称",
                 "条件中的「{value}」既不是表单「{form}」的字段,也不是参数。{hint}"),
    "field": kind("policy-unknown-field", "未知字段", "「{value}」不是表单「{form}」的字段。{hint}"),
    "function": kind("policy-unknown-function", "未知函数", "函数「{value}」不存在。{hint}"),
    "arity": kind("policy-function-arguments", "函数参数个数不对", "函数「{value}」需要 {expected} 个参数,这里写了 {got} 个。"),
    "role": kind("policy-unknown-role", "未知角色", "角色「{value}」不在「角色」表中。{hint}"),
    "form": kind("policy-unknown-form", "未知表单", "表单「{value}」在 forms/ 中没有对应的规格。{hint}"),
    "unheld": kind("policy-role-unheld", "角色无人担任",
                   "角色「{value}」在「人员」表中没有在职人员担任;按参数「审批人为空时」({choice}),{what}。", level=WARNING),
    "superior": kind("policy-superior-unknown", "直属上级不存在", "「{person}」的直属上级「{value}」不在「人员」表中。{hint}"),
    "delegate": kind("policy-delegate-unknown", "代理人不存在", "「{person}」的代理人「{value}」不在「人员」表中。{hint}"),
    "dates": kind("policy-delegation-dates", "代理日期颠倒", "「{person}」的代理开始日期 {value} 晚于代理结束日期 {end}。"),
    "duplicate": kind("policy-person-duplicate", "人员重复", "「{value}」在「人员」表中出现了多次(另见 {other})。"),
    "mode": kind("policy-bad-mode", "审批方式无效", "方式「{value}」无效,只能是 依次、会签 或 或签。"),
    "level": kind("policy-bad-level", "级别无效", "级别「{value}」无效,只能是 错误 或 警告。"),
    "scope": kind("policy-bad-scope", "范围无效", "范围「{value}」无效,只能是 表单 或 明细。"),
    "param": kind("policy-unknown-parameter", "未知参数", "参数「{value}」不存在。{hint}"),
    "gap": kind("policy-amount-gap", "金额区间有缺口", "表单「{form}」按「{field}」分级的审批规则之间有缺口:{value} 不属于任何一级。"),
    "overlap": kind("policy-amount-overlap", "金额区间重叠", "表单「{form}」按「{field}」分级的审批规则重叠:{value} 同时属于本行和 {other}。"),
    "untyped": kind("policy-param-untyped", "参数没有类型",
                    "「参数」表没有「类型」列,数值无法逐一核对。请加上「类型」列(金额、数量、比例、工作日、天数、文本、是/否)。",
                    WARNING),
    "order_partial": kind("policy-order-partial", "顺序只填了一部分",
                          "表单「{form}」的审批规则只有部分行填写了「顺序」:未填写的行将排在已填写的行之后(按角色排序)。"
                          "请为该表单的每一行都填写顺序,或全部留空。", WARNING),
    "wan": kind("policy-param-wan", "参数按万读取", "{location}「{value}」读作 {number}。如果不是这个意思,请直接填写数字。",
                WARNING),
    "numbering": kind("policy-bad-numbering", "编号格式无效", "编号格式「{value}」无效:{message}"),
}

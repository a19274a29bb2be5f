"""Form specs for the eight default forms (as POLICY-PACK.md lists them) and small policy helpers.

The real specs live in forms/*.yaml (another area); these in-code specs keep the
policy tests independent of that work while using the same FormSpec class.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from openpyxl import load_workbook

from automation.forms.spec import FieldSpec, FormSpec, TableSpec
from automation.policy.workbook import load_policy
from automation.policy.workbook_build import build_policy_workbook

T = {"数量": "number", "单价": "money", "金额": "money"}


def _f(key: str, type_: str = "text", **kw) -> FieldSpec:
    return FieldSpec(key=key, label=key, type=type_, **kw)


def _form(id_: str, title: str, fields: list[FieldSpec], tables: tuple = (), **kw) -> FormSpec:
    return FormSpec(id=id_, title=title, version="1", accepted_versions=(), kind="xlsx", fields=tuple(fields),
                    tables=tables, **kw)


def _cols(*keys: str) -> tuple[FieldSpec, ...]:
    return tuple(_f(k, T.get(k, "text")) for k in keys)


def make_specs() -> dict[str, FormSpec]:
    specs = [
        _form("customer_registration", "客户登记表", [_f(k) for k in (
            "客户名称", "统一社会信用代码", "客户类型", "客户等级", "联系人", "联系电话", "地址", "所属区域", "客户来源",
            "销售员", "申请人", "申请日期", "备注")], customer_field="客户名称"),
        _form("credit_limit", "客户信用额度申请表", [_f(k) for k in (
            "客户名称", "申请信用额度", "账期天数", "信用等级", "年销售额", "注册资本", "成立年限", "调查人", "调查日期",
            "申请人", "申请日期")], amount_field="申请信用额度"),
        _form("sales_contract", "销售合同审批表", [_f(k) for k in (
            "客户名称", "合同类型", "合同金额", "合同金额大写", "折扣率", "付款方式", "账期天数", "签订日期", "交货日期",
            "报价单号", "偏离报价", "偏离说明", "特殊条款", "销售员", "申请人", "申请日期")],
            (TableSpec(key="明细", label="明细", columns=_cols("品名", "规格型号", "数量", "单价", "金额")),),
            amount_field="合同金额"),
        _form("expense_claim", "费用报销单", [_f(k) for k in (
            "报销人", "部门", "报销日期", "合计金额", "合计金额大写", "出差申请单号", "附件张数", "借款单号")],
            (TableSpec(key="明细", label="明细", columns=_cols(
                "费用类别", "发生日期", "地点", "事由", "金额", "单据张数", "出差天数", "招待人数")),),
            applicant_field="报销人", amount_field="合计金额", department_field="部门"),
        _form("trip_request", "出差申请表", [_f(k) for k in (
            "申请人", "部门", "出差地点", "出发日期", "返回日期", "事由", "交通方式", "预计费用", "申请日期")],
            department_field="部门"),
        _form("complaint", "客户投诉处理单", [_f(k) for k in (
            "客户名称", "联系方式", "投诉日期", "投诉类型", "严重程度", "投诉内容", "受理人", "责任部门", "处理方案",
            "方案完成日期", "回访日期", "客户满意度", "投诉编号")], applicant_field="受理人"),
        _form("return_request", "退货申请单", [_f(k) for k in ("原合同编号", "客户名称", "申请人", "申请日期")],
              (TableSpec(key="明细", label="明细", columns=_cols("品名", "规格型号", "退货数量", "退货原因")),)),
        _form("bad_debt", "坏账核销审批表", [_f(k) for k in (
            "客户名称", "原合同编号", "核销金额", "账龄天数", "原因", "办事处经理", "区域经理", "内务主管", "申请人",
            "申请日期")], amount_field="核销金额"),
        *_new_forms(),
    ]
    return {s.id: s for s in specs}


def _new_forms() -> list[FormSpec]:
    """F9–F13 (POLICY-PACK.md)."""
    return [
        _form("leave_request", "请假单", [_f(k) for k in (
            "申请人", "部门", "假别", "开始日期", "结束日期", "天数", "事由", "是否紧急", "工作交接人", "申请日期")],
            department_field="部门"),
        _form("loan_request", "借款单", [_f(k) for k in (
            "借款人", "部门", "借款类型", "借款金额", "借款金额大写", "借款事由", "出差申请单号", "借款日期", "预计还款日期",
            "申请日期")], applicant_field="借款人", amount_field="借款金额", department_field="部门"),
        _form("payment_receipt", "回款登记单", [_f(k) for k in (
            "客户名称", "原合同编号", "回款金额", "回款日期", "回款方式", "凭证类型", "凭证号", "销售员", "申请人",
            "申请日期")], amount_field="回款金额", customer_field="客户名称"),
        _form("seal_request", "用印申请单", [_f(k) for k in (
            "申请人", "部门", "印章类型", "文件名称", "用印事由", "份数", "是否带离", "预计归还日期", "关联合同编号",
            "申请日期")], department_field="部门"),
        _form("customer_status", "客户状态变更单", [_f(k) for k in (
            "客户名称", "变更后状态", "原因", "申请人", "申请日期")], customer_field="客户名称"),
    ]


def policy_copy(tmp_path: Path, edits: dict[str, dict[str, object]] | None = None) -> Path:
    """A fresh 制度.xlsx in tmp_path, with cells edited: {"审批规则": {"C3": "财务经理X"}}."""
    path = build_policy_workbook(tmp_path / "制度.xlsx")
    if edits:
        wb = load_workbook(path)
        for sheet, cells in edits.items():
            for ref, value in cells.items():
                wb[sheet][ref] = value
        wb.save(path)
    return path


def append_row(path: Path, sheet: str, values: list) -> int:
    """Add a row after the last one; returns its row number."""
    wb = load_workbook(path)
    ws = wb[sheet]
    ws.append(values)
    row = ws.max_row
    wb.save(path)
    return row


def find_row(path: Path, sheet: str, **match) -> int:
    """The row number of the first row whose columns equal ``match`` (by header)."""
    ws = load_workbook(path)[sheet]
    headers = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        data = dict(zip(headers, (c.value for c in row)))
        if all(data.get(k) == v for k, v in match.items()):
            return row[0].row
    raise LookupError(match)


def default_policy(tmp_path: Path):
    return load_policy(policy_copy(tmp_path), make_specs())


def shipped_policy_path() -> Path:
    return Path(__file__).resolve().parents[2] / "policies" / "制度.xlsx"


__all__ = ["make_specs", "policy_copy", "append_row", "find_row", "default_policy", "shipped_policy_path", "shutil"]

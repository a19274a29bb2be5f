"""Sample submissions for ``officeflow demo`` and for tests: plausible values per form."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from stdnum.cn import uscc

from automation.act.filters import upper_rmb


def credit_code(seq: int) -> str:
    """A valid 统一社会信用代码 (check digit computed by python-stdnum)."""
    body = f"91310000{seq:09d}"
    return body + uscc.calc_check_digit(body)


def customer_registration(seq: int, today: date, *, salesperson: str = "王芳", name: str | None = None) -> dict:
    return {
        "客户名称": name or f"上海示例贸易{seq:04d}有限公司",
        "统一社会信用代码": credit_code(seq),
        "客户类型": "企业",
        "客户等级": "B",
        "联系人": "刘经理",
        "联系电话": "13812345678",
        "地址": "上海市浦东新区世纪大道100号",
        "所属区域": "华东",
        "客户来源": "展会",
        "销售员": salesperson,
        "申请人": salesperson,
        "申请日期": today,
    }


def trip_request(today: date, *, applicant: str = "王芳", department: str = "销售一部") -> dict:
    return {
        "申请人": applicant,
        "部门": department,
        "出差地点": "杭州",
        "出发日期": today + timedelta(days=3),
        "返回日期": today + timedelta(days=5),
        "事由": "拜访客户,洽谈年度采购合同",
        "交通方式": "火车硬座",
        "预计费用": Decimal("1800.00"),
        "申请日期": today,
    }


def sales_contract(customer: str, today: date, *, amount_each: Decimal = Decimal("1000.00"), quantity: int = 10,
                   payment: str = "预付款", salesperson: str = "王芳", special: str | None = None) -> tuple[dict, list[dict]]:
    total = (amount_each * quantity).quantize(Decimal("0.01"))
    values = {
        "客户名称": customer,
        "合同类型": "销售合同",
        "合同金额": total,
        "折扣率": Decimal("0.02"),
        "付款方式": payment,
        "账期天数": 30 if payment == "账期" else None,
        "签订日期": today,
        "交货日期": today + timedelta(days=14),
        "偏离报价": "否",
        "特殊条款": special,
        "销售员": salesperson,
        "申请人": salesperson,
        "申请日期": today,
    }
    items = [{"品名": "工业控制器", "规格型号": "KX-200", "数量": quantity, "单价": amount_each, "金额": total}]
    return values, items


def credit_limit(customer: str, today: date, *, limit: Decimal = Decimal("200000.00"), days: int = 60,
                 applicant: str = "王芳", investigator: str | None = None) -> dict:
    # Key customers (limit above 信用额度_财务经理) must be investigated by the manager himself (R-CR-05).
    return {
        "客户名称": customer,
        "申请信用额度": limit,
        "账期天数": days,
        "信用等级": "B",
        "年销售额": Decimal("8000000.00"),
        "注册资本": Decimal("5000000.00"),
        "成立年限": 8,
        "调查人": investigator or ("吴强" if limit > Decimal("500000") else applicant),
        "调查日期": today,
        "申请人": applicant,
        "申请日期": today,
    }


def expense_claim(today: date, *, claimant: str = "王芳", department: str = "销售一部",
                  amount: Decimal = Decimal("86.00"), reason: str = "拜访客户打车") -> tuple[dict, list[dict]]:
    values = {
        "报销人": claimant,
        "部门": department,
        "报销日期": today,
        "合计金额": amount,
        "合计金额大写": upper_rmb(amount),
        "附件张数": 1,
    }
    items = [{"费用类别": "市内交通", "发生日期": today, "地点": "上海", "事由": reason, "金额": amount, "单据张数": 1}]
    return values, items


def complaint(today: date, *, customer: str = "上海示例客户有限公司", content: str = "设备运行噪音偏大",
              severity: str = "一般", receiver: str = "王芳") -> dict:
    return {
        "客户名称": customer,
        "联系方式": "13912345678",
        "投诉日期": today,
        "投诉类型": "产品质量",
        "严重程度": severity,
        "投诉内容": content,
        "受理人": receiver,
        "责任部门": "技术部",
    }

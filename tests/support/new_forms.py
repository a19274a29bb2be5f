"""Sample values and helpers for the forms F9–F13 (请假单, 借款单, 回款登记单, 用印申请单, 客户状态变更单).

Kept with the tests, not in ``automation/``: no module of the program may name
请假单 or 用印申请单 (they are built from their spec and 制度.xlsx alone).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl

from automation import samples
from automation.act.filters import upper_rmb
from automation.pipeline import check_file
from support.e2e import CUSTOMER, Office


def leave(today: date, **changes) -> dict:
    """A two-day 事假 next Wednesday–Thursday of a Monday ``today``."""
    return {"申请人": "王芳", "部门": "销售一部", "假别": "事假", "开始日期": today + timedelta(days=2),
            "结束日期": today + timedelta(days=3), "事由": "家中有事需要处理", "工作交接人": "陈静",
            "申请日期": today, **changes}


def seal(today: date, **changes) -> dict:
    return {"申请人": "王芳", "部门": "销售一部", "印章类型": "公章", "文件名称": "投标文件", "用印事由": "参加项目投标",
            "份数": 3, "是否带离": "否", "申请日期": today, **changes}


def loan(today: date, amount: Decimal = Decimal("1500.00"), **changes) -> dict:
    return {"借款人": "王芳", "部门": "销售一部", "借款类型": "备用金", "借款金额": amount, "借款金额大写": upper_rmb(amount),
            "借款事由": "办事处日常备用金", "借款日期": today, "预计还款日期": today + timedelta(days=20),
            "申请日期": today, **changes}


def receipt(contract: str, amount: Decimal, today: date, customer: str = CUSTOMER, **changes) -> dict:
    return {"客户名称": customer, "原合同编号": contract, "回款金额": amount, "回款日期": today, "回款方式": "银行转账",
            "凭证类型": "银行到款通知单", "凭证号": "YH-20261123-01", "销售员": "王芳", "申请人": "王芳",
            "申请日期": today, **changes}


def status_change(today: date, state: str = "黑名单", customer: str = CUSTOMER, **changes) -> dict:
    return {"客户名称": customer, "变更后状态": state, "原因": "多次拖欠货款,经核实列入黑名单", "申请人": "王芳",
            "申请日期": today, **changes}


# --- driving ----------------------------------------------------------------------------

def submit_and_route(office: Office, spec_id: str, values: dict, items: list[dict] | None = None) -> dict:
    office.submit(spec_id, values, items)
    office.run()
    case = office.case(form_id=spec_id)
    assert case["status"] == "in_approval", office.submissions()[-1]["reason"]
    return case


def approve_case(office: Office, spec_id: str, values: dict, items: list[dict] | None = None) -> dict:
    case = office.approve_all(submit_and_route(office, spec_id, values, items)["number"])
    assert case["status"] == "approved", case
    return case


def approved_contract(office: Office, amount_each: Decimal = Decimal("1000.00"), quantity: int = 10,
                      payment: str = "账期") -> str:
    from automation.record import schema as s

    values, items = samples.sales_contract(CUSTOMER, office.today, amount_each=amount_each, quantity=quantity,
                                           payment=payment)
    case = approve_case(office, "sales_contract", values, items)
    [contract] = office.rows(s.contracts, s.contracts.c.case_id == case["id"])
    return contract["number"]


def approved_trip(office: Office) -> str:
    return approve_case(office, "trip_request", samples.trip_request(office.today))["number"]


# --- verdicts ------------------------------------------------------------------------------

def cell(path: Path, key: str) -> str:
    """Where the blank form keeps ``key``: 「表单!B7」, as problems name it."""
    wb = openpyxl.load_workbook(path)
    sheet, coord = next(iter(wb.defined_names[key].destinations))
    return f"{sheet}!{coord.replace('$', '')}"


def verdict(office: Office, spec_id: str, values: dict, items: list[dict] | None = None):
    """(the filled form, its problems) as `officeflow check` and a submission see them."""
    path = office.form(spec_id, values, items)
    return path, check_file(office.rt, path).problems


def errors(problems) -> list:
    return [p for p in problems if p.is_error]


def warnings(problems) -> list:
    return [p for p in problems if not p.is_error]

from datetime import date

from support.effects import (
    MONDAY,
    PolicyStandIn,
    WeekdayCalendar,
    add_case,
    new_store,
    rows,
)

from automation.act.effects import on_decided
from automation.record import schema as s

POLICY = PolicyStandIn.with_roster(张三="销售一部", 李四="销售二部")
CODE = "91110000802100433B"


def registration(**overrides):
    values = {"客户名称": "北京华为科技有限公司", "统一社会信用代码": CODE, "客户类型": "企业", "客户等级": "B",
              "联系人": "王经理", "联系电话": "13800138000", "所属区域": "华北", "销售员": "张三",
              "申请人": "张三", "申请日期": MONDAY}
    values.update(overrides)
    return values


def approve(store, values, number, outcome="approved", today=MONDAY):
    with store.begin() as conn:
        case = add_case(conn, "customer_registration", values, number=number)
        return on_decided(conn, case=case, values=values, outcome=outcome, policy=POLICY, today=today,
                          cal=WeekdayCalendar())


def test_approved_registration_enters_the_register_with_owner_department_and_dates(tmp_path):
    store = new_store(tmp_path)
    assert approve(store, registration(), "KH-1") == {"customers"}
    with store.read() as conn:
        [row] = rows(conn, s.customers)
    assert (row.name, row.norm_name, row.credit_code, row.grade) == ("北京华为科技有限公司", "北京华为科技", CODE, "B")
    assert (row.owner, row.department, row.region, row.status) == ("张三", "销售一部", "华北", "正常")
    assert row.registered_on == row.last_active_on == MONDAY


def test_rejected_registration_touches_nothing(tmp_path):
    store = new_store(tmp_path)
    assert approve(store, registration(), "KH-1", outcome="rejected") == set()
    with store.read() as conn:
        assert rows(conn, s.customers) == []


def test_same_name_typed_differently_merges_into_one_customer(tmp_path):
    store = new_store(tmp_path)
    approve(store, registration(统一社会信用代码=None), "KH-1")
    later = date(2026, 12, 1)
    touched = approve(store, registration(客户名称="北京 华为科技 有限责任公司", 统一社会信用代码=None,
                                          销售员="李四", 客户等级="A"), "KH-2", today=later)
    assert touched == {"customers"}
    with store.read() as conn:
        [row] = rows(conn, s.customers)
    assert (row.name, row.owner, row.department, row.grade) == ("北京华为科技有限公司", "李四", "销售二部", "A")
    assert (row.registered_on, row.last_active_on) == (MONDAY, later)


def test_same_credit_code_under_another_name_merges_and_keeps_blank_fields(tmp_path):
    store = new_store(tmp_path)
    approve(store, registration(), "KH-1")
    approve(store, registration(客户名称="华为北京分部", 联系人=None, 所属区域=None), "KH-2")
    with store.read() as conn:
        [row] = rows(conn, s.customers)
    assert (row.name, row.contact, row.region) == ("北京华为科技有限公司", "王经理", "华北")


def test_department_falls_back_to_the_form_when_the_salesperson_is_not_on_the_roster(tmp_path):
    store = new_store(tmp_path)
    approve(store, registration(销售员="新人", 部门="销售三部"), "KH-1")
    with store.read() as conn:
        [row] = rows(conn, s.customers)
    assert (row.owner, row.department) == ("新人", "销售三部")

"""E-mail notices against a real SMTP server (aiosmtpd) on 127.0.0.1, started by the tests."""

from __future__ import annotations

import re
import socket
import threading
import time
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from support.e2e import CUSTOMER, Office, edit_policy

from automation import samples
from automation.record import schema as s

aiosmtpd = pytest.importorskip("aiosmtpd.controller")

ADDRESSES = {"王芳": "wangfang@example.com", "吴强": "wuqiang@example.com"}


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.original_content or envelope.content,
                                                                           policy=policy.default)))
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} mails, got {len(self.messages)}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server(port: int, inbox: Inbox):
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def _notify_office(tmp_path_root, customer_workspace, port: int, **extra: str) -> Office:
    import shutil

    root = tmp_path_root / "ws"
    shutil.copytree(customer_workspace, root)
    settings = root / "officeflow.toml"
    text = settings.read_text(encoding="utf-8")
    head, notify = text.split("[notify]")
    for key, literal in (("enabled", "true"), ("host", '"127.0.0.1"'), ("port", str(port)), ("tls", '"none"'),
                         *extra.items()):
        notify, n = re.subn(rf"^{key} = .*$", f"{key} = {literal}", notify, flags=re.M)
        assert n == 1, key
    settings.write_text(head + "[notify]" + notify + "timeout = 5\n", encoding="utf-8")

    def emails(ws):
        cols = next({str(c.value): c.column for c in r if c.value} for r in ws.iter_rows(max_row=6)
                    if any(c.value == "姓名" for c in r))
        for row in ws.iter_rows():
            name = row[cols["姓名"] - 1].value
            if name in ADDRESSES:
                ws.cell(row[0].row, cols["邮箱"], ADDRESSES[name])

    edit_policy(root, "人员", emails)
    from support.e2e import MONDAY, _morning
    from automation.clock import Clock

    # A minute after the workspace's history: notices start with what happens from now on.
    return Office(root=root, clock=Clock(fixed=_morning(MONDAY) + timedelta(minutes=1)))


def _submit(office: Office) -> dict:
    values, items = samples.sales_contract(CUSTOMER, office.today)
    office.submit("sales_contract", values, items)
    office.run()
    return office.case(form_id="sales_contract")


def test_one_mail_per_new_task_and_per_outcome_to_the_right_people(tmp_path, customer_workspace):
    inbox, port = Inbox(), _free_port()
    controller = _server(port, inbox)
    office = _notify_office(tmp_path, customer_workspace, port)
    try:
        case = _submit(office)
        [(to, task_mail)] = inbox.wait_for(1)
        assert to == [ADDRESSES["吴强"]]
        assert task_mail["Subject"].startswith(f"【待审批】{case['number']} 销售合同审批表 · 王芳")
        assert "办理时限" in task_mail.get_content() and "approvals" in task_mail.get_content()
        office.run()  # nothing new: nothing sent again
        office.decide_in_cell("吴强", "驳回", "价格低于底价", case["number"])
        office.run()
        mails = inbox.wait_for(2)
        to, outcome = mails[1]
        assert to == [ADDRESSES["王芳"]] and outcome["Subject"] == f"【已驳回】{case['number']} 销售合同审批表"
        assert "价格低于底价" in outcome.get_content()
        office.run()
        assert len(inbox.messages) == 2
        assert {r["status"] for r in office.rows(s.mail_outbox)} == {"sent"}
    finally:
        office.close()
        controller.stop()


def test_with_the_server_down_processing_finishes_and_mails_go_out_once_it_is_back(tmp_path, customer_workspace):
    port = _free_port()  # nobody listens here yet
    office = _notify_office(tmp_path, customer_workspace, port)
    inbox, controller = Inbox(), None
    try:
        case = _submit(office)
        assert office.open_holders(case["number"]) == ["吴强"] and office.task("吴强", case["number"])
        [queued] = office.rows(s.mail_outbox)
        assert queued["status"] == "pending" and queued["attempts"] == 1 and queued["last_error"]
        office.close()
        status = office.cli("status", "--json")
        assert status.returncode == 0 and "无法连接邮件服务器" in status.stdout
        controller = _server(port, inbox)
        office.clock.fixed += timedelta(minutes=2)  # past the back-off
        office.run()
        [(to, mail)] = inbox.wait_for(1)
        assert to == [ADDRESSES["吴强"]] and mail["Subject"].startswith(f"【待审批】{case['number']}")
        assert [r["status"] for r in office.rows(s.mail_outbox)] == ["sent"]
    finally:
        office.close()
        if controller is not None:
            controller.stop()


def test_daily_digest_lists_each_approvers_open_tasks_once_a_day(tmp_path, customer_workspace):
    inbox, port = Inbox(), _free_port()
    controller = _server(port, inbox)
    office = _notify_office(tmp_path, customer_workspace, port, digest="true", digest_hour="9")
    try:
        case = _submit(office)
        mails = inbox.wait_for(2)
        digests = [(to, m) for to, m in mails if m["Subject"].startswith("【每日待办】")]
        [(to, digest)] = digests
        assert to == [ADDRESSES["吴强"]] and case["number"] in digest.get_content()
        assert digest["Subject"] == f"【每日待办】{office.today:%Y-%m-%d} 共 1 件待审批"
        office.run()
        assert len(inbox.messages) == 2  # once a day
        office.at(office.today + timedelta(days=1))
        office.run()
        later = inbox.wait_for(3)
        assert later[2][1]["Subject"].startswith(f"【每日待办】{office.today:%Y-%m-%d}")
    finally:
        office.close()
        controller.stop()


def test_administrator_is_mailed_once_when_forms_are_held_for_a_policy_fault(tmp_path, customer_workspace):
    """A rule the policy cannot evaluate holds the form (等待制度修正); the administrator — by default
    the person 参数 转交管理员 names (钱明) — gets one mail naming the rule's cell, not one per pass."""
    from support.e2e import headers

    inbox, port = Inbox(), _free_port()
    controller = _server(port, inbox)
    office = _notify_office(tmp_path, customer_workspace, port)
    try:
        office.run()  # notices start now

        def break_rule_and_give_the_admin_an_address(ws):
            cols = headers(ws)
            if "邮箱" in cols:  # 人员
                for row in range(cols["__row__"] + 1, ws.max_row + 1):
                    if ws.cell(row, cols["姓名"]).value == "钱明":
                        ws.cell(row, cols["邮箱"]).value = "qianming@example.com"
                return
            for row in range(cols["__row__"] + 1, ws.max_row + 1):
                if ws.cell(row, cols["表单"]).value == "客户登记表":
                    ws.cell(row, cols["条件"]).value = "申请日期 > 1"  # a date against a number
                    return

        edit_policy(office.root, "人员", break_rule_and_give_the_admin_an_address)
        edit_policy(office.root, "审批规则", break_rule_and_give_the_admin_an_address)
        office.rt.policies.refresh(force=True)
        office.submit("customer_registration", samples.customer_registration(61, office.today))
        office.run()
        assert office.submissions()[-1]["reason_code"] == "policy-held"
        [(to, mail)] = inbox.wait_for(1)
        assert to == ["qianming@example.com"]
        assert mail["Subject"] == "【制度需修正】1 张表单因制度问题暂缓处理(等待制度修正)"
        body = mail.get_content()
        assert "审批规则!B" in body and "制度.检查结果.txt" in body and "无需重新提交" in body
        office.run()
        office.run()
        assert len(inbox.messages) == 1, "one mail per fault, not one per pass"
    finally:
        office.close()
        controller.stop()


def test_refused_policy_workbook_mails_the_address_in_notify_admin_once(tmp_path, customer_workspace):
    """[notify] admin names an address: a saved 制度.xlsx that fails the checks is mailed there, once —
    saving the same broken workbook again neither mails again nor clears the alert."""
    inbox, port = Inbox(), _free_port()
    controller = _server(port, inbox)
    office = _notify_office(tmp_path, customer_workspace, port)
    settings = office.root / "officeflow.toml"
    settings.write_text(settings.read_text(encoding="utf-8") + 'admin = "admin@example.com"\n', encoding="utf-8")
    try:
        office.run()  # notices start now

        def mistype(ws):
            for row in ws.iter_rows(min_row=2):
                if row[0].value == "重大合同金额":
                    row[1].value = "50万元"

        edit_policy(office.root, "参数", mistype)
        office.rt.policies.refresh(force=True)
        office.run()
        [(to, mail)] = inbox.wait_for(1)
        assert to == ["admin@example.com"] and mail["Subject"] == "【制度需修正】制度.xlsx 有错误,未生效"
        assert "制度.检查结果.txt" in mail.get_content()
        office.rt.policies.refresh(force=True)  # the same broken workbook read again
        office.run()
        assert len(inbox.messages) == 1
        assert office.rows(s.alerts, s.alerts.c.kind == "policy", s.alerts.c.resolved.is_(False))
    finally:
        office.close()
        controller.stop()

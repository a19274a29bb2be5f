"""E-mail notices (optional, off by default): a mail to the approver for each new task, to the
applicant for each outcome, and to the administrator when forms are held because the policy
is at fault (等待制度修正) or a saved 制度.xlsx was refused.

Mails are queued in the store (``mail_outbox``), one per event by a unique key, and sent
from there: a send that fails (server down, refused) stays queued with the error and a
next try time that backs off, and is shown in ``officeflow status``. Sending never raises
into the pass that called it, so mail can neither block nor lose processing.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from datetime import datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from sqlalchemy import String, cast, select

from automation.record import schema as s
from automation.record.submissions import HELD_ALERT

log = logging.getLogger("officeflow")
PENDING, SENT, NO_ADDRESS = "pending", "sent", "no-address"
OUTCOME_WORDS = {"approved": "已通过", "rejected": "已驳回", "returned": "退回修改", "withdrawn": "已撤回"}
FOOTER = "\n\n—— 本邮件由 OfficeFlow 自动发送,请勿直接回复。"
POLICY_ALERTS = (HELD_ALERT, "policy")  # forms held for a policy fault; a refused 制度.xlsx
ADMIN_PARAM = "转交管理员"  # 参数: the administrator, when [notify] admin is not set


def enabled(settings) -> bool:
    notify = getattr(settings, "notify", None)
    return bool(notify and notify.enabled)


def backoff(attempts: int, limit: float) -> timedelta:
    """1, 2, 4, 8 … minutes, at most ``limit`` seconds."""
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), limit))


# --- queueing ------------------------------------------------------------------------------------


def enqueue(rt) -> int:
    """Queue a mail for every task opened and every outcome not mailed yet (one query each)."""
    if not enabled(rt.settings):
        return 0
    since = _since(rt)
    made = [_task_mail(rt, row) for row in _new_tasks(rt, since)] + \
        [_outcome_mail(rt, row) for row in _new_outcomes(rt, since)] + _digests(rt) + _policy_fault_mails(rt, since)
    with rt.store.begin() as conn:
        for mail in made:
            if not conn.execute(select(s.mail_outbox.c.id).where(s.mail_outbox.c.key == mail["key"])).first():
                conn.execute(s.mail_outbox.insert().values(**mail))
    return len(made)


def _since(rt) -> datetime:
    """When notices were first switched on: what happened before is not mailed after the fact."""
    with rt.store.begin() as conn:
        at = conn.execute(select(s.outputs.c.at).where(s.outputs.c.kind == "notify-since")).scalar()
        if at is None:
            at = rt.clock.now()
            conn.execute(s.outputs.insert().values(kind="notify-since", key="-", path=None, at=at))
    return at


def _new_tasks(rt, since: datetime) -> list[dict]:
    key = "task#" + cast(s.tasks.c.id, String)
    queued = select(s.mail_outbox.c.id).where(s.mail_outbox.c.key == key)
    with rt.store.read() as conn:
        return [dict(r) for r in conn.execute(
            select(s.tasks, s.cases.c.number, s.cases.c.form_title, s.cases.c.applicant, s.cases.c.amount)
            .join(s.cases, s.cases.c.id == s.tasks.c.case_id)
            .where(s.tasks.c.status == "open", s.tasks.c.opened_at >= since, ~queued.exists())).mappings()]


def _digests(rt) -> list[dict]:
    """With ``digest`` on: once a day, each approver gets the list of everything waiting for them."""
    cfg, now = rt.settings.notify, rt.clock.now()
    if not cfg.digest or now.hour < cfg.digest_hour:
        return []
    day = now.date()
    with rt.store.read() as conn:
        tasks = [dict(r) for r in conn.execute(
            select(s.tasks.c.assignee, s.tasks.c.due_on, s.tasks.c.role, s.cases.c.number, s.cases.c.form_title,
                   s.cases.c.applicant).join(s.cases, s.cases.c.id == s.tasks.c.case_id)
            .where(s.tasks.c.status == "open").order_by(s.tasks.c.due_on, s.tasks.c.id)).mappings()]
        sent = set(conn.execute(select(s.mail_outbox.c.key).where(
            s.mail_outbox.c.key.like(f"digest#%#{day.isoformat()}"))).scalars())
    by_person: dict[str, list[dict]] = {}
    for task in tasks:
        by_person.setdefault(task["assignee"], []).append(task)
    mails = []
    for person, mine in sorted(by_person.items()):
        key = f"digest#{person}#{day.isoformat()}"
        if key in sent:
            continue
        lines = [f"- {t['number']} {t['form_title']}({t['applicant'] or ''},{t['role']}),办理时限 "
                 + (f"{t['due_on']:%Y-%m-%d}" if t["due_on"] else "—")
                 + ("  【已超时】" if t["due_on"] and t["due_on"] < day else "") for t in mine]
        body = (f"{person} 您好:\n\n截至 {now:%Y-%m-%d %H:%M},共有 {len(mine)} 件申请等待您审批:\n" + "\n".join(lines)
                + f"\n\n审批文件在:{rt.settings.approvals / person}")
        mails.append(_mail(rt, key, person, f"【每日待办】{day:%Y-%m-%d} 共 {len(mine)} 件待审批", body))
    return mails


def _policy_fault_mails(rt, since: datetime) -> list[dict]:
    """One mail to the administrator for the policy alerts raised since the last such mail."""
    a = s.alerts.c
    with rt.store.read() as conn:
        keys = conn.execute(select(s.mail_outbox.c.key).where(s.mail_outbox.c.key.like("policy-alert#%"))).scalars()
        last = max((int(k.rsplit("#", 1)[1]) for k in keys), default=0)
        alerts = [dict(r) for r in conn.execute(select(s.alerts).where(
            a.kind.in_(POLICY_ALERTS), a.resolved.is_(False), a.id > last, a.at >= since).order_by(a.id)).mappings()]
    if not alerts:
        return []
    held = [x for x in alerts if x["kind"] == HELD_ALERT]
    report = rt.settings.policy_workbook.with_name("制度.检查结果.txt")
    if held:
        subject = f"【制度需修正】{len(held)} 张表单因制度问题暂缓处理(等待制度修正)"
    else:
        subject = f"【制度需修正】{rt.settings.policy_workbook.name} 有错误,未生效"
    lines = [f"{x['at'].astimezone(rt.clock.tz):%Y-%m-%d %H:%M} {x['message']}"
             + (f"(位置:{x['subject']})" if x["kind"] == HELD_ALERT and x["subject"] else "") for x in alerts]
    body = ("管理员您好:\n\n《制度.xlsx》中有需要修正的地方。问题在制度而不在表单:表单已妥善保存,"
            "没有退回给提交人,也没有隔离。\n\n" + "\n".join(f"- {line}" for line in lines)
            + f"\n\n详细说明见 {report}(也可运行 officeflow status 或 officeflow policy check)。"
            "修正《制度.xlsx》并保存后,等待制度修正的表单会自动继续处理,提交人无需重新提交。")
    return [_admin_mail(rt, f"policy-alert#{alerts[-1]['id']}", subject, body)]


def _admin_mail(rt, key: str, subject: str, body: str) -> dict:
    """To [notify] admin (an address, or a name in 人员), else the person 参数 转交管理员 names."""
    who = (rt.settings.notify.admin or "").strip()
    if "@" in who:
        return dict(key=key, recipient="管理员", address=who, subject=subject, body=body + FOOTER, status=PENDING,
                    attempts=0, created_at=rt.clock.now(), last_error=None)
    named = rt.policy.param(ADMIN_PARAM) if not who else who
    mail = _mail(rt, key, str(named).strip() if named else None, subject, body)
    if not named:
        mail.update(recipient="管理员", last_error="没有设置管理员的邮箱([notify] admin 或参数「转交管理员」),未发送。")
    return mail


def _outcome_key(number, round_, status) -> str:
    return f"outcome#{number}#{round_}#{status}"


def _new_outcomes(rt, since: datetime) -> list[dict]:
    key = "outcome#" + s.cases.c.number + "#" + cast(s.cases.c.round, String) + "#" + s.cases.c.status
    queued = select(s.mail_outbox.c.id).where(s.mail_outbox.c.key == key)
    with rt.store.read() as conn:
        cases = [dict(r) for r in conn.execute(select(s.cases).where(
            s.cases.c.status.in_(tuple(OUTCOME_WORDS)), s.cases.c.decided_at >= since, ~queued.exists())).mappings()]
        for case in cases:
            case["last"] = conn.execute(select(s.tasks.c.assignee, s.tasks.c.comment).where(
                s.tasks.c.case_id == case["id"], s.tasks.c.decision.is_not(None))
                .order_by(s.tasks.c.decided_at.desc(), s.tasks.c.id.desc()).limit(1)).first()
            case["contract"] = conn.execute(select(s.contracts.c.number, s.contracts.c.file_path).where(
                s.contracts.c.case_id == case["id"])).first()
    return cases


def _mail(rt, key: str, recipient: str | None, subject: str, body: str) -> dict:
    person = rt.policy.person(recipient) if recipient else None
    address = getattr(person, "email", None) or None
    return dict(key=key, recipient=recipient or "", address=address, subject=subject, body=body + FOOTER,
                status=PENDING if address else NO_ADDRESS, attempts=0, created_at=rt.clock.now(),
                last_error=None if address else f"人员表中没有「{recipient}」的邮箱,未发送。")


def _money(amount) -> str:
    return f"{Decimal(amount):,.2f} 元" if amount is not None else "—"


def _task_mail(rt, t: dict) -> dict:
    folder = rt.settings.approvals / t["assignee"]
    due = f"{t['due_on']:%Y-%m-%d}" if t["due_on"] else "—"
    subject = f"【待审批】{t['number']} {t['form_title']} · {t['applicant'] or ''} · 办理时限 {due}"
    body = (f"{t['assignee']} 您好:\n\n{t['applicant'] or '申请人'} 提交的「{t['form_title']}」(编号 {t['number']})"
            f"等待您审批({t['role']})。\n金额:{_money(t['amount'])}\n办理时限:{due}\n"
            f"审批文件所在文件夹:{folder}\n\n请打开审批文件办理:拖入「同意」「驳回」或「退回修改」文件夹,"
            "或在「审批」表中填写审批结论和审批意见后保存。")
    return _mail(rt, f"task#{t['id']}", t["assignee"], subject, body)


def _outcome_mail(rt, c: dict) -> dict:
    word = OUTCOME_WORDS[c["status"]]
    subject = f"【{word}】{c['number']} {c['form_title']}"
    lines = [f"{c['applicant'] or ''} 您好:\n\n您提交的「{c['form_title']}」(编号 {c['number']}){word}。"]
    if c["last"] is not None and c["status"] in ("rejected", "returned"):
        lines.append(f"审批人:{c['last'].assignee}\n意见:{c['last'].comment or '(未填写意见)'}")
    if c["status"] == "returned":
        lines.append("请到 outbox/requests/ 中您的文件夹取回退回的表单,修改后保留「申请编号」重新提交。")
    if c["contract"] is not None:
        lines.append(f"合同编号:{c['contract'].number}")
    lines.append(f"回执和「我的申请」在:{rt.settings.requests / (c['applicant'] or '未署名')}")
    return _mail(rt, _outcome_key(c["number"], c["round"], c["status"]), c["applicant"], subject, "\n".join(lines))


# --- sending --------------------------------------------------------------------------------------


def send_due(rt) -> int:
    """Send every queued mail whose time has come; failures are recorded and retried later."""
    if not enabled(rt.settings):
        return 0
    now = rt.clock.now()
    with rt.store.read() as conn:
        due = [dict(r) for r in conn.execute(select(s.mail_outbox).where(
            s.mail_outbox.c.status == PENDING,
            (s.mail_outbox.c.next_try_at.is_(None)) | (s.mail_outbox.c.next_try_at <= now))
            .order_by(s.mail_outbox.c.id)).mappings()]
    if not due:
        return 0
    cfg = rt.settings.notify
    try:
        server = _connect(cfg)
    except (OSError, smtplib.SMTPException) as exc:
        _failed(rt, due, f"无法连接邮件服务器 {cfg.host}:{cfg.port}({type(exc).__name__}: {exc})", now)
        return 0
    sent = 0
    try:
        for mail in due:
            try:
                server.send_message(_message(cfg, mail))
            except (OSError, smtplib.SMTPException) as exc:
                _failed(rt, [mail], f"邮件服务器拒绝发送({type(exc).__name__}: {exc})", now)
                if isinstance(exc, (OSError, smtplib.SMTPServerDisconnected)):
                    break
                continue
            with rt.store.begin() as conn:
                conn.execute(s.mail_outbox.update().where(s.mail_outbox.c.id == mail["id"]).values(
                    status=SENT, sent_at=now, attempts=mail["attempts"] + 1, last_error=None))
            sent += 1
    finally:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            pass
    return sent


def _connect(cfg) -> smtplib.SMTP:
    if cfg.tls == "ssl":
        server = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        if cfg.tls == "starttls":
            server.starttls(context=ssl.create_default_context())
    password = os.environ.get(cfg.password_env) if cfg.password_env else None
    if cfg.user and password:
        server.login(cfg.user, password)
    return server


def _message(cfg, mail: dict) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr(("OfficeFlow", cfg.sender))
    msg["To"] = formataddr((mail["recipient"], mail["address"]))
    msg["Subject"] = mail["subject"]
    msg["Message-ID"] = make_msgid(domain=(cfg.sender.split("@")[-1] or "officeflow.local"))
    msg.set_content(mail["body"], charset="utf-8")
    return msg


def _failed(rt, mails: list[dict], error: str, now: datetime) -> None:
    limit = rt.settings.notify.retry_max_seconds
    with rt.store.begin() as conn:
        for mail in mails:
            attempts = mail["attempts"] + 1
            conn.execute(s.mail_outbox.update().where(s.mail_outbox.c.id == mail["id"]).values(
                attempts=attempts, last_error=error, next_try_at=now + backoff(attempts, limit)))
    log.warning("邮件通知暂未发出(%s 封):%s;稍后自动重试。", len(mails), error)


def queue_state(store) -> list[dict]:
    """Mails not sent (still queued, or no address): for ``officeflow status``."""
    with store.read() as conn:
        return [dict(r) for r in conn.execute(select(
            s.mail_outbox.c.recipient, s.mail_outbox.c.subject, s.mail_outbox.c.status, s.mail_outbox.c.attempts,
            s.mail_outbox.c.next_try_at, s.mail_outbox.c.last_error).where(s.mail_outbox.c.status != SENT)
            .order_by(s.mail_outbox.c.id)).mappings()]

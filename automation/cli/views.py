"""How results look on the terminal. Library objects stay free of presentation."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from automation.cli import output as out
from automation.decide.status import AUTOMATIC_COLUMNS, CASE_COLUMNS, PERSON_REQUEST_COLUMNS, PERSON_TODO_COLUMNS
from automation.intake.names import readable
from automation.record.submissions import OUTCOME_LABELS

# Alert kinds are codes (for scripts and --json); people read these.
ALERT_LABELS = {"case-blocked": "审批链无人可办", "no-superior": "无法上报上级", "policy": "制度文件有误",
                "contract-render-failed": "合同生成失败", "contract-pdf-failed": "合同 PDF 未生成"}


def show_status(report) -> None:
    out.say_styled(("OfficeFlow 状态", "bold"), f"({report.today:%Y-%m-%d}):审批中 {len(report.open_cases)} 件,其中超时 {report.overdue} 件。")
    if report.policy_note:
        out.say_styled(("制度:", "bold"), report.policy_note)
    out.table("审批中的申请", CASE_COLUMNS, ([c[k] for k in CASE_COLUMNS] for c in report.open_cases))
    out.table("按审批人", ["审批人", "待办数", "超时数"], ([p["审批人"], p["待办数"], p["超时数"]] for p in report.per_person))
    if report.per_form:
        columns = list(report.per_form[0].keys())
        out.table("按表单", columns, ([f[k] for k in columns] for f in report.per_form))
    if report.blocked:
        out.table("待配置(审批链无人可办,请管理员修改制度)", ["编号", "表单", "申请人", "原因"],
                  ([b["编号"], b["表单"], b["申请人"], b["原因"]] for b in report.blocked))
    if report.held:
        out.table("等待制度修正(制度中的规则无法计算,修正制度后自动继续处理)", ["提交", "文件", "收到时间", "原因"],
                  ([h["提交"], h["文件"], f"{h['收到时间']:%Y-%m-%d %H:%M}", h["原因"]] for h in report.held))
    if report.automatic:
        out.table("系统自动处理(审批人去重、审批人为空时)", AUTOMATIC_COLUMNS,
                  ([a[k] for k in AUTOMATIC_COLUMNS] for a in report.automatic))
    if report.alerts:
        out.table("告警", ["时间", "类别", "对象", "说明"],
                  ([f"{a['at']:%Y-%m-%d %H:%M}", ALERT_LABELS.get(a["kind"], "提醒"), a["subject"], a["message"]]
                   for a in report.alerts))
    if report.mails:
        out.table("未发出的邮件通知(稍后自动重试)", ["收件人", "主题", "尝试次数", "原因"],
                  ([m["收件人"], m["主题"], m["尝试次数"], m["原因"]] for m in report.mails))
    if report.registers:
        out.table("待更新的台账", ["台账", "原因"],
                  ([r["name"], r.get("last_error") or "等待合并更新"] for r in report.registers))


def show_render(result) -> None:
    for name, rows in result.rendered.items():
        out.say(f"已生成 {name}.xlsx({rows} 行)")
    for name, why in result.pending.items():
        out.say_styled(("暂未更新", "yellow"), f" {name}.xlsx:{why}(数据已安全保存在数据库中,稍后自动重试)")


def show_demo(result) -> None:
    for line in result.events:
        out.say(f"· {line}")
    out.say("")
    out.say("先打开这三个文件看看:")
    root = Path(result.workspace)
    for n, (what, path) in enumerate(result.open_first, start=1):
        out.say(f"  {n}. {what}:{root / path}")
    out.say(f"待办在 {root / 'outbox' / 'approvals'},可以把文件拖进「同意」等文件夹,再运行 "
            f"officeflow process --workspace {root} 看下一步。")


def show_person(report) -> None:
    if not report.known:
        out.say_styled(("提示", "yellow"), f":「{report.person}」不在《制度.xlsx》人员表中,以下按姓名查找。")
    out.say_styled((report.person, "bold"), f"({report.today:%Y-%m-%d}):进行中的申请 {len(report.requests)} 件,"
                   f"待办审批 {len(report.todos)} 件。")
    out.table("我的申请(进行中)", PERSON_REQUEST_COLUMNS, ([r[k] for k in PERSON_REQUEST_COLUMNS] for r in report.requests))
    out.table("我的待办", PERSON_TODO_COLUMNS, ([t[k] for k in PERSON_TODO_COLUMNS] for t in report.todos))


@contextmanager
def file_progress(total: int, many: int = 20, describe=None):
    """Per-file lines for a few files; a progress bar when a batch is large.

    ``describe(path, outcome)`` may say more than the outcome (a routed form: its number and approver)."""
    if total < many:
        yield lambda path, outcome: out.say(
            f"  {readable(path.name)} → {(describe and describe(path, outcome)) or OUTCOME_LABELS.get(outcome, outcome)}")
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # large batches only

    columns = (TextColumn("处理收件箱"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=out.console, transient=True) as progress:
        task = progress.add_task("inbox", total=total)
        yield lambda path, outcome: progress.advance(task)

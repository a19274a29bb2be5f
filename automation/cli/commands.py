"""One function per command: call the library, print the result. Nothing else."""

from __future__ import annotations

import threading
from contextlib import nullcontext
from pathlib import Path

from automation.cli import output as out
from automation.errors import WorkspaceError
from automation.runtime import find_root, open_runtime
from automation.settings import load_settings

# Each command imports what it uses when it runs: an idle `officeflow process --json` does not pay
# for the status views, the register renderer, the audit checker or rich (and --help for none of them).


def init(args) -> int:
    from automation.workspace import init_workspace  # here, not at the top: a command loads only what it runs
    result = init_workspace(Path(args.dir))
    if args.json:
        out.print_json(result)
        return 0
    out.say(f"工作区:{result.root}")
    out.say(f"新建 {len(result.created)} 个文件,保留已有文件 {len(result.kept)} 个(从不覆盖)。")
    for name in result.created:
        out.say(f"  + {name}")
    out.say_styled("下一步:在该文件夹中运行 ", ("officeflow watch", "bold"), "。")
    return 0


def forms_build(args) -> int:
    from automation.forms.spec import load_specs  # here, not at the top: a command loads only what it runs
    from automation.forms.build import build_all  # this command only: the Office writers (~50 ms CPU) stay unloaded for the others
    settings = load_settings(find_root(args.workspace))
    paths = build_all(load_specs(settings.forms), settings.forms)
    if args.json:
        out.print_json({"built": [str(p) for p in paths]})
        return 0
    for path in paths:
        out.say(f"已生成空白表单:{path.name}")
    return 0


def forms_new(args) -> int:
    from automation.forms.scaffold import new_form_spec  # this command only: not loaded by every other command
    settings = load_settings(find_root(args.workspace))
    made = new_form_spec(settings.forms, args.title, form_id=args.form_id, code=args.code)
    if args.json:
        out.print_json(made.to_dict())
        return 0
    out.say(f"已生成表单规格:forms/{made.path.name}")
    out.say("下一步:1. 按需修改字段;2. 运行 officeflow forms build 生成空白表单;"
            f"3. 在 policies/制度.xlsx 中为「{made.title}」添加审批规则等各行;4. 运行 officeflow policy check。")
    return 0


def process(args) -> int:
    from automation.pipeline import process_pending  # here, not at the top: a command loads only what it runs
    with open_runtime(args.workspace) as rt:
        if rt.policies.fallback and not args.json:
            out.say(rt.policies.fallback)
        with _one_worker(rt):
            if args.json:
                summary = process_pending(rt)
            else:
                from automation.cli import views  # here, not at the top: a command loads only what it runs
                from automation.intake.scanner import list_inbox  # here, not at the top: a command loads only what it runs

                with views.file_progress(len(list_inbox(rt.settings.inbox)), describe=_describer(rt)) as on_file:
                    summary = process_pending(rt, on_file=on_file)
    if args.json:
        out.print_json(summary)
        return 0
    _print_summary(summary)
    return 0


def _one_worker(rt):
    """SQLite: one worker per workspace (the file lock). PostgreSQL: any number, coordinated by
    claims and the leader lock in the database (``record/claims.py``)."""
    from automation.intake.worklock import worker_lock  # here, not at the top: a command loads only what it runs

    return nullcontext() if rt.store.is_shared else worker_lock(rt.settings.state)


def _describer(rt):
    from automation.decide.status import submission_line  # here, not at the top: a command loads only what it runs
    from automation.intake.names import stored  # here, not at the top: a command loads only what it runs

    def describe(path: Path, outcome: str) -> str | None:
        try:
            return submission_line(rt.store, stored(path.relative_to(rt.settings.inbox).as_posix()))
        except ValueError:
            return None

    return describe


def _print_summary(summary) -> None:
    from automation.record.submissions import OUTCOME_LABELS  # here, not at the top: a command loads only what it runs

    taken = "、".join(f"{OUTCOME_LABELS.get(k, k)} {v} 个" for k, v in summary.taken.items()) or "没有新文件"
    out.say(f"收件箱:{taken}。审批决定:{summary.decisions} 个。催办/升级:{summary.reminders} 个。")
    if summary.registers:
        out.say(f"已更新台账:{'、'.join(summary.registers)}")
    if summary.waiting:
        out.say(f"还有 {summary.waiting} 个文件仍在写入中,稍后再处理。")


def watch(args) -> int:
    from automation.service import Watcher, stop_on_signals  # watch only: watchdog's observers (~35 ms CPU) are not loaded by process, status, …
    with stop_on_signals() as stop:  # installed before anything else, so a stop during start-up is clean too
        rt = _open_when_possible(args.workspace, stop, office=getattr(args, "office", None))
        if rt is None:  # stopped while waiting for the store
            out.say("已停止。")
            return 0
        mode = f"轮询,每 {args.poll} 秒" if args.poll else ("轮询" if rt.settings.watch.mode == "poll" else "系统文件事件")
        with rt, _one_worker(rt):
            out.say(f"OfficeFlow 正在监视 {rt.settings.office_inbox}({mode})。按 Ctrl-C 停止。")
            if rt.store.is_shared:
                from automation.record.store import display_url  # here, not at the top: a command loads only what it runs

                out.say(f"数据库为 PostgreSQL({display_url(rt.store.url)}):其他机器上的 officeflow watch 可同时处理此工作区,"
                        "由数据库协调,每个文件只处理一次。")
            if rt.policies.fallback:
                out.say(rt.policies.fallback)
            if not args.poll and rt.settings.watch.mode != "poll":
                _advise_polling(rt.settings)
            watcher = Watcher(rt, poll_seconds=args.poll, on_pass=_print_pass)
            watcher.run(stop)
    out.say("已停止。")
    return 0


def _advise_polling(settings) -> None:
    """Start-up self-test: on a share, or where a probe file raises no event, say to poll."""
    from automation.doctor import polling_advice  # watch only: the doctor's probes are not loaded by the other commands

    try:
        advice = polling_advice(settings)
    except OSError:
        return
    if advice:
        out.say_styled(("提示:", "bold yellow"), f"{advice},新文件要等定期扫描才会处理。"
                       "建议改用轮询:officeflow watch --poll 2,或在 officeflow.toml 的 [watch] 中设置 mode = \"poll\"。")


def _open_when_possible(workspace, stop: threading.Event, retry_seconds: float = 10.0, office: str | None = None):
    """The runtime; while the store cannot be opened (read-only, locked, share gone), say why and retry."""
    from automation.faults import describe as describe_fault  # here, not at the top: a command loads only what it runs

    said = None
    while not stop.is_set():
        try:
            return open_runtime(workspace, office=office)
        except Exception as exc:
            fault = describe_fault(exc)
            if fault is None:
                raise
            if fault != said:
                out.fail(f"{fault}将每 {retry_seconds:.0f} 秒重试一次,按 Ctrl-C 停止。")
                said = fault
            stop.wait(retry_seconds)
    return None


def _print_pass(summary) -> None:
    if summary.taken or summary.decisions or summary.reminders:
        _print_summary(summary)


def check(args) -> int:
    from automation.pipeline import check_files  # here, not at the top: a command loads only what it runs
    with open_runtime(args.workspace) as rt:
        result = check_files(rt, [Path(f) for f in args.files])
    if args.json:
        out.print_json(result)
    else:
        for item in result.items:
            out.say_styled((str(item.path), "bold"), f":{item.summary}")
            if item.problems:
                _problem_table(args, "问题清单", ["字段", "单元格", "填写的值"], item.problems,
                               lambda p: [p.field, p.location, p.value], extra=["依据"], extra_of=lambda p: [p.source])
    return 1 if result.has_errors else 0


def status(args) -> int:
    from automation.cli import views  # here, not at the top: a command loads only what it runs
    from automation.decide.status import status_report  # here, not at the top: a command loads only what it runs
    if getattr(args, "person", None):
        return _person_status(args)
    with open_runtime(args.workspace) as rt:
        report = status_report(rt.store, cal=rt.calendar, today=rt.clock.today(), policy_note=rt.policies.fallback)
    if args.json:
        out.print_json(report)
        return 0
    views.show_status(report)
    return 0


def _person_status(args) -> int:
    from zoneinfo import ZoneInfo  # here, not at the top: a command loads only what it runs
    
    from automation.cli import views  # here, not at the top: a command loads only what it runs
    from automation.decide.status import person_report  # here, not at the top: a command loads only what it runs
    with open_runtime(args.workspace) as rt:
        report = person_report(rt.store, cal=rt.calendar, today=rt.clock.today(), person=args.person,
                               tz=ZoneInfo(rt.settings.time.timezone), known=rt.policy.person(args.person) is not None)
    if args.json:
        out.print_json(report)
    else:
        views.show_person(report)
    return 0


def policy_check(args) -> int:
    from automation.forms.spec import load_specs  # here, not at the top: a command loads only what it runs
    from automation.policy.lint import lint_policy  # here, not at the top: a command loads only what it runs
    settings = load_settings(find_root(args.workspace))
    path = Path(args.file) if args.file else settings.policy_workbook
    report = lint_policy(path, load_specs(settings.forms))
    if args.json:
        out.print_json(report)
    else:
        _problem_table(args, f"制度检查:{path.name}", ["位置"], report.problems, lambda p: [p.location],
                       empty=f"制度文件「{path.name}」检查完毕,没有发现任何问题。")
        if report.problems:
            out.say(_verdict(report.problems, "请按上表修改制度后再检查。"))
    return 0 if report.ok else 1


def _problem_table(args, title: str, columns: list[str], problems, cells, *, empty: str | None = None,
                   extra: list[str] = (), extra_of=lambda p: []) -> None:
    """级别, the given columns, 说明 (and 代码 only with --verbose: codes are for IT and scripts)."""
    from automation.problems import LEVEL_LABELS  # here, not at the top: a command loads only what it runs

    verbose = getattr(args, "verbose", False)
    heads = ["级别", *columns, "说明", *extra] + (["代码"] if verbose else [])
    rows = ([LEVEL_LABELS.get(p.level, p.level), *cells(p), p.message, *extra_of(p)] + ([p.code] if verbose else [])
            for p in problems)
    out.table(title, heads, rows, empty=empty)


def _verdict(problems, fix: str) -> str:
    errors = sum(1 for p in problems if p.is_error)
    warnings = len(problems) - errors
    if errors:
        return f"发现 {errors} 个错误、{warnings} 个警告。{fix}"
    return f"没有错误,有 {warnings} 个警告;警告不影响使用,请确认是否需要修改。"


def _template_place(p) -> list[str]:
    """(模板, 位置): the location reads 「销售合同.docx,附近文字:…」 or just the file name."""
    template, _, near = (p.location or "").partition(",")
    place = near or (f"「{p.field}」" if p.field else "")
    return [template, place]


def registers_rebuild(args) -> int:
    from automation.cli import views  # here, not at the top: a command loads only what it runs
    from automation.record.registers.render import rebuild_all  # here, not at the top: a command loads only what it runs
    with open_runtime(args.workspace) as rt:
        result = rebuild_all(rt.store, rt.settings, today=rt.clock.today(), workdays_between=rt.calendar.workdays_between)
    if args.json:
        out.print_json(result)
        return 0
    views.show_render(result)
    return 0 if not result.pending else 1


def audit_verify(args) -> int:
    from automation.record.audit import load_key, verify_trail  # here, not at the top: a command loads only what it runs
    from automation.record.registers.render import register_path  # here, not at the top: a command loads only what it runs
    with open_runtime(args.workspace) as rt:
        with rt.store.snapshot() as conn:  # the chain and the tables at one moment, while workers write
            report = verify_trail(conn, checkpoint=rt.settings.audit_checkpoint,
                                  register=register_path(rt.settings.registers, "审批台账"),
                                  key=load_key(rt.settings.audit.key_file))
    if args.json:
        out.print_json(report)
    elif report.ok:
        anchors = "、".join(report.anchors) or "无外部锚点"
        out.say(f"审计链完整:共 {report.chain.entries} 条记录,全部校验通过;已与{anchors}及各业务表核对一致。")
    else:
        if not report.chain.ok:
            out.fail(f"审计链在第 {report.chain.broken_at} 条记录处断开:{report.chain.reason}。该记录或其后的记录可能被改动过。")
        for problem in report.problems:
            out.fail(f"{problem}。")
        out.say("请保留现有数据库和 .officeflow/ 文件夹不要改动,并联系信息部门从备份核对。")
    return 0 if report.ok else 1


def store_migrate(args) -> int:
    from automation.record.migrate import copy_store  # this command only: not loaded by the others
    from automation.record.store import display_url, normalise_url, open_store  # here, not at the top: a command loads only what it runs
    settings = load_settings(find_root(args.workspace))
    target_url = normalise_url(args.to)
    if target_url.startswith("sqlite:///") and not target_url.startswith("sqlite:////"):
        target_url = "sqlite:///" + str(Path(target_url[len("sqlite:///"):]).resolve())
    if target_url == normalise_url(settings.store_url):
        raise WorkspaceError("目标数据库就是本工作区正在使用的数据库,请指定另一个空数据库。")
    source = open_store(settings.store_url)
    try:
        with _sole_worker(source, settings):
            target = open_store(target_url)
            try:
                report = copy_store(source, target)
            finally:
                target.dispose()
    finally:
        source.dispose()
    if args.json:
        out.print_json(report)
        return 0
    out.say(f"已复制 {len(report.tables)} 张表共 {report.rows} 行到 {display_url(target_url)};"
            f"行数逐表核对一致,审计链 {report.entries} 条全部校验通过,末条哈希与原数据库相同。")
    out.say("下一步:把 officeflow.toml 中 [store] 的 url 改为上述地址(或设置环境变量 OFFICEFLOW_STORE_URL),"
            "再启动各台机器上的 officeflow watch。原数据库保持不变,可留作备份。")
    return 0


def _sole_worker(store, settings):
    """Nothing may change the store while it is copied: SQLite's worker lock, or on PostgreSQL the
    leader lock (a running watcher leads, so holding it means no watcher is running)."""
    from automation.intake.worklock import worker_lock  # here, not at the top: a command loads only what it runs

    if not store.is_shared:
        return worker_lock(settings.state, wait_seconds=2.0)
    if not store.workers.is_leader():
        raise WorkspaceError("还有 officeflow watch 工作进程连接着这个数据库。请先停止所有机器上的工作进程,再运行迁移。")
    return nullcontext()


def doctor(args) -> int:
    from automation.doctor import diagnose  # this command (and watch) only: not loaded by the others
    report = diagnose(load_settings(find_root(args.workspace)))
    if args.json:
        out.print_json(report)
    else:
        out.table("OfficeFlow 安装检查", ["项目", "结果", "说明"], ((f.check, f.level, f.message) for f in report.findings))
        out.say("检查完成,没有错误。" if report.ok else "发现错误,请按上表说明处理后再运行 officeflow doctor。")
    return 0 if report.ok else 1


def contracts_lint(args) -> int:
    from automation.act.template_lint import lint_templates  # this command only: not loaded by process and the others
    from automation.forms.spec import load_specs  # here, not at the top: a command loads only what it runs
    settings = load_settings(find_root(args.workspace))
    report = lint_templates(settings.contracts, load_specs(settings.forms))
    if args.json:
        out.print_json(report)
    else:
        names = "、".join(f"「{t}」" for t in report.templates) or "(没有模板)"
        _problem_table(args, "合同模板检查", ["模板", "位置"], report.problems, _template_place,
                       empty=f"合同模板{names}检查完毕,没有发现任何问题。")
        if report.problems:
            out.say(_verdict(report.problems, "请修改模板后再检查。"))
    return 0 if report.ok else 1


def contracts_render(args) -> int:
    from automation.decide.followup import rerender_contract  # here, not at the top: a command loads only what it runs
    with open_runtime(args.workspace) as rt:
        path = rerender_contract(rt, args.number)
    if args.json:
        out.print_json({"file": str(path) if path else None})
    else:
        out.say(f"已重新生成合同:{path}" if path else "合同生成失败,原因已写入 outbox/contracts/ 并显示在 officeflow status 中。")
    return 0 if path else 1


def demo(args) -> int:
    from automation.cli import views  # here, not at the top: a command loads only what it runs
    from automation.demo import fresh_workspace, run_demo  # this command only: not loaded by the others
    # A fresh workspace unless asked: the demo never puts sample cases into a real one by accident.
    here = args.here or (args.workspace is not None and not args.fresh)
    root = args.workspace if here else fresh_workspace()
    if not here and not args.json:
        out.say(f"演示工作区:{root}(新建的临时文件夹,您当前的工作区不受影响)")
    with open_runtime(root) as rt:
        result = run_demo(rt, seed=args.seed)
    if args.json:
        out.print_json(result)
    else:
        views.show_demo(result)
    return 0


def service_install(args) -> int:
    from automation.deploy import install as install_service  # this command only: not loaded by the others
    root = find_root(args.workspace)
    result = install_service(root, platform=args.platform, user=args.user, dest=Path(args.dest) if args.dest else None,
                     name=args.name)
    if args.json:
        out.print_json(result)
        return 0 if result.verified is not False else 1
    kind = "systemd 服务单元" if result.platform == "linux" else "Windows 任务计划(开机启动)"
    out.say(f"已生成{kind}:{result.path}")
    if result.verified is True:
        out.say("已用 systemd-analyze verify 检查,没有发现问题。")
    elif result.verified is False:
        out.fail(f"systemd-analyze verify 发现问题:{result.verify_output}")
        return 1
    out.say("请由管理员依次运行:")
    for step in result.next_steps:
        out.say(f"  {step}")
    return 0


def _workers_line(url: str) -> str:
    from sqlalchemy import create_engine  # here, not at the top: a command loads only what it runs

    from automation.faults import describe as describe_fault  # here, not at the top: a command loads only what it runs
    from automation.record.claims import connected_workers  # here, not at the top: a command loads only what it runs
    from automation.record.store import normalise_url  # here, not at the top: a command loads only what it runs

    engine = create_engine(normalise_url(url))  # not a Store: this look must not count itself as a worker
    try:
        with engine.connect() as conn:
            n = connected_workers(conn)
    except Exception as exc:
        return describe_fault(exc) or "暂时无法连接数据库服务器,无法查看工作进程。"
    finally:
        engine.dispose()
    return f"现有 {n} 个工作进程(各台机器上的 officeflow watch 或服务)连接着数据库。" if n else "没有工作进程连接着数据库。"


def service_status(args) -> int:
    from automation.deploy import status as service_report  # this command only: not loaded by the others
    settings = load_settings(find_root(args.workspace))
    report = service_report(settings.root, settings.state, name=args.name)
    if args.json:
        out.print_json(report)
        return 0
    running = "有" if report.watching else "没有"
    if settings.store_url.startswith("sqlite"):
        out.say(f"工作区 {report.workspace}:{running}进程正在监视(officeflow watch 或服务)。")
    else:
        out.say(f"工作区 {report.workspace} 使用 PostgreSQL:{_workers_line(settings.store_url)}")
    if report.manager == "systemd":
        state = {"active": "运行中", "inactive": "未运行", "failed": "已失败(会按设置自动重启)",
                 "activating": "正在启动", "deactivating": "正在停止"}.get(report.state, report.state or "未安装")
        loaded = report.detail.get("LoadState")
        if loaded == "not-found":
            state = "未安装(运行 officeflow service install)"
        out.say(f"systemd 服务 {args.name}.service:{state}"
                + (f",已自动重启 {report.detail['NRestarts']} 次" if report.detail.get("NRestarts", "0") != "0" else "")
                + "。")
    elif report.manager == "schtasks":
        out.say(f"Windows 任务「{args.name}」:{report.state or '未安装'}。")
    else:
        out.say("本机没有 systemd 或任务计划程序,无法查询服务状态。")
    return 0

"""``officeflow``: a thin command line over the library. Each command parses its
arguments, calls one library function, and prints the result in Chinese (or
``--json``). Named errors become a Chinese message with the fix; exit code 2.
"""

from __future__ import annotations

import argparse
import logging
import sys

from automation import __version__
from automation.cli.output import fail
from automation.cli.parser import ChineseArgumentParser
from automation.errors import OfficeFlowError

WORKSPACE_HELP = "工作区文件夹(默认:当前文件夹或其上级中含 officeflow.toml 的文件夹)"


def _workspace_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workspace", "-w", metavar="目录", help=WORKSPACE_HELP)


def _json_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="以 JSON 输出,供脚本读取(含问题代码)")


def _verbose_arg(p: argparse.ArgumentParser) -> None:
    # SUPPRESS: a sub-command's default must not undo ``officeflow --verbose 命令``.
    p.add_argument("--verbose", "-v", action="store_true", default=argparse.SUPPRESS,
                   help="显示详细日志和问题代码")


def _examples(*lines: str) -> str:
    return "示例:\n" + "\n".join(f"  {line}" for line in lines)


def _command(sub, name: str, help: str, examples: tuple[str, ...], *, workspace: bool = True,
             json: bool = True, description: str | None = None) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help, description=description or help, epilog=_examples(*examples))
    if workspace:
        _workspace_arg(p)
    if json:
        _json_arg(p)
    _verbose_arg(p)
    return p


def _group(sub, name: str, help: str, examples: tuple[str, ...]):
    p = sub.add_parser(name, help=help, description=help, epilog=_examples(*examples))
    return p.add_subparsers(dest=f"{name}_command", metavar="子命令", title="子命令", required=True)


def build_parser() -> argparse.ArgumentParser:
    parser = ChineseArgumentParser(
        prog="officeflow", description="OfficeFlow:表单提交、审批、合同与台账的办公自动化工具。",
        epilog=_examples("officeflow demo --fresh          在临时工作区里看一遍完整流程",
                         "officeflow init D:\\共享\\OfficeFlow  创建正式使用的工作区",
                         "officeflow watch                 持续处理收件箱",
                         "officeflow 命令 --help            查看某个命令的用法和示例"))
    parser.add_argument("--version", action="version", version=f"officeflow {__version__}", help="显示版本号并退出")
    parser.add_argument("--verbose", "-v", action="store_true", help="显示详细日志和问题代码")
    sub = parser.add_subparsers(dest="command", metavar="命令", title="命令", required=True)

    p = _command(sub, "init", "创建工作区(默认制度、表单、合同模板),不覆盖已有文件",
                 ("officeflow init D:\\共享\\OfficeFlow", "officeflow init /srv/officeflow"), workspace=False)
    p.add_argument("dir", nargs="?", default=".", metavar="目录", help="工作区文件夹(默认当前文件夹)")
    p.set_defaults(func="init")

    forms = _group(sub, "forms", "表单相关命令", ("officeflow forms build",))
    p = _command(forms, "build", "根据 forms/*.yaml 重新生成空白表单", ("officeflow forms build",))
    p.set_defaults(func="forms_build")
    p = _command(forms, "new", "为一种新表单生成规格文件 forms/<编号>.yaml(带中文说明,不需要写程序)",
                 ("officeflow forms new 会议室预订单 --id meeting_room --code HY", "officeflow forms new 用车申请单"))
    p.add_argument("title", metavar="名称", help="表单名称,例如 会议室预订单")
    p.add_argument("--id", dest="form_id", metavar="编号", help="表单编号(英文字母、数字、下划线),默认与名称相同")
    p.add_argument("--code", metavar="代码", help="申请编号的代码,例如 HY(默认 XB)")
    p.set_defaults(func="forms_new")

    p = _command(sub, "process", "处理所有待处理的文件和审批决定一次,然后退出",
                 ("officeflow process", "officeflow process --workspace D:\\共享\\OfficeFlow"))
    p.set_defaults(func="process")

    p = _command(sub, "watch", "持续监视收件箱和审批文件夹,按 Ctrl-C 停止",
                 ("officeflow watch", "officeflow watch --poll 5      网络共享盘上每 5 秒检查一次"), json=False)
    p.add_argument("--poll", type=float, metavar="秒", help="改用轮询(网络共享盘 SMB/NFS 上请使用),参数为轮询间隔秒数")
    p.add_argument("--office", metavar="办公室", help="只收取该办公室在收件箱中的文件夹(在 officeflow.toml 中按办公室设置,"
                                                  "各进程共用 PostgreSQL 时使用)")
    p.set_defaults(func="watch")

    p = _command(sub, "check", "检查表单文件但不提交;有错误时退出码为 1",
                 ("officeflow check 我的表单.xlsx", "officeflow check 出差申请.docx 报销单.xlsx"))
    p.add_argument("files", nargs="+", metavar="文件", help="要检查的表单文件(可以有多个)")
    p.set_defaults(func="check")

    p = _command(sub, "status", "查看审批中的申请、待办人、用时、超时情况",
                 ("officeflow status", "officeflow status --json", "officeflow status --person 王芳"))
    p.add_argument("--person", metavar="姓名", help="只看此人的进行中申请和待办审批")
    p.set_defaults(func="status")

    policy = _group(sub, "policy", "制度相关命令", ("officeflow policy check",))
    p = _command(policy, "check", "检查 policies/制度.xlsx;有错误时退出码为 1",
                 ("officeflow policy check", "officeflow policy check --file 新制度.xlsx"))
    p.add_argument("--file", metavar="文件", help="检查指定的制度文件(默认工作区中的 policies/制度.xlsx)")
    p.set_defaults(func="policy_check")

    registers = _group(sub, "registers", "台账相关命令", ("officeflow registers rebuild",))
    p = _command(registers, "rebuild", "根据数据库重新生成全部台账和看板", ("officeflow registers rebuild",))
    p.set_defaults(func="registers_rebuild")

    audit = _group(sub, "audit", "审计日志相关命令", ("officeflow audit verify",))
    p = _command(audit, "verify", "校验防篡改审计链;发现问题时退出码为 1", ("officeflow audit verify",))
    p.set_defaults(func="audit_verify")

    store = _group(sub, "store", "数据库相关命令", ("officeflow store migrate --to postgresql+psycopg://officeflow@db-host/officeflow",))
    p = _command(store, "migrate", "把本工作区的数据库整体复制到另一个空数据库(如 SQLite → PostgreSQL),并核对行数和审计链",
                 ("officeflow store migrate --to postgresql+psycopg://officeflow@db-host/officeflow",
                  "officeflow store migrate --to sqlite:///D:/备份/officeflow-备份.db    从 PostgreSQL 复制一份 SQLite 备份"))
    p.add_argument("--to", required=True, metavar="数据库地址", help="目标数据库(必须是空的),例如 postgresql+psycopg://用户@主机/库名")
    p.set_defaults(func="store_migrate")

    contracts = _group(sub, "contracts", "合同相关命令", ("officeflow contracts lint", "officeflow contracts render HT-2026-0001"))
    p = _command(contracts, "lint", "检查合同模板中的变量和语法;有错误时退出码为 1", ("officeflow contracts lint",))
    p.set_defaults(func="contracts_lint")
    p = _command(contracts, "render", "为已批准的申请重新生成合同(编号不变)",
                 ("officeflow contracts render HT-2026-0001", "officeflow contracts render SC-202611-0003"))
    p.add_argument("number", metavar="编号", help="申请编号或合同编号")
    p.set_defaults(func="contracts_render")

    service = _group(sub, "service", "作为系统服务运行(Linux systemd 或 Windows 开机任务)",
                     ("sudo officeflow service install --workspace /srv/officeflow --user officeflow",
                      "officeflow service status --workspace /srv/officeflow"))
    p = _command(service, "install", "生成并检查系统服务文件(systemd 单元或 Windows 任务计划),并列出启用它的命令",
                 ("sudo officeflow service install --workspace /srv/officeflow --user officeflow",
                  "officeflow service install --dest ./服务文件       只生成文件,稍后由 IT 复制",
                  "officeflow service install --platform windows --user OFFICE\\officeflow"))
    p.add_argument("--user", metavar="用户", help="服务以哪个系统用户运行(默认:当前用户)")
    p.add_argument("--dest", metavar="目录", help="服务文件写到哪里(默认:Linux 为 /etc/systemd/system,Windows 为工作区)")
    p.add_argument("--platform", choices=("linux", "windows"), help="为哪种系统生成(默认:本机)")
    p.add_argument("--name", default="officeflow", metavar="名称", help="服务名称(默认 officeflow;一台机器多个工作区时各取一个)")
    p.set_defaults(func="service_install")
    p = _command(service, "status", "查看服务是否在运行、是否有进程正在监视此工作区",
                 ("officeflow service status", "officeflow service status --json"))
    p.add_argument("--name", default="officeflow", metavar="名称", help="服务名称(默认 officeflow)")
    p.set_defaults(func="service_status")

    p = _command(sub, "doctor", "检查安装:文件夹权限、数据库位置、共享盘时钟、磁盘空间、文件事件、制度、LibreOffice;有错误时退出码为 1",
                 ("officeflow doctor", "officeflow doctor --json", "officeflow doctor --workspace D:\\共享\\OfficeFlow"))
    p.set_defaults(func="doctor")

    p = _command(sub, "demo", "在一个新的临时工作区里演示全部表单:提交、退回、逐级审批、生成合同,并讲述经过",
                 ("officeflow demo --fresh            新建临时工作区演示(默认),打印它的位置",
                  "officeflow demo --seed 7          每次演示的数据相同",
                  "officeflow demo --here            在当前工作区演示(示例数据会进入台账)"))
    where = p.add_mutually_exclusive_group()
    where.add_argument("--fresh", action="store_true", help="在新的临时工作区中演示(默认),不改动当前工作区")
    where.add_argument("--here", action="store_true", help="在当前工作区(或 --workspace 指定的工作区)中演示")
    p.add_argument("--seed", type=int, metavar="数字", help="随机数种子:同一数字每次演示的数据相同")
    p.set_defaults(func="demo")
    return parser


def _command_function(name: str):
    """The function behind a command, by name: the parser is built and ``--help``/``--version`` answered
    without importing the commands (and, through them, every stage and Office library: ~0.7 s CPU)."""
    from automation.cli import commands  # after parsing: --help and --version must not pay for every stage's imports

    return getattr(commands, name)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(asctime)s %(message)s")
    try:
        return int(_command_function(args.func)(args) or 0)
    except OfficeFlowError as exc:
        fail(str(exc))
        return 2
    except KeyboardInterrupt:
        return 130
    except FileNotFoundError as exc:
        fail(f"找不到文件或文件夹:{exc.filename}。请检查路径是否正确。")
        return 2
    except Exception as exc:  # a fault of ours: say so plainly, keep the details for IT
        logging.getLogger("officeflow").debug("未预期的错误", exc_info=True)
        from automation.faults import describe as describe_fault  # only on a failure: it imports sqlalchemy (~0.2 s CPU)

        fault = describe_fault(exc)
        if fault:  # the machine's fault, not ours: a full disk, a read-only or locked store
            fail(fault)
            return 3
        fail(f"程序内部错误({type(exc).__name__}:{exc})。请把这条信息和所运行的命令发给 IT 人员;"
             "加 --verbose 可看到详细信息。")
        if args.verbose:
            raise
        return 3


if __name__ == "__main__":
    sys.exit(main())

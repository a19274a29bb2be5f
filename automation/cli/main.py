"""``officeflow``: a thin command line over the library. Each command parses its
arguments, calls one library function, and prints the result in Chinese (or
``--json``). Named errors become a Chinese message with the fix; exit code 2.
"""

from __future__ import annotations

import argparse
import logging
import sys

from automation import __version__
from automation.cli import commands
from automation.cli.output import fail
from automation.errors import OfficeFlowError


def _workspace_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workspace", "-w", metavar="DIR", help="工作区文件夹(默认:当前文件夹或其上级中含 officeflow.toml 的文件夹)")


def _json_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="以 JSON 输出,供脚本读取")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="officeflow", description="OfficeFlow:表单提交、审批、合同与台账的办公自动化工具。")
    parser.add_argument("--version", action="version", version=f"officeflow {__version__}")
    parser.add_argument("--verbose", "-v", action="store_true", help="显示详细日志")
    sub = parser.add_subparsers(dest="command", metavar="命令", required=True)

    p = sub.add_parser("init", help="创建工作区(默认制度、表单、合同模板),不覆盖已有文件")
    p.add_argument("dir", nargs="?", default=".", help="工作区文件夹(默认当前文件夹)")
    _json_arg(p)
    p.set_defaults(func=commands.init)

    forms = sub.add_parser("forms", help="表单相关命令").add_subparsers(dest="forms_command", metavar="子命令", required=True)
    p = forms.add_parser("build", help="根据 forms/*.yaml 重新生成空白表单")
    _workspace_arg(p)
    _json_arg(p)
    p.set_defaults(func=commands.forms_build)

    p = sub.add_parser("process", help="处理所有待处理的文件和审批决定一次,然后退出")
    _workspace_arg(p)
    _json_arg(p)
    p.set_defaults(func=commands.process)

    p = sub.add_parser("watch", help="持续监视收件箱和审批文件夹,按 Ctrl-C 停止")
    _workspace_arg(p)
    p.add_argument("--poll", type=float, metavar="秒", help="改用轮询(网络共享盘 SMB/NFS 上请使用),参数为轮询间隔秒数")
    p.set_defaults(func=commands.watch)

    p = sub.add_parser("check", help="检查表单文件但不提交;有错误时退出码为 1")
    p.add_argument("files", nargs="+", metavar="FILE", help="要检查的表单文件")
    _workspace_arg(p)
    _json_arg(p)
    p.set_defaults(func=commands.check)

    p = sub.add_parser("status", help="查看审批中的申请、待办人、用时、超时情况")
    _workspace_arg(p)
    _json_arg(p)
    p.set_defaults(func=commands.status)

    policy = sub.add_parser("policy", help="制度相关命令").add_subparsers(dest="policy_command", metavar="子命令", required=True)
    p = policy.add_parser("check", help="检查 policies/制度.xlsx;有错误时退出码为 1")
    _workspace_arg(p)
    p.add_argument("--file", metavar="XLSX", help="检查指定的制度文件(默认工作区中的 policies/制度.xlsx)")
    _json_arg(p)
    p.set_defaults(func=commands.policy_check)

    registers = sub.add_parser("registers", help="台账相关命令").add_subparsers(dest="registers_command", metavar="子命令", required=True)
    p = registers.add_parser("rebuild", help="根据数据库重新生成全部台账和看板")
    _workspace_arg(p)
    _json_arg(p)
    p.set_defaults(func=commands.registers_rebuild)

    audit = sub.add_parser("audit", help="审计日志相关命令").add_subparsers(dest="audit_command", metavar="子命令", required=True)
    p = audit.add_parser("verify", help="校验防篡改审计链;发现问题时退出码为 1")
    _workspace_arg(p)
    _json_arg(p)
    p.set_defaults(func=commands.audit_verify)

    contracts = sub.add_parser("contracts", help="合同相关命令").add_subparsers(dest="contracts_command", metavar="子命令", required=True)
    p = contracts.add_parser("lint", help="检查合同模板中的变量和语法;有错误时退出码为 1")
    _workspace_arg(p)
    _json_arg(p)
    p.set_defaults(func=commands.contracts_lint)
    p = contracts.add_parser("render", help="为已批准的申请重新生成合同(编号不变)")
    p.add_argument("number", metavar="编号", help="申请编号或合同编号")
    _workspace_arg(p)
    _json_arg(p)
    p.set_defaults(func=commands.contracts_render)

    p = sub.add_parser("demo", help="生成示例提交(有效、无效、超限、重大合同)并处理,展示结果")
    _workspace_arg(p)
    _json_arg(p)
    p.set_defaults(func=commands.demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(asctime)s %(message)s")
    try:
        return int(args.func(args) or 0)
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
        fail(f"程序内部错误({type(exc).__name__}:{exc})。请把这条信息和所运行的命令发给 IT 人员;"
             "加 --verbose 可看到详细信息。")
        if args.verbose:
            raise
        return 3


if __name__ == "__main__":
    sys.exit(main())

"""The command line: every command documented, --json where scripts read, init never overwrites."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.workspace import make_workspace

from sqlalchemy import select

from automation.cli.main import build_parser, main
from automation.record import schema as s
from automation.runtime import open_runtime

COMMANDS = [["init"], ["forms", "build"], ["forms", "new"], ["process"], ["watch"], ["check"], ["status"], ["policy", "check"],
            ["registers", "rebuild"], ["audit", "verify"], ["contracts", "lint"], ["contracts", "render"], ["demo"],
            ["service", "install"], ["service", "status"], ["doctor"], ["store", "migrate"]]


def run(*args, cwd=None, env_columns=None):
    env = None
    if env_columns:
        env = dict(os.environ, COLUMNS=str(env_columns))
    return subprocess.run([sys.executable, "-m", "automation", *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, cwd=cwd, env=env)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_chinese_help(command, capsys):
    """``officeflow <command> --help`` in-process (what the program prints; a real run of the
    program's ``--help`` is in the next test): one interpreter start per command cost ~2 s each."""
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    printed = capsys.readouterr().out
    assert any("\u4e00" <= ch <= "\u9fff" for ch in printed)


# argparse's own English, and English words in general: staff read every help screen.
ARGPARSE_ENGLISH = ("usage", "positional arguments", "optional arguments", "options:", "show this help",
                    "show program", "error:", "invalid choice", "required", "arguments", "help message")
# Words that are names, not English prose: the program, its commands and options, products, formats.
ALLOWED_WORDS = {"officeflow", "json", "workspace", "verbose", "version", "help", "poll", "file", "fresh", "here",
                 "seed", "excel", "word", "wps", "ctrl", "smb", "nfs", "yaml", "forms", "xlsx", "docx", "inbox",
                 "outbox", "policies", "toml", "srv", "systemd", "windows", "unit", "user", "force", "dry", "run",
                 "python", "automation", "contracts", "registers", "policy", "audit", "demo", "status", "service",
                 "install", "init", "build", "process", "watch", "check", "rebuild", "verify", "lint", "render",
                 "new", "meeting", "person", "doctor", "store", "migrate", "receipts", "pdf", "libreoffice", "url", "linux",
                 "sales", "srv", "office", "platform", "name", "dest", "sudo", "schtasks", "etc", "system",
                 "postgresql", "psycopg", "sqlite"}


def _all_parsers(parser, prefix=()):
    yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _all_parsers(sub, (*prefix, name))


def test_help_of_every_command_has_no_english_argparse_words():
    """Walks ``officeflow --help`` and every ``officeflow <command> --help`` the parser knows
    (in-process: the same text ``--help`` prints; one real run checks that)."""
    helps = {command: parser.format_help() for command, parser in _all_parsers(build_parser())}
    assert len(helps) > len(COMMANDS)
    real = run("--help")
    assert real.returncode == 0 and "命令:" in real.stdout and "用法:" in real.stdout
    for command, text in helps.items():
        lowered = text.lower()
        assert not [w for w in ARGPARSE_ENGLISH if w in lowered], (command, text)
        words = {w.lower() for w in re.findall(r"(?<![-\w])[A-Za-z]{3,}", text)}
        assert words <= ALLOWED_WORDS, (command, words - ALLOWED_WORDS)
        assert "示例:" in text and "用法:" in text, command
        assert "officeflow" in text.split("示例:")[1], command


def test_argparse_errors_are_in_chinese_with_a_suggestion():
    wrong = run("proces")
    assert wrong.returncode == 2
    assert "错误" in wrong.stderr and "您是否想输入「process」" in wrong.stderr and "用法:" in wrong.stderr
    assert "invalid choice" not in wrong.stderr and "usage" not in wrong.stderr
    missing = run("check")
    assert "缺少必需的参数:文件" in missing.stderr and "required" not in missing.stderr
    bad_number = run("watch", "--poll", "几秒")
    assert "「几秒」不是有效的数字" in bad_number.stderr


def test_problem_levels_are_chinese_and_codes_only_when_verbose(tmp_path):
    import openpyxl

    root = make_workspace(tmp_path)
    path = root / "policies" / "制度.xlsx"
    wb = openpyxl.load_workbook(path)
    wb["审批规则"].cell(row=2, column=3).value = "财物经理"
    wb.save(path)
    plain = run("policy", "check", "--workspace", str(root), env_columns=200)
    assert "错误" in plain.stdout and "error" not in plain.stdout and "policy-unknown-role" not in plain.stdout
    verbose = run("policy", "check", "--workspace", str(root), "--verbose", env_columns=200)
    assert "policy-unknown-role" in verbose.stdout and "代码" in verbose.stdout


def test_clean_policy_and_shipped_templates_print_a_sentence(tmp_path):
    root = make_workspace(tmp_path)
    policy = run("policy", "check", "--workspace", str(root))
    assert policy.returncode == 0 and policy.stdout.strip() == "制度文件「制度.xlsx」检查完毕,没有发现任何问题。"
    lint = run("contracts", "lint", "--workspace", str(root))
    assert lint.returncode == 0, lint.stdout
    assert lint.stdout.strip() == "合同模板「销售合同.docx」检查完毕,没有发现任何问题。"


def test_every_command_is_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for command in COMMANDS:
        assert f"officeflow {' '.join(command)}" in readme, command


def test_readme_quick_start_keeps_its_shape_and_says_what_next():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert readme.count("```bash") == 2
    after = readme.split("## 快速开始", 1)[1].split("\n## ", 1)[0]
    next_steps = after.split("**接下来**", 1)[1]
    assert "officeflow demo --fresh" in next_steps and "officeflow init 目录" in next_steps


def test_ci_runs_the_readme_test_command():
    """CI runs the README's second quick-start block: the same pytest command, word for word."""
    root = Path(__file__).parent.parent
    block = (root / "README.md").read_text(encoding="utf-8").split("```bash")[2].split("```")[0]
    readme_pytest = [line.strip() for line in block.splitlines() if "pytest" in line]
    ci_pytest = [line.strip() for line in (root / ".ci" / "run").read_text(encoding="utf-8").splitlines()
                 if "pytest" in line and not line.lstrip().startswith("#")]
    assert readme_pytest and readme_pytest == ci_pytest


def test_readme_links_stay_inside_the_repository():
    root = Path(__file__).parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)]+)\)", readme)
    assert targets  # the pictures at least
    for target in targets:
        assert not target.startswith(("http:", "https:", "/", "..")), target
        assert (root / target).is_file(), target
        if target.endswith(".png"):
            assert (root / target).stat().st_size < 200_000, target
    assert "../" not in readme


def test_init_creates_a_workspace_and_never_overwrites(tmp_path):
    first = run("init", str(tmp_path / "新工作区"), "--json")
    assert first.returncode == 0, first.stderr
    created = json.loads(first.stdout)["created"]
    assert "policies/制度.xlsx" in created and "officeflow.toml" in created
    assert any(name.endswith(".docx") and name.startswith("contracts/") for name in created)
    policy = tmp_path / "新工作区" / "policies" / "制度.xlsx"
    policy.write_bytes(b"edited by the administrator")
    again = json.loads(run("init", str(tmp_path / "新工作区"), "--json").stdout)
    assert again["created"] == [] and policy.read_bytes() == b"edited by the administrator"


def test_process_json_reports_what_happened(tmp_path):
    root = make_workspace(tmp_path)
    (root / "inbox" / "杂项.xlsx").write_bytes(b"junk")
    result = run("process", "--workspace", str(root), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["taken"] == {"quarantined": 1}


def test_outside_a_workspace_the_message_says_what_to_do(tmp_path):
    result = run("process", cwd=tmp_path)
    assert result.returncode == 2 and "officeflow init" in result.stderr


def test_parser_lists_all_top_level_commands():
    parser = build_parser()
    choices = parser._subparsers._group_actions[0].choices
    assert set(choices) == {c[0] for c in COMMANDS}


def test_check_reports_problems_with_cells_without_submitting(tmp_path):
    from datetime import date

    from support.forms import build_blank, fill_xlsx

    from automation import samples

    root = make_workspace(tmp_path)
    good = fill_xlsx(build_blank("customer_registration", tmp_path / "a"), samples.customer_registration(1, date.today()))
    bad = fill_xlsx(build_blank("customer_registration", tmp_path / "b"),
                    dict(samples.customer_registration(2, date.today()), 联系电话="12345", 客户等级="D"))
    ok = run("check", str(good), "--workspace", str(root))
    assert ok.returncode == 0 and "检查通过" in ok.stdout
    result = run("check", str(bad), "--workspace", str(root), "--json")
    assert result.returncode == 1
    problems = json.loads(result.stdout)["files"][0]["problems"]
    by_field = {p["field"]: p for p in problems}
    assert by_field["联系电话"]["code"] == "phone-invalid" and by_field["联系电话"]["location"].startswith("表单!")
    assert by_field["客户等级"]["code"] == "choice-invalid"
    from sqlalchemy import func, select

    from automation.record import schema as s
    from automation.record.store import open_store

    store = open_store(f"sqlite:///{root / '.officeflow' / 'state.db'}")
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(s.submissions)).scalar() == 0
    store.dispose()
    assert bad.exists() and good.exists()


def test_policy_check_exit_code_follows_the_workbook(tmp_path):
    import openpyxl

    root = make_workspace(tmp_path)
    assert run("policy", "check", "--workspace", str(root)).returncode == 0
    path = root / "policies" / "制度.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["审批规则"]
    ws.cell(row=2, column=3).value = "财物经理"
    wb.save(path)
    result = run("policy", "check", "--workspace", str(root), "--json")
    assert result.returncode == 1
    problems = json.loads(result.stdout)["problems"]
    assert any("财务经理" in p["message"] and p["location"].startswith("审批规则!") for p in problems)


def test_demo_here_shows_each_kind_of_outcome(tmp_path):
    root = make_workspace(tmp_path)
    result = run("demo", "--here", "--workspace", str(root), "--seed", "1", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    steps = {s["file"]: s for s in report["steps"]}
    assert steps["示例-客户登记.xlsx"]["outcome"] == "已批准"
    assert steps["示例-填错的客户登记.xlsx"]["outcome"] == "已退回"
    assert steps["示例-大额报销.xlsx"]["detail"].endswith("总经理 赵建国 → 出纳 李娜")
    major = steps["示例-重大合同.xlsx"]
    assert major["outcome"] == "已批准" and "部门经理 吴强✓" in major["detail"] and "总经理 赵建国✓" in major["detail"]
    assert (root / "outbox" / "requests" / "王芳" / "示例-填错的客户登记.xlsx").exists()
    assert (root / "outbox" / "registers" / "客户台账.xlsx").exists()
    assert {s["file"] for s in report["steps"]} >= {"示例-出差申请.docx", "示例-客户投诉.docx", "示例-退货.xlsx",
                                                    "示例-坏账核销.xlsx", "示例-信用额度.xlsx"}
    # 转交 in a Word task file: 吴强 hands it to 冯磊, who approves
    trip = steps["示例-出差申请.docx"]
    assert trip["outcome"] == "已批准" and "部门经理 吴强 → 部门经理 冯磊✓" in trip["detail"]
    assert any("选择「转交」给 冯磊" in line for line in report["events"])
    # 撤回: the receipt moved into 撤回/ closes the case and clears the approver's folder
    [withdrawn] = [s for s in report["steps"] if s["name"] == "撤回的申请"]
    assert withdrawn["outcome"] == "已撤回"
    assert any("回执移入 outbox/requests/王芳/撤回/" in line and "吴强 的待办已移入「已办」" in line
               for line in report["events"])
    # the forms made of data only are played from their spec's example values
    for title in ("请假单", "用印申请单", "借款单"):
        assert steps[f"示例-{title}.xlsx"]["outcome"] == "已批准", steps.get(f"示例-{title}.xlsx")
    # a payment against the story's contract, then the customer put on the blacklist
    assert steps["示例-回款登记.xlsx"]["outcome"] == "已批准", steps.get("示例-回款登记.xlsx")
    assert steps["示例-客户状态变更.xlsx"]["outcome"] == "已批准", steps.get("示例-客户状态变更.xlsx")
    # every form of the pack is played at least once
    with open_runtime(root) as rt:
        with rt.store.read() as conn:
            played = {row.form_id for row in conn.execute(select(s.cases.c.form_id))}
        assert played == set(rt.specs), set(rt.specs) - played
    # no false alarm: every kind of outcome the demo plays has its audit entries
    verified = run("audit", "verify", "--workspace", str(root))
    assert verified.returncode == 0, verified.stdout + verified.stderr


def _tree(root):
    return {p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_demo_fresh_plays_in_a_new_workspace_and_leaves_the_current_one_untouched(tmp_path):
    """A newcomer who tried the demo inside the real workspace got sample cases in the real registers."""
    root = make_workspace(tmp_path / "real")
    before = _tree(root)
    temp = tmp_path / "temp"
    temp.mkdir()
    env = dict(os.environ, TMPDIR=str(temp), COLUMNS="200")
    result = subprocess.run([sys.executable, "-m", "automation", "demo", "--fresh", "--seed", "7"], capture_output=True,
                            text=True, stdin=subprocess.DEVNULL, cwd=root, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert _tree(root) == before
    lines = result.stdout.splitlines()
    assert lines[0].startswith("演示工作区:" + str(temp))
    assert any(line.startswith("· 合同 HT-") and "已生成" in line for line in lines)
    assert any("已退回" in line for line in lines)
    assert "先打开这三个文件看看:" in lines
    listed = lines[lines.index("先打开这三个文件看看:") + 1:][:3]
    assert [line.strip()[:2] for line in listed] == ["1.", "2.", "3."]
    for line in listed:
        path = Path(line.split(":", 1)[1])
        assert path.is_file() and temp in path.parents, line
    assert listed[0].split(":", 1)[1].endswith(".docx")  # the generated contract comes first

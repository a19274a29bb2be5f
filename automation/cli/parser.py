"""argparse, in Chinese: its own words (usage, option groups, -h, error lines) included.

argparse takes those words from ``gettext`` at module level, and the only global
hook is a message catalogue chosen by the environment's language. Staff run
OfficeFlow under any locale, so instead this parser sets the words it controls
(group titles, -h, the usage prefix) and translates argparse's error lines in
``error()``, the one place every parsing error passes through. A message this
table does not know is still shown, after a Chinese lead-in.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from typing import NoReturn

USAGE_PREFIX = "用法:"
HELP_TEXT = "显示本帮助并退出"
TYPE_LABELS = {"int": "整数", "float": "数字"}


class ChineseHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps descriptions and examples as written (line breaks matter in examples)."""

    def __init__(self, prog: str, **kwargs) -> None:
        kwargs.setdefault("max_help_position", 30)
        super().__init__(prog, **kwargs)

    def add_usage(self, usage, actions, groups, prefix=None) -> None:
        super().add_usage(usage, actions, groups, prefix=USAGE_PREFIX if prefix is None else prefix)

    def _format_action(self, action) -> str:
        text = super()._format_action(action)
        if isinstance(action, argparse._SubParsersAction):
            # The group title already says 命令; drop the metavar line argparse repeats under it.
            text = text.split("\n", 1)[1] if "\n" in text else text
        return text


class ChineseArgumentParser(argparse.ArgumentParser):
    def __init__(self, *args, add_help: bool = True, **kwargs) -> None:
        kwargs.setdefault("formatter_class", ChineseHelpFormatter)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "参数"
        self._optionals.title = "选项"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help=HELP_TEXT)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}:错误:{translate(message, self)}\n"
                     f"运行 {self.prog} --help 可查看用法和示例。\n")


def _choices(text: str) -> list[str]:
    return [c.strip().strip("'\"") for c in text.split(",") if c.strip()]


def _invalid_choice(m: re.Match, parser) -> str:
    value, choices = m["value"].strip("'\""), _choices(m["choices"])
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.5)
    hint = f"您是否想输入「{close[0]}」?" if close else ""
    return f"「{value}」不是可用的选项。可选:{'、'.join(choices)}。{hint}"


def _invalid_type(m: re.Match, parser) -> str:
    return f"「{m['value'].strip(chr(39) + chr(34))}」不是有效的{TYPE_LABELS.get(m['type'], '值')}。"


# argparse's messages (Python 3.11 to 3.13 wording), most specific first.
_MESSAGES: list[tuple[re.Pattern, object]] = [
    (re.compile(r"^argument (?P<arg>[^:]+): (?P<rest>.*)$", re.S),
     lambda m, p: f"{_argument_name(m['arg'])}:{translate(m['rest'], p)}"),
    (re.compile(r"^invalid choice: (?P<value>.*?) \(choose from (?P<choices>.*)\)$", re.S), _invalid_choice),
    (re.compile(r"^invalid (?P<type>\w+) value: (?P<value>.*)$", re.S), _invalid_type),
    (re.compile(r"^the following arguments are required: (?P<args>.*)$", re.S),
     lambda m, p: f"缺少必需的参数:{m['args'].replace(', ', '、')}。"),
    (re.compile(r"^unrecognized arguments: (?P<args>.*)$", re.S), lambda m, p: f"无法识别的参数:{m['args']}。"),
    (re.compile(r"^expected one argument$"), lambda m, p: "需要给出一个值。"),
    (re.compile(r"^expected at most one argument$"), lambda m, p: "最多只能给出一个值。"),
    (re.compile(r"^expected at least one argument$"), lambda m, p: "至少需要给出一个值。"),
    (re.compile(r"^expected (?P<n>\d+) arguments?$"), lambda m, p: f"需要给出 {m['n']} 个值。"),
    (re.compile(r"^ambiguous option: (?P<opt>\S+) could match (?P<matches>.*)$", re.S),
     lambda m, p: f"选项 {m['opt']} 不明确,可能是:{m['matches'].replace(', ', '、')}。"),
    (re.compile(r"^not allowed with argument (?P<arg>.*)$"), lambda m, p: f"不能与 {m['arg']} 同时使用。"),
    (re.compile(r"^one of the arguments (?P<args>.*) is required$"),
     lambda m, p: f"以下参数必须给出其中一个:{m['args']}。"),
    (re.compile(r"^ignored explicit argument (?P<arg>.*)$"), lambda m, p: f"此选项不接受值:{m['arg']}。"),
]


def _argument_name(name: str) -> str:
    return f"选项 {name}" if name.startswith("-") else f"参数「{name.replace('/', '」或「')}」"


def translate(message: str, parser=None) -> str:
    for pattern, render in _MESSAGES:
        m = pattern.match(message)
        if m:
            return render(m, parser)
    return f"命令行有误({message})。"

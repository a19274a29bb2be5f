"""Printing results for people (rich tables, Chinese) or for scripts (--json)."""

from __future__ import annotations

import json
import sys
from typing import Iterable, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from automation.record.codec import plain

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(obj) -> None:
    data = obj.to_dict() if hasattr(obj, "to_dict") else obj
    sys.stdout.write(json.dumps(plain(data), ensure_ascii=False, indent=2) + "\n")


# Columns that hold prose take the room left by the short ones and wrap; the message gets most of it.
PROSE_COLUMNS = {"说明": 2, "问题说明": 2, "原因": 2, "依据": 1, "当前审批人": 1, "文件": 1}


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence], *, empty: str | None = None) -> None:
    """A table; ``empty`` is the sentence printed instead when there are no rows."""
    # Expanded so that the ratios share the width; short tables without prose stay compact.
    t = Table(title=title, show_lines=False, title_justify="left", expand=any(c in PROSE_COLUMNS for c in columns))
    for col in columns:
        if col in PROSE_COLUMNS:
            t.add_column(col, overflow="fold", ratio=PROSE_COLUMNS[col])
        else:
            t.add_column(col, no_wrap=True)
    count = 0
    for row in rows:
        t.add_row(*(Text("" if v is None else str(v)) for v in plain(list(row))))  # values, never markup
        count += 1
    if count:
        console.print(t)
    else:
        console.print(empty or f"{title}:没有记录。")


def say(text: str) -> None:
    """One line, printed as it is: names, values and "[store]"-like words are never markup."""
    console.print(text, markup=False)


def say_styled(*parts: str | tuple[str, str]) -> None:
    """One line of plain parts and (text, style) parts; nothing in them is read as markup."""
    console.print(Text.assemble(*parts))


def fail(text: str) -> None:
    err_console.print(Text.assemble(("错误:", "bold red"), text))

"""Printing results for people (rich tables, Chinese) or for scripts (--json)."""

from __future__ import annotations

import json
import sys
from typing import Iterable, Sequence

from rich.console import Console
from rich.table import Table

from automation.record.codec import plain

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(obj) -> None:
    data = obj.to_dict() if hasattr(obj, "to_dict") else obj
    sys.stdout.write(json.dumps(plain(data), ensure_ascii=False, indent=2) + "\n")


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    t = Table(title=title, show_lines=False, title_justify="left")
    for col in columns:
        t.add_column(col, overflow="fold")
    count = 0
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in plain(list(row))))
        count += 1
    if count:
        console.print(t)
    else:
        console.print(f"{title}:无")


def say(text: str) -> None:
    console.print(text)


def fail(text: str) -> None:
    err_console.print(f"[bold red]错误:[/]{text}")

"""Printing results for people (rich tables, Chinese) or for scripts (--json)."""

from __future__ import annotations

import json
import sys
from typing import Iterable, Sequence

from automation.record.codec import plain

# rich (~50 ms CPU to import) is loaded by the first line printed for people, never for --json.
_CONSOLES: dict[str, object] = {}


def __getattr__(name: str):
    if name in ("console", "err_console"):
        if name not in _CONSOLES:
            from rich.console import Console  # rich only for output shown to people, never with --json

            _CONSOLES[name] = Console(stderr=name == "err_console", highlight=False, soft_wrap=True)
        return _CONSOLES[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _console():
    return __getattr__("console")


def print_json(obj) -> None:
    data = obj.to_dict() if hasattr(obj, "to_dict") else obj
    sys.stdout.write(json.dumps(plain(data), ensure_ascii=False, indent=2) + "\n")


# Columns that hold prose take the room left by the short ones and wrap; the message gets most of it.
PROSE_COLUMNS = {"说明": 2, "问题说明": 2, "原因": 2, "依据": 1, "当前审批人": 1, "文件": 1}


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence], *, empty: str | None = None) -> None:
    """A table; ``empty`` is the sentence printed instead when there are no rows."""
    from rich.table import Table  # rich only for output shown to people, never with --json
    from rich.text import Text  # rich only for output shown to people, never with --json

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
        _console().print(t)
    else:
        _console().print(empty or f"{title}:没有记录。")


def say(text: str) -> None:
    """One line, printed as it is: names, values and "[store]"-like words are never markup."""
    _console().print(text, markup=False)


def say_styled(*parts: str | tuple[str, str]) -> None:
    """One line of plain parts and (text, style) parts; nothing in them is read as markup."""
    from rich.text import Text  # rich only for output shown to people, never with --json

    _console().print(Text.assemble(*parts))


def fail(text: str) -> None:
    from rich.text import Text  # rich only for output shown to people, never with --json

    __getattr__("err_console").print(Text.assemble(("错误:", "bold red"), text))

"""officeflow.toml: read once into frozen per-section values; a bad value names its section, key and line."""

from __future__ import annotations

import dataclasses
import re

import pytest
from support.workspace import make_workspace

from automation.errors import SettingsError
from automation.settings import SETTINGS_FILE, Watch, load_settings

ENGLISH = re.compile(r"[A-Za-z]{4,}")  # what a person reads carries no English exception text


def _write(root, old: str, new: str) -> None:
    """Replace the line that starts with ``old`` (a key and its ``=``, or a header) by ``new``."""
    toml = root / SETTINGS_FILE
    lines = toml.read_text(encoding="utf-8").splitlines()
    at = next(n for n, line in enumerate(lines) if line.startswith(old))
    toml.write_text("\n".join([*lines[:at], new, *lines[at + 1:]]) + "\n", encoding="utf-8")


def _line_of(root, text: str) -> int:
    return next(n for n, line in enumerate((root / SETTINGS_FILE).read_text(encoding="utf-8").splitlines(), 1)
                if text in line)


def test_settings_are_frozen_sections_read_under_their_section_names_only(tmp_path):
    root = make_workspace(tmp_path)
    _write(root, "poll_seconds =", "poll_seconds = 5")
    settings = load_settings(root)
    assert settings.watch == Watch(mode="native", poll_seconds=5.0, quiet_seconds=0.3, sweep_seconds=1.0)  # FAST
    assert isinstance(settings.watch.poll_seconds, float) and settings.register_writing.mode == "file"
    with pytest.raises(AttributeError):
        settings.poll_seconds  # noqa: B018 — the old flat names are gone: one name per setting
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.watch.poll_seconds = 1  # type: ignore[misc]
    faster = settings.with_(watch={"poll_seconds": 0.5}, register_writing={"coalesce_seconds": 0.1})
    assert (faster.watch.poll_seconds, faster.register_writing.coalesce_seconds) == (0.5, 0.1)
    assert faster.watch.quiet_seconds == 0.3 and settings.watch.poll_seconds == 5.0  # the original is untouched


@pytest.mark.parametrize(("old", "new", "says"), [
    ("poll_seconds =", 'poll_seconds = "两秒"', "[watch] poll_seconds 应为数字,现为「两秒」"),
    ("max_zip_entries =", "max_zip_entries = 20.5", "[limits] max_zip_entries 应为整数"),
    ("digest =", "digest = 1", "[notify] digest 应为 true 或 false"),
    ('mode = "native"', 'mode = "fast"', "[watch] mode 只能是 native 或 poll,现为「fast」"),
    ("max_file_mb =", "max_file_mb = -3", "[limits] max_file_mb 不能为负数"),
    ("poll_seconds =", "pol_seconds = 2", "[watch] pol_seconds 不存在,您是否想写「poll_seconds」"),
])
def test_a_bad_setting_is_refused_naming_its_section_key_and_line_in_chinese(tmp_path, old, new, says):
    root = make_workspace(tmp_path)
    _write(root, old, new)
    with pytest.raises(SettingsError) as refused:
        load_settings(root)
    assert says in refused.value.message and not ENGLISH.search(refused.value.message.replace(says, ""))
    assert refused.value.location.endswith(f"第 {_line_of(root, new)} 行")


def test_a_settings_file_that_is_not_toml_says_where_in_chinese(tmp_path):
    root = make_workspace(tmp_path)
    _write(root, "[time]", "[time")
    with pytest.raises(SettingsError) as refused:
        load_settings(root)
    assert f"第 {_line_of(root, '[time')} 行" in refused.value.message and "line" not in refused.value.message

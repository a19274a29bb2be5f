"""The ``register:`` block of a form spec: refused with the file and line when it cannot work."""

from __future__ import annotations

import pytest
from support.policy import make_specs, policy_copy

from automation.errors import SpecError
from automation.forms.register_spec import RESERVED_NAMES
from automation.forms.spec import load_spec, load_specs
from automation.policy.lint import lint_policy
from automation.record.registers.definitions import REGISTERS
from automation.record.registers.render import DASHBOARD

HEAD = """id: {id}
title: {title}
version: "1.0"
kind: xlsx
fields:
  - key: 申请人
    type: person
  - key: 日期
    type: date
  - key: 人数
    type: integer
"""


def _spec(tmp_path, register: str, form_id: str = "room", title: str = "会议室预订单"):
    path = tmp_path / f"{form_id}.yaml"
    path.write_text(HEAD.format(id=form_id, title=title) + register, encoding="utf-8")
    return path


def test_columns_take_their_format_from_the_field_type(tmp_path):
    spec = load_spec(_spec(tmp_path, "register:\n  name: 会议台账\n  columns:\n    - {header: 申请人, field: 申请人}\n"
                                     "    - {header: 日期, field: 日期}\n"
                                     "    - {header: 人数, field: 人数}\n    - {header: 状态, value: 状态}\n"
                                     "  totals: [人数]\n  summary: {measure: 人数, by: [[申请人, 状态]]}\n"))
    assert [(c.header, c.kind) for c in spec.register.columns] == [
        ("申请人", "text"), ("日期", "date"), ("人数", "int"), ("状态", "text")]
    assert spec.register.groupings == (("申请人", "状态"),)
    assert [c.width for c in spec.register.columns] == [None] * 4  # sized from the data unless a width is written


@pytest.mark.parametrize("register,words", [
    ("register:\n  name: 会议台账\n  columns:\n    - {header: 地点, field: 地点}\n", "地点"),
    ("register:\n  name: 会议台账\n  columns:\n    - {header: 人数, field: 人数, value: 编号}\n", "只须写"),
    ("register:\n  name: 会议台账\n  columns:\n    - {header: 编号, value: 单号}\n", "value 只能是"),
    ("register:\n  name: 会议台账\n  columns:\n    - {header: 人数, field: 人数}\n  totals: [金额]\n", "金额"),
    ("register:\n  name: 会议/台账\n  columns:\n    - {header: 人数, field: 人数}\n", "文件名"),
    ("register:\n  name: 客户台账\n  columns:\n    - {header: 人数, field: 人数}\n", "系统自带"),
    ("register:\n  name: 会议台账\n  columns:\n    - {header: 超期, overdue_of: 归还日期}\n", "归还日期"),
    ("register:\n  name: 会议台账\n  columns:\n    - {header: 人数, field: 人数, width: 宽}\n", "width 应为"),
])
def test_a_register_that_cannot_work_is_refused_at_its_line(tmp_path, register, words):
    with pytest.raises(SpecError) as raised:
        load_spec(_spec(tmp_path, register))
    assert words in raised.value.message and "room.yaml 第" in raised.value.location


def test_two_forms_cannot_share_a_register(tmp_path):
    block = "register:\n  name: 会议台账\n  columns:\n    - {header: 人数, field: 人数}\n"
    _spec(tmp_path, block)
    _spec(tmp_path, block, form_id="room2", title="会议室预订单二")
    with pytest.raises(SpecError) as raised:
        load_specs(tmp_path)
    assert "已由 room.yaml 使用" in raised.value.message


def test_reserved_names_cover_every_register_the_program_keeps():
    assert set(RESERVED_NAMES) == {*REGISTERS, DASHBOARD}


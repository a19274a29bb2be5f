"""`officeflow forms new 名称`: a scaffold that loads and builds as it is, never overwriting."""

from __future__ import annotations

import json
import subprocess
import sys

import openpyxl
import pytest
from support.workspace import make_workspace

from automation.errors import SpecError
from automation.forms.build import build_form
from automation.forms.scaffold import new_form_spec, register_name
from automation.forms.spec import load_spec


def test_scaffold_loads_builds_and_declares_a_register(tmp_path):
    made = new_form_spec(tmp_path, "用车申请单", form_id="car_request", code="YC")
    spec = load_spec(made.path)
    assert (spec.id, spec.title, spec.code, spec.register.name) == ("car_request", "用车申请单", "YC", "用车申请台账")
    assert spec.fields[-1].key == "申请编号" and set(spec.summary_fields) <= {f.key for f in spec.fields}
    wb = openpyxl.load_workbook(build_form(spec, tmp_path / "built"))
    assert {"申请人", "事项", "申请编号"} <= set(wb.defined_names)
    comments = [line for line in made.path.read_text(encoding="utf-8").splitlines() if "#" in line]
    assert comments and all(any("\u4e00" <= ch <= "\u9fff" for ch in line.split("#", 1)[1]) for line in comments
                            if line.split("#", 1)[1].strip())


def test_scaffold_never_overwrites_an_existing_spec(tmp_path):
    (tmp_path / "car_request.yaml").write_text("# 管理员改过的\n", encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        new_form_spec(tmp_path, "用车申请单", form_id="car_request")
    assert "已经存在" in raised.value.message
    assert (tmp_path / "car_request.yaml").read_text(encoding="utf-8") == "# 管理员改过的\n"


@pytest.mark.parametrize("title,form_id", [("会议 室", None), ("1号表", None), ("用车申请单", "用车-1")])
def test_names_excel_or_a_file_name_cannot_take_are_refused(tmp_path, title, form_id):
    with pytest.raises(SpecError):
        new_form_spec(tmp_path, title, form_id=form_id)
    assert list(tmp_path.iterdir()) == []


def test_register_name_drops_the_form_suffix():
    assert [register_name(t) for t in ("会议室预订单", "用车申请", "设备登记表")] == ["会议室预订台账", "用车申请台账", "设备登记台账"]


def test_forms_new_command_prints_json_and_refuses_a_second_time(tmp_path):
    root = make_workspace(tmp_path)

    def run(*args):
        return subprocess.run([sys.executable, "-m", "automation", "forms", "new", *args, "--workspace", str(root)],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)

    first = run("用车申请单", "--id", "car_request", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["id"] == "car_request"
    again = run("用车申请单", "--id", "car_request")
    assert again.returncode == 2 and "已经存在" in again.stderr

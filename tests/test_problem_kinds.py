"""Every problem kind and error the package declares: stable code, Chinese title, template that renders."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import string

import automation
from automation import errors
from automation.problems import DECLARED_IN, KINDS, Location, Problem

CODE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
HAN = re.compile(r"[\u4e00-\u9fff]")


def _import_everything() -> None:
    for module in pkgutil.walk_packages(automation.__path__, "automation."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)


def test_every_problem_kind_has_a_kebab_code_a_chinese_title_and_a_template_that_renders():
    _import_everything()
    assert len(KINDS) > 30
    for code, k in KINDS.items():
        assert CODE.match(code), code
        assert HAN.search(k.title), code
        fields = {name for _, name, _, _ in string.Formatter().parse(k.template) if name}
        problem = k(field="合同金额", location="表单!B7", value="1", **{f: "示例" for f in fields - {"field", "value", "location"}})
        assert problem.code == code and HAN.search(problem.message) and "{" not in problem.message


def test_every_error_class_has_its_own_kebab_code():
    _import_everything()
    classes = [errors.OfficeFlowError, *_subclasses(errors.OfficeFlowError)]
    codes = [c.code for c in classes]
    assert all(CODE.match(code) for code in codes)
    assert len(codes) == len(set(codes)), codes


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_problem_kind_is_declared_in_the_one_catalogue():
    _import_everything()
    # kinds a test declares for itself (in the same process) are not the package's
    ours = {code: module for code, module in DECLARED_IN.items() if module.split(".")[0] == "automation"}
    outside = {code: module for code, module in ours.items() if not module.startswith("automation.problems")}
    assert not outside, outside
    assert set(DECLARED_IN) == set(KINDS)


def test_a_problem_location_is_also_given_as_fields_and_a_stored_problem_reads_back():
    from automation.problems.field import REQUIRED_MISSING

    cell = REQUIRED_MISSING(field="客户名称", location=Location.in_cell("表单", "B7"),
                            source="校验规则!B5 · 001 · S1-R152", rule="校验规则!B5")
    assert cell.at == Location(text="表单!B7", sheet="表单", cell="B7", field="客户名称", rule="校验规则!B5")
    assert cell.location == "表单!B7"
    line = REQUIRED_MISSING(field="数量", location=Location.in_table("明细", 2), row=2)
    assert (line.at.table, line.at.row, line.at.text) == ("明细", 2, "表格「明细」第 2 行")
    assert REQUIRED_MISSING(field="客户名称", location=Location.in_control("客户名称")).at.tag == "客户名称"
    # the fields come from where the problem is made: text alone is never parsed back into them
    assert REQUIRED_MISSING(field="客户名称", location="表单!B7").at.sheet is None
    for problem in (cell, line):
        stored = json.loads(json.dumps(problem.to_dict(), ensure_ascii=False))
        assert Problem.from_dict(stored) == problem and Problem.from_dict(stored).at == problem.at
    assert stored["at"]["table"] == "明细"
    older = {k: v for k, v in cell.to_dict().items() if k != "at"}  # written before locations had fields
    assert Problem.from_dict(older).at == Location(text="表单!B7", field="客户名称", rule="校验规则!B5")


def test_a_problem_cites_the_rule_it_was_given_never_one_read_out_of_its_source_text():
    from automation.problems.field import REQUIRED_MISSING

    given = REQUIRED_MISSING(field="客户名称", source="制度.xlsx · 人员", rule="人员!A5")
    assert given.at.rule == "人员!A5"
    assert REQUIRED_MISSING(field="客户名称", source="校验规则!B5 · 001 · S1-R152").at.rule is None
    stored = json.loads(json.dumps(given.to_dict(), ensure_ascii=False))
    assert stored["at"]["rule"] == "人员!A5" and Problem.from_dict(stored) == given

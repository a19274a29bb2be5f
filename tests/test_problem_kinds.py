"""Every problem kind and error the package declares: stable code, Chinese title, template that renders."""

from __future__ import annotations

import importlib
import pkgutil
import re
import string

import automation
from automation import errors
from automation.problems import KINDS

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

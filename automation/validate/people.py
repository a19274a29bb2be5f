"""Person fields are references to the roster (人员).

申请人, 销售员, 报销人, 调查人, 借款人, 工作交接人 and every field of type ``person``
must name an active person in 人员 (after trimming and full-width folding, done
when the value was read); otherwise the form goes back with the closest name
suggested on that cell. A 部门 field must agree with the applicant's 部门 in 人员:
the department that routes a form always comes from the roster.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from typing import Iterator

from automation.problems import Problem
from automation.problems.field import department_mismatch, person_inactive, person_unknown

PERSON_KEYS = ("申请人", "销售员", "报销人", "调查人", "借款人", "工作交接人")
ROSTER = "制度.xlsx · 人员"


def person_keys(spec) -> list[str]:
    keys = [f.key for f in spec.fields if f.type == "person" or f.key in PERSON_KEYS]
    if spec.applicant_field and spec.applicant_field not in keys and spec.applicant_field in spec.all_keys:
        keys.append(spec.applicant_field)
    return keys


def check_people(policy, form) -> list[Problem]:
    return [*_names(policy, form), *_department(policy, form)]


def _names(policy, form) -> Iterator[Problem]:
    active = [p.name for p in policy.people.values() if p.active]
    for key in person_keys(form.spec):
        value = form.values.get(key)
        if value in (None, ""):
            continue
        name = fold(value)
        person = policy.person(name)
        where = dict(field=key, location=form.location_of(key), value=name, source=ROSTER)
        if person is None:
            yield person_unknown(hint=_hint(name, active), **where)
        elif not person.active:
            yield person_inactive(**where)


def _department(policy, form) -> Iterator[Problem]:
    key = form.spec.department_field or ("部门" if "部门" in form.spec.all_keys else None)
    given = form.values.get(key) if key else None
    person = policy.person(fold(form.applicant)) if form.applicant else None
    if given in (None, "") or person is None or not person.department:
        return
    if fold(given) != fold(person.department):
        yield department_mismatch(field=key, location=form.location_of(key), value=given, person=person.name,
                                  expected=person.department, source=ROSTER)


def fold(value) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))


def _hint(name: str, names: list[str]) -> str:
    match = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    return f",您是否想写「{match[0]}」?" if match else ",请填写人员名单(制度.xlsx「人员」表)中的姓名。"

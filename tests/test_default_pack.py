"""The repository's own workspace and the pack that `officeflow init` installs stay the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from automation.forms.spec import load_specs
from automation.policy.lint import lint_policy
from automation.workspace import RESOURCES

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "forms").glob("*.yaml")))
def test_packaged_form_specs_match_the_workspace(name):
    assert (RESOURCES / "forms" / name).read_bytes() == (REPO / "forms" / name).read_bytes(), \
        f"forms/{name} changed: copy it to automation/resources/forms/"


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "contracts").glob("*.docx")))
def test_packaged_contract_templates_match_the_workspace(name):
    assert (RESOURCES / "contracts" / name).read_bytes() == (REPO / "contracts" / name).read_bytes()


def test_packaged_settings_match_the_workspace():
    assert (RESOURCES / "officeflow.toml").read_bytes() == (REPO / "officeflow.toml").read_bytes()


def test_shipped_policy_workbook_lints_clean_against_the_shipped_forms():
    report = lint_policy(REPO / "policies" / "制度.xlsx", load_specs(REPO / "forms"))
    assert report.ok, report.render_text()


def test_every_spec_has_its_blank_form_in_the_workspace():
    for spec in load_specs(REPO / "forms").values():
        assert (REPO / "forms" / spec.file_name).exists(), spec.file_name


def test_shipped_policy_workbook_is_the_pack_in_code():
    from automation.policy import pack
    from automation.policy.workbook import load_policy

    policy = load_policy(REPO / "policies" / "制度.xlsx", load_specs(REPO / "forms"))
    assert {title: policy.form_code(title) for title in pack.FORM_CODES} == pack.FORM_CODES, \
        "policies/制度.xlsx is stale: python -m automation.policy.workbook_build"
    assert sorted(policy.people) == sorted(row[0] for row in pack.PEOPLE)

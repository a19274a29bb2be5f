"""A file whose custom properties name a known form is identified without reading its fallback clues.

``identify`` takes the properties first; when they name one of the forms the file may be, the
markers, title, labels and table headers cannot change the answer, so ``read_clues`` leaves them
unread (only Strict and a workbook's sheets, checked before, are read besides). The answer — or
the refusal, with its code — must be the one the full clues give, for every shipped form and for
files that lost their properties, name a form we do not have, are Strict or have no sheets.
"""

from __future__ import annotations

import pytest
from support.forms import build_blank, repo_specs, strip_custom_properties
from support.producers import edit_xml, no_sheets, strict_open_xml

from automation.errors import UnrecognisedFormError
from automation.forms import markers
from automation.identify import identify as ident

ALL = list(repo_specs())
CUSTOM = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"


def _reference(path, kind, specs):
    """``identify`` on the full clues, as it was before the properties were taken first."""
    candidates = {key: spec for key, spec in specs.items() if spec.kind == kind}
    clues = ident.read_clues(path, kind)
    if kind == "xlsx" and not clues.sheets:
        raise UnrecognisedFormError("", code="form-no-sheets")
    if clues.strict:
        raise UnrecognisedFormError("", code="form-strict-ooxml")
    for how, (form_id, version) in clues.ids:
        spec = candidates.get(form_id)
        if spec is not None:
            ident._check_version(spec, version or None, path)
            return spec.id, version or None, how
    spec = ident.best_match(clues, candidates.values())
    if spec is None:
        raise UnrecognisedFormError("", code="form-unknown")
    return spec.id, None, ident.BY_NAMES


def _answer(find, path, kind, specs):
    try:
        found = find(path, kind, specs)
    except UnrecognisedFormError as exc:
        return ("refused", exc.code)
    return (found[0].id, *found[1:]) if not isinstance(found[0], str) else found


def _foreign(path):
    """Properties that name a form this office does not have."""
    def change(root):
        for prop in root.iter(f"{CUSTOM}property"):
            if prop.get("name") == markers.PROP_FORM:
                prop[0].text = "no_such_form"
    return edit_xml(path, "docProps/custom.xml", change)


VARIANTS = {"blank": lambda p: p, "no properties": strip_custom_properties, "foreign properties": _foreign,
            "strict": strict_open_xml}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("form_id", ALL)
def test_the_answer_is_the_one_the_full_clues_give(tmp_path, form_id, variant):
    specs, kind = repo_specs(), repo_specs()[form_id].kind
    path = VARIANTS[variant](build_blank(form_id, tmp_path))
    assert _answer(ident.identify, path, kind, specs) == _answer(_reference, path, kind, specs)
    if variant == "blank":
        assert _answer(ident.identify, path, kind, specs) == (form_id, "1.0", ident.BY_PROPERTIES)
    # the same with fewer forms on offer: the properties name none of them, the fallbacks decide
    fewer = {k: s for k, s in specs.items() if k != form_id}
    assert _answer(ident.identify, path, kind, fewer) == _answer(_reference, path, kind, fewer)


@pytest.mark.parametrize("form_id", [f for f in ALL if repo_specs()[f].kind == "xlsx"][:2])
def test_a_workbook_without_sheets_is_refused_as_before(tmp_path, form_id):
    path = no_sheets(build_blank(form_id, tmp_path))
    assert _answer(ident.identify, path, "xlsx", repo_specs()) == ("refused", "form-no-sheets")


@pytest.mark.parametrize("form_id", ALL)
def test_the_fallback_clues_are_left_unread_when_the_properties_decide(tmp_path, form_id):
    kind = repo_specs()[form_id].kind
    path = build_blank(form_id, tmp_path)
    full, short = ident.read_clues(path, kind), ident.read_clues(path, kind, known=repo_specs())
    assert full.names and full.title
    assert (short.names, short.title, short.headers) == (set(), "", [])
    assert (short.ids[:1], short.strict, short.sheets) == (full.ids[:1], full.strict, full.sheets)

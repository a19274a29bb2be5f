"""The Word body read from the main part alone (forms/docx_body.py) is the body docx.Document gives,
and a package python-docx cannot open still fails the same way."""

from __future__ import annotations

from datetime import date

import pytest
from docx import Document
from lxml import etree
from support import producers
from support.e2e import office  # noqa: F401  (fixture)
from support.forms import build_blank, fill_docx, repo_specs

from automation import samples
from automation.forms import docx_reader
from automation.forms.docx_body import load_body
from automation.forms.raw import read_raw
from automation.forms.repair import load_tolerant

DOCX_SPECS = sorted(k for k, spec in repo_specs().items() if spec.kind == "docx")


def _full(source):
    return Document(source if not hasattr(source, "__fspath__") else str(source)).element.body


def _same(path, spec) -> None:
    light = load_tolerant(path, "docx", load_body)
    full = load_tolerant(path, "docx", _full)
    assert etree.tostring(light) == etree.tostring(full), path.name
    with pytest.MonkeyPatch.context() as mp:  # the same reader over python-docx's full open
        mp.setattr(docx_reader, "load_body", _full)
        by_full_open = read_raw(path, spec)
    assert read_raw(path, spec) == by_full_open, path.name


@pytest.mark.parametrize("spec_id", DOCX_SPECS)
def test_body_from_the_main_part_equals_the_full_open_for_every_blank_word_form(tmp_path, spec_id):
    _same(build_blank(spec_id, tmp_path), repo_specs()[spec_id])


def test_body_from_the_main_part_equals_the_full_open_for_filled_and_resaved_forms(tmp_path):
    spec = repo_specs()["trip_request"]
    form = fill_docx(build_blank("trip_request", tmp_path / "f"), samples.trip_request(date(2026, 11, 23)))
    _same(form, spec)
    variants = {"libreoffice_controls": (), "flattened_controls": (), "add_custom_property": ("x", "1"),
                "set_app_name": ("WPS Office",)}
    for name, args in variants.items():
        copy = tmp_path / name / form.name
        copy.parent.mkdir()
        copy.write_bytes(form.read_bytes())
        _same(getattr(producers, name)(copy, *args), spec)


def test_a_malformed_styles_part_still_fails_the_read_like_the_full_open(tmp_path):
    form = fill_docx(build_blank("trip_request", tmp_path), samples.trip_request(date(2026, 11, 23)))
    load_body(form)  # the intact styles part is now remembered as checked …
    producers.rewrite(form, lambda parts: {**parts, "word/styles.xml": parts["word/styles.xml"][:-40]})
    with pytest.raises(etree.XMLSyntaxError):  # … and a changed one is parsed again
        _full(form)
    with pytest.raises(etree.XMLSyntaxError):
        load_body(form)


def test_body_of_a_word_task_file_equals_the_full_open(office):  # noqa: F811
    office.submit("trip_request", samples.trip_request(office.today))
    office.run()
    [task] = [p for p in office.files("approvals") if p.suffix == ".docx"]
    _same(task, repo_specs()["trip_request"])

"""Build every blank form of a workspace from its specs (``officeflow forms build``)."""

from __future__ import annotations

from pathlib import Path

from automation.forms.build_docx import build_docx
from automation.forms.build_xlsx import build_xlsx
from automation.forms.spec import FormSpec, load_specs

BUILDERS = {"xlsx": build_xlsx, "docx": build_docx}


def build_form(spec: FormSpec, folder: Path) -> Path:
    """Build one blank form as ``<folder>/<标题>.<kind>``."""
    return BUILDERS[spec.kind](spec, Path(folder) / spec.file_name)


def build_all(specs: dict[str, FormSpec], folder: Path, *, overwrite: bool = True) -> list[Path]:
    """Build every spec's blank form; with overwrite=False existing files are left alone.

    Returns the files written (not the ones skipped).
    """
    written = []
    for spec in specs.values():
        dest = Path(folder) / spec.file_name
        if dest.exists() and not overwrite:
            continue
        written.append(build_form(spec, folder))
    return written


def build_blank_forms_into(folder: Path | str) -> list[Path]:
    """For ``officeflow init``: build the blank forms of the specs in ``folder``
    next to them, never replacing a form that is already there."""
    folder = Path(folder)
    return build_all(load_specs(folder), folder, overwrite=False)

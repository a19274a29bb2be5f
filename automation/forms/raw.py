"""The raw values a form file carries, exactly as its spec reads them (no typing, no checks).

Shared by the extract stage (which types and checks them) and the decide stage
(which fingerprints a task file's form data), so it lives with the form definitions.
"""

from __future__ import annotations

from pathlib import Path

from automation.forms.docx_reader import read_docx
from automation.forms.extracted import Raw
from automation.forms.spec import FormSpec
from automation.forms.xlsx_reader import read_xlsx


def read_raw(path: Path, spec: FormSpec) -> Raw:
    """Raw values (tables as lists of dicts), field locations and line-item cell locations.

    Pure: the same file gives the same result, so it can be fingerprinted.
    """
    reader = read_docx if spec.kind == "docx" else read_xlsx
    return reader(Path(path), spec)

"""What reading a form yields: typed values plus where each came from.

Produced by the extract stage and read by every stage after it, so it lives with the form definitions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automation.forms.spec import FormSpec
from automation.problems import Problem

MISSING = "表单中未找到该项"  # location of a field the file does not carry at all


@dataclass
class ExtractedForm:
    spec: FormSpec
    path: Path
    version: str | None
    identified_by: str  # "properties" | "names"
    raw: dict[str, Any] = field(default_factory=dict)  # as typed in the cell / control (tables: list of dicts)
    values: dict[str, Any] = field(default_factory=dict)  # typed; None when blank; tables: list of dicts
    locations: dict[str, str] = field(default_factory=dict)  # field key → "表单!B7" or "控件:客户名称"
    row_locations: dict[tuple[str, int, str], str] = field(default_factory=dict)  # (table, row 1-based, column) → "表单!C15"
    problems: list[Problem] = field(default_factory=list)  # parse problems
    doubt: str | None = None  # why the values cannot be read with confidence (controls lost on a re-save)

    @property
    def applicant(self) -> str | None:
        value = self.values.get(self.spec.applicant_field)
        return str(value).strip() if value not in (None, "") else None

    def location_of(self, key: str, table: str | None = None, row: int | None = None) -> str | None:
        if table and row is not None:
            return self.row_locations.get((table, row, key)) or self.locations.get(table)
        return self.locations.get(key)

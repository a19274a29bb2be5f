"""What reading a form yields: typed values plus where each came from.

Produced by the extract stage and read by every stage after it, so it lives with the form definitions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automation.forms.spec import FormSpec
from automation.problems import MISSING, Location, Problem

__all__ = ["MISSING", "ExtractedForm", "Raw"]

# What a reader yields: raw values (tables as lists of dicts), each field's place, each line-item cell's place.
Raw = tuple[dict[str, Any], dict[str, Location], dict[tuple[str, int, str], Location]]


@dataclass
class ExtractedForm:
    spec: FormSpec
    path: Path
    version: str | None
    identified_by: str  # "properties" | "names"
    raw: dict[str, Any] = field(default_factory=dict)  # as typed in the cell / control (tables: list of dicts)
    values: dict[str, Any] = field(default_factory=dict)  # typed; None when blank; tables: list of dicts
    places: dict[str, Location] = field(default_factory=dict)  # field key → its cell, control or table
    item_places: dict[tuple[str, int, str], Location] = field(default_factory=dict)  # (table, row 1-based, column)
    problems: list[Problem] = field(default_factory=list)  # parse problems
    doubt: str | None = None  # why the values cannot be read with confidence (controls lost on a re-save)

    @property
    def applicant(self) -> str | None:
        value = self.values.get(self.spec.applicant_field)
        return str(value).strip() if value not in (None, "") else None

    @property
    def locations(self) -> dict[str, str]:
        """Field key → where it is, as people read it: "表单!B7" or "控件:客户名称"."""
        return {key: place.text for key, place in self.places.items()}

    @property
    def row_locations(self) -> dict[tuple[str, int, str], str]:
        return {key: place.text for key, place in self.item_places.items()}

    def location_of(self, key: str, table: str | None = None, row: int | None = None) -> Location | None:
        if table and row is not None:
            return self.item_places.get((table, row, key)) or self.places.get(table)
        return self.places.get(key)

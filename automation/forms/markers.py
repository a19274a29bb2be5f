"""The form id and version, kept in more than one place inside a blank form.

Custom document properties are the first place; some programs drop them on
save. So each blank form also carries a hidden marker that LibreOffice, WPS and
Excel keep: in a workbook, a hidden, protected sheet ``_officeflow`` (A1:B2) and
a workbook-level defined name holding ``"id|version"``; in a Word document, a
hidden paragraph inside a bookmark, and a document variable (Word keeps it,
LibreOffice does not).
"""

from __future__ import annotations

import base64
import binascii
import re

PROP_FORM = "officeflow.form"
PROP_VERSION = "officeflow.version"
MARKER_SHEET = "_officeflow"
MARKER_NAME = "OfficeFlow.form"
MARKER_BOOKMARK = "OfficeFlow_form"
MARKER_VARIABLE = "officeflow.form"
# The hidden paragraph holds "officeflow:" and the base64 of "id|version": hidden text is still
# text, and what staff could ever see (a "show hidden text" view) never spells out an id.
_TEXT = re.compile(r"officeflow:([A-Za-z0-9_\-]+)")


def marker_value(form_id: str, version: str) -> str:
    return f"{form_id}|{version}"


def marker_text(form_id: str, version: str) -> str:
    encoded = base64.urlsafe_b64encode(marker_value(form_id, version).encode("utf-8")).decode("ascii").rstrip("=")
    return f"officeflow:{encoded}"


def parse_value(value: str | None) -> tuple[str, str] | None:
    """``"id|version"`` (quotes allowed, as a defined-name constant) → (id, version)."""
    text = (value or "").strip().strip('"').strip()
    if "|" not in text:
        return None
    form_id, version = (part.strip() for part in text.split("|", 1))
    return (form_id, version) if form_id and version else None


def parse_text(text: str | None) -> tuple[str, str] | None:
    match = _TEXT.search(text or "")
    if not match:
        return None
    encoded = match.group(1)
    try:
        decoded = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return parse_value(decoded)


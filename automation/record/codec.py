"""Typed form values ↔ JSON, canonical so that equal data gives an equal fingerprint."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

_TAG = "__t"


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {_TAG: "dec", "v": format(value, "f")}
    if isinstance(value, datetime):
        return {_TAG: "dt", "v": value.isoformat()}
    if isinstance(value, date):
        return {_TAG: "date", "v": value.isoformat()}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        tag = value.get(_TAG)
        if tag == "dec":
            return Decimal(value["v"])
        if tag == "date":
            return date.fromisoformat(value["v"])
        if tag == "dt":
            return datetime.fromisoformat(value["v"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def dumps(value: Any) -> str:
    return json.dumps(_encode(value), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def loads(text: str | None) -> Any:
    return None if text is None else _decode(json.loads(text))


def fingerprint(data: dict) -> str:
    """SHA-256 of the canonical form of the data an approver is shown."""
    return hashlib.sha256(dumps(data).encode("utf-8")).hexdigest()


def plain(value: Any) -> Any:
    """A JSON-friendly rendering for --json output and reason files."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Mapping):  # a dict, or a Case / Task record
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value

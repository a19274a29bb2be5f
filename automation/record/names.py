"""Customer-name normalisation: one customer, however its name was typed.

Pure on purpose: the policy engine imports it for 客户交叉 look-ups, and the
customer register stores its result in ``customers.norm_name``.
"""

from __future__ import annotations

import unicodedata

from automation.lookalike import skeleton

# Longest first, so "股份有限公司" is not cut to "股份" by "有限公司".
LEGAL_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "公司", "集团")
_NOISE_CATEGORIES = ("P", "Z", "C")  # punctuation, separators (spaces), control/format


def normalise_customer_name(name: str | None) -> str:
    """NFKC, no spaces or punctuation, legal suffixes stripped, lower case, and look-alike
    letters (Cyrillic А for Latin A …) replaced by their Latin prototype (UTS #39 skeleton)."""
    # The skeleton before lower-casing: Cyrillic В looks like B, but its lower case в is no b.
    text = unicodedata.normalize("NFKC", skeleton(unicodedata.normalize("NFKC", name or "")).lower())
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] not in _NOISE_CATEGORIES)
    return _strip_suffixes(text)


def _strip_suffixes(text: str) -> str:
    # "某某集团有限公司" carries two suffixes; a bare "公司" keeps its name.
    while True:
        suffix = next((s for s in LEGAL_SUFFIXES if text.endswith(s) and len(text) > len(s)), None)
        if suffix is None:
            return text
        text = text[: -len(suffix)]

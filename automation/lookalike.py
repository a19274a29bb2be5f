"""Look-alike letters: a UTS #39 confusable skeleton and a mixed-script test.

「АВС贸易」 typed with Cyrillic А, В, С looks exactly like 「ABC贸易」 and would
slip past the blacklist and the 客户交叉 check. The skeleton maps every letter
of an alphabetic script that has a Latin look-alike (Cyrillic, Greek,
Armenian, Cherokee, the odd Latin variants …) to that look-alike, using the
Unicode confusables data shipped with ``confusable-homoglyphs``. Han, kana and
Hangul are left alone: Chinese names are compared as typed (after NFKC).
"""

from __future__ import annotations

from functools import lru_cache


_KEEP_SCRIPTS = frozenset({"HAN", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO"})
_IGNORED_SCRIPTS = frozenset({"COMMON", "INHERITED", "UNKNOWN"})
# UTS #39 "highly restrictive": one script, or Latin with the scripts written beside it in East Asia.
_ALLOWED_MIXES = (frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}), frozenset({"LATIN", "HAN", "BOPOMOFO"}),
                  frozenset({"LATIN", "HAN", "HANGUL"}))


@lru_cache(maxsize=1)
def _unicode_data():
    """confusable-homoglyphs' tables (scripts and confusables), loaded at the first non-ASCII letter asked
    about: a command that never compares a name (``officeflow process`` with nothing to take in) never
    loads them (~60 ms CPU)."""
    from confusable_homoglyphs import categories, confusables  # lazy: its tables cost ~60 ms at start

    return categories, confusables


def skeleton(text: str) -> str:
    """``text`` with each look-alike letter replaced by its Latin prototype."""
    return "".join(_prototype(ch) for ch in text)


@lru_cache(maxsize=8192)
def _prototype(ch: str) -> str:
    if ch.isascii() or _script(ch) in _KEEP_SCRIPTS:
        return ch
    for glyph in _unicode_data()[1].confusables_data.get(ch, ()):
        candidate = glyph["c"]
        if candidate.isascii() and candidate.isalnum():
            return candidate.lower() if ch.islower() or not ch.isupper() else candidate
    return ch


# CJK Unified Ideographs and Extension A: Han in Unicode's Scripts.txt, so the letters of almost every
# Chinese name are told apart from the look-alike scripts without loading the tables (~50 ms CPU),
# which an approval of a customer named in Chinese would otherwise pay (tests/test_lookalike_han_ranges.py).
_HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF))


def _script(ch: str) -> str:
    code = ord(ch)
    if any(first <= code <= last for first, last in _HAN_RANGES):
        return "HAN"
    try:
        return _unicode_data()[0].alias(ch)
    except (KeyError, IndexError):
        return "UNKNOWN"


def scripts(text: str) -> set[str]:
    return {_script(ch) for ch in text if ch.isalpha()} - _IGNORED_SCRIPTS


def is_mixed_script(text: str) -> bool:
    """True when ``text`` mixes scripts no real name mixes (e.g. Latin with Cyrillic)."""
    found = scripts(text)
    return len(found) > 1 and not any(found <= allowed for allowed in _ALLOWED_MIXES)


def look_alikes(text: str) -> list[tuple[str, str]]:
    """(letter, the Latin letter it looks like) for each disguised letter, in order, once each."""
    seen: dict[str, str] = {}
    for ch in text:
        proto = _prototype(ch)
        if proto != ch and ch not in seen:
            seen[ch] = proto
    return list(seen.items())


SCRIPT_LABELS = {"LATIN": "拉丁字母", "CYRILLIC": "西里尔字母", "GREEK": "希腊字母", "HAN": "汉字",
                 "ARMENIAN": "亚美尼亚字母", "CHEROKEE": "切罗基字母", "HIRAGANA": "平假名", "KATAKANA": "片假名",
                 "HANGUL": "韩文", "ARABIC": "阿拉伯字母", "HEBREW": "希伯来字母"}


def script_names(text: str) -> str:
    return "、".join(SCRIPT_LABELS.get(s, s.title()) for s in sorted(scripts(text)))

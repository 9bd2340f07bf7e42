"""Deciding whether two spoken forms are the same reading (strict and lenient, as the conventions define).

strict: NFC, lowercase, one tone-mark style, "-" as a space, punctuation dropped, spaces collapsed.
lenient: additionally treats accepted variants as equal (ngàn/nghìn, lẻ/linh, tỉ/tỷ, mươi bốn/mươi tư,
linh tư/linh bốn, tháng giêng/tháng một, mùng/mồng dropped, kí lô/ki lô, and an unsaid zero
hundred inside a number).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from broadcaster.normalize.orthography import to_nfc, unify_tone_marks

_PUNCT_RE = re.compile(r"[^\w\s]|_")
_SPACES_RE = re.compile(r"\s+")

_LENIENT_WORDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"(?<!\w){p}(?!\w)"), r)
    for p, r in (
        ("ngàn", "nghìn"),
        ("lẻ", "linh"),
        ("tỉ", "tỷ"),
        ("mươi bốn", "mươi tư"),
        ("linh tư", "linh bốn"),
        ("tháng giêng", "tháng một"),
        ("mùng", ""),
        ("mồng", ""),
        ("kí lô", "ki lô"),
        # "hai nghìn không trăm linh năm" = "hai nghìn linh năm"; "sáu triệu không trăm năm mươi" = "sáu triệu năm mươi"
        ("không trăm", ""),
    )
)


def strict_form(text: str) -> str:
    text = unify_tone_marks(to_nfc(text).lower())
    text = text.replace("-", " ").replace("–", " ")
    text = _PUNCT_RE.sub(" ", text)
    return _SPACES_RE.sub(" ", text).strip()


def lenient_form(text: str) -> str:
    text = strict_form(text)
    for pattern, repl in _LENIENT_WORDS:
        text = pattern.sub(repl, text)
    return _SPACES_RE.sub(" ", text).strip()


def _matches(hypothesis: str, references: Iterable[str], form: Callable[[str], str]) -> bool:
    hyp = form(hypothesis)
    return any(hyp == form(ref) for ref in references)


def same_strict(hypothesis: str, expected: str, alternatives: Iterable[str] = ()) -> bool:
    """True if ``hypothesis`` equals ``expected`` or an alternative under the strict comparison."""
    return _matches(hypothesis, [expected, *alternatives], strict_form)


def same_lenient(hypothesis: str, expected: str, alternatives: Iterable[str] = ()) -> bool:
    """True if ``hypothesis`` equals ``expected`` or an alternative under the lenient comparison."""
    return _matches(hypothesis, [expected, *alternatives], lenient_form)

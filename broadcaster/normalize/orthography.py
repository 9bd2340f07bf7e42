"""Unicode form and tone-mark placement.

Vietnamese text arrives in NFC or NFD and with either tone-mark style ("hoà"/"hòa", "uỷ"/"ủy").
Output uses NFC and one style throughout — the traditional one (hòa, ủy, thủy, khỏe) that the
reading conventions and the abbreviation table use — so identical words reach the TTS engine
identically.
"""

from __future__ import annotations

import re
import unicodedata

_TONES = ("\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # huyền, sắc, hỏi, ngã, nặng


def _style_map() -> dict[str, str]:
    mapping: dict[str, str] = {}
    for tone in _TONES:
        for first, second in (("o", "a"), ("o", "e"), ("u", "y")):
            for upper in (False, True):
                f, s = (first.upper(), second.upper()) if upper else (first, second)
                new_style = f + unicodedata.normalize("NFC", s + tone)
                old_style = unicodedata.normalize("NFC", f + tone) + s
                mapping[new_style] = old_style
    return mapping


_STYLE = _style_map()
# Only in an open syllable ("hoà" but not "hoàn") and not after q, where u belongs to the onset
# ("quả", "quý" are already right in both styles).
_STYLE_RE = re.compile(
    r"(?<![qQ])(" + "|".join(sorted(_STYLE, key=len, reverse=True)) + r")(?![^\W\d_])"
)


def unify_tone_marks(text: str) -> str:
    """hoà → hòa, uỷ → ủy, thuỷ → thủy, khoẻ → khỏe (NFC in, NFC out)."""
    return _STYLE_RE.sub(lambda m: _STYLE[m.group(1)], text)


def to_nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)

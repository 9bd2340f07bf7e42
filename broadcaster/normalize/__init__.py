"""Vietnamese text normalisation: officer-typed announcements → words a TTS engine reads correctly.

    >>> normalize("Họp lúc 7h30 ngày 02/9/2024 tại Hội trường KP 4.")
    'họp lúc bảy giờ ba mươi phút ngày hai tháng chín năm hai nghìn không trăm hai mươi tư tại hội trường khu phố bốn.'

Numbers, dates, times, money, units, phone numbers, document numbers, Roman numerals, headings and
administrative abbreviations are turned into lowercase NFC Vietnamese words; punctuation stays
because it gives the engine its pauses. Pure regular expressions: nothing is read from disk until
the first call (the abbreviation table is then loaded once).
"""

from __future__ import annotations

from collections.abc import Iterable

from broadcaster.normalize.compare import same_lenient, same_strict
from broadcaster.normalize.numbers import read_int, read_number
from broadcaster.normalize.pipeline import explain_line, normalize
from broadcaster.normalize.trace import Span

__all__ = [
    "Span",
    "explain_line",
    "normalize",
    "normalize_lines",
    "read_int",
    "read_number",
    "same_lenient",
    "same_strict",
]


def normalize_lines(lines: Iterable[str]) -> list[str]:
    """Normalise each line on its own; one output line per input line (empty stays empty)."""
    return [normalize(line.rstrip("\r\n").replace("\n", " ")) for line in lines]

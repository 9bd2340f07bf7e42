"""The normalisation pipeline: one line of officer-typed text → lowercase spoken Vietnamese.

The order matters: each step turns what it recognises into plain lowercase words, so later, more
general steps (a bare number, an unknown capital token) only see what is left. Roughly, the most
specific patterns (headings, web addresses, document numbers, phones, dates, times) go first and
bare numbers last.
"""

from __future__ import annotations

import re

from broadcaster.normalize import abbreviations, contacts, dates, documents, quantities, structure
from broadcaster.normalize.orthography import to_nfc, unify_tone_marks

_SILENT_END_RE = re.compile(r"\s*\./\.\s*")  # "./." closes an official document; it is not read

_SYMBOLS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"\s*&\s*", " và "),
        (r"\s*≥\s*", " lớn hơn hoặc bằng "),
        (r"\s*≤\s*", " nhỏ hơn hoặc bằng "),
        (r"(?<=\s)>(?=\s)", " lớn hơn "),
        (r"(?<=\s)<(?=\s)", " nhỏ hơn "),
        (r"(?<=\s)=(?=\s)", " bằng "),
        (r"(?<=\s)\+(?=\s)", " cộng "),
        (r"(?<=\s)~\s*", " khoảng "),
        (r"%", " phần trăm "),
        (r"°", " độ "),
        # "/" before a unit of time or count is "per" (lít nước/ngày); elsewhere ("ông/bà", "và/hoặc")
        # it is a short pause, not "gạch chéo".
        (r"(?<=[^\W\d_])/(?=(?:ngày|tháng|năm|tuần|giờ|phút|người|hộ|lượt|lần|buổi|suất|trang|bản|bộ|khẩu)\b)",
         " trên "),
        (r"(?<=[^\W\d_])/(?=[^\W\d_])", " "),
    )
)
_SPACE_BEFORE_PUNCT_RE = re.compile(r"\s+([,.;:!?)\]])")
_DOUBLE_PUNCT_RE = re.compile(r",\s*(?=[,.;:!?])")
_SPACES_RE = re.compile(r"[ \t\u00a0]+")


def _read_symbols(text: str) -> str:
    for pattern, repl in _SYMBOLS:
        text = pattern.sub(repl, text)
    return text


def _tidy(text: str) -> str:
    text = _SPACES_RE.sub(" ", text)
    text = _SPACE_BEFORE_PUNCT_RE.sub(r"\1", text)
    text = _DOUBLE_PUNCT_RE.sub("", text)
    text = re.sub(r"\(\s+", "(", text)
    return text.strip().strip(",").strip()


def normalize_line(line: str) -> str:
    """Normalise one line (no newline inside)."""
    text = to_nfc(line).strip()
    if not text:
        return ""
    text = _SILENT_END_RE.sub(". ", text).strip()
    text = structure.read_headings(text)
    text = contacts.read_addresses(text)
    text = structure.roman_numerals_to_digits(text)
    text = documents.read_document_numbers(text)
    text = contacts.read_phone_numbers(text)
    text = dates.read_dates(text)
    text = quantities.read_round_the_clock(text)
    text = quantities.split_codes(text)
    text = quantities.read_ranges(text)
    text = dates.read_times(text)
    text = quantities.read_per(text)
    text = quantities.read_quantities(text)
    text = dates.read_month_names(text)
    text = quantities.read_ordinals(text)
    text = quantities.read_fractions(text)
    text = abbreviations.expand_abbreviations(text)
    text = quantities.read_remaining_numbers(text)
    text = abbreviations.spell_unknown_initialisms(text)
    text = _read_symbols(text)
    text = unify_tone_marks(text.lower())
    return _tidy(text)


def normalize(text: str) -> str:
    """Normalise a paragraph; line breaks are kept and each line is read on its own."""
    if "\n" not in text:
        return normalize_line(text)
    return "\n".join(normalize_line(line) for line in text.split("\n"))

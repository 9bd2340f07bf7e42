"""Document structure: numbered headings, list markers, bullets and Roman numerals in context.

Emoji and bullet symbols are silent (a pause between words).
"I." / "1." / "1.1." / "a)" / "a/" at the start of a line are read as a number or letter name followed by a
pause ("một,", "một chấm một,", "bê,"). Roman numerals are only numbers after words that take them
(khóa XV, báo động II, quý I, lần thứ XIV ...); a lone "I" or "V" elsewhere is a letter.
"""

from __future__ import annotations

import re

from broadcaster.normalize.numbers import LETTER_NAMES, read_int, roman_to_int

_BULLET_RE = re.compile(r"^\s*[-+*•–]\s+")
_ROMAN_HEADING_RE = re.compile(r"^(\s*)([IVXLC]+)(?:[.)/]|\s?[-–:])\s+")
_NUMBER_HEADING_RE = re.compile(r"^(\s*)(\d{1,2}(?:\.\d{1,2})*)(?:[.)]|/(?=\s))\s+")
_LETTER_HEADING_RE = re.compile(r"^(\s*)([a-zđA-G])(?:[.)]|/(?=\s))\s+")  # "a)", "b.", "a/ "
# "a) ...; b) ..." inside a line: after a clause boundary only, so "(b/c)" or "1b)" stay untouched.
_INLINE_LETTER_RE = re.compile(r"(?:(?<=[;:])|(?<=[;:]\s))([a-zđ])\)(?=\s)")
_INLINE_NUMBER_RE = re.compile(r"(?:(?<=[;:])|(?<=[;:]\s))(\d{1,2})\)(?=\s)")


def _letter(ch: str) -> str:
    return LETTER_NAMES.get(ch.lower(), ch.lower())


# Emoji, dingbats and the shapes used as bullets (📢 👉 ✅ ❗ ⚠️ ► ●) are not read: at the start of a
# line they go, inside it they become a pause. The degree sign and other symbols that are words
# (°C, ™) are not among them.
_PICTOGRAPH_RUN = (
    r"(?:[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u25A0-\u25FF\u2300-\u23FF]"
    r"[\uFE0F\u200D\u20E3\U0001F3FB-\U0001F3FF]*\s*)+"
)
_LEADING_PICTOGRAPHS_RE = re.compile(rf"^\s*{_PICTOGRAPH_RUN}")
_PICTOGRAPHS_RE = re.compile(rf"\s*{_PICTOGRAPH_RUN}")
_KEYCAP_RE = re.compile(r"(\d)\uFE0F?\u20E3")
_STRAY_MARKS_RE = re.compile(r"[\uFE0F\u200D\u20E3]")


def drop_pictographs(line: str) -> str:
    """Emoji and bullet symbols are silent; between words they leave a pause (a comma)."""
    line = _KEYCAP_RE.sub(r"\1,", line)  # "1️⃣ Thời gian" numbers a list item
    line = _STRAY_MARKS_RE.sub("", _LEADING_PICTOGRAPHS_RE.sub("", line))
    line = _PICTOGRAPHS_RE.sub(", ", line).strip()
    line = re.sub(r"(?<=[,.;:!?…(\[\"“])\s*,\s*", " ", line)  # no pause doubled after punctuation
    return re.sub(r",\s*$", "", line).strip()


def read_headings(line: str) -> str:
    """Turn heading numbers and list markers of one line into words followed by a comma."""
    line = _BULLET_RE.sub("", line, count=1)

    def roman(m: re.Match[str]) -> str:
        value = roman_to_int(m.group(2))
        if value is None:
            return m.group(0)
        return f"{m.group(1)}{read_int(value)}, "

    line = _ROMAN_HEADING_RE.sub(roman, line, count=1)
    line = _NUMBER_HEADING_RE.sub(
        lambda m: m.group(1) + " chấm ".join(read_int(int(p)) for p in m.group(2).split(".")) + ", ",
        line,
        count=1,
    )
    line = _LETTER_HEADING_RE.sub(lambda m: f"{m.group(1)}{_letter(m.group(2))}, ", line, count=1)
    line = _INLINE_LETTER_RE.sub(lambda m: _letter(m.group(1)) + ",", line)
    return _INLINE_NUMBER_RE.sub(lambda m: read_int(int(m.group(1))) + ",", line)


# Words after which a Roman numeral is a number. "thứ" keeps its own ordinal rule downstream.
_ROMAN_CONTEXT = (
    r"lần thứ|thứ|khóa|khoá|báo động|BĐ|quý|kỳ|kì|đại hội|chương|phần|mục|thế kỷ|thế kỉ|đợt|giai đoạn|"
    r"hạng|loại|cấp|cấp độ|tập|vòng|nhóm|vùng|khu vực|phụ lục|điều|khu phố|tiểu khu|KP|KV"
)
# Words that take a multi-letter Roman numeral ("hạng III") but after which a lone I or V is a letter.
# "khu vực I" is not among them: regional offices are numbered so (Chi cục Thuế khu vực I).
_LETTER_CONTEXT_RE = re.compile(r"(?i:hạng|loại|cấp|cấp độ|tập|vòng|nhóm|vùng)")
_ROMAN_IN_CONTEXT_RE = re.compile(
    rf"(?<![\w])((?i:{_ROMAN_CONTEXT})\s+)([IVXLC]+)((?:\s*(?:,|và|-|–|đến)\s*[IVXLC]+)*)(?![\w])"
)


def roman_numerals_to_digits(text: str) -> str:
    """Replace Roman numerals after their context words by Arabic digits (read later as numbers)."""

    def repl(m: re.Match[str]) -> str:
        if m.group(2) in ("I", "V", "C", "L", "X") and not m.group(3) and _LETTER_CONTEXT_RE.fullmatch(m.group(1).strip()):
            # "xe loại V", "nhóm I", "bằng lái hạng C": a lone letter unless the word takes numbers
            return m.group(0)
        first = roman_to_int(m.group(2))
        if first is None:
            return m.group(0)
        tail = re.sub(
            r"[IVXLC]+", lambda r: str(roman_to_int(r.group(0)) or r.group(0)), m.group(3)
        )
        return f"{m.group(1)}{first}{tail}"

    return _ROMAN_IN_CONTEXT_RE.sub(repl, text)

"""Reading numbers aloud in Vietnamese: cardinals, decimals, digit strings, ordinals, Roman numerals.

Conventions (see the project's reading conventions): "mốt" for 1 and "tư" for 4 after "mươi",
"lăm" for 5 after "mười"/"mươi", "linh" for a zero tens digit inside a hundred, "không trăm" for a
non-leading group with no hundreds, all-zero groups skipped. "." separates thousands and ","
introduces decimals, as Vietnamese documents write them.
"""

from __future__ import annotations

import re

DIGITS: tuple[str, ...] = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

# Vietnamese letter names, used to spell document symbols and unknown initialisms.
LETTER_NAMES: dict[str, str] = {
    "a": "a", "ă": "á", "â": "ớ", "b": "bê", "c": "xê", "d": "dê", "đ": "đê", "e": "e", "ê": "ê",
    "f": "ép", "g": "gờ", "h": "hát", "i": "i", "j": "gi", "k": "ca", "l": "lờ", "m": "mờ", "n": "nờ",
    "o": "o", "ô": "ô", "ơ": "ơ", "p": "pê", "q": "quy", "r": "rờ", "s": "ét", "t": "tê", "u": "u",
    "ư": "ư", "v": "vê", "w": "vê kép", "x": "ích", "y": "i dài", "z": "dét",
}

_SCALES: tuple[str, ...] = ("", "nghìn", "triệu")
_BILLION = 10**9

# Beyond this many digits a "number" is a code (account, serial) and is read digit by digit.
MAX_CARDINAL_DIGITS = 15


def _tens_and_units(tens: int, units: int, after_hundred: bool) -> list[str]:
    """Words for the last two digits of a three-digit group."""
    if tens == 0:
        if units == 0:
            return []
        # "linh" only when something (a hundred, or "không trăm") was said before it.
        return ["linh", DIGITS[units]] if after_hundred else [DIGITS[units]]
    words = ["mười"] if tens == 1 else [DIGITS[tens], "mươi"]
    if units == 0:
        return words
    if units == 5:
        words.append("lăm")
    elif units == 1 and tens >= 2:
        words.append("mốt")
    elif units == 4 and tens >= 2:
        words.append("tư")
    else:
        words.append(DIGITS[units])
    return words


def _read_group(n: int, full: bool) -> list[str]:
    """Words for 0 <= n < 1000; ``full`` pads with "không trăm" as in a non-leading group."""
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if hundreds or full:
        words += [DIGITS[hundreds], "trăm"]
    words += _tens_and_units(tens, units, after_hundred=bool(hundreds or full))
    return words


def _read_below_billion(n: int, leading: bool) -> list[str]:
    groups: list[int] = []
    while n:
        n, g = divmod(n, 1000)
        groups.append(g)
    words: list[str] = []
    first = leading
    for scale in range(len(groups) - 1, -1, -1):
        g = groups[scale]
        if g == 0:
            continue  # an all-zero group is skipped entirely
        words += _read_group(g, full=not first)
        if _SCALES[scale]:
            words.append(_SCALES[scale])
        first = False
    return words


def _read_int_words(n: int, leading: bool = True) -> list[str]:
    if n >= _BILLION:
        high, low = divmod(n, _BILLION)
        words = _read_int_words(high, leading) + ["tỷ"]
        if low:
            words += _read_below_billion(low, leading=False)
        return words
    return _read_below_billion(n, leading)


def read_int(n: int) -> str:
    """Cardinal reading of a non-negative integer: 2024 → "hai nghìn không trăm hai mươi tư"."""
    if n < 0:
        return "âm " + read_int(-n)
    if n == 0:
        return "không"
    return " ".join(_read_int_words(n))


# Amounts of ten digits or more are written with thousands points (1.000.000.000); an unbroken run
# that long is a code (a tax number, a card number) and is said digit by digit.
MAX_UNGROUPED_DIGITS = 9


def read_digits(digits: str) -> str:
    """One word per digit: "114" → "một một bốn"."""
    return " ".join(DIGITS[int(d)] for d in digits if d.isdecimal())


def read_digit_string(digits: str) -> str:
    """Cardinal for an unformatted digit string, or digit by digit when it is really a code.

    "05" is read "năm" (dates, document numbers), but a longer string with a leading zero
    ("0012") or a very long one is an identifier and keeps every digit.
    """
    if len(digits) > MAX_UNGROUPED_DIGITS or (len(digits) >= 4 and digits.startswith("0")):
        return read_digits(digits)
    return read_int(int(digits))


def read_fraction_digits(frac: str) -> str:
    """The part after "phẩy": leading zeros are said, the rest is read as a number (25 → hai mươi lăm)."""
    stripped = frac.lstrip("0")
    zeros = ["không"] * (len(frac) - len(stripped))
    if not stripped:
        return " ".join(zeros)
    if len(stripped) > 3:
        return " ".join(zeros + [read_digits(stripped)])
    return " ".join(zeros + [read_int(int(stripped))])


_NUMBER_RE = re.compile(r"^(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d+))?$")


def read_number(text: str) -> str:
    """Read a written number: "1.500.000", "95,5", "05", "2024".

    Raises ValueError for text that is not a number in Vietnamese notation.
    """
    m = _NUMBER_RE.match(text.strip())
    if not m:
        raise ValueError(f"not a number in Vietnamese notation: {text!r}")
    integer, frac = m.group(1), m.group(2)
    head = read_int(int(integer.replace(".", ""))) if "." in integer else read_digit_string(integer)
    if frac is None:
        return head
    return f"{head} phẩy {read_fraction_digits(frac)}"


def ordinal(n: int) -> str:
    """The word after "thứ": 1 → nhất, 4 → tư, otherwise the cardinal."""
    if n == 1:
        return "nhất"
    if n == 4:
        return "tư"
    return read_int(n)


def month_name(m: int) -> str:
    """The word after "tháng": 1 → một, 4 → tư (never "tháng bốn"), otherwise the cardinal."""
    return "tư" if m == 4 else read_int(m)


_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_ROMAN_RE = re.compile(r"^M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")


def roman_to_int(text: str) -> int | None:
    """Value of a well-formed Roman numeral ("XIV" → 14), or None if ``text`` is not one."""
    if not text or not _ROMAN_RE.match(text):
        return None
    total = 0
    prev = 0
    for ch in reversed(text):
        v = _ROMAN_VALUES[ch]
        total = total - v if v < prev else total + v
        prev = max(prev, v)
    return total


def spell(text: str) -> str:
    """Spell letters with Vietnamese letter names and digit runs as cardinals ("QH13" → "quy hát mười ba")."""
    words: list[str] = []
    for run in re.findall(r"\d+|[^\W\d_]", text):
        if run.isdecimal():  # not "²", "³": isdigit() is true for them but int() fails
            words.append(read_digit_string(run))
        else:
            words.append(LETTER_NAMES.get(run.lower(), run.lower()))
    return " ".join(words)

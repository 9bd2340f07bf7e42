"""Places: fishing boats, number plates, kilometre posts, streets named by dates and alley addresses.

* Fishing boats "QT-90123-TS": the province's letters and TS spelt, the number digit by digit.
* Plates "74B1-012.34": the province code as a number, the series letters spelt, then the serial
  digit by digit with a pause where the writer put the dot (bảy mươi tư bê một, không một hai, ba bốn).
* Kilometre posts "Km 4+200", "Km752+300": ki lô mét bốn cộng hai trăm; "Km 15" before a number
  alone is a post too (ki lô mét mười lăm).
* Streets named by a date with a dash, "đường 30-4" → đường ba mươi tháng tư (the slash form
  "đường 3/2" is read by the dates).
* Alleys: "K27/15" → kiệt hai mươi bảy trên mười lăm; after kiệt, hẻm, ngõ, ngách every "/" is "trên"
  ("ngách 12/4/7" → mười hai trên bốn trên bảy).
"""

from __future__ import annotations

import re

from broadcaster.normalize.abbreviations import capitalised_word_follows
from broadcaster.normalize.numbers import (
    LETTER_NAMES,
    month_name,
    read_digit_string,
    read_digits,
    read_int,
    spell,
)

_PLATE_RE = re.compile(
    r"(?<![\w.,/-])(\d{2})\s?-?\s?([A-Z]{1,2})(\d?)(?:\s?-\s?|\s)(\d{3}\.\d{2}|\d{4,5})(?![\w]|[.,]\d)"
)


# An undotted serial ("29A-12345") is a plate only after a word for a vehicle or a plate; the dotted
# one ("74B1-012.34") is a plate wherever it stands.
_PLATE_WORD_BEFORE = re.compile(
    r"(?i:xe|ô tô|mô tô|xe máy|biển|biển số|biển kiểm soát|BKS|phương tiện|số xe|mang biển)\s*:?\s*$"
)


def _plate(m: re.Match[str]) -> str:
    province, series, series_digit, serial = m.groups()
    if "." not in serial and not _PLATE_WORD_BEFORE.search(m.string[max(0, m.start() - 30) : m.start()]):
        return m.group(0)
    head = read_int(int(province)) + " " + " ".join(LETTER_NAMES[c.lower()] for c in series)
    if series_digit:
        head += " " + read_digits(series_digit)
    groups = serial.split(".") if "." in serial else [serial]
    return head + ", " + ", ".join(read_digits(g) for g in groups)


_KM_POST_RE = re.compile(r"(?<![\w.,])(?:Km|KM|km)\s?(\d{1,4})\s?\+\s?(\d{1,3})(?![\w]|[.,]\d)")
_KM_BARE_RE = re.compile(r"(?<![\w.,])(?:Km|KM)\s?(\d{1,4})(?![\w+]|[.,]\d)")

_STREET_DASH_RE = re.compile(
    r"(?<![\w])((?i:đường|phố|quảng trường|cầu)\s+)(0?[1-9]|[12]\d|3[01])-(0?[1-9]|1[0-2])"
    r"(?![\w/-]|[.,]\d|\s?(?:m|km|cm|mm|%|tuổi)\b)"
)

_K_ALLEY_RE = re.compile(r"(?<![\w/.,])K(\d{1,4}[A-Z]?)((?:/\d{1,4}[A-Z]?)+)(?![\w/])")
# "K45 Lê Lợi": a kiệt number right before a street name.
_K_STREET_RE = re.compile(r"(?<![\w/.,])K(\d{1,4}[A-Z]?)(?=\s+[^\W\d_]{2})")
_ALLEY_WORD_RE = re.compile(r"(?<![\w])((?i:kiệt|hẻm|ngõ|ngách|số nhà)\s+|SN\s+)(\d{1,4})((?:/\d{1,4})+)(?![\w/])")
# "các hẻm 8/3 và 10/5", "kiệt 27/15, 29/3 hoặc 31/1": the address word carries over a coordination,
# so every number of the list is an alley number ("trên"), not a date.
_ALLEY_TAIL = r"(?:\s*(?:,|và|hoặc|&)\s*(?:(?i:kiệt|hẻm|ngõ|ngách|số nhà)\s+|SN\s+|K)?(?!\d{1,2}/\d{1,2}/\d{4})\d{1,4}[A-Z]?(?:/\d{1,4}[A-Z]?)+(?![\w/]))"
_ALLEY_LIST_RE = re.compile(
    rf"(?<![\w])((?:(?i:kiệt|hẻm|ngõ|ngách|số nhà)\s+|SN\s+|K)\d{{1,4}}[A-Z]?(?:/\d{{1,4}}[A-Z]?)+(?![\w/]))({_ALLEY_TAIL}+)"
)
_ALLEY_ITEM_RE = re.compile(r"(?<![\w/])(\d{1,4}[A-Z]?)((?:/\d{1,4}[A-Z]?)+)(?![\w/])")


def _alley_list(m: re.Match[str]) -> str:
    """The numbers after the first of a list keep its reading: "X trên Y", digits read as a number."""
    tail = re.sub(
        r"(?<=[\s,&])((?i:kiệt|hẻm|ngõ|ngách|số nhà)\s+|SN\s+|K)?(?=\d)",
        lambda k: ("kiệt " if k.group(1) == "K" else k.group(1) or ""),
        m.group(2),
    )
    tail = _ALLEY_ITEM_RE.sub(
        lambda i: " trên ".join(_alley_number(p) for p in [i.group(1), *i.group(2).split("/")[1:]]), tail
    )
    return m.group(1) + tail


def _alley_number(part: str) -> str:
    m = re.fullmatch(r"(\d+)([A-Z]?)", part)
    assert m
    words = read_digit_string(m.group(1))
    return words + (" " + LETTER_NAMES[m.group(2).lower()] if m.group(2) else "")


# "Km 3+500 – Km 5+100": a dash between two posts is "đến".
_KM_RANGE_RE = re.compile(r"((?:Km|KM|km)\s?\d{1,4}\s?\+\s?\d{1,3})\s*[-–—]\s*(?=(?:Km|KM|km)\s?\d)")


# Fishing-boat registrations "QT-90123-TS", "QNg-91234-TS": the province's letters spelt, the number
# digit by digit (as it is painted on the hull and copied down), then TS (tàu cá) spelt.
_BOAT_RE = re.compile(
    r"(?<![\w/.-])([A-ZĐ][A-Za-zĐđ]{1,3})(?:\s?-\s?(\d{3,5})\s?-\s?|\s(\d{4,5})\s)(TS)(?![\w-])"
)


def _boat(m: re.Match[str]) -> str:
    return f"{spell(m.group(1).upper())}, {read_digits(m.group(2) or m.group(3))}, {spell(m.group(4))}"


def read_places(text: str) -> str:
    text = _BOAT_RE.sub(_boat, text)
    text = _ALLEY_LIST_RE.sub(_alley_list, text)
    text = _PLATE_RE.sub(_plate, text)
    text = _KM_RANGE_RE.sub(r"\1 đến ", text)
    text = _KM_POST_RE.sub(
        lambda m: f"ki lô mét {read_int(int(m.group(1)))} cộng {read_int(int(m.group(2)))}", text
    )
    text = _KM_BARE_RE.sub(lambda m: f"ki lô mét {read_int(int(m.group(1)))}", text)
    text = _STREET_DASH_RE.sub(
        lambda m: f"{m.group(1)}{read_int(int(m.group(2)))} tháng {month_name(int(m.group(3)))}", text
    )
    text = _K_ALLEY_RE.sub(
        lambda m: "kiệt " + " trên ".join(_alley_number(p) for p in [m.group(1), *m.group(2).split("/")[1:]]),
        text,
    )
    text = _K_STREET_RE.sub(
        lambda m: "kiệt " + _alley_number(m.group(1)) if capitalised_word_follows(m.string[m.end() : m.end() + 4]) else m.group(0),
        text,
    )
    return _ALLEY_WORD_RE.sub(
        lambda m: m.group(1) + " trên ".join(read_digit_string(p) for p in [m.group(2), *m.group(3).split("/")[1:]]),
        text,
    )

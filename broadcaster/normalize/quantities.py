"""Quantities: ranges, "per" slashes, units, money, percent, ordinals, fractions and bare numbers.

These run after dates, times, phones and document numbers have been turned into words, so every
digit left in the text is a quantity, an ordinal or a fraction.
"""

from __future__ import annotations

import functools
import re

from broadcaster.normalize.abbreviations import dotted_abbreviations
from broadcaster.normalize.numbers import (
    LETTER_NAMES,
    month_name,
    ordinal,
    read_digit_string,
    read_fraction_digits,
    read_int,
    read_number,
)

# A written number: thousands with ".", decimals with ",".
NUM = r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?"

# Unit symbols after a number. Case matters: "m" is metre, "M" is not a unit here.
UNITS: dict[str, str] = {
    "km/h": "ki lô mét trên giờ",
    "km2": "ki lô mét vuông", "km²": "ki lô mét vuông",
    "m2": "mét vuông", "m²": "mét vuông",
    "m3": "mét khối", "m³": "mét khối",
    "cm": "xen ti mét", "mm": "mi li mét", "km": "ki lô mét", "m": "mét",
    "kVA": "ki lô vôn am pe", "KVA": "ki lô vôn am pe", "MVA": "mê ga vôn am pe",
    "m3/s": "mét khối trên giây", "m³/s": "mét khối trên giây", "l/s": "lít trên giây",
    "kV": "ki lô vôn", "KV": "ki lô vôn", "Km": "ki lô mét", "Kg": "ki lô gam", "kW": "ki lô oát", "kWh": "ki lô oát giờ", "MW": "mê ga oát", "W": "oát", "V": "vôn",
    "kg": "ki lô gam", "mg": "mi li gam", "g": "gam", "gr": "gam",
    "ha": "héc ta", "ml": "mi li lít", "l": "lít", "cc": "xê xê", "bar": "ba",
    "°C": "độ xê", "ºC": "độ xê", "oC": "độ xê", "độ C": "độ xê", "°": "độ",
    "%": "phần trăm",
    "đ": "đồng", "đồng": "đồng", "VNĐ": "đồng", "VND": "đồng", "vnđ": "đồng", "vnd": "đồng",
    "USD": "đô la mỹ",
    "µg": "mi crô gam", "μg": "mi crô gam", "µg/m³": "mi crô gam trên mét khối", "μg/m³": "mi crô gam trên mét khối",
    "µg/m3": "mi crô gam trên mét khối", "dB": "đề xi ben", "mAh": "mi li am pe giờ", "MWh": "mê ga oát giờ",
    "GWh": "gi ga oát giờ", "inch": "inh",
    "k": "nghìn", "tr": "triệu",
    "h": "giờ", "s": "giây",
}
# What may follow "/" after a quantity ("đồng/trang", "km/h", "lần/năm").
_PER_UNITS: dict[str, str] = {"h": "giờ", "s": "giây", "ng": "người", "m2": "mét vuông", "km": "ki lô mét"}

_UNIT_ALT = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
_QUANTITY_RE = re.compile(rf"(?<![\w.,])({NUM}|\d+\.\d{{1,2}})(\s?)({_UNIT_ALT})(?![^\W_])")

_RANGE_RE = re.compile(
    rf"(?<![\w.,])((?:{NUM})(?:[hgH:]\d{{0,2}}|\s?giờ(?:\s?\d{{1,2}}(?:\s?phút)?)?|\s?%|\s?(?:{_UNIT_ALT})(?![^\W\d_])|[a-zA-Z°]{{1,3}}\d?)?)\s*[-–—÷]\s*(?=\d)"
    r"(?!\d+(?:,\d+)?/\d)"  # "320 kVA - 22/0,4 kV": a ratio follows, not the end of a range
)
# "22/0,4 kV": a voltage (or other) ratio before a unit.
_RATIO_RE = re.compile(r"(?<![\w.,/])(\d+(?:,\d+)?)/(\d+(?:,\d+)?)(?=\s?(?:kV|KV|V)\b)")
_WEEKDAY_RANGE_RE = re.compile(r"((?i:thứ)\s+\d)\s*[-–]\s*(?=(?i:thứ)\s+\d)")
# After the "/": a unit word (trang, kg, ha) or a number of hours ("mm/24h"); several may follow
# one another ("đồng/người/tháng").
_PER_PART = r"(?:[^\W\d_]+[23]?|\d{1,2}\s?(?:h|giờ)(?![\w]))"
_PER_RE = re.compile(
    rf"(?<![\w.,])({NUM})(\s?)((?:(?:nghìn|ngàn|triệu|tỷ|tỉ)\s)?[^\W\d_]+[23²³]?)((?:/{_PER_PART})+)(?![\w/])"
)


def read_ranges(text: str) -> str:
    """number - number → "… đến …" (2021 - 2025, 18-25 tuổi, 3-5%, 7h00 - 11h30, thứ 2 - thứ 6)."""
    text = _WEEKDAY_RANGE_RE.sub(r"\1 đến ", text)
    return _RANGE_RE.sub(r"\1 đến ", text)


def _per_word(per: str) -> str:
    hours = re.fullmatch(r"(\d+)\s?(?:h|giờ)", per)
    if hours:
        return f"{read_int(int(hours.group(1)))} giờ"
    return _PER_UNITS.get(per) or UNITS.get(per, per)


def _per(m: re.Match[str]) -> str:
    num, space, unit, chain = m.groups()
    pers = chain.split("/")[1:]
    if f"{unit}/{pers[0]}" in UNITS:
        if len(pers) == 1:
            return m.group(0)
        unit, pers = f"{unit}/{pers[0]}", pers[1:]  # "km/h/người" is rare; keep km/h whole
    return f"{num}{space}{unit}" + "".join(f" trên {_per_word(p)}" for p in pers)


# "50 mg/100 ml", "50ml/8 lít", "1 lần/2 tuần": a quantity per another quantity.
_PER_QUANTITY_RE = re.compile(
    rf"(?<![\w.,])((?:{NUM})\s?(?:(?:nghìn|ngàn|triệu|tỷ|tỉ)\s)?[^\W\d_]+[23²³]?)/(?=(?:{NUM})\s?[^\W\d_])"
)


_COMRADES_RE = re.compile(r"(?<=\d)(\s?)[đĐ]/[cC](?![\w/])")
# "1 lít dung dịch/4 m2": a quantity whose unit is two or three words, per another quantity.
_PER_QUANTITY_LONG_RE = re.compile(
    rf"((?<![\w.,])(?:{NUM})\s?[a-zà-ỹđ]+(?:\s[a-zà-ỹđ]+){{1,2}})/(?=(?:{NUM})\s?[^\W\d_])"
)
_TIMES_RE = re.compile(r"(?<![\w.,])(\d+)\s?[x×]\s?(?=\d)")


def read_per(text: str) -> str:
    """"/" between a quantity's unit and another word is "trên": 2.000 đồng/trang → … đồng trên trang."""
    text = _COMRADES_RE.sub(r"\1đồng chí", text)  # "120 đ/c" counts comrades, not money per c
    text = _RATIO_RE.sub(r"\1 trên \2", text)
    text = _TIMES_RE.sub(r"\1 nhân ", text)  # "2x250 kVA": two transformers of 250 kVA
    text = _PER_QUANTITY_RE.sub(r"\1 trên ", text)
    text = _PER_QUANTITY_LONG_RE.sub(r"\1 trên ", text)
    return _PER_RE.sub(_per, text)


# Words after which a number with a point and one or two digits is a decimal: "1.5 triệu", "3.5 tấn",
# "0.3-0.5 m". A thousands group always has three digits, so "1.5" can be nothing else there.
_MAGNITUDES = r"nghìn|ngàn|triệu|tỷ|tỉ|tấn|tạ|yến|lít|mét|héc ta|độ|phần trăm|lần"


@functools.cache
def _decimal_point_re() -> re.Pattern[str]:
    units = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
    number = r"\d+\.\d{1,2}"
    return re.compile(
        # The other end of a range may be a whole number ("0.5-1 m").
        rf"(?<![\w.,])({number})((?:\s*[-–]\s*(?:{number}|\d+))?)(?=\s?(?:(?:{units})(?![^\W_])|(?:{_MAGNITUDES})\b))"
    )


def decimal_points(text: str) -> str:
    """"1.5 triệu" → "1,5 triệu": a decimal typed with a point, written the Vietnamese way for the readers below."""
    text = _PM25_RE.sub("PM 2,5", text)  # fine dust PM2.5: a size, two and a half micrometres

    def repl(m: re.Match[str]) -> str:
        if _NOT_DECIMAL_BEFORE.search(m.string[: m.start()]):
            return m.group(0)  # "sáng 2.9", "Điều 2.3": a date or a clause number
        return m.group(0).replace(".", ",")

    return _decimal_point_re().sub(repl, text)


_PM25_RE = re.compile(r"(?<![\w])PM\s?2[.,]5(?![\d])")
_NOT_DECIMAL_BEFORE = re.compile(r"(?<![\w])(?i:ngày|mùng|mồng|sáng|chiều|tối|trưa|đêm|hôm|lúc|điều|mục|khoản|phiên bản)\s+$")


def _read_quantity_number(num: str) -> str:
    if re.fullmatch(r"\d+\.\d{1,2}", num):
        # "5.2m": a decimal typed with a point; not a thousands group (those have three digits).
        whole, frac = num.split(".")
        return f"{read_digit_string(whole)} phẩy {read_fraction_digits(frac)}"
    return read_number(num)


def _quantity(m: re.Match[str]) -> str:
    num, _, unit = m.groups()
    return f"{_read_quantity_number(num)} {UNITS[unit]}"


# "-2°C": a minus sign before a temperature (not a range: nothing number-like right before it).
_BELOW_ZERO_RE = re.compile(r"(?:(?<=^)|(?<=[\s(]))[-–−]\s?(?=\d+(?:,\d+)?\s?(?:°C|ºC|oC|độ C|độ)(?![^\W\d_]))")


# "2,5 triệu kWh", "1,2 triệu m3": a unit symbol after a number and its magnitude word. "k" and "tr"
# are magnitudes themselves, and the one-letter units but "đ" (h, g, l, s, V, W, m) are left out: after
# "triệu" they are more likely a letter than a unit.
@functools.cache
def _magnitude_unit_re() -> re.Pattern[str]:
    units = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True) if (len(u) > 1 or u == "đ") and u not in {"tr", "đồng"})
    return re.compile(rf"(?<![\w.,])((?:{NUM}|\d+\.\d{{1,2}})\s(?:nghìn|ngàn|triệu|tỷ|tỉ)\s)({units})(?![^\W_])")


# "từ m3 thứ 11", "giá mỗi m2": an area or volume symbol standing alone is still the unit; no other
# word is written so (the upper-case "M2" may be a label and is left alone).
_LONE_AREA_RE = re.compile(r"(?<![\w.,/&-])(km2|km²|m2|m²|m3|m³)(?![\w/-])")


_CAPS_UNIT_RE = re.compile(
    rf"((?:{NUM})\s?(?:[-–]\s?(?:{NUM})\s?)?)(KM/H|KM²|KM2|M³/S|M3/S|M²|M³|M2|M3|KM|CM|MM|KG|MG|ML|HA|M)(?![^\W_])"
)


def lower_units_in_capitals(text: str) -> str:
    """In a line typed in capitals, "350 M³/S", "1.250 M²", "200-300 MM" are the usual units."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters or sum(ch.isupper() for ch in letters) < 0.8 * len(letters):
        return text
    return _CAPS_UNIT_RE.sub(lambda m: m.group(1) + m.group(2).lower(), text)
# "+19,5m" (a level above datum): a plus sign before a number is "cộng" (phones and km posts are read
# before this step).
_PLUS_RE = re.compile(r"(?:(?<=^)|(?<=[\s(]))\+\s?(?=\d)")


# "1m70", "1m5": a height in metres and centimetres, said "một mét bảy mươi", "một mét năm".
_METRE_CM_RE = re.compile(r"(?<![\w.,])(\d)m(\d{1,2})(?![\w]|[.,]\d)")


def read_quantities(text: str) -> str:
    """Numbers with a unit, currency or percent sign: 22kV, 5,2m, 50.000đ, 3%, 2,5 triệu kWh."""
    text = _BELOW_ZERO_RE.sub("âm ", text)
    text = _METRE_CM_RE.sub(lambda m: f"{read_int(int(m.group(1)))} mét {read_int(int(m.group(2)))}", text)
    text = _PLUS_RE.sub("cộng ", text)
    text = _magnitude_unit_re().sub(lambda m: f"{m.group(1)}{UNITS[m.group(2)]}", text)
    text = _QUANTITY_RE.sub(_quantity, text)
    return _LONE_AREA_RE.sub(lambda m: UNITS[m.group(1)], text)


_ORDINAL_RE = re.compile(
    r"(?<![\w])((?i:thứ)\s+)(\d+(?:\s*(?:,|và|hoặc|đến)\s*\d+)*)(?![\d.,]\d|[^\W\d_]|/)"
)


def read_ordinals(text: str) -> str:
    """thứ 1 → thứ nhất, thứ 4 → thứ tư, otherwise thứ + cardinal; "thứ 2, 4, 6" keeps the rule for each."""

    def repl(m: re.Match[str]) -> str:
        return m.group(1) + re.sub(r"\d+", lambda d: ordinal(int(d.group(0))), m.group(2))

    return _ORDINAL_RE.sub(repl, text)


_ROUND_THE_CLOCK_RE = re.compile(r"(?<![\w/.,])24/(24|7)(h?)(?![\w/]|[.,]\d)")


def read_round_the_clock(text: str) -> str:
    """24/7 and 24/24 are "hai mươi tư trên bảy", not a date or a fraction."""
    return _ROUND_THE_CLOCK_RE.sub(
        lambda m: f"hai mươi tư trên {read_int(int(m.group(1)))}" + (" giờ" if m.group(2) else ""), text
    )


_FRACTION_RE = re.compile(r"(?<![\w/.,])(\d+)/(\d+)(?![\w/]|[.,]\d)")
_ADDRESS_BEFORE = re.compile(r"(?i:số nhà|số|nhà|kiệt|hẻm|ngõ|ngách|lô|căn hộ|phòng|địa chỉ\s*:?)\s*$")
# "56/12 Hùng Vương": a number that cannot be a date, right before a capitalised street name.
_STREET_NAME_AFTER = re.compile(r"\s+[A-ZĐ][a-zà-ỹđ]+\s+[A-ZĐ][a-zà-ỹđ]+")


# "1.250/1.500 hộ": a count out of a total written with thousands points is "trên"; it can be neither
# a date nor a house number.
_COUNT_OF_TOTAL_RE = re.compile(
    r"(?<![\w.,/])(\d{1,3}(?:\.\d{3})+|\d+)/(\d{1,3}(?:\.\d{3})+)(?![\w/]|[.,]\d)"
    r"|(?<![\w.,/])(\d{1,3}(?:\.\d{3})+)/(\d+)(?![\w/]|[.,]\d)"
)


def _count_of_total(m: re.Match[str]) -> str:
    a, b = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    return f"{read_number(a)} trên {read_number(b)}"


# A counted noun right after a/b (a lower-case word that does not name a quantity to take a part of).
_COUNTED_NOUN_AFTER = re.compile(
    r"\s+(?!(?:số|dân số|diện tích|tổng|khối lượng|lượng|phần|giá trị|kinh phí|thời gian|sản lượng|chiều)\b)[a-zà-ỹđ]"
)


def read_fractions(text: str) -> str:
    """a/b left after dates: a house number (số 12/5 → mười hai trên năm) or a fraction (một phần ba)."""
    text = _COUNT_OF_TOTAL_RE.sub(_count_of_total, text)

    def repl(m: re.Match[str]) -> str:
        a, b = m.group(1), m.group(2)
        before = m.string[: m.start()]
        if _ADDRESS_BEFORE.search(before):
            return f"{read_digit_string(a)} trên {read_digit_string(b)}"
        date_like = 1 <= int(a) <= 31 and 1 <= int(b) <= 12
        if not date_like and _STREET_NAME_AFTER.match(m.string, m.end()):
            return f"{read_digit_string(a)} trên {read_digit_string(b)}"
        # "các ngày 5, 6 và 7/11": the last day of a list that "ngày" opened.
        in_day_list = bool(re.search(r"(?i:ngày)(?:\s*\d{1,2}\s*(?:,|và|hoặc|-|–)\s*)+$", before))
        if date_like and (in_day_list or int(a) >= int(b)):
            # An improper fraction is rare in announcements; "30/4", "3/2" are dates (holidays, streets).
            spoken = f"{read_int(int(a))} tháng {month_name(int(b))}"
            return spoken if re.search(r"(?i:ngày|mùng|mồng)\s*$", before) else "ngày " + spoken
        if int(b) >= 10 and int(a) <= int(b) and _COUNTED_NOUN_AFTER.match(m.string, m.end()):
            # "30/30 thanh niên", "12/15 xã": so many out of so many, not a fraction of a quantity
            return f"{read_digit_string(a)} trên {read_digit_string(b)}"
        return f"{read_digit_string(a)} phần {read_digit_string(b)}"

    return _FRACTION_RE.sub(repl, text)


_UNDERSCORE_RE = re.compile(r"(?<=[^\W_])_+(?=[^\W_])")
_NUMBER_LETTER_RE = re.compile(r"(?<![\w.,])(\d+)([A-ZĐ])(?![\w])")
_LETTERS_DIGITS_RE = re.compile(r"(?<![\w&])([A-ZĐ]{1,6}\.?)(\d+)(?![\w])")
# "COVID-19" → COVID 19, but not after a quantity ("15h-16h30", "5km-10km" are ranges).
_LETTER_DASH_DIGIT_RE = re.compile(
    r"(?<=[^\W\d_])(?<!\d[^\W\d_])(?<!\d[^\W\d_]{2})(?<!\d[^\W\d_]{3})-(?=\d)"
)


def split_codes(text: str) -> str:
    """Keep letters and digits apart so each is read on its own: KP3 → KP 3, COVID-19 → COVID 19."""
    text = _UNDERSCORE_RE.sub(" ", text)  # "Họ tên_KP" in a transfer's content: a separator
    text = _LETTER_DASH_DIGIT_RE.sub(" ", text)

    def split(m: re.Match[str]) -> str:
        letters = m.group(1)
        # "P.5", "Q.1": the dot belongs to the abbreviation; "KP.4": it is only a separator.
        if letters.endswith(".") and letters not in dotted_abbreviations():
            letters = letters[:-1]
        return f"{letters} {m.group(2)}"

    return _LETTERS_DIGITS_RE.sub(split, text)


_DOTTED_RE = re.compile(r"(?<![\w.,])(\d+(?:\.\d+)+)(?![\w]|[.,]\d)")
_NUMBER_RE = re.compile(rf"(?<![\d.,])({NUM})(?![\d])")


def read_remaining_numbers(text: str) -> str:
    """Every number still written in digits: cardinals, "1A" (một a), "1.2" (một chấm hai)."""
    text = _NUMBER_LETTER_RE.sub(
        lambda m: f"{read_digit_string(m.group(1))} {LETTER_NAMES[m.group(2).lower()]}", text
    )

    def dotted(m: re.Match[str]) -> str:
        s = m.group(1)
        if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", s):
            return s  # thousands, read below
        return " chấm ".join(read_digit_string(p) for p in s.split("."))

    text = _DOTTED_RE.sub(dotted, text)

    def number(m: re.Match[str]) -> str:
        words = read_number(m.group(1))
        # Keep the words apart from letters glued to the digits ("5tuổi").
        before = m.string[m.start() - 1 : m.start()]
        after = m.string[m.end() : m.end() + 1]
        if before.isalpha():
            words = " " + words
        if after.isalpha():
            words += " "
        return words

    return _NUMBER_RE.sub(number, text)

"""Dates, months, quarters and clock times.

dd/mm/yyyy (also "." or "-") → "ngày D tháng M năm Y", with "ngày" added only when the text does
not already say it; dd/mm without a year only where the words around make it a date (after "ngày",
"từ", "đến", "sáng" ... or as a street name "đường 3/2"), because elsewhere "1/3" is a fraction.
Times: 7h30, 7g30, 07:30 → "bảy giờ ba mươi phút"; ":00"/"h00"/bare "h" → "<h> giờ".
"""

from __future__ import annotations

import re

from broadcaster.normalize.numbers import month_name, read_int

_D = r"(0?[1-9]|[12]\d|3[01])"
_M = r"(0?[1-9]|1[0-2])"
_Y = r"((?:1[89]|20)\d\d)"
_NOT_BEFORE = r"(?<![\w.,/:-])"
_NOT_AFTER = r"(?![\w/]|[.,:-]\d)"

# Words after which a "ngày" must not be inserted (the text already names the day).
_DAY_WORD_BEFORE = re.compile(r"(?i:ngày|mùng|mồng|hôm)\s*$")
# Street and square names that are dates ("đường 3/2", "Quảng trường 30/4") take no "ngày".
_STREET_BEFORE = re.compile(r"(?i:đường|phố|quảng trường|cầu|khu|chung cư|trường)\s*$")


def say_date(day: int, month: int | None = None, year: int | None = None) -> str:
    words = [read_int(day)]
    if month is not None:
        words += ["tháng", month_name(month)]
    if year is not None:
        words += ["năm", read_int(year)]
    return " ".join(words)


def _with_ngay(text_before: str, spoken: str) -> str:
    if _DAY_WORD_BEFORE.search(text_before) or _STREET_BEFORE.search(text_before):
        return spoken
    return "ngày " + spoken


def _opt_int(s: str | None) -> int | None:
    return int(s) if s else None


# "05 - 07/12/2024", "30/11 - 02/12/2024", "01/6 - 30/6": a range of days.
_DATE_RANGE_RE = re.compile(
    rf"{_NOT_BEFORE}{_D}(?:/{_M}(?:/{_Y})?)?\s*(?:-|–|—)\s*{_D}/{_M}(?:/{_Y})?{_NOT_AFTER}"
)


def _date_range(m: re.Match[str]) -> str:
    d1, m1, y1, d2, m2, y2 = m.groups()
    first = say_date(int(d1), _opt_int(m1), _opt_int(y1))
    second = say_date(int(d2), int(m2), _opt_int(y2))
    before = m.string[: m.start()]
    return f"{_with_ngay(before, first)} đến ngày {second}"


# "tháng 6 - 8/2024" → tháng sáu đến tháng tám năm …
_MONTH_RANGE_RE = re.compile(rf"(?i:(tháng)\s+){_M}\s*(?:-|–|đến)\s*{_M}/{_Y}{_NOT_AFTER}")


def _month_range(m: re.Match[str]) -> str:
    _, m1, m2, y = m.groups()
    return f"{m.group(1)} {month_name(int(m1))} đến tháng {month_name(int(m2))} năm {read_int(int(y))}"


_FULL_DATE_RE = re.compile(
    rf"{_NOT_BEFORE}{_D}/{_M}/{_Y}{_NOT_AFTER}|{_NOT_BEFORE}{_D}\.{_M}\.{_Y}{_NOT_AFTER}"
    rf"|{_NOT_BEFORE}{_D}-{_M}-{_Y}{_NOT_AFTER}"
)


def _full_date(m: re.Match[str]) -> str:
    g = [x for x in m.groups() if x is not None]
    spoken = say_date(int(g[0]), int(g[1]), int(g[2]))
    return _with_ngay(m.string[: m.start()], spoken)


# "tháng 4/2024", "quý I/2024" (Roman already turned into digits), bare "4/2024".
# After a counter ("quý I/2024", "đợt 2/2025", "kỳ I/2025") the first number is that counter's number
# of the year, not a month.
_COUNTERS = ("quý", "đợt", "kỳ", "kì", "lần", "giai đoạn")
_MONTH_YEAR_RE = re.compile(
    rf"(?:(?<![\w])(?i:(tháng|quý|đợt|kỳ|kì|lần|giai đoạn))\s+)?{_NOT_BEFORE}{_M}/{_Y}{_NOT_AFTER}"
)


def _month_year(m: re.Match[str]) -> str:
    word, month, year = m.group(1), int(m.group(2)), int(m.group(3))
    if word and word.lower() in _COUNTERS:
        return f"{word} {read_int(month)} năm {read_int(year)}"
    return f"{word or 'tháng'} {month_name(month)} năm {read_int(year)}"


# dd/mm (no year) only after a word that makes it a date; a list "30/4 và 1/5" continues the run.
_DATE_CONTEXT = (
    r"ngày|mùng|mồng|từ|đến|tới|sáng|chiều|tối|trưa|đêm|lúc|hôm|nay|mai|dịp|lễ|tết|khánh|niệm|"
    r"trước|sau|hạn|vào|đường|phố|quảng trường"
)
_DM = rf"{_D}/{_M}{_NOT_AFTER}"
_CONTEXT_DATE_RE = re.compile(rf"(?<![\w])((?i:{_DATE_CONTEXT})\s+){_NOT_BEFORE}({_DM}(?:\s*(?:,|và|hoặc)\s*{_DM})*)")
_SINGLE_DM_RE = re.compile(rf"(?<![\w/]){_D}/{_M}{_NOT_AFTER}")


def _context_dates(m: re.Match[str]) -> str:
    lead = m.group(1)
    before = m.string[: m.start()] + lead

    def one(dm: re.Match[str]) -> str:
        spoken = say_date(int(dm.group(1)), int(dm.group(2)))
        # Only the first date of a run can follow "ngày"; the others get their own.
        prefix = before if dm.start() == 0 else ""
        return _with_ngay(prefix, spoken) if prefix else "ngày " + spoken

    return lead + _SINGLE_DM_RE.sub(one, m.group(2))


# "ngày 10.5", "sáng 2.9": a day and month written with a point, only right after a word that names a
# day or a part of it (after "từ"/"đến", "2.5" may be a decimal typed with a point).
_DOTTED_DM_RE = re.compile(
    rf"(?<![\w])((?i:ngày|mùng|mồng|hôm|sáng|chiều|tối|trưa|đêm)\s+){_NOT_BEFORE}{_D}\.{_M}{_NOT_AFTER}"
)


def _dotted_dm(m: re.Match[str]) -> str:
    lead = m.group(1)
    return lead + _with_ngay(m.string[: m.start()] + lead, say_date(int(m.group(2)), int(m.group(3))))


# "thứ bảy (13/12)", "chủ nhật, 14/12", "CN 21/12": a day and month right after a weekday.
_WEEKDAY_DM_RE = re.compile(
    rf"(?<![\w])((?i:thứ\s+(?:hai|ba|tư|năm|sáu|bảy|[2-7])|chủ\s+nhật)\s*[(,]?\s*){_NOT_BEFORE}{_D}/{_M}{_NOT_AFTER}"
)


# "T4/2025", "T12/2025": a month written T + number, as in reports and posters.
_T_MONTH_YEAR_RE = re.compile(rf"(?<![\w/.,-])T{_M}/{_Y}{_NOT_AFTER}")


# "từ ngày 1-12", "ngày 30-4": a day and month with a dash right after "ngày" is a date, unless what
# follows makes it a run of days ("ngày 1-3 tháng 12", "ngày 10-12 hằng tháng", "mùng 1-3 Tết").
_DASHED_DM_RE = re.compile(
    rf"(?<![\w])((?i:ngày|mùng|mồng)\s+){_NOT_BEFORE}{_D}-{_M}"
    rf"(?![\w/-]|[.,]\d|\s*(?:[-–]|đến|,\s*\d)|\s+(?i:tháng|hằng|hàng|của|trong|tết|âm|âl)\b)"
)


def read_dates(text: str) -> str:
    """Date ranges, full dates, month/year, quarter/year and contextual day/month."""
    text = _T_MONTH_YEAR_RE.sub(lambda m: f"tháng {month_name(int(m.group(1)))} năm {read_int(int(m.group(2)))}", text)
    text = _WEEKDAY_DM_RE.sub(lambda m: f"{m.group(1)}ngày {say_date(int(m.group(2)), int(m.group(3)))}", text)
    text = _DATE_RANGE_RE.sub(_date_range, text)
    text = _MONTH_RANGE_RE.sub(_month_range, text)
    text = _FULL_DATE_RE.sub(_full_date, text)
    text = _MONTH_YEAR_RE.sub(_month_year, text)
    text = _DOTTED_DM_RE.sub(_dotted_dm, text)
    text = _DASHED_DM_RE.sub(lambda m: m.group(1) + say_date(int(m.group(2)), int(m.group(3))), text)
    return _CONTEXT_DATE_RE.sub(_context_dates, text)


# "tháng 4" → tháng tư (a month name, never "tháng bốn"); "tháng 01" → tháng một.
_MONTH_WORD_RE = re.compile(rf"(?<![\w])((?i:tháng)\s+){_M}(?![\w.,/:]\w|\w)")


def read_month_names(text: str) -> str:
    return _MONTH_WORD_RE.sub(lambda m: m.group(1) + month_name(int(m.group(2))), text)


# --- clock times -----------------------------------------------------------------------------------

_H = r"([01]?\d|2[0-4])"
_TIME_RE = re.compile(
    rf"(?<![\w.,:/]){_H}"
    rf"(?:(?:h|g|H)([0-5]\d)?(?:'|’|p|ph|\s?phút)?|\s?giờ(?:\s?([0-5]\d)(?:\s?phút)?)?|:([0-5]\d)(?::[0-5]\d)?)"
    rf"(?![\w:]|[.,]\d)"
)
# A bare "g" is grams ("500g"), so "7g" alone is not a time; only "7g30" is.
_BARE_G_RE = re.compile(r"\d+g$")
# ... unless a word for a moment of the day comes right before it ("lúc 7g", "sáng 7g").
_TIME_WORD_BEFORE = re.compile(r"(?<![\w])(?i:lúc|sáng|chiều|tối|trưa|đêm|khoảng)\s+$")
# Weaker cues, which need what follows to be no noun: "bắt đầu 7g,", "trước 8g sáng mai".
_TIME_CUE_BEFORE = re.compile(
    r"(?<![\w])(?i:bắt đầu|khai mạc|bế mạc|kết thúc|tập trung|có mặt|xuất phát|trước|sau|vào)\s+$"
)
# ... and what follows is no noun weighed ("20g đường"): an end of clause or a part of the day.
_TIME_WORD_AFTER = re.compile(
    r"(?:\s*(?:[,.;:!?)]|$)|\s+(?:(?i:sáng|chiều|tối|trưa|đêm|hôm|ngày|thứ|chủ nhật|thì|và|hoặc|đến|tới)\b|T[2-7]\b|CN\b))"
)
# ... or another clock time written with g stands in the same line ("bắt đầu 7g, có mặt trước 6g45").
_G_TIME_IN_LINE = re.compile(r"(?<![\w.,])(?:[01]?\d|2[0-4])g[0-5]\d(?!\w)")


def say_time(hour: int, minute: int | None) -> str:
    if not minute:
        return f"{read_int(hour)} giờ"
    return f"{read_int(hour)} giờ {read_int(minute)} phút"


# ... or when it is one end of a range of times ("8g-11g", "7g30 đến 10g", "từ 7g đến 11g").
_TIME_BEFORE_RANGE = re.compile(r"(?<![\w.,])\d{1,2}(?:[hg]\d{0,2}|:\d\d|\s?giờ)\s*(?:-|–|đến|tới)\s*$")
_TIME_AFTER_RANGE = re.compile(r"\s*(?:-|–|đến|tới)\s*\d{1,2}(?:[hg]|:\d\d|\s?giờ)")


def _time(m: re.Match[str]) -> str:
    if _BARE_G_RE.search(m.group(0)):
        before, after = m.string[: m.start()], m.string[m.end() :]
        in_range = bool(_TIME_BEFORE_RANGE.search(before) or _TIME_AFTER_RANGE.match(after))
        strong = bool(_TIME_WORD_BEFORE.search(before))
        weak = bool(_TIME_CUE_BEFORE.search(before) or _G_TIME_IN_LINE.search(m.string))
        if not in_range and not strong and not (weak and _TIME_WORD_AFTER.match(after)):
            return m.group(0)
    minute = m.group(2) or m.group(3) or m.group(4)
    return say_time(int(m.group(1)), int(minute) if minute else None)


# "lúc 7.30": after "lúc" an hour and minutes with a point are a time.
_DOTTED_TIME_RE = re.compile(r"(?<![\w])((?i:lúc)\s+)([01]?\d|2[0-3])\.([0-5]\d)(?![\w]|[.,]\d)")


def read_times(text: str) -> str:
    """7h30 / 7g30 / 07:30 / 16h → spoken clock times."""
    text = _DOTTED_TIME_RE.sub(lambda m: m.group(1) + say_time(int(m.group(2)), int(m.group(3))), text)
    return _TIME_RE.sub(_time, text)

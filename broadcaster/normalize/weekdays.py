"""Weekdays as officers abbreviate them: T2–T6 → thứ hai đến thứ sáu, T7 → thứ bảy, CN → chủ nhật.

"T2".."T7" standing alone are weekdays (a month is written "T4/2025" or "tháng 4", which this leaves
alone). "CN" is chủ nhật next to another weekday or after a word for a part of the day or "ngày";
before a capitalised name ("Vietcombank CN Quảng Trị") it is chi nhánh and left to the abbreviations.
A dash between two weekdays is "đến" (thứ 2 - thứ 6, T2–T6, thứ Hai - thứ Sáu).
"""

from __future__ import annotations

import re

from broadcaster.normalize.abbreviations import capitalised_word_follows
from broadcaster.normalize.numbers import ordinal

_DASH = r"\s*[-–—]\s*"
_T_RE = re.compile(r"(?<![\w/.,&-])T([2-7])(?![\w/]|[.,]\d)")
_WEEKDAY_WORD = r"(?:thứ\s+(?:hai|ba|tư|năm|sáu|bảy|[2-7])|chủ\s+nhật|T[2-7]|CN)"
_CN_RE = re.compile(r"(?<![\w&/.-])CN(?![\w&/-])")
# Before CN: another weekday (with a dash, "đến", "và", a comma) or a word that names a day or part of it.
_CN_BEFORE = re.compile(
    rf"(?:(?i:{_WEEKDAY_WORD})\s*(?:[-–—,/]|(?i:đến|tới|và|hoặc))\s*"
    r"|(?<![\w])(?i:sáng|chiều|tối|trưa|đêm|ngày|các ngày|vào|riêng|nghỉ|đến|tới|từ|hằng|mỗi|lúc|\dh\d*|\dg\d*|giờ|phút)\s+)$"
)
_WEEKDAY_RANGE_RE = re.compile(
    r"((?i:thứ)\s+(?:[2-7]|(?i:hai|ba|tư|năm|sáu|bảy)))" + _DASH + r"(?=(?i:thứ\s+(?:[2-7]|hai|ba|tư|năm|sáu|bảy))|(?i:chủ nhật)|CN\b)"
)
# "thứ 2-6": both ends of the range are weekdays.
_SHORT_RANGE_RE = re.compile(r"((?i:thứ))\s+([2-7])" + _DASH + r"([2-7])(?![\w/]|[.,]\d)")


def _t(m: re.Match[str]) -> str:
    return "thứ " + ordinal(int(m.group(1)))


def _cn(m: re.Match[str]) -> str:
    before = m.string[max(0, m.start() - 40) : m.start()]
    after = m.string[m.end() : m.end() + 4]
    if _CN_BEFORE.search(before) or not capitalised_word_follows(after):
        return "chủ nhật"
    return m.group(0)  # "CN Quảng Trị": a branch (chi nhánh), read by the abbreviations


def read_weekdays(text: str) -> str:
    text = _SHORT_RANGE_RE.sub(
        lambda m: f"{m.group(1)} {ordinal(int(m.group(2)))} đến thứ {ordinal(int(m.group(3)))}", text
    )
    # "T2–T6" and "T7 - CN": a dash between two weekday tokens.
    text = re.sub(rf"(?<![\w/.,&-])(T[2-7]|CN){_DASH}(?=(?:T[2-7]|CN)(?![\w/]))", r"\1 đến ", text)
    text = _WEEKDAY_RANGE_RE.sub(r"\1 đến ", text)
    text = _CN_RE.sub(_cn, text)
    return _T_RE.sub(_t, text)

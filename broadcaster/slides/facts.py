"""Key facts of an announcement, taken from the officer's text by rules (no guessing model).

A citizen glancing at the TV wants four things: what it is about, when, where, and whom to ask.
A 900-character announcement buries them; the key-facts slide puts them first and the full text
follows on continuation slides. For an emergency the slide says what, where and what to do.

The rules read the text as officers write it (see playlists/announcements/): times like ``7h30``,
``14 giờ``, ``07:30``, dates like ``05/12/2026`` or ``ngày 5/12``, places after ``tại``, contacts
after ``liên hệ`` or as phone numbers. A fact that is not found is left out, never invented.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

_TIME: Final = r"\d{1,2}\s?(?:h|giờ|g)\s?\d{0,2}(?:\s?phút)?|\d{1,2}:\d{2}"
_DATE: Final = r"(?:ngày\s+)?\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?"
_PART: Final = r"(?:\s+(?:sáng|trưa|chiều|tối))?"
_WEEKDAY: Final = r"(?:\s*,?\s*(?:thứ\s+(?:hai|ba|tư|năm|sáu|bảy|[2-7])|chủ\s+nhật))?"
_LEAD: Final = r"(?:(?:từ|lúc|vào|trước|đến|đến hết|hết|hạn chót|chậm nhất)\s+)?"
WHEN_RE: Final = re.compile(
    rf"{_LEAD}(?:(?:{_TIME}){_PART}(?:\s*(?:[-–]|đến)\s*(?:{_TIME}){_PART})?{_WEEKDAY}(?:\s*,?\s*{_DATE})?"
    rf"|{_DATE}(?:\s*(?:[-–]|đến(?:\s+hết)?)\s*{_DATE})?)",
    re.IGNORECASE,
)
_STOP: Final = r"(?=[,;.:!?\n]|\s+(?:để|vào|lúc|từ|trong|khi|nhằm|đối với|và đề nghị)\s|$)"
WHERE_RE: Final = re.compile(rf"(?:\btại|\bở|địa điểm:?)\s+(?!https?:|www\.)(.{{3,90}}?){_STOP}", re.IGNORECASE)
PHONE_RE: Final = re.compile(r"(?<!\d)(?:\+84|0)\d{2,3}[ .]?\d{3}[ .]?\d{3,4}(?!\d)")
CONTACT_RE: Final = re.compile(r"(?:liên hệ|hotline|điện thoại|số điện thoại|đường dây nóng)\s*:?\s*(.{3,100}?)(?=[.;!?\n]|$)",
                               re.IGNORECASE)
# Sentences that tell people what to do (emergencies): the usual wording of ward warnings.
ACTION_RE: Final = re.compile(
    r"\b(?:đề nghị|yêu cầu|hãy|khẩn trương|không được|không nên|tuyệt đối|sơ tán|di chuyển|tránh|chủ động|cần|"
    r"tắt|ngắt|gọi|báo ngay|ở trong nhà|lên nơi cao|chằng chống)\b",
    re.IGNORECASE,
)
_SENTENCE_RE: Final = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True, slots=True)
class KeyFacts:
    what: str
    when: str | None = None
    where: str | None = None
    contact: str | None = None
    todo: tuple[str, ...] = ()

    def found(self) -> int:
        """How many of when, where and contact the text gave (what is always there)."""
        return sum(1 for x in (self.when, self.where, self.contact) if x)


def sentences(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text)
    out = []
    for s in _SENTENCE_RE.split(text):
        s = " ".join(s.split()).lstrip("-•*+ ").strip()
        if s:
            out.append(s)
    return out


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with "…" when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:–-") + "…"


def _when(text: str) -> str | None:
    found: list[str] = []
    for m in WHEN_RE.finditer(text):
        phrase = " ".join(m.group(0).split()).strip(" ,")
        if not re.search(r"\d", phrase):
            continue
        # a bare number pair like "1/2" inside "1/2 số hộ" is not a date: want a time or a full date
        if not re.search(rf"{_TIME}|\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}|ngày\s+\d", phrase, re.IGNORECASE):
            continue
        if not any(phrase in f for f in found):
            found.append(phrase)
        if len(found) == 2:
            break
    return "; ".join(found) if found else None


PLACE_RE: Final = re.compile(r"địa điểm\s*:\s*(?:tại\s+)?(.{3,120}?)(?=[.;!?\n]|$)", re.IGNORECASE)


def _where(text: str) -> str | None:
    m = PLACE_RE.search(text) or WHERE_RE.search(text)
    return " ".join(m.group(1).split()).strip(" ,") if m else None


def _contact(text: str) -> str | None:
    m = CONTACT_RE.search(text)
    if m:
        return shorten(m.group(1).strip(" ,"), 90)
    phones = PHONE_RE.findall(text)
    return ", ".join(dict.fromkeys(p.strip() for p in phones)) if phones else None


def _keep_phones(text: str | None) -> str | None:
    """Phone numbers joined by no-break spaces: a slide never splits "0912 345 678" over two lines."""
    return PHONE_RE.sub(lambda m: m.group(0).replace(" ", "\u00a0"), text) if text else text


def key_facts(title: str, text: str, *, what_limit: int = 140) -> KeyFacts:
    """What, when, where and contact of an announcement; ``todo`` holds its instructions."""
    ss = sentences(text)
    todo = tuple(shorten(s, 120) for s in ss if ACTION_RE.search(s))[:3]
    first = next((s for s in ss if not ACTION_RE.search(s)), ss[0] if ss else title)
    return KeyFacts(
        what=shorten(first, what_limit),
        when=_when(text),
        where=_where(text),
        contact=_keep_phones(_contact(text)),
        todo=todo,
    )

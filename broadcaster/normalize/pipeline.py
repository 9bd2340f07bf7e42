"""The normalisation pipeline: one line of officer-typed text → lowercase spoken Vietnamese.

The order matters: each step turns what it recognises into plain lowercase words, so later, more
general steps (a bare number, an unknown capital token) only see what is left. Roughly, the most
specific patterns (headings, web addresses, document numbers, phones, dates, times) go first and
bare numbers last.

Each rule is a named ``Step``; given a ``Trace``, ``normalize_line`` records what each step changed
while it runs, which is what ``broadcaster normalize --explain`` shows (see ``trace``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from broadcaster.normalize import (
    abbreviations,
    contacts,
    dates,
    documents,
    places,
    quantities,
    structure,
    web,
    weekdays,
)
from broadcaster.normalize.orthography import to_nfc, unify_tone_marks
from broadcaster.normalize.trace import Span, Trace

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


@dataclass(frozen=True)
class Step:
    """One rule of the pipeline: its name (shown by ``--explain``) and the function applying it."""

    name: str
    apply: Callable[[str], str]


def _silent_end(text: str) -> str:
    return _SILENT_END_RE.sub(". ", text).strip()


# The order is the one described at the top of this module.
STEPS: tuple[Step, ...] = (
    Step("end mark ./.", _silent_end),
    Step("emoji / bullet symbol", structure.drop_pictographs),
    Step("heading / list marker", structure.read_headings),
    Step("web / e-mail address", web.read_addresses),
    Step("hashtag", web.read_hashtags),
    Step("brand / loan word", web.read_brands),
    Step("Roman numeral in context", structure.roman_numerals_to_digits),
    Step("number plate / km post / alley", places.read_places),
    Step("document number", documents.read_document_numbers),
    Step("account / code digit by digit", contacts.read_codes),
    Step("phone / hotline / short number", contacts.read_phone_numbers),
    Step("unit typed in capitals", quantities.lower_units_in_capitals),
    Step("initialism typed in lower case", abbreviations.restore_initialism_case),
    Step("weekday", weekdays.read_weekdays),
    Step("decimal point", quantities.decimal_points),
    Step("date", dates.read_dates),
    Step("24/24, 24/7", quantities.read_round_the_clock),
    Step("letters and digits apart", quantities.split_codes),
    Step("range (đến)", quantities.read_ranges),
    Step("clock time", dates.read_times),
    Step("per (trên)", quantities.read_per),
    Step("quantity with unit", quantities.read_quantities),
    Step("month name", dates.read_month_names),
    Step("ordinal (thứ)", quantities.read_ordinals),
    Step("fraction / house number", quantities.read_fractions),
    Step("abbreviation in context", abbreviations.expand_in_context),
    Step("abbreviation table", abbreviations.expand_from_table),
    Step("number", quantities.read_remaining_numbers),
    Step("spelt initialism / app name", abbreviations.spell_unknown_initialisms),
    Step("symbol", _read_symbols),
)


def _finish(text: str) -> str:
    return unify_tone_marks(text.lower())


def normalize_line(line: str, trace: Trace | None = None) -> str:
    """Normalise one line (no newline inside); with ``trace``, record which step produced each span."""
    text = to_nfc(line).strip()
    if trace is not None:
        trace.start(text)
    if not text:
        return ""
    for step in STEPS:
        new = step.apply(text)
        if trace is not None and new != text:
            trace.record(step.name, text, new)
        text = new
    return _tidy(_finish(text))


def explain_line(line: str) -> tuple[str, list[Span]]:
    """The reading of one line and, span by span, the rule that produced it."""
    trace = Trace()
    reading = normalize_line(line, trace)
    return reading, trace.spans(_finish)


def normalize(text: str) -> str:
    """Normalise a paragraph; line breaks are kept and each line is read on its own."""
    if "\n" not in text:
        return normalize_line(text)
    return "\n".join(normalize_line(line) for line in text.split("\n"))

"""Document numbers (số/ký hiệu văn bản): "181/KH-UBND", "61/2018/NĐ-CP", "78/2015/QH13".

The number and year are read as cardinals, "/" and "-" become pauses, and the symbol is spelled
with Vietnamese letter names rather than expanded, because the sentence already names the kind of
document and the issuer ("Kế hoạch số 181/KH-UBND" would otherwise say "kế hoạch" twice).
Without a number a symbol names the kind and the issuer and is said so ("theo NĐ-CP" → nghị định
chính phủ); the code of a form after mẫu / tờ khai is spelt ("tờ khai CT01" → xê tê không một).
"""

from __future__ import annotations

import functools
import re
from importlib import resources

from broadcaster.normalize.numbers import (
    read_digit_string,
    read_digits,
    read_int,
    spell,
)

_PART = r"[A-ZĐ][A-Za-zĐđ0-9&]*"
DOC_NUMBER_RE = re.compile(
    rf"(?<![\w/.,])(\d{{1,6}})(?:/((?:19|20)\d\d))?/({_PART}(?:\s?-\s?{_PART})*)(?![\w&])"
)

# Party documents put the number first and the issuer after a slash: "05-CT/TU", "15-NQ/TW".
_PARTY_DOC_RE = re.compile(rf"(?<![\w/.,])(\d{{1,6}})-({_PART})/({_PART}(?:-{_PART})*)(?![\w&])")

# "số 12/2024" with no symbol: a document number, not a month.
_BARE_DOC_RE = re.compile(r"(?<=\b[sS]ố )(\d{1,6})/((?:19|20)\d\d)(?![\w/])")


def _symbol(symbol: str) -> str:
    parts = [p.strip() for p in symbol.split("-") if p.strip()]
    return ", ".join(spell(p.replace("&", "")) for p in parts)


def _doc(m: re.Match[str]) -> str:
    number, year, symbol = m.group(1), m.group(2), m.group(3)
    words = [read_digit_string(number)]
    if year:
        words.append(read_int(int(year)))
    words.append(_symbol(symbol))
    return ", ".join(words) + ","


# A document symbol without its number ("theo hướng dẫn của NĐ-CP", "TT-BYT mới") names a kind of
# document and its issuer, and is said so: nghị định chính phủ, thông tư bộ y tế. Spelling it is
# only right where a number makes it a reference to look up.
_DOC_TYPES = ("NĐ", "QĐ", "TT", "TTLT", "NQ", "CT", "KH", "TB", "BC", "CV", "HD", "TTr", "KL", "QC")
_DOC_TYPE_NAMES = {"TT": "thông tư", "TTLT": "thông tư liên tịch", "CT": "chỉ thị", "HD": "hướng dẫn",
                   "KL": "kết luận", "QC": "quy chế"}
_LONE_SYMBOL_RE = re.compile(
    rf"(?<![\w/&.-])({'|'.join(_DOC_TYPES)})-({_PART}(?:-{_PART})?)(?![\w&/-])"
)


@functools.cache
def _issuers() -> dict[str, str]:
    text = resources.files("broadcaster.normalize.data").joinpath("document_issuers.tsv").read_text(encoding="utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return {r[0].strip(): r[1].strip() for r in rows if len(r) >= 2 and r[0] != "symbol"}


_ISSUING_BODY_RE = re.compile(
    r"(?:bộ|ủy ban|hội đồng|chính phủ|văn phòng|thanh tra|ngân hàng nhà nước|sở|quốc hội|thủ tướng|tòa án|viện kiểm sát|"
    r"đảng ủy|tỉnh ủy|thành ủy|huyện ủy|ban thường vụ|ban chấp hành|mặt trận)\b"
)


def _issuing_body(spoken: str | None) -> str | None:
    return spoken if spoken and _ISSUING_BODY_RE.match(spoken) else None


def _lone_symbol(m: re.Match[str]) -> str:
    from broadcaster.normalize.abbreviations import spoken_forms

    forms = spoken_forms()
    if m.group(0) in forms:
        return m.group(0)  # a compound of the table ("TT-TH" is truyền thanh - truyền hình)
    kind = _DOC_TYPE_NAMES.get(m.group(1)) or forms.get(m.group(1))
    # Only a body that issues documents: a ministry, the government, a council, a committee ...
    issuers = [_issuers().get(p) or _issuing_body(forms.get(p)) for p in m.group(2).split("-")]
    if not kind or not all(issuers):
        return m.group(0)  # an issuer we cannot name: leave it to the spelling of initialisms
    return " ".join([kind, *(i for i in issuers if i)])


# The code of a form after mẫu / tờ khai ("tờ khai CT01", "mẫu TK1-TS", "mẫu số C70a-HD") is spelt:
# letters by name, digits as written (a leading zero is said: CT01 → xê tê không một).
_FORM_CODE_RE = re.compile(
    r"(?<![\w])((?i:mẫu số|mẫu đơn|mẫu|tờ khai|biểu mẫu|phiếu)\s+)"
    r"([A-ZĐ]{1,5}\d{1,3}[a-z]?(?:-[A-ZĐ]{1,5}\d{0,3})*)(?![\w/-])"
)


def _form_part(part: str) -> str:
    words = []
    for run in re.findall(r"\d+|[^\W\d_]", part):
        words.append(read_digits(run) if run.isdecimal() and run.startswith("0") else spell(run))
    return " ".join(words)


def read_document_numbers(text: str) -> str:
    """Replace every document number in ``text`` with its spoken form (symbol spelled)."""
    text = DOC_NUMBER_RE.sub(_doc, text)
    text = _LONE_SYMBOL_RE.sub(_lone_symbol, text)
    text = _FORM_CODE_RE.sub(lambda m: m.group(1) + ", ".join(_form_part(p) for p in m.group(2).split("-")), text)
    text = _PARTY_DOC_RE.sub(
        lambda m: f"{read_digit_string(m.group(1))}, {_symbol(m.group(2))}, {_symbol(m.group(3))},", text
    )
    return _BARE_DOC_RE.sub(lambda m: f"{read_digit_string(m.group(1))}, {read_int(int(m.group(2)))}", text)

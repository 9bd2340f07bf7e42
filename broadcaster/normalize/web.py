"""Web addresses, e-mail addresses, brands and app names.

An address is said the way an announcer dictates it: "www" → vê kép vê kép vê kép, "." → chấm,
"/" → gạch chéo, "@" → a còng, "-" → gạch ngang, "_" → gạch dưới; the scheme (https://) is not
said. Each label gets its diacritics back or is spelt (see ``segment``):
dichvucong.quangtri.gov.vn → dịch vụ công chấm quảng trị chấm gờ o vê chấm vê nờ.
Brands and loan words in running text are said as Vietnamese say them (Facebook → phây búc,
Zalo → da lô), from ``data/brands.tsv``; an e-service is "e" + its loan word (eTax → e tắc).
Social-media handles (@congandongha) are said like a mailbox, hashtags (#ChuyenDoiSo) as their words.
"""

from __future__ import annotations

import functools
import re

from broadcaster.normalize.segment import brand_readings, read_label

# the country and generic domains of ward notices, and the short-link ones (forms.gle, bit.ly, goo.gl)
_TLDS = r"(?:vn|com|net|org|gov|edu|info|int|io|asia|me|gle|ly|gl|app)"
_URL_RE = re.compile(
    rf"(?<![\w@.])(?:https?://)?(?:[a-zA-Z0-9-]+\.)+{_TLDS}\b(?:/[\w\-./?=&%#]*[\w/])?",
)
_EMAIL_RE = re.compile(r"(?<![\w.])[\w.+-]+@(?:[a-zA-Z0-9-]+\.)+[a-zA-Z]{2,}\b")

_URL_SYMBOLS = {".": "chấm", "/": "gạch chéo", "-": "gạch ngang", "_": "gạch dưới", "@": "a còng",
                "?": "hỏi", "=": "bằng", "&": "và", ":": "hai chấm", "%": "phần trăm", "#": "thăng",
                "+": "cộng"}


def say_address(address: str) -> str:
    """dichvucong.gov.vn → dịch vụ công chấm gờ o vê chấm vê nờ."""
    address = re.sub(r"^https?://", "", address)
    words = []
    for token in re.findall(r"[^\W_]+|.", address):
        if token in _URL_SYMBOLS:
            words.append(_URL_SYMBOLS[token])
        elif token.strip():
            words.append(read_label(token))
    return " ".join(words)


# A social-media handle "@congandongha", "@ubnd.phuong1": said like the mailbox part of an address.
_HANDLE_RE = re.compile(r"(?<![\w.@])@([A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?)(?![\w@])")


def read_addresses(text: str) -> str:
    """E-mail and web addresses and social-media handles, said piece by piece with their symbols."""
    text = _EMAIL_RE.sub(lambda m: say_address(m.group(0)), text)
    text = _URL_RE.sub(lambda m: say_address(m.group(0)), text)
    return _HANDLE_RE.sub(lambda m: "a còng " + say_address(m.group(1)), text)


@functools.cache
def _brand_re() -> re.Pattern[str]:
    keys = sorted(brand_readings(), key=len, reverse=True)
    alternation = "|".join(re.escape(k) for k in keys)
    # Addresses are read before this step, so a "/" left before a brand is a pause ("Hotline/Zalo").
    # A digit may follow ("RON95": the fuel grade); a letter or a hyphen may not.
    return re.compile(rf"(?<![\w@.\-])(?:{alternation})(?![^\W\d_]|\-)", re.IGNORECASE)


# "eTax", "Etax", "e-Tax": an e-service named by "e" and a listed loan word is said "e" + that word
# (e tắc); other mixed-case names (eKYC) are spelt later.
_E_NAME_RE = re.compile(r"(?<![\w@.\-/])([eE])-?([A-Za-z]{2,})(?![\w\-])")


def _e_name(m: re.Match[str]) -> str:
    word = brand_readings().get(m.group(2).casefold())
    return f"e {word}" if word else m.group(0)


def _brand(m: re.Match[str], readings: dict[str, str]) -> str:
    spoken = readings[m.group(0).casefold()]
    return spoken + " " if m.string[m.end() : m.end() + 1].isdigit() else spoken


def read_brands(text: str) -> str:
    """Facebook → phây búc, Zalo → da lô, VssID → vê ét ét i đê (the data file's readings)."""
    readings = brand_readings()
    text = _brand_re().sub(lambda m: _brand(m, readings), text)
    return _E_NAME_RE.sub(_e_name, text)


# "#ChuyenDoiSo", "#DongHa", "#chuyểnđổisố": a hashtag is read as the words it joins; the "#" is not
# said. Unaccented, the joined words get their diacritics back like an address label.
_HASHTAG_RE = re.compile(r"(?<![\w&])#([^\W_][\w]*)")
_CAMEL_PART_RE = re.compile(r"[A-ZĐÀ-Ỹ][a-zđà-ỹ]*|[a-zđà-ỹ]+|\d+")


def _hashtag(m: re.Match[str]) -> str:
    tag = m.group(1)
    if tag.isascii():
        return read_label(tag.lower())
    return " ".join(_CAMEL_PART_RE.findall(tag)) or tag


def read_hashtags(text: str) -> str:
    return _HASHTAG_RE.sub(_hashtag, text)

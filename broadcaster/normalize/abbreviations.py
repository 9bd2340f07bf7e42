"""Administrative abbreviations: the table (a data file), the context rules, and spelling of the rest.

The table ``data/abbreviations.tsv`` says how each abbreviation is read (mode):
``expand`` / ``expand*`` (expanded in running text; document symbols are spelled earlier, by
``documents``), ``letters`` / ``word`` (read as given, e.g. PAPI → pa pi), ``context`` (the sense
depends on the neighbours; the rules for those live here). Unknown all-capital initialisms that are
not Vietnamese syllables are spelled with Vietnamese letter names, which a TTS engine reads far
better than raw capitals.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from broadcaster.normalize.numbers import LETTER_NAMES, spell

log = logging.getLogger(__name__)

_DATA_PACKAGE = "broadcaster.normalize.data"
_TABLE_FILE = "abbreviations.tsv"


@dataclass(frozen=True)
class Abbreviation:
    abbr: str
    spoken: str
    mode: str
    domain: str = ""
    notes: str = ""


@functools.cache
def load_abbreviations() -> tuple[Abbreviation, ...]:
    """The abbreviation table, read once from the package data on first use."""
    text = resources.files(_DATA_PACKAGE).joinpath(_TABLE_FILE).read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    table = tuple(
        Abbreviation(
            abbr=row["abbr"].strip(),
            spoken=row["spoken"].strip(),
            mode=row["mode"].strip(),
            domain=(row.get("domain") or "").strip(),
            notes=(row.get("notes") or "").strip(),
        )
        for row in rows
        if row.get("abbr") and row.get("spoken")
    )
    log.debug("loaded %d abbreviations", len(table))
    return table


@functools.cache
def spoken_forms() -> dict[str, str]:
    return {a.abbr: a.spoken for a in load_abbreviations()}


@functools.cache
def dotted_abbreviations() -> frozenset[str]:
    """Abbreviations written with their dot (P., Q., TP., KT. ...), whose dot must not be dropped."""
    return frozenset(a.abbr for a in load_abbreviations() if a.abbr.endswith(".")) | {"Q.", "KT.", "TM."}


# Matched whatever the case: loan acronyms and letters (PAPI, Covid, QR).
_LOOSE_MODES = ("letters", "word")


def _alternation(keys: list[str]) -> str:
    # Longest first, so UBMTTQVN wins over UBMTTQ and KT-XH over KT.
    return "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))


@functools.cache
def _table_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """(case-sensitive initialisms, case-insensitive loan words/letters) built from the table."""
    table = load_abbreviations()
    exact = [a.abbr for a in table if a.mode in ("expand", "expand*")]
    loose = [a.abbr for a in table if a.mode in _LOOSE_MODES]
    # Not followed by a letter; a digit may follow directly ("KP3" = khu phố 3).
    tail = r"(?:(?<=\.)|(?![^\W\d_]|&))"
    # "KP.Đông Lương": a dot glued to the next capitalised word only separates them; it goes too
    exact_re = re.compile(rf"(?<![\w&])(?:{_alternation(exact)}){tail}(?:\.(?=[A-ZĐ][a-zà-ỹđ]))?")
    loose_re = re.compile(rf"(?<![\w&])(?:{_alternation(loose)}){tail}", re.IGNORECASE)
    # The shorthands of chat ("ko", "trc", "Ae") as typed in lower case or capitalised, never in
    # capitals ("ĐC" is địa chỉ, not "đc" = được); expanded in running text, never inside an address.
    chat = [form for a in table if a.mode == "chat" for form in (a.abbr, a.abbr.capitalize())]
    chat_re = re.compile(rf"(?<![\w&@.])(?:{_alternation(chat)})(?![\w&@])")
    return exact_re, loose_re, chat_re


# --- context-dependent abbreviations -------------------------------------------------------------

_SIGNATURE_RE = re.compile(r"(?<![\w.])(KT|TM|Q)\.(\s*)(?=(\S*))")
_TITLE_WORDS = ("chủ", "giám", "trưởng", "hiệu", "chánh", "viện", "tổng", "cục", "bí")


def _signature(m: re.Match[str]) -> str:
    """KT./TM./Q. before a title in a signature block vs kinh tế / thương mại / quận."""
    abbr, space, nxt = m.group(1), m.group(2), m.group(3)
    first = nxt[:1]
    starts_upper = first.isupper()
    if abbr == "Q":
        if first.isdigit():
            return "quận "
        is_title = (nxt.isupper() and len(nxt) > 1) or nxt.lower().startswith(_TITLE_WORDS)
        return ("quyền" if is_title else "quận") + (space or " ")
    if starts_upper:
        return ("ký thay" if abbr == "KT" else "thay mặt") + (space or " ")
    return ("kinh tế" if abbr == "KT" else "thương mại") + "." + space


_BCH_RE = re.compile(r"(?<![\w&])BCH(?![\w&])")
# Ban chấp hành is the elected committee of the party, Youth Union, trade union and mass associations;
# ban chỉ huy is the military / disaster-response command.
_BCH_EXECUTIVE_AFTER = re.compile(
    r"\s*(?:(?i:đoàn|đảng|công đoàn|chi bộ|chi đoàn|chi hội|hội|liên đoàn|mặt trận|khóa|khoá|nhiệm kỳ)\b"
    r"|ĐTN|ĐU|HLHPN|HPN|HCCB|HND|MTTQ|UBMTTQ|LĐLĐ|CĐ|CĐCS)"
)
_BCH_EXECUTIVE_BEFORE = re.compile(r"(?i:ủy viên|uỷ viên|hội nghị|bầu|bầu cử)\s*$")


def _bch(text: str, m: re.Match[str]) -> str:
    after = text[m.end() : m.end() + 30]
    before = text[max(0, m.start() - 30) : m.start()]
    if _BCH_EXECUTIVE_AFTER.match(after) or _BCH_EXECUTIVE_BEFORE.search(before):
        return "ban chấp hành"
    return spoken_forms().get("BCH", "ban chỉ huy")


_CT_RE = re.compile(r"(?<![\w&/])CT(?![\w&])")


def _ct(text: str, m: re.Match[str]) -> str:
    after = text[m.end() : m.end() + 8]
    before = text[max(0, m.start() - 8) : m.start()]
    if re.match(r"\s*(?i:số)\b", after) or re.search(r"(?i:theo)\s*$", before):
        return "chỉ thị"
    return spoken_forms().get("CT", "chủ tịch")


_CC_RE = re.compile(r"(?<![\w&/])CC(?![\w&])")


def _cc(text: str, m: re.Match[str]) -> str:
    before = text[max(0, m.start() - 8) : m.start()]
    if re.search(r"(?i:thẻ)\s*$", before):
        return "căn cước"
    return spoken_forms().get("CC", "công chức")


_MN_RE = re.compile(r"(?<![\w&/])MN(?![\w&])")


def _mn(text: str, m: re.Match[str]) -> str:
    before = text[max(0, m.start() - 12) : m.start()]
    if re.search(r"(?i:trường|lớp|bậc|cấp|giáo viên|cô giáo|nhóm trẻ|khối|ngành|trẻ)\s*$", before):
        return spoken_forms().get("MN", "mầm non")
    if capitalised_word_follows(text[m.end() : m.end() + 4]):
        return spoken_forms().get("MN", "mầm non")  # "MN Hoa Sen", "và MN Hải Lệ": a kindergarten's name
    return spell("MN")


_TT_RE = re.compile(r"(?<![\w&/-])TT(?:(\.)(?=\s*[^\W\d_])|(?![\w&]))")  # "TT. Hồ Xá", "TT.Hồ Xá"


def _tt(text: str, m: re.Match[str]) -> str:
    # Bare TT is three-way ambiguous (thông tư / thị trấn / thông tin): expand only with a clear cue.
    after = text[m.end() : m.end() + 8]
    before = text[max(0, m.start() - 8) : m.start()]
    if re.match(r"\s*(?i:số)\b", after) or re.search(r"(?i:theo)\s*$", before):
        return "thông tư"
    rest = text[m.end() : m.end() + 30]
    if re.match(rf"\s*{_TT_TRUNG_TAM}", rest):
        return "trung tâm "
    if m.group(1) and re.match(r"\s*[^\W\d_]", after) and after.strip()[:1].isupper():
        return "thị trấn "
    if capitalised_word_follows(rest):  # "TT Cam Lộ", "TT Hồ Xá": before a place name
        return "thị trấn"
    return spell("TT") + (m.group(1) or "")


_TP_RE = re.compile(r"(?<![\w&/])TP(?![\w&.-])")


def _tp(text: str, m: re.Match[str]) -> str:
    # TP is thành phố ("TP Đông Hà", "toàn TP"); tư pháp only as the officer's field, after a word for a
    # post or an office ("công chức TP", "phòng TP") with no place name after it.
    after = text[m.end() : m.end() + 3].strip()
    before = text[max(0, m.start() - 20) : m.start()]
    if re.search(r"(?i:công chức|cán bộ|phòng|ngành|lĩnh vực)\s*$", before) and not after[:1].isupper():
        return "tư pháp"
    return "thành phố"


_CA_RE = re.compile(r"(?<![\w&/])CA(?![\w&.-])")
_PLACE_WORDS = r"PHƯỜNG|XÃ|THỊ TRẤN|THỊ XÃ|HUYỆN|QUẬN|TỈNH|THÀNH PHỐ"


def _ca(text: str, m: re.Match[str]) -> str:
    # In a line typed in capitals "CA NHẠC", "CA SĨ" are words; before a place word or anything else, công an.
    nxt = re.match(r"\s+([^\W\d_]+)", text[m.end() : m.end() + 20])
    if nxt and nxt.group(1).isupper() and is_vietnamese_syllable(nxt.group(1)) and not re.fullmatch(
        _PLACE_WORDS, nxt.group(1)
    ):
        return "ca"
    return "công an"


_SCHOOL = r"(?:THCS|THPT|MN|TH)"
_SCHOOL_LIST_RE = re.compile(
    rf"(?<![\w])((?i:trường|các trường|trẻ|bậc|cấp|giáo viên|học sinh|lớp|nhóm trẻ)\s+|(?:HS|GV)\s+|TH&)"
    rf"({_SCHOOL}(?:\s*(?:,|và|hoặc|&|-)\s*{_SCHOOL})*)(?![\w&])"
)
_SCHOOL_NAMES = {"MN": "mầm non", "TH": "tiểu học", "THCS": "trung học cơ sở", "THPT": "trung học phổ thông"}


# "… trường THCS Trần Phú và TH Kim Đồng": TH before a school's name, in a line that speaks of schools.
_TH_NAME_RE = re.compile(r"(?<![\w&/])TH(?![\w&])(?=\s+[A-ZĐ][a-zà-ỹđ])")
_SCHOOL_WORDS_RE = re.compile(r"(?i:trường|học sinh|giáo viên|mầm non|tiểu học|trung học)|\b(?:HS|GV|THCS|THPT)\b")


def _school_levels(text: str) -> str:
    """MN / TH / THCS after trường, trẻ, bậc … (and each of a list after it): mầm non, tiểu học …"""
    text = _SCHOOL_LIST_RE.sub(
        lambda m: m.group(1) + re.sub(_SCHOOL, lambda s: _SCHOOL_NAMES[s.group(0)], m.group(2)), text
    )
    if _SCHOOL_WORDS_RE.search(text):
        text = _TH_NAME_RE.sub("tiểu học", text)
    return text


_HS_RE = re.compile(r"(?<![\w&/])HS(?![\w&])")


# The words of a school that make "HS nộp …", "HS được …" the pupils, not the papers.
_HS_SCHOOL_RE = re.compile(
    r"(?i:trường|lớp|giáo viên|phụ huynh|học phí|năm học|học kỳ|học kì|nghỉ học|đi học|tựu trường|khai giảng|"
    r"thi|điểm|sách giáo khoa|đồng phục|bán trú|mầm non|tiểu học|trung học)|\b(?:GV|THCS|THPT|GVCN)\b"
)


def _hs(text: str, m: re.Match[str]) -> str:
    # HS is học sinh, except where papers are handed in (nộp HS, thành phần HS = hồ sơ), and as the
    # subject of what papers undergo ("HS nộp qua DVCTT", "HS được tiếp nhận", "HS gồm") unless the
    # line speaks of a school ("HS nộp học phí", "HS được nghỉ học").
    before = text[max(0, m.start() - 20) : m.start()]
    after = text[m.end() : m.end() + 12]
    if re.search(r"(?i:nộp|tiếp nhận|trả|bổ sung|hoàn thiện|thành phần|xét duyệt|bộ)\s*$", before) or re.match(
        r"\s*(?i:gồm|hợp lệ|đề nghị|xin|trực tuyến)\b", after
    ):
        return "hồ sơ"
    if re.match(r"\s*(?i:nộp|được|gửi|phải|sẽ được|không hợp lệ|còn thiếu|đã nộp)\b", after) and not _HS_SCHOOL_RE.search(text):
        return "hồ sơ"
    return "học sinh"


_SN_RE = re.compile(r"(?<![\w&/-])SN(\s*:?\s*)(?=(?:19|20)\d\d(?![\w/-]|[.,]\d))")


def _sn(text: str, m: re.Match[str]) -> str:
    # SN before a year-shaped number after a person's name ("Lê Thị Hoa, SN 1985") is sinh năm; before
    # a street word or a street's name ("SN 1985 Hùng Vương") it stays số nhà, as does every other SN.
    rest = text[m.end() + 4 : m.end() + 24]
    if re.match(r"\s+(?:(?i:đường|phố|kiệt|hẻm|ngõ|ngách)\b|[A-ZĐ])", rest):
        return m.group(0)
    return "sinh năm" + (m.group(1).replace(":", "") or " ")


_BD_RE = re.compile(r"(?<![\w&/])BĐ(?![\w&])")


def _bd(text: str, m: re.Match[str]) -> str:
    # "BĐ II", "BĐ 3" is a flood alert level (báo động); otherwise bưu điện.
    return "báo động" if re.match(r"\s*\d", text[m.end() : m.end() + 3]) else "bưu điện"


_TT_TRUNG_TAM = (
    r"(?i:y tế|văn hóa|văn hoá|hành chính|phục vụ|giáo dục|dạy nghề|khuyến nông|chính trị|thông tin|bồi dưỡng|"
    r"kiểm soát|dịch vụ|văn hóa|thể thao|truyền thông|quan trắc|phát triển|giống|cứu hộ|bảo trợ|điều dưỡng)"
)


_CN_RE = re.compile(r"(?<![\w&/])CN(?![\w&/-])")


_DT_RE = re.compile(r"(?<![\w&/-])ĐT(?![\w&])")  # "GD-ĐT" is a compound of the table


def _dt(text: str, m: re.Match[str]) -> str:
    # "ĐT 580" is a provincial road (đường tỉnh); "ĐT:" and every other use is điện thoại.
    if re.match(r"\s*\d", text[m.end() : m.end() + 3]):
        return "đường tỉnh"
    return spoken_forms().get("ĐT", "điện thoại")


_CP_RE = re.compile(r"(?<![\w&/-])CP(?![\w&/-])")


def _cp(text: str, m: re.Match[str]) -> str:
    # "Công ty CP", "Cty CP" is a joint-stock company (cổ phần); CP elsewhere is the government (NĐ-CP is
    # a document symbol and was spelt before this step).
    before = text[max(0, m.start() - 12) : m.start()]
    if re.search(r"(?i:công ty|cty|ngân hàng tmcp|tập đoàn)\s*$", before):
        return "cổ phần"
    return spoken_forms().get("CP", "chính phủ")


_ContextRule = Callable[[str, re.Match[str]], str]


# --- the initialisms of power, water and telecom notices that share a key with another sense ------

_KH_RE = re.compile(r"(?<![\w&/-])KH(?![\w&/-])")
_KH_CUSTOMER_BEFORE = re.compile(
    r"(?i:quý|các|mã|mã số|những|mọi|toàn bộ|đến|tới|cho|hỗ trợ|phục vụ|của|giữa|thông báo)\s*$|(?:CSKH|DVKH)\s*$"
)
_KH_CUSTOMER_AFTER = re.compile(
    r"\s*(?i:sử dụng|dùng|có nhu cầu|vui lòng|liên hệ|thanh toán|đóng tiền|tra cứu|đăng ký|bị ảnh hưởng|"
    r"thông cảm|lưu ý|cần|trên địa bàn|tại|thuộc|ở|khu vực|hộ gia đình|doanh nghiệp)\b"
)
_KH_PLAN_BEFORE = re.compile(r"(?i:theo|thực hiện|triển khai|xây dựng|ban hành|lập|tại|số)\s*$")


def _kh(text: str, m: re.Match[str]) -> str:
    # KH is kế hoạch in the papers' language (theo KH, KH số 12); khách hàng where a service speaks to
    # the people it supplies (quý KH, mã KH, KH sử dụng điện). Left to the table (kế hoạch) otherwise.
    before = text[max(0, m.start() - 20) : m.start()]
    after = text[m.end() : m.end() + 20]
    if _KH_PLAN_BEFORE.search(before) or re.match(r"\s*(?i:số)\b", after):
        return m.group(0)
    if _KH_CUSTOMER_BEFORE.search(before) or _KH_CUSTOMER_AFTER.match(after):
        return "khách hàng"
    return m.group(0)


_QL_RE = re.compile(r"(?<![\w&/-])QL(?![\w&/-])")


def _ql(text: str, m: re.Match[str]) -> str:
    # QL before a number or after tuyến / dọc is quốc lộ (left to the table); after ban, cán bộ, công
    # tác, phòng, bộ phận … it is quản lý ("Ban QL chợ").
    before = text[max(0, m.start() - 16) : m.start()]
    if re.match(r"\s*\d", text[m.end() : m.end() + 3]):
        return m.group(0)
    if re.search(r"(?i:ban|cán bộ|công tác|phòng|bộ phận|tổ|đơn vị|cơ quan|nhà|trách nhiệm|phân cấp)\s*$", before):
        return "quản lý"
    return m.group(0)


_MBA_RE = re.compile(r"(?<![\w&/-])MBA(?![\w&/-])")


def _mba(text: str, m: re.Match[str]) -> str:
    # MBA is the transformer of power-cut notices (máy biến áp, from the table), but the business
    # degree after thạc sĩ / bằng / chương trình / khóa / học, spelt as it is said (em bê a).
    if re.search(r"(?i:thạc sĩ|thạc sỹ|bằng|chương trình|khóa|khoá|học|tuyển sinh|đào tạo)\s*$", text[max(0, m.start() - 16) : m.start()]):
        return "em bê a"
    return m.group(0)


_CQ_RE = re.compile(r"(?<![\w&/-])CQ(?![\w&/-])")


def _cq(text: str, m: re.Match[str]) -> str:
    # CQ is cơ quan (the table), except for a course of study: "hệ CQ", "đại học CQ" → chính quy.
    if re.search(r"(?i:hệ|đại học|cao đẳng|văn bằng|đào tạo)\s*$", text[max(0, m.start() - 14) : m.start()]):
        return "chính quy"
    return m.group(0)


_DD_RE = re.compile(r"(?<![\w&/-])ĐD(?![\w&/-])")


def _dd(text: str, m: re.Match[str]) -> str:
    # ĐD is đường dây before a voltage or a line number (ĐD 22kV, ĐD 471) or after tuyến / sự cố /
    # cột; otherwise it may be đại diện or điều dưỡng, and is spelt.
    # (a voltage is already in words here: "ĐD hai mươi hai ki lô vôn")
    if re.match(r"\s*(?:\d|(?:[^\W\d]+\s+){1,5}ki lô vôn\b)", text[m.end() : m.end() + 40]) or re.search(
        r"(?i:tuyến|sự cố|cột|dọc|hành lang|hành lang an toàn)\s*$", text[max(0, m.start() - 20) : m.start()]
    ):
        return "đường dây"
    return spell("ĐD")


def _cn(text: str, m: re.Match[str]) -> str:
    return "chi nhánh"


_TN_RE = re.compile(r"(?<![\w&/-])TN(?![\w&/-])")
_TN_YOUTH_BEFORE = re.compile(
    r"(?i:đoàn|đoàn viên|chi đoàn|tháng|lực lượng|đội|hội|ngày hội|đảng viên|phong trào)\s*(?:,|và)?\s*$"
)


def _tn(text: str, m: re.Match[str]) -> str:
    # TN is thanh niên in the Youth Union's names (Đoàn TN, tháng TN, lực lượng TN xung kích); elsewhere
    # it may be tài nguyên, tự nhiên or tình nguyện, so it is spelt.
    if _TN_YOUTH_BEFORE.search(text[max(0, m.start() - 20) : m.start()]):
        return spoken_forms().get("TN", "thanh niên")
    return spell("TN")


_ND_RE = re.compile(r"(?<![\w&/-])ND(?![\w&/-])")


def _nd(text: str, m: re.Match[str]) -> str:
    # "Hội ND" is the Farmers' Union (hội nông dân); ND alone may be nội dung or nhân dân: spelt.
    if re.search(r"(?i:hội|hội viên)\s*$", text[max(0, m.start() - 12) : m.start()]):
        return spoken_forms().get("ND", "nông dân")
    return spell("ND")


_THA_RE = re.compile(r"(?<![\w&/-])THA(?![\w&/-])")


def _tha(text: str, m: re.Match[str]) -> str:
    # THA (tăng huyết áp) is also the syllable tha: in capitals before another word in capitals
    # ("THA THỨ", "THA HƯƠNG") it is that word.
    nxt = re.match(r"\s+([^\W\d_]+)", text[m.end() : m.end() + 20])
    if nxt and nxt.group(1).isupper() and is_vietnamese_syllable(nxt.group(1)):
        return "tha"
    return spoken_forms().get("THA", "tăng huyết áp")


# --- ĐH, CĐ, MT: several senses, read only where a neighbour says which ----------------------------

_DH_RE = re.compile(r"(?<![\w&/-])ĐH(?![\w&/-])")
_DH_CONGRESS_AFTER = re.compile(r"\s+(?:(?i:đảng|đoàn|công đoàn|hội|đại biểu|lần thứ|nhiệm kỳ|khóa|khoá)\b|MTTQ|CCB|HND|HLHPN)")
_DH_UNIVERSITY_BEFORE = re.compile(
    r"(?:(?i:trình độ|tốt nghiệp|trường|sinh viên|học|thi|bằng|hệ|cao đẳng|tuyển sinh|giảng viên|các)|CĐ)\s*,?\s*(?:và\s*)?$"
)


def _dh(text: str, m: re.Match[str]) -> str:
    # ĐH is đại hội before the body that holds it (ĐH Đảng bộ, ĐH Đoàn), đại học after a word of
    # schooling (trình độ ĐH) or before a university's name (ĐH Huế); otherwise spelt (it may be đường huyện).
    after = text[m.end() : m.end() + 20]
    if _DH_CONGRESS_AFTER.match(after):
        return "đại hội"
    if re.match(r"\s*\d", after):  # "ĐH 12": a district road, like "ĐT 580"
        return "huyện" if re.search(r"(?i:đường)\s*$", text[max(0, m.start() - 8) : m.start()]) else "đường huyện"
    if _DH_UNIVERSITY_BEFORE.search(text[max(0, m.start() - 20) : m.start()]) or capitalised_word_follows(after):
        return "đại học"
    return spell("ĐH")


_CD_RE = re.compile(r"(?<![\w&/-])CĐ(?![\w&/-])")


def _cd(text: str, m: re.Match[str]) -> str:
    # CĐ is công đoàn among the union's words, cao đẳng among schooling; otherwise spelt.
    before = text[max(0, m.start() - 20) : m.start()]
    if re.search(r"(?i:đoàn viên|ban chấp hành|chủ tịch|cán bộ|tổ|kinh phí|đoàn phí|hoạt động|nghiệp đoàn)\s*$", before) or re.search(
        r"(?:BCH|LĐLĐ)\s*$", before
    ):
        return "công đoàn"
    if re.search(r"(?i:trường|trình độ|hệ|tốt nghiệp|sinh viên|đại học|tuyển sinh|bằng)\s*,?\s*$", before) or re.match(
        r"\s*,?\s*(?:ĐH|đại học)", text[m.end() : m.end() + 12]
    ):
        return "cao đẳng"
    return spell("CĐ")


_MT_RE = re.compile(r"(?<![\w&/-])MT(?![\w&/-])")


def _mt(text: str, m: re.Match[str]) -> str:
    # MT is môi trường after the words of pollution and its offices (ô nhiễm MT, bảo vệ MT, Sở TN-MT).
    before = text[max(0, m.start() - 16) : m.start()]
    if re.search(r"(?i:ô nhiễm|bảo vệ|vệ sinh|tài nguyên|tài nguyên và|cảnh quan|sự cố|quan trắc|sở|phòng|công ty)\s*$", before):
        return "môi trường"
    return spell("MT")


_CONTEXT_RULES: tuple[tuple[re.Pattern[str], _ContextRule], ...] = (
    (_CP_RE, _cp),
    (_DT_RE, _dt), (_SN_RE, _sn), (_KH_RE, _kh), (_QL_RE, _ql), (_MBA_RE, _mba), (_CQ_RE, _cq), (_DD_RE, _dd),
    (_TP_RE, _tp), (_CA_RE, _ca), (_HS_RE, _hs), (_BD_RE, _bd), (_CN_RE, _cn),
    (_BCH_RE, _bch), (_CT_RE, _ct), (_TN_RE, _tn), (_ND_RE, _nd), (_THA_RE, _tha), (_DH_RE, _dh), (_CD_RE, _cd), (_MT_RE, _mt), (_CC_RE, _cc), (_MN_RE, _mn), (_TT_RE, _tt),
)


def _apply_context(text: str) -> str:
    text = _SIGNATURE_RE.sub(_signature, text)
    text = _school_levels(text)
    for pattern, rule in _CONTEXT_RULES:
        # each rule looks at the text as it was before its own substitutions
        text = pattern.sub(functools.partial(_call_rule, rule, text), text)
    return text


def _call_rule(rule: _ContextRule, source: str, m: re.Match[str]) -> str:
    return rule(source, m)


def _replace_table(m: re.Match[str], forms: dict[str, str], folded: dict[str, str]) -> str:
    key = m.group(0)
    if key.endswith(".") and key not in forms and key.casefold() not in folded:
        return forms.get(key[:-1], key[:-1]) + " "
    spoken = forms.get(key) or folded.get(key.casefold(), key)
    end = m.end()
    nxt = m.string[end : end + 1]
    if nxt and (nxt.isalnum()):
        spoken += " "  # "KP3", "TP.HCM": keep the following token apart
    return spoken


_AMP_COMPOUND_RE = re.compile(r"(?<![\w&-])([A-ZĐ]{2,}(?:&[A-ZĐ]{2,})+)(?![\w&-])")


def _split_compound(m: re.Match[str]) -> str:
    # "HĐND&UBND" is two entries joined by "&"; "TN&TKQ", "PCTT&TKCN" are entries of their own.
    token = m.group(1)
    if token in spoken_forms():
        return token
    return " & ".join(token.split("&"))


def expand_abbreviations(text: str) -> str:
    """Expand the table's abbreviations, resolving the context-dependent ones first."""
    return expand_from_table(expand_in_context(text))


@functools.cache
def _hyphen_compound_re() -> re.Pattern[str]:
    keys = [a.abbr for a in load_abbreviations() if "-" in a.abbr and a.mode in ("expand", "expand*")]
    return re.compile(rf"(?<![\w&-])(?:{_alternation(keys)})(?![\w&-])")


def expand_in_context(text: str) -> str:
    """The abbreviations whose reading depends on their neighbours (TP, CA, TT, MN, HS, BĐ, KT. …)."""
    # A compound of the table is read whole first, so that its parts are not taken on their own
    # ("TT-TH" is truyền thanh - truyền hình, not TT the circular and TH the primary school).
    text = _hyphen_compound_re().sub(lambda m: spoken_forms()[m.group(0)], text)
    return _apply_context(_AMP_COMPOUND_RE.sub(_split_compound, text))


def expand_from_table(text: str) -> str:
    """Every other abbreviation of the table."""
    exact_re, loose_re, chat_re = _table_patterns()
    forms = spoken_forms()
    folded = {a.abbr.casefold(): a.spoken for a in load_abbreviations() if a.mode in _LOOSE_MODES}
    text = loose_re.sub(lambda m: _replace_table(m, forms, folded), text)
    text = chat_re.sub(lambda m: forms[m.group(0).lower()], text)
    return exact_re.sub(lambda m: _replace_table(m, forms, folded), text)


# --- initialisms typed in lower case (chat) ---------------------------------------------------------

# "t7", "t2-t6" (weekdays), "t12/2025" (a month)
_LOWER_T_RE = re.compile(r"(?<![\w&@./])t([2-7](?![\w&@/])|(?:1[0-2]|[1-9])(?=/\d{4}\b))")


@functools.cache
def _lower_initialism_re() -> re.Pattern[str]:
    """The table's initialisms that may be typed in lower case: neither a syllable, a unit, a word of
    the brand list, a piece of an address nor chat."""
    from broadcaster.normalize.quantities import UNITS
    from broadcaster.normalize.segment import brand_readings

    excluded = {u.lower() for u in UNITS} | set(brand_readings()) | set(DOMAIN_LETTERS)
    excluded |= {a.abbr.lower() for a in load_abbreviations() if a.mode == "chat"}
    keys = [
        a.abbr.lower()
        for a in load_abbreviations()
        if a.mode in ("expand", "expand*", "context")
        and re.fullmatch(r"[A-ZĐ]{2,8}", a.abbr)
        and not is_vietnamese_syllable(a.abbr)
        and a.abbr.lower() not in excluded
    ]
    # not glued to a number, nor after a dot or a slash (what is left of an address)
    forms = [form for k in keys for form in (k, k.capitalize())]
    return re.compile(rf"(?<![\w&@./-])(?:{_alternation(forms)})(?=\d{{0,2}}(?![\w&@/-]|\.[a-zđ]))")


def restore_initialism_case(text: str) -> str:
    """"nvh kp3", "sáng t7", "ubnd", "Tp Đông Hà" typed in a chat → NVH KP3, T7, UBND, TP, so the rules
    below read them.

    Only tokens that are no Vietnamese syllable, no unit and no word of the brand list, and whose
    capitals are an initialism of the table (or a weekday T2–T7): a listener hears the same thing
    whether the officer pressed shift or not.
    """
    text = _LOWER_T_RE.sub(lambda m: "T" + m.group(1), text)
    return _lower_initialism_re().sub(lambda m: m.group(0).upper(), text)


# Words of addresses that survive as letters (read before): never taken for initialisms.
DOMAIN_LETTERS = frozenset({"vn", "com", "gov", "edu", "org", "net", "www"})


# --- unknown initialisms -------------------------------------------------------------------------

_V = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵ"
_SYLLABLE_RE = re.compile(rf"^(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?[{_V}]{{1,3}}(?:ch|ng|nh|[cmnpt])?$")
_CAPS_TOKEN_RE = re.compile(r"(?<![\w&])([^\W\d_]{2,})(?![\w&])")
_LONE_CONSONANT_RE = re.compile(r"(?<![\w&.])([BCDĐFGHJKLMNPQRSTVWXZ])(?![\w&])")


def capitalised_word_follows(text: str) -> bool:
    """True if ``text`` starts with spaces and then a capitalised word ("Cam Lộ", not "CAM", not "cam")."""
    m = re.match(r"\s+([^\W\d_])([^\W\d_])", text)
    return bool(m and m.group(1).isupper() and m.group(2).islower())


def is_vietnamese_syllable(word: str) -> bool:
    """True if ``word`` could be one Vietnamese syllable (so all-caps "BAN", "DÂN" are words)."""
    return bool(_SYLLABLE_RE.match(word.lower()))


def _is_camel(token: str) -> bool:
    return any(a.islower() and b.isupper() for a, b in itertools.pairwise(token))


# The runs of a mixed-case name: "VNeTraffic" → V, Ne, Traffic; "SmartCA" → Smart, CA; "iHanoi" → i, Hanoi.
_CAMEL_RUN_RE = re.compile(r"[A-ZĐ]+(?=[A-ZĐ][a-zđ])|[A-ZĐ]?[a-zđ]+|[A-ZĐ]+|\d+")


def _read_camel(token: str) -> str:
    """A mixed-case app or product name: its listed words said, the rest spelt.

    "QuangTri" → quảng trị, "VNeTraffic" → vê nờ e tráp phích, "SmartCA" → xờ mát xê a, "VssID" →
    vê ét ét i đê. A run of four letters or more is said as a word if it is a loan word of the brand
    list or listed words cover it; a shorter run such as "Ne", "Vss" or "Bus" is letters.
    """
    from broadcaster.normalize.segment import brand_readings, read_listed_words

    whole = read_listed_words(token) if len(token) >= 4 else None
    if whole and all(r[:1].isupper() and r[1:].islower() for r in _CAMEL_RUN_RE.findall(token)):
        return whole  # "QuangTri", "DongHa": place names typed without spaces
    words = []
    for run in _CAMEL_RUN_RE.findall(token):
        word = len(run) >= 4 and not run.isupper()  # "Bus", "Map", "Vss" are letters in a name
        brand = brand_readings().get(run.casefold()) if word else None
        listed = read_listed_words(run) if word else None
        words.append(brand or listed or spell(run))
    return " ".join(words)


def _spell_caps(m: re.Match[str]) -> str:
    token = m.group(1)
    if _is_camel(token):
        return _read_camel(token)  # "eKYC", "SmartGov": a product or app name
    if not token.isupper() or is_vietnamese_syllable(token) or token.lower() in _listed_single_words():
        return token  # "ĐAKRÔNG" on a poster is the district, a listed place, not letters
    return spell(token)


@functools.cache
def _listed_single_words() -> frozenset[str]:
    from broadcaster.normalize.segment import listed_words

    return frozenset(w.lower() for w in listed_words() if " " not in w)


def spell_unknown_initialisms(text: str) -> str:
    """Spell all-capital tokens that are no Vietnamese word ("HTX" if not in the table → hát tê ích)."""
    text = _CAPS_TOKEN_RE.sub(_spell_caps, text)
    # A lone capital consonant is a letter name ("khu B" → khu bê); vowels already sound as their names.
    return _LONE_CONSONANT_RE.sub(lambda m: LETTER_NAMES[m.group(1).lower()], text)

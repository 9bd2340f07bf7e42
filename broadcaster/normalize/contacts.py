"""Phone numbers, hotlines, short numbers, bank accounts and other codes said digit by digit.

Also operators' codes (*101# → sao một không một thăng), SMS numbers after "gửi", identity numbers
after CCCD and file codes after "mã hồ sơ" (said character by character with their separators).

Phone numbers are read one digit at a time with a pause (a comma) between the groups the writer
used, so listeners can copy them down. A leading 0 is what tells a phone number (0983.115.113)
from a thousands-separated amount, which never starts with 0.
"""

from __future__ import annotations

import re

from broadcaster.normalize.numbers import read_digits

# 0 + 8..10 more digits, optionally grouped by ".", " " or "-"; a space-grouped number needs a first
# group of at least three digits so "05 123" (a count and a number) is not taken for a phone.
_PHONE_RE = re.compile(
    # a one-digit group only where a dotted landline starts: "0233 3.852.600"
    r"(?<![\w.,/])(?:\+84[ .]?|0)\d{2,4}(?:(?:[.\-]|\s)?(?:\d{2,4}|\d(?=[. ]\d{3}))){1,4}(?![\d]|[.,]\d)"
)
_HOTLINE_RE = re.compile(
    r"(?<![\w.,/])(1800|1900)(?:[ .]?(\d{2,4}))(?:[ .]?(\d{2,4}))?(?:[ .]?(\d{2,4}))?(?![\d]|[.,]\d)"
)
# The short emergency numbers (111 child protection, 112 rescue, 113 police, 114 fire, 115 ambulance)
# only after a word that says "call"; elsewhere 113 may well be a house number.
_EMERGENCY_RE = re.compile(
    r"((?i:gọi|báo|bấm|quay số|đường dây nóng|tổng đài|hotline|hót lai|điện thoại|liên hệ|số|cấp cứu|cứu hỏa|cứu hoả|"
    r"cứu thương|cứu nạn|cứu hộ|công an|cảnh sát|khẩn cấp)"
    r"(?:\s+(?i:ngay|ngay cho|ngay đến|đến|tới|cho|số|điện thoại|khẩn cấp|cấp cứu|công an|cứu hỏa|cứu hộ))*(?:\s*:\s*|\s+))"
    r"(11[1-5](?:\s*(?:,|hoặc|và|/)\s*11[1-5])*)(?![\w.,/]\w)(?!\s+(?i:đường|phố|ngõ|kiệt|hẻm|ngách|hộ|người|lượt|hồ sơ)\b)"
)


# "(0233) 3861 234": an area code in brackets, then the subscriber number.
_BRACKETED_PHONE_RE = re.compile(r"\((0\d{2,3})\)\s*(\d{1,4}(?:[ .]?\d{2,4}){0,3})(?![\d]|[.,]\d)")


def _bracketed(m: re.Match[str]) -> str:
    groups = [m.group(1), *re.findall(r"\d+", m.group(2))]
    if len("".join(groups)) not in range(9, 12):
        return m.group(0)
    if len(groups) == 2 and len(groups[1]) > 4:
        groups = [groups[0], *_group_digits(groups[1])]
    return ", ".join(read_digits(g) for g in groups)


def _group_digits(digits: str) -> list[str]:
    """Split an unbroken phone number into the groups people say (4-3-3, 4-4-3, 3-3-3)."""
    n = len(digits)
    if n <= 4:
        return [digits]
    if n <= 7:
        return [digits[: n - 4], digits[n - 4 :]] if n > 5 else [digits[:2], digits[2:]]
    if n == 10:
        return [digits[:4], digits[4:7], digits[7:]]
    if n == 11:
        return [digits[:4], digits[4:8], digits[8:]]
    return [digits[i : i + 3] for i in range(0, n, 3)]


def _phone(m: re.Match[str]) -> str:
    raw = m.group(0)
    prefix = ""
    if raw.startswith("+84"):
        prefix, raw = "cộng tám tư, ", raw[3:].lstrip(" .")
        digits_only = re.sub(r"\D", "", raw)
        if not 8 <= len(digits_only) <= 10:
            return m.group(0)
    else:
        digits_only = re.sub(r"\D", "", raw)
        if not 9 <= len(digits_only) <= 11:
            return m.group(0)
        # Space-grouped: the first group must be at least 3 digits long (see _PHONE_RE).
        first = re.match(r"\d+", raw)
        if first and len(first.group(0)) < 3:
            return m.group(0)
    groups = re.findall(r"\d+", raw)
    if len(groups) == 1:
        groups = _group_digits(groups[0])
    return prefix + ", ".join(read_digits(g) for g in groups)


def _hotline(m: re.Match[str]) -> str:
    groups = [g for g in m.groups() if g]
    if len(groups) == 1:
        return m.group(0)
    return ", ".join(read_digits(g) for g in groups)


# What makes a number after all a count, a measure or an address: a counted noun or a unit after it.
_COUNTED_AFTER = (
    r"(?!\s*(?:%|(?i:hộ|người|lượt|hồ sơ|trường hợp|cuộc|ý kiến|suất|em|cháu|học sinh|đơn|bản|chiếc|cái|xe|"
    r"ngày|tháng|năm|giờ|phút|km|m|ha|kg|tấn|triệu|nghìn|ngàn|tỷ|đồng|đ|điểm|lần|tuổi|phòng|căn|lô|thửa|"
    r"đường|phố|ngõ|kiệt|hẻm|ngách)\b))"
)
# Four-digit short numbers of public switchboards ("tổng đài 1022") and the national short codes
# 111–115 are said digit by digit after a word that names a line, a few words on ("Tổng đài quốc gia
# bảo vệ trẻ em 111", "đường dây nóng của tỉnh: 1022").
_SHORT_LINE_RE = re.compile(
    r"((?i:đường dây nóng|tổng đài|hotline|hót lai|gọi|bấm|quay số|phản ánh|kênh)(?:\s+[^\W\d]+){0,6}?\s*:?\s+)"
    r"(1\d{3}|11[1-5])(?![\w]|[.,]\d)" + _COUNTED_AFTER
)
# The national short codes, known as names: standing on their own, followed by what a line does or by
# a pause rather than by a counted noun ("111 hoạt động 24/7", "115 miễn phí" but "111 hộ").
_KNOWN_SHORT_CODES = r"11[1-5]|1022"
_STANDING_CODE_RE = re.compile(
    r"(?<![\w.,/])(?<!(?i:số) )(?<!(?i:nhà) )(?<!(?i:phòng) )"
    rf"({_KNOWN_SHORT_CODES})(?![\w]|[.,]\d)"
    r"(?=\s*\((?i:miễn phí)|\s+(?i:hoạt động|miễn phí|tiếp nhận|hỗ trợ|luôn|sẵn sàng|trực)\b)"
)
# Two or more of 111–115 together are the emergency numbers whatever comes before ("các số 113, 114, 115").
_EMERGENCY_LIST_RE = re.compile(
    r"(?<![\w.,/])(11[1-5](?:\s*(?:,|hoặc|và|/)\s*11[1-5])+)(?![\w.,/]\w)"
)


def _emergency(m: re.Match[str]) -> str:
    numbers = re.sub(r"11[1-5]", lambda n: read_digits(n.group(0)), m.group(2))
    return m.group(1) + numbers.replace("/", " hoặc ")


# "114 (cứu hỏa)", "115 - cấp cứu": the service named right after the number.
_EMERGENCY_NAMED_RE = re.compile(
    r"(?<![\w.,/])(11[1-5])(?=\s*[(:\-–]?\s*(?i:công an|cảnh sát|cứu hỏa|cứu hoả|cấp cứu|cứu thương|cứu nạn|cứu hộ|"
    r"phòng cháy|bảo vệ trẻ em|tìm kiếm cứu nạn)\b)"
)


_PHONE_OR_PHONE_RE = re.compile(r"(?<=\d)\s?/\s?(?=(?:\+84|0)\d{8,10}(?!\d))")
# Operators' codes "*101#", "*9090#": said key by key, * sao and # thăng.
_USSD_RE = re.compile(r"(?<![\w*#])\*[\d*]{2,}#")


def _ussd(code: str) -> str:
    return " ".join("sao" if ch == "*" else "thăng" if ch == "#" else read_digits(ch) for ch in code)


# An SMS number after "gửi" / "nhắn tin đến" / "đầu số" ("soạn DK gửi 8088") is said digit by digit,
# unless a counted noun follows ("gửi 1500 hồ sơ").
_SMS_NUMBER_RE = re.compile(
    r"((?<![\w])(?i:gửi|gửi đến|gửi tới|nhắn tin đến|nhắn tin tới|nhắn đến|đầu số|tổng đài tin nhắn)\s+)"
    r"(\d{3,5})(?![\w]|[.,]\d)"
    r"(?!\s+(?i:hộ|người|suất|bộ|hồ sơ|bản|đơn|phần|triệu|nghìn|ngàn|tỷ|đồng|kg|tấn|thùng|chiếc|cái|lượt|tin)\b)"
)


def read_phone_numbers(text: str) -> str:
    """Phone numbers, 1800/1900 hotlines and 111–115 after "gọi"/"đường dây nóng", digit by digit."""
    text = _PHONE_OR_PHONE_RE.sub(" hoặc ", text)  # "0905123456/0914222333": two numbers
    text = _USSD_RE.sub(lambda m: _ussd(m.group(0)), text)
    text = _SMS_NUMBER_RE.sub(lambda m: m.group(1) + read_digits(m.group(2)), text)
    text = re.sub(r"\(\s*\+84\s*\)\s*", "+84 ", text)  # "(+84) 233 …": the country code in brackets
    text = _BRACKETED_PHONE_RE.sub(_bracketed, text)
    text = _PHONE_RE.sub(_phone, text)
    text = _HOTLINE_RE.sub(_hotline, text)
    # Every short number taken for the name of a line, by any of the rules below.
    names = {m.group(2) for m in _SHORT_LINE_RE.finditer(text)}
    names |= {m.group(1) for m in _STANDING_CODE_RE.finditer(text)}
    names |= {m.group(1) for m in _EMERGENCY_NAMED_RE.finditer(text)}
    names |= {n for m in _EMERGENCY_RE.finditer(text) for n in re.findall(r"11[1-5]", m.group(2))}
    names |= {n for m in _EMERGENCY_LIST_RE.finditer(text) for n in re.findall(r"11[1-5]", m.group(1))}
    text = _SHORT_LINE_RE.sub(lambda m: m.group(1) + read_digits(m.group(2)), text)
    text = _STANDING_CODE_RE.sub(lambda m: read_digits(m.group(1)), text)
    text = _EMERGENCY_LIST_RE.sub(
        lambda m: re.sub(r"11[1-5]", lambda n: read_digits(n.group(0)), m.group(1)).replace("/", " hoặc "), text
    )
    text = _EMERGENCY_NAMED_RE.sub(lambda m: read_digits(m.group(1)), text)
    text = _EMERGENCY_RE.sub(_emergency, text)
    for name in sorted(names):
        # the same line named again in the text ("Cổng thông tin 1022 … tổng đài 1022", "Tổng đài …
        # 111 … gọi ngay 111") is the same name, said the same way, unless it counts or measures
        # something there ("1022 hộ") or is a house number ("số 111 Lê Lợi" was kept by the rules above)
        text = re.sub(
            rf"(?<![\w.,/])(?<!(?i:số) )(?<!(?i:nhà) )(?<!(?i:phòng) ){name}(?![\w]|[.,]\d)" + _COUNTED_AFTER,
            read_digits(name), text,
        )
    return text


# Bank accounts, meeting IDs, tax and other codes after the word that names them: every digit is
# said, with a pause where the writer left a space, dot or dash.
_CODE_RE = re.compile(
    r"((?<![\w])(?:STK|TK(?:\s+(?i:số))?|(?:(?i:số)\s+)?(?:CCCD|CMND|CMTND)(?:\s+(?i:số))?"
    r"|(?i:số định danh(?: cá nhân)?|mã số BHXH|số BHXH|mã BHXH|số sổ BHXH|mã số bảo hiểm xã hội"
    r"|(?:nhập\s+)?mã(?:\s+(?:xác nhận|xác thực|OTP|tra cứu|giao dịch))?)"
    # "Số tài khoản tiếp nhận: 3712 …": a few words may name the account before its colon
    r"|(?i:số tài khoản|tài khoản)(?:\s+[^\W\d]+){1,3}\s*:"
    r"|(?i:số tài khoản|tài khoản(?:\s+số)?|mã số thuế|mã số|mã phòng|mã cuộc họp|mật khẩu|"
    r"passcode|mã otp|otp|meeting id|ID|i đê))\s*:?\s*)(\d{3,}(?:[ .-]\d{2,})*)(?![\w]|[.,]\d)"
)


_SECRET_RE = re.compile(r"(?i:mật khẩu|passcode|mã otp|otp)")


def read_codes(text: str) -> str:
    """STK 0161 0012 34567 → không một sáu một, không không một hai, ba bốn năm sáu bảy."""

    def code(m: re.Match[str]) -> str:
        groups = re.findall(r"\d+", m.group(2))
        # A password or one-time code is never a quantity, however short ("mật khẩu: 2025").
        secret = bool(_SECRET_RE.match(m.group(1)))
        if sum(len(g) for g in groups) < 6 and not secret:
            return m.group(0)
        return m.group(1) + ", ".join(read_digits(g) for g in groups)

    text = _CODE_RE.sub(code, text)
    return _FILE_CODE_RE.sub(lambda m: m.group(1) + _say_code(m.group(2)), text)


# The code of a file or transaction after "mã hồ sơ" ("H45.12-251201-0001"): letters by name, digits
# one by one, and its separators said, because the listener has to type it back.
_FILE_CODE_RE = re.compile(
    r"((?<![\w])(?i:mã hồ sơ|mã số hồ sơ|số hồ sơ|mã vận đơn|mã giao dịch|mã tra cứu)\s*:?\s*)"
    r"([A-Z0-9][A-Z0-9.\-/]*\d[A-Z0-9.\-/]*[A-Z0-9])(?![\w])"
)
_CODE_SEPARATORS = {".": "chấm", "-": "gạch", "/": "gạch chéo"}


def _say_code(code: str) -> str:
    from broadcaster.normalize.numbers import LETTER_NAMES

    words = []
    for run in re.findall(r"\d+|[A-Z]|[.\-/]", code):
        if run.isdecimal():
            words.append(read_digits(run))
        elif run in _CODE_SEPARATORS:
            words.append(_CODE_SEPARATORS[run])
        else:
            words.append(LETTER_NAMES.get(run.lower(), run.lower()))
    return " ".join(words)

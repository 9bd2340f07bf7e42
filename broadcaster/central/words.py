"""The words an officer types, in Vietnamese or English: priorities, khu phố, weekdays, months.

Used by the CLI and the console alike, so ``--priority "khẩn cấp"``, ``--zones KP1,kp2``,
``--weekly "thứ 2, thứ 5"`` and ``--month 12/2026`` mean what the officer meant.
"""

from __future__ import annotations

import re
import unicodedata

from broadcaster.errors import ConfigError


def _fold(s: str) -> str:
    """Lower case, no tone marks, đ -> d, single spaces: "Khẩn  Cấp" -> "khan cap"."""
    t = unicodedata.normalize("NFD", s.strip().lower().replace("đ", "d"))
    t = "".join(c for c in t if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", t)


PRIORITY_WORDS = {
    "normal": "normal", "thuong": "normal", "thong thuong": "normal", "binh thuong": "normal",
    "priority": "priority", "uu tien": "priority",
    "emergency": "emergency", "khan cap": "emergency", "khan": "emergency",
}

WEEKDAY_WORDS = {
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
    "t2": 0, "t3": 1, "t4": 2, "t5": 3, "t6": 4, "t7": 5, "cn": 6,
    "thu 2": 0, "thu hai": 0, "thu 3": 1, "thu ba": 1, "thu 4": 2, "thu tu": 2, "thu 5": 3, "thu nam": 3,
    "thu 6": 4, "thu sau": 4, "thu 7": 5, "thu bay": 5, "chu nhat": 6,
}

ROLE_WORDS = {
    "composer": "composer", "soan": "composer", "nguoi soan": "composer", "soan thao": "composer",
    "approver": "approver", "duyet": "approver", "nguoi duyet": "approver", "lanh dao": "approver",
    "admin": "admin", "quan tri": "admin", "quan tri vien": "admin",
}


def priority_word(v: str, where: str = "--priority") -> str:
    p = PRIORITY_WORDS.get(_fold(v))
    if p is None:
        raise ConfigError("command line", where, f"{v!r} is not a priority", "thường / ưu tiên / khẩn cấp (normal, priority, emergency)")
    return p


def role_word(v: str, where: str = "--role") -> str:
    r = ROLE_WORDS.get(_fold(v))
    if r is None:
        raise ConfigError("command line", where, f"{v!r} is not a role", "soạn / duyệt / quản trị (composer, approver, admin)")
    return r


def weekday_words(v: str, where: str = "--weekly") -> tuple[int, ...]:
    """"t2,t5", "thứ 2, thứ 5", "thứ hai chủ nhật", "mon,thu" -> weekday numbers (0 = Monday)."""
    f = _fold(v)
    out: set[int] = set()
    # longest words first so "thu 2" wins over "thu" (Thursday)
    pattern = "|".join(re.escape(w) for w in sorted(WEEKDAY_WORDS, key=len, reverse=True))
    rest = re.sub(rf"\b(?:{pattern})\b", lambda m: out.add(WEEKDAY_WORDS[m.group(0)]) or " ", f)  # type: ignore[func-returns-value]
    if re.sub(r"[\s,;]+", "", rest) or not out:
        raise ConfigError("command line", where, f"{v!r} is not a list of weekdays", "thứ 2 .. thứ 7, chủ nhật (or t2..t7, cn, mon..sun)")
    return tuple(sorted(out))


def zone_words(v: str, zone_ids: list[str], where: str = "--zones") -> tuple[str, ...]:
    """"all", "toàn phường", "KP1, kp2", "khu phố 3", "all except kp2", "trừ kp2" -> zone ids."""
    f = _fold(v)
    if f in ("all", "toan phuong", "tat ca"):
        return tuple(zone_ids)
    m = re.fullmatch(r"(?:all|toan phuong|tat ca)?\s*(?:except|tru|ngoai tru)\s+(.+)", f)
    base = list(zone_ids) if m else []
    names = m.group(1) if m else f
    names = re.sub(r"\b(?:khu pho|kp)\s*(?=\w)", "kp", names)
    picked = []
    for part in (x for x in re.split(r"[,;\s]+", names) if x):
        if part not in zone_ids:
            raise ConfigError("command line", where, f"khu phố {part!r} is not in the ward file",
                              f'"all" (toàn phường), "all except kp2", or some of {", ".join(zone_ids)}')
        picked.append(part)
    if m:
        out = tuple(z for z in base if z not in picked)
    else:
        out = tuple(dict.fromkeys(picked))
    if not out:
        raise ConfigError("command line", where, "no khu phố left", "at least one khu phố")
    return out


def month_word(v: str, where: str = "--month") -> str:
    """"12/2026", "2026-12", "tháng 12/2026" -> "2026-12"."""
    f = _fold(v).removeprefix("thang").strip()
    m = re.fullmatch(r"(\d{1,2})\s*[/.-]\s*(\d{4})", f)
    if m:
        return f"{int(m.group(2)):04d}-{int(m.group(1)):02d}"
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", f)
    if m:
        return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"
    raise ConfigError("command line", where, f"{v!r} is not a month", "MM/YYYY or YYYY-MM, e.g. 12/2026")

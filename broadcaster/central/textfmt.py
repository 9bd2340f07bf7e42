"""Words and tables for the officer: local times, priority names in Vietnamese, plain-text tables.

Kept apart from the CLI modules so ``list``, ``queue``, ``devices`` and the report say things the
same way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

PRIORITY_VI = {"normal": "thông thường", "priority": "ưu tiên", "emergency": "KHẨN CẤP"}
KIND_VI = {"played": "đã phát", "interrupted": "bị ngắt", "failed": "lỗi", "missed": "bỏ lỡ"}


def local(t: datetime | None, tz: ZoneInfo, fmt: str = "%H:%M %d/%m/%Y") -> str:
    return t.astimezone(tz).strftime(fmt) if t else "—"


def duration(ms: int) -> str:
    s = round(ms / 1000)
    return f"{s // 60}:{s % 60:02d}"


def ago(t: datetime | None, now: datetime) -> str:
    if t is None:
        return "never"
    d = now - t
    if d < timedelta(minutes=1):
        return "just now"
    if d < timedelta(hours=1):
        return f"{int(d.total_seconds() // 60)} min ago"
    if d < timedelta(days=1):
        return f"{int(d.total_seconds() // 3600)} h ago"
    return f"{d.days} d ago"


def slug(text: str, limit: int = 32) -> str:
    """An id from a Vietnamese title: "Cắt điện KP4" -> "cat-dien-kp4"."""
    t = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    t = "".join(c for c in t if not unicodedata.combining(c)).lower()
    t = re.sub(r"[^a-z0-9]+", "-", t).strip("-")
    return (t[:limit].rstrip("-") or "thong-bao")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)

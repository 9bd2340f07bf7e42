"""Times on the wire: how they are read and how they are written.

Read: any RFC 3339 spelling (``Z`` or ``+07:00``, ``T``/``t`` or a space, no fraction or up to
nanoseconds), always with a zone; the result is UTC. Years outside 2000-2200 are refused as absurd.
Written: UTC with milliseconds and ``Z`` (``2026-11-24T10:00:00.000Z``), the spelling every v1
central has sent: nodes that re-encode before checking a signature (before the wire package) rely
on it for the envelope's ``issued_at``/``expires_at``, and the store sorts these strings as times.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

import msgspec

from broadcaster.wire.errors import Malformed

MIN_YEAR, MAX_YEAR = 2000, 2200

# The type of a time field in a message struct: msgspec reads RFC 3339 and insists on a zone;
# ``checked`` (called by each struct's __post_init__) turns it to UTC and bounds its year.
WireTime = Annotated[datetime, msgspec.Meta(tz=True)]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def format_time(t: datetime) -> str:
    """UTC ISO 8601 with milliseconds: 2026-11-24T10:00:00.000Z."""
    if t.tzinfo is not timezone.utc:
        if t.tzinfo is None:
            raise Malformed("naive datetime on the wire: times must carry a time zone")
        t = t.astimezone(timezone.utc)
    return t.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def checked(t: datetime, path: str) -> datetime:
    """A decoded wire time as UTC, refused if absurd (year 1, year 9999) or without a zone."""
    if t.tzinfo is None:
        raise Malformed("has no time zone (the wire uses UTC with Z)", path=path)
    if not MIN_YEAR <= t.year <= MAX_YEAR:
        raise Malformed(f"{t.isoformat()} is outside the years {MIN_YEAR}-{MAX_YEAR}", path=path)
    return t if t.tzinfo is timezone.utc else t.astimezone(timezone.utc)


def parse_time(s: Any, where: str = "time") -> datetime:
    """A wire time from a string (a node's own files, the store, the CLI): any RFC 3339 spelling."""
    if not isinstance(s, str):
        raise Malformed(f"expected an RFC 3339 time string, got {type(s).__name__}", path=where)
    try:
        t = datetime.fromisoformat(s.strip().upper().replace("Z", "+00:00"))
    except ValueError as exc:
        raise Malformed(f"{s[:80]!r} is not an RFC 3339 time", path=where) from exc
    try:
        return checked(t, where)
    except OverflowError as exc:
        raise Malformed(f"{s[:80]!r} cannot be turned into UTC", path=where) from exc


"""What the public pages may show, and nothing else.

Everything a citizen sees goes through this module: announcements pass :func:`is_public` and are
copied into :class:`PublicAnnouncement`, which has no field for what is private (the file or
command it came from, the speech engine, the queue order, devices, drafts, who composed it), so a
template cannot show it by mistake. Procedures pass :func:`procedure_is_public` (verified only).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from broadcaster.catalog import Procedure, load_catalog
from broadcaster.config import Ward
from broadcaster.errors import BroadcasterError

log = logging.getLogger(__name__)


class Announcementish(Protocol):
    """The fields of ``store.StoredAnnouncement`` this module reads."""

    # read-only: the frozen StoredAnnouncement that fulfils it cannot be written to
    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def priority(self) -> str: ...

    @property
    def zones(self) -> tuple[str, ...]: ...

    @property
    def status(self) -> str: ...

    @property
    def audio(self) -> str: ...

    @property
    def queued_at(self) -> datetime: ...


@dataclass(frozen=True)
class PublicAnnouncement:
    id: str
    title: str
    text: str
    priority: str
    zones: tuple[str, ...]  # names of the khu phố ("Khu phố 1"), or ("Toàn phường",)
    first_aired: datetime  # UTC
    next_airing: datetime | None  # UTC; None when it will not air again
    audio: str | None  # media name <sha256>.mp3

    @property
    def current(self) -> bool:
        return self.next_airing is not None


def is_public(ann: Announcementish, first_airing: datetime | None, now: datetime) -> bool:
    """Whether an announcement may be on the public pages.

    Conservative on purpose: it must be queued and not cancelled, and its first airing must have
    come (so a draft, or an item queued for next week, is not read on the web before it is on the
    loudspeakers). When the console adds approval, add "and approved" here: this is the one place.
    """
    return ann.status == "active" and first_airing is not None and first_airing <= now


def procedure_is_public(proc: Procedure) -> bool:
    """Only procedures whose facts were checked ("verified": true) are shown to citizens."""
    return proc.verified


def zone_names(ward: Ward, zones: tuple[str, ...]) -> tuple[str, ...]:
    if set(zones) >= {z.id for z in ward.zones}:
        return ("Toàn phường",)
    names = {z.id: z.name for z in ward.zones}
    return tuple(names.get(z, z) for z in zones)


def public_announcements(ward: Ward, store: object, now: datetime) -> list[PublicAnnouncement]:
    """Current and recent public announcements, newest first airing first.

    The first airing is the earliest delivered plan item of the announcement if the service has
    planned it, else the first occurrence of its schedule.
    """
    from broadcaster.central import planner
    from broadcaster.central.store import Store

    assert isinstance(store, Store)
    firsts: dict[str, datetime] = {}
    for it in store.plan_items():
        if it.status != "cancelled":
            firsts[it.announcement_id] = min(firsts.get(it.announcement_id, it.start), it.start)
    horizon = now + timedelta(days=400)
    since = now - timedelta(days=ward.public.recent_days)
    out: list[PublicAnnouncement] = []
    from broadcaster.central.usecases import REPLAY_SOURCE

    active = {a.id for a in store.announcements()}
    for ann in store.announcements():
        original = ann.source[len(REPLAY_SOURCE):].rsplit(".", 2)[0] if ann.source.startswith(REPLAY_SOURCE) else None
        if original in active:
            continue  # a «phát lại» copy: the same words again, already listed under the original
        try:
            planned = planner.occurrences(ann.schedule, ward.tz, planner.to_utc(ann.queued_at),
                                          ann.queued_at - timedelta(days=1), horizon)
        except BroadcasterError as exc:
            log.warning("announcement %s: schedule unreadable (%s); not published", ann.id, exc)
            continue
        first = firsts.get(ann.id) or (planned[0] if planned else None)
        if not is_public(ann, first, now):
            continue
        assert first is not None
        later = [t for t in planned if t > now]
        nxt = later[0] if later else None
        if nxt is None and first < since:
            continue  # aired long ago: no longer "recent"
        out.append(PublicAnnouncement(
            id=ann.id, title=ann.title, text=ann.text, priority=ann.priority,
            zones=zone_names(ward, ann.zones), first_aired=first, next_airing=nxt, audio=ann.audio or None,
        ))
    return sorted(out, key=lambda a: a.first_aired, reverse=True)


def public_procedures(ward: Ward) -> list[Procedure]:
    path = ward.public.catalog
    if path is None or not path.exists():
        return []
    return [p for p in load_catalog(path) if procedure_is_public(p)]


def fold(text: str) -> str:
    """Lowercase without tone marks or diacritics ("Đăng ký" -> "dang ky"): how people type a search."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "d"))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return re.sub(r"\s+", " ", text.casefold()).strip()


def search_text(p: Procedure) -> str:
    return fold(" ".join([p.name, p.field, p.code.replace("_", " ")]))


def search(procs: list[Procedure], query: str) -> list[Procedure]:
    """Procedures whose name, field or code contain every word of ``query`` (folded). Documents are
    left out: "kết hôn" would otherwise find every procedure that asks for a marriage certificate."""
    words = fold(query).split()
    if not words:
        return procs
    hits = []
    for p in procs:
        hay = search_text(p)
        if all(w in hay for w in words):
            hits.append(p)
    return hits

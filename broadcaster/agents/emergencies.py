"""The emergency book: every emergency a node has heard of, with one status vocabulary.

Shared by the speaker (which airs an emergency once) and the TV (which shows it for as long as it
airs plus a tail). Both need the same facts, so both keep the same book:

* an emergency is known by its id; the first copy wins (a retained copy after a reconnect or a
  reboot changes nothing, so an emergency already aired is never aired again);
* ``status`` says what became of it on *this* node (``EmergencyStatus``): pending until it aired,
  or the as-run kind of its airing, or cleared if the central ended it before it aired;
* ``cleared_at`` says when the central ended it (a TV takes it off the screen then; a speaker
  stops it mid-airing). A clear may arrive before the emergency itself: the id is then booked as
  cleared with no body, and the emergency arriving later is ignored;
* entries go a week after they stopped mattering, so the memory file does not grow for ever.

The book is plain data guarded by the desired-state store's lock (``memory.DesiredStateStore``)
and saved with the rest of the node's memory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from broadcaster.protocol import T_EMERGENCY_CLEAR, Emergency, Envelope, fmt_time, parse_time

log = logging.getLogger(__name__)

KEEP = timedelta(days=7)  # how long an emergency stays booked after it stopped mattering
DUE_SLACK = timedelta(seconds=0.1)  # an emergency this close to its start is due now


class EmergencyStatus(str, Enum):
    """What became of an emergency on this node (values are what ``state.json`` holds)."""

    PENDING = "pending"  # known, not aired (yet); on a TV: shown in its time
    PLAYED = "played"
    INTERRUPTED = "interrupted"
    FAILED = "failed"
    MISSED = "missed"
    CLEARED = "cleared"  # ended by the central before it aired

    @classmethod
    def parse(cls, raw: Any) -> EmergencyStatus:
        # "active" is what the TV wrote before the book was shared: it meant "known, not cleared"
        if raw == "active" or raw is None:
            return cls.PENDING
        try:
            return cls(raw)
        except ValueError:
            return cls.PENDING


@dataclass
class BookEntry:
    emergency: Emergency | None  # None: heard of only through its clear
    status: EmergencyStatus = EmergencyStatus.PENDING
    cleared_at: datetime | None = None

    def ends(self) -> datetime | None:
        """When the entry stops mattering (then it is kept a week more)."""
        if self.emergency is not None:
            return self.emergency.valid_until
        return self.cleared_at


class EmergencyBook:
    def __init__(self, entries: dict[str, BookEntry] | None = None) -> None:
        self._entries: dict[str, BookEntry] = dict(entries or {})

    # -- changes (the caller holds the store's lock and saves afterwards) ---------------------

    def receive(self, em: Emergency, now: datetime) -> bool:
        """Book a new emergency; False if its id is known already (played, pending or cleared)."""
        self.prune(now)
        if em.emergency_id in self._entries:
            return False
        self._entries[em.emergency_id] = BookEntry(em)
        return True

    def clear(self, emergency_id: str, now: datetime) -> bool:
        """The central ended it. True if that changed anything."""
        entry = self._entries.setdefault(emergency_id, BookEntry(None, EmergencyStatus.CLEARED))
        changed = False
        if entry.status is EmergencyStatus.PENDING:
            entry.status, changed = EmergencyStatus.CLEARED, True
        if entry.cleared_at is None:
            entry.cleared_at, changed = now, True
        return changed

    def settle(self, emergency_id: str, kind: str) -> None:
        """Its airing ended as ``kind`` (an as-run kind). Booked even if the emergency itself was
        forgotten (a corrupt memory file): the retained copy arriving again must not air it again."""
        entry = self._entries.setdefault(emergency_id, BookEntry(None))
        if entry.status is EmergencyStatus.PENDING:
            entry.status = EmergencyStatus(kind)

    def prune(self, now: datetime) -> None:
        for eid in [e for e, entry in self._entries.items() if (end := entry.ends()) is not None and end < now - KEEP]:
            del self._entries[eid]

    # -- views -------------------------------------------------------------------------------

    def status(self, emergency_id: str) -> EmergencyStatus | None:
        entry = self._entries.get(emergency_id)
        return entry.status if entry else None

    def is_cleared(self, emergency_id: str) -> bool:
        entry = self._entries.get(emergency_id)
        return entry is not None and entry.cleared_at is not None

    def known(self) -> list[tuple[str, Emergency, BookEntry]]:
        """Every booked emergency whose body is known, by start."""
        out = [(eid, e.emergency, e) for eid, e in self._entries.items() if e.emergency is not None]
        return sorted(out, key=lambda t: t[1].item.start)

    def pending(self) -> list[tuple[str, Emergency]]:
        return [(eid, em) for eid, em, e in self.known() if e.status is EmergencyStatus.PENDING]

    def due(self, now: datetime) -> tuple[str, Emergency] | None:
        """A pending emergency to air now (its start reached, still valid)."""
        for eid, em in self.pending():
            if em.item.start <= now + DUE_SLACK and now < em.valid_until:
                return eid, em
        return None

    def next_start(self, now: datetime) -> datetime | None:
        starts = [em.item.start for _eid, em in self.pending() if em.item.start > now]
        return min(starts) if starts else None

    def expired(self, now: datetime) -> list[tuple[str, Emergency]]:
        """Pending emergencies whose validity ended before they could air."""
        return [(eid, em) for eid, em in self.pending() if now >= em.valid_until]

    def __len__(self) -> int:
        return len(self._entries)

    # -- on disk (the node's memory file) -----------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for eid, e in self._entries.items():
            d: dict[str, Any] = {"status": e.status.value}
            if e.emergency is not None:
                d["body"] = e.emergency.to_body()
            if e.cleared_at is not None:
                d["cleared_at"] = fmt_time(e.cleared_at)
            out[eid] = d
        return out

    @classmethod
    def from_json(cls, raw: Any) -> EmergencyBook:
        """Read what this or an earlier agent wrote (the speaker's ``cleared`` flag, the TV's
        ``active``); an unreadable entry is dropped with a warning, the others kept."""
        entries: dict[str, BookEntry] = {}
        for eid, d in (raw or {}).items() if isinstance(raw, dict) else ():
            try:
                em = Emergency.from_body(d["body"]) if d.get("body") is not None else None
                status = EmergencyStatus.parse(d.get("status"))
                cleared_at = parse_time(d["cleared_at"], "emergencies.cleared_at") if d.get("cleared_at") else None
                if cleared_at is None and (status is EmergencyStatus.CLEARED or d.get("cleared")):
                    # cleared, but an earlier agent did not say when: as if before it started
                    cleared_at = em.item.start if em is not None else None
            except Exception as exc:  # noqa: BLE001 - one bad entry must not lose the whole book
                log.warning("emergency %s in the node's memory unreadable (%s): dropped", eid, exc)
                continue
            entries[str(eid)] = BookEntry(em, status, cleared_at)
        return cls(entries)


def apply_emergency_message(book: EmergencyBook, env: Envelope, body: Any, now: datetime) -> bool | None:
    """Book an emergency or its clear; None if the message is neither (the caller handles it).

    One place for both agents, so the speaker and the TV can never disagree about an emergency.
    """
    if isinstance(body, Emergency):
        if book.receive(body, now):
            log.warning("EMERGENCY %s received: %s", body.emergency_id, body.item.title)
            return True
        return False  # already known (played, pending or cleared)
    if env.type == T_EMERGENCY_CLEAR:
        eid = str(body["emergency_id"])
        changed = book.clear(eid, now)
        if changed:
            log.info("emergency %s cleared by the central", eid)
        return changed
    return None

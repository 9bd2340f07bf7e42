"""Frozen copy of the wire code as it was before broadcaster.wire (the hand-written decoder), kept only so
scripts/bench can measure the node's CPU per message for the old path and the new one in the same run.
Nothing imports it but benchmarks/nodecpu.py. Do not fix or update it."""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from broadcaster.errors import ClockSkewError, ProtocolError, SignatureError

PROTOCOL_VERSION = 1
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
# Bounds on what a signed body may hold. The shipped central never comes near them; a node still
# refuses beyond them rather than trust its own central that far (an empty emergency id once spun
# a node at full CPU, a version of 10**30 would freeze a target forever).
MAX_ID_LEN = 200
MAX_VERSION = 2**53 - 1  # JSON-safe integer; the central's versions are clock milliseconds, far below
MAX_DURATION_MS = 6 * 3600 * 1000  # no announcement is longer than a broadcast day's window
MAX_MEDIA_BYTES = 2 * 1024**3
MAX_ITEMS = 5000
MAX_REASON_LEN = 500
MAX_ITEM_SLIDES = 20  # an announcement's key-facts slide and continuations; a long text makes 3-6
MAX_PAYLOAD_BYTES = 1024 * 1024  # the broker's max_packet_size; larger never reaches a parser
MIN_YEAR, MAX_YEAR = 2000, 2200  # times on the wire outside this are absurd (year 1, year 9999)
TOPIC_ROOT = "bc/v1"

Priority = Literal["normal", "priority", "emergency"]
PRIORITIES: tuple[str, ...] = ("normal", "priority", "emergency")
EventKind = Literal["played", "interrupted", "failed", "missed"]
EVENT_KINDS: tuple[str, ...] = ("played", "interrupted", "failed", "missed")

# Message types carried in the envelope's "type" field.
T_SCHEDULE = "schedule"  # central -> zone or device, retained: upcoming audio items
T_DECK = "deck"  # central -> display device, retained: slides to cycle and announcement overlays
T_EMERGENCY = "emergency"  # central -> zone, retained while valid: play now, interrupt
T_EMERGENCY_CLEAR = "emergency_clear"  # central -> zone, retained: the emergency is over
T_CONFIG = "config"  # central -> device, retained: volume and other per-device settings
T_STATE = "state"  # device -> central, retained, also the last will: online/offline and health
T_EVENT = "event"  # device -> central: as-run event (played, interrupted, failed, missed)
# central -> device, not retained: which as-run events the central has stored (or refused). A node
# keeps each event until it is acknowledged here, not merely once the broker has it. Older nodes
# never subscribe to it; older centrals never send it (nodes then re-send with a growing delay).
T_EVENT_ACK = "event_ack"
CENTRAL_TYPES = frozenset({T_SCHEDULE, T_DECK, T_EMERGENCY, T_EMERGENCY_CLEAR, T_CONFIG, T_EVENT_ACK})
# The last topic segment each message type travels on (Topics below builds the full names).
TOPIC_LEAF = {
    T_SCHEDULE: "schedule",
    T_DECK: "deck",
    T_EMERGENCY: "emergency",
    T_EMERGENCY_CLEAR: "emergency",
    T_CONFIG: "config",
    T_STATE: "state",
    T_EVENT: "events",
    T_EVENT_ACK: "ack",
}
DEVICE_TYPES = frozenset({T_STATE, T_EVENT})


# --------------------------------------------------------------------------------------------
# Topics
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Topics:
    """Topic names of one ward. Build once from the ward id; every name is derived here only."""

    ward: str

    def __post_init__(self) -> None:
        _check_segment("ward", self.ward)

    @property
    def base(self) -> str:
        return f"{TOPIC_ROOT}/{self.ward}"

    def zone_schedule(self, zone: str) -> str:
        return f"{self.base}/zone/{_check_segment('zone', zone)}/schedule"

    def zone_emergency(self, zone: str) -> str:
        return f"{self.base}/zone/{_check_segment('zone', zone)}/emergency"

    def device_schedule(self, device: str) -> str:
        return f"{self.base}/device/{_check_segment('device', device)}/schedule"

    def device_deck(self, device: str) -> str:
        return f"{self.base}/device/{_check_segment('device', device)}/deck"

    def device_config(self, device: str) -> str:
        return f"{self.base}/device/{_check_segment('device', device)}/config"

    def device_state(self, device: str) -> str:
        return f"{self.base}/device/{_check_segment('device', device)}/state"

    def device_events(self, device: str) -> str:
        return f"{self.base}/device/{_check_segment('device', device)}/events"

    def device_ack(self, device: str) -> str:
        return f"{self.base}/device/{_check_segment('device', device)}/ack"

    @property
    def central_lock(self) -> str:
        """Retained: which central service instance (data folder) serves the ward (one at a time)."""
        return f"{self.base}/central/lock"

    # Wildcards the central subscribes to.
    @property
    def all_states(self) -> str:
        return f"{self.base}/device/+/state"

    @property
    def all_events(self) -> str:
        return f"{self.base}/device/+/events"

    def node_subscriptions(self, device: str, zone: str | None) -> list[str]:
        """What a device agent subscribes to: its own central-side topics and its zone's."""
        subs = [
            self.device_schedule(device),
            self.device_deck(device),
            self.device_config(device),
            self.device_ack(device),
        ]
        if zone:
            subs += [self.zone_schedule(zone), self.zone_emergency(zone)]
        return subs

    def parse(self, topic: str) -> tuple[str, str, str]:
        """Split a topic of this ward into (scope, id, leaf), e.g. ("device", "kp1-loa1", "state")."""
        prefix = self.base + "/"
        if not topic.startswith(prefix):
            raise ProtocolError(f"topic {topic!r} is not under {prefix!r}")
        parts = topic[len(prefix) :].split("/")
        if len(parts) != 3 or parts[0] not in ("zone", "device"):
            raise ProtocolError(f"topic {topic!r} is not a known broadcaster topic")
        return parts[0], parts[1], parts[2]


def _check_segment(what: str, value: str) -> str:
    if not value or any(c in value for c in "/+#\x00 ") or len(value) > 64:
        raise ProtocolError(f"{what} id {value!r} cannot be used in a topic: use 1-64 characters without / + # or spaces")
    return value


# --------------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------------


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def fmt_time(t: datetime) -> str:
    """UTC ISO 8601 with milliseconds: 2026-11-24T10:00:00.000Z."""
    if t.tzinfo is None:
        raise ProtocolError("naive datetime on the wire: times must carry a time zone")
    t = t.astimezone(timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse_time(s: Any, where: str = "time") -> datetime:
    if not isinstance(s, str):
        raise ProtocolError(f"{where}: expected an ISO 8601 UTC string, got {type(s).__name__}")
    try:
        t = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ProtocolError(f"{where}: {s!r} is not an ISO 8601 time") from exc
    if t.tzinfo is None:
        raise ProtocolError(f"{where}: {s!r} has no time zone (the wire uses UTC with Z)")
    if not MIN_YEAR <= t.year <= MAX_YEAR:
        raise ProtocolError(f"{where}: {s!r} is outside the years {MIN_YEAR}-{MAX_YEAR}")
    try:
        return t.astimezone(timezone.utc)
    except OverflowError as exc:
        raise ProtocolError(f"{where}: {s!r} cannot be turned into UTC") from exc


# --------------------------------------------------------------------------------------------
# Bodies
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaRef:
    """A media file by content: nodes fetch ``url``, check ``sha256`` and ``size``, cache by sha256."""

    url: str
    sha256: str
    size: int
    type: str = "audio/mpeg"

    @classmethod
    def from_dict(cls, d: Any, where: str = "media") -> MediaRef:
        d = _need_dict(d, where)
        sha = _need(d, "sha256", str, where)
        if not _SHA256_RE.fullmatch(sha):
            raise ProtocolError(f"{where}.sha256: expected 64 lowercase hex digits")
        url = _need(d, "url", str, where)
        if not re.fullmatch(r"https?://[^\s/]+/\S*", url) or len(url) > 2000:
            raise ProtocolError(f"{where}.url: {url[:80]!r} is not an http(s) URL")
        size = _need(d, "size", int, where)
        if not 0 < size <= MAX_MEDIA_BYTES:
            raise ProtocolError(f"{where}.size: {size} is not a size in bytes between 1 and {MAX_MEDIA_BYTES}")
        typ = d.get("type", "audio/mpeg")
        if not isinstance(typ, str) or len(typ) > 100:
            raise ProtocolError(f"{where}.type: expected a media type string")
        return cls(url=url, sha256=sha, size=size, type=typ)


@dataclass(frozen=True)
class ScheduleItem:
    """One audio item a speaker plays at ``start`` (UTC) from its own clock."""

    item_id: str
    announcement_id: str
    title: str
    priority: str
    start: datetime
    duration_ms: int
    media: MediaRef
    slide: MediaRef | None = None  # shown on the TV while the item airs
    # Optional, added within v1: every slide of the announcement, the first being ``slide`` (the
    # key-facts slide), then its continuations. Sent only when there is more than one, so a
    # single-slide item is byte for byte what it always was; older TVs ignore the field and show
    # ``slide`` alone.
    slides: tuple[MediaRef, ...] = ()

    @property
    def all_slides(self) -> tuple[MediaRef, ...]:
        """What the TV shows while the item airs, in order (``slides``, else ``slide`` alone)."""
        if self.slides:
            return self.slides
        return (self.slide,) if self.slide is not None else ()

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "item_id": self.item_id,
            "announcement_id": self.announcement_id,
            "title": self.title,
            "priority": self.priority,
            "start": fmt_time(self.start),
            "duration_ms": self.duration_ms,
            "media": asdict(self.media),
        }
        if self.slide is not None:
            d["slide"] = asdict(self.slide)
        if len(self.slides) > 1:
            d["slides"] = [asdict(m) for m in self.slides]
        return d

    @classmethod
    def from_dict(cls, d: Any, where: str = "item") -> ScheduleItem:
        d = _need_dict(d, where)
        prio = _need(d, "priority", str, where)
        if prio not in PRIORITIES:
            raise ProtocolError(f"{where}.priority: {prio!r} is not one of {', '.join(PRIORITIES)}")
        duration = _need(d, "duration_ms", int, where)
        if not 0 <= duration <= MAX_DURATION_MS:
            raise ProtocolError(f"{where}.duration_ms: {duration} is not a duration between 0 and {MAX_DURATION_MS} ms")
        title = d.get("title", "")
        if not isinstance(title, str):
            raise ProtocolError(f"{where}.title: expected a string")
        slide = MediaRef.from_dict(d["slide"], f"{where}.slide") if d.get("slide") else None
        return cls(
            item_id=_need_id(d, "item_id", where),
            announcement_id=_need_id(d, "announcement_id", where),
            title=title[:500],
            priority=prio,
            start=parse_time(d.get("start"), f"{where}.start"),
            duration_ms=duration,
            media=MediaRef.from_dict(d.get("media"), f"{where}.media"),
            slide=slide,
            slides=_item_slides(d, slide, where),
        )


def _item_slides(d: dict[str, Any], slide: MediaRef | None, where: str) -> tuple[MediaRef, ...]:
    """An item's optional ``slides``: 1-MAX_ITEM_SLIDES media refs, the first one equal to ``slide``."""
    raw = d.get("slides")
    if raw is None:
        return ()
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_ITEM_SLIDES:
        raise ProtocolError(f"{where}.slides: expected a list of 1-{MAX_ITEM_SLIDES} slides")
    refs = tuple(MediaRef.from_dict(m, f"{where}.slides[{n}]") for n, m in enumerate(raw))
    if refs[0] != slide:
        # an older TV shows ``slide`` only: both kinds of TV must start from the same key-facts slide
        raise ProtocolError(f"{where}.slides[0]: must be the item's slide")
    return refs if len(refs) > 1 else ()  # one slide is ``slide`` itself: the same item as without


@dataclass(frozen=True)
class Schedule:
    """Desired state of a zone or a device: every item from now until ``horizon``.

    ``target`` is "zone/<id>" or "device/<id>". ``version`` grows with each change; a node keeps the
    highest version it has applied per target and reports it in its state (its acknowledgement).
    """

    target: str
    version: int
    items: tuple[ScheduleItem, ...]
    horizon: datetime

    def to_body(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "version": self.version,
            "horizon": fmt_time(self.horizon),
            "items": [i.to_dict() for i in self.items],
        }

    @classmethod
    def from_body(cls, b: Any) -> Schedule:
        b = _need_dict(b, "body")
        items = b.get("items")
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise ProtocolError(f"body.items: expected a list of at most {MAX_ITEMS} items")
        return cls(
            target=_need_id(b, "target", "body"),
            version=_need_version(b, "body"),
            horizon=parse_time(b.get("horizon"), "body.horizon"),
            items=tuple(ScheduleItem.from_dict(x, f"body.items[{n}]") for n, x in enumerate(items)),
        )


@dataclass(frozen=True)
class DeckSlide:
    slide_id: str
    media: MediaRef
    duration_s: float

    def to_dict(self) -> dict[str, Any]:
        return {"slide_id": self.slide_id, "media": asdict(self.media), "duration_s": self.duration_s}

    @classmethod
    def from_dict(cls, d: Any, where: str) -> DeckSlide:
        d = _need_dict(d, where)
        dur = d.get("duration_s")
        if isinstance(dur, bool) or not isinstance(dur, (int, float)) or not 0 < dur <= 3600:
            raise ProtocolError(f"{where}.duration_s: expected a number of seconds above 0, at most 3600")
        return cls(
            slide_id=_need_id(d, "slide_id", where),
            media=MediaRef.from_dict(d.get("media"), f"{where}.media"),
            duration_s=float(dur),
        )


@dataclass(frozen=True)
class Deck:
    """Desired state of a TV: the slides it cycles, and announcement slides to show while items air."""

    target: str
    version: int
    slides: tuple[DeckSlide, ...]
    overlays: tuple[ScheduleItem, ...] = ()  # items whose ``slide`` shows from start for duration_ms

    def to_body(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "version": self.version,
            "slides": [s.to_dict() for s in self.slides],
            "overlays": [o.to_dict() for o in self.overlays],
        }

    @classmethod
    def from_body(cls, b: Any) -> Deck:
        b = _need_dict(b, "body")
        slides, overlays = b.get("slides"), b.get("overlays", [])
        if not isinstance(slides, list) or not isinstance(overlays, list) or len(slides) + len(overlays) > MAX_ITEMS:
            raise ProtocolError(f"body.slides and body.overlays: expected lists of at most {MAX_ITEMS} entries")
        return cls(
            target=_need_id(b, "target", "body"),
            version=_need_version(b, "body"),
            slides=tuple(DeckSlide.from_dict(s, f"body.slides[{n}]") for n, s in enumerate(slides)),
            overlays=tuple(ScheduleItem.from_dict(o, f"body.overlays[{n}]") for n, o in enumerate(overlays)),
        )


@dataclass(frozen=True)
class Emergency:
    """Play ``item`` now on every node of the zone, interrupting; valid until ``valid_until``.

    A node that (re)connects before ``valid_until`` and has not played it yet plays it then.
    """

    emergency_id: str
    item: ScheduleItem
    valid_until: datetime

    def to_body(self) -> dict[str, Any]:
        return {"emergency_id": self.emergency_id, "item": self.item.to_dict(), "valid_until": fmt_time(self.valid_until)}

    @classmethod
    def from_body(cls, b: Any) -> Emergency:
        b = _need_dict(b, "body")
        item = ScheduleItem.from_dict(b.get("item"), "body.item")
        valid_until = parse_time(b.get("valid_until"), "body.valid_until")
        if valid_until < item.start:
            raise ProtocolError("body.valid_until: before the item's start")
        if valid_until - item.start > timedelta(days=2):
            raise ProtocolError("body.valid_until: an emergency valid for more than two days is not one")
        return cls(emergency_id=_need_id(b, "emergency_id", "body"), item=item, valid_until=valid_until)


@dataclass(frozen=True)
class DeviceConfig:
    volume: int  # 0-100

    def to_body(self) -> dict[str, Any]:
        return {"volume": self.volume}

    @classmethod
    def from_body(cls, b: Any) -> DeviceConfig:
        b = _need_dict(b, "body")
        vol = _need(b, "volume", int, "body")
        if not 0 <= vol <= 100:
            raise ProtocolError("body.volume: expected 0-100")
        return cls(volume=vol)


@dataclass(frozen=True)
class DeviceState:
    """What a device says of itself; retained. The last will is the same with ``online`` false."""

    device: str
    kind: str  # "speaker" | "display"
    online: bool
    zone: str | None = None
    volume: int | None = None
    applied: dict[str, int] = field(default_factory=dict)  # target -> version applied (the ack)
    cache_items: int = 0
    cache_bytes: int = 0
    missing: tuple[str, ...] = ()  # sha256 of media the node needs but could not fetch yet
    playing: str | None = None  # item_id on air
    clock: datetime | None = None  # the node's clock when it sent this (for the offset estimate)
    agent_version: str = ""
    # why the node's broker link last failed (a TLS certificate not trusted, a refused login), with
    # when: reported once the link is back. Optional; older centrals ignore it.
    link_error: str | None = None

    def to_body(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "kind": self.kind,
            "online": self.online,
            "zone": self.zone,
            "volume": self.volume,
            "applied": dict(self.applied),
            "cache_items": self.cache_items,
            "cache_bytes": self.cache_bytes,
            "missing": list(self.missing),
            "playing": self.playing,
            "clock": fmt_time(self.clock) if self.clock else None,
            "agent_version": self.agent_version,
            **({"link_error": self.link_error} if self.link_error else {}),
        }

    @classmethod
    def from_body(cls, b: Any) -> DeviceState:
        b = _need_dict(b, "body")
        applied = b.get("applied") or {}
        if not isinstance(applied, dict) or not all(isinstance(v, int) and not isinstance(v, bool) for v in applied.values()):
            raise ProtocolError("body.applied: expected an object of target -> version")
        missing = b.get("missing") or []
        if not isinstance(missing, list) or not all(isinstance(x, str) for x in missing):
            raise ProtocolError("body.missing: expected a list of sha256 strings")
        for key in ("zone", "playing"):
            if b.get(key) is not None and not isinstance(b[key], str):
                raise ProtocolError(f"body.{key}: expected a string or null")
        volume = b.get("volume")
        if volume is not None and (not isinstance(volume, int) or isinstance(volume, bool) or not 0 <= volume <= 100):
            raise ProtocolError("body.volume: expected 0-100 or null")
        counts = {}
        for key in ("cache_items", "cache_bytes"):
            v = b.get(key) or 0
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ProtocolError(f"body.{key}: expected a whole number >= 0")
            counts[key] = v
        return cls(
            device=_need_id(b, "device", "body"),
            kind=_need(b, "kind", str, "body"),
            online=bool(b.get("online")),
            zone=b.get("zone"),
            volume=volume,
            applied=applied,
            cache_items=counts["cache_items"],
            cache_bytes=counts["cache_bytes"],
            missing=tuple(missing),
            playing=b.get("playing"),
            clock=parse_time(b["clock"], "body.clock") if b.get("clock") else None,
            agent_version=str(b.get("agent_version") or "")[:100],
            link_error=str(b["link_error"])[:MAX_REASON_LEN] if b.get("link_error") else None,
        )


@dataclass(frozen=True)
class AsRunEvent:
    """What actually happened to an item on a device. ``event_id`` makes re-sends idempotent."""

    event_id: str
    device: str
    item_id: str
    announcement_id: str
    kind: str  # one of EVENT_KINDS
    scheduled: datetime
    started: datetime | None = None
    ended: datetime | None = None
    reason: str = ""

    def to_body(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "device": self.device,
            "item_id": self.item_id,
            "announcement_id": self.announcement_id,
            "kind": self.kind,
            "scheduled": fmt_time(self.scheduled),
            "started": fmt_time(self.started) if self.started else None,
            "ended": fmt_time(self.ended) if self.ended else None,
            "reason": self.reason,
        }

    @classmethod
    def from_body(cls, b: Any) -> AsRunEvent:
        b = _need_dict(b, "body")
        kind = _need(b, "kind", str, "body")
        if kind not in EVENT_KINDS:
            raise ProtocolError(f"body.kind: {kind!r} is not one of {', '.join(EVENT_KINDS)}")
        reason = b.get("reason") or ""
        if not isinstance(reason, str):
            raise ProtocolError("body.reason: expected a string")
        return cls(
            event_id=_need_id(b, "event_id", "body"),
            device=_need_id(b, "device", "body"),
            item_id=_need_id(b, "item_id", "body"),
            announcement_id=_need_id(b, "announcement_id", "body"),
            kind=kind,
            scheduled=parse_time(b.get("scheduled"), "body.scheduled"),
            started=parse_time(b["started"], "body.started") if b.get("started") else None,
            ended=parse_time(b["ended"], "body.ended") if b.get("ended") else None,
            # a node's reason is for the report and the log: bounded, whatever the node sent
            reason=reason[:MAX_REASON_LEN],
        )


ACK_STATUSES = ("stored", "duplicate", "refused")


@dataclass(frozen=True)
class EventAck:
    """The central's answer to as-run events: ``stored`` or ``duplicate`` (already stored: both mean
    the node may forget the event), or ``refused`` (never storable: the node drops it and logs why).
    An event the central could not store *yet* (store locked) gets no answer and is sent again."""

    device: str
    acks: tuple[tuple[str, str, str], ...]  # (event_id, status, reason)

    def to_body(self) -> dict[str, Any]:
        return {"device": self.device, "acks": [{"event_id": e, "status": s, "reason": r} for e, s, r in self.acks]}

    @classmethod
    def from_body(cls, b: Any) -> EventAck:
        b = _need_dict(b, "body")
        acks = b.get("acks")
        if not isinstance(acks, list) or not 0 < len(acks) <= 500:
            raise ProtocolError("body.acks: expected a list of 1-500 acknowledgements")
        out = []
        for n, a in enumerate(acks):
            a = _need_dict(a, f"body.acks[{n}]")
            status = _need(a, "status", str, f"body.acks[{n}]")
            if status not in ACK_STATUSES:
                raise ProtocolError(f"body.acks[{n}].status: {status!r} is not one of {', '.join(ACK_STATUSES)}")
            reason = a.get("reason") or ""
            out.append((_need_id(a, "event_id", f"body.acks[{n}]"), status, str(reason)[:MAX_REASON_LEN]))
        return cls(device=_need_id(b, "device", "body"), acks=tuple(out))


BODY_TYPES: dict[str, type] = {
    T_SCHEDULE: Schedule,
    T_DECK: Deck,
    T_EMERGENCY: Emergency,
    T_CONFIG: DeviceConfig,
    T_STATE: DeviceState,
    T_EVENT: AsRunEvent,
    T_EVENT_ACK: EventAck,
}


def parse_body(msg_type: str, body: Any) -> Any:
    """Turn an envelope body into its dataclass (``emergency_clear`` stays a dict)."""
    if msg_type == T_EMERGENCY_CLEAR:
        b = _need_dict(body, "body")
        _need_id(b, "emergency_id", "body")
        return b
    cls = BODY_TYPES.get(msg_type)
    if cls is None:
        raise ProtocolError(f"unknown message type {msg_type!r}")
    return cls.from_body(body)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------
# Envelope
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Envelope:
    type: str
    ward: str
    sender: str
    body: dict[str, Any]
    seq: int
    issued_at: datetime
    expires_at: datetime | None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    sig: str | None = None
    v: int = PROTOCOL_VERSION
    # The topic the message is meant for, inside the signature: a genuine message re-published on
    # another zone's or device's topic (or as another kind of message) is refused.
    topic: str = ""
    # For a decoded message: the canonical bytes of the object as received, without "sig". The
    # signature is checked over these, not over a re-encoding: a sender whose encoder spells times
    # otherwise (microseconds, "+00:00"), orders keys or spaces differently still verifies.
    received: bytes | None = field(default=None, compare=False, repr=False)

    def signed_bytes(self) -> bytes:
        """What the signature covers: the received object minus ``sig``, or this envelope's own fields."""
        return self.received if self.received is not None else canonical_json(self.unsigned_dict())

    def unsigned_dict(self) -> dict[str, Any]:
        return {
            "v": self.v,
            "type": self.type,
            "id": self.id,
            "ward": self.ward,
            "topic": self.topic,
            "sender": self.sender,
            "seq": self.seq,
            "issued_at": fmt_time(self.issued_at),
            "expires_at": fmt_time(self.expires_at) if self.expires_at else None,
            "body": self.body,
        }

    def to_bytes(self) -> bytes:
        d = self.unsigned_dict()
        if self.sig is not None:
            d["sig"] = self.sig
        return canonical_json(d)


def canonical_json(obj: Any) -> bytes:
    """The exact bytes that are signed: sorted keys, no spaces, UTF-8 (Vietnamese kept as is)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def make_envelope(
    msg_type: str,
    body: dict[str, Any],
    *,
    ward: str,
    sender: str,
    seq: int,
    ttl: timedelta | None = None,
    now: datetime | None = None,
    topic: str = "",
) -> Envelope:
    now = now or utc_now()
    return Envelope(
        type=msg_type,
        ward=ward,
        topic=topic,
        sender=sender,
        body=body,
        seq=seq,
        issued_at=now,
        expires_at=now + ttl if ttl else None,
    )


def decode(payload: bytes, topic: str = "?") -> Envelope:
    """Parse bytes from the broker into an Envelope. Raises ProtocolError naming topic and field."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ProtocolError(f"message on {topic}: {len(payload)} bytes, more than {MAX_PAYLOAD_BYTES}")
    try:
        d = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"message on {topic}: not UTF-8 JSON ({exc})") from exc
    except (RecursionError, ValueError) as exc:  # nested too deep, or an integer of thousands of digits
        raise ProtocolError(f"message on {topic}: JSON nested too deep or with an absurd number") from exc
    if not isinstance(d, dict):
        raise ProtocolError(f"message on {topic}: expected a JSON object")
    v = d.get("v")
    if v != PROTOCOL_VERSION:
        raise ProtocolError(f"message on {topic}: protocol version {v!r}, this program speaks {PROTOCOL_VERSION}")
    where = f"message {str(d.get('id', '?'))[:80]} on {topic}"
    sig = d.get("sig")
    if sig is not None and not isinstance(sig, str):
        raise ProtocolError(f"{where}: 'sig' should be a base64 string, got {type(sig).__name__}")
    seq = _need(d, "seq", int, where)
    if not 0 <= seq <= MAX_VERSION:
        raise ProtocolError(f"{where}: seq {seq} is out of range")
    topic_field = d.get("topic") or ""
    if not isinstance(topic_field, str):
        raise ProtocolError(f"{where}: 'topic' should be a string")
    return Envelope(
        v=v,
        type=_need(d, "type", str, where),
        id=_need(d, "id", str, where),
        ward=_need(d, "ward", str, where),
        topic=topic_field,
        sender=_need(d, "sender", str, where),
        seq=seq,
        issued_at=parse_time(d.get("issued_at"), f"{where}: issued_at"),
        expires_at=parse_time(d["expires_at"], f"{where}: expires_at") if d.get("expires_at") else None,
        body=_need(d, "body", dict, where),
        sig=sig,
        received=canonical_json({k: val for k, val in d.items() if k != "sig"}),
    )


# --------------------------------------------------------------------------------------------
# Signing (Ed25519)
# --------------------------------------------------------------------------------------------


class Signer:
    """Signs envelopes with the ward's private key. Only the central service holds one."""

    def __init__(self, private_key_pem: bytes) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        key = load_pem_private_key(private_key_pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise SignatureError("the central key is not an Ed25519 private key: make one with `broadcaster keys init`")
        self._key = key

    def sign(self, env: Envelope) -> Envelope:
        sig = self._key.sign(canonical_json(env.unsigned_dict()))
        return replace(env, sig=base64.b64encode(sig).decode("ascii"))


class Verifier:
    """Checks signatures with the ward's public key (the nodes hold only this)."""

    def __init__(self, public_key_pem: bytes) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        key = load_pem_public_key(public_key_pem)
        if not isinstance(key, Ed25519PublicKey):
            raise SignatureError("the ward public key is not an Ed25519 key")
        self._key = key

    def verify(self, env: Envelope, topic: str = "?") -> None:
        from cryptography.exceptions import InvalidSignature

        if not env.sig:
            raise SignatureError(f"message {env.id} on {topic} is not signed: refused")
        try:
            sig = base64.b64decode(env.sig, validate=True)
            self._key.verify(sig, env.signed_bytes())
        except (InvalidSignature, ValueError, TypeError) as exc:
            raise SignatureError(f"message {env.id} on {topic}: signature does not match (altered or forged): refused") from exc


def generate_keypair() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as (private PEM, public PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    priv = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return priv, pub


class ReplayGuard:
    """Per-stream memory of the highest ``seq`` accepted, so an old signed message cannot be replayed.

    A stream is (sender, topic). The same message delivered twice (a retained message after a
    reconnect) is a duplicate, not an attack: ``check`` returns False for it and the caller ignores
    it quietly. A *different* message with a seq not above the last one is a replay and raises.
    Agents persist ``snapshot()`` on disk so the guard survives a reboot.
    """

    def __init__(self, state: dict[str, list[Any]] | None = None, max_clock_skew: timedelta = timedelta(minutes=10)) -> None:
        self._last: dict[str, tuple[int, str]] = {k: (int(v[0]), str(v[1])) for k, v in (state or {}).items()}
        self.max_clock_skew = max_clock_skew

    def check(self, env: Envelope, topic: str, now: datetime | None = None) -> bool:
        now = now or utc_now()
        if env.expires_at is not None and env.expires_at < now:
            raise SignatureError(f"message {env.id} on {topic} expired at {fmt_time(env.expires_at)}: refused")
        if env.issued_at > now + self.max_clock_skew:
            raise ClockSkewError(
                f"message {env.id} on {topic} is issued in the future ({fmt_time(env.issued_at)}): "
                "this device's clock is behind (not yet synchronised?); kept and tried again"
            )
        key = f"{env.sender}|{topic}"
        last = self._last.get(key)
        if last is not None:
            last_seq, last_id = last
            if env.seq == last_seq and env.id == last_id:
                return False
            if env.seq <= last_seq:
                raise SignatureError(
                    f"message {env.id} on {topic} has seq {env.seq}, not above {last_seq} already accepted: replay refused"
                )
        self._last[key] = (env.seq, env.id)
        return True

    def snapshot(self) -> dict[str, list[Any]]:
        return {k: [s, i] for k, (s, i) in self._last.items()}


def open_envelope(
    payload: bytes,
    topic: str,
    verifier: Verifier,
    guard: ReplayGuard,
    *,
    ward: str,
    now: datetime | None = None,
) -> tuple[Envelope, Any] | None:
    """Everything a node does with a central message: decode, check ward/type/signature/replay, parse.

    Returns (envelope, body object), or None for a harmless duplicate. Raises ProtocolError or
    SignatureError (its subclass) for anything to refuse; the message then changes nothing.
    """
    env = decode(payload, topic)
    if env.ward != ward:
        raise ProtocolError(f"message {env.id} on {topic} is for ward {env.ward!r}, this device belongs to {ward!r}")
    if env.type not in CENTRAL_TYPES:
        raise ProtocolError(f"message {env.id} on {topic}: type {env.type!r} is not one the central sends")
    if topic.rsplit("/", 1)[-1] != TOPIC_LEAF[env.type]:
        raise ProtocolError(f"message {env.id}: a {env.type} message does not belong on {topic}: refused")
    verifier.verify(env, topic)
    if env.topic != topic:
        raise SignatureError(
            f"message {env.id} was signed for {env.topic or '(no topic)'} but arrived on {topic}: "
            "re-published elsewhere, refused"
        )
    if not guard.check(env, topic, now):
        return None
    return env, parse_body(env.type, env.body)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _need_dict(d: Any, where: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise ProtocolError(f"{where}: expected an object, got {type(d).__name__}")
    return d


_ID_RE = re.compile(r"[^\x00-\x1f\s/+#]+")


def _need_id(d: dict[str, Any], key: str, where: str) -> str:
    """An identifier: non-empty, bounded, no spaces, control characters or MQTT wildcards.
    (``target`` holds one slash, ``zone/kp1``: checked per segment.)"""
    val = _need(d, key, str, where)
    if not val or len(val) > MAX_ID_LEN or not all(_ID_RE.fullmatch(part) for part in val.split("/", 1)):
        raise ProtocolError(f"{where}: {key!r} {val[:80]!r} is not an id (1-{MAX_ID_LEN} characters, no spaces)")
    return val


def _need_version(d: dict[str, Any], where: str) -> int:
    val = _need(d, "version", int, where)
    if not 0 <= val <= MAX_VERSION:
        raise ProtocolError(f"{where}: version {val} is out of range (0-{MAX_VERSION})")
    return val


def _need(d: dict[str, Any], key: str, typ: type, where: str) -> Any:
    if key not in d:
        raise ProtocolError(f"{where}: missing {key!r}")
    val = d[key]
    if typ is int and isinstance(val, bool) or not isinstance(val, typ):
        raise ProtocolError(f"{where}: {key!r} should be {typ.__name__}, got {type(val).__name__}")
    return val

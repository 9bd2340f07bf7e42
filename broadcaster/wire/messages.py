"""The message bodies: one typed, frozen dataclass per message type, decoded by msgspec.

A field is declared once, with its type and its bounds (``Annotated[..., Meta(...)]``); msgspec
checks both while decoding and names the place of any fault (``$.body.items[0].duration_ms``).
What a type alone cannot say (a time's year, an emergency valid before it starts, ``slides[0]``
being the item's ``slide``) is checked in ``__post_init__``, which runs for decoded and constructed
messages alike (the bounds in the annotations are checked when decoding only).

Encoding is ``to_wire``: fields in their declared names, times as ``times.format_time``, enums as
their values, and a field listed in a class's ``OMIT_EMPTY`` left out when empty (what lets an
optional field be added within v1 without changing the bytes of messages that do not use it).

Bounds: the shipped central never comes near them; a node still refuses beyond them rather than
trust its own central that far (an empty emergency id once spun a node at full CPU, a version of
10**30 would freeze a target forever). Unknown fields are ignored, so optional fields can be added.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Self

import msgspec

from broadcaster.wire.errors import Malformed
from broadcaster.wire.times import WireTime, checked, format_time
from broadcaster.wire.vocabulary import (
    MAX_ID_LEN,
    AckStatus,
    DeviceKind,
    EventKind,
    MessageType,
    Priority,
    Target,
    message_type,
)

MAX_VERSION = 2**53 - 1  # JSON-safe integer; the central's versions are clock milliseconds, far below
MAX_DURATION_MS = 6 * 3600 * 1000  # no announcement is longer than a broadcast day's window
MAX_MEDIA_BYTES = 2 * 1024**3
MAX_ITEMS = 5000
MAX_ACKS = 500
MAX_REASON_LEN = 500
MAX_TITLE_LEN = 500
MAX_ITEM_SLIDES = 20  # an announcement's key-facts slide and continuations; a long text makes 3-6
MAX_EMERGENCY_VALIDITY = timedelta(days=2)

# An identifier: 1-200 characters, no spaces, control characters, "/" or MQTT wildcards.
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID_LEN, pattern=r"^[^\x00-\x1f\s/+#]+\Z")]
Version = Annotated[int, msgspec.Meta(ge=0, le=MAX_VERSION)]
Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}\Z")]
Url = Annotated[str, msgspec.Meta(max_length=2000, pattern=r"^https?://[^\s/]+/\S*\Z")]
Volume = Annotated[int, msgspec.Meta(ge=0, le=100)]
Count = Annotated[int, msgspec.Meta(ge=0)]

# Enum and Target fields: decoded (and, in __post_init__, converted) to their type, so a message
# always holds a member; a caller may still build one from the plain string ("normal", "zone/kp1"),
# which the type checker is told here. msgspec reads the runtime branch.
if TYPE_CHECKING:
    PriorityField = Priority | str
    TargetField = Target | str
    DeviceKindField = DeviceKind | str
    EventKindField = EventKind | str
    AckStatusField = AckStatus | str
else:
    PriorityField, TargetField, DeviceKindField, EventKindField, AckStatusField = (
        Priority, Target, DeviceKind, EventKind, AckStatus)


class Body:
    """What every message body can do: encode itself (``to_body``) and be decoded (``from_body``)."""

    OMIT_EMPTY: ClassVar[frozenset[str]] = frozenset()

    def to_body(self) -> dict[str, Any]:
        return to_wire(self)

    to_dict = to_body

    @classmethod
    def from_body(cls, b: Any, where: str = "$.body") -> Self:
        result: Self = convert(b, cls, where)
        return result

    @classmethod
    def from_dict(cls, d: Any, where: str = "$") -> Self:
        result: Self = convert(d, cls, where)
        return result


def _set(obj: object, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)  # frozen dataclasses: normalising in __post_init__ only


def _time(obj: object, name: str, value: datetime) -> None:
    """Check a time field and store it as UTC (only written when it changes: decoding is the hot path)."""
    utc = checked(value, name)
    if utc is not value:
        _set(obj, name, utc)


@dataclass(frozen=True)
class MediaRef(Body):
    """A media file by content: nodes fetch ``url``, check ``sha256`` and ``size``, cache by sha256."""

    url: Url
    sha256: Sha256
    size: Annotated[int, msgspec.Meta(gt=0, le=MAX_MEDIA_BYTES)]
    type: Annotated[str, msgspec.Meta(max_length=100)] = "audio/mpeg"


@dataclass(frozen=True)
class ScheduleItem(Body):
    """One audio item a speaker plays at ``start`` (UTC) from its own clock."""

    OMIT_EMPTY = frozenset({"slide", "slides"})

    item_id: Id
    announcement_id: Id
    title: str
    priority: PriorityField
    start: WireTime
    duration_ms: Annotated[int, msgspec.Meta(ge=0, le=MAX_DURATION_MS)]
    media: MediaRef
    slide: MediaRef | None = None  # shown on the TV while the item airs
    # Optional, added within v1: every slide of the announcement, the first being ``slide`` (the
    # key-facts slide), then its continuations. Sent only when there is more than one, so a
    # single-slide item is byte for byte what it always was; older TVs ignore the field and show
    # ``slide`` alone.
    slides: Annotated[tuple[MediaRef, ...], msgspec.Meta(min_length=1, max_length=MAX_ITEM_SLIDES)] = ()

    def __post_init__(self) -> None:
        if type(self.priority) is not Priority:  # msgspec decodes the enum; a caller may pass a string
            _set(self, "priority", Priority(self.priority))
        _time(self, "start", self.start)
        if len(self.title) > MAX_TITLE_LEN:
            _set(self, "title", self.title[:MAX_TITLE_LEN])
        if self.slides:
            if self.slides[0] != self.slide:
                # an older TV shows ``slide`` only: both kinds of TV must start from the same key-facts slide
                raise Malformed("must be the item's slide", path="slides[0]")
            if len(self.slides) == 1:  # one slide is ``slide`` itself: the same item as without
                _set(self, "slides", ())

    @property
    def all_slides(self) -> tuple[MediaRef, ...]:
        """What the TV shows while the item airs, in order (``slides``, else ``slide`` alone)."""
        if self.slides:
            return self.slides
        return (self.slide,) if self.slide is not None else ()


@dataclass(frozen=True)
class Schedule(Body):
    """Desired state of a zone or a device: every item from now until ``horizon``.

    ``version`` grows with each change; a node keeps the highest version it has applied per target
    and reports it in its state (its acknowledgement).
    """

    target: TargetField
    version: Version
    items: Annotated[tuple[ScheduleItem, ...], msgspec.Meta(max_length=MAX_ITEMS)]
    horizon: WireTime

    def __post_init__(self) -> None:
        if type(self.target) is not Target:
            _set(self, "target", Target(self.target))
        _time(self, "horizon", self.horizon)


@dataclass(frozen=True)
class DeckSlide(Body):
    slide_id: Id
    media: MediaRef
    duration_s: Annotated[float, msgspec.Meta(gt=0, le=3600)]


@dataclass(frozen=True)
class Deck(Body):
    """Desired state of a TV: the slides it cycles, and announcement slides to show while items air."""

    target: TargetField
    version: Version
    slides: Annotated[tuple[DeckSlide, ...], msgspec.Meta(max_length=MAX_ITEMS)]
    overlays: Annotated[tuple[ScheduleItem, ...], msgspec.Meta(max_length=MAX_ITEMS)] = ()  # shown from start for duration_ms

    def __post_init__(self) -> None:
        if type(self.target) is not Target:
            _set(self, "target", Target(self.target))


@dataclass(frozen=True)
class Emergency(Body):
    """Play ``item`` now on every node of the zone, interrupting; valid until ``valid_until``.

    A node that (re)connects before ``valid_until`` and has not played it yet plays it then.
    """

    emergency_id: Id
    item: ScheduleItem
    valid_until: WireTime

    def __post_init__(self) -> None:
        _time(self, "valid_until", self.valid_until)
        if self.valid_until < self.item.start:
            raise Malformed("before the item's start", path="valid_until")
        if self.valid_until - self.item.start > MAX_EMERGENCY_VALIDITY:
            raise Malformed("an emergency valid for more than two days is not one", path="valid_until")


@dataclass(frozen=True)
class EmergencyClear(Body):
    """The zone's emergency ``emergency_id`` is over (retained, replacing it on the same topic)."""

    emergency_id: Id


@dataclass(frozen=True)
class DeviceConfig(Body):
    volume: Volume  # 0-100


@dataclass(frozen=True)
class DeviceState(Body):
    """What a device says of itself; retained. The last will is the same with ``online`` false."""

    OMIT_EMPTY = frozenset({"link_error"})

    device: Id
    kind: DeviceKindField
    online: bool
    zone: str | None = None
    volume: Volume | None = None
    applied: dict[str, Version] = field(default_factory=dict)  # target -> version applied (the ack)
    cache_items: Count = 0
    cache_bytes: Count = 0
    missing: tuple[str, ...] = ()  # sha256 of media the node needs but could not fetch yet
    playing: str | None = None  # item_id on air
    clock: WireTime | None = None  # the node's clock when it sent this (for the offset estimate)
    agent_version: str = ""
    # why the node's broker link last failed (a TLS certificate not trusted, a refused login), with
    # when: reported once the link is back. Optional; older centrals ignore it.
    link_error: str | None = None

    def __post_init__(self) -> None:
        if type(self.kind) is not DeviceKind:
            _set(self, "kind", DeviceKind(self.kind))
        if self.clock is not None:
            _time(self, "clock", self.clock)
        if len(self.agent_version) > 100:
            _set(self, "agent_version", self.agent_version[:100])
        if self.link_error is not None and len(self.link_error) > MAX_REASON_LEN:
            _set(self, "link_error", self.link_error[:MAX_REASON_LEN])


@dataclass(frozen=True)
class AsRunEvent(Body):
    """What actually happened to an item on a device. ``event_id`` makes re-sends idempotent."""

    event_id: Id
    device: Id
    item_id: Id
    announcement_id: Id
    kind: EventKindField
    scheduled: WireTime
    started: WireTime | None = None
    ended: WireTime | None = None
    reason: str = ""  # for the report and the log: bounded, whatever the node sent

    def __post_init__(self) -> None:
        if type(self.kind) is not EventKind:
            _set(self, "kind", EventKind(self.kind))
        _time(self, "scheduled", self.scheduled)
        if self.started is not None:
            _time(self, "started", self.started)
        if self.ended is not None:
            _time(self, "ended", self.ended)
        if len(self.reason) > MAX_REASON_LEN:
            _set(self, "reason", self.reason[:MAX_REASON_LEN])


@dataclass(frozen=True)
class Ack(Body):
    """One acknowledgement; unpacks as ``event_id, status, reason``."""

    event_id: Id
    status: AckStatusField
    reason: str = ""

    def __post_init__(self) -> None:
        if type(self.status) is not AckStatus:
            _set(self, "status", AckStatus(self.status))
        if len(self.reason) > MAX_REASON_LEN:
            _set(self, "reason", self.reason[:MAX_REASON_LEN])

    def __iter__(self) -> Any:
        return iter((self.event_id, self.status, self.reason))


if TYPE_CHECKING:
    AckItem = Ack | tuple[str, str, str]  # built from (event_id, status, reason) too; always Ack once built
else:
    AckItem = Ack


@dataclass(frozen=True)
class EventAck(Body):
    """The central's answer to as-run events: ``stored`` or ``duplicate`` (already stored: both mean
    the node may forget the event), or ``refused`` (never storable: the node drops it and logs why).
    An event the central could not store *yet* (store locked) gets no answer and is sent again."""

    device: Id
    acks: Annotated[tuple[AckItem, ...], msgspec.Meta(min_length=1, max_length=MAX_ACKS)]

    def __post_init__(self) -> None:
        if any(not isinstance(a, Ack) for a in self.acks):  # built from (event_id, status, reason) tuples
            _set(self, "acks", tuple(a if isinstance(a, Ack) else Ack(*a) for a in self.acks))


# The body of each message type: a new type gets its struct above and its line here.
BODIES: dict[MessageType, type[Body]] = {
    MessageType.SCHEDULE: Schedule,
    MessageType.DECK: Deck,
    MessageType.EMERGENCY: Emergency,
    MessageType.EMERGENCY_CLEAR: EmergencyClear,
    MessageType.CONFIG: DeviceConfig,
    MessageType.EVENT_ACK: EventAck,
    MessageType.STATE: DeviceState,
    MessageType.EVENT: AsRunEvent,
}
assert set(BODIES) == set(MessageType), "every message type has a body"


# --------------------------------------------------------------------------------------------
# decoding and encoding
# --------------------------------------------------------------------------------------------


def _dec_hook(typ: type, obj: Any) -> Any:
    if typ is Target:
        return Target(obj)  # a Malformed (ValueError) here becomes a ValidationError with its path
    raise NotImplementedError(typ)


def convert(obj: Any, typ: type, where: str = "$") -> Any:
    """``obj`` (decoded JSON) as ``typ``, or Malformed with the path of the first fault."""
    try:
        return msgspec.convert(obj, typ, dec_hook=_dec_hook)
    except msgspec.ValidationError as exc:
        raise malformed(exc, where) from None
    except Malformed as exc:  # raised by a top-level __post_init__: msgspec passes it through
        raise exc.located(topic=exc.topic, message_id=exc.message_id, prefix=where + "." if exc.path else where) from None


def malformed(exc: msgspec.ValidationError, where: str = "$") -> Malformed:
    """msgspec's "Expected `int`, got `str` - at `$.items[0].duration_ms`" as a Malformed."""
    text = str(exc)
    problem, sep, at = text.rpartition(" - at `")
    if not sep:
        problem, at = text, "$"
    path = where + at.rstrip("`").removeprefix("$")
    inner, colon, rest = problem.partition(": ")
    if colon and inner.replace("_", "").replace("[", "").replace("]", "").isalnum():  # "start: ..." from __post_init__
        return Malformed(rest, path=f"{path}.{inner}")
    return Malformed(problem, path=path)


def decode_body(msg_type: str, body: Any) -> Body:
    """An envelope's body as the struct of its type."""
    try:
        cls = BODIES[message_type(msg_type)]
    except ValueError:
        raise Malformed(f"unknown message type {msg_type!r}", path="$.type") from None
    if not isinstance(body, dict):
        raise Malformed(f"expected an object, got {type(body).__name__}", path="$.body")
    result: Body = convert(body, cls, "$.body")
    return result


_PLANS: dict[type, tuple[tuple[str, bool], ...]] = {}


def _plan(cls: type) -> tuple[tuple[str, bool], ...]:
    plan = _PLANS.get(cls)
    if plan is None:
        omit: frozenset[str] = getattr(cls, "OMIT_EMPTY", frozenset())
        plan = _PLANS[cls] = tuple((f.name, f.name in omit) for f in dataclasses.fields(cls))
    return plan


_PLAIN = frozenset({str, int, float, bool, type(None)})


def to_wire(obj: Any) -> Any:
    """A message struct (or anything inside one) as plain JSON values, in the v1 spelling."""
    if type(obj) in _PLAIN:  # most values: checked first, this runs for every field of every item
        return obj
    if isinstance(obj, Body):
        out = {}
        for name, omit_empty in _plan(type(obj)):
            value = getattr(obj, name)
            if omit_empty and not value:
                continue
            out[name] = value if type(value) in _PLAIN else to_wire(value)  # no call for a plain value
        return out
    if isinstance(obj, str):
        return str(obj)  # enums and Target: their wire string
    if isinstance(obj, datetime):
        return format_time(obj)
    if isinstance(obj, (tuple, list)):
        return [to_wire(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): to_wire(v) for k, v in obj.items()}
    if isinstance(obj, Enum):
        return obj.value
    return obj

"""The wire's words: every closed set of values, each defined once, and the one target type.

A priority, an as-run kind, a message type or a device kind is spelt here and nowhere else; other
modules (the planner, the agents, the store's CHECK constraint) take their order and their spelling
from these enums. They are ``StrEnum``s, so each member *is* its wire string: ``Priority.NORMAL ==
"normal"``, it keys a dict of strings and is written to JSON as is.

To add a priority: add a member in its place in precedence order (the first plays first). To add a
message type: add a ``MessageType`` member with its topic leaf, its sender and the scopes its topics
live under, then its body struct in ``messages.BODIES`` (docs/protocol.md, "Adding a message type").
"""

from __future__ import annotations

from enum import StrEnum

from broadcaster.wire.errors import Malformed


class Priority(StrEnum):
    """How urgent an announcement is (Thông tư 39/2020/TT-BTTTT levels), in precedence order."""

    EMERGENCY = "emergency"  # plays now, interrupts, even outside the broadcast windows
    PRIORITY = "priority"  # inside a window, before normal items
    NORMAL = "normal"

    @property
    def rank(self) -> int:
        """0 plays first: the order the members are declared in, the only rank order there is."""
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {p: n for n, p in enumerate(Priority)}
# the order people read them in (least urgent first), for messages and forms
PRIORITIES: tuple[str, ...] = tuple(p.value for p in reversed(Priority))


def priority_rank(value: str) -> int:
    """Rank of a priority spelt as a string; an unknown one sorts last (a node never trips on it)."""
    try:
        return Priority(value).rank
    except ValueError:
        return len(Priority)


class EventKind(StrEnum):
    """What happened to an item on a speaker (an as-run event)."""

    PLAYED = "played"
    INTERRUPTED = "interrupted"
    FAILED = "failed"
    MISSED = "missed"


class AckStatus(StrEnum):
    """The central's answer to an as-run event (``event_ack``)."""

    STORED = "stored"  # the node may forget the event
    DUPLICATE = "duplicate"  # already stored: the node may forget it too
    REFUSED = "refused"  # never storable: the node drops it and logs why


class DeviceKind(StrEnum):
    SPEAKER = "speaker"
    DISPLAY = "display"  # the reception TV


class Scope(StrEnum):
    """What a topic (and a desired-state target) is about: a zone of the ward, or one device."""

    ZONE = "zone"
    DEVICE = "device"


class Side(StrEnum):
    """Who sends a message type: only central messages are signed and opened by nodes."""

    CENTRAL = "central"
    DEVICE = "device"


class MessageType(StrEnum):
    """The envelope's ``type``; each member also says where it travels and who sends it."""

    leaf: str
    side: Side
    scopes: tuple[Scope, ...]

    def __new__(cls, value: str, leaf: str, side: Side, scopes: tuple[Scope, ...]) -> MessageType:
        member = str.__new__(cls, value)
        member._value_ = value
        member.leaf, member.side, member.scopes = leaf, side, scopes
        return member

    # central -> zone or device, retained: upcoming audio items
    SCHEDULE = ("schedule", "schedule", Side.CENTRAL, (Scope.ZONE, Scope.DEVICE))
    # central -> display device, retained: slides to cycle and announcement overlays
    DECK = ("deck", "deck", Side.CENTRAL, (Scope.DEVICE,))
    # central -> zone, retained while valid: play now, interrupt
    EMERGENCY = ("emergency", "emergency", Side.CENTRAL, (Scope.ZONE,))
    # central -> zone, retained: the emergency is over (replaces the emergency on the same topic)
    EMERGENCY_CLEAR = ("emergency_clear", "emergency", Side.CENTRAL, (Scope.ZONE,))
    # central -> device, retained: volume and other per-device settings
    CONFIG = ("config", "config", Side.CENTRAL, (Scope.DEVICE,))
    # central -> device, not retained: which as-run events the central has stored (or refused). A
    # node keeps each event until it is acknowledged here. Older nodes never subscribe to it; older
    # centrals never send it (nodes then re-send with a growing delay).
    EVENT_ACK = ("event_ack", "ack", Side.CENTRAL, (Scope.DEVICE,))
    # device -> central, retained, also the last will: online/offline and health
    STATE = ("state", "state", Side.DEVICE, (Scope.DEVICE,))
    # device -> central: as-run event (played, interrupted, failed, missed)
    EVENT = ("event", "events", Side.DEVICE, (Scope.DEVICE,))


_TYPE_BY_VALUE: dict[str, MessageType] = {t.value: t for t in MessageType}


def message_type(value: str) -> MessageType:
    """The member for an envelope's ``type``; ValueError if there is none."""
    try:
        return _TYPE_BY_VALUE[value]
    except (KeyError, TypeError):
        raise ValueError(f"unknown message type {value!r}") from None


CENTRAL_TYPES = frozenset(t for t in MessageType if t.side is Side.CENTRAL)
DEVICE_TYPES = frozenset(t for t in MessageType if t.side is Side.DEVICE)


class Target(str):
    """What a desired state is for: ``zone/<id>`` or ``device/<id>``, parsed and printed here only.

    A ``str`` (its wire spelling), so it keys the nodes' and the store's maps as it always did. The
    TV's deck is ``device/<id>`` on the wire, in the store and in a node's ``applied`` alike.
    """

    __slots__ = ()

    def __new__(cls, value: str) -> Target:
        if isinstance(value, Target):
            return value
        if not isinstance(value, str):
            raise Malformed("expected a target string, zone/<id> or device/<id>")
        scope, sep, ident = value.partition("/")
        if not sep or scope not in Scope.__members__.values() or not _segment_ok(ident):
            raise Malformed(f"{value[:80]!r} is not a target: expected zone/<id> or device/<id>")
        return super().__new__(cls, value)

    @classmethod
    def zone(cls, zone: str) -> Target:
        return cls(f"{Scope.ZONE}/{zone}")

    @classmethod
    def device(cls, device: str) -> Target:
        return cls(f"{Scope.DEVICE}/{device}")

    @property
    def scope(self) -> Scope:
        return Scope(self.partition("/")[0])

    @property
    def id(self) -> str:
        return self.partition("/")[2]


MAX_ID_LEN = 200
_BAD_ID_CHARS = frozenset("/+#") | {chr(c) for c in range(0x21)}


def _segment_ok(ident: str) -> bool:
    return 0 < len(ident) <= MAX_ID_LEN and not any(c in _BAD_ID_CHARS or c.isspace() for c in ident)


def is_id(value: str) -> bool:
    """An identifier on the wire: 1-200 characters, no spaces, control characters, / or MQTT wildcards."""
    return _segment_ok(value)

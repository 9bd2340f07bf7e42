"""The wire contract's older flat names, kept for the callers written before ``broadcaster.wire``.

New code imports from ``broadcaster.wire`` (docs/protocol.md): the vocabulary, topics, times,
message structs, envelope and trust each live there in a module of their own. This module only
re-exports them under the names they had here, with two differences kept for old callers: an
``emergency_clear`` body is returned as a plain dict, and the message-type constants are the
``MessageType`` members (each equal to its string, so ``env.type == T_DECK`` still reads the same).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from broadcaster.errors import ClockSkewError, ProtocolError, SignatureError
from broadcaster.wire.envelope import (
    MAX_PAYLOAD_BYTES,
    PROTOCOL_VERSION,
    Envelope,
    canonical_json,
    decode,
    make_envelope,
)
from broadcaster.wire.messages import (
    BODIES,
    MAX_DURATION_MS,
    MAX_ITEM_SLIDES,
    MAX_ITEMS,
    MAX_MEDIA_BYTES,
    MAX_REASON_LEN,
    MAX_VERSION,
    AsRunEvent,
    Deck,
    DeckSlide,
    DeviceConfig,
    DeviceState,
    Emergency,
    EmergencyClear,
    EventAck,
    MediaRef,
    Schedule,
    ScheduleItem,
    decode_body,
)
from broadcaster.wire.times import MAX_YEAR, MIN_YEAR, parse_time, utc_now
from broadcaster.wire.times import format_time as fmt_time
from broadcaster.wire.topics import TOPIC_ROOT, Topics
from broadcaster.wire.trust import (
    ReplayGuard,
    Signer,
    Verifier,
    generate_keypair,
    open_central,
)
from broadcaster.wire.vocabulary import (
    CENTRAL_TYPES,
    DEVICE_TYPES,
    MAX_ID_LEN,
    PRIORITIES,
    AckStatus,
    EventKind,
    MessageType,
    Priority,
)

__all__ = [
    "PROTOCOL_VERSION", "MAX_ID_LEN", "MAX_VERSION", "MAX_DURATION_MS", "MAX_MEDIA_BYTES", "MAX_ITEMS", "MAX_REASON_LEN",
    "MAX_ITEM_SLIDES", "MAX_PAYLOAD_BYTES", "MIN_YEAR", "MAX_YEAR", "TOPIC_ROOT", "Priority", "PRIORITIES", "EventKind",
    "EVENT_KINDS", "T_SCHEDULE", "T_DECK", "T_EMERGENCY", "T_EMERGENCY_CLEAR", "T_CONFIG", "T_STATE", "T_EVENT",
    "T_EVENT_ACK", "CENTRAL_TYPES", "DEVICE_TYPES", "TOPIC_LEAF", "Topics", "utc_now", "fmt_time", "parse_time",
    "MediaRef", "ScheduleItem", "Schedule", "DeckSlide", "Deck", "Emergency", "DeviceConfig", "DeviceState",
    "AsRunEvent", "ACK_STATUSES", "EventAck", "BODY_TYPES", "parse_body", "Envelope", "canonical_json",
    "make_envelope", "decode", "Signer", "Verifier", "generate_keypair", "ReplayGuard", "open_envelope",
    "ProtocolError", "SignatureError", "ClockSkewError",
]

EVENT_KINDS: tuple[str, ...] = tuple(k.value for k in EventKind)
ACK_STATUSES: tuple[str, ...] = tuple(s.value for s in AckStatus)

# typed ``str``, as they always were: a caller's dict keyed by them is keyed by strings
T_SCHEDULE: str = MessageType.SCHEDULE
T_DECK: str = MessageType.DECK
T_EMERGENCY: str = MessageType.EMERGENCY
T_EMERGENCY_CLEAR: str = MessageType.EMERGENCY_CLEAR
T_CONFIG: str = MessageType.CONFIG
T_STATE: str = MessageType.STATE
T_EVENT: str = MessageType.EVENT
T_EVENT_ACK: str = MessageType.EVENT_ACK
TOPIC_LEAF: dict[str, str] = {t: t.leaf for t in MessageType}
BODY_TYPES: dict[str, type] = {t: cls for t, cls in BODIES.items() if t is not MessageType.EMERGENCY_CLEAR}


def _old_shape(body: Any) -> Any:
    return {"emergency_id": body.emergency_id} if isinstance(body, EmergencyClear) else body


def parse_body(msg_type: str, body: Any) -> Any:
    """An envelope body as its struct (``emergency_clear`` as a dict, as it always was here)."""
    return _old_shape(decode_body(msg_type, body))


def open_envelope(
    payload: bytes,
    topic: str,
    verifier: Verifier,
    guard: ReplayGuard,
    *,
    ward: str,
    now: datetime | None = None,
) -> tuple[Envelope, Any] | None:
    """``broadcaster.wire.trust.open_central``, with an ``emergency_clear`` body as a dict."""
    opened = open_central(payload, topic, verifier, guard, ward=ward, now=now)
    if opened is None:
        return None
    return opened.envelope, _old_shape(opened.body)

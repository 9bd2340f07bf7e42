"""The v1 envelope: what every message travels in, its canonical bytes, and reading it off the wire.

``{"v", "type", "id", "ward", "topic", "sender", "seq", "issued_at", "expires_at", "body", "sig"}``.
``topic`` is the topic the message is meant for, inside the signature: a genuine message
re-published on another zone's or device's topic is refused (``trust``). The signature covers the
canonical JSON of everything but ``sig``: sorted keys, no spaces, UTF-8 (Vietnamese kept as is).

A decoded envelope keeps ``received``, the canonical bytes of the object *as received* minus
``sig``: the signature is checked over these, not over a re-encoding, so a sender whose encoder
spells times otherwise (microseconds, ``+07:00``), orders keys or spaces differently still verifies.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, make_dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec

from broadcaster.wire.errors import Malformed, Misdirected, TooLarge, WrongVersion
from broadcaster.wire.messages import (
    BODIES,
    MAX_VERSION,
    Body,
    _dec_hook,
    convert,
    decode_body,
)
from broadcaster.wire.times import WireTime, checked, format_time, utc_now
from broadcaster.wire.vocabulary import MessageType

PROTOCOL_VERSION = 1
MAX_PAYLOAD_BYTES = 1024 * 1024  # the broker's max_packet_size; larger never reaches a parser


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
    topic: str = ""
    # For a decoded, signed message: the canonical bytes of the object as received minus "sig", and
    # that object (for ``canonical_bytes_strict``).
    received: bytes | None = field(default=None, compare=False, repr=False)
    received_obj: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    def signed_bytes(self) -> bytes:
        """What the signature covers: the received object minus ``sig``, or this envelope's own fields."""
        return self.received if self.received is not None else canonical_json(self.unsigned_dict())

    def canonical_bytes_strict(self) -> bytes | None:
        """The received object's canonical bytes spelt by Python's ``json`` (the definition), when
        they differ from ``signed_bytes`` (only for floats below 1e-4 or from 1e16); None when the same."""
        if self.received_obj is None:
            return None
        strict = canonical_json(self.received_obj)
        return None if strict == self.received else strict

    def unsigned_dict(self) -> dict[str, Any]:
        return {
            "v": self.v,
            "type": str(self.type),
            "id": self.id,
            "ward": self.ward,
            "topic": self.topic,
            "sender": self.sender,
            "seq": self.seq,
            "issued_at": format_time(self.issued_at),
            "expires_at": format_time(self.expires_at) if self.expires_at else None,
            "body": self.body,
        }

    def to_bytes(self) -> bytes:
        """The message as sent. Receivers check the signature over their own canonical form of what
        they receive, so this need not be that form; it is (sorted, compact), written by msgspec."""
        d = self.unsigned_dict()
        if self.sig is not None:
            d["sig"] = self.sig
        return fast_canonical_json(d)


def canonical_json(obj: Any) -> bytes:
    """The exact bytes that are signed: sorted keys, no spaces, UTF-8 (Vietnamese kept as is).

    Python's ``json`` spelling, the one every v1 central and node uses: it is the definition."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


_encode_sorted = msgspec.json.Encoder(order="sorted").encode


def fast_canonical_json(obj: Any) -> bytes:
    """``canonical_json`` by msgspec, several times faster: the same bytes for everything but a float
    Python writes in exponent form, below 1e-4 or from 1e16 (json ``1e-05``, ``1e+16``; msgspec
    ``0.00001``, ``1e16``); the verifier checks such a message again over the definition (``trust``)."""
    return _encode_sorted(obj)


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
        type=str(msg_type), ward=ward, topic=topic, sender=sender, body=body, seq=seq, issued_at=now,
        expires_at=now + ttl if ttl else None,
    )


@dataclass(frozen=True)
class _Head:
    """The envelope's fields as the wire carries them (``body`` is decoded by its type later)."""

    v: int
    type: str
    id: str
    ward: str
    sender: str
    seq: int
    issued_at: WireTime
    body: dict[str, Any]
    expires_at: WireTime | None = None
    topic: str | None = None
    sig: str | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.seq <= MAX_VERSION:
            raise Malformed(f"{self.seq} is out of range", path="seq")
        object.__setattr__(self, "issued_at", checked(self.issued_at, "issued_at"))
        if self.expires_at is not None:
            object.__setattr__(self, "expires_at", checked(self.expires_at, "expires_at"))


_decode_json = msgspec.json.Decoder().decode

_TYPED: dict[type, msgspec.json.Decoder[Any]] = {}


def _typed_decoder(body_type: type) -> msgspec.json.Decoder[Any]:
    """A decoder for a whole envelope whose body is ``body_type``: one pass over the bytes."""
    dec = _TYPED.get(body_type)
    if dec is None:
        head = make_dataclass(f"_Head_{body_type.__name__}", [("body", body_type)], bases=(_Head,), frozen=True)
        dec = _TYPED[body_type] = msgspec.json.Decoder(head, dec_hook=_dec_hook)
    return dec


def decode_device(payload: bytes, topic: str, msg_type: MessageType) -> tuple[Envelope, Body]:
    """An unsigned message of ``msg_type`` (a device's state or event) with its body, in one pass.

    The central's ingest reads every node's acknowledgement: this spares it the generic decode and
    the two conversions after it. A message that does not decode so is decoded the generic way, to
    be refused for what is really wrong with it (another type, a bad envelope, a bad body)."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise TooLarge(len(payload), MAX_PAYLOAD_BYTES, topic=topic)
    try:
        head = _typed_decoder(BODIES[msg_type]).decode(payload)
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError, RecursionError, ValueError):
        head = None
    if head is None or head.v != PROTOCOL_VERSION or head.type != msg_type:
        env = decode(payload, topic)
        if env.type != msg_type:
            raise Misdirected(f"has type {env.type!r} where {str(msg_type)!r} belongs", topic=topic, message_id=env.id)
        try:
            return env, decode_body(msg_type, env.body)
        except Malformed as exc:
            raise exc.located(topic=topic, message_id=env.id) from None
    env = Envelope(
        v=head.v, type=head.type, id=head.id, ward=head.ward, topic=head.topic or "", sender=head.sender, seq=head.seq,
        issued_at=head.issued_at, expires_at=head.expires_at, body={}, sig=head.sig,
    )
    return env, head.body


def decode(payload: bytes, topic: str = "?") -> Envelope:
    """Bytes from the broker as an Envelope. Raises Malformed (a ProtocolError) naming topic and field."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise TooLarge(len(payload), MAX_PAYLOAD_BYTES, topic=topic)
    try:
        d = _decode_json(payload)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise Malformed(f"not UTF-8 JSON ({exc})", topic=topic) from None
    except (msgspec.ValidationError, RecursionError):  # an integer of thousands of digits, nested too deep
        raise Malformed("JSON nested too deep or with an absurd number", topic=topic) from None
    if not isinstance(d, dict):
        raise Malformed("expected a JSON object", topic=topic)
    message_id = str(d.get("id", "?"))[:80]
    if d.get("v") != PROTOCOL_VERSION:
        raise WrongVersion(d.get("v"), PROTOCOL_VERSION, topic=topic, message_id=message_id)
    try:
        head: _Head = convert(d, _Head)
    except Malformed as exc:
        raise exc.located(topic=topic, message_id=message_id) from None
    # Only a signed message needs what was received in canonical form (device messages are not signed).
    unsigned = {k: val for k, val in d.items() if k != "sig"} if head.sig is not None else None
    return Envelope(
        v=head.v, type=head.type, id=head.id, ward=head.ward, topic=head.topic or "", sender=head.sender, seq=head.seq,
        issued_at=head.issued_at, expires_at=head.expires_at, body=head.body, sig=head.sig,
        received=fast_canonical_json(unsigned) if unsigned is not None else None, received_obj=unsigned,
    )

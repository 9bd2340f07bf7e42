"""Whether to believe a central message: signature, topic, expiry, clock skew, replay.

Only the central holds the ward's Ed25519 private key (``Signer``); nodes hold the public key
(``Verifier``). A node believes a message when, in this order:

1. it is for this ward and of a type the central sends, on a topic its type travels on;
2. its signature matches the object as received minus ``sig`` (``Envelope.signed_bytes``);
3. it was signed for the topic it arrived on (not re-published elsewhere);
4. it has not expired, and is not issued beyond this device's clock plus ``max_clock_skew``;
5. its ``seq`` is above the last one accepted on that stream (``ReplayGuard``).

Only then is its body decoded into its struct: an unverified body costs a node nothing but the
signature check. Each refusal is its own exception (``broadcaster.wire.errors``).
"""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from broadcaster.wire.envelope import Envelope, canonical_json, decode
from broadcaster.wire.errors import (
    Expired,
    Forged,
    FromTheFuture,
    Malformed,
    Misdirected,
    Relayed,
    Replayed,
    SignatureError,
    Unsigned,
)
from broadcaster.wire.messages import Body, decode_body
from broadcaster.wire.times import format_time, utc_now
from broadcaster.wire.vocabulary import CENTRAL_TYPES, message_type

MAX_CLOCK_SKEW = timedelta(minutes=10)


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
            raise Unsigned(topic=topic, message_id=env.id)
        try:
            sig = base64.b64decode(env.sig, validate=True)
        except (ValueError, TypeError):
            raise Forged(topic=topic, message_id=env.id) from None
        try:
            self._key.verify(sig, env.signed_bytes())
            return
        except InvalidSignature:
            pass
        # The fast canonical form differs from the definition only for floats Python writes with an exponent:
        # a message holding one is checked again over the definition's bytes.
        strict = env.canonical_bytes_strict()
        try:
            if strict is None:
                raise InvalidSignature
            self._key.verify(sig, strict)
        except InvalidSignature:
            raise Forged(topic=topic, message_id=env.id) from None


def generate_keypair() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as (private PEM, public PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    priv = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return priv, pub


class ReplayGuard:
    """Per-stream memory of the highest ``seq`` accepted, so an old signed message cannot be replayed.

    A stream is (sender, topic). The same message delivered twice (a retained message after a
    reconnect) is a duplicate, not an attack: ``check`` returns False for it and the caller ignores
    it quietly. A *different* message with a seq not above the last one is a replay and raises.
    Agents persist ``snapshot()`` on disk so the guard survives a reboot.
    """

    def __init__(self, state: dict[str, list[Any]] | None = None, max_clock_skew: timedelta = MAX_CLOCK_SKEW) -> None:
        self._last: dict[str, tuple[int, str]] = {k: (int(v[0]), str(v[1])) for k, v in (state or {}).items()}
        self.max_clock_skew = max_clock_skew

    def check(self, env: Envelope, topic: str, now: datetime | None = None) -> bool:
        now = now or utc_now()
        if env.expires_at is not None and env.expires_at < now:
            raise Expired(env.expires_at, format_time(env.expires_at), topic=topic, message_id=env.id)
        if env.issued_at > now + self.max_clock_skew:
            raise FromTheFuture(env.issued_at, format_time(env.issued_at), topic=topic, message_id=env.id)
        key = f"{env.sender}|{topic}"
        last = self._last.get(key)
        if last is not None:
            last_seq, last_id = last
            if env.seq == last_seq and env.id == last_id:
                return False
            if env.seq <= last_seq:
                raise Replayed(env.seq, last_seq, topic=topic, message_id=env.id)
        self._last[key] = (env.seq, env.id)
        return True

    def snapshot(self) -> dict[str, list[Any]]:
        return {k: [s, i] for k, (s, i) in self._last.items()}


class Opened(NamedTuple):
    envelope: Envelope
    body: Body


def open_central(
    payload: bytes,
    topic: str,
    verifier: Verifier,
    guard: ReplayGuard,
    *,
    ward: str,
    now: datetime | None = None,
) -> Opened | None:
    """Everything a node does with a central message: decode, check, verify, guard, then parse.

    Returns (envelope, body struct), or None for a harmless duplicate. Raises a ProtocolError
    subclass naming the cause for anything to refuse; the message then changes nothing.
    """
    env = decode(payload, topic)
    if env.ward != ward:
        raise Misdirected(f"is for ward {env.ward!r}, this device belongs to {ward!r}", topic=topic, message_id=env.id)
    if env.type not in CENTRAL_TYPES:
        raise Misdirected(f"has type {env.type!r}, not one the central sends", topic=topic, message_id=env.id)
    msg_type = message_type(env.type)
    if topic.rsplit("/", 1)[-1] != msg_type.leaf:
        raise Misdirected(f"is a {env.type} message, which does not belong on {topic}: refused", topic=topic, message_id=env.id)
    verifier.verify(env, topic)
    if env.topic != topic:
        raise Relayed(env.topic, topic=topic, message_id=env.id)
    if not guard.check(env, topic, now):
        return None
    try:
        body = decode_body(msg_type, env.body)
    except Malformed as exc:
        raise exc.located(topic=topic, message_id=env.id) from None
    return Opened(env, body)

"""Trust: each refusal is its own exception with its context; a message signed by an independent
encoder verifies; any altered byte of what it says does not."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from broadcaster.wire import errors as E
from broadcaster.wire.envelope import (
    PROTOCOL_VERSION,
    canonical_json,
    decode,
    make_envelope,
)
from broadcaster.wire.messages import DeviceConfig, MediaRef, Schedule, ScheduleItem
from broadcaster.wire.topics import Topics
from broadcaster.wire.trust import (
    ReplayGuard,
    Signer,
    Verifier,
    generate_keypair,
    open_central,
)
from broadcaster.wire.vocabulary import MessageType, Priority, Target

UTC = timezone.utc
NOW = datetime(2026, 12, 1, 10, 0, 0, 123000, tzinfo=UTC)
WARD = "p1-quangtri"
T = Topics(WARD)
MEDIA = MediaRef(url="http://127.0.0.1:8750/media/" + "a" * 64 + ".mp3", sha256="a" * 64, size=1234)


@pytest.fixture(scope="module")
def pair() -> tuple[bytes, Verifier]:
    priv, pub = generate_keypair()
    return priv, Verifier(pub)


def _signed(priv: bytes, msg_type: MessageType, body: dict[str, Any], topic: str, *, seq: int = 5, now: datetime = NOW,
            ttl: timedelta | None = timedelta(hours=1)) -> bytes:
    env = make_envelope(msg_type, body, ward=WARD, sender="central", seq=seq, ttl=ttl, now=now, topic=topic)
    return Signer(priv).sign(env).to_bytes()


def test_each_cause_has_its_exception_with_context(pair: tuple[bytes, Verifier]) -> None:
    priv, verifier = pair
    topic = T.device_config("kp1-loa1")
    good = _signed(priv, MessageType.CONFIG, DeviceConfig(50).to_body(), topic, seq=10)

    with pytest.raises(E.Expired) as expired:
        open_central(good, topic, verifier, ReplayGuard(), ward=WARD, now=NOW + timedelta(hours=2))
    assert expired.value.expires_at == NOW + timedelta(hours=1) and expired.value.topic == topic
    assert isinstance(expired.value, E.SignatureError) and isinstance(expired.value, ValueError)

    with pytest.raises(E.FromTheFuture) as future:
        open_central(good, topic, verifier, ReplayGuard(), ward=WARD, now=NOW - timedelta(hours=1))
    assert future.value.issued_at == NOW and isinstance(future.value, E.ClockSkewError)

    guard = ReplayGuard()
    assert open_central(good, topic, verifier, guard, ward=WARD, now=NOW) is not None
    assert open_central(good, topic, verifier, guard, ward=WARD, now=NOW) is None  # the same one again: a duplicate
    older = _signed(priv, MessageType.CONFIG, DeviceConfig(60).to_body(), topic, seq=9)
    with pytest.raises(E.Replayed) as replayed:
        open_central(older, topic, verifier, guard, ward=WARD, now=NOW)
    assert (replayed.value.seq, replayed.value.last_seq) == (9, 10)

    with pytest.raises(E.Forged) as forged:
        open_central(good.replace(b'"volume":50', b'"volume":90'), topic, verifier, ReplayGuard(), ward=WARD, now=NOW)
    assert forged.value.message_id == json.loads(good)["id"]

    unsigned = make_envelope(MessageType.CONFIG, DeviceConfig(50).to_body(), ward=WARD, sender="central", seq=11, now=NOW,
                             topic=topic).to_bytes()
    with pytest.raises(E.Unsigned):
        open_central(unsigned, topic, verifier, ReplayGuard(), ward=WARD, now=NOW)

    other = T.device_config("kp2-loa1")
    with pytest.raises(E.Relayed) as relayed:
        open_central(_signed(priv, MessageType.CONFIG, {"volume": 5}, other), topic, verifier, ReplayGuard(), ward=WARD, now=NOW)
    assert relayed.value.signed_for == other

    with pytest.raises(E.Misdirected, match="ward"):
        open_central(good, topic, verifier, ReplayGuard(), ward="p2", now=NOW)
    with pytest.raises(E.Misdirected, match="does not belong on"):
        open_central(good, T.device_schedule("kp1-loa1"), verifier, ReplayGuard(), ward=WARD, now=NOW)


def test_malformed_names_the_field_path(pair: tuple[bytes, Verifier]) -> None:
    priv, verifier = pair
    topic = T.zone_schedule("kp1")
    item = ScheduleItem("a.kp1.1", "a", "Tiêu đề", Priority.NORMAL, NOW, 1000, MEDIA).to_body()
    sched = Schedule(Target.zone("kp1"), 7, (), NOW + timedelta(hours=1)).to_body()
    cases = [
        ({**sched, "items": [item, {**item, "duration_ms": "43"}]}, "$.body.items[1].duration_ms", "Expected `int`, got `str`"),
        ({**sched, "items": [{**item, "start": "0001-01-01T00:00:00Z"}]}, "$.body.items[0].start", "outside the years"),
        ({**sched, "items": [{**item, "priority": "urgent"}]}, "$.body.items[0].priority", "urgent"),
        ({**sched, "items": [{**item, "media": {**item["media"], "url": "file:///etc/passwd"}}]}, "$.body.items[0].media.url", "regex"),
        ({**sched, "target": "deck/tv"}, "$.body.target", "not a target"),
        ({**sched, "version": 10**30}, "$.body.version", "<= 9007199254740991"),
    ]
    for body, path, words in cases:
        with pytest.raises(E.Malformed) as err:
            open_central(_signed(priv, MessageType.SCHEDULE, body, topic), topic, verifier, ReplayGuard(), ward=WARD, now=NOW)
        assert err.value.path == path and words in err.value.problem and err.value.topic == topic, (path, str(err.value))
        assert path in str(err.value)


# -- an independent encoder ----------------------------------------------------------------


def _independent(priv: bytes, d: dict[str, Any], *, indent: int | None, reverse: bool, ascii_only: bool) -> bytes:
    """A sender with an encoder of its own: signs the canonical form of its object, sends it with
    another key order, whitespace and escaping."""
    key = load_pem_private_key(priv, password=None)
    sig = base64.b64encode(key.sign(canonical_json(d))).decode("ascii")  # type: ignore[union-attr, call-arg]

    def order(o: Any) -> Any:
        if isinstance(o, dict):
            return {k: order(o[k]) for k in sorted(o, reverse=reverse)}
        return [order(x) for x in o] if isinstance(o, list) else o

    return json.dumps(order({**d, "sig": sig}), indent=indent, ensure_ascii=ascii_only).encode("utf-8")


SPELLINGS = [
    ("2026-12-01T10:00:00.123456Z", "2026-12-01T10:30:00Z"),
    ("2026-12-01T10:00:00.123+00:00", "2026-12-01T10:30:00.000000+00:00"),
    ("2026-12-01T17:00:00.1+07:00", "2026-12-01t17:30:00+07:00"),
    ("2026-12-01 10:00:00Z", "2026-12-01T03:30:00-07:00"),
]


def _schedule_object(issued: str, start: str) -> dict[str, Any]:
    topic = T.zone_schedule("kp1")
    item = {**ScheduleItem("a.kp1.1", "a", "Thông báo «tiêm chủng»", Priority.PRIORITY, NOW, 61_500, MEDIA).to_body(), "start": start}
    return {"v": PROTOCOL_VERSION, "type": "schedule", "id": "ab12", "ward": WARD, "topic": topic, "sender": "central",
            "seq": 9, "issued_at": issued, "expires_at": None,
            "body": {"target": "zone/kp1", "version": 3, "horizon": "2026-12-03T10:00:00+07:00", "items": [item]}}


@pytest.mark.parametrize("issued,start", SPELLINGS)
@pytest.mark.parametrize("indent,reverse,ascii_only", [(None, False, False), (2, True, True), (4, False, True)])
def test_an_independent_encoder_verifies(pair: tuple[bytes, Verifier], issued: str, start: str, indent: int | None,
                                         reverse: bool, ascii_only: bool) -> None:
    priv, verifier = pair
    d = _schedule_object(issued, start)
    got = open_central(_independent(priv, d, indent=indent, reverse=reverse, ascii_only=ascii_only), d["topic"], verifier,
                       ReplayGuard(), ward=WARD, now=NOW)
    assert got is not None
    sched = got.body
    assert isinstance(sched, Schedule)
    assert sched.items[0].start == datetime(2026, 12, 1, 10, 30, tzinfo=UTC) and sched.items[0].start.tzinfo is UTC
    assert sched.horizon == datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
    assert got.envelope.issued_at.replace(microsecond=0) == NOW.replace(microsecond=0)


def test_any_altered_byte_of_content_is_refused(pair: tuple[bytes, Verifier]) -> None:
    """Every single-byte change of an independently encoded message is refused, unless it only
    changes insignificant whitespace (then what is signed is exactly what it was)."""
    priv, verifier = pair
    d = _schedule_object(*SPELLINGS[2])
    payload = _independent(priv, d, indent=1, reverse=True, ascii_only=False)
    signed = decode(payload, d["topic"]).signed_bytes()
    accepted_changes = 0
    for i in range(len(payload)):
        for new in {payload[i] ^ 0x01, ord(" ") if payload[i] != 0x20 else ord("\n")}:
            altered = payload[:i] + bytes([new]) + payload[i + 1:]
            try:
                got = open_central(altered, d["topic"], verifier, ReplayGuard(), ward=WARD, now=NOW)
            except E.ProtocolError:
                continue
            assert got is not None and got.envelope.signed_bytes() == signed, f"byte {i} changed to {new!r} was accepted"
            accepted_changes += 1
    assert accepted_changes > 0  # whitespace between tokens does not count: the test can tell the two apart


def test_the_central_still_writes_milliseconds_and_z(pair: tuple[bytes, Verifier]) -> None:
    """What nodes older than verification-over-what-was-received re-encode: the envelope's times."""
    priv, _ = pair
    raw = json.loads(_signed(priv, MessageType.CONFIG, {"volume": 5}, T.device_config("kp1-loa1"),
                             now=datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=UTC)))
    assert raw["issued_at"] == "2026-12-01T10:00:00.123Z" and raw["expires_at"] == "2026-12-01T11:00:00.123Z"


def test_a_float_in_exponent_form_still_verifies(pair: tuple[bytes, Verifier]) -> None:
    """The fast canonical form (msgspec) spells 5e-05 as 0.00005; the definition (Python's json) decides."""
    from broadcaster.wire.messages import Deck, DeckSlide

    priv, verifier = pair
    topic = T.device_deck("tv")
    slide = MediaRef(url="http://h/s.png", sha256="b" * 64, size=9, type="image/png")
    body = Deck(Target.device("tv"), 3, (DeckSlide("s", slide, 0.00005), DeckSlide("t", slide, 1e-3))).to_body()
    payload = _signed(priv, MessageType.DECK, body, topic)
    env = decode(payload, topic)
    assert env.canonical_bytes_strict() is not None  # the two spellings differ here
    got = open_central(payload, topic, verifier, ReplayGuard(), ward=WARD, now=NOW)
    assert got is not None and isinstance(got.body, Deck) and got.body.slides[0].duration_s == 0.00005
    with pytest.raises(E.Forged):
        open_central(payload.replace(b'"slide_id":"t"', b'"slide_id":"u"'), topic, verifier, ReplayGuard(), ward=WARD, now=NOW)


def test_device_messages_decode_in_one_pass_and_are_refused_for_what_is_wrong() -> None:
    from broadcaster.wire.envelope import decode_device
    from broadcaster.wire.messages import AsRunEvent, DeviceState

    topic = T.device_state("kp1-loa1")
    st = DeviceState("kp1-loa1", "speaker", True, "kp1", 80, {"zone/kp1": 7}, clock=NOW)
    raw = make_envelope(MessageType.STATE, st.to_body(), ward=WARD, sender="kp1-loa1", seq=3, now=NOW, topic=topic).to_bytes()
    env, body = decode_device(raw, topic, MessageType.STATE)
    assert body == st and env.seq == 3 and env.issued_at == NOW and env.sig is None
    ev = AsRunEvent("e1", "kp1-loa1", "i1", "a1", "played", NOW).to_body()
    as_event = make_envelope(MessageType.EVENT, ev, ward=WARD, sender="kp1-loa1", seq=4, now=NOW, topic=topic).to_bytes()
    with pytest.raises(E.Misdirected, match="'event' where 'state' belongs"):
        decode_device(as_event, topic, MessageType.STATE)
    with pytest.raises(E.Malformed) as bad:
        decode_device(raw.replace(b'"volume":80', b'"volume":800'), topic, MessageType.STATE)
    assert bad.value.path == "$.body.volume"
    with pytest.raises(E.WrongVersion):
        decode_device(raw.replace(b'"v":1', b'"v":2'), topic, MessageType.STATE)
    with pytest.raises(E.Malformed):
        decode_device(b"\xff" + raw, topic, MessageType.STATE)

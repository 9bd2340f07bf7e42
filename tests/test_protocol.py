"""The wire contract: every message type round-trips through a signed envelope; refusals are refusals."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
import json
from typing import Any

import pytest

from broadcaster import protocol as p
from broadcaster.errors import ProtocolError, SignatureError

UTC = timezone.utc
NOW = datetime(2026, 12, 1, 10, 0, 0, 123000, tzinfo=UTC)
WARD = "p1-quangtri"
MEDIA = p.MediaRef(url="http://127.0.0.1:8750/media/" + "a" * 64 + ".mp3", sha256="a" * 64, size=1234)
SLIDE = p.MediaRef(url="http://127.0.0.1:8750/media/" + "b" * 64 + ".png", sha256="b" * 64, size=99, type="image/png")
ITEM = p.ScheduleItem("cchc.kp1.20261201T1000Z", "cchc", "Nộp hồ sơ trực tuyến", "normal", NOW, 43_000, MEDIA, SLIDE)
# a long announcement: its key-facts slide (SLIDE) and two continuations
CONT = tuple(p.MediaRef(url=f"http://127.0.0.1:8750/media/{c * 64}.png", sha256=c * 64, size=98 + n, type="image/png")
             for n, c in enumerate("cd"))
LONG = p.ScheduleItem("tiem.kp1.20261201T1000Z", "tiem", "Tiêm chủng", "normal", NOW, 95_000, MEDIA, SLIDE, (SLIDE, *CONT))


@pytest.fixture(scope="module")
def keys() -> tuple[p.Signer, p.Verifier]:
    priv, pub = p.generate_keypair()
    return p.Signer(priv), p.Verifier(pub)


BODIES: list[tuple[str, Any]] = [
    (p.T_SCHEDULE, p.Schedule("zone/kp1", 7, (ITEM,), NOW + timedelta(hours=48))),
    (p.T_DECK, p.Deck("device/tv-tnkq", 3, (p.DeckSlide("00-hotline", SLIDE, 15.0),), (ITEM,))),
    (p.T_DECK, p.Deck("device/tv-tnkq", 4, (p.DeckSlide("00-hotline", SLIDE, 15.0),), (ITEM, LONG))),
    (p.T_EMERGENCY, p.Emergency("bao-lu.kp1.20261201T1000Z", ITEM, NOW + timedelta(minutes=20))),
    (p.T_EMERGENCY, p.Emergency("bao-lu.kp1.20261201T1000Z", LONG, NOW + timedelta(minutes=20))),
    (p.T_CONFIG, p.DeviceConfig(volume=70)),
    (p.T_EVENT_ACK, p.EventAck("kp1-loa1", (("ev-1", "stored", ""), ("ev-2", "refused", "item of another zone")))),
]
DEVICE_BODIES: list[tuple[str, Any]] = [
    (p.T_STATE, p.DeviceState("kp1-loa1", "speaker", True, "kp1", 80, {"zone/kp1": 7}, 3, 4567, ("c" * 64,), None, NOW, "0.1.0")),
    (p.T_STATE, p.DeviceState("kp1-loa1", "speaker", True, "kp1", link_error="2026-12-01T09:00:00Z: TLS certificate not trusted")),
    (p.T_EVENT, p.AsRunEvent("ev-1", "kp1-loa1", ITEM.item_id, "cchc", "played", NOW, NOW, NOW + timedelta(seconds=43))),
    (p.T_EVENT, p.AsRunEvent("ev-2", "kp1-loa1", ITEM.item_id, "cchc", "failed", NOW, reason="media sha256 mismatch")),
]


TOPICS = p.Topics(WARD)
TOPIC_OF = {
    p.T_SCHEDULE: TOPICS.zone_schedule("kp1"),
    p.T_DECK: TOPICS.device_deck("tv-tnkq"),
    p.T_EMERGENCY: TOPICS.zone_emergency("kp1"),
    p.T_EMERGENCY_CLEAR: TOPICS.zone_emergency("kp1"),
    p.T_CONFIG: TOPICS.device_config("kp1-loa1"),
    p.T_EVENT_ACK: TOPICS.device_ack("kp1-loa1"),
    p.T_STATE: TOPICS.device_state("kp1-loa1"),
    p.T_EVENT: TOPICS.device_events("kp1-loa1"),
}


@pytest.mark.parametrize("msg_type,body", BODIES, ids=[f"{b[0]}-{n}" for n, b in enumerate(BODIES)])
def test_central_messages_round_trip_signed(keys: tuple[p.Signer, p.Verifier], msg_type: str, body: Any) -> None:
    signer, verifier = keys
    env = signer.sign(p.make_envelope(msg_type, body.to_body(), ward=WARD, sender="central", seq=5, ttl=timedelta(days=3), now=NOW, topic=TOPIC_OF[msg_type]))
    got = p.open_envelope(env.to_bytes(), TOPIC_OF[env.type], verifier, p.ReplayGuard(), ward=WARD, now=NOW)
    assert got is not None
    genv, gbody = got
    assert gbody == body and genv.seq == 5 and genv.type == msg_type and genv.expires_at == NOW + timedelta(days=3)


def test_emergency_clear_round_trip(keys: tuple[p.Signer, p.Verifier]) -> None:
    signer, verifier = keys
    env = signer.sign(p.make_envelope(p.T_EMERGENCY_CLEAR, {"emergency_id": "x"}, ward=WARD, sender="central", seq=1, now=NOW, topic=TOPIC_OF[p.T_EMERGENCY_CLEAR]))
    _, body = p.open_envelope(env.to_bytes(), TOPIC_OF[env.type], verifier, p.ReplayGuard(), ward=WARD, now=NOW)  # type: ignore[misc]
    assert body == {"emergency_id": "x"}


@pytest.mark.parametrize("msg_type,body", DEVICE_BODIES, ids=["state", "state-link-error", "played", "failed"])
def test_device_messages_round_trip(msg_type: str, body: Any) -> None:
    env = p.make_envelope(msg_type, body.to_body(), ward=WARD, sender=body.device, seq=1, now=NOW, topic=TOPIC_OF[msg_type])
    d = p.decode(env.to_bytes(), "t")
    assert p.parse_body(d.type, d.body) == body


def test_vietnamese_survives_canonical_json(keys: tuple[p.Signer, p.Verifier]) -> None:
    signer, _ = keys
    env = signer.sign(p.make_envelope(p.T_SCHEDULE, BODIES[0][1].to_body(), ward=WARD, sender="central", seq=1, now=NOW, topic=TOPIC_OF[p.T_SCHEDULE]))
    assert "Nộp hồ sơ trực tuyến".encode() in env.to_bytes()


def test_refusals(keys: tuple[p.Signer, p.Verifier]) -> None:
    signer, verifier = keys
    CFG = TOPIC_OF[p.T_CONFIG]
    body = p.DeviceConfig(50).to_body()
    good = signer.sign(p.make_envelope(p.T_CONFIG, body, ward=WARD, sender="central", seq=10, ttl=timedelta(hours=1), now=NOW, topic=TOPIC_OF[p.T_CONFIG]))
    # unsigned
    unsigned = p.make_envelope(p.T_CONFIG, body, ward=WARD, sender="central", seq=11, now=NOW, topic=TOPIC_OF[p.T_CONFIG])
    with pytest.raises(SignatureError, match="not signed"):
        p.open_envelope(unsigned.to_bytes(), CFG, verifier, p.ReplayGuard(), ward=WARD, now=NOW)
    # another key
    other = p.Signer(p.generate_keypair()[0]).sign(unsigned)
    with pytest.raises(SignatureError, match="does not match"):
        p.open_envelope(other.to_bytes(), CFG, verifier, p.ReplayGuard(), ward=WARD, now=NOW)
    # one byte altered
    raw = good.to_bytes().replace(b'"volume":50', b'"volume":90')
    with pytest.raises(SignatureError):
        p.open_envelope(raw, CFG, verifier, p.ReplayGuard(), ward=WARD, now=NOW)
    # expired
    with pytest.raises(SignatureError, match="expired"):
        p.open_envelope(good.to_bytes(), CFG, verifier, p.ReplayGuard(), ward=WARD, now=NOW + timedelta(hours=2))
    # other ward; device type from the central side
    with pytest.raises(ProtocolError, match="ward"):
        p.open_envelope(good.to_bytes(), CFG, verifier, p.ReplayGuard(), ward="p2", now=NOW)
    st = signer.sign(p.make_envelope(p.T_STATE, DEVICE_BODIES[0][1].to_body(), ward=WARD, sender="central", seq=12, now=NOW, topic=TOPIC_OF[p.T_STATE]))
    with pytest.raises(ProtocolError, match="not one the central sends"):
        p.open_envelope(st.to_bytes(), CFG, verifier, p.ReplayGuard(), ward=WARD, now=NOW)
    # replay: same message again is a harmless duplicate; an older seq is refused
    guard = p.ReplayGuard()
    older = signer.sign(p.make_envelope(p.T_CONFIG, body, ward=WARD, sender="central", seq=9, ttl=timedelta(hours=1), now=NOW, topic=TOPIC_OF[p.T_CONFIG]))
    assert p.open_envelope(good.to_bytes(), CFG, verifier, guard, ward=WARD, now=NOW) is not None
    assert p.open_envelope(good.to_bytes(), CFG, verifier, guard, ward=WARD, now=NOW) is None
    with pytest.raises(SignatureError, match="replay"):
        p.open_envelope(older.to_bytes(), CFG, verifier, guard, ward=WARD, now=NOW)
    # the guard survives a reboot through its snapshot
    with pytest.raises(SignatureError, match="replay"):
        p.open_envelope(older.to_bytes(), CFG, verifier, p.ReplayGuard(guard.snapshot()), ward=WARD, now=NOW)
    with pytest.raises(ProtocolError):
        p.decode(b"not json", "t")


def test_a_genuine_message_is_refused_on_another_topic(keys: tuple[p.Signer, p.Verifier]) -> None:
    """Signed for one zone or device, re-published on another's topic: refused, whatever its type."""
    signer, verifier = keys
    em = signer.sign(p.make_envelope(p.T_EMERGENCY, BODIES[2][1].to_body(), ward=WARD, sender="central", seq=1, now=NOW,
                                     topic=TOPICS.zone_emergency("kp1")))
    with pytest.raises(SignatureError, match="signed for .*/zone/kp1/emergency but arrived on .*/zone/kp2/emergency"):
        p.open_envelope(em.to_bytes(), TOPICS.zone_emergency("kp2"), verifier, p.ReplayGuard(), ward=WARD, now=NOW)
    with pytest.raises(ProtocolError, match="does not belong on"):  # an emergency dressed as a schedule
        p.open_envelope(em.to_bytes(), TOPICS.zone_schedule("kp1"), verifier, p.ReplayGuard(), ward=WARD, now=NOW)
    cfg = signer.sign(p.make_envelope(p.T_CONFIG, {"volume": 5}, ward=WARD, sender="central", seq=2, now=NOW,
                                      topic=TOPICS.device_config("kp2-loa1")))
    with pytest.raises(SignatureError, match="arrived on"):
        p.open_envelope(cfg.to_bytes(), TOPICS.device_config("kp1-loa1"), verifier, p.ReplayGuard(), ward=WARD, now=NOW)
    # the topic is inside the signature: rewriting it breaks the signature
    moved = em.to_bytes().replace(b"/zone/kp1/emergency", b"/zone/kp2/emergency")
    with pytest.raises(SignatureError, match="does not match"):
        p.open_envelope(moved, TOPICS.zone_emergency("kp2"), verifier, p.ReplayGuard(), ward=WARD, now=NOW)


def test_topics() -> None:
    t = p.Topics(WARD)
    assert t.zone_schedule("kp1") == f"bc/v1/{WARD}/zone/kp1/schedule"
    assert t.parse(t.device_events("kp1-loa1")) == ("device", "kp1-loa1", "events")
    assert set(t.node_subscriptions("kp1-loa1", "kp1")) == {
        t.device_schedule("kp1-loa1"), t.device_deck("kp1-loa1"), t.device_config("kp1-loa1"),
        t.device_ack("kp1-loa1"), t.zone_schedule("kp1"), t.zone_emergency("kp1"),
    }
    with pytest.raises(ProtocolError):
        t.zone_schedule("kp/1")
    with pytest.raises(ProtocolError):
        t.parse("bc/v1/other/zone/kp1/schedule")


# -- signed but absurd bodies: a node does not trust its own central that far ----------------


def _absurd_cases() -> list[tuple[str, str, dict[str, Any]]]:
    item = ITEM.to_dict()
    sched = p.Schedule("zone/kp1", 7, (ITEM,), NOW + timedelta(hours=48)).to_body()
    em = p.Emergency("bao-lu.kp1.20261201T1000Z", ITEM, NOW + timedelta(minutes=20)).to_body()
    return [
        ("empty emergency id", p.T_EMERGENCY, {**em, "emergency_id": ""}),
        ("emergency id with spaces", p.T_EMERGENCY, {**em, "emergency_id": "a b"}),
        ("empty clear id", p.T_EMERGENCY_CLEAR, {"emergency_id": ""}),
        ("huge version", p.T_SCHEDULE, {**sched, "version": 10**30}),
        ("negative version", p.T_SCHEDULE, {**sched, "version": -1}),
        ("negative duration", p.T_SCHEDULE, {**sched, "items": [{**item, "duration_ms": -5}]}),
        ("day-long duration", p.T_SCHEDULE, {**sched, "items": [{**item, "duration_ms": 10**12}]}),
        ("file URL", p.T_SCHEDULE, {**sched, "items": [{**item, "media": {**item["media"], "url": "file:///etc/passwd"}}]}),
        ("negative size", p.T_SCHEDULE, {**sched, "items": [{**item, "media": {**item["media"], "size": -1}}]}),
        ("empty item id", p.T_SCHEDULE, {**sched, "items": [{**item, "item_id": ""}]}),
        ("year 1", p.T_SCHEDULE, {**sched, "items": [{**item, "start": "0001-01-01T00:00:00.000Z"}]}),
        ("emergency valid before it starts", p.T_EMERGENCY, {**em, "valid_until": p.fmt_time(NOW - timedelta(minutes=1))}),
        ("emergency valid for a year", p.T_EMERGENCY, {**em, "valid_until": p.fmt_time(NOW + timedelta(days=365))}),
        ("21 slides", p.T_SCHEDULE, {**sched, "items": [{**item, "slides": [item["slide"]] * (p.MAX_ITEM_SLIDES + 1)}]}),
        ("empty slides", p.T_SCHEDULE, {**sched, "items": [{**item, "slides": []}]}),
        ("slides not a list", p.T_SCHEDULE, {**sched, "items": [{**item, "slides": item["slide"]}]}),
        ("slides not starting with the slide", p.T_SCHEDULE,
         {**sched, "items": [{**item, "slides": [{**item["slide"], "sha256": "e" * 64}, item["slide"]]}]}),
        ("slides without a slide", p.T_SCHEDULE,
         {**sched, "items": [{k: v for k, v in item.items() if k != "slide"} | {"slides": [item["slide"]] * 2}]}),
        ("a continuation with a file URL", p.T_EMERGENCY,
         {**em, "item": {**item, "slides": [item["slide"], {**item["slide"], "url": "file:///etc/passwd"}]}}),
    ]


@pytest.mark.parametrize("case", _absurd_cases(), ids=[c[0] for c in _absurd_cases()])
def test_signed_absurd_bodies_are_refused(keys: tuple[p.Signer, p.Verifier], case: tuple[str, str, dict[str, Any]]) -> None:
    signer, verifier = keys
    _name, msg_type, body = case
    env = signer.sign(p.make_envelope(msg_type, body, ward=WARD, sender="central", seq=9, now=NOW, topic=TOPIC_OF[msg_type]))
    with pytest.raises(ProtocolError):
        p.open_envelope(env.to_bytes(), TOPIC_OF[msg_type], verifier, p.ReplayGuard(), ward=WARD, now=NOW)


@pytest.mark.parametrize(
    "payload",
    [
        b"[" * 100_000 + b"]" * 100_000,  # nested deeper than the parser's recursion
        b'{"v": 1, "seq": ' + b"9" * 5000 + b"}",  # an integer of 5,000 digits
        b'{"v":1,"type":"schedule","id":"x","ward":"' + WARD.encode() + b'","sender":"central","seq":1,'
        b'"issued_at":"2026-12-01T10:00:00.000Z","expires_at":null,"body":{},"sig":12345}',  # non-string sig
        b'{"v":1,"type":"schedule","id":"x","ward":"' + WARD.encode() + b'","sender":"central","seq":1,'
        b'"issued_at":"0001-01-01T00:00:00.000Z","expires_at":null,"body":{},"sig":"AA=="}',  # year 1
        b" " * (p.MAX_PAYLOAD_BYTES + 1),
    ],
    ids=["deep", "huge-int", "int-sig", "year-1", "oversized"],
)
def test_hostile_payloads_are_clear_protocol_errors(keys: tuple[p.Signer, p.Verifier], payload: bytes) -> None:
    _signer, verifier = keys
    with pytest.raises(ProtocolError):
        p.open_envelope(payload, TOPIC_OF[p.T_SCHEDULE], verifier, p.ReplayGuard(), ward=WARD, now=NOW)


def test_event_reason_is_bounded() -> None:
    body = p.AsRunEvent("ev-9", "kp1-loa1", ITEM.item_id, "cchc", "failed", NOW, reason="x" * 900_000).to_body()
    assert len(p.AsRunEvent.from_body(body).reason) == p.MAX_REASON_LEN


def test_event_ack_only_on_the_ack_topic(keys: tuple[p.Signer, p.Verifier]) -> None:
    signer, verifier = keys
    body = p.EventAck("kp1-loa1", (("ev-1", "stored", ""),)).to_body()
    env = signer.sign(p.make_envelope(p.T_EVENT_ACK, body, ward=WARD, sender="central", seq=3, now=NOW, topic=TOPICS.device_config("kp1-loa1")))
    with pytest.raises(ProtocolError):
        p.open_envelope(env.to_bytes(), TOPICS.device_config("kp1-loa1"), verifier, p.ReplayGuard(), ward=WARD, now=NOW)
    with pytest.raises(ProtocolError):
        p.EventAck.from_body({"device": "kp1-loa1", "acks": [{"event_id": "ev-1", "status": "maybe"}]})


def _independently_signed(priv: bytes, d: dict[str, Any], *, indent: int | None, reverse: bool) -> bytes:
    """A sender with an encoder of its own: signs the canonical form of what it sends, but writes it
    with other time spellings, another key order and whitespace."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    import base64
    import json

    key = load_pem_private_key(priv, password=None)
    sig = base64.b64encode(key.sign(p.canonical_json(d))).decode("ascii")  # type: ignore[union-attr, call-arg]
    out = dict(sorted({**d, "sig": sig}.items(), reverse=reverse))
    return json.dumps(out, indent=indent, ensure_ascii=reverse).encode("utf-8")


@pytest.mark.parametrize("spell", ["2026-12-01T10:00:00.123456Z", "2026-12-01T10:00:00.123+00:00", "2026-12-01T17:00:00.1+07:00"])
@pytest.mark.parametrize("indent,reverse", [(None, False), (2, True)])
def test_verified_over_what_was_received(spell: str, indent: int | None, reverse: bool) -> None:
    priv, pub = p.generate_keypair()
    verifier = p.Verifier(pub)
    topic = TOPIC_OF[p.T_CONFIG]
    d = {"v": p.PROTOCOL_VERSION, "type": p.T_CONFIG, "id": "ab12", "ward": WARD, "topic": topic, "sender": "central",
         "seq": 9, "issued_at": spell, "expires_at": None, "body": p.DeviceConfig(volume=55).to_body()}
    got = p.open_envelope(_independently_signed(priv, d, indent=indent, reverse=reverse), topic, verifier, p.ReplayGuard(), ward=WARD, now=NOW)
    assert got is not None and got[1].volume == 55
    # the same message altered after signing (one field, or only a time's spelling) is refused
    for key, value in (("body", p.DeviceConfig(volume=100).to_body()), ("issued_at", "2026-12-01T10:00:02Z"), ("seq", 10)):
        signed = json.loads(_independently_signed(priv, d, indent=indent, reverse=reverse))
        signed[key] = value
        with pytest.raises(SignatureError):
            p.open_envelope(json.dumps(signed).encode(), topic, verifier, p.ReplayGuard(), ward=WARD, now=NOW)


# What a single-slide item and a long announcement's item look like on the wire, byte for byte: a
# single-slide item is exactly what it was before ``slides`` existed (no version bump, no new digest
# for every deck and schedule after an upgrade); ``slides`` comes only with continuations.
GOLDEN_ITEM = (
    '{"announcement_id":"cchc","duration_ms":43000,"item_id":"cchc.kp1.20261201T1000Z",'
    '"media":{"sha256":"' + "a" * 64 + '","size":1234,"type":"audio/mpeg","url":"http://127.0.0.1:8750/media/' + "a" * 64 + '.mp3"},'
    '"priority":"normal",'
    '"slide":{"sha256":"' + "b" * 64 + '","size":99,"type":"image/png","url":"http://127.0.0.1:8750/media/' + "b" * 64 + '.png"},'
    '"start":"2026-12-01T10:00:00.123Z","title":"Nộp hồ sơ trực tuyến"}'
)


def _ref(c: str, size: int) -> str:
    return f'{{"sha256":"{c * 64}","size":{size},"type":"image/png","url":"http://127.0.0.1:8750/media/{c * 64}.png"}}'


GOLDEN_LONG = (
    '{"announcement_id":"tiem","duration_ms":95000,"item_id":"tiem.kp1.20261201T1000Z",'
    '"media":{"sha256":"' + "a" * 64 + '","size":1234,"type":"audio/mpeg","url":"http://127.0.0.1:8750/media/' + "a" * 64 + '.mp3"},'
    '"priority":"normal","slide":' + _ref("b", 99) + ',"slides":[' + ",".join([_ref("b", 99), _ref("c", 98), _ref("d", 99)]) + '],'
    '"start":"2026-12-01T10:00:00.123Z","title":"Tiêm chủng"}'
)


def test_item_golden_bytes() -> None:
    assert p.canonical_json(ITEM.to_dict()).decode() == GOLDEN_ITEM
    assert p.canonical_json(LONG.to_dict()).decode() == GOLDEN_LONG
    assert p.ScheduleItem.from_dict(json.loads(GOLDEN_LONG)) == LONG
    assert p.ScheduleItem.from_dict(json.loads(GOLDEN_ITEM)) == ITEM


def test_all_slides_key_facts_first_and_the_single_slide_case() -> None:
    assert LONG.all_slides == (SLIDE, *CONT)
    assert ITEM.all_slides == (SLIDE,) and ITEM.slides == ()
    assert p.ScheduleItem("x", "x", "", "normal", NOW, 1000, MEDIA).all_slides == ()
    # "slides" holding the slide alone is the same item as without it (and encodes without it)
    one = p.ScheduleItem.from_dict({**ITEM.to_dict(), "slides": [ITEM.to_dict()["slide"]]})
    assert one == ITEM and "slides" not in one.to_dict()


def test_unknown_item_fields_are_ignored() -> None:
    """What lets ``slides`` (and any later optional field) be added within v1: a decoder ignores an
    item field it does not know. A TV of before ``slides`` decodes LONG as ITEM-like: ``slide`` only."""
    got = p.ScheduleItem.from_dict({**ITEM.to_dict(), "subtitles": {"vi": "x"}, "qr": 3})
    assert got == ITEM
    body = p.Deck("device/tv-tnkq", 4, (), (LONG,)).to_body()
    body["overlays"][0]["slides_v9"] = [{"anything": True}]
    assert p.Deck.from_body(body).overlays[0] == LONG

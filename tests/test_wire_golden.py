"""Golden v1 messages, made by the encoder deployed before the wire package (tests/data/wire_golden):
they still decode and verify, and today's encoder makes them again byte for byte (Ed25519 signatures
are deterministic), so deployed nodes and centrals of either age keep understanding each other."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from broadcaster import protocol as p

GOLDEN = Path(__file__).resolve().parent / "data" / "wire_golden"
INDEX: dict[str, dict[str, Any]] = json.loads((GOLDEN / "index.json").read_text(encoding="utf-8"))
WARD = "p1-quangtri"
CENTRAL = sorted(n for n, m in INDEX.items() if m["signed"])
DEVICE = sorted(n for n, m in INDEX.items() if not m["signed"])


def _load(name: str) -> tuple[bytes, dict[str, Any]]:
    return (GOLDEN / f"{name}.json").read_bytes(), INDEX[name]


def test_every_message_type_has_a_golden_message() -> None:
    assert {m["type"] for m in INDEX.values()} == set(p.TOPIC_LEAF)


@pytest.mark.parametrize("name", CENTRAL)
def test_golden_central_message_still_opens_and_encodes_the_same(name: str) -> None:
    payload, meta = _load(name)
    verifier = p.Verifier((GOLDEN / "central.pub").read_bytes())
    now = p.parse_time(meta["now"])
    opened = p.open_envelope(payload, meta["topic"], verifier, p.ReplayGuard(), ward=WARD, now=now)
    assert opened is not None
    env, body = opened
    assert env.type == meta["type"] and env.topic == meta["topic"] and env.ward == WARD
    # the body's typed form encodes to the very bytes received
    raw = json.loads(payload)
    again = body if isinstance(body, dict) else body.to_body()
    assert p.canonical_json(again) == p.canonical_json(raw["body"])
    # and the central's encoder and signer make the same message again, byte for byte
    signer = p.Signer((GOLDEN / "central.key").read_bytes())
    remade = p.Envelope(type=env.type, ward=env.ward, sender=env.sender, body=again, seq=env.seq, issued_at=env.issued_at,
                        expires_at=env.expires_at, id=env.id, topic=env.topic)
    assert signer.sign(remade).to_bytes() == payload


@pytest.mark.parametrize("name", CENTRAL)
def test_golden_central_message_altered_is_refused(name: str) -> None:
    payload, meta = _load(name)
    verifier = p.Verifier((GOLDEN / "central.pub").read_bytes())
    d = json.loads(payload)
    d["seq"] += 1
    with pytest.raises(p.SignatureError):
        p.open_envelope(json.dumps(d).encode(), meta["topic"], verifier, p.ReplayGuard(), ward=WARD, now=p.parse_time(meta["now"]))


@pytest.mark.parametrize("name", CENTRAL)
def test_golden_central_message_expiry_still_counts(name: str) -> None:
    payload, meta = _load(name)
    verifier = p.Verifier((GOLDEN / "central.pub").read_bytes())
    env = p.decode(payload, meta["topic"])
    if env.expires_at is None:
        pytest.skip("a standing message: no expiry")
    with pytest.raises(p.SignatureError, match="expired"):
        p.open_envelope(payload, meta["topic"], verifier, p.ReplayGuard(), ward=WARD, now=env.expires_at + timedelta(seconds=1))


@pytest.mark.parametrize("name", DEVICE)
def test_golden_device_message_still_parses_and_encodes_the_same(name: str) -> None:
    payload, meta = _load(name)
    env = p.decode(payload, meta["topic"])
    body = p.parse_body(env.type, env.body)
    assert body.device == meta["topic"].split("/")[4]
    assert p.canonical_json(body.to_body()) == p.canonical_json(json.loads(payload)["body"])
    assert replace(env, body=body.to_body()).to_bytes() == payload

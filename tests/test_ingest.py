"""As-run ingest against a real SQLite store: what a node may report, how often, and the acknowledgement.

The messages are the bytes a node publishes; ``Ingest.handle`` is what the MQTT client calls with
them. Times come from a fixed clock: nothing here depends on the wall clock.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from broadcaster import protocol
from broadcaster.central.ingest import Ingest, TokenBucket
from broadcaster.central.planner import PlannedItem
from broadcaster.central.store import Store
from broadcaster.config import Ward, load_ward

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def ward(ward_dir: Path) -> Ward:
    return load_ward()


@pytest.fixture
def store(ward: Ward) -> Store:
    s = Store.for_ward(ward)
    items = [
        PlannedItem(f"hop.{z}.20261201T1000Z", "hop", "Họp", z, "normal", T0, T0, 30_000, None, None) for z in ("kp1", "kp2")
    ]
    s.record_plan(items, delivered_at=T0 - timedelta(hours=1))
    yield s
    s.close()


class Acks:
    def __init__(self) -> None:
        self.got: list[tuple[str, str, str, str]] = []

    def __call__(self, device: str, acks: list[tuple[str, str, str]]) -> None:
        self.got += [(device, *a) for a in acks]


def event_bytes(ward: Ward, device: str, item_id: str, event_id: str, *, reason: str = "", kind: str = "played") -> tuple[str, bytes]:
    t = protocol.Topics(ward.id)
    ev = protocol.AsRunEvent(event_id, device, item_id, "hop", kind, T0, T0, T0 + timedelta(seconds=30), reason)
    topic = t.device_events(device)
    env = protocol.make_envelope(protocol.T_EVENT, ev.to_body(), ward=ward.id, sender=device, seq=1, now=T0, topic=topic)
    return topic, env.to_bytes()


def test_an_event_is_stored_once_and_acknowledged(ward: Ward, store: Store) -> None:
    acks = Acks()
    ing = Ingest(ward, store, ack=acks)
    ing.handle(*event_bytes(ward, "kp1-loa1", "hop.kp1.20261201T1000Z", "e1"), False)
    ing.handle(*event_bytes(ward, "kp1-loa1", "hop.kp1.20261201T1000Z", "e1"), False)  # re-sent
    ing.handle(*event_bytes(ward, "kp1-loa1", "hop.kp1.20261201T1000Z", "e2"), False)  # same airing, new id
    assert len(store.events()) == 1
    assert acks.got == [("kp1-loa1", "e1", "stored", ""), ("kp1-loa1", "e1", "duplicate", ""), ("kp1-loa1", "e2", "duplicate", "")]


def test_a_node_cannot_report_for_another_zone_or_invent_items(ward: Ward, store: Store) -> None:
    acks = Acks()
    ing = Ingest(ward, store, ack=acks)
    # kp1's speaker claims kp2's item played (kp2's speaker was silent)
    ing.handle(*event_bytes(ward, "kp1-loa1", "hop.kp2.20261201T1000Z", "x1"), False)
    # an item the central never delivered
    ing.handle(*event_bytes(ward, "kp1-loa1", "made-up.kp1.20261201T1000Z", "x2"), False)
    # a device id that is not a speaker of the ward (the TV)
    ing.handle(*event_bytes(ward, "tv-tnkq", "hop.kp1.20261201T1000Z", "x3"), False)
    assert store.events() == []
    assert [a[2] for a in acks.got] == ["refused", "refused"]  # the node drops them; the TV gets nothing
    assert ing.refused == 3


def test_a_flood_of_events_is_bounded_per_device(ward: Ward, store: Store) -> None:
    clock = [0.0]
    acks = Acks()
    ing = Ingest(ward, store, ack=acks, bucket=TokenBucket(rate=1.0, burst=5, clock=lambda: clock[0]))
    for n in range(3000):
        ing.handle(*event_bytes(ward, "kp1-loa1", "made-up.kp1.x", f"f{n}"), False)
    assert len(acks.got) == 5 and ing.limited == 2995  # beyond the burst: not even parsed
    # another device is not starved by the flooder
    ing.handle(*event_bytes(ward, "kp2-loa1", "hop.kp2.20261201T1000Z", "ok"), False)
    assert [e.event_id for e in store.events()] == ["ok"]
    clock[0] += 2.0  # the bucket refills with time
    ing.handle(*event_bytes(ward, "kp1-loa1", "hop.kp1.20261201T1000Z", "late"), False)
    assert {e.event_id for e in store.events()} == {"ok", "late"}


def test_a_huge_reason_is_cut(ward: Ward, store: Store, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="broadcaster")
    ing = Ingest(ward, store, ack=Acks())
    ing.handle(*event_bytes(ward, "kp1-loa1", "hop.kp1.20261201T1000Z", "big", reason="x" * 900_000, kind="failed"), False)
    (row,) = store.events()
    assert len(row.reason) == protocol.MAX_REASON_LEN
    assert max(len(r.getMessage()) for r in caplog.records) < 2000


def test_locked_store_is_not_acknowledged_and_the_resend_is_stored(ward: Ward, store: Store) -> None:
    acks = Acks()
    ing = Ingest(ward, store, ack=acks)
    store._conn.execute("PRAGMA busy_timeout=200")  # keep the test short; serve waits 30 s
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # e.g. a backup tool or a long CLI command holding the store
    payload = event_bytes(ward, "kp1-loa1", "hop.kp1.20261201T1000Z", "e1")
    ing.handle(*payload, False)
    assert acks.got == []  # not stored, so not acknowledged: the node keeps it
    other.execute("ROLLBACK")
    other.close()
    ing.handle(*payload, False)  # the node's re-send
    assert [e.event_id for e in store.events()] == ["e1"] and acks.got == [("kp1-loa1", "e1", "stored", "")]

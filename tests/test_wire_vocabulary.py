"""The wire's vocabulary, topics and times: each defined once, and everything else derived from them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from broadcaster.wire import messages
from broadcaster.wire.errors import Malformed
from broadcaster.wire.times import format_time, parse_time
from broadcaster.wire.topics import CENTRAL_USER, Topics
from broadcaster.wire.vocabulary import (
    CENTRAL_TYPES,
    PRIORITIES,
    DeviceKind,
    MessageType,
    Priority,
    Scope,
    Side,
    Target,
    priority_rank,
)

UTC = timezone.utc
T = Topics("p1-quangtri")


def test_one_rank_order_for_priorities() -> None:
    assert sorted(Priority, key=lambda p: p.rank) == [Priority.EMERGENCY, Priority.PRIORITY, Priority.NORMAL]
    assert PRIORITIES == ("normal", "priority", "emergency")
    assert priority_rank("priority") < priority_rank("normal") < priority_rank("no-such") and Priority("normal") == "normal"


def test_the_store_and_the_planner_take_priorities_from_here() -> None:
    from broadcaster.central import planner, store

    assert planner.PRIORITY_RANK == {p.value: p.rank for p in Priority}
    assert "CHECK (priority IN ('normal', 'priority', 'emergency'))" in store.MIGRATIONS[0]  # shipped; the same set
    assert set(PRIORITIES) == {"normal", "priority", "emergency"}


def test_target_parsed_and_printed_in_one_place() -> None:
    t = Target("device/tv-tnkq")
    assert (t.scope, t.id, str(t)) == (Scope.DEVICE, "tv-tnkq", "device/tv-tnkq") and t == "device/tv-tnkq"
    assert Target.zone("kp1") == "zone/kp1" and Target.device("tv-tnkq") == t and {str(t): 1}[Target("device/tv-tnkq")] == 1
    for bad in ["deck/tv-tnkq", "kp1", "zone/", "zone/a b", "zone/a/b", "device/+"]:
        with pytest.raises(Malformed):
            Target(bad)


def test_every_message_type_has_a_body_a_leaf_and_a_direction() -> None:
    assert set(messages.BODIES) == set(MessageType)
    for t in MessageType:
        assert t.leaf and t.side in Side and t.scopes
        for scope in t.scopes:
            assert T.topic(scope, "x", t).endswith(f"/{scope}/x/{t.leaf}")
    assert {t for t in MessageType if t.side is Side.CENTRAL} == CENTRAL_TYPES


def test_subscriptions_and_acl_from_the_same_table() -> None:
    subs = T.node_subscriptions("kp1-loa1", "kp1")
    assert set(subs) == {T.device_schedule("kp1-loa1"), T.device_deck("kp1-loa1"), T.device_config("kp1-loa1"),
                         T.device_ack("kp1-loa1"), T.zone_schedule("kp1"), T.zone_emergency("kp1")}
    tv = T.node_reads("tv", "kp1", DeviceKind.DISPLAY, ["kp1", "kp2", "kp3"])
    assert tv == T.node_subscriptions("tv", "kp1") + [T.zone_emergency("kp2"), T.zone_emergency("kp3")]
    acl = T.acl_lines([("kp1-loa1", "kp1", "speaker"), ("tv", "kp1", "display")], ["kp1", "kp2", "kp3"])
    assert acl[:2] == [f"user {CENTRAL_USER}", f"topic readwrite {T.base}/#"]
    for device, reads in (("kp1-loa1", subs), ("tv", tv)):
        block = acl[acl.index(f"user {device}") + 1:]
        block = block[:block.index("")]
        assert block == [f"topic read {r}" for r in reads] + [f"topic write {T.device_state(device)}",
                                                               f"topic write {T.device_events(device)}"]


def test_broker_config_writes_the_table() -> None:
    from types import SimpleNamespace

    from broadcaster.cli.broker_cmd import acl_text

    ward = SimpleNamespace(id="p1-quangtri", devices=[SimpleNamespace(id="kp1-loa1", zone="kp1", kind="speaker")],
                           zones=[SimpleNamespace(id="kp1")])
    text = acl_text(ward)
    assert "\n".join(T.acl_lines([("kp1-loa1", "kp1", "speaker")], ["kp1"])).strip() in text


@pytest.mark.parametrize("spelt", [
    "2026-12-01T10:00:00.123Z", "2026-12-01T10:00:00.123456Z", "2026-12-01T10:00:00.123+00:00",
    "2026-12-01T17:00:00.123+07:00", "2026-12-01 10:00:00.123z", "2026-12-01t03:00:00.123-07:00",
])
def test_times_read_any_rfc3339_spelling_and_are_written_one_way(spelt: str) -> None:
    t = parse_time(spelt)
    assert t.tzinfo is UTC and t.replace(microsecond=0) == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert format_time(t) == "2026-12-01T10:00:00.123Z"


@pytest.mark.parametrize("bad", ["2026-12-01T10:00:00", "0001-01-01T00:00:00Z", "9999-12-31T23:00:00-05:00", "tomorrow", 5])
def test_times_refused(bad: object) -> None:
    with pytest.raises(Malformed):
        parse_time(bad)


def test_decoded_times_are_utc() -> None:
    item = messages.ScheduleItem.from_dict({
        "item_id": "a", "announcement_id": "a", "title": "t", "priority": "normal", "start": "2026-12-01T17:00:00+07:00",
        "duration_ms": 1, "media": {"url": "http://h/m", "sha256": "a" * 64, "size": 1}})
    assert item.start.tzinfo is UTC and item.start == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert item.start + timedelta(0) == item.start

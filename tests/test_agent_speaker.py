"""The speaker node against a real Mosquitto, a real HTTP media server and real signed messages.

Times are checked as behaviour, not performance (scripts/bench measures lateness precisely): an
item never starts before its time, and starts within a generous margin after it, so that the tests
pass on a machine whose cores are busy with other work. Each test schedules items a few seconds
ahead of the clock (``utc_now()``), never at a time of day.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from agent_support import Central, MediaServer, item, make_mp3, read_jsonl, wait_for
from broadcaster.agents.audio_out import FileOutput
from broadcaster.agents.speaker import SpeakerAgent
from broadcaster.config import Ward, load_ward
from broadcaster.localbroker import LocalMosquitto
from broadcaster.protocol import Emergency, Signer, Verifier, generate_keypair, parse_time, utc_now

DEV = "kp1-loa1"
EARLY_MS = 50  # started this much before its time would be a bug (it waits on its own clock)
LATE_MS = 2000  # generous: on an idle machine it is a few ms (see scripts/bench)


@pytest.fixture
def ward(ward_dir: Path) -> Ward:
    return load_ward()



@pytest.fixture
def central(ward: Ward, mosquitto: LocalMosquitto) -> Iterator[Central]:
    c = Central(ward.id, mosquitto.url)
    c.listen(c.topics.all_events)
    c.listen(c.topics.all_states)
    yield c
    c.close()


@pytest.fixture
def mp3s(tmp_path: Path, server: MediaServer) -> dict[str, Any]:
    return {
        "short": server.add("short.mp3", make_mp3(tmp_path / "s.mp3", 0.6, 440)),
        "long": server.add("long.mp3", make_mp3(tmp_path / "l.mp3", 20.0, 660)),
        "alarm": server.add("alarm.mp3", make_mp3(tmp_path / "e.mp3", 0.8, 880)),
    }


class Node:
    """Builds speaker agents on one home folder, as a reboot would."""

    def __init__(self, ward: Ward, central: Central, mosquitto: LocalMosquitto, out: Path, **kw: Any) -> None:
        self.ward, self.central, self.url, self.out, self.kw = ward, central, mosquitto.url, out, kw
        self.agent: SpeakerAgent | None = None

    def start(self, device: str = DEV) -> SpeakerAgent:
        opts = {"late_limit_s": 5.0, "prepare_lead_s": 2.0, "fetch_retry_s": 0.5, "state_interval": 5.0, "ack_timeout_s": 2.0, **self.kw}
        self.agent = SpeakerAgent(
            self.ward, self.ward.device(device), output=FileOutput(self.out, device),
            verifier=Verifier(self.central.public_pem), broker_url=self.url, **opts,
        )
        self.agent.start()
        return self.agent

    def stop(self) -> None:
        if self.agent:
            self.agent.stop()
            self.agent = None

    def played(self, device: str = DEV) -> list[dict[str, Any]]:
        return read_jsonl(self.out / device / "as-played.jsonl")


@pytest.fixture
def node(ward: Ward, central: Central, mosquitto: LocalMosquitto, tmp_path: Path) -> Iterator[Node]:
    n = Node(ward, central, mosquitto, tmp_path / "out")
    yield n
    n.stop()


def events(central: Central, kind: str | None = None) -> list[dict[str, Any]]:
    out = [b["body"] for t, b in central.received if t.endswith("/events")]
    return [e for e in out if kind is None or e["kind"] == kind]


def check_on_time(rec: dict[str, Any]) -> None:
    assert -EARLY_MS < rec["lateness_ms"] < LATE_MS, rec
    lateness_ms = (parse_time(rec["started"]) - parse_time(rec["scheduled"])).total_seconds() * 1000
    assert -EARLY_MS < lateness_ms < LATE_MS, rec


def test_plays_items_at_their_instants_and_reports(node: Node, central: Central, mp3s: dict[str, Any]) -> None:
    agent = node.start()
    assert agent.runtime.conn and agent.runtime.conn.wait_connected(10)
    t0 = utc_now()
    central.schedule("kp1", 1, [item("a", t0 + timedelta(seconds=2.5), mp3s["short"]), item("b", t0 + timedelta(seconds=3.5), mp3s["short"])])
    recs = wait_for(lambda: len(node.played()) >= 2 and node.played(), timeout=12)
    assert [r["item"] for r in recs] == ["a", "b"]
    for r in recs:
        check_on_time(r)
    wait_for(lambda: len(events(central, "played")) >= 2)
    ev = events(central, "played")[0]
    assert ev["device"] == DEV and ev["item_id"] == "a" and ev["started"]
    # the retained state acknowledges the version and reports the cache
    states = wait_for(lambda: [b["body"] for t, b in central.received if t.endswith("/state") and b["body"]["applied"]])
    assert states[-1]["applied"] == {"zone/kp1": 1} and states[-1]["online"] and states[-1]["cache_items"] >= 1


def test_broker_killed_before_airtime_still_plays(node: Node, central: Central, mosquitto: LocalMosquitto, mp3s: dict[str, Any]) -> None:
    agent = node.start()
    assert agent.runtime.conn and agent.runtime.conn.wait_connected(10)
    start = utc_now() + timedelta(seconds=3)
    central.schedule("kp1", 1, [item("a", start, mp3s["short"])])
    wait_for(lambda: agent.cache.get(mp3s["short"]) is not None)
    mosquitto.kill()  # power cut at the broker, before airtime
    rec = wait_for(lambda: node.played(), timeout=10)[0]
    check_on_time(rec)
    wait_for(lambda: len(agent.runtime.outbox) == 1)  # the as-run event waits on disk
    mosquitto.start()
    wait_for(lambda: len(agent.runtime.outbox) == 0, timeout=20)  # the central acknowledged storing it


def test_reboot_recovers_schedule_and_reports_missed(node: Node, central: Central, mosquitto: LocalMosquitto, mp3s: dict[str, Any]) -> None:
    agent = node.start()
    assert agent.runtime.conn and agent.runtime.conn.wait_connected(10)
    t0 = utc_now()
    gone = t0 + timedelta(seconds=4)
    central.schedule("kp1", 1, [item("gone", gone, mp3s["short"]), item("later", t0 + timedelta(seconds=9), mp3s["short"])])
    wait_for(lambda: agent.cache.get(mp3s["short"]) is not None and agent.store.memory.applied)
    node.stop()  # the node loses power before "gone"
    assert utc_now() < gone, "the node was not stopped before the first item's time: machine too slow?"
    mosquitto.stop()  # and the broker is gone too: all it has is its disk
    node.kw["late_limit_s"] = 1.5
    wait_for(lambda: utc_now() > gone + timedelta(seconds=2), timeout=10)  # "gone" is past its late limit
    agent = node.start()
    rec = wait_for(lambda: node.played(), timeout=15)[0]
    assert rec["item"] == "later"
    check_on_time(rec)
    # the output writes its as-played line before the agent records the airing as done: wait for both
    done = wait_for(lambda: len(agent.store.memory.done) >= 2 and dict(agent.store.memory.done), timeout=10)
    assert [v.kind for k, v in sorted(done.items())] == ["missed", "played"]
    # The broker comes back. The test's central holds no session on the broker, so it must be
    # subscribed again before the node sends its queued events: the node waits switched off
    # (they are on its disk) until the broker has re-sent the central the retained node state.
    node.stop()
    seen = len(central.received)
    mosquitto.start()
    wait_for(lambda: any(t.endswith("/state") for t, _b in central.received[seen:]), timeout=60)
    agent = node.start()
    wait_for(lambda: len(events(central)) >= 2, timeout=30)
    missed = events(central, "missed")[0]
    assert missed["item_id"] == "gone" and "not running" in missed["reason"]


def test_forged_unsigned_altered_replayed_messages_change_nothing(node: Node, central: Central, mp3s: dict[str, Any]) -> None:
    agent = node.start()
    assert agent.runtime.conn and agent.runtime.conn.wait_connected(10)
    t0 = utc_now()
    good = central.schedule("kp1", 1, [item("ok", t0 + timedelta(hours=5), mp3s["short"])])
    wait_for(lambda: agent.store.memory.applied == {"zone/kp1": 1})
    central.schedule("kp1", 2, [item("ok2", t0 + timedelta(hours=5), mp3s["short"])])
    wait_for(lambda: agent.store.memory.applied == {"zone/kp1": 2})
    topic = central.topics.zone_schedule("kp1")
    soon = [item("evil", t0 + timedelta(seconds=2), mp3s["short"]).to_dict()]
    body = {"target": "zone/kp1", "version": 9, "horizon": "2099-01-01T00:00:00.000Z", "items": soon}
    other = Signer(generate_keypair()[0])
    central.send(topic, central.envelope("schedule", body, topic, signer=other))  # forged: another key
    unsigned = json.loads(central.envelope("schedule", body, topic))
    del unsigned["sig"]
    central.send(topic, json.dumps(unsigned).encode())  # unsigned
    altered = json.loads(central.envelope("schedule", {**body, "items": []}, topic))
    altered["body"] = body  # signed with no items, items added after signing
    central.send(topic, json.dumps(altered).encode())
    central.send(topic, good)  # a replay of the genuine version-1 message
    other_zone = {**body, "target": "zone/kp2"}
    central.send(topic, central.envelope("schedule", other_zone, topic))  # genuine, but for another zone
    # genuine messages signed for another zone or device, re-published on this node's topics
    kp2_topic = central.topics.zone_emergency("kp2")
    em = {"emergency_id": "kp2-only", "item": item("kp2-em", t0 + timedelta(seconds=1), mp3s["short"], priority="emergency").to_dict(),
          "valid_until": "2099-01-01T00:00:00.000Z"}
    central.send(central.topics.zone_emergency("kp1"), central.envelope("emergency", em, kp2_topic))
    central.send(topic, central.envelope("emergency", em, topic))  # an emergency dressed up as a schedule
    kp2_config = central.topics.device_config("kp2-loa1")
    central.send(central.topics.device_config(DEV), central.envelope("config", {"volume": 5}, kp2_config))
    wait_for(lambda: agent.runtime.refused >= 8)
    import time

    time.sleep(2.5)
    assert node.played() == []
    assert agent.store.memory.applied == {"zone/kp1": 2}
    assert [i.item_id for i in agent.items()] == ["ok2"]
    assert agent.volume != 5


def test_emergency_interrupts_and_plays(node: Node, central: Central, mp3s: dict[str, Any]) -> None:
    # A bulletin long enough that the emergency surely comes while it plays, on a node allowed to
    # start it late (a busy machine may not have it decoded at its time: then it plays late).
    node.kw["late_limit_s"] = 30.0
    agent = node.start()
    assert agent.runtime.conn and agent.runtime.conn.wait_connected(10)
    start = utc_now() + timedelta(seconds=2)
    central.schedule("kp1", 1, [item("bulletin", start, mp3s["long"], duration_ms=20000)])
    wait_for(lambda: agent.playing == "bulletin", timeout=40)
    em_item = item("kc", utc_now(), mp3s["alarm"], priority="emergency")
    central.emergency("kp1", Emergency("em1", em_item, utc_now() + timedelta(minutes=5)).to_body())
    recs = wait_for(lambda: len(node.played()) >= 2 and node.played(), timeout=30)
    assert recs[0]["item"] == "bulletin" and recs[0]["interrupted"] and recs[0]["played_s"] < 15  # cut, not played out
    assert recs[1]["item"] == "kc" and not recs[1]["interrupted"]
    wait_for(lambda: len(events(central)) >= 2)
    kinds = {e["item_id"]: e for e in events(central)}
    assert kinds["bulletin"]["kind"] == "interrupted" and "em1" in kinds["bulletin"]["reason"]
    assert kinds["kc"]["kind"] == "played"


def test_emergency_is_not_held_up_by_a_stalled_download(node: Node, central: Central, server: MediaServer, tmp_path: Path, mp3s: dict[str, Any]) -> None:
    """The bulletin's media is still crawling in over a dying link at airtime; an emergency comes in.
    It must play at once, not when the download gives up."""
    stalled = server.add("stalled.mp3", make_mp3(tmp_path / "st.mp3", 1.0, 330))
    server.stall["stalled.mp3"] = 15.0
    agent = node.start()
    assert agent.runtime.conn and agent.runtime.conn.wait_connected(10)
    asked = utc_now()  # the download is requested after this, so it cannot end before asked + 15 s
    central.schedule("kp1", 1, [item("bulletin", asked + timedelta(seconds=1.5), stalled)])
    wait_for(lambda: any(n == "stalled.mp3" for n, _ in server.requests), timeout=5)  # the download hangs
    import time

    time.sleep(2.0)  # past the bulletin's airtime
    sent = utc_now()
    em_item = item("kc", sent, mp3s["alarm"], priority="emergency")
    central.emergency("kp1", Emergency("em-stall", em_item, sent + timedelta(minutes=5)).to_body())
    recs = wait_for(lambda: [r for r in node.played() if r["item"] == "kc"], timeout=20)
    # it played before the stalled download could have ended (at the earliest asked + 15 s)
    assert parse_time(recs[0]["started"]) < asked + timedelta(seconds=14), recs[0]


def test_bulletin_not_ready_at_its_time_plays_late_within_the_limit_else_is_missed(
    node: Node, central: Central, server: MediaServer, tmp_path: Path
) -> None:
    """A node that cannot have a bulletin ready at its time (its media still crawling in, or a busy
    CPU still decoding it) starts it as soon as it is ready, if that is within its late limit, and
    the as-run event says how late; past the limit it never plays it and reports it missed, with
    the reason (docs/protocol.md, "At airtime")."""
    late = server.add("late.mp3", make_mp3(tmp_path / "late.mp3", 0.6, 500))
    never = server.add("never.mp3", make_mp3(tmp_path / "never.mp3", 0.6, 520))
    server.stall["late.mp3"] = 4.0  # in ~3 s after its item's time
    server.stall["never.mp3"] = 18.0  # fetched after late.mp3: in long after its item's late limit
    node.kw["late_limit_s"] = 12.0
    agent = node.start()
    assert agent.runtime.conn and agent.runtime.conn.wait_connected(10)
    asked = utc_now()  # both downloads are requested after this
    central.schedule("kp1", 1, [item("late", asked + timedelta(seconds=1), late), item("never", asked + timedelta(seconds=1.5), never)])
    rec = wait_for(lambda: node.played(), timeout=30)[0]
    assert rec["item"] == "late" and not rec["interrupted"]
    # its media could not be in before asked + 4 s, 3 s after its time; it started within the limit
    lateness = parse_time(rec["started"]) - parse_time(rec["scheduled"])
    assert timedelta(seconds=2.9) <= lateness < timedelta(seconds=12), rec
    played = wait_for(lambda: events(central, "played"), timeout=10)[0]
    assert played["item_id"] == "late" and parse_time(played["started"]) - parse_time(played["scheduled"]) == lateness
    missed = wait_for(lambda: events(central, "missed"), timeout=30)[0]
    assert missed["item_id"] == "never" and missed["reason"].startswith("media never fetched"), missed
    assert [r["item"] for r in node.played()] == ["late"]  # "never" was not played late after all


def test_new_version_replaces_old_and_config_sets_volume(node: Node, central: Central, mp3s: dict[str, Any]) -> None:
    agent = node.start()
    assert agent.runtime.conn and agent.runtime.conn.wait_connected(10)
    t0 = utc_now()
    central.config(DEV, 30)
    central.schedule("kp1", 1, [item("x", t0 + timedelta(seconds=3), mp3s["short"]), item("y", t0 + timedelta(seconds=3.2), mp3s["short"])])
    central.schedule("kp1", 2, [item("y", t0 + timedelta(seconds=3.2), mp3s["short"])])  # x removed
    recs = wait_for(lambda: node.played(), timeout=10)
    import time

    time.sleep(1.0)
    recs = node.played()
    assert [r["item"] for r in recs] == ["y"] and recs[0]["volume"] == 30
    check_on_time(recs[0])


def test_corrupt_download_refetched_and_unfetchable_media_missed(node: Node, central: Central, server: MediaServer, mp3s: dict[str, Any]) -> None:
    server.bad["short.mp3"] = 3  # more bad answers than one fetch round tries
    agent = node.start()
    assert agent.runtime.conn and agent.runtime.conn.wait_connected(10)
    t0 = utc_now()
    ghost = mp3s["alarm"].__class__(url=server.base + "missing.mp3", sha256="1" * 64, size=100)
    node.agent.late_limit = timedelta(seconds=3)  # type: ignore[union-attr]
    central.schedule("kp1", 1, [item("good", t0 + timedelta(seconds=3), mp3s["short"]), item("ghost", t0 + timedelta(seconds=3.5), ghost)])
    rec = wait_for(lambda: node.played(), timeout=15)[0]
    assert rec["item"] == "good"
    check_on_time(rec)
    wait_for(lambda: len(events(central, "missed")) >= 1, timeout=20)
    assert "media never fetched" in events(central, "missed")[0]["reason"]
    assert sum(1 for n, _r in server.requests if n == "short.mp3") >= 4


def test_schedule_refused_while_the_clock_was_behind_is_applied_once_it_catches_up(
    node: Node, central: Central, mp3s: dict[str, Any]
) -> None:
    """A node without a battery clock boots in the past: the retained schedule looks issued in the
    future. It must not be lost: applied as soon as the clock is right, without a new message."""
    from broadcaster.protocol import Schedule, T_SCHEDULE, make_envelope

    agent = node.start()
    assert agent.runtime.conn and agent.runtime.conn.wait_connected(10)
    topic = central.topics.zone_schedule("kp1")
    ahead = utc_now() + timedelta(minutes=30)  # as this node sees it: half an hour in its future
    sched = Schedule("zone/kp1", 1, (item("later", ahead + timedelta(hours=1), mp3s["short"]),), ahead + timedelta(hours=48))
    central.seq += 1
    env = central.signer.sign(make_envelope(T_SCHEDULE, sched.to_body(), ward=central.ward, sender="central",
                                            seq=central.seq, now=ahead, topic=topic))
    central.send(topic, env.to_bytes())
    wait_for(lambda: topic in agent.runtime.deferred, timeout=10)
    assert agent.store.memory.applied == {} and agent.runtime.refused == 0  # kept, not counted as forged
    agent.runtime.guard.max_clock_skew = timedelta(hours=1)  # NTP answered: the clock caught up
    agent.runtime.state_changed()
    wait_for(lambda: agent.store.memory.applied == {"zone/kp1": 1}, timeout=10)
    assert [i.item_id for i in agent.items()] == ["later"] and not agent.runtime.deferred


def test_the_network_thread_never_writes_and_a_version_is_acknowledged_only_once_on_disk(
    node: Node, central: Central, mp3s: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from broadcaster.agents.memory import JsonFile

    writers: list[str] = []
    real = JsonFile.save

    def recording_save(self: JsonFile, data: dict[str, Any]) -> None:
        writers.append(threading.current_thread().name)
        real(self, data)

    monkeypatch.setattr(JsonFile, "save", recording_save)
    agent = node.start()
    assert agent.runtime.conn and agent.runtime.conn.wait_connected(10)
    on_disk_when_acked: list[Any] = []

    def on_state(topic: str, payload: bytes, retained: bool) -> None:
        applied = json.loads(payload)["body"].get("applied") if payload else None
        if applied and applied.get("zone/kp1", 0) >= 3:
            # read the node's file the moment its state says "applied": it must be there already
            on_disk_when_acked.append(json.loads((agent.dir / "state.json").read_text())["applied"])

    central.conn.subscribe(central.topics.device_state(DEV), on_state)
    t0 = utc_now()
    for v in (1, 2, 3):
        central.schedule("kp1", v, [item(f"v{v}", t0 + timedelta(hours=3), mp3s["short"])])
    wait_for(lambda: on_disk_when_acked, timeout=20)
    assert on_disk_when_acked[0]["zone/kp1"] >= 3
    assert writers and set(writers) == {f"memory-{DEV}"}  # the store's writer, never paho's thread

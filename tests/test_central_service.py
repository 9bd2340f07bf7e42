"""The running service against a real Mosquitto, with a real node client on the other side.

The node client here is what a speaker agent does with the wire: subscribe to its topics, open
every envelope with the ward's public key and a replay guard. Media are produced by the real
Producer with the offline espeak-ng voice.
"""

from __future__ import annotations

import logging
import queue
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any

import pytest

from broadcaster import protocol
from broadcaster.central import planner
from broadcaster.central.service import CentralService, key_paths, queue_announcement, queue_announcements
from broadcaster.central.store import Store
from broadcaster.config import Announcement, ScheduleSpec, Ward, load_ward
from broadcaster.errors import BroadcasterError, ProtocolError, ScheduleError, SignatureError
from broadcaster.localbroker import LocalMosquitto, free_port
from broadcaster.media import MediaStore
from broadcaster.production import Producer
from broadcaster.transport import BrokerAddress, MqttConnection

WAIT = 15.0


def setup_ward(ward_dir: Path, broker: LocalMosquitto, monkeypatch: pytest.MonkeyPatch) -> Ward:
    port = free_port()
    wf = ward_dir / "devices" / "ward.toml"
    text = wf.read_text(encoding="utf-8")
    text = re.sub(r'listen = ".*"', f'listen = "127.0.0.1:{port}"', text)
    text = re.sub(r'media_url = ".*"', f'media_url = "http://127.0.0.1:{port}/"', text)
    wf.write_text(text, encoding="utf-8")
    monkeypatch.setenv("BROADCASTER_MQTT_URL", broker.url)
    ward = load_ward()
    priv, pub = protocol.generate_keypair()
    kp, kpub = key_paths(ward)
    kp.parent.mkdir(parents=True, exist_ok=True)
    kp.write_bytes(priv)
    kpub.write_bytes(pub)
    return ward


def in_window_soon(ward: Ward, zone: str) -> datetime:
    """A local time inside a window of the zone, at least 2 minutes from now."""
    now = protocol.utc_now()
    t = (now + timedelta(minutes=3)).replace(second=0, microsecond=0)
    z = ward.zone(zone)
    if planner.window_containing(z, ward.tz, t) and planner.window_containing(z, ward.tz, t + timedelta(minutes=2)):
        return t.astimezone(ward.tz)
    ws, _ = planner.next_window(z, ward.tz, t)
    return (ws + timedelta(minutes=1)).astimezone(ward.tz)


def outside_windows_soon(ward: Ward, zone: str) -> datetime:
    """A local time outside every window of the zone, at least 2 minutes from now (any hour, any day)."""
    t = (protocol.utc_now() + timedelta(minutes=3)).replace(second=0, microsecond=0)
    z = ward.zone(zone)
    while planner.window_containing(z, ward.tz, t):
        t += timedelta(minutes=1)
    return t.astimezone(ward.tz)


def ann(ward: Ward, ann_id: str, zones: tuple[str, ...], spec: ScheduleSpec, priority: str = "normal") -> Announcement:
    return Announcement(ann_id, f"Thông báo {ann_id}", "UBND phường thông báo.", zones, priority, 1, False, False, spec)


class Node:
    """A real subscriber that opens envelopes as a node does."""

    def __init__(self, ward: Ward, device: str, zone: str) -> None:
        self.ward = ward
        self.verifier = protocol.Verifier(key_paths(ward)[1].read_bytes())
        self.guard = protocol.ReplayGuard()
        self.got: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.refused: list[Exception] = []
        self.raw: list[tuple[str, bytes]] = []
        self.conn = MqttConnection(BrokerAddress.parse(ward.service.mqtt_url), client_id=f"test-{device}-{time.monotonic_ns()}",
                                   persistent=False)
        for t in protocol.Topics(ward.id).node_subscriptions(device, zone):
            self.conn.subscribe(t, self._on)
        self.conn.start()
        assert self.conn.wait_connected(WAIT)

    def _on(self, topic: str, payload: bytes, retained: bool) -> None:
        self.raw.append((topic, payload))
        try:
            r = protocol.open_envelope(payload, topic, self.verifier, self.guard, ward=self.ward.id)
        except ProtocolError as exc:
            self.refused.append(exc)
            return
        if r is not None:
            self.got.put((topic, r[1]))

    def wait_for(self, pred: Any, timeout: float = WAIT) -> tuple[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                topic, body = self.got.get(timeout=0.2)
            except queue.Empty:
                continue
            if pred(topic, body):
                return topic, body
        raise AssertionError("expected message did not arrive")

    def stop(self) -> None:
        self.conn.stop()


def is_schedule_with(ann_id: str) -> Any:
    return lambda t, b: isinstance(b, protocol.Schedule) and any(i.announcement_id == ann_id for i in b.items)


@pytest.fixture
def env(ward_dir: Path, mosquitto: LocalMosquitto, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[Ward, Producer]]:
    ward = setup_ward(ward_dir, mosquitto, monkeypatch)
    yield ward, Producer(ward, MediaStore(ward.service.home / "media"), engine="espeak", cache_dir=tmp_path / "tts")


def test_node_gets_state_restarts_lose_nothing(env: tuple[Ward, Producer], mosquitto: LocalMosquitto) -> None:
    ward, producer = env
    at = in_window_soon(ward, "kp1")
    with Store.for_ward(ward) as s:
        res = queue_announcement(ward, s, producer, ann(ward, "hop-to", ("kp1", "kp2"), ScheduleSpec("once", at=at)))
        assert [i.zone for i in res.items] == ["kp1", "kp2"]
    svc = CentralService(ward).start()
    node = Node(ward, "kp1-loa1", "kp1")
    try:
        topic, sched = node.wait_for(is_schedule_with("hop-to"))
        assert topic == protocol.Topics(ward.id).zone_schedule("kp1") and sched.target == "zone/kp1"
        item = [i for i in sched.items if i.announcement_id == "hop-to"][0]
        assert item.start == at.astimezone(item.start.tzinfo) or item.start >= at
        assert item.media.url.startswith(ward.service.media_url) and item.media.sha256 in item.media.url
        v1 = sched.version
        # the media the schedule names is served and matches its sha256
        import hashlib
        import urllib.request

        with urllib.request.urlopen(item.media.url, timeout=5) as r:
            assert hashlib.sha256(r.read()).hexdigest() == item.media.sha256
        # the node's state and an as-run event reach the store
        topics = protocol.Topics(ward.id)
        st = protocol.DeviceState("kp1-loa1", "speaker", True, zone="kp1", volume=80, applied={"zone/kp1": v1},
                                  clock=protocol.utc_now())
        env_st = protocol.make_envelope(protocol.T_STATE, st.to_body(), ward=ward.id, sender="kp1-loa1", seq=1)
        node.conn.publish(topics.device_state("kp1-loa1"), env_st.to_bytes(), retain=True)
        ev = protocol.AsRunEvent("ev-1", "kp1-loa1", item.item_id, "hop-to", "played", item.start, item.start, item.start)
        env_ev = protocol.make_envelope(protocol.T_EVENT, ev.to_body(), ward=ward.id, sender="kp1-loa1", seq=2)
        for _ in range(2):  # re-sent: stored once
            node.conn.publish(topics.device_events("kp1-loa1"), env_ev.to_bytes())
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and not (svc.store.events() and any(d.applied for d in svc.store.devices())):
            time.sleep(0.1)
        assert len(svc.store.events()) == 1
        dev = {d.id: d for d in svc.store.devices()}["kp1-loa1"]
        assert dev.online and dev.applied == {"zone/kp1": v1}
    finally:
        svc.stop()
        node.stop()

    # restart of the service: same truth, version not lower, still scheduled
    svc = CentralService(ward).start()
    try:
        node = Node(ward, "kp1-loa1", "kp1")
        _, sched = node.wait_for(is_schedule_with("hop-to"))
        assert sched.version >= v1
        node.stop()
        # restart of the broker (with its persistence): retained state survives; the service reconnects
        mosquitto.restart()
        assert svc.conn.wait_connected(WAIT)
        node = Node(ward, "kp1-loa1", "kp1")
        _, sched2 = node.wait_for(is_schedule_with("hop-to"))
        assert sched2.version >= sched.version
        node.stop()
    finally:
        svc.stop()
    # the broker killed without saving (power cut): the service re-sends everything on reconnect
    svc = CentralService(ward).start()
    try:
        assert svc.conn.wait_connected(WAIT)
        mosquitto.kill()
        mosquitto.start()
        node = Node(ward, "kp1-loa1", "kp1")
        _, sched3 = node.wait_for(is_schedule_with("hop-to"), timeout=30)
        assert sched3.version >= sched.version
        node.stop()
    finally:
        svc.stop()


def test_emergency_preempts_and_forgeries_are_refused(env: tuple[Ward, Producer]) -> None:
    ward, producer = env
    svc = CentralService(ward).start()
    node = Node(ward, "kp2-loa1", "kp2")
    try:
        assert svc.conn.wait_connected(WAIT)
        # the CLI is another process with its own connection to the store: the service notices
        with Store.for_ward(ward) as s:
            queue_announcement(ward, s, producer, ann(ward, "bao-lu", ("kp2",), ScheduleSpec("now"), "emergency"))
        topic, em = node.wait_for(lambda t, b: isinstance(b, protocol.Emergency))
        assert topic == protocol.Topics(ward.id).zone_emergency("kp2")
        assert em.item.priority == "emergency" and em.item.announcement_id == "bao-lu"
        assert protocol.PRIORITIES.index(em.item.priority) > protocol.PRIORITIES.index("priority")
        assert em.valid_until > protocol.utc_now()
        # a normal item queued for outside the windows is refused, and the store is unchanged
        with Store.for_ward(ward) as s:
            n = len(s.announcements())
            night = (protocol.utc_now() + timedelta(days=1)).astimezone(ward.tz).replace(hour=23, minute=0)
            with pytest.raises(ScheduleError, match="outside every broadcast window"):
                queue_announcement(ward, s, producer, ann(ward, "dem", ("kp2",), ScheduleSpec("once", at=night)))
            assert len(s.announcements()) == n
        # cancel: the emergency is cleared (retained clear replaces it)
        with Store.for_ward(ward) as s:
            s.cancel("bao-lu")
        node.wait_for(lambda t, b: isinstance(b, dict) and b.get("emergency_id") == em.emergency_id)

        # forgeries, on the real messages this node received
        topic, payload = next((t, p) for t, p in node.raw if t.endswith("/emergency"))
        fresh = protocol.ReplayGuard()
        env_ok, _ = protocol.open_envelope(payload, topic, node.verifier, fresh, ward=ward.id)  # type: ignore[misc]
        other_priv, _ = protocol.generate_keypair()
        forged = protocol.Signer(other_priv).sign(protocol.make_envelope(
            protocol.T_EMERGENCY, env_ok.body, ward=ward.id, sender="central", seq=env_ok.seq + 100))
        with pytest.raises(SignatureError):
            protocol.open_envelope(forged.to_bytes(), topic, node.verifier, protocol.ReplayGuard(), ward=ward.id)
        altered = payload.replace(b'"priority":"emergency"', b'"priority":"emergencx"', 1)
        assert altered != payload
        with pytest.raises(ProtocolError):
            protocol.open_envelope(altered, topic, node.verifier, protocol.ReplayGuard(), ward=ward.id)
        later_topic, later = [(t, p) for t, p in node.raw if t == topic][-1]
        guard = protocol.ReplayGuard()
        protocol.open_envelope(later, topic, node.verifier, guard, ward=ward.id)
        with pytest.raises(SignatureError, match="replay"):
            protocol.open_envelope(payload, topic, node.verifier, guard, ward=ward.id)  # older seq after newer
        # and a forged message published on the broker changes nothing on the node
        before = len(node.refused)
        node.conn.publish(topic, forged.to_bytes())
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and len(node.refused) == before:
            time.sleep(0.05)
        assert isinstance(node.refused[-1], SignatureError)
    finally:
        node.stop()
        svc.stop()


def test_future_emergency_is_fired_by_the_scheduler(env: tuple[Ward, Producer]) -> None:
    ward, producer = env
    svc = CentralService(ward).start()
    node = Node(ward, "kp3-loa1", "kp3")
    try:
        assert svc.conn.wait_connected(WAIT)
        at = (protocol.utc_now() + timedelta(seconds=4)).astimezone(ward.tz)
        with Store.for_ward(ward) as s:
            queue_announcement(ward, s, producer, ann(ward, "bao-chay", ("kp3",), ScheduleSpec("once", at=at), "emergency"))
        _, em = node.wait_for(lambda t, b: isinstance(b, protocol.Emergency))
        received = protocol.utc_now()
        assert em.item.announcement_id == "bao-chay"
        assert received >= at - timedelta(seconds=1.5)  # sent at its time (a one-off APScheduler job), not when queued
        assert any(j.startswith("at:") for j in svc.scheduler.job_ids())  # its end (the clear) is still to come
    finally:
        node.stop()
        svc.stop()


def test_queue_reports_overflow_of_an_airing_beyond_the_horizon(ward_dir: Path, tmp_path: Path) -> None:
    """The officer learns at queueing time, not on the day, that a bulletin will not fit its window."""
    ward = load_ward()
    producer = Producer(ward, MediaStore(ward.service.home / "media"), engine="espeak", cache_dir=tmp_path / "tts")
    day = (protocol.utc_now() + timedelta(days=10)).astimezone(ward.tz).date()
    at = datetime.combine(day, dt_time(17, 59, 55), ward.tz)  # window ends 18:00
    ann = Announcement(id="phi-ve-sinh", title="Phí vệ sinh", text="Thu phí vệ sinh 50.000đ/hộ trong tháng 12.",
                       zones=("kp1",), priority="normal", readings=2, chime=True, show_on_tv=False,
                       schedule=ScheduleSpec("once", at=at))
    with Store.for_ward(ward) as store:
        (res,) = queue_announcements(ward, store, producer, [ann])
    assert ward.service.horizon < timedelta(days=10)
    (over,) = res.overflows
    assert over.zone == "kp1" and over.moved_to is not None
    assert over.moved_to.astimezone(ward.tz).strftime("%H:%M") == "05:30"
    assert over.moved_to.astimezone(ward.tz).date() == day + timedelta(days=1)
    assert [i.start for i in res.items if i.zone == "kp1"][0] == over.moved_to


def test_malformed_device_messages_are_refused_and_change_nothing(env: tuple[Ward, Producer]) -> None:
    """Garbage on the broker is logged and counted; the service keeps serving the honest nodes."""
    ward, _ = env
    svc = CentralService(ward).start()
    topics = protocol.Topics(ward.id)
    pub = MqttConnection(BrokerAddress.parse(ward.service.mqtt_url), client_id="test-garbage", persistent=False)
    pub.start()
    try:
        assert svc.conn.wait_connected(WAIT) and pub.wait_connected(WAIT)
        other = protocol.DeviceState("kp2-loa1", "speaker", True, zone="kp2", applied={"zone/kp2": 99})
        bad = [
            (topics.device_state("kp1-loa1"), b"\xff\xfe not even text"),
            (topics.device_state("kp1-loa1"), b'{"v": 1, "type": "state"}'),  # fields missing
            (topics.device_state("kp1-loa1"), b'{"v": 7, "type": "state"}'),  # a future protocol
            # well-formed envelope, nonsense inside
            (topics.device_state("kp1-loa1"), protocol.make_envelope(protocol.T_STATE, {
                **protocol.DeviceState("kp1-loa1", "speaker", True).to_body(), "volume": "loud", "cache_items": 1e999},
                ward=ward.id, sender="kp1-loa1", seq=1).to_bytes()),
            # a node speaking for another one
            (topics.device_state("kp1-loa1"), protocol.make_envelope(protocol.T_STATE, other.to_body(), ward=ward.id, sender="kp1-loa1", seq=1).to_bytes()),
            # an event with an unknown kind
            (topics.device_events("kp1-loa1"), protocol.make_envelope(protocol.T_EVENT, {**protocol.AsRunEvent(
                "e1", "kp1-loa1", "i", "a", "played", protocol.utc_now()).to_body(), "kind": "exploded"}, ward=ward.id, sender="kp1-loa1", seq=2).to_bytes()),
        ]
        # an honest node first, retained as nodes do: once it is stored, the service is surely subscribed
        good = protocol.DeviceState("kp1-loa1", "speaker", True, zone="kp1", applied={"zone/kp1": 1})
        pub.publish(topics.device_state("kp1-loa1"),
                    protocol.make_envelope(protocol.T_STATE, good.to_body(), ward=ward.id, sender="kp1-loa1", seq=3).to_bytes(),
                    retain=True)
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and not {d.id: d for d in svc.store.devices()}["kp1-loa1"].online:
            time.sleep(0.05)
        for topic, payload in bad:
            pub.publish(topic, payload)
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and svc.ingest.refused < len(bad):
            time.sleep(0.05)
        assert svc.ingest.refused == len(bad)
        devs = {d.id: d for d in svc.store.devices()}
        assert devs["kp1-loa1"].online and devs["kp1-loa1"].applied == {"zone/kp1": 1}
        assert devs["kp2-loa1"].applied == {} and not svc.store.events()
    finally:
        pub.stop()
        svc.stop()


def test_a_second_service_on_the_same_data_folder_is_refused(env: tuple[Ward, Producer]) -> None:
    ward, _ = env
    svc = CentralService(ward).start()
    try:
        with pytest.raises(BroadcasterError, match="already runs"):
            CentralService(ward).start()
    finally:
        svc.stop()
    CentralService(ward).start().stop()  # once stopped, the folder is free again


def test_a_store_behind_the_nodes_publishes_above_them(env: tuple[Ward, Producer]) -> None:
    """A store restored from an old backup (or recreated) issues versions the nodes already passed:
    from the nodes' own state the service learns it and publishes above them."""
    ward, producer = env
    at = in_window_soon(ward, "kp1")
    with Store.for_ward(ward) as s:
        queue_announcement(ward, s, producer, ann(ward, "sau-khoi-phuc", ("kp1",), ScheduleSpec("once", at=at)))
    svc = CentralService(ward).start()
    node = Node(ward, "kp1-loa1", "kp1")
    pub = MqttConnection(BrokerAddress.parse(ward.service.mqtt_url), client_id="test-kp1-state", persistent=False)
    pub.start()
    try:
        _, sched = node.wait_for(is_schedule_with("sau-khoi-phuc"))
        ahead = sched.version + 500  # what the node applied from the store before the restore
        topics = protocol.Topics(ward.id)
        st = protocol.DeviceState("kp1-loa1", "speaker", True, zone="kp1", applied={"zone/kp1": ahead}, clock=protocol.utc_now())
        assert pub.wait_connected(WAIT)
        pub.publish(topics.device_state("kp1-loa1"),
                    protocol.make_envelope(protocol.T_STATE, st.to_body(), ward=ward.id, sender="kp1-loa1", seq=1).to_bytes(), retain=True)
        _, newer = node.wait_for(lambda t, b: isinstance(b, protocol.Schedule) and b.target == "zone/kp1" and b.version > ahead)
        assert any(i.announcement_id == "sau-khoi-phuc" for i in newer.items)
    finally:
        pub.stop()
        node.stop()
        svc.stop()


def test_a_second_service_for_the_ward_with_another_data_folder_gives_way(
    env: tuple[Ward, Producer], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ward, _ = env
    first = CentralService(ward).start()
    try:
        assert first.conn.wait_connected(WAIT)
        other_home = tmp_path / "other-home"
        monkeypatch.setenv("BROADCASTER_HOME", str(other_home))
        ward2 = load_ward()
        assert ward2.service.home == other_home
        (other_home / "keys").mkdir(parents=True)
        for src, dst in zip(key_paths(ward), key_paths(ward2)):
            dst.write_bytes(src.read_bytes())
        second = CentralService(ward2, serve_media=False).start()
        try:
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline and not second.conflict:
                time.sleep(0.1)
            assert second.conflict and str(ward.service.home) in second.conflict
            refreshes = second.status.refreshes
            time.sleep(2)
            assert first.conflict is None and first.conn.connected  # the first one keeps the ward
            assert second.status.refreshes == refreshes  # the second publishes nothing more
        finally:
            second.stop()
    finally:
        first.stop()
    third = CentralService(ward2, serve_media=False).start()  # the first stopped cleanly: the ward is free
    try:
        assert third.conn.wait_connected(WAIT)
        time.sleep(1.5)
        assert third.conflict is None
    finally:
        third.stop()


def test_the_service_warns_of_a_node_clock_minutes_off(env: tuple[Ward, Producer], caplog: pytest.LogCaptureFixture) -> None:
    ward, _ = env
    caplog.set_level("INFO", logger="broadcaster")
    svc = CentralService(ward).start()
    pub = MqttConnection(BrokerAddress.parse(ward.service.mqtt_url), client_id="test-skew", persistent=False)
    pub.start()
    try:
        assert svc.conn.wait_connected(WAIT) and pub.wait_connected(WAIT)
        time.sleep(0.5)
        topics = protocol.Topics(ward.id)
        st = protocol.DeviceState("kp2-loa1", "speaker", True, zone="kp2", clock=protocol.utc_now() - timedelta(minutes=2))
        pub.publish(topics.device_state("kp2-loa1"),
                    protocol.make_envelope(protocol.T_STATE, st.to_body(), ward=ward.id, sender="kp2-loa1", seq=1).to_bytes())
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and not any("kp2-loa1" in r.getMessage() and "chậm" in r.getMessage() for r in caplog.records):
            time.sleep(0.1)
        assert any(r.levelno == logging.WARNING and "chậm 120 giây" in r.getMessage() for r in caplog.records)
    finally:
        pub.stop()
        svc.stop()


LONG_TEXT = (
    "UBND phường thông báo lịch tiêm chủng mở rộng cho trẻ em dưới năm tuổi tại trạm y tế phường, số 12 đường Lê Lợi. "
    "Thời gian từ 7 giờ 30 đến 11 giờ sáng thứ Bảy và Chủ nhật. Phụ huynh mang theo sổ tiêm chủng và thẻ bảo hiểm y tế của trẻ. "
    "Trẻ đang sốt, đang ốm hoặc mới khỏi bệnh cần báo cho cán bộ y tế trước khi tiêm. Sau khi tiêm, phụ huynh cho trẻ ở lại "
    "trạm ba mươi phút để theo dõi phản ứng. Trẻ chưa tiêm đủ mũi theo lịch được tiêm bù miễn phí. Các gia đình có trẻ mới "
    "chuyển đến phường liên hệ tổ trưởng tổ dân phố để được ghi tên vào danh sách. Mọi thắc mắc xin liên hệ trạm y tế phường "
    "qua số điện thoại 0233 3852 115 trong giờ hành chính, hoặc đường dây nóng của phường. Đề nghị các tổ dân phố thông báo "
    "rộng rãi đến từng hộ gia đình để không trẻ nào bị bỏ sót trong đợt tiêm chủng này."
)


def test_a_long_announcement_reaches_the_tv_with_all_its_slides(env: tuple[Ward, Producer]) -> None:
    """The store keeps every slide of an announcement; the TV's deck carries them all (key facts first),
    the loudspeakers' schedule stays as it was (``slide`` only)."""
    ward, producer = env
    svc = CentralService(ward).start()
    node = Node(ward, "kp1-loa1", "kp1")
    tv = Node(ward, "tv-tnkq", "")
    try:
        assert svc.conn.wait_connected(WAIT)
        a = Announcement("tiem-chung", "Lịch tiêm chủng mở rộng", LONG_TEXT, ("kp1",), "normal", 1, False, True,
                         ScheduleSpec("once", at=in_window_soon(ward, "kp1")))
        with Store.for_ward(ward) as s:
            queue_announcement(ward, s, producer, a)
            stored = next(x for x in s.announcements() if x.id == "tiem-chung").slides
        assert len(stored) > 1  # a key-facts slide and continuations
        _, deck = tv.wait_for(lambda t, b: isinstance(b, protocol.Deck) and any(o.announcement_id == "tiem-chung" for o in b.overlays))
        o = next(o for o in deck.overlays if o.announcement_id == "tiem-chung")
        assert o.slide == o.slides[0] and len(o.slides) == len(stored)
        with Store.for_ward(ward) as s:
            assert [r.sha256 for r in o.slides] == [s.media(n).sha256 for n in stored]
        _, sched = node.wait_for(is_schedule_with("tiem-chung"))
        it = next(i for i in sched.items if i.announcement_id == "tiem-chung")
        assert it.slide == o.slide and it.slides == ()
        raw = [p for t, p in node.raw if t.endswith("/schedule") and b"tiem-chung" in p]
        assert raw and all(b'"slides"' not in p for p in raw)
    finally:
        tv.stop()
        node.stop()
        svc.stop()

"""The broker connection against a real Mosquitto: retained state, reconnect, last will, offline queue."""

from __future__ import annotations

import queue
import subprocess
import sys
import textwrap
import time

import pytest

from broadcaster.errors import ConfigError
from broadcaster.localbroker import LocalMosquitto
from broadcaster.transport import BrokerAddress, MqttConnection


def _inbox() -> tuple[queue.Queue[tuple[str, bytes, bool]], object]:
    q: queue.Queue[tuple[str, bytes, bool]] = queue.Queue()
    return q, lambda t, p, r: q.put((t, p, r))


def _addr(broker: LocalMosquitto) -> BrokerAddress:
    return BrokerAddress.parse(broker.url)


def test_address_parsing() -> None:
    a = BrokerAddress.parse("mqtts://kp1-loa1:s%40cret@broker.example")
    assert (a.host, a.port, a.username, a.password, a.tls) == ("broker.example", 8883, "kp1-loa1", "s@cret", True)
    assert "s@cret" not in str(a)
    assert BrokerAddress.parse("mqtt://10.0.0.2").port == 1883
    with pytest.raises(ConfigError, match="mqtt://host:1883"):
        BrokerAddress.parse("10.0.0.2:1883")


def test_retained_message_reaches_late_subscriber_and_survives_broker_restart(mosquitto: LocalMosquitto) -> None:
    pub = MqttConnection(_addr(mosquitto), "t-pub")
    pub.start()
    assert pub.wait_connected(5)
    assert pub.publish_and_wait("bc/v1/w/zone/kp1/schedule", b"v1", retain=True)
    pub.stop()

    mosquitto.restart()  # persistence: the retained message is kept

    q, handler = _inbox()
    sub = MqttConnection(_addr(mosquitto), "t-sub")
    sub.subscribe("bc/v1/w/zone/kp1/schedule", handler)  # before start: made on connect
    sub.start()
    try:
        assert q.get(timeout=5) == ("bc/v1/w/zone/kp1/schedule", b"v1", True)
    finally:
        sub.stop()


def test_reconnects_and_resubscribes_after_broker_outage(mosquitto: LocalMosquitto) -> None:
    q, handler = _inbox()
    sub = MqttConnection(_addr(mosquitto), "t-node", max_backoff=2)
    sub.subscribe("bc/v1/w/device/+/events", handler)
    sub.start()
    assert sub.wait_connected(5)
    mosquitto.kill()  # power cut: no clean shutdown
    deadline = time.monotonic() + 5
    while sub.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not sub.connected
    mosquitto.start()
    assert sub.wait_connected(10), "no reconnect after the broker came back"
    pub = MqttConnection(_addr(mosquitto), "t-pub2")
    pub.start()
    try:
        assert pub.wait_connected(5)
        pub.publish("bc/v1/w/device/kp1-loa1/events", b"e1")
        topic, payload, retained = q.get(timeout=5)
        assert (topic, payload, retained) == ("bc/v1/w/device/kp1-loa1/events", b"e1", False)
    finally:
        pub.stop()
        sub.stop()


def test_publish_while_offline_is_delivered_after_connect(mosquitto: LocalMosquitto) -> None:
    q, handler = _inbox()
    central = MqttConnection(_addr(mosquitto), "t-central")
    central.subscribe("bc/v1/w/device/+/events", handler)
    central.start()
    assert central.wait_connected(5)
    node = MqttConnection(_addr(mosquitto), "t-node-offline")
    assert node.publish("bc/v1/w/device/kp2-loa1/events", b"queued")  # not connected yet: kept
    node.start()
    try:
        assert q.get(timeout=5)[1] == b"queued"
    finally:
        node.stop()
        central.stop()


def test_last_will_announces_a_vanished_node(mosquitto: LocalMosquitto) -> None:
    q, handler = _inbox()
    watcher = MqttConnection(_addr(mosquitto), "t-watch")
    watcher.subscribe("bc/v1/w/device/kp3-loa1/state", handler)
    watcher.start()
    assert watcher.wait_connected(5)
    # A node in its own process, killed without a clean disconnect: the broker sends its will.
    code = textwrap.dedent(
        f"""
        import time
        from broadcaster.transport import BrokerAddress, MqttConnection, Will
        c = MqttConnection(BrokerAddress.parse({mosquitto.url!r}), "kp3-loa1", keepalive=2,
                           will=Will("bc/v1/w/device/kp3-loa1/state", b"offline"))
        c.start()
        assert c.wait_connected(5)
        c.publish_and_wait("bc/v1/w/device/kp3-loa1/state", b"online", retain=True)
        print("up", flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "up"
        assert q.get(timeout=5)[1] == b"online"
        proc.kill()
        topic, payload, _ = q.get(timeout=10)
        assert payload == b"offline"
    finally:
        proc.kill()
        proc.wait()
        watcher.stop()

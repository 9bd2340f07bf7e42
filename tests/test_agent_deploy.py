"""Deployment files: the generated passwords and ACL enforced by a real Mosquitto with our config."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_support import wait_for
from broadcaster.cli.main import main
from broadcaster.config import load_ward
from broadcaster.localbroker import find_mosquitto, free_port
from broadcaster.protocol import Topics
from broadcaster.transport import BrokerAddress, MqttConnection

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def secured(ward_dir: Path, tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port = free_port()
    out = tmp_path / "broker"
    assert main(["broker-config", "--out", str(out), "--host", "127.0.0.1", "--port", str(port)]) == 0
    conf = (ROOT / "devices" / "mosquitto" / "broadcaster.conf").read_text()
    conf = conf.replace("/etc/mosquitto/broadcaster/", f"{out}/")
    conf = re.sub(r"^listener 1883$", f"listener {port} 127.0.0.1", conf, flags=re.M)
    extra = "\npersistence false\n"
    import os

    if os.geteuid() == 0:  # as root Mosquitto drops to user `mosquitto`, who may not read a 0600 file of ours
        extra += "user root\n"
    (out / "m.conf").write_text(conf + extra)
    proc = subprocess.Popen([find_mosquitto(), "-c", str(out / "m.conf")], stderr=subprocess.PIPE)
    time.sleep(0.3)
    assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    yield port, out
    proc.terminate()
    proc.wait(5)


def _conn(out: Path, user: str) -> MqttConnection:
    url = (out / "credentials" / f"{user}.env").read_text().strip().split("=", 1)[1]
    c = MqttConnection(BrokerAddress.parse(url), f"t-{user}", persistent=False)
    c.start()
    return c


def test_acl_gives_a_node_only_its_topics(secured: tuple[int, Path]) -> None:
    _port, out = secured
    ward = load_ward()
    t = Topics(ward.id)
    central, node, intruder = _conn(out, "central"), _conn(out, "kp1-loa1"), _conn(out, "kp2-loa1")
    got: list[str] = []
    try:
        for c in (central, node, intruder):
            assert c.wait_connected(5)
        for topic in (t.zone_schedule("kp1"), t.zone_schedule("kp2"), t.device_config("kp2-loa1")):
            node.subscribe(topic, lambda tp, p, r: got.append(tp))
        states: list[str] = []
        central.subscribe(t.all_states, lambda tp, p, r: states.append(tp))
        time.sleep(0.3)
        central.publish(t.zone_schedule("kp1"), b"a")
        central.publish(t.zone_schedule("kp2"), b"b")
        central.publish(t.device_config("kp2-loa1"), b"c")
        intruder.publish(t.zone_schedule("kp1"), b"forged")  # a node may not write the zone's schedule
        intruder.publish(t.device_state("kp1-loa1"), b"x")  # nor another node's state
        node.publish(t.device_state("kp1-loa1"), b"{}")  # its own: yes
        wait_for(lambda: states)
        time.sleep(0.5)
        assert got == [t.zone_schedule("kp1")]
        assert states == [t.device_state("kp1-loa1")]
    finally:
        for c in (central, node, intruder):
            c.stop()


def test_wrong_password_is_refused(secured: tuple[int, Path]) -> None:
    port, _out = secured
    c = MqttConnection(BrokerAddress.parse(f"mqtt://kp1-loa1:nope@127.0.0.1:{port}"), "t-bad", persistent=False)
    c.start()
    try:
        assert not c.wait_connected(1.5)
    finally:
        c.stop()

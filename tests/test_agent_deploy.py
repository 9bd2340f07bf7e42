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


def _url(out: Path, user: str) -> str:
    return (out / "credentials" / f"{user}.env").read_text().strip().split("=", 1)[1]


def test_a_device_password_cannot_take_over_the_central_client_id(secured: tuple[int, Path]) -> None:
    """A node's credentials used with the central's client id (clean session) must neither knock the
    central off nor wipe the messages the broker queued for it."""
    _port, out = secured
    ward = load_ward()
    t = Topics(ward.id)
    cid = f"bc-central-{ward.id}"
    got: list[bytes] = []
    drops = 0

    central = MqttConnection(BrokerAddress.parse(_url(out, "central")), cid, persistent=True)
    central.subscribe(t.all_events, lambda tp, p, r: got.append(p))
    central.start()
    assert central.wait_connected(5)
    time.sleep(0.3)
    central.stop()  # offline: the broker queues events for its persistent session
    node = MqttConnection(BrokerAddress.parse(_url(out, "kp1-loa1")), "t-node", persistent=False)
    node.start()
    assert node.wait_connected(5)
    assert node.publish_and_wait(t.device_events("kp1-loa1"), b"queued-1", timeout=5)
    assert node.publish_and_wait(t.device_events("kp1-loa1"), b"queued-2", timeout=5)
    # the attacker: another node's password, the central's client id, a clean session
    thief = MqttConnection(BrokerAddress.parse(_url(out, "kp2-loa1")), cid, persistent=False)
    thief.start()
    try:
        assert thief.wait_connected(5)
        time.sleep(0.5)
        central.start()
        assert central.wait_connected(5)
        wait_for(lambda: len(got) >= 2, timeout=10)
        assert sorted(got) == [b"queued-1", b"queued-2"]
        # and the thief reconnecting again and again does not knock the central off
        for _ in range(5):
            thief.stop()
            thief.start()
            assert thief.wait_connected(5)
            if not central.connected:
                drops += 1
        time.sleep(0.5)
        assert central.connected and drops == 0
    finally:
        for c in (thief, node, central):
            c.stop()


def test_broker_config_hashes_without_plaintext_and_files_are_private(ward_dir: Path, tmp_path: Path) -> None:
    import os
    import stat

    out = tmp_path / "b"
    old = os.umask(0o022)
    try:
        assert main(["broker-config", "--out", str(out)]) == 0
    finally:
        os.umask(old)
    passwd = (out / "passwd").read_text()
    for line in passwd.splitlines():
        user, h = line.split(":", 1)
        pw = _url(out, user).split("@")[0].rsplit(":", 1)[1]
        assert h.startswith("$7$") and pw not in passwd
    for f in [out / "passwd", *sorted((out / "credentials").iterdir())]:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    assert not list(out.glob("*.tmp")) and not list((out / "credentials").glob("*.tmp"))


def test_a_device_named_central_is_refused(ward_dir: Path, tmp_path: Path) -> None:
    from broadcaster.errors import ConfigError

    wf = ward_dir / "devices" / "ward.toml"
    wf.write_text(wf.read_text().replace('id = "kp1-loa1"', 'id = "central"', 1))
    with pytest.raises(ConfigError, match="reserved"):
        load_ward()
    assert main(["broker-config", "--out", str(tmp_path / "b")]) != 0

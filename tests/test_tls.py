"""Broker TLS with the ward's own CA, as `broadcaster broker-config --tls` makes it, on a real Mosquitto:
nodes given the CA connect, a node without it is refused and says why in its log and state, and
there is no plaintext listener."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_support import wait_for
from broadcaster.agents.audio_out import FileOutput
from broadcaster.agents.speaker import SpeakerAgent
from broadcaster.cli.main import main
from broadcaster.config import load_ward
from broadcaster.localbroker import find_mosquitto, free_port
from broadcaster.protocol import Verifier, generate_keypair
from broadcaster.transport import BrokerAddress, MqttConnection


@pytest.fixture
def tls_broker(ward_dir: Path, tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port = free_port()
    out = tmp_path / "broker"
    assert main(["broker-config", "--out", str(out), "--host", "127.0.0.1", "--port", str(port), "--tls"]) == 0
    conf = (out / "broadcaster-tls.conf").read_text().replace("/etc/mosquitto/broadcaster", str(out))
    assert len(re.findall(r"^listener ", conf, flags=re.M)) == 1  # TLS only
    conf = re.sub(r"^listener \d+$", f"listener {port} 127.0.0.1", conf, flags=re.M)
    conf += "\npersistence false\n" + ("user root\n" if os.geteuid() == 0 else "")
    (out / "m.conf").write_text(conf)
    proc = subprocess.Popen([find_mosquitto(), "-c", str(out / "m.conf")], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.05)
    yield port, out
    proc.terminate()
    proc.wait(5)


def _url(out: Path, user: str) -> str:
    line = next(x for x in (out / "credentials" / f"{user}.env").read_text().splitlines() if x.startswith("BROADCASTER_MQTT_URL="))
    return line.split("=", 1)[1]


def test_nodes_trust_the_wards_ca_and_nothing_else(tls_broker: tuple[int, Path]) -> None:
    port, out = tls_broker
    env = (out / "credentials" / "kp1-loa1.env").read_text()
    assert _url(out, "kp1-loa1").startswith("mqtts://") and "BROADCASTER_MQTT_CA=" in env
    good = MqttConnection(BrokerAddress.parse(_url(out, "kp1-loa1")), "t-good", persistent=False, ca_file=str(out / "tls" / "ca.crt"))
    bad = MqttConnection(BrokerAddress.parse(_url(out, "kp2-loa1")), "t-bad", persistent=False)  # system CAs only
    plain = MqttConnection(BrokerAddress.parse(_url(out, "kp2-loa1").replace("mqtts://", "mqtt://")), "t-plain", persistent=False)
    for c in (good, bad, plain):
        c.start()
    try:
        assert good.wait_connected(10)
        wait_for(lambda: bad.last_error, timeout=10)
        assert "certificate not trusted" in (bad.last_error or "") and "BROADCASTER_MQTT_CA" in (bad.last_error or "")
        assert not bad.connected and not plain.wait_connected(2)
    finally:
        for c in (good, bad, plain):
            c.stop()


def test_a_certificate_failure_is_in_the_node_log_and_state(ward_dir: Path, tls_broker: tuple[int, Path], tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    _port, out = tls_broker
    ward = load_ward()
    _priv, pub = generate_keypair()
    # a CA that is not the ward's: the broker's certificate must not be trusted
    other = tmp_path / "other-ca"
    from broadcaster.cli.broker_cmd import make_tls

    make_tls(other, "127.0.0.1")
    agent = SpeakerAgent(ward, ward.device("kp1-loa1"), output=FileOutput(tmp_path / "o", "kp1-loa1"), verifier=Verifier(pub),
                         home=tmp_path / "home", broker_url=_url(out, "kp1-loa1"), mqtt_ca=str(other / "ca.crt"))
    agent.start()
    try:
        wait_for(lambda: agent.store.memory.link_error, timeout=10)
        assert "certificate not trusted" in agent.store.memory.link_error.error
        # saved by the memory's writer thread, not on paho's network thread: soon, not at once
        state = agent.dir / "state.json"
        wait_for(lambda: state.exists() and "certificate not trusted" in json.loads(state.read_text()).get("link_error", {}).get("error", ""),
                 timeout=10)
        assert any(r.levelname == "ERROR" and "certificate not trusted" in r.getMessage() for r in caplog.records)
    finally:
        agent.stop()


def test_a_node_with_a_stale_clock_still_trusts_the_broker(tmp_path: Path) -> None:
    # A board without a real-time clock boots with an old time and corrects it over NTP, which it
    # may only reach once connected: the broker's certificate must verify at such a time too.
    # OpenSSL checks at given instants (-attime), so nothing here depends on today's date.
    from broadcaster.cli.broker_cmd import make_tls

    folder = make_tls(tmp_path / "tls", "127.0.0.1")
    ca, crt = str(folder / "ca.crt"), str(folder / "broker.crt")
    stale = 1_609_459_200  # 2021-01-01T00:00:00Z: a board's build date, long before the certificate
    before_2020 = 1_546_300_800  # 2019-01-01: before the fixed start of validity
    ok = subprocess.run(["openssl", "verify", "-attime", str(stale), "-CAfile", ca, crt], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    early = subprocess.run(["openssl", "verify", "-attime", str(before_2020), "-CAfile", ca, crt], capture_output=True, text=True)
    assert early.returncode != 0 and "not yet valid" in (early.stdout + early.stderr)

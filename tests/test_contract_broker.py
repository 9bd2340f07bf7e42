"""One contract for the broker connection (``broadcaster.transport``), run against a real Mosquitto in
each way a ward deploys it:

* ``open``: the private loopback broker of the demo and the tests (``localbroker``), anonymous;
* ``passwords``: the shipped ``devices/mosquitto/broadcaster.conf`` with the users, passwords and
  ACL that ``broadcaster broker-config`` makes from the ward file, plain MQTT;
* ``tls``: ``broadcaster broker-config --tls``: the ward's own CA, a TLS listener only.

The sender is the central service's user and the receiver a speaker node's; the topics the receiver
reads are taken from the ACL the deployment generated, so the suite follows the topic layout
wherever it is defined. The deployments with users must also refuse wrong credentials and keep each
node to its own topics. The brokers keep no persistence: a restart loses every session, and the
connection must make its subscriptions again by itself.
"""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest

from broadcaster.cli.main import main
from broadcaster.localbroker import LocalMosquitto, find_mosquitto, free_port
from broadcaster.transport import BrokerAddress, BrokerConnection, MqttConnection

SENDER, RECEIVER = "central", "kp1-loa1"
Inbox = queue.Queue[tuple[str, bytes, bool]]


def _inbox() -> tuple[Inbox, Callable[[str, bytes, bool], None]]:
    q: Inbox = queue.Queue()
    return q, lambda t, p, r: q.put((t, p, r))


def _listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            assert proc.poll() is None, proc.stderr.read().decode(errors="replace") if proc.stderr else "mosquitto exited"
            time.sleep(0.05)
    raise AssertionError(f"mosquitto did not listen on {port}")


class Deployment:
    """A running broker set up one way, with the addresses its users connect to."""

    name = ""
    auth = False

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def restart(self) -> None:
        self.stop()
        self.start()

    def address(self, user: str) -> BrokerAddress:
        raise NotImplementedError

    def ca_file(self) -> str | None:
        return None

    def readable(self, user: str) -> list[str]:
        raise NotImplementedError

    def connect(self, user: str) -> MqttConnection:
        return MqttConnection(self.address(user), user, ca_file=self.ca_file(), max_backoff=2)


class Open(Deployment):
    name = "open"

    def __init__(self, tmp: Path) -> None:
        self.broker = LocalMosquitto(tmp / "mosquitto", persistence=False)

    def start(self) -> None:
        self.broker.start()

    def stop(self) -> None:
        self.broker.stop()

    def address(self, user: str) -> BrokerAddress:
        return BrokerAddress.parse(self.broker.url)

    def readable(self, user: str) -> list[str]:
        return [f"bc/v1/test/zone/{user}/schedule", f"bc/v1/test/device/{user}/deck"]


class Generated(Deployment):
    """Mosquitto run with what ``broadcaster broker-config`` wrote for the ward (a real ACL and passwd)."""

    auth = True

    def __init__(self, tmp: Path, tls: bool) -> None:
        self.name = "tls" if tls else "passwords"
        self.port = free_port()
        self.out = tmp / "broker"
        self.tls = tls
        args = ["broker-config", "--out", str(self.out), "--host", "127.0.0.1", "--port", str(self.port)]
        assert main([*args, "--tls"] if tls else args) == 0
        if tls:
            conf = (self.out / "broadcaster-tls.conf").read_text(encoding="utf-8").replace("/etc/mosquitto/broadcaster", str(self.out))
        else:  # the shipped plain configuration, pointed at the generated files
            shipped = Path(__file__).resolve().parent.parent / "devices" / "mosquitto" / "broadcaster.conf"
            conf = shipped.read_text(encoding="utf-8").replace("/etc/mosquitto/broadcaster", str(self.out))
        assert len(re.findall(r"^listener ", conf, flags=re.M)) == 1
        conf = re.sub(r"^listener \d+$", f"listener {self.port} 127.0.0.1", conf, flags=re.M)
        conf += "\npersistence false\n" + ("user root\n" if os.geteuid() == 0 else "")
        self.conf = self.out / "test-mosquitto.conf"
        self.conf.write_text(conf, encoding="utf-8")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([find_mosquitto(), "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _listening(self.port, self.proc)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def address(self, user: str) -> BrokerAddress:
        env = (self.out / "credentials" / f"{user}.env").read_text(encoding="utf-8")
        url = next(x for x in env.splitlines() if x.startswith("BROADCASTER_MQTT_URL=")).split("=", 1)[1]
        return BrokerAddress.parse(url)

    def ca_file(self) -> str | None:
        return str(self.out / "tls" / "ca.crt") if self.tls else None

    def readable(self, user: str) -> list[str]:
        acl = (self.out / "acl").read_text(encoding="utf-8").split("\n\n")
        block = next(b for b in acl if re.search(rf"^user {re.escape(user)}$", b, flags=re.M))
        return re.findall(r"^topic read (\S+)$", block, flags=re.M)


@pytest.fixture(params=["open", "passwords", "tls"])
def deployment(request: pytest.FixtureRequest, ward_dir: Path, tmp_path: Path) -> Iterator[Deployment]:
    d: Deployment = Open(tmp_path) if request.param == "open" else Generated(tmp_path, tls=request.param == "tls")
    d.start()
    try:
        yield d
    finally:
        d.stop()


@pytest.fixture(params=["passwords", "tls"])
def guarded(request: pytest.FixtureRequest, ward_dir: Path, tmp_path: Path) -> Iterator[Deployment]:
    d = Generated(tmp_path, tls=request.param == "tls")
    d.start()
    try:
        yield d
    finally:
        d.stop()


class Clients:
    def __init__(self, d: Deployment) -> None:
        self.d = d
        self.made: list[MqttConnection] = []

    def __call__(self, user: str) -> MqttConnection:
        c = self.d.connect(user)
        self.made.append(c)
        return c

    def stop_all(self) -> None:
        for c in self.made:
            c.stop()


@pytest.fixture
def clients(deployment: Deployment) -> Iterator[Clients]:
    made = Clients(deployment)
    try:
        yield made
    finally:
        made.stop_all()


def _started(c: BrokerConnection, timeout: float = 10) -> BrokerConnection:
    c.start()
    assert c.wait_connected(timeout), "did not connect"
    return c


def _wait_until(pred: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_connects_and_disconnects(deployment: Deployment, clients: Clients) -> None:
    c = clients(RECEIVER)
    assert not c.connected
    _started(c)
    assert c.connected
    c.stop()
    assert not c.connected


def test_subscriptions_made_before_and_after_connecting_both_receive(deployment: Deployment, clients: Clients) -> None:
    before, after = deployment.readable(RECEIVER)[:2]
    q, handler = _inbox()
    rx = clients(RECEIVER)
    rx.subscribe(before, handler)
    _started(rx)
    rx.subscribe(after, handler)
    tx = _started(clients(SENDER))
    time.sleep(0.3)  # the second SUBSCRIBE is in flight; a live message sent before it lands is not for us
    assert tx.publish(before, b"one")
    assert tx.publish(after, b"two")
    got = {q.get(timeout=10)[:2], q.get(timeout=10)[:2]}
    assert got == {(before, b"one"), (after, b"two")}


def test_retained_state_reaches_a_late_subscriber_marked_retained(deployment: Deployment, clients: Clients) -> None:
    topic = deployment.readable(RECEIVER)[0]
    tx = _started(clients(SENDER))
    assert tx.publish(topic, b'{"version": 7}', retain=True)
    time.sleep(0.3)
    q, handler = _inbox()
    rx = clients(RECEIVER)
    rx.subscribe(topic, handler)
    _started(rx)
    assert q.get(timeout=10) == (topic, b'{"version": 7}', True)
    # published while subscribed: live, not a stored state
    assert tx.publish(topic, b'{"version": 8}', retain=True)
    assert q.get(timeout=10) == (topic, b'{"version": 8}', False)


def test_payloads_arrive_byte_for_byte(deployment: Deployment, clients: Clients) -> None:
    topic = deployment.readable(RECEIVER)[0]
    q, handler = _inbox()
    rx = clients(RECEIVER)
    rx.subscribe(topic, handler)
    _started(rx)
    tx = _started(clients(SENDER))
    payloads = [b"", bytes(range(256)), "Thông báo khẩn".encode(), os.urandom(200_000)]
    for p in payloads:
        assert tx.publish(topic, p)
    assert [q.get(timeout=10)[1] for _ in payloads] == payloads  # QoS 1 from one sender: in order


def test_after_a_broker_restart_it_reconnects_and_subscribes_again(deployment: Deployment, clients: Clients) -> None:
    topic = deployment.readable(RECEIVER)[0]
    q, handler = _inbox()
    rx = clients(RECEIVER)
    rx.subscribe(topic, handler)
    _started(rx)
    tx = _started(clients(SENDER))
    deployment.stop()  # the broker goes away and comes back with no memory of anyone
    assert _wait_until(lambda: not rx.connected and not tx.connected), "the loss of the broker went unnoticed"
    deployment.start()
    assert rx.wait_connected(30) and tx.wait_connected(30), "no reconnect after the broker came back"
    assert _wait_until(lambda: tx.publish(topic, b"after") and _got(q, b"after"), timeout=20), \
        "nothing received after the restart: subscriptions not made again"


def _got(q: Inbox, payload: bytes, timeout: float = 0.5) -> bool:
    """Whether ``payload`` arrives within ``timeout`` (what else arrives meanwhile is passed over)."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            if q.get(timeout=left)[1] == payload:
                return True
        except queue.Empty:
            break
    return False


def test_what_is_published_while_the_broker_is_away_is_sent_when_it_is_back(deployment: Deployment, clients: Clients) -> None:
    topic = deployment.readable(RECEIVER)[0]
    tx = _started(clients(SENDER))
    deployment.stop()
    assert _wait_until(lambda: not tx.connected)
    assert tx.publish(topic, b"queued while away", retain=True)  # kept by the connection, not refused
    deployment.start()
    assert tx.wait_connected(30)
    q, handler = _inbox()
    rx = clients(RECEIVER)
    rx.subscribe(topic, handler)
    _started(rx, timeout=30)
    assert _got(q, b"queued while away", timeout=10)


def _has_error(c: MqttConnection) -> bool:
    return c.last_error is not None


def test_wrong_credentials_are_refused(guarded: Deployment) -> None:
    good = guarded.address(RECEIVER)
    attempts = {
        "wrong password": replace(good, password="not-the-password"),
        "unknown user": replace(good, username="kp9-nobody"),
        "no credentials": replace(good, username=None, password=None),
    }
    conns = {why: MqttConnection(addr, f"t-{n}", ca_file=guarded.ca_file(), max_backoff=2) for n, (why, addr) in enumerate(attempts.items())}
    for c in conns.values():
        c.start()
    try:
        for why, c in conns.items():
            assert _wait_until(partial(_has_error, c)), f"{why}: no error reported"
            assert not c.connected, f"{why}: connected anyway"
            assert "refused" in (c.last_error or ""), f"{why}: {c.last_error}"
            # the error a technician reads names the broker, never the password tried
            assert "not-the-password" not in (c.last_error or "")
        ok = _started(MqttConnection(good, RECEIVER, ca_file=guarded.ca_file(), max_backoff=2))
        ok.stop()
    finally:
        for c in conns.values():
            c.stop()


def test_a_node_reads_only_its_own_topics_and_cannot_write_them(guarded: Deployment) -> None:
    own = guarded.readable(RECEIVER)[0]
    others = [t for t in guarded.readable("kp2-loa1") if t not in guarded.readable(RECEIVER)]
    assert others, "the ward file has no topic of kp2-loa1's that kp1-loa1 does not read"
    q, handler = _inbox()
    rx = MqttConnection(guarded.address(RECEIVER), RECEIVER, ca_file=guarded.ca_file(), max_backoff=2)
    tx = MqttConnection(guarded.address(SENDER), SENDER, ca_file=guarded.ca_file(), max_backoff=2)
    watcher = MqttConnection(guarded.address("kp2-loa1"), "kp2-loa1", ca_file=guarded.ca_file(), max_backoff=2)
    seen, seen_handler = _inbox()
    try:
        rx.subscribe(others[0], handler)
        rx.subscribe(own, handler)
        watcher.subscribe(others[0], seen_handler)
        for c in (rx, watcher, tx):  # the sender last: its handshake follows the others' SUBSCRIBEs
            _started(c)
        assert tx.publish(others[0], b"for kp2 only")
        assert tx.publish(own, b"for kp1")
        assert q.get(timeout=10)[:2] == (own, b"for kp1")
        assert seen.get(timeout=10)[:2] == (others[0], b"for kp2 only")  # it was sent, to the one allowed
        assert not _got(q, b"for kp2 only", timeout=1.0)
        # a node writing a schedule in place of the central: the broker drops it
        assert rx.publish(others[0], b"forged by kp1")
        assert tx.publish(others[0], b"marker")
        assert _got(seen, b"marker", timeout=10)
        assert not _got(seen, b"forged by kp1", timeout=1.0)
    finally:
        for c in (rx, tx, watcher):
            c.stop()

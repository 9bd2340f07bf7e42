"""Faults at a speaker node: killed mid-airing, a full disk, a corrupt memory file, a corrupted cache,
and the central's acknowledgement of as-run events. Real Mosquitto, real HTTP, real files; the
kill test kills a real `broadcaster speaker` process with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from agent_support import Central, MediaServer, item, make_mp3, wait_for
from broadcaster.config import Ward, load_ward
from broadcaster.localbroker import LocalMosquitto
from broadcaster.protocol import Emergency, utc_now
from test_agent_speaker import DEV, Node, events

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def ward(ward_dir: Path) -> Ward:
    return load_ward()


@pytest.fixture
def central(ward: Ward, mosquitto: LocalMosquitto) -> Iterator[Central]:
    c = Central(ward.id, mosquitto.url)
    c.listen(c.topics.all_events)
    yield c
    c.close()


@pytest.fixture
def node(ward: Ward, central: Central, mosquitto: LocalMosquitto, tmp_path: Path) -> Iterator[Node]:
    n = Node(ward, central, mosquitto, tmp_path / "out", ack_timeout_s=1.0)
    yield n
    n.stop()


def airings(out: Path, item_id: str) -> list[Path]:
    """Every time the item went on air: the file output creates one WAV per airing as it starts."""
    return sorted((out / DEV).glob(f"*_{item_id}.wav"))


def test_an_event_stays_until_the_central_acknowledges_it(node: Node, central: Central, server: MediaServer, tmp_path: Path) -> None:
    mp3 = server.add("a.mp3", make_mp3(tmp_path / "a.mp3", 0.5))
    central.ack_events = False  # the central got it from the broker but could not store it (yet)
    agent = node.start()
    assert agent.runtime.conn and agent.runtime.conn.wait_connected(10)
    central.schedule("kp1", 1, [item("a", utc_now() + timedelta(seconds=2), mp3)])
    wait_for(lambda: len(events(central)) >= 1, timeout=10)
    time.sleep(1.0)
    assert len(agent.runtime.outbox) == 1  # the broker's PUBACK is not enough
    wait_for(lambda: len(events(central)) >= 2, timeout=10)  # sent again, no answer having come
    central.ack_events = True
    wait_for(lambda: len(agent.runtime.outbox) == 0, timeout=15)
    ids = {e["event_id"] for e in events(central)}
    assert len(ids) == 1  # every re-send is the same event: the central stores it once


def _speaker_proc(ward_dir: Path, home: Path, out: Path, broker: str, pub: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "broadcaster", "speaker", "--device", DEV, "--output", "file", "--out", str(out),
         "--home", str(home), "--broker", broker, "--public-key", str(pub)],
        env=env, stdout=subprocess.DEVNULL, stderr=open(home / "speaker.log", "ab"), cwd=ward_dir,
    )


def test_killed_mid_airing_is_reported_interrupted_and_never_aired_again(
    ward_dir: Path, central: Central, mosquitto: LocalMosquitto, server: MediaServer, tmp_path: Path
) -> None:
    home, out = tmp_path / "home", tmp_path / "out"
    home.mkdir()
    pub = tmp_path / "central.pub"
    pub.write_bytes(central.public_pem)
    mp3 = server.add("long.mp3", make_mp3(tmp_path / "long.mp3", 6.0))
    proc = _speaker_proc(ward_dir, home, out, mosquitto.url, pub)
    try:
        central.schedule("kp1", 1, [item("bulletin", utc_now() + timedelta(seconds=8), mp3, duration_ms=6000)])
        journal = home / "agents" / DEV / "airings.journal"
        wait_for(lambda: journal.exists() and b"on_air" in journal.read_bytes(), timeout=25)
        proc.send_signal(signal.SIGKILL)  # power cut, mid-bulletin
        proc.wait(10)
        assert len(airings(out, "bulletin")) == 1
        proc = _speaker_proc(ward_dir, home, out, mosquitto.url, pub)  # the node boots again at once
        ev = wait_for(lambda: [e for e in events(central) if e["item_id"] == "bulletin"], timeout=25)
        assert ev[0]["kind"] == "interrupted" and "not aired again" in ev[0]["reason"]
        time.sleep(3)  # well inside the late limit (60 s): today's node would have aired it again here
        assert len(airings(out, "bulletin")) == 1
        assert {e["event_id"] for e in events(central) if e["item_id"] == "bulletin"} == {ev[0]["event_id"]}
    finally:
        proc.terminate()
        proc.wait(10)


def test_killed_mid_download_resumes_and_airs_the_whole_file_once(
    ward_dir: Path, central: Central, mosquitto: LocalMosquitto, server: MediaServer, tmp_path: Path
) -> None:
    import wave

    home, out = tmp_path / "home", tmp_path / "out"
    home.mkdir()
    pub = tmp_path / "central.pub"
    pub.write_bytes(central.public_pem)
    mp3 = server.add("slow.mp3", make_mp3(tmp_path / "slow.mp3", 4.0))
    server.rate["slow.mp3"] = max(mp3.size / 8, 4096)  # about 8 s to download
    cache = home / "agents" / DEV / "cache"
    part = cache / f"{mp3.sha256}.part"
    proc = _speaker_proc(ward_dir, home, out, mosquitto.url, pub)
    try:
        central.schedule("kp1", 1, [item("slow", utc_now() + timedelta(seconds=30), mp3, duration_ms=4000)])
        wait_for(lambda: part.exists() and part.stat().st_size >= 4096, timeout=30)
        proc.send_signal(signal.SIGKILL)  # power cut while the bulletin is downloading
        proc.wait(10)
        cut = part.stat().st_size
        assert 0 < cut < mp3.size and not (cache / mp3.sha256).exists()  # a part, never taken for the file
        proc = _speaker_proc(ward_dir, home, out, mosquitto.url, pub)
        ev = wait_for(lambda: [e for e in events(central) if e["item_id"] == "slow"], timeout=60)
        assert ev[0]["kind"] == "played", ev
        assert any(name == "slow.mp3" and rng and int(rng[6:].split("-")[0]) > 0 for name, rng in server.requests)  # resumed
        assert not part.exists() and (cache / mp3.sha256).read_bytes() == server.files["slow.mp3"]
        (wav,) = airings(out, "slow")  # once
        with wave.open(str(wav)) as w:
            assert abs(w.getnframes() / w.getframerate() - 4.0) < 0.2  # the whole bulletin, not the part
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_corrupt_memory_file_does_not_replay_a_still_valid_emergency(node: Node, central: Central, server: MediaServer, tmp_path: Path) -> None:
    mp3 = server.add("al.mp3", make_mp3(tmp_path / "al.mp3", 0.5, 880))
    agent = node.start()
    assert agent.runtime.conn and agent.runtime.conn.wait_connected(10)
    em = item("kc", utc_now(), mp3, priority="emergency")
    central.emergency("kp1", Emergency("em1", em, utc_now() + timedelta(minutes=10)).to_body())
    wait_for(lambda: len(airings(node.out, "kc")) == 1 and agent.book.status("em1") == "played", timeout=15)
    node.stop()
    state = agent.dir / "state.json"
    for f in (state, state.with_suffix(".bak")):  # the SD card garbled the memory file and its copy
        if f.exists():
            f.write_bytes(b"\x00\x17garbage{")
    agent = node.start()
    assert agent.runtime.conn and agent.runtime.conn.wait_connected(10)
    time.sleep(3)  # the retained emergency arrives again, still valid
    assert len(airings(node.out, "kc")) == 1
    assert agent.book.status("em1") == "played"


def _mount_small_disk(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True).returncode == 0


def _fill(path: Path) -> None:
    with open(path / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    try:
        with open(path / "filler2", "wb") as f:
            while True:
                f.write(b"\0" * 512)
                f.flush()
    except OSError:
        pass


def test_a_full_disk_neither_stops_the_report_nor_airs_twice_after_a_reboot(
    ward: Ward, central: Central, mosquitto: LocalMosquitto, server: MediaServer, tmp_path: Path
) -> None:
    disk = tmp_path / "disk"
    if not _mount_small_disk(disk, "8m"):
        pytest.skip("needs root to mount a small tmpfs as the node's disk")
    try:
        mp3 = server.add("b.mp3", make_mp3(tmp_path / "b.mp3", 1.0))
        node = Node(ward, central, mosquitto, tmp_path / "out", ack_timeout_s=1.0, late_limit_s=30.0, home=disk)
        agent = node.start()  # the node's data folder on the small disk
        assert agent.runtime.conn and agent.runtime.conn.wait_connected(10)
        central.schedule("kp1", 1, [item("b", utc_now() + timedelta(seconds=4), mp3)])
        wait_for(lambda: agent.cache.get(mp3) is not None)
        _fill(disk)
        wait_for(lambda: len(airings(node.out, "b")) == 1, timeout=15)
        ev = wait_for(lambda: events(central, "played"), timeout=15)  # the report still goes out
        assert ev[0]["item_id"] == "b"
        node.stop()
        agent = node.start()  # reboot, disk still full, well inside the late limit
        assert agent.runtime.conn and agent.runtime.conn.wait_connected(10)
        time.sleep(4)
        assert len(airings(node.out, "b")) == 1
        node.stop()
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_a_cache_file_corrupted_while_the_node_runs_is_not_aired(node: Node, central: Central, server: MediaServer, tmp_path: Path) -> None:
    mp3 = server.add("c.mp3", make_mp3(tmp_path / "c.mp3", 0.8))
    agent = node.start()
    assert agent.runtime.conn and agent.runtime.conn.wait_connected(10)
    central.schedule("kp1", 1, [item("c", utc_now() + timedelta(seconds=5), mp3)])
    cached = wait_for(lambda: agent.cache.get(mp3))
    asked = len([r for r in server.requests if r[0] == "c.mp3"])
    data = bytearray(cached.read_bytes())
    for i in range(200, len(data), 97):
        data[i] ^= 0x55  # bit rot on the SD card, same size
    cached.write_bytes(bytes(data))
    ev = wait_for(lambda: events(central), timeout=15)[0]
    assert ev["kind"] == "played", ev
    assert len([r for r in server.requests if r[0] == "c.mp3"]) > asked  # fetched again before airing
    assert agent.cache.get(mp3, verify=True) is not None

"""Helpers for the agent tests: real MP3s made with ffmpeg, a real HTTP media server on loopback,
and a stand-in for the central's publishing side made of the real Signer and MqttConnection."""

from __future__ import annotations

import hashlib
import shutil
import http.server
import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from broadcaster.protocol import (
    T_CONFIG,
    T_DECK,
    T_EMERGENCY,
    T_EMERGENCY_CLEAR,
    T_EVENT_ACK,
    T_SCHEDULE,
    MediaRef,
    Schedule,
    ScheduleItem,
    Signer,
    Topics,
    generate_keypair,
    make_envelope,
)
from broadcaster.transport import BrokerAddress, MqttConnection


def make_mp3(path: Path, seconds: float = 1.0, freq: int = 440) -> bytes:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"sine=f={freq}:d={seconds}", "-ac", "1", str(path)],
        check=True,
    )
    return path.read_bytes()


def make_png(path: Path, color: str = "blue") -> bytes:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"color=c={color}:s=64x36:d=1", "-frames:v", "1", str(path)],
        check=True,
    )
    return path.read_bytes()


class MediaServer:
    """Serves ``files`` (name -> bytes) on 127.0.0.1 with Range support. ``bad[name] = n`` serves
    wrong bytes (same length) for the next n requests of that name; ``stall[name] = s`` sends the
    headers, then nothing for s seconds (a 4G link that has all but died) before the body."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.bad: dict[str, int] = {}
        self.stall: dict[str, float] = {}
        self.trickle: dict[str, float] = {}  # name -> seconds between single bytes (a drowned server)
        self.rate: dict[str, float] = {}  # name -> bytes per second (a slow 4G link)
        self.release = threading.Event()
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_GET(self) -> None:
                name = self.path.lstrip("/")
                rng = self.headers.get("Range")
                server.requests.append((name, rng))
                data = server.files.get(name)
                if data is None:
                    self.send_error(404)
                    return
                if server.bad.get(name, 0) > 0:
                    server.bad[name] -= 1
                    data = bytes(b ^ 0x5A for b in data)
                start = 0
                if rng and rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if server.stall.get(name):
                    self.wfile.flush()
                    server.release.wait(server.stall[name])
                if server.trickle.get(name):
                    for b in body:
                        if server.release.wait(server.trickle[name]):
                            return
                        self.wfile.write(bytes([b]))
                        self.wfile.flush()
                    return
                if server.rate.get(name):
                    try:
                        for i in range(0, len(body), 1024):
                            self.wfile.write(body[i : i + 1024])
                            self.wfile.flush()
                            if server.release.wait(1024 / server.rate[name]):
                                return
                    except OSError:
                        pass  # the node went away mid-download (killed): that is the point
                    return
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def add(self, name: str, data: bytes, type: str = "audio/mpeg") -> MediaRef:
        self.files[name] = data
        return MediaRef(url=self.base + name, sha256=hashlib.sha256(data).hexdigest(), size=len(data), type=type)

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class Central:
    """Publishes real signed messages the way the central service does (retained, QoS 1)."""

    def __init__(self, ward: str, broker_url: str) -> None:
        self.private_pem, self.public_pem = generate_keypair()
        self.signer = Signer(self.private_pem)
        self.topics = Topics(ward)
        self.ward = ward
        self.seq = int(time.time() * 1000)
        self.conn = MqttConnection(BrokerAddress.parse(broker_url), f"test-central-{self.seq}", persistent=False)
        self.conn.start()
        assert self.conn.wait_connected(10)
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.ack_events = True  # answer as-run events with a signed event_ack, as the central does

    def envelope(self, msg_type: str, body: dict[str, Any], topic: str, signer: Signer | None = None) -> bytes:
        self.seq += 1
        env = make_envelope(msg_type, body, ward=self.ward, sender="central", seq=self.seq, topic=topic)
        return (signer or self.signer).sign(env).to_bytes()

    def send(self, topic: str, payload: bytes, retain: bool = True) -> None:
        assert self.conn.publish_and_wait(topic, payload, retain=retain, timeout=5)

    def schedule(self, zone: str, version: int, items: list[ScheduleItem], horizon_h: int = 48) -> bytes:
        sched = Schedule(target=f"zone/{zone}", version=version, items=tuple(items), horizon=items[0].start + timedelta(hours=horizon_h) if items else datetime.now().astimezone() + timedelta(hours=horizon_h))
        topic = self.topics.zone_schedule(zone)
        payload = self.envelope(T_SCHEDULE, sched.to_body(), topic)
        self.send(topic, payload)
        return payload

    def emergency(self, zone: str, body: dict[str, Any]) -> None:
        topic = self.topics.zone_emergency(zone)
        self.send(topic, self.envelope(T_EMERGENCY, body, topic))

    def clear(self, zone: str, emergency_id: str) -> None:
        topic = self.topics.zone_emergency(zone)
        self.send(topic, self.envelope(T_EMERGENCY_CLEAR, {"emergency_id": emergency_id}, topic))

    def config(self, device: str, volume: int) -> None:
        topic = self.topics.device_config(device)
        self.send(topic, self.envelope(T_CONFIG, {"volume": volume}, topic))

    def deck(self, device: str, body: dict[str, Any]) -> None:
        topic = self.topics.device_deck(device)
        self.send(topic, self.envelope(T_DECK, body, topic))

    def listen(self, pattern: str) -> None:
        def h(topic: str, payload: bytes, retained: bool) -> None:
            if payload:
                msg = json.loads(payload)
                self.received.append((topic, msg))
                if topic.endswith("/events") and self.ack_events:
                    dev = msg["body"]["device"]
                    ack_topic = self.topics.device_ack(dev)
                    body = {"device": dev, "acks": [{"event_id": msg["body"]["event_id"], "status": "stored", "reason": ""}]}
                    self.conn.publish(ack_topic, self.envelope(T_EVENT_ACK, body, ack_topic))

        self.conn.subscribe(pattern, h)

    def close(self) -> None:
        self.conn.stop()


def item(item_id: str, start: datetime, media: MediaRef, *, priority: str = "normal", slide: MediaRef | None = None, duration_ms: int = 1000,
         slides: tuple[MediaRef, ...] = ()) -> ScheduleItem:
    """A schedule item; ``slides`` (key facts first) makes ``slide`` their first when it is not given."""
    slide = slide or (slides[0] if slides else None)
    return ScheduleItem(item_id=item_id, announcement_id=f"ann-{item_id}", title=item_id, priority=priority, start=start, duration_ms=duration_ms, media=media, slide=slide,
                        slides=slides)


def wait_for(pred: Callable[[], Any], timeout: float = 10.0, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout} s")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@contextmanager
def xvfb(monkeypatch: Any, first: int = 90, last: int = 190) -> Iterator[str]:
    """A real X server (Xvfb, 1280x720) on the first free display number in [first, last), set as
    DISPLAY for the test; skipped where Xvfb is not installed (scripts/_setup.sh installs it)."""
    import pytest

    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (scripts/_setup.sh installs it)")
    for n in range(first, last):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            break
    display = f":{n}"
    proc = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x720x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{n}").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "Xvfb did not start"
        time.sleep(0.05)
    monkeypatch.setenv("DISPLAY", display)
    try:
        yield display
    finally:
        proc.terminate()
        proc.wait(5)

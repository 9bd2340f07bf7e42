"""Footprint: resident memory of one speaker node and of the reception-TV agent (nodes are small computers).

Both agents run as real processes, the way a node runs them (``python -m broadcaster speaker
--device kp1-loa1 --output file`` and ``python -m broadcaster display --device tv-tnkq --output
headless``), against a real Mosquitto, with a signed schedule (one bulletin ahead, its MP3 fetched
over HTTP into the cache) and a signed deck (real procedure slides rendered by broadcaster, fetched
and cycling). Once both have acknowledged their desired state and settled, the resident set size
(RSS, psutil) is sampled a few times; the figure is the median.

Baseline: a bare Python process with paho-mqtt connected to the same broker, subscribed and idle:
the floor of "a Python MQTT client" on this machine.

``details.imports`` lists the heaviest modules the speaker pulls in at start-up
(``python -X importtime``), which is where to look first if the figure grows.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from benchmarks import BenchConfig, SectionResult
from benchmarks.stats import Figure, median

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
SPEAKER, TV = "kp1-loa1", "tv-tnkq"

BARE_CLIENT = """
import sys, time, paho.mqtt.client as m
c = m.Client(m.CallbackAPIVersion.VERSION2, client_id="bench-bare", protocol=m.MQTTv311)
c.on_connect = lambda cl, *a: cl.subscribe("bc/v1/#", qos=1)
c.connect("127.0.0.1", int(sys.argv[1]), 30)
c.loop_forever()
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def _rss_samples(pid: int, n: int, interval: float) -> tuple[list[float], list[float]]:
    import psutil

    p = psutil.Process(pid)
    rss, uss = [], []
    for _ in range(n):
        rss.append(p.memory_info().rss / 2**20)
        try:
            uss.append(p.memory_full_info().uss / 2**20)
        except (psutil.AccessDenied, AttributeError):
            pass
        time.sleep(interval)
    return rss, uss


def import_profile(module: str, top: int = 8) -> list[dict[str, Any]]:
    """The ``top`` slowest non-broadcaster imports (cumulative µs) of ``module`` (``python -X importtime``)."""
    res = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], capture_output=True, text=True,
                         cwd=ROOT, timeout=60)
    rows = []
    for line in res.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append({"module": m.group(4), "self_us": int(m.group(1)), "cumulative_us": int(m.group(2)),
                         "depth": len(m.group(3)) // 2})
    skip = ("broadcaster", "site", "encodings", "__editable__", "_distutils_hack")
    others = [r for r in rows if not r["module"].startswith(skip)]
    return sorted(others, key=lambda r: -r["cumulative_us"])[:top]


def run(cfg: BenchConfig) -> SectionResult:
    from broadcaster import protocol
    from broadcaster.catalog import load_catalog
    from broadcaster.localbroker import LocalMosquitto
    from broadcaster.slides import render_procedure
    from broadcaster.transport import BrokerAddress, MqttConnection

    samples = cfg.pick(5, 9)
    work = cfg.work / "footprint"
    home, media_dir, out_dir = work / "home", work / "media", work / "out"
    for d in (home / "keys", media_dir, out_dir):
        d.mkdir(parents=True, exist_ok=True)
    private_pem, public_pem = protocol.generate_keypair()
    (home / "keys" / "central.pub").write_bytes(public_pem)
    signer = protocol.Signer(private_pem)
    ward_file = work / "ward.toml"
    ward_file.write_text((ROOT / "devices" / "ward.toml").read_text(encoding="utf-8"), encoding="utf-8")

    # media: a 55 s bulletin MP3 and five real procedure slides
    mp3 = media_dir / "bulletin.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=f=660:d=55",
                    "-ac", "1", "-b:a", "64k", str(mp3)], check=True)
    procs_ = load_catalog(ROOT / "playlists" / "catalog" / "procedures.json")[:5]
    slides: list[Path] = []
    for k, proc in enumerate(procs_):
        slides += render_procedure(proc, ward_name="UBND phường 1", hotline="0233 3000 000", out_dir=media_dir, stem=f"s{k}")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(media_dir)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"

    def ref(p: Path, typ: str) -> protocol.MediaRef:
        data = p.read_bytes()
        return protocol.MediaRef(url=base + p.name, sha256=hashlib.sha256(data).hexdigest(), size=len(data), type=typ)

    broker = LocalMosquitto(work / "mosquitto", persistence=False).start()
    env = {**os.environ, "BROADCASTER_WARD": str(ward_file), "BROADCASTER_HOME": str(home),
           "BROADCASTER_MQTT_URL": broker.url, "PYTHONUNBUFFERED": "1"}
    running: list[subprocess.Popen[bytes]] = []
    central = None
    figures: list[Figure] = []
    details: dict[str, Any] = {}
    try:
        central = MqttConnection(BrokerAddress.parse(broker.url), "bench-footprint-central", persistent=False)
        acks: dict[str, dict[str, int]] = {}

        def on_state(topic: str, payload: bytes, retained: bool) -> None:
            if payload:
                body = json.loads(payload)["body"]
                if body.get("online"):
                    acks[body["device"]] = body.get("applied") or {}

        central.subscribe(protocol.Topics(protocol_ward(ward_file)).all_states, on_state)
        central.start()
        central.wait_connected(10)
        ward_id = protocol_ward(ward_file)
        topics = protocol.Topics(ward_id)
        now = datetime.now(timezone.utc)
        seq = int(time.time() * 1000)

        def send(topic: str, mtype: str, body: dict[str, Any]) -> None:
            nonlocal seq
            seq += 1
            e = signer.sign(protocol.make_envelope(mtype, body, ward=ward_id, sender="central", seq=seq,
                                                   ttl=timedelta(days=1), topic=topic))
            central.publish_and_wait(topic, e.to_bytes(), retain=True)

        item = protocol.ScheduleItem(item_id="bench-1", announcement_id="ann-1", title="Bản tin", priority="normal",
                                     start=now + timedelta(hours=1), duration_ms=55_000, media=ref(mp3, "audio/mpeg"))
        send(topics.zone_schedule("kp1"), protocol.T_SCHEDULE,
             protocol.Schedule(target="zone/kp1", version=1, items=(item,), horizon=now + timedelta(hours=48)).to_body())
        deck = protocol.Deck(target=f"device/{TV}", version=1, slides=tuple(
            protocol.DeckSlide(slide_id=p.stem, media=ref(p, "image/png"), duration_s=2.0) for p in slides))
        send(topics.device_deck(TV), protocol.T_DECK, deck.to_body())

        bare = subprocess.Popen([sys.executable, "-c", BARE_CLIENT, str(broker.port)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        running.append(bare)
        cmd = [sys.executable, "-m", "broadcaster"]
        speaker = subprocess.Popen(cmd + ["speaker", "--device", SPEAKER, "--output", "file", "--out", str(out_dir)],
                                   cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        tv = subprocess.Popen(cmd + ["display", "--device", TV, "--output", "headless", "--out", str(out_dir)],
                              cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        running += [speaker, tv]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for p in (speaker, tv):
                if p.poll() is not None:
                    err = p.stderr.read().decode(errors="replace") if p.stderr else ""
                    raise RuntimeError(f"agent exited with {p.returncode}: {err[-500:]}")
            cached = list((home / "agents" / SPEAKER / "cache").glob("*"))
            shown = (out_dir / TV / "shown.jsonl")
            if acks.get(SPEAKER, {}).get("zone/kp1") == 1 and acks.get(TV) and cached and shown.exists():
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"agents did not reach their desired state: acks {acks}")
        time.sleep(cfg.pick(3.0, 6.0))  # idle-steady: deck cycling, caches warm
        spk_rss, spk_uss = _rss_samples(speaker.pid, samples, 0.5)
        tv_rss, tv_uss = _rss_samples(tv.pid, samples, 0.5)
        bare_rss, bare_uss = _rss_samples(bare.pid, samples, 0.2)
        sec = "footprint"
        figures = [
            Figure(sec, "speaker node RSS", "MB", spk_rss, bare_rss, "bare paho client", target=50.0,
                   note=f"USS {median(spk_uss):.1f} MB" if spk_uss else ""),
            Figure(sec, "TV agent RSS (headless output)", "MB", tv_rss, bare_rss, "bare paho client", target=150.0,
                   note=f"USS {median(tv_uss):.1f} MB" if tv_uss else ""),
        ]
        details = {
            "speaker_rss_mb": spk_rss, "speaker_uss_mb": spk_uss, "tv_rss_mb": tv_rss, "tv_uss_mb": tv_uss,
            "bare_rss_mb": bare_rss, "slides": len(slides),
            "imports": {"broadcaster.agents.speaker": import_profile("broadcaster.agents.speaker"),
                        "broadcaster.agents.display": import_profile("broadcaster.agents.display")},
            "notes": [f"RSS sampled {samples}x after both agents acknowledged and settled; the TV runs its headless "
                      "output here (the Tk window output adds Tk and decoded frames on a real screen)"],
        }
    finally:
        for p in running:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if central:
            central.stop()
        httpd.shutdown()
        httpd.server_close()
        broker.stop()
    return SectionResult(name="footprint", figures=figures, details=details)


def protocol_ward(ward_file: Path) -> str:
    from broadcaster.config import load_ward

    return load_ward(ward_file, env={}).id

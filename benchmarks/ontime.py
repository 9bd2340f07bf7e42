"""On-time playback: the scheduled instant against the moment each speaker node's output starts.

N real ``SpeakerAgent`` objects (``broadcaster.agents.speaker``, with the ``FileOutput`` audio
output) run in a few worker processes on this machine, against a real Mosquitto, fetching a real
MP3 over HTTP and checking real signatures. The central side publishes each zone's signed
schedule with K items, every node's items at the same instants, a few seconds apart. Each node
prefetches, decodes ahead (``prepare``), waits on its own clock and starts its output; the file
output records the actual start beside the scheduled one (``as-played.jsonl``, ``lateness_ms``),
which is what is read here.

Baseline, same processes, same instants: N bare threads that wait for the instant the way the
agent does (sleep to 2 ms before, then spin) and note the time: the floor this machine's scheduler
and Python's GIL give N waiters, so the ratio isolates the agent's own cost at airtime.

Caveat, stated with the figures: on site each node is its own computer; here N nodes and their
threads share two cores, so the tail includes waiting for a core (and the GIL within a process).
"""

from __future__ import annotations

import functools
import http.server
import json
import logging
import multiprocessing as mp
import os
import subprocess
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from benchmarks import BenchConfig, SectionResult
from benchmarks.stats import Figure, latency_summary

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
COARSE_S = 0.050
SPIN_S = 0.002


def _bare_wait(instant: float, out: list[float]) -> None:
    """The baseline waiter: the agent's two-stage wait with nothing else around it."""
    remaining = instant - time.time()
    if remaining > COARSE_S:
        time.sleep(remaining - COARSE_S)
    remaining = instant - time.time()
    if remaining > SPIN_S:
        time.sleep(remaining - SPIN_S)
    while time.time() < instant:
        pass
    out.append((time.time() - instant) * 1000)


def _agent_worker(ward_file: str, home: str, out_dir: str, broker_url: str, public_pem: bytes,
                  devices: list[tuple[str, str]], conn: Any) -> None:
    """Run speaker agents for ``devices`` [(id, zone)] until told to stop; run bare waiters on request."""
    logging.basicConfig(level=logging.ERROR)
    from broadcaster.agents.audio_out import FileOutput
    from broadcaster.agents.speaker import SpeakerAgent
    from broadcaster.config import Device, load_ward
    from broadcaster.protocol import Verifier

    ward = load_ward(ward_file, env={"BROADCASTER_HOME": home})
    devs = tuple(Device(id=d, kind="speaker", zone=z, name=d) for d, z in devices)
    ward = replace(ward, devices=devs)
    verifier = Verifier(public_pem)
    agents = []
    for dev in devs:
        a = SpeakerAgent(ward, dev, output=FileOutput(Path(out_dir), dev.id), verifier=verifier, home=Path(home),
                         broker_url=broker_url, late_limit_s=30.0, prepare_lead_s=60.0, fetch_retry_s=1.0,
                         state_interval=60.0)
        a.start()
        agents.append(a)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(a.runtime.conn and a.runtime.conn.connected for a in agents):
        time.sleep(0.05)
    conn.send(("ready", sum(1 for a in agents if a.runtime.conn and a.runtime.conn.connected)))
    while True:
        msg = conn.recv()
        if msg[0] == "stop":
            break
        if msg[0] == "applied":  # how many agents applied version >= msg[1] of their zone
            n = sum(1 for a in agents if a.store.memory.applied.get(f"zone/{a.device.zone}", 0) >= msg[1])
            conn.send(("applied", n))
        elif msg[0] == "bare":
            instants: list[float] = msg[1]
            results: list[list[float]] = []
            for instant in instants:
                out: list[float] = []
                threads = [threading.Thread(target=_bare_wait, args=(instant, out), daemon=True) for _ in agents]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                results.append(out)
            conn.send(("bare", results))
    for a in agents:
        a.stop()
    conn.send(("stopped", len(agents)))


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def run(cfg: BenchConfig) -> SectionResult:
    from broadcaster import protocol
    from broadcaster.localbroker import LocalMosquitto
    from broadcaster.transport import BrokerAddress, MqttConnection

    n = 100
    reps = cfg.reps or cfg.pick(3, 5)
    cores = os.cpu_count() or 2
    workers = cfg.workers or max(2, cores)
    work = cfg.work / "ontime"
    media_dir, home, out_dir = work / "media", work / "home", work / "out"
    for d in (media_dir, home, out_dir):
        d.mkdir(parents=True, exist_ok=True)
    mp3 = media_dir / "bulletin.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=f=660:d=1.0",
                    "-ac", "1", "-b:a", "64k", str(mp3)], check=True)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(media_dir)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    import hashlib

    data = mp3.read_bytes()
    media = protocol.MediaRef(url=f"http://127.0.0.1:{httpd.server_address[1]}/bulletin.mp3",
                              sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    ward_id = "bench-ontime"
    zones = [f"kp{z}" for z in range(1, 11)]  # 10 zones of 10 nodes
    devices = [(f"loa{i:03d}", zones[i % len(zones)]) for i in range(n)]
    ward_file = work / "ward.toml"
    text = (ROOT / "devices" / "ward.toml").read_text(encoding="utf-8")
    ward_file.write_text(text, encoding="utf-8")

    broker = LocalMosquitto(work / "mosquitto", persistence=False,
                            settings={"max_queued_messages": "100000", "max_inflight_messages": "100"}).start()
    private_pem, public_pem = protocol.generate_keypair()
    signer = protocol.Signer(private_pem)
    ctx = mp.get_context("spawn")
    procs, pipes = [], []
    central = None
    figures: list[Figure] = []
    details: dict[str, Any] = {"nodes": n, "workers": workers, "items": reps}
    try:
        # the agents read the ward id from the file: give them ours
        ward_file.write_text(text.replace('id = "p1-quangtri"', f'id = "{ward_id}"', 1), encoding="utf-8")
        for w in range(workers):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=_agent_worker, daemon=True, args=(
                str(ward_file), str(home), str(out_dir), broker.url, public_pem, devices[w::workers], child))
            p.start()
            procs.append(p)
            pipes.append(parent)
        t0 = time.monotonic()
        connected = 0
        for pp in pipes:
            if not pp.poll(120):
                raise RuntimeError("speaker agents did not start in time")
            connected += pp.recv()[1]
        log.info("on-time: %d speaker agents connected in %.1f s (%d processes)", connected, time.monotonic() - t0, workers)
        if connected < n:
            raise RuntimeError(f"only {connected}/{n} agents connected")

        central = MqttConnection(BrokerAddress.parse(broker.url), "bench-ontime-central", persistent=False)
        central.start()
        central.wait_connected(10)
        topics = protocol.Topics(ward_id)
        # every node's items at the same instants: first one after everyone has prefetched and decoded
        gap = 5.0
        lead = 6.0 + n * 0.04
        first = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=lead)
        starts = [first + timedelta(seconds=gap * k) for k in range(reps)]
        seq = int(time.time() * 1000)
        for z in zones:
            items = tuple(protocol.ScheduleItem(
                item_id=f"bench-{k}", announcement_id=f"ann-{k}", title=f"Bản tin {k}", priority="normal",
                start=s, duration_ms=1000, media=media) for k, s in enumerate(starts))
            body = protocol.Schedule(target=f"zone/{z}", version=1, items=items, horizon=starts[-1] + timedelta(hours=1))
            seq += 1
            env = signer.sign(protocol.make_envelope(protocol.T_SCHEDULE, body.to_body(), ward=ward_id, sender="central",
                                                     seq=seq, ttl=timedelta(hours=2), topic=topics.zone_schedule(z)))
            central.publish_and_wait(topics.zone_schedule(z), env.to_bytes(), retain=True)
        # all applied?
        deadline = time.monotonic() + lead
        while time.monotonic() < deadline:
            got = 0
            for pp in pipes:
                pp.send(("applied", 1))
                got += pp.recv()[1]
            if got >= n:
                break
            time.sleep(0.2)
        log.info("on-time: schedule applied by %d/%d nodes; %d items at %s + k*%.0f s", got, n, reps,
                 protocol.fmt_time(starts[0]), gap)
        end = starts[-1].timestamp() + 1.0 + 2.0
        time.sleep(max(0.0, end - time.time()))
        # wait a little more for the last as-played lines
        lateness_by_item: dict[str, list[float]] = {f"bench-{k}": [] for k in range(reps)}
        missing = 0
        for _ in range(50):
            lateness_by_item = {f"bench-{k}": [] for k in range(reps)}
            for dev, _z in devices:
                path = out_dir / dev / "as-played.jsonl"
                if not path.exists():
                    continue
                for line in path.read_text(encoding="utf-8").splitlines():
                    rec = json.loads(line)
                    if rec.get("item") in lateness_by_item:
                        lateness_by_item[rec["item"]].append(float(rec["lateness_ms"]))
            missing = n * reps - sum(len(v) for v in lateness_by_item.values())
            if missing == 0:
                break
            time.sleep(0.2)
        # baseline: bare waiters in the same processes
        instants = [time.time() + 2.0 + 1.5 * k for k in range(reps)]
        for pp in pipes:
            pp.send(("bare", instants))
        bare_by_rep: list[list[float]] = [[] for _ in range(reps)]
        for pp in pipes:
            if not pp.poll(30 + 2 * reps):
                raise RuntimeError("bare waiters did not finish")
            for k, vals in enumerate(pp.recv()[1]):
                bare_by_rep[k] += vals

        per_rep = [latency_summary(v) for v in lateness_by_item.values() if v]
        bare_rep = [latency_summary(v) for v in bare_by_rep if v]
        all_late = [x for v in lateness_by_item.values() for x in v]
        sec = "ontime"
        label = f"{n} nodes"
        note = f"{missing} airing(s) missing" if missing else ""
        figures = [
            Figure(sec, f"{label}: lateness p50", "ms", [r["p50"] for r in per_rep], [r["p50"] for r in bare_rep],
                   "bare waiters", note=note),
            Figure(sec, f"{label}: lateness p99", "ms", [r["p99"] for r in per_rep] + ([float("nan")] if missing else []),
                   [r["p99"] for r in bare_rep], "bare waiters", target=20.0, note=note),
            Figure(sec, f"{label}: lateness max (worst item)", "ms", [r["max"] for r in per_rep] + ([float("nan")] if missing else []),
                   [r["max"] for r in bare_rep], "bare waiters", target=50.0, judge="max", note=note),
        ]
        details.update({
            "per_item": per_rep, "bare_per_rep": bare_rep, "missing": missing,
            "all_lateness_ms": {"p50": latency_summary(all_late)["p50"] if all_late else None,
                                "p99": latency_summary(all_late)["p99"] if all_late else None,
                                "max": max(all_late) if all_late else None,
                                "min": min(all_late) if all_late else None},
            "notes": [f"{n} SpeakerAgents (FileOutput) in {workers} processes, 10 zones x 10 nodes, {reps} items "
                      f"{gap:.0f} s apart; lateness = actual output start - scheduled instant"],
        })
    finally:
        for pp in pipes:
            try:
                pp.send(("stop",))
            except (BrokenPipeError, OSError):
                pass
        for pp in pipes:
            try:
                if pp.poll(20):
                    pp.recv()
            except (EOFError, OSError):
                pass
        for p in procs:
            p.join(5)
            if p.is_alive():
                p.kill()
                p.join()
        if central:
            central.stop()
        httpd.shutdown()
        httpd.server_close()
        broker.stop()
    return SectionResult(name="ontime", figures=figures, details=details)

"""``scripts/faults``: each fault against real processes, one table of what it cost.

The ward runs as on site, each part its own process: a Mosquitto secured with the files
``broadcaster broker-config`` generates (passwords, ACL, client id bound to the user), ``broadcaster
serve`` (store, planner, publisher, media server; open-file limit 1,024 as under Debian's systemd),
and three ``broadcaster speaker`` nodes writing what they air as WAV files. Every scenario queues
its own bulletin with ``broadcaster queue --now`` (real espeak-ng speech) for the three khu phố,
applies its fault around airtime and then reads the truth from the files:

* scheduled: (node, item) airings the central planned for the scenario's bulletin;
* played: those that went on air (a WAV exists: the file output creates it as the audio starts);
* missed: scheduled, never on air; aired twice: more than one WAV for one airing;
* events lost: on air, yet no as-run row in the central's store when the scenario ends;
* unsigned plays: anything on air that the central never planned (forged, replayed, mutated);
* recover s: from the end of the fault (or of the bulletin, if later) until the store holds an
  as-run row for every airing that went on air: the report is whole again.

Usage: ``scripts/faults [--quick] [--only NAME,...] [--keep] [-v]``. About a minute per scenario.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

log = logging.getLogger("faults")
ROOT = Path(__file__).resolve().parent.parent
SPEAKERS = ("kp1-loa1", "kp2-loa1", "kp3-loa1")
ZONES = ("kp1", "kp2", "kp3")
TEXT = "UBND phường thông báo: ngày 05/12/2026 tiêm chủng tại nhà văn hóa khu phố, lúc 7h30."


@dataclass
class Row:
    fault: str
    scheduled: int = 0
    played: int = 0
    missed: int = 0
    twice: int = 0
    lost: int = 0
    unsigned: int = 0
    recover_s: float | None = None
    note: str = ""


@dataclass
class Ctx:
    ann: str
    start: datetime | None = None
    end: datetime | None = None
    fault_end: float | None = None  # time.time() when the fault was lifted
    notes: list[str] = field(default_factory=list)
    later: list[Callable[[], str]] = field(default_factory=list)  # notes read once the scenario settled


class SlowLink:
    """The nodes' link to the central's media server: a TCP relay on loopback whose download rate the
    harness sets (unlimited by default; a slow 4G link for the mid-download scenario). The server
    behind it is the real one ``serve`` runs: Range requests, ETag and all."""

    def __init__(self, target_port: int) -> None:
        from broadcaster.localbroker import free_port

        self.target = target_port
        self.port = free_port()
        self.rate: float | None = None  # bytes per second and connection, server to node
        self._srv = socket.create_server(("127.0.0.1", self.port))
        self._srv.settimeout(0.5)
        self._closed = threading.Event()
        threading.Thread(target=self._accept, name="slow-link", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._srv.accept()
            except OSError:
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.target), timeout=10)
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, throttled: bool) -> None:
        src.settimeout(None)
        try:
            while True:
                rate = self.rate if throttled else None
                data = src.recv(1024 if rate else 65536)
                if not data:
                    break
                dst.sendall(data)
                if rate:
                    time.sleep(len(data) / rate)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def close(self) -> None:
        self._closed.set()
        self._srv.close()


class Harness:
    def __init__(self, base: Path) -> None:
        from broadcaster.config import load_ward
        from broadcaster.demo import write_ward
        from broadcaster.localbroker import LocalMosquitto, free_port

        self.base = base
        (base / "logs").mkdir(parents=True)
        src = ROOT / "devices" / "ward.toml"
        self.tz = load_ward(src, env={}).tz
        self.port = free_port()
        self.ward_file = write_ward(src, base / "ward", base / "home", self.port, datetime.now(self.tz))
        self.home = base / "home"
        self.out = base / "out"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")}
        self.env.update({"BROADCASTER_WARD": str(self.ward_file), "BROADCASTER_HOME": str(self.home)})
        # the nodes fetch media through a link the harness can slow down (the server is the real one)
        self.link = SlowLink(self.port)
        self.env["BROADCASTER_MEDIA_URL"] = f"http://127.0.0.1:{self.link.port}/"
        self.ward = load_ward(self.ward_file, env=self.env)
        # the broker, secured with what broker-config writes
        bdir = base / "broker"
        port = free_port()
        self.cli("broker-config", "--out", str(bdir), "--host", "127.0.0.1", "--port", str(port))
        self.creds = {f.stem: f.read_text().split("=", 1)[1].strip() for f in (bdir / "credentials").glob("*.env")}
        self.broker = LocalMosquitto(base / "mosquitto", port, settings={
            "allow_anonymous": "false", "password_file": str(bdir / "passwd"), "acl_file": str(bdir / "acl"),
            "use_username_as_clientid": "true",
        })
        self.broker.start()
        self.cli("keys", "init")
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.queued: set[str] = set()

    # -- processes ---------------------------------------------------------------------------

    def cli(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        res = subprocess.run([sys.executable, "-m", "broadcaster", *args], env=env or self.env, capture_output=True, text=True, cwd=ROOT)
        if res.returncode != 0:
            raise RuntimeError(f"broadcaster {' '.join(args)}: {res.stderr.strip()}")
        return res

    def spawn(self, name: str, *args: str, prefix: tuple[str, ...] = (), nofile: int | None = None) -> None:
        env = {**self.env, "BROADCASTER_MQTT_URL": self.creds["central" if name == "central" else name]}
        if prefix[:1] == ("faketime",):
            # a node whose wall clock is wrong still has a sane monotonic clock (timeouts, waits)
            env["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
        logf = open(self.base / "logs" / f"{name}.log", "ab")

        def limit() -> None:
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        # its own process group: `faketime` runs the agent as a child, and a stop must reach it
        self.procs[name] = subprocess.Popen([*prefix, sys.executable, "-m", "broadcaster", "-v", *args], env=env, stdout=logf,
                                            stderr=subprocess.STDOUT, cwd=ROOT, preexec_fn=limit, start_new_session=True)

    def start_central(self) -> None:
        self.spawn("central", "serve", "--engine", "espeak", nofile=1024)  # Debian's default unit limit

    def start_node(self, dev: str, prefix: tuple[str, ...] = (), home: Path | None = None) -> None:
        self.spawn(dev, "speaker", "--device", dev, "--output", "file", "--out", str(self.out),
                   *(("--home", str(home), "--public-key", str(self.home / "keys" / "central.pub")) if home else ()),
                   prefix=prefix)

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        p = self.procs.pop(name, None)
        if p and p.poll() is None:
            try:
                os.killpg(p.pid, sig)
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            except ProcessLookupError:
                pass
        if p:
            try:
                os.killpg(p.pid, signal.SIGKILL)  # whatever is left of the group (a faketime child)
            except (ProcessLookupError, PermissionError):
                pass

    def close(self) -> None:
        for name in [n for n in self.procs if n != "central"] + ["central"]:
            self.stop(name)
        self.broker.stop()
        self.link.close()

    # -- the truth ---------------------------------------------------------------------------

    def store(self) -> Any:
        from broadcaster.central.store import Store

        return Store.for_ward(self.ward)

    def queue(self, ann: str) -> None:
        self.queued.add(ann)
        # each bulletin its own audio, as on site: the same text would be the same file (media are
        # named by content), already cached by every node, and no scenario would download anything
        text = f"{TEXT} Thông báo số {len(self.queued)}."
        self.cli("queue", "--id", ann, "--title", ann, "--text", text, "--zones", ",".join(ZONES), "--now",
                 "--readings", "1", "--no-chime", "--engine", "espeak")

    def planned(self, ann: str) -> list[tuple[str, str, datetime, int]]:
        """(device, item_id, start, duration_ms) the central planned and delivered."""
        with self.store() as s:
            rows = [r for r in s.plan_items() if r.announcement_id == ann and r.delivered_at is not None]
        zone_dev = {d.zone: d.id for d in self.ward.speakers() if d.id in SPEAKERS}
        return [(zone_dev[r.zone], r.item_id, r.start, r.duration_ms) for r in rows if r.zone in zone_dev]

    def wait_planned(self, ann: str, timeout: float = 60) -> list[tuple[str, str, datetime, int]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.planned(ann)
            if len(got) == len(SPEAKERS):
                return got
            time.sleep(0.5)
        return self.planned(ann)

    def airings(self) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for dev_dir in self.out.glob("*"):
            for wav in dev_dir.glob("*.wav"):
                item = wav.stem.split("_", 1)[1] if "_" in wav.stem else wav.stem
                out[(dev_dir.name, item)] = out.get((dev_dir.name, item), 0) + 1
        return out

    def asrun(self) -> set[tuple[str, str]]:
        with self.store() as s:
            return {(e.device, e.item_id) for e in s.events()}

    def all_planned_ids(self) -> set[str]:
        with self.store() as s:
            return {r.item_id for r in s.plan_items()}


def _safe(item_id: str) -> str:
    from broadcaster.fsutil import safe_name as safe  # the file output's own naming

    return safe(item_id)


def run_scenario(h: Harness, name: str, fault: Callable[[Harness, Ctx], None], *, pre: Callable[[Harness, Ctx], None] | None = None,
                 recover_timeout: float = 200.0) -> Row:
    ann = f"f-{name}-{int(time.time()) % 100000}"
    ctx = Ctx(ann)
    before = h.airings()
    if pre:
        pre(h, ctx)
    h.queue(ann)
    planned = h.wait_planned(ann)
    if planned:
        ctx.start = min(p[2] for p in planned)
        ctx.end = max(p[2] + timedelta(milliseconds=p[3]) for p in planned)
    fault(h, ctx)
    if ctx.fault_end is None:
        ctx.fault_end = time.time()
    planned = h.planned(ann) or planned
    row = Row(name, scheduled=len(planned), note="; ".join(ctx.notes))
    if ctx.end:
        _sleep_until(ctx.end)
    expected = {(d, i) for d, i, _s, _ms in planned}
    deadline = time.time() + recover_timeout
    settled = 0
    while True:
        now_air = h.airings()
        on_air = {k for k in expected if now_air.get((k[0], _safe(k[1])), 0) > before.get((k[0], _safe(k[1])), 0)}
        stored = h.asrun()
        if on_air <= stored:
            if row.recover_s is None:
                # from the end of the fault, or of the bulletin if the fault ended before it
                ref = max(ctx.fault_end, ctx.end.timestamp() if ctx.end else 0.0)
                row.recover_s = max(0.0, time.time() - ref)
            settled += 1
            if settled >= 20:  # ten more seconds of watching: a node that would air it again does so at once
                break
        else:
            settled = 0
            row.recover_s = None
        if time.time() > deadline:
            break
        time.sleep(0.5)
    row.played = len(on_air)
    row.missed = len(expected - on_air)
    row.twice = sum(1 for k in expected if now_air.get((k[0], _safe(k[1])), 0) - before.get((k[0], _safe(k[1])), 0) > 1)
    row.lost = len(on_air - stored)
    row.note = "; ".join([*ctx.notes, *(f() for f in ctx.later)])
    # anything on air that is not an airing of a bulletin this run queued through the central
    row.unsigned = sum(n - before.get(k, 0) for k, n in now_air.items()
                       if k[1].split(".", 1)[0] not in h.queued and n > before.get(k, 0))
    log.info("%s: %s", name, row)
    return row


def _sleep_until(t: datetime) -> None:
    delay = (t - datetime.now(t.tzinfo)).total_seconds()
    if delay > 0:
        time.sleep(delay)


def _at(ctx: Ctx, seconds: float) -> None:
    """Sleep until `seconds` after the bulletin's start (negative: before it)."""
    if ctx.start:
        _sleep_until(ctx.start + timedelta(seconds=seconds))


# -- the faults ----------------------------------------------------------------------------


def f_none(h: Harness, ctx: Ctx) -> None:
    pass


def f_broker_before(h: Harness, ctx: Ctx) -> None:
    _at(ctx, -15)
    h.broker.kill()
    time.sleep(8)
    h.broker.start()
    ctx.fault_end = time.time()


def f_broker_during(h: Harness, ctx: Ctx) -> None:
    _at(ctx, 1)
    h.broker.kill()
    _at(ctx, 12)
    h.broker.start()
    ctx.fault_end = time.time()


def f_central_restart(h: Harness, ctx: Ctx) -> None:
    _at(ctx, -10)
    h.stop("central", signal.SIGKILL)
    _at(ctx, 6)
    h.start_central()
    ctx.fault_end = time.time()


MID_DOWNLOAD_RATE = 6 * 1024  # bytes/s: a bulletin of tens of kB takes several seconds to arrive


def pre_mid_download(h: Harness, ctx: Ctx) -> None:
    h.link.rate = MID_DOWNLOAD_RATE  # a slow link, from before the schedule is even published
    cache = h.home / "agents" / "kp1-loa1" / "cache"
    h.mid_before = {p.name for p in cache.glob("*")} if cache.is_dir() else set()  # type: ignore[attr-defined]


def f_node_mid_download(h: Harness, ctx: Ctx) -> None:
    """SIGKILL kp1's node while its download of the bulletin is in flight, start it again, and check
    what it then airs: once, whole, from a file whose hash is right, with no .part left behind."""
    cache = h.home / "agents" / "kp1-loa1" / "cache"
    before: set[str] = getattr(h, "mid_before", set())
    deadline = time.time() + 60
    part: Path | None = None
    while time.time() < deadline:
        parts = [p for p in cache.glob("*.part") if p.name not in before and p.stat().st_size > 0]
        if parts:
            part = parts[0]
            break
        time.sleep(0.05)
    if part is None:
        ctx.notes.append("no download in flight was seen: NOT the fault asked for")
        h.link.rate = None
        return
    time.sleep(1.5)  # well into the download
    h.stop("kp1-loa1", signal.SIGKILL)
    killed_at = part.stat().st_size if part.exists() else 0
    sha = part.name.removesuffix(".part")
    time.sleep(2)
    h.start_node("kp1-loa1")
    ctx.fault_end = time.time()
    final = cache / sha
    while time.time() < deadline + 60 and not final.exists():
        time.sleep(0.2)
    h.link.rate = None

    def evidence() -> str:  # once the bulletin is over and its report in (the scenario's loop waited)
        from broadcaster.fsutil import sha256_file

        size = final.stat().st_size if final.exists() else 0
        whole = final.exists() and sha256_file(final) == sha
        log_text = (h.base / "logs" / "kp1-loa1.log").read_text(errors="replace")
        resumed = re.findall(r"resuming \S+ at byte (\d+)", log_text)
        wavs = sorted((h.out / "kp1-loa1").glob(f"*_{_safe(ctx.ann)}.*.wav"))
        aired = ""
        if wavs:
            with wave.open(str(wavs[-1])) as w:
                aired_s = w.getnframes() / w.getframerate()
            planned_ms = next((p[3] for p in h.planned(ctx.ann) if p[0] == "kp1-loa1"), 0)
            aired = f"aired {aired_s:.1f} s of {planned_ms / 1000:.1f} s; "
        left = [p.name for p in cache.glob("*.part")]
        return (f"kp1 SIGKILLed with {killed_at} of {size} bytes on disk as .part; restarted 2 s later, resumed from byte "
                f"{resumed[-1] if resumed else '?'} (Range); {aired}cached file {'whole, sha256 right' if whole else 'NOT whole'}; "
                f".part left: {len(left)}")

    ctx.later.append(evidence)


def f_node_mid_airing(h: Harness, ctx: Ctx) -> None:
    _at(ctx, 1.5)
    h.stop("kp1-loa1", signal.SIGKILL)  # power cut mid-bulletin
    h.start_node("kp1-loa1")  # boots again at once, well inside the late limit
    ctx.fault_end = time.time()


def pre_flood(h: Harness, ctx: Ctx) -> None:
    """~1,000 idle connections from one client to the central's media server, opened before the
    bulletin is queued (so the nodes fetch through it) and held through airtime."""
    socks = []
    for _ in range(1000):
        try:
            s = socket.create_connection(("127.0.0.1", h.port), timeout=2)
            s.sendall(b"GET /media/")  # a request that never ends
            socks.append(s)
        except OSError:
            break
    ctx.notes.append(f"{len(socks)} slow connections held from before queueing to after airtime")
    h.flood = socks  # type: ignore[attr-defined]


def f_flood(h: Harness, ctx: Ctx) -> None:
    if ctx.end:
        _sleep_until(ctx.end + timedelta(seconds=5))
    for s in getattr(h, "flood", []):
        s.close()
    ctx.fault_end = time.time()


def f_store_locked(h: Harness, ctx: Ctx) -> None:
    _at(ctx, -2)
    db = sqlite3.connect(h.home / "store.sqlite", isolation_level=None, timeout=60)
    db.execute("BEGIN IMMEDIATE")  # a backup tool holding the store past the 30 s busy timeout
    if ctx.end:
        _sleep_until(ctx.end + timedelta(seconds=40))
    db.execute("ROLLBACK")
    db.close()
    ctx.fault_end = time.time()


def pre_restore(h: Harness, ctx: Ctx) -> None:
    # a backup taken now; then a bulletin moves every version on; then the backup is restored
    bak = h.base / "store-backup.sqlite"
    src = sqlite3.connect(h.home / "store.sqlite")
    dst = sqlite3.connect(bak)
    src.backup(dst)
    src.close()
    dst.close()
    first = ctx.ann + "-a"
    h.queue(first)
    planned = h.wait_planned(first)
    if planned:
        _sleep_until(max(p[2] + timedelta(milliseconds=p[3]) for p in planned) + timedelta(seconds=3))
    h.stop("central")
    for suffix in ("", "-wal", "-shm"):
        (h.home / f"store.sqlite{suffix}").unlink(missing_ok=True)
    shutil.copy(bak, h.home / "store.sqlite")
    h.start_central()
    time.sleep(4)
    ctx.notes.append("store restored from a backup older than the nodes' versions")


def f_cache_corrupt(h: Harness, ctx: Ctx) -> None:
    _at(ctx, -12)
    n = 0
    for dev in SPEAKERS:
        for f in (h.home / "agents" / dev / "cache").glob("*"):
            if f.is_file() and not f.name.endswith(".part") and time.time() - f.stat().st_mtime < 120:
                data = bytearray(f.read_bytes())
                for i in range(100, len(data), 101):
                    data[i] ^= 0x55
                f.write_bytes(bytes(data))
                n += 1
    ctx.notes.append(f"{n} cached file(s) corrupted")
    ctx.fault_end = time.time()


def pre_skew(h: Harness, ctx: Ctx) -> None:
    if not shutil.which("faketime"):
        ctx.notes.append("faketime not installed: skipped")
        return
    h.stop("kp3-loa1")
    h.start_node("kp3-loa1", prefix=("faketime", "-f", "-120"))  # its clock two minutes behind
    time.sleep(8)


def f_skew(h: Harness, ctx: Ctx) -> None:
    if ctx.start:  # kp3 airs by its own clock, two minutes late by the real one: let it
        _sleep_until(ctx.start + timedelta(seconds=135))
    log_text = (h.base / "logs" / "central.log").read_text(errors="replace")
    detected = "kp3-loa1" in log_text and "chậm" in log_text
    late = [w for w in (h.out / "kp3-loa1").glob(f"*_{ctx.ann}.kp3.*.wav")]
    when = ""
    if late and ctx.start:
        stamp = datetime.strptime(late[0].name.split("_", 1)[0], "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=ctx.start.tzinfo)
        # the file output names each WAV by its start *by the node's clock*: add the skew back
        real = stamp + timedelta(seconds=120)
        when = f"kp3 aired {(real - ctx.start).total_seconds():.0f} s late by the real clock; "
    ctx.notes.append(when + ("the central warned the officer" if detected else "NOT detected by the central"))
    h.stop("kp3-loa1")
    h.start_node("kp3-loa1")
    ctx.fault_end = time.time()


def f_takeover(h: Harness, ctx: Ctx) -> None:
    """A node's password, the central's client id, a clean session, 15 times around airtime."""
    from broadcaster.transport import BrokerAddress, MqttConnection

    _at(ctx, -10)
    log_path = h.base / "logs" / "central.log"
    lost_before = log_path.read_text(errors="replace").count("lost broker")
    for _ in range(15):
        c = MqttConnection(BrokerAddress.parse(h.creds["kp2-loa1"]), f"bc-central-{h.ward.id}", persistent=False)
        c.start()
        c.wait_connected(3)
        time.sleep(0.5)
        c.stop()
    lost = log_path.read_text(errors="replace").count("lost broker") - lost_before
    ctx.notes.append(f"15 connections with a node's password as the central's client id; the central lost the broker {lost} time(s)")
    ctx.fault_end = time.time()


def _hostile_payloads(n: int, seed: int, genuine: list[bytes]) -> list[bytes]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        k = i % 4
        if k == 0 or not genuine:
            out.append(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 300))))
        elif k == 1:  # a genuine message with bytes flipped
            b = bytearray(rnd.choice(genuine))
            for _ in range(rnd.randint(1, 8)):
                b[rnd.randrange(len(b))] = rnd.getrandbits(8)
            out.append(bytes(b))
        elif k == 2:  # a genuine message with a field changed (signature no longer matches)
            d = json.loads(rnd.choice(genuine))
            d["seq"] = d.get("seq", 0) + rnd.randint(1, 10**6)
            if isinstance(d.get("body"), dict):
                d["body"]["version"] = rnd.randint(10**6, 10**9)
            out.append(json.dumps(d).encode())
        else:  # a genuine message replayed as is
            out.append(rnd.choice(genuine))
    return out


def f_hostile(h: Harness, ctx: Ctx) -> None:
    """10,000 mutated, forged and replayed messages at kp1's node, 10,000 at the central, before airtime."""
    from broadcaster.protocol import Topics
    from broadcaster.transport import BrokerAddress, MqttConnection

    t = Topics(h.ward.id)
    # the attacker holds the central's broker password (the strongest case: it may write every topic)
    genuine: list[bytes] = []
    spy = MqttConnection(BrokerAddress.parse(h.creds["central"]), "spy", persistent=False)
    spy.subscribe(t.zone_schedule("kp1"), lambda tp, p, r: genuine.append(p) if p else None)
    with h.store() as s:
        before_rows = len(s.events())
    spy.start()
    spy.wait_connected(10)
    time.sleep(2)
    seed = list(genuine)  # what arrives from now on is the attack itself
    node_topics = [t.zone_schedule("kp1"), t.zone_emergency("kp1"), t.device_config("kp1-loa1"), t.device_ack("kp1-loa1")]
    central_topics = [t.device_state("kp2-loa1"), t.device_events("kp2-loa1"), t.device_events("kp1-loa1")]
    for n, p in enumerate(_hostile_payloads(10_000, 1, seed)):
        spy.publish(node_topics[n % len(node_topics)], p)
    for n, p in enumerate(_hostile_payloads(10_000, 2, seed)):
        spy.publish(central_topics[n % len(central_topics)], p)
    time.sleep(3)
    spy.stop()
    if ctx.end:
        _sleep_until(ctx.end + timedelta(seconds=5))
    with h.store() as s:
        extra = len(s.events()) - before_rows
    ctx.notes.append(f"{extra} as-run row(s) added for {len(SPEAKERS)} real airings")
    ctx.fault_end = time.time()


def pre_disk_full(h: Harness, ctx: Ctx) -> None:
    if os.geteuid() != 0:
        ctx.notes.append("needs root (a small tmpfs as the node's disk): skipped")
        return
    disk = h.base / "kp2-disk"
    disk.mkdir(exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)], capture_output=True).returncode:
        ctx.notes.append("cannot mount a tmpfs: skipped")
        return
    h.stop("kp2-loa1")
    h.start_node("kp2-loa1", home=disk)
    time.sleep(6)
    h.disk = disk  # type: ignore[attr-defined]


def f_disk_full(h: Harness, ctx: Ctx) -> None:
    disk = getattr(h, "disk", None)
    if disk is None:
        return
    _at(ctx, -8)
    with open(disk / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    ctx.notes.append("kp2's disk full from 8 s before airtime; node rebooted after airtime")
    if ctx.end:
        _sleep_until(ctx.end + timedelta(seconds=2))
    h.stop("kp2-loa1", signal.SIGKILL)
    h.start_node("kp2-loa1", home=disk)  # reboot, disk still full: must not air it again
    time.sleep(10)
    ctx.fault_end = time.time()


def cleanup_disk(h: Harness) -> None:
    disk = getattr(h, "disk", None)
    if disk is not None:
        h.stop("kp2-loa1")
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)
        h.start_node("kp2-loa1")


SCENARIOS: dict[str, tuple[Callable[[Harness, Ctx], None], Callable[[Harness, Ctx], None] | None]] = {
    "no fault": (f_none, None),
    "broker killed before airtime": (f_broker_before, None),
    "broker killed during airtime": (f_broker_during, None),
    "central killed and restarted": (f_central_restart, None),
    "node rebooted mid-download": (f_node_mid_download, pre_mid_download),
    "node rebooted mid-airing": (f_node_mid_airing, None),
    "media-server flood": (f_flood, pre_flood),
    "store locked 60 s": (f_store_locked, None),
    "store restored from backup": (f_none, pre_restore),
    "node disk full + reboot": (f_disk_full, pre_disk_full),
    "node clock 2 min behind": (f_skew, pre_skew),
    "cache corrupted": (f_cache_corrupt, None),
    "client-id takeover": (f_takeover, None),
    "10000 hostile msgs each": (f_hostile, None),
}
QUICK = ("no fault", "broker killed during airtime", "node rebooted mid-airing", "store locked 60 s", "cache corrupted")


def table(rows: list[Row]) -> str:
    head = ["fault", "scheduled", "played", "missed", "aired twice", "events lost", "unsigned plays", "recover s", "note"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        rec = "—" if r.recover_s is None else f"{r.recover_s:.1f}"
        lines.append(f"| {r.fault} | {r.scheduled} | {r.played} | {r.missed} | {r.twice} | {r.lost} | {r.unsigned} | {rec} | {r.note} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/faults", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help=f"only: {', '.join(QUICK)}")
    ap.add_argument("--only", action="append", default=[], help="scenario names (comma-separated): " + ", ".join(SCENARIOS))
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder (logs, WAVs, store)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="faults %(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("broadcaster").setLevel(logging.INFO if args.verbose else logging.ERROR)
    names = [n.strip() for o in args.only for n in o.split(",") if n.strip()] or list(QUICK if args.quick else SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s): {unknown}; choose from {list(SCENARIOS)}", file=sys.stderr)
        return 2
    base = Path(tempfile.mkdtemp(prefix="broadcaster-faults-"))
    h = Harness(base)
    rows: list[Row] = []
    try:
        h.start_central()
        for dev in SPEAKERS:
            h.start_node(dev)
        time.sleep(8)
        for name in names:
            fault, pre = SCENARIOS[name]
            log.info("scenario: %s", name)
            try:
                slug = "-".join(re.findall(r"[a-z0-9]+", name.lower()))
                rows.append(run_scenario(h, slug, fault, pre=pre))
                rows[-1].fault = name
            except Exception as exc:  # one broken scenario must not hide the others' figures
                log.exception("scenario %s failed", name)
                rows.append(Row(name, note=f"harness error: {exc}"))
            finally:
                if name == "node disk full + reboot":
                    cleanup_disk(h)
                for n in ("central", *SPEAKERS):  # a scenario must leave the ward running
                    if n in h.procs and h.procs[n].poll() is not None:
                        log.warning("%s had exited: started again", n)
                        (h.start_central() if n == "central" else h.start_node(n))
    finally:
        h.close()
        print()
        print(table(rows))
        print(f"\nlogs and outputs: {base}" if args.keep else "")
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    bad = sum(r.lost + r.twice + r.unsigned for r in rows)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

"""Fan-out: one schedule change reaching N simulated speaker nodes over a real Mosquitto on loopback.

What is timed: from the moment the central starts publishing the change (the real
``broadcaster.central.publisher.Publisher``: version from the SQLite store, envelope, Ed25519
signature, retained QoS 1 publish per zone) until the central side has received every node's
acknowledgement. The acknowledgement is what a real node sends: its retained ``DeviceState`` with
``applied = {target: version}``, in a signed-protocol envelope, QoS 1, retained. One collector
client subscribed to ``bc/v1/<ward>/device/+/state`` stands for the central's ingest.

What a simulated node does with the message is what ``broadcaster.agents`` does: receive the
retained zone schedule, ``wire.trust.open_central`` (decode, ward and type checks, Ed25519
verification, replay guard and expiry), parse the ``Schedule``, keep the highest version per
target, build and publish its ``DeviceState``. It does not write its state file (a real node has
its own disk; a thousand fsyncs on this one would measure this machine's disk, not the protocol).

Harness: the nodes live in a few worker processes (``multiprocessing``, spawn), each driving its
slice of paho clients with paho's external loop (``client.socket()`` in a ``selectors`` selector,
``loop_read``/``loop_write``/``loop_misc``): no thread per client, so thousands of clients fit on
two cores. Every configuration gets a fresh Mosquitto (``LocalMosquitto``) with the settings in
``BROKER_SETTINGS``.

Baseline, same harness, same N, same broker settings: the "central" publishes a bare retained
QoS 1 payload per zone and each node answers with one bare retained QoS 1 publish (no JSON, no
signature, no store). The ratio therefore isolates what broadcaster adds to the broker's own limit.

Layouts: ``zones`` spreads the nodes 10 per zone (a province: many small zones, one retained
message per zone); ``one-zone`` puts all N on one topic (the worst case for the broker's fan-out).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import selectors
import threading
import time
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from benchmarks import BenchConfig, SectionResult
from benchmarks.stats import Figure, latency_summary

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
WARD = "bench-ward"
NODES_PER_ZONE = 10

# Broker settings for every fan-out configuration (stated in the output and docs/scaling.md):
# * max_queued_messages: the central's one collector receives N acknowledgements at once; QoS 1
#   messages beyond the per-client queue (Mosquitto's default: 1000) are *dropped*, so a province
#   of 1,500 nodes would lose acks. 0 would be unbounded; a bound keeps a stuck client from eating
#   the broker's memory, so it is set well above the largest fan-in instead.
# * max_inflight_messages: Mosquitto's default of 20 unacknowledged QoS 1 messages per client
#   serialises the fan-in to the collector on round trips; 100 keeps the pipe full.
# * max_connections -1: no cap (the default, stated); the bench raises RLIMIT_NOFILE so Mosquitto,
#   a child of this process, can hold thousands of sockets.
BROKER_SETTINGS = {
    "max_queued_messages": "100000",
    "max_inflight_messages": "100",
    "max_connections": "-1",
    "persistent_client_expiration": "1h",
}
# Mosquitto 2.0's own defaults, for the comparison run that shows why the above are needed.
STOCK_SETTINGS = {"max_queued_messages": "1000", "max_inflight_messages": "20", "max_connections": "-1"}


# --------------------------------------------------------------------------------------------
# node worker process
# --------------------------------------------------------------------------------------------


def _node_worker(port: int, nodes: list[tuple[str, str]], mode: str, public_pem: bytes, conn: Any) -> None:
    """Run ``nodes`` [(device, zone)] as paho clients on one selector until told to stop.

    Messages to the parent over ``conn``: ("ready", connected) once every client is connected and
    subscribed; ("stats", {...}) on stop.
    """
    import paho.mqtt.client as mqtt

    from broadcaster.wire.envelope import make_envelope
    from broadcaster.wire.errors import ProtocolError
    from broadcaster.wire.messages import DeviceState, Schedule
    from broadcaster.wire.times import utc_now
    from broadcaster.wire.topics import Topics
    from broadcaster.wire.trust import ReplayGuard, Verifier, open_central
    from broadcaster.wire.vocabulary import DeviceKind, MessageType

    logging.basicConfig(level=logging.WARNING)
    verifier = Verifier(public_pem) if mode == "broadcaster" else None
    topics = Topics(WARD)
    sel = selectors.DefaultSelector()
    stats = {"received": 0, "acked": 0, "refused": 0, "handle_s": 0.0}
    subscribed = set()
    dirty: set[Any] = set()

    class Node:
        def __init__(self, device: str, zone: str) -> None:
            self.device, self.zone = device, zone
            self.guard = ReplayGuard()
            self.applied: dict[str, int] = {}
            self.seq = 0
            self.state_topic = topics.device_state(device)
            self.subs = topics.node_subscriptions(device, zone) if mode == "broadcaster" else [topics.zone_schedule(zone)]
            c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bc-{WARD}-{device}", clean_session=False,
                            protocol=mqtt.MQTTv311, userdata=self)
            c.max_inflight_messages_set(100)
            c.max_queued_messages_set(0)
            c.on_connect = _on_connect
            c.on_subscribe = _on_subscribe
            c.on_message = _on_message
            self.client = c

        def handle(self, topic: str, payload: bytes) -> bytes | None:
            if mode == "bare":
                return b"ack " + payload
            assert verifier is not None
            try:
                opened = open_central(payload, topic, verifier, self.guard, ward=WARD)
            except ProtocolError:
                stats["refused"] += 1
                return None
            if opened is None:
                return None
            _env, body = opened
            if not isinstance(body, Schedule):
                return None
            have = self.applied.get(body.target)
            if have is not None and body.version <= have:
                return None
            self.applied[body.target] = body.version
            self.seq = max(self.seq + 1, time.time_ns() // 1_000_000)
            st = DeviceState(
                device=self.device, kind=DeviceKind.SPEAKER, online=True, zone=self.zone, volume=80,
                applied=dict(self.applied), clock=utc_now(), agent_version="bench",
            )
            env = make_envelope(MessageType.STATE, st.to_body(), ward=WARD, sender=self.device, seq=self.seq,
                                         topic=self.state_topic)
            return env.to_bytes()

    def _on_connect(client: Any, node: Node, flags: Any, reason: Any, props: Any) -> None:
        client.subscribe([(t, 1) for t in node.subs])
        dirty.add(client)

    def _on_subscribe(client: Any, node: Node, mid: Any, reasons: Any, props: Any) -> None:
        subscribed.add(node.device)

    def _on_message(client: Any, node: Node, msg: Any) -> None:
        if not msg.payload:
            return
        stats["received"] += 1
        t0 = time.perf_counter()
        ack = node.handle(msg.topic, msg.payload)
        stats["handle_s"] += time.perf_counter() - t0
        if ack is not None:
            client.publish(node.state_topic, ack, qos=1, retain=True)
            stats["acked"] += 1
            dirty.add(client)

    all_nodes = []
    for device, zone in nodes:
        n = Node(device, zone)
        all_nodes.append(n)
    by_sock: dict[Any, Any] = {}
    for n in all_nodes:
        for attempt in range(50):
            try:
                n.client.connect("127.0.0.1", port, keepalive=120)
                break
            except OSError:
                time.sleep(0.1 * (attempt + 1))
        else:
            raise RuntimeError(f"{n.device} could not connect to the broker")
        s = n.client.socket()
        if s is None:
            raise RuntimeError(f"{n.device} has no socket after connecting")
        by_sock[s] = n.client
        sel.register(s, selectors.EVENT_READ, n.client)  # type: ignore[arg-type]  # paho's SocketLike has fileno()
    sel.register(conn, selectors.EVENT_READ, None)

    ready_sent = False
    writing: set[Any] = set()
    last_misc = time.monotonic()
    running = True
    while running:
        events = sel.select(timeout=0.2)
        for key, mask in events:
            c = key.data
            if c is None:  # the parent
                msg = conn.recv()
                if msg == "stop":
                    running = False
                continue
            if mask & selectors.EVENT_READ:
                c.loop_read(100)
            if mask & selectors.EVENT_WRITE:
                dirty.add(c)
        while dirty:
            c = dirty.pop()
            c.loop_write()
            s = c.socket()
            if s is None:
                continue
            want = c.want_write()
            if want and c not in writing:
                sel.modify(s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
                writing.add(c)
            elif not want and c in writing:
                sel.modify(s, selectors.EVENT_READ, c)
                writing.discard(c)
        now = time.monotonic()
        if now - last_misc > 1.0:
            last_misc = now
            for n in all_nodes:
                n.client.loop_misc()
        if not ready_sent and len(subscribed) == len(all_nodes):
            conn.send(("ready", len(all_nodes)))
            ready_sent = True
    for n in all_nodes:
        try:
            n.client.disconnect()
            n.client.loop_write()
        except Exception:  # noqa: BLE001 - shutting down
            pass
    conn.send(("stats", stats))


# --------------------------------------------------------------------------------------------
# central side: publisher and collector
# --------------------------------------------------------------------------------------------


class Collector:
    """The central's view: one client on the state wildcard, recording when each ack arrives."""

    def __init__(self, port: int, mode: str) -> None:
        from broadcaster.wire import envelope, topics, vocabulary

        self.mode = mode
        self.port = port
        self.decode, self.STATE, self.topics = envelope.decode_device, vocabulary.MessageType.STATE, topics.Topics(WARD)
        self.lock = threading.Lock()
        self.expect: str | int | None = None  # version (broadcaster) or marker (bare) of the current change
        self.target_of: dict[str, str] = {}  # device -> target it must ack
        self.got: dict[str, float] = {}
        self.all_in = threading.Event()
        self.n = 0
        self.parse_s = 0.0
        self.subscribed = threading.Event()
        self.client = self._connect(subscribe=True)
        if not self.subscribed.wait(10):
            raise RuntimeError("collector could not subscribe")

    def _connect(self, *, subscribe: bool) -> Any:
        """A persistent session, as the central's own connection: the broker queues for it while away."""
        import paho.mqtt.client as mqtt

        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-central-collector", clean_session=False,
                        protocol=mqtt.MQTTv311)
        c.max_inflight_messages_set(100)
        c.on_message = self._on_message
        if subscribe:
            c.on_connect = lambda cl, *a: cl.subscribe(self.topics.all_states, qos=1)
            c.on_subscribe = lambda *a: self.subscribed.set()
        c.connect("127.0.0.1", self.port, keepalive=120)
        c.loop_start()
        return c

    def go_offline(self) -> None:
        """The central goes away (restart, link down) without ending its session."""
        self.client.disconnect()
        self.client.loop_stop()

    def come_back(self) -> None:
        """Reconnect to the same session *without* subscribing again: receive only what the broker
        queued meanwhile (a re-subscription would also bring the retained states back; as-run
        events, which are not retained, have only the queue)."""
        self.client = self._connect(subscribe=False)

    def arm(self, expect: str | int, n: int) -> None:
        with self.lock:
            self.expect, self.n, self.got = expect, n, {}
            self.parse_s = 0.0
            self.all_in.clear()

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        t = time.perf_counter()
        if not msg.payload:
            return
        device = msg.topic.split("/")[-2]
        if self.mode == "bare":
            ok = msg.payload.endswith(str(self.expect).encode())
        else:
            p0 = time.perf_counter()
            try:
                _env, st = self.decode(msg.payload, msg.topic, self.STATE)  # as the central's ingest does
            except ValueError:  # every wire refusal is a ProtocolError, a ValueError
                return
            self.parse_s += time.perf_counter() - p0
            ok = getattr(st, "applied", {}).get(self.target_of.get(device, "")) == self.expect
        if not ok:
            return
        with self.lock:
            if device not in self.got:
                self.got[device] = t
                if len(self.got) >= self.n:
                    self.all_in.set()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _items(rep: int, zone: str) -> list[Any]:
    """A realistic zone schedule: the next two days' bulletins (6 items), one changed per repetition."""
    from broadcaster.wire.messages import MediaRef, ScheduleItem
    from broadcaster.wire.vocabulary import Priority

    base = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=1)
    items = []
    for k in range(6):
        sha = f"{(rep * 7 + k) % 16:x}" * 64
        items.append(ScheduleItem(
            item_id=f"it-{zone}-{k}", announcement_id=f"ann-{k}", title=f"Thông báo số {k} (bản {rep})",
            priority=Priority.PRIORITY if k == 0 else Priority.NORMAL, start=base + timedelta(hours=12 * k), duration_ms=55_000,
            media=MediaRef(url=f"http://central.local:8750/media/{sha}.mp3", sha256=sha, size=880_000),
        ))
    return items


@dataclass
class RunResult:
    layout: str
    mode: str
    n: int
    zones: int
    reps: list[dict[str, float]] = field(default_factory=list)  # per repetition: p50, p99, max, lost, publish_ms
    connect_s: float = 0.0
    worker_stats: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    warmup_lost: int = 0
    central_offline: bool = False

    def metric(self, key: str) -> list[float]:
        return [r[key] for r in self.reps if key in r]


class Setup:
    """One configuration on a fresh broker: N nodes connected and warmed up, ready for changes."""

    def __init__(self, cfg: BenchConfig, *, n: int, layout: str, mode: str, settings: dict[str, str], workers: int,
                 timeout: float, central_offline: bool) -> None:
        from broadcaster.localbroker import LocalMosquitto
        from broadcaster.wire.trust import generate_keypair

        self.cfg, self.n, self.mode, self.timeout, self.central_offline = cfg, n, mode, timeout, central_offline
        self.workers = workers
        zones_n = 1 if layout == "one-zone" else max(1, n // NODES_PER_ZONE)
        self.zone_ids = [f"z{z:04d}" for z in range(zones_n)]
        self.nodes = [(f"n{i:05d}", self.zone_ids[i % zones_n]) for i in range(n)]
        self.res = RunResult(layout=layout, mode=mode, n=n, zones=zones_n, settings=dict(settings), central_offline=central_offline)
        self.tag = f"{mode}-{layout}-{n}-{settings.get('max_queued_messages')}{'-offline' if central_offline else ''}"
        self.broker = LocalMosquitto(cfg.work / "fanout" / self.tag, persistence=False, settings=settings).start()
        self.private_pem, self.public_pem = generate_keypair()
        self.procs: list[Any] = []
        self.pipes: list[Any] = []
        self.collector: Collector | None = None
        self.conn: Any = None
        self.store: Any = None
        self.publisher: Any = None

    def start(self) -> None:
        """Connect the central and the N nodes; the retained state before the change is acked (warm-up)."""
        from broadcaster.central.publisher import Publisher
        from broadcaster.central.store import Store
        from broadcaster.config import load_ward
        from broadcaster.transport import BrokerAddress, MqttConnection
        from broadcaster.wire.trust import Signer

        n = self.n
        self.collector = Collector(self.broker.port, self.mode)
        self.collector.target_of = {d: f"zone/{z}" for d, z in self.nodes}
        self.conn = MqttConnection(BrokerAddress.parse(self.broker.url), f"bench-central-{self.tag}", persistent=False)
        self.conn.start()
        if not self.conn.wait_connected(10):
            raise RuntimeError("central could not connect")
        ward = load_ward(ROOT / "devices" / "ward.toml", env={"BROADCASTER_HOME": str(self.cfg.work / "fanout" / "home")})
        ward = dc_replace(ward, id=WARD)
        self.store = Store(self.cfg.work / "fanout" / f"{self.tag}.sqlite")
        self.publisher = Publisher(ward, self.store, self.conn, Signer(self.private_pem))
        self.horizon = datetime.now(timezone.utc) + timedelta(hours=48)
        self.collector.arm(self.publish(0), n)
        t0 = time.perf_counter()
        ctx = mp.get_context("spawn")
        for sl in [self.nodes[w::self.workers] for w in range(self.workers)]:
            if not sl:
                continue
            parent, child = ctx.Pipe()
            p = ctx.Process(target=_node_worker, args=(self.broker.port, sl, self.mode, self.public_pem, child), daemon=True)
            p.start()
            self.procs.append(p)
            self.pipes.append(parent)
        for pp in self.pipes:
            if not pp.poll(max(60.0, n / 50)):
                raise RuntimeError("node workers did not connect in time")
            pp.recv()
        if not self.collector.all_in.wait(self.timeout):
            # with too small a broker queue acks are dropped: count them, the repetitions say more
            self.res.warmup_lost = n - len(self.collector.got)
            log.warning("warm-up: only %d/%d nodes acknowledged the first state", len(self.collector.got), n)
        self.res.connect_s = time.perf_counter() - t0
        log.info("fan-out %s %s N=%d (%d zones): %d nodes connected and in step in %.1f s",
                 self.mode, self.res.layout, n, self.res.zones, n, self.res.connect_s)

    def publish(self, rep: int) -> str | int:
        from broadcaster.wire.topics import Topics

        if self.mode == "bare":
            marker = f"v{rep}"
            for z in self.zone_ids:
                self.conn.publish(Topics(WARD).zone_schedule(z), marker.encode(), retain=True, qos=1)
            return marker
        # as the service's refresh does: every zone's schedule to the publisher at once
        sent = self.publisher.zone_schedules({z: _items(rep, z) for z in self.zone_ids}, self.horizon, force=True)
        versions = set(sent.values())
        if len(versions) != 1 or len(sent) != len(self.zone_ids):
            raise RuntimeError(f"zones got different versions {versions}: stale store?")
        return versions.pop()  # type: ignore[no-any-return]

    def change(self, rep: int) -> None:
        """One schedule change, timed from the start of publishing to the last acknowledgement."""
        collector, n = self.collector, self.n
        assert collector is not None
        # let the broker and the nodes go idle, this setup's and the other mode's (whose last change may
        # still be settling: retained states, PUBACKs), so neither mode inherits the other's work
        time.sleep(1.0)
        with collector.lock:
            collector.expect, collector.n, collector.got = None, n, {}
            collector.all_in.clear()
        # the version is only known once the store has issued it: arm with the next one
        expect = (self.store.versions().get(f"zone/{self.zone_ids[0]}", 0) + 1) if self.mode == "broadcaster" else f"v{rep}"
        collector.arm(expect, n)
        if self.central_offline:
            collector.go_offline()
        t_pub = time.perf_counter()
        got_version = self.publish(rep)
        pub_ms = (time.perf_counter() - t_pub) * 1000
        if got_version != expect:
            raise RuntimeError(f"published version {got_version}, expected {expect}")
        if self.central_offline:
            time.sleep(2.0 + n / 1000)  # every node has acked into the broker's queue meanwhile
            collector.come_back()
        complete = collector.all_in.wait(self.timeout)
        with collector.lock:
            lat = [(t - t_pub) * 1000 for t in collector.got.values()]
        s = latency_summary(lat)
        s["lost"] = n - len(lat)
        s["publish_ms"] = pub_ms
        s["collector_parse_ms"] = collector.parse_s * 1000
        if not complete:
            s["p99"] = s["max"] = float("nan")  # not everyone acknowledged: no finite figure
        self.res.reps.append(s)
        log.info("  %s rep %d: p50 %.0f ms, p99 %.0f ms, all %.0f ms, publish %.0f ms%s", self.mode, rep, s["p50"], s["p99"],
                 s["max"], pub_ms, f", {s['lost']} LOST" if s["lost"] else "")

    def stop(self) -> None:
        for pp in self.pipes:
            try:
                pp.send("stop")
            except OSError:
                pass
        for pp in self.pipes:
            try:
                if pp.poll(10):
                    msg = pp.recv()
                    if msg[0] == "stats":
                        self.res.worker_stats.append(msg[1])
            except (OSError, EOFError):
                pass
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                p.kill()
                p.join()
        if self.collector:
            self.collector.close()
        if self.conn:
            self.conn.stop()
        if self.store:
            self.store.close()
        self.broker.stop()


def run_config(cfg: BenchConfig, *, n: int, layout: str, mode: str, reps: int, settings: dict[str, str],
               workers: int, timeout: float = 60.0, central_offline: bool = False) -> RunResult:
    """One configuration on a fresh broker: connect N nodes, warm up, then ``reps`` schedule changes."""
    return run_alternating(cfg, n=n, layout=layout, modes=(mode,), reps=reps, settings=settings, workers=workers,
                           timeout=timeout, central_offline=central_offline)[mode]


def run_alternating(cfg: BenchConfig, *, n: int, layout: str, modes: tuple[str, ...], reps: int, settings: dict[str, str],
                    workers: int, timeout: float = 60.0, central_offline: bool = False) -> dict[str, RunResult]:
    """The same configuration in each mode, each on its own fresh broker, all connected at once; the
    repetitions alternate between the modes (ABAB, then BABA...), so a ratio between them compares
    changes made under the same load of the machine, not one mode's minute against another's."""
    setups = {m: Setup(cfg, n=n, layout=layout, mode=m, settings=settings, workers=workers, timeout=timeout,
                       central_offline=central_offline) for m in modes}
    try:
        live = []
        for m, su in setups.items():
            try:
                su.start()
                live.append(m)
            except Exception as exc:  # noqa: BLE001 - recorded, the other mode still runs
                log.warning("fan-out %s %s N=%d failed: %s", m, layout, n, exc)
                su.res.error = f"{type(exc).__name__}: {exc}"
        for rep in range(1, reps + 1):
            for m in live if rep % 2 else list(reversed(live)):
                su = setups[m]
                if su.res.error:
                    continue
                try:
                    su.change(rep)
                except Exception as exc:  # noqa: BLE001 - recorded, the other configurations still run
                    log.warning("fan-out %s %s N=%d failed: %s", m, layout, n, exc)
                    su.res.error = f"{type(exc).__name__}: {exc}"
    finally:
        for su in setups.values():
            su.stop()
    return {m: su.res for m, su in setups.items()}


def run(cfg: BenchConfig) -> SectionResult:
    reps = cfg.reps or cfg.pick(3, 5)
    cores = os.cpu_count() or 2
    workers = cfg.workers or max(2, cores)
    if cfg.quick:
        plan = [(100, "zones"), (1000, "zones"), (1000, "one-zone")]
    else:
        top = cfg.max_nodes or 5000
        sizes = sorted({100, 1000, *[s for s in (2000, 3000, 5000, 8000, 10000) if s <= top], top})
        plan = [(s, "zones") for s in sizes] + [(s, "one-zone") for s in sizes if s >= 1000]
    if cfg.quick and cfg.max_nodes:
        plan = [(s, lay) for s, lay in plan if s <= cfg.max_nodes] or [(cfg.max_nodes, "zones")]
    results: list[RunResult] = []
    for n, layout in plan:
        pair = run_alternating(cfg, n=n, layout=layout, modes=("broadcaster", "bare"), reps=reps, settings=BROKER_SETTINGS,
                               workers=workers)
        results += [pair["broadcaster"], pair["bare"]]
    stock: list[RunResult] = []
    offline: list[RunResult] = []
    if not cfg.quick:
        # Why the settings: the same change with Mosquitto's stock per-client queue and window...
        big = max(s for s, _ in plan)
        stock.append(run_config(cfg, n=big, layout="zones", mode="broadcaster", reps=min(reps, 3),
                                settings=STOCK_SETTINGS, workers=workers, timeout=20.0))
        # ...and a province (1,500 nodes) acknowledging while the central is away, both settings.
        for st in (STOCK_SETTINGS, BROKER_SETTINGS):
            offline.append(run_config(cfg, n=1500, layout="zones", mode="broadcaster", reps=2, settings=st,
                                      workers=workers, timeout=10.0, central_offline=True))

    sec = "fanout"
    figures: list[Figure] = []
    pairs = {(r.n, r.layout, r.mode): r for r in results}
    for n, layout in plan:
        b, base = pairs[(n, layout, "broadcaster")], pairs[(n, layout, "bare")]
        label = f"N={n:,} {'10/zone' if layout == 'zones' else 'one zone'}"
        target = 2000.0 if (n == 1000 and layout == "zones") else None
        for key, name in (("p50", "ack p50"), ("p99", "ack p99")):
            vals = b.metric(key) if not b.error else [float("nan")]
            figures.append(Figure(
                sec, f"{label}: {name}", "ms", vals, base.metric(key) or None, "bare paho",
                target=target if key == "p99" else None,
                note=b.error or "",
                extra={"lost": b.metric("lost"), "publish_ms": b.metric("publish_ms"), "zones": b.zones,
                       "baseline_lost": base.metric("lost")},
            ))
        if n == 1000 and layout == "zones":
            ratio = [x / y for x, y in zip(b.metric("p99"), base.metric("p99"))] if b.reps and base.reps else [float("nan")]
            figures.append(Figure(sec, f"{label}: p99 vs bare broker", "x", ratio, target=3.0,
                                  note="per-repetition ratio broadcaster p99 / bare p99"))
    b1k = pairs.get((1000, "zones", "broadcaster"))
    if b1k and b1k.reps and b1k.worker_stats:
        per_msg = [1e6 * w["handle_s"] / w["received"] for w in b1k.worker_stats if w["received"]]
        figures.append(Figure(sec, "node: open+verify+parse+ack, per message", "us", per_msg,
                              note="CPU a real node spends; here N nodes share 2 cores"))
        figures.append(Figure(sec, "central: publish one change, 100 zones", "ms", b1k.metric("publish_ms"),
                              note="store version + seq, sign, retained publish, per zone"))
    for r in offline:
        q = r.settings.get("max_queued_messages")
        figures.append(Figure(
            sec, f"N={r.n:,} central offline, max_queued_messages {q}: acks lost", "acks",
            r.metric("lost") or [float("nan")],
            note="acks queued by the broker while the central's session was away" + (f"; {r.error}" if r.error else ""),
        ))
    for r in stock:
        figures.append(Figure(
            sec, f"N={r.n:,} stock Mosquitto settings: acks lost", "acks", r.metric("lost") or [float("nan")],
            note=f"max_queued_messages 1000, max_inflight_messages 20; {r.warmup_lost} lost at connect"
            + (f"; {r.error}" if r.error else ""),
        ))

    notes = [
        "broker settings: " + ", ".join(f"{k} {v}" for k, v in BROKER_SETTINGS.items())
        + "; persistence off; RLIMIT_NOFILE raised for the bench and its Mosquitto",
        f"nodes: {workers} worker processes, paho external loop (selectors), {NODES_PER_ZONE} nodes per zone "
        "or all on one zone topic; each node verifies Ed25519, checks the replay guard, parses and acks",
    ]
    for r in results + stock + offline:
        if r.error:
            notes.append(f"{r.mode} {r.layout} N={r.n}: {r.error}")
    details = {
        "broker_settings": BROKER_SETTINGS,
        "stock_settings": STOCK_SETTINGS,
        "workers": workers,
        "nodes_per_zone": NODES_PER_ZONE,
        "reps": reps,
        "runs": [
            {"n": r.n, "layout": r.layout, "mode": r.mode, "central_offline": r.central_offline, "zones": r.zones, "settings": r.settings,
             "connect_s": round(r.connect_s, 2), "warmup_lost": r.warmup_lost, "reps": r.reps, "worker_stats": r.worker_stats, "error": r.error}
            for r in results + stock + offline
        ],
        "notes": notes,
    }
    return SectionResult(name=sec, figures=figures, details=details)

"""What the speaker node and the TV share: the broker link, trust, persistence and reporting.

An ``Agent`` owns one folder (``<home>/agents/<device>/``) and one broker connection:

* the connection is the transport's ``MqttConnection`` (persistent session, backoff, subscriptions
  made again on every connect) with a last will: the retained ``DeviceState`` with ``online``
  false, so the broker itself announces a node that lost power or link;
* every message from the central goes through ``protocol.open_envelope``: signature with the
  ward's public key, ward, type, expiry and a ``ReplayGuard`` that is saved on disk, so a replayed
  message is refused across reboots too. A refused message is logged and changes nothing;
* the agent's own memory (desired state accepted, what it already played, the guard) lives in
  ``state.json``, written atomically (temporary file, fsync, rename) so a power cut leaves either
  the old or the new file;
* as-run events go into an SQLite outbox first and leave it only when the *central* acknowledged
  them (a signed ``event_ack`` on the device's ``ack`` topic, sent once the event is in the store),
  not merely once the broker has them: an event the central could not store is sent again, with a
  growing delay, so events from days offline arrive when the link is back, in order. If the disk
  is full the event waits in memory instead (and the speaker's airing journal re-creates it after
  a reboot);
* the retained state (online, applied versions = acknowledgement, cache, playing, clock, volume)
  is published on connect, on every change and once a minute.

Unlike a viewer that is a module full of globals, there is no import-time work and no singleton:
tests start several agents in one process, stop one and start it again on the same folder.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from broadcaster import __version__
from broadcaster.config import Device, Ward
from broadcaster.agents.cache import MediaCache
from broadcaster.errors import BroadcasterError, ClockSkewError, ConfigError, MediaError, ProtocolError
from broadcaster.protocol import (
    T_EVENT,
    T_STATE,
    AsRunEvent,
    DeviceState,
    Envelope,
    EventAck,
    MediaRef,
    ReplayGuard,
    Topics,
    Verifier,
    make_envelope,
    open_envelope,
    utc_now,
)
from broadcaster.transport import BrokerAddress, MqttConnection, Will

log = logging.getLogger(__name__)


def load_verifier(home: Path, public_key: Path | None = None) -> Verifier:
    """The ward's public key: ``--public-key`` or ``<home>/keys/central.pub``."""
    path = Path(public_key) if public_key else Path(home) / "keys" / "central.pub"
    try:
        pem = path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError(
            str(path), "(file)", "the ward public key is missing",
            "copy central.pub from the central service (`broadcaster keys`) or pass --public-key",
        ) from exc
    return Verifier(pem)


class JsonState:
    """A JSON file written atomically; the agent's memory across reboots."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def backup(self) -> Path:
        return self.path.with_suffix(".bak")

    def load(self) -> dict[str, Any]:
        for path in (self.path, self.backup):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                continue
            except (json.JSONDecodeError, UnicodeDecodeError, OSError):
                # Only possible if the disk corrupted it: try the previous version, and the
                # central's retained state restores the rest (the speaker's journal what aired).
                bad = path.with_suffix(path.suffix + ".corrupt")
                try:
                    os.replace(path, bad)
                except OSError:
                    pass
                log.error("%s was unreadable, moved to %s", path, bad.name)
                continue
            if isinstance(data, dict):
                if path != self.path:
                    log.warning("using the previous copy %s of the node's memory", path.name)
                return data
        return {}

    def save(self, data: dict[str, Any]) -> None:
        tmp = self.path.with_suffix(".tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(data, f, ensure_ascii=False, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
        except OSError:
            tmp.unlink(missing_ok=True)  # a half-written temporary must not eat the last free blocks
            raise
        if self.path.exists():
            # keep the previous version (a hard link: no copy, no space) for a corrupted file
            bak_tmp = self.path.with_suffix(".bak.tmp")
            try:
                bak_tmp.unlink(missing_ok=True)
                os.link(self.path, bak_tmp)
                os.replace(bak_tmp, self.backup)
            except OSError:
                pass
        os.replace(tmp, self.path)


class Outbox:
    """As-run events kept until the central acknowledged storing them.

    On disk (SQLite, synchronous) normally; in memory when the disk refuses the write (full), so the
    event is still sent and re-sent until acknowledged. A row is sent, then sent again after
    ``ack_timeout`` doubling with each try (up to an hour) until its ``event_ack`` arrives.
    """

    def __init__(self, path: Path, ack_timeout: float = 60.0, clock: Any = time.time) -> None:
        self._lock = threading.Lock()
        self.closed = False
        self.ack_timeout = ack_timeout
        self.clock = clock
        self._mem: dict[str, list[Any]] = {}  # key -> [topic, payload, sent, tries] (disk refused them)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # an event written is an event kept through a power cut
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS outbox (n INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT UNIQUE, topic TEXT, payload BLOB, created REAL)"
        )
        cols = {r[1] for r in self._db.execute("PRAGMA table_info(outbox)")}
        if "sent" not in cols:  # an outbox of an older agent: its rows count as never sent
            self._db.execute("ALTER TABLE outbox ADD COLUMN sent REAL")
            self._db.execute("ALTER TABLE outbox ADD COLUMN tries INTEGER NOT NULL DEFAULT 0")

    def put(self, key: str, topic: str, payload: bytes) -> bool:
        """Keep an event; True if on disk, False if only in memory (disk full or failing)."""
        with self._lock:
            try:
                self._db.execute(
                    "INSERT OR IGNORE INTO outbox (key, topic, payload, created) VALUES (?, ?, ?, ?)", (key, topic, payload, self.clock())
                )
                return True
            except sqlite3.Error:
                self._mem.setdefault(key, [topic, payload, None, 0])
                return False

    def _wait(self, tries: int) -> float:
        return min(self.ack_timeout * (2 ** max(tries - 1, 0)), 3600.0)

    def due(self, limit: int = 50) -> list[tuple[str, str, bytes]]:
        """Events to send now: never sent, or sent and not acknowledged in time."""
        now = self.clock()
        with self._lock:
            rows = [
                (k, t, bytes(p))
                for k, t, p, sent, tries in self._db.execute("SELECT key, topic, payload, sent, tries FROM outbox ORDER BY n")
                if sent is None or now - sent >= self._wait(tries)
            ][:limit]
            rows += [(k, m[0], m[1]) for k, m in self._mem.items() if m[2] is None or now - m[2] >= self._wait(m[3])]
            return rows[:limit]

    def sent(self, key: str) -> None:
        now = self.clock()
        with self._lock:
            if key in self._mem:
                self._mem[key][2] = now
                self._mem[key][3] += 1
                return
            try:
                self._db.execute("UPDATE outbox SET sent = ?, tries = tries + 1 WHERE key = ?", (now, key))
            except sqlite3.Error:
                pass  # disk full: it is simply sent again sooner

    def acked(self, key: str) -> bool:
        """The central stored (or refused) it: forget it. True if it was held."""
        with self._lock:
            held = self._mem.pop(key, None) is not None
            try:
                held = self._db.execute("DELETE FROM outbox WHERE key = ?", (key,)).rowcount > 0 or held
            except sqlite3.Error:
                pass
            return held

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]) + len(self._mem)

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self.closed = True


class Agent:
    """Base of the device agents. Subclasses set ``kind`` and implement the hooks at the bottom."""

    kind = "agent"

    def __init__(
        self,
        ward: Ward,
        device: Device,
        *,
        home: Path | None = None,
        verifier: Verifier,
        broker_url: str | None = None,
        state_interval: float = 60.0,
        cache_bytes: int = 512 * 1024 * 1024,
        fetch_retry_s: float = 10.0,
        ack_timeout_s: float = 60.0,
        mqtt_ca: str | None = None,
    ) -> None:
        self.ward = ward
        self.mqtt_ca = mqtt_ca
        self.device = device
        self.home = Path(home or ward.service.home)
        self.dir = self.home / "agents" / device.id
        self.dir.mkdir(parents=True, exist_ok=True)
        self.topics = Topics(ward.id)
        self.verifier = verifier
        self.broker_url = broker_url or ward.service.mqtt_url
        self.state_interval = state_interval
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)  # notified whenever desired state changes
        self.stopping = threading.Event()
        self._store = JsonState(self.dir / "state.json")
        self.memory: dict[str, Any] = self._store.load()
        self.guard = ReplayGuard(self.memory.get("guard"))
        self.ack_timeout = ack_timeout_s
        self.outbox = Outbox(self.dir / "outbox.sqlite", ack_timeout_s)
        self._save_failed = False
        self.refused = 0  # messages refused since start (tests and the state log read it)
        self.started_at = utc_now()
        self._seq = 0
        self._state_due = threading.Event()
        self._outbox_due = threading.Event()
        self._threads: list[threading.Thread] = []
        self.conn: MqttConnection | None = None
        self.cache = MediaCache(self.dir / "cache", cache_bytes)
        self.fetch_retry = fetch_retry_s
        self._fetch_errors: dict[str, str] = {}  # sha256 -> last download error
        self._fetch_due = threading.Event()
        self._gen = 0  # bumped on every change of desired state: waiting threads re-evaluate
        self._deferred: dict[str, bytes] = {}  # topic -> message refused as "from the future" (clock behind)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the agent's threads and connect in the background (works with no broker at all)."""
        self.stopping.clear()
        if self.outbox.closed:
            self.outbox = Outbox(self.dir / "outbox.sqlite", self.ack_timeout)
        self.on_start()
        addr = BrokerAddress.parse(self.broker_url)
        will = Will(self.topics.device_state(self.device.id), self._state_payload(online=False))
        self.conn = MqttConnection(addr, f"bc-{self.ward.id}-{self.device.id}", will=will, on_connect=self._on_connected,
                                   ca_file=self.mqtt_ca, on_link_error=self._on_link_error)
        for topic in self.subscriptions():
            self.conn.subscribe(topic, self._on_message)
        self._spawn("outbox", self._outbox_loop)
        self._spawn("state", self._state_loop)
        self.conn.start()
        log.info("%s %s started (ward %s, broker %s)", self.kind, self.device.id, self.ward.id, addr)

    def stop(self) -> None:
        """Stop cleanly: say offline (retained), disconnect, join threads. Memory is already on disk."""
        if self.conn is None and not self._threads:
            return
        self.stopping.set()
        with self.changed:
            self.changed.notify_all()
        self._state_due.set()
        self._outbox_due.set()
        self._fetch_due.set()
        self.on_stop()
        if self.conn:
            self.conn.stop(publish_first=(self.topics.device_state(self.device.id), self._state_payload(online=False)))
            self.conn = None
        for t in self._threads:
            t.join(10)
        self._threads.clear()
        self.outbox.close()
        log.info("%s %s stopped", self.kind, self.device.id)

    def run_forever(self) -> None:
        self.start()
        try:
            while not self.stopping.wait(1.0):
                pass
        finally:
            self.stop()

    def _spawn(self, name: str, target: Any) -> None:
        def guarded() -> None:
            # A bug in one loop must not silently stop a speaker: log and restart the loop.
            while not self.stopping.is_set():
                try:
                    target()
                    return
                except Exception:
                    log.exception("%s loop of %s failed; restarting in 1 s", name, self.device.id)
                    self.stopping.wait(1.0)

        t = threading.Thread(target=guarded, name=f"{self.device.id}-{name}", daemon=True)
        self._threads.append(t)
        t.start()

    # -- incoming ----------------------------------------------------------------------------

    def _on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        if not payload:
            return  # a cleared retained message
        with self.lock:
            try:
                opened = open_envelope(payload, topic, self.verifier, self.guard, ward=self.ward.id)
            except ClockSkewError as exc:
                # A node without a battery clock boots in the past until NTP answers; the retained
                # message will not come again by itself, so keep it and retry (see _state_loop).
                self._deferred[topic] = payload
                log.warning("%s", exc)
                return
            except ProtocolError as exc:
                self.refused += 1
                log.warning("refused message on %s: %s", topic, exc)
                return
            self._deferred.pop(topic, None)
            if opened is None:
                return  # the same message again (a retained copy after reconnect)
            env, body = opened
            if isinstance(body, EventAck):
                self._acked(body)
                self.memory["guard"] = self.guard.snapshot()
                return  # not desired state: nothing to save now (the guard goes with the next save)
            try:
                self.handle(env, body, topic)
            except BroadcasterError as exc:
                self.refused += 1
                log.warning("refused message %s on %s: %s", env.id, topic, exc)
            finally:
                self.memory["guard"] = self.guard.snapshot()
                self.save()
            self.changed.notify_all()
        self.state_changed()

    def save(self) -> bool:
        """Write the memory to disk. A full or failing disk is logged, not raised: the agent keeps
        working from memory (and the speaker's journal keeps what aired)."""
        with self.lock:
            try:
                self._store.save(self.memory)
            except OSError as exc:
                if not self._save_failed:
                    log.error("cannot save %s (%s): working from memory until the disk has room", self._store.path, exc)
                self._save_failed = True
                return False
            if self._save_failed:
                log.info("%s saved again", self._store.path)
            self._save_failed = False
            return True

    def _acked(self, ack: EventAck) -> None:
        if ack.device != self.device.id:
            log.warning("an event_ack for %s arrived on %s's topic: ignored", ack.device, self.device.id)
            return
        for event_id, status, reason in ack.acks:
            held = self.outbox.acked(event_id)
            if status == "refused":
                log.warning("the central refused as-run event %s: %s", event_id, reason)
            elif held:
                log.debug("as-run %s %s by the central", event_id, status)

    # -- outgoing ----------------------------------------------------------------------------

    def _next_seq(self) -> int:
        # Milliseconds since the epoch, kept strictly growing: no counter to persist across reboots.
        with self.lock:
            self._seq = max(self._seq + 1, time.time_ns() // 1_000_000)
            return self._seq

    def _envelope(self, msg_type: str, body: dict[str, Any], topic: str) -> Envelope:
        return make_envelope(msg_type, body, ward=self.ward.id, sender=self.device.id, seq=self._next_seq(), topic=topic)

    def _state_payload(self, online: bool) -> bytes:
        st = DeviceState(
            device=self.device.id,
            kind=self.kind,
            online=online,
            zone=self.device.zone,
            clock=utc_now(),
            agent_version=__version__,
        )
        le = self.memory.get("link_error")
        if le:
            st = replace(st, link_error=f"{le.get('at')}: {le.get('error')}")
        if online:
            st = replace(st, **self.state_fields())
        return self._envelope(T_STATE, st.to_body(), self.topics.device_state(self.device.id)).to_bytes()

    def state_changed(self) -> None:
        """Ask for the retained state to be published again soon."""
        self._state_due.set()

    def _state_loop(self) -> None:
        while not self.stopping.is_set():
            self._state_due.wait(self.state_interval)
            self._state_due.clear()
            # Wait a little *before* building the message: it coalesces bursts of changes into one,
            # and keeps this work (cache scan, schedule parse) out of the instant an item starts,
            # when the timing thread of this and other agents must not be slowed down.
            if self.stopping.wait(0.3):
                return
            with self.lock:
                deferred = list(self._deferred.items())
            for topic, payload in deferred:  # messages refused while our clock was behind
                self._on_message(topic, payload, True)
            if self.conn and self.conn.connected:
                self.conn.publish(self.topics.device_state(self.device.id), self._state_payload(online=True), retain=True)

    def report(self, event: AsRunEvent) -> None:
        """Queue an as-run event; it is sent when the broker is reachable and kept until acknowledged."""
        topic = self.topics.device_events(self.device.id)
        payload = self._envelope(T_EVENT, event.to_body(), topic).to_bytes()
        if not self.outbox.put(event.event_id, topic, payload):
            # Disk full or failing: kept in memory until the central acknowledges it (and, on a
            # speaker, re-created from the airing journal after a reboot).
            log.error("cannot store as-run %s on disk: kept in memory until the central has it", event.item_id)
        log.info("as-run %s %s (%s)%s", event.kind, event.item_id, self.device.id, f": {event.reason}" if event.reason else "")
        self._outbox_due.set()

    def _outbox_loop(self) -> None:
        while not self.stopping.is_set():
            self._outbox_due.wait(2.0)
            self._outbox_due.clear()
            while self.conn and self.conn.connected and not self.stopping.is_set():
                rows = self.outbox.due()
                if not rows:
                    break
                for key, topic, payload in rows:
                    if not self.conn.publish_and_wait(topic, payload, timeout=5.0):
                        break  # link dropped: keep the row, retry after reconnect
                    self.outbox.sent(key)  # kept until the central's event_ack
                else:
                    continue
                break

    def _on_link_error(self, text: str) -> None:
        """On paho's thread: remember why the link failed, for the log (done) and the state."""
        with self.lock:
            if (self.memory.get("link_error") or {}).get("error") == text:
                return
            self.memory["link_error"] = {"error": text, "at": utc_now().strftime("%Y-%m-%dT%H:%M:%SZ")}
            self.save()

    def _on_connected(self) -> None:
        self._state_due.set()
        self._outbox_due.set()

    # -- hooks for subclasses ----------------------------------------------------------------

    def subscriptions(self) -> list[str]:
        raise NotImplementedError

    def handle(self, env: Envelope, body: Any, topic: str) -> None:
        """Apply an accepted central message (called with ``self.lock`` held: be quick)."""
        raise NotImplementedError

    def state_fields(self) -> dict[str, Any]:
        """Fields of DeviceState beyond identity: applied, volume, cache, playing..."""
        return {}

    def needed_media(self, now: datetime) -> list[MediaRef]:
        """Media the agent needs on disk now or later (fetched ahead, never evicted)."""
        return []

    def on_start(self) -> None:
        """Start subclass threads; call super().on_start() to get the prefetch loop."""
        self._spawn("fetch", self._fetch_loop)

    def on_stop(self) -> None:
        pass

    # -- helpers for subclasses --------------------------------------------------------------

    def _bump(self) -> None:
        """Desired state changed (call with the lock held): wake the waiting threads and the fetcher."""
        self._gen += 1
        self._fetch_due.set()

    def _fetch_loop(self) -> None:
        while not self.stopping.is_set():
            with self.lock:
                refs = self.needed_media(utc_now())
            keep = {r.sha256 for r in refs}
            failed = False
            for ref in refs:
                if self.stopping.is_set():
                    return
                if self.cache.get(ref) is not None:
                    self._fetch_errors.pop(ref.sha256, None)
                    continue
                try:
                    self.cache.fetch(ref)
                    self._fetch_errors.pop(ref.sha256, None)
                    with self.changed:
                        # A display may now show it. Bump the generation too: a notify alone is lost
                        # if the render thread is between deciding a frame and waiting.
                        self._gen += 1
                        self.changed.notify_all()
                except MediaError as exc:
                    failed = True
                    self._fetch_errors[ref.sha256] = str(exc)
                self.state_changed()
            self.cache.evict(keep)
            self._fetch_due.wait(self.fetch_retry if failed else 60.0)
            self._fetch_due.clear()

    def accept_versioned(self, kind: str, target: str, version: int, topic: str, body: dict[str, Any]) -> bool:
        """Desired-state bookkeeping shared by schedules and decks: highest version wins per target.

        The target inside the signed body must be the one the topic is for: the signature covers
        the body, not the topic, so this stops a genuine message for another zone or device being
        replayed onto ours.
        """
        scope, ident, _leaf = self.topics.parse(topic)
        if target != f"{scope}/{ident}":
            raise ProtocolError(f"{kind} for {target!r} arrived on {topic}: refused")
        applied: dict[str, int] = self.memory.setdefault("applied", {})
        have = applied.get(target)
        if have is not None and version <= have:
            if version < have:
                log.info("ignored %s %s version %d: version %d already applied", kind, target, version, have)
            return False
        self.memory.setdefault("desired", {})[target] = body
        applied[target] = version
        log.info("applied %s %s version %d", kind, target, version)
        return True


def iso_key(item_id: str, start: datetime) -> str:
    """The identity of one airing: the same item id at another start is another airing."""
    from broadcaster.protocol import fmt_time

    return f"{item_id}@{fmt_time(start)}"

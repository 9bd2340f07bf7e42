"""The node runtime: what every device agent needs between the broker and its own job.

One ``NodeRuntime`` per agent, composed with the agent's other parts (``memory``, ``prefetch``,
``emergencies``, an output); the agent itself only says what it subscribes to, how it applies an
accepted message and what its state shows (the ``Application`` seam below). The runtime does:

* **connection**: the transport's ``MqttConnection`` (persistent session, reconnect with backoff,
  subscriptions made again on every connect) with a last will, the retained ``DeviceState`` with
  ``online`` false, so the broker itself announces a node that lost power or link. A link failure
  (a certificate not trusted...) is kept in memory and shown in the state;
* **trust**: every message from the central goes through ``protocol.open_envelope`` (signature
  with the ward's public key, ward, type, expiry, and the replay guard saved with the node's
  memory, so a replay is refused across reboots too). A refused message is logged and changes
  nothing. One "from the future" (this node's clock still behind at boot) is kept and tried again;
* **one message loop**: paho's network thread only *enqueues* what arrives; the ``inbox`` thread
  verifies and applies it under the store's lock, and the store's writer saves it. Nothing on
  paho's thread verifies, parses or touches the disk;
* **outbox**: as-run events, kept until the central acknowledged storing them (``outbox.py``);
* **state publishing**: the retained state on connect, on every change and once a minute, built
  only after the memory is on disk, so a version acknowledged there survives a reboot.

There is no import-time work and no singleton: tests start several agents in one process, stop one
and start it again on the same folder.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from broadcaster import __version__
from broadcaster.agents.memory import DesiredStateStore, LinkError
from broadcaster.agents.outbox import Outbox
from broadcaster.config import Device, Ward
from broadcaster.errors import BroadcasterError, ClockSkewError, ConfigError, ProtocolError
from broadcaster.protocol import (
    T_EVENT,
    T_STATE,
    AsRunEvent,
    DeviceState,
    Envelope,
    EventAck,
    ReplayGuard,
    Topics,
    Verifier,
    make_envelope,
    open_envelope,
    utc_now,
)
from broadcaster.transport import BrokerAddress, MqttConnection, Will

log = logging.getLogger(__name__)

INBOX_MAX = 1000  # messages waiting for the inbox thread; a burst beyond slows the broker link, loses nothing
STATE_COALESCE_S = 0.3


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


class Application(Protocol):
    """The agent's side of the runtime: its subscriptions, how it applies messages, its state."""

    def subscriptions(self) -> list[str]: ...

    def apply(self, env: Envelope, body: Any, topic: str) -> bool:
        """Apply an accepted central message, with the store's lock held (be quick). True if desired
        state changed. Raise a ``BroadcasterError`` to refuse it."""
        ...

    def state_fields(self) -> dict[str, Any]:
        """Fields of ``DeviceState`` beyond identity: applied, volume, cache, playing..."""
        ...


class NodeRuntime:
    def __init__(
        self,
        ward: Ward,
        device: Device,
        *,
        kind: str,
        folder: Path,
        store: DesiredStateStore,
        verifier: Verifier,
        broker_url: str | None = None,
        state_interval: float = 60.0,
        ack_timeout_s: float = 60.0,
        mqtt_ca: str | None = None,
    ) -> None:
        self.ward, self.device, self.kind = ward, device, kind
        self.folder = folder
        self.store = store
        self.topics = Topics(ward.id)
        self.verifier = verifier
        self.broker_url = broker_url or ward.service.mqtt_url
        self.mqtt_ca = mqtt_ca
        self.state_interval = state_interval
        self.ack_timeout = ack_timeout_s
        self.outbox = Outbox(folder / "outbox.sqlite", ack_timeout_s)
        self.stopping = threading.Event()
        self.refused = 0  # messages refused since start (tests and the state log read it)
        self.deferred: dict[str, bytes] = {}  # topic -> message refused as "from the future" (clock behind)
        self.started_at = utc_now()
        self.conn: MqttConnection | None = None
        self._app: Application | None = None
        self._inbox: queue.Queue[tuple[str, bytes] | None] = queue.Queue(INBOX_MAX)
        self._seq = 0
        self._seq_lock = threading.Lock()
        self._state_due = threading.Event()
        self._outbox_due = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def guard(self) -> ReplayGuard:
        return self.store.memory.guard

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, app: Application) -> None:
        """Start the threads and connect in the background (works with no broker at all)."""
        self._app = app
        self.stopping.clear()
        if self.outbox.closed:
            self.outbox = Outbox(self.folder / "outbox.sqlite", self.ack_timeout)
        self.store.start()
        addr = BrokerAddress.parse(self.broker_url)
        will = Will(self.topics.device_state(self.device.id), self._state_payload(online=False))
        self.conn = MqttConnection(addr, f"bc-{self.ward.id}-{self.device.id}", will=will, on_connect=self._on_connected,
                                   ca_file=self.mqtt_ca, on_link_error=self._on_link_error)
        for topic in app.subscriptions():
            self.conn.subscribe(topic, self._enqueue)
        self.spawn("inbox", self._inbox_loop)
        self.spawn("outbox", self._outbox_loop)
        self.spawn("state", self._state_loop)
        self.conn.start()
        log.info("%s %s started (ward %s, broker %s)", self.kind, self.device.id, self.ward.id, addr)

    def request_stop(self) -> None:
        """Tell every loop to end (they wake from their waits); ``stop`` then joins them."""
        self.stopping.set()
        with self.store.changed:
            self.store.changed.notify_all()
        self._state_due.set()
        self._outbox_due.set()
        try:
            self._inbox.put_nowait(None)
        except queue.Full:
            pass  # the loop sees `stopping` after the next message

    def stop(self) -> None:
        """Stop cleanly: say offline (retained), disconnect, join threads, save the memory."""
        if self.conn is None and not self._threads:
            return
        self.request_stop()
        if self.conn:
            self.conn.stop(publish_first=(self.topics.device_state(self.device.id), self._state_payload(online=False)))
            self.conn = None
        for t in self._threads:
            t.join(10)
        self._threads.clear()
        self.store.stop()
        self.outbox.close()
        self._inbox = queue.Queue(INBOX_MAX)
        log.info("%s %s stopped", self.kind, self.device.id)

    def spawn(self, name: str, target: Callable[[], None]) -> None:
        """A thread of this agent, stopped and joined with it."""

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

    def _enqueue(self, topic: str, payload: bytes, retained: bool) -> None:
        """On paho's network thread: hand over, nothing else."""
        if not payload:  # empty: a cleared retained message
            return
        while True:
            try:
                self._inbox.put((topic, bytes(payload)), timeout=1.0)
                return
            except queue.Full:
                if self.stopping.is_set():
                    return  # stopping: the retained copy comes again at the next start

    def _inbox_loop(self) -> None:
        while not self.stopping.is_set():
            msg = self._inbox.get()
            if msg is None:
                return
            self.receive(*msg)

    def receive(self, topic: str, payload: bytes) -> None:
        """Verify and apply one message (on the inbox thread)."""
        assert self._app is not None
        store = self.store
        with store.lock:
            try:
                opened = open_envelope(payload, topic, self.verifier, self.guard, ward=self.ward.id)
            except ClockSkewError as exc:
                # A node without a battery clock boots in the past until NTP answers; the retained
                # message will not come again by itself, so keep it and retry (see _state_loop).
                self.deferred[topic] = payload
                log.warning("%s", exc)
                return
            except ProtocolError as exc:
                self.refused += 1
                log.warning("refused message on %s: %s", topic, exc)
                return
            self.deferred.pop(topic, None)
            if opened is None:
                return  # the same message again (a retained copy after reconnect)
            env, body = opened
            if isinstance(body, EventAck):
                self._acked(body)
                return  # not desired state: nothing to save now (the guard goes with the next save)
            try:
                if self._app.apply(env, body, topic):
                    store.bump()
            except BroadcasterError as exc:
                self.refused += 1
                log.warning("refused message %s on %s: %s", env.id, topic, exc)
            finally:
                store.mark_dirty()  # the guard moved on, whatever the message did
        self.state_changed()

    def check_target(self, kind: str, target: str, topic: str) -> None:
        """The target inside the signed body must be the one the topic is for: the signature covers
        the body, not the topic, so this stops a genuine message for another zone or device being
        replayed onto ours."""
        scope, ident, _leaf = self.topics.parse(topic)
        if target != f"{scope}/{ident}":
            raise ProtocolError(f"{kind} for {target!r} arrived on {topic}: refused")

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
        with self._seq_lock:
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
        le = self.store.memory.link_error
        if le is not None:
            st = replace(st, link_error=f"{le.at}: {le.error}")
        if online and self._app is not None:
            st = replace(st, **self._app.state_fields())
        return self._envelope(T_STATE, st.to_body(), self.topics.device_state(self.device.id)).to_bytes()

    def state_changed(self) -> None:
        """Ask for the retained state to be published again soon."""
        self._state_due.set()

    def _state_loop(self) -> None:
        while not self.stopping.is_set():
            self._state_due.wait(self.state_interval)
            self._state_due.clear()
            # Wait a little *before* building the message: it coalesces bursts of changes into one,
            # and keeps this work (cache scan, schedule merge) out of the instant an item starts,
            # when the timing thread of this and other agents must not be slowed down.
            if self.stopping.wait(STATE_COALESCE_S):
                return
            with self.store.lock:
                deferred = list(self.deferred.items())
            for topic, payload in deferred:  # messages refused while our clock was behind: again
                self._enqueue(topic, payload, True)
            # acknowledge (in `applied`) only what a reboot would not forget; a full disk is logged
            # by the store and the node works from memory
            self.store.flush(timeout=5.0)
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
        """On paho's thread: remember why the link failed, for the state. The store saves it later."""
        with self.store.lock:
            le = self.store.memory.link_error
            if le is not None and le.error == text:
                return
            self.store.memory.link_error = LinkError(text, utc_now().strftime("%Y-%m-%dT%H:%M:%SZ"))
        self.store.mark_dirty()

    def _on_connected(self) -> None:
        self._state_due.set()
        self._outbox_due.set()

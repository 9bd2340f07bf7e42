"""What the devices say: retained state (and last wills) and as-run events, into the store.

Device messages are not signed (a node holds no private key); the broker's ACL is what stops a
node from writing another's topics. Here we still check that the envelope belongs to this ward, is
of a device type, and that the device named in the body is the one of the topic, so a confused or
misconfigured node cannot write someone else's row.

As-run events are checked before they count: the device must be one of the ward's speakers, the
item one the central delivered to *that device's zone* (a node cannot write another zone's report
or invent items), and each device has a rate bound (a token bucket) so a flood costs the store
nothing. Each event is stored once per ``event_id`` and once per airing, then acknowledged with a
signed ``event_ack`` on the device's own ``ack`` topic: the node keeps the event until then, so an
event the store could not take (locked past its busy timeout) is simply sent again later. Refused
events are acknowledged as ``refused`` (the node drops them); rate-limited ones get no answer.
For a cluster (EMQX, bridged Mosquitto) several central replicas may share the load with a shared
subscription (``$share/central/bc/v1/<ward>/device/+/events``); idempotent storage makes that safe.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable

from broadcaster.central.store import Store
from broadcaster.config import Ward
from broadcaster.errors import BroadcasterError, ProtocolError, StoreError
from broadcaster.transport import BrokerConnection
from broadcaster.wire.envelope import decode_device
from broadcaster.wire.errors import Misdirected
from broadcaster.wire.messages import AsRunEvent, Body, DeviceState
from broadcaster.wire.times import utc_now
from broadcaster.wire.topics import Topics
from broadcaster.wire.vocabulary import AckStatus, MessageType

log = logging.getLogger(__name__)

Acker = Callable[[str, list[tuple[str, str, str]]], None]
"""Sends (device, [(event_id, status, reason)]) back to the device as a signed ``event_ack``."""


class TokenBucket:
    """At most ``burst`` at once, refilled at ``rate`` per second (per device)."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._tokens: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> bool:
        with self._lock:
            now = self.clock()
            tokens, last = self._tokens.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            ok = tokens >= 1
            self._tokens[key] = (tokens - 1 if ok else tokens, now)
            return ok


# A node airs a few items an hour and may come back after days offline with a backlog: 300 at once,
# then one a second, is far above any real node and far below what a flood would need.
EVENT_BURST = 300
EVENT_RATE = 1.0


class Ingest:
    def __init__(
        self,
        ward: Ward,
        store: Store,
        *,
        on_state: Callable[[DeviceState], None] | None = None,
        ack: Acker | None = None,
        bucket: TokenBucket | None = None,
    ) -> None:
        self.ward = ward
        self.store = store
        self.topics = Topics(ward.id)
        self.on_state = on_state
        self.ack = ack
        self.bucket = bucket or TokenBucket(EVENT_RATE, EVENT_BURST)
        self._zones = {d.id: d.zone for d in ward.devices}
        self._speakers = {d.id for d in ward.speakers()}
        self.refused = 0  # messages refused, for the log and the tests
        self.limited = 0  # events left unanswered by the rate bound (the node sends them again)
        self.paused = False  # another service instance serves the ward: store nothing

    def attach(self, conn: BrokerConnection) -> None:
        conn.subscribe(self.topics.all_states, self.handle)
        conn.subscribe(self.topics.all_events, self.handle)

    def _open(self, topic: str, payload: bytes, expected_type: MessageType) -> tuple[str, Body]:
        scope, device, leaf = self.topics.parse(topic)
        env, body = decode_device(payload, topic, expected_type)  # refuses another type, a bad envelope or body
        if env.ward != self.ward.id:
            raise Misdirected(f"is for ward {env.ward!r}", topic=topic, message_id=env.id)
        if env.topic and env.topic != topic:
            raise Misdirected(f"was made for {env.topic} but arrived on {topic}", topic=topic, message_id=env.id)
        if getattr(body, "device", None) != device:
            raise Misdirected(f"speaks for device {getattr(body, 'device', None)!r}", topic=topic, message_id=env.id)
        return device, body

    def handle(self, topic: str, payload: bytes, retained: bool) -> None:
        """Called on the MQTT thread for every state and event message."""
        if not payload or self.paused:
            return  # a retained message being cleared, or this service is giving way to another
        now = utc_now()
        try:
            leaf = topic.rsplit("/", 1)[-1]
            if leaf == "state":
                device, st = self._open(topic, payload, MessageType.STATE)
                assert isinstance(st, DeviceState)
                self.store.update_device_state(st, received_at=now, live=not retained)
                if self.on_state:
                    self.on_state(st)
            elif leaf == "events":
                self._event(topic, payload, now)
        except (StoreError, sqlite3.Error) as exc:
            # The store is locked or failing: nothing is acknowledged, the node sends it again.
            log.error("could not store the device message on %s (%s): the device will send it again", topic, exc)
        except (BroadcasterError, AssertionError) as exc:
            self.refused += 1
            log.warning("refused device message on %s: %s", topic, str(exc)[:300])

    def _event(self, topic: str, payload: bytes, now: object) -> None:
        _scope, device, _leaf = self.topics.parse(topic)
        if device not in self._speakers:
            raise ProtocolError(f"as-run event from {device!r}, which is not a speaker of this ward")
        if not self.bucket.take(device):
            self.limited += 1
            if self.limited % 100 == 1:
                log.warning("as-run events from %s above %d at once / %.0f per second: left for the node to re-send",
                            device, EVENT_BURST, EVENT_RATE)
            return
        device, ev = self._open(topic, payload, MessageType.EVENT)
        assert isinstance(ev, AsRunEvent)
        zone = self._zones.get(device)
        planned_zone = self.store.plan_item_zone(ev.item_id)
        if planned_zone != zone:
            self.refused += 1
            why = "item never delivered by this central" if planned_zone is None else f"item of zone {planned_zone}, not {zone}"
            log.warning("refused as-run %s from %s for %s: %s", ev.event_id, device, ev.item_id[:100], why)
            self._ack(device, ev.event_id, AckStatus.REFUSED, why)
            return
        new = self.store.add_event(ev, zone=zone, received_at=now)  # type: ignore[arg-type]
        log.info("as-run %s %s %s on %s%s", ev.kind, ev.item_id, ev.reason[:200], device, "" if new else " (duplicate)")
        self._ack(device, ev.event_id, AckStatus.STORED if new else AckStatus.DUPLICATE, "")

    def _ack(self, device: str, event_id: str, status: str, reason: str) -> None:
        if self.ack is None:
            return
        try:
            self.ack(device, [(event_id, status, reason)])
        except (BroadcasterError, sqlite3.Error) as exc:  # (StoreError too) the node sends the event again
            log.warning("could not acknowledge %s to %s: %s", event_id, device, exc)

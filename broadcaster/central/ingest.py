"""What the devices say: retained state (and last wills) and as-run events, into the store.

Device messages are not signed (a node holds no private key); the broker's ACL is what stops a
node from writing another's topics. Here we still check that the envelope belongs to this ward, is
of a device type, and that the device named in the body is the one of the topic, so a confused or
misconfigured node cannot write someone else's row.

As-run events are stored once per ``event_id``, so a node may re-send them until it gets a PUBACK.
For a cluster (EMQX, bridged Mosquitto) several central replicas may share the load with a shared
subscription (``$share/central/bc/v1/<ward>/device/+/events``); idempotent storage makes that safe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from broadcaster import protocol
from broadcaster.central.store import Store
from broadcaster.config import Ward
from broadcaster.errors import BroadcasterError, ProtocolError
from broadcaster.transport import BrokerConnection

log = logging.getLogger(__name__)


class Ingest:
    def __init__(self, ward: Ward, store: Store, *, on_state: Callable[[protocol.DeviceState], None] | None = None) -> None:
        self.ward = ward
        self.store = store
        self.topics = protocol.Topics(ward.id)
        self.on_state = on_state
        self._zones = {d.id: d.zone for d in ward.devices}
        self.refused = 0  # messages refused, for the log and the tests

    def attach(self, conn: BrokerConnection) -> None:
        conn.subscribe(self.topics.all_states, self.handle)
        conn.subscribe(self.topics.all_events, self.handle)

    def _open(self, topic: str, payload: bytes, expected_type: str) -> tuple[str, object]:
        scope, device, leaf = self.topics.parse(topic)
        env = protocol.decode(payload, topic)
        if env.ward != self.ward.id:
            raise ProtocolError(f"message {env.id} on {topic} is for ward {env.ward!r}")
        if env.topic and env.topic != topic:
            raise ProtocolError(f"message {env.id} was made for {env.topic} but arrived on {topic}")
        if env.type != expected_type:
            raise ProtocolError(f"message {env.id} on {topic}: type {env.type!r} where {expected_type!r} belongs")
        body = protocol.parse_body(env.type, env.body)
        if getattr(body, "device", None) != device:
            raise ProtocolError(f"message {env.id} on {topic} speaks for device {getattr(body, 'device', None)!r}")
        return device, body

    def handle(self, topic: str, payload: bytes, retained: bool) -> None:
        """Called on the MQTT thread for every state and event message."""
        if not payload:
            return  # a retained message being cleared
        now = protocol.utc_now()
        try:
            leaf = topic.rsplit("/", 1)[-1]
            if leaf == "state":
                device, st = self._open(topic, payload, protocol.T_STATE)
                assert isinstance(st, protocol.DeviceState)
                self.store.update_device_state(st, received_at=now, live=not retained)
                if self.on_state:
                    self.on_state(st)
            elif leaf == "events":
                device, ev = self._open(topic, payload, protocol.T_EVENT)
                assert isinstance(ev, protocol.AsRunEvent)
                new = self.store.add_event(ev, zone=self._zones.get(device), received_at=now)
                log.info("as-run %s %s %s on %s%s", ev.kind, ev.item_id, ev.reason, device, "" if new else " (duplicate)")
        except (BroadcasterError, AssertionError) as exc:
            self.refused += 1
            log.warning("refused device message on %s: %s", topic, exc)

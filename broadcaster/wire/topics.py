"""Topic names, what a node subscribes to, and the broker ACL: all from one table.

Topics start with ``bc/v1/<ward>/``: one ward is one subtree, so a cluster (EMQX, bridged Mosquitto)
can route or shard by ward, and an ACL can give a node exactly its own and its zone's topics. Below
that, ``<scope>/<id>/<leaf>``, where scope and leaf come from ``vocabulary.MessageType``: a new
message type gets its topics, its subscriptions and its ACL lines from its member there.

``node_reads`` is the one answer to "what may this device read": the agents subscribe to it and
``broadcaster broker-config`` writes it as the ACL, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from broadcaster.wire.errors import Malformed
from broadcaster.wire.vocabulary import (
    CENTRAL_TYPES,
    DEVICE_TYPES,
    DeviceKind,
    MessageType,
    Scope,
)

TOPIC_ROOT = "bc/v1"
CENTRAL_USER = "central"  # the central service's broker user


def check_segment(what: str, value: str) -> str:
    if not value or any(c in value for c in "/+#\x00 ") or len(value) > 64:
        raise Malformed(f"{what} id {value!r} cannot be used in a topic: use 1-64 characters without / + # or spaces")
    return value


def _leaves(types: Iterable[MessageType], scope: Scope) -> list[str]:
    """Topic leaves of ``types`` under ``scope``, each once, in declaration order."""
    out: list[str] = []
    for t in MessageType:
        if t in types and scope in t.scopes and t.leaf not in out:
            out.append(t.leaf)
    return out


@dataclass(frozen=True)
class Topics:
    """Topic names of one ward. Build once from the ward id; every name is derived here only."""

    ward: str

    def __post_init__(self) -> None:
        check_segment("ward", self.ward)

    @property
    def base(self) -> str:
        return f"{TOPIC_ROOT}/{self.ward}"

    def topic(self, scope: Scope, ident: str, msg_type: MessageType) -> str:
        """Where a message of ``msg_type`` for zone or device ``ident`` travels."""
        if scope not in msg_type.scopes:
            raise Malformed(f"a {msg_type} message does not travel under {scope}/")
        return f"{self.base}/{scope}/{check_segment(str(scope), ident)}/{msg_type.leaf}"

    def zone_schedule(self, zone: str) -> str:
        return self.topic(Scope.ZONE, zone, MessageType.SCHEDULE)

    def zone_emergency(self, zone: str) -> str:
        return self.topic(Scope.ZONE, zone, MessageType.EMERGENCY)

    def device_schedule(self, device: str) -> str:
        return self.topic(Scope.DEVICE, device, MessageType.SCHEDULE)

    def device_deck(self, device: str) -> str:
        return self.topic(Scope.DEVICE, device, MessageType.DECK)

    def device_config(self, device: str) -> str:
        return self.topic(Scope.DEVICE, device, MessageType.CONFIG)

    def device_state(self, device: str) -> str:
        return self.topic(Scope.DEVICE, device, MessageType.STATE)

    def device_events(self, device: str) -> str:
        return self.topic(Scope.DEVICE, device, MessageType.EVENT)

    def device_ack(self, device: str) -> str:
        return self.topic(Scope.DEVICE, device, MessageType.EVENT_ACK)

    @property
    def central_lock(self) -> str:
        """Retained: which central service instance (data folder) serves the ward (one at a time)."""
        return f"{self.base}/central/lock"

    # Wildcards the central subscribes to.
    @property
    def all_states(self) -> str:
        return f"{self.base}/device/+/{MessageType.STATE.leaf}"

    @property
    def all_events(self) -> str:
        return f"{self.base}/device/+/{MessageType.EVENT.leaf}"

    def node_subscriptions(self, device: str, zone: str | None) -> list[str]:
        """The central-side topics of a device and of its zone (what a speaker subscribes to)."""
        subs = [f"{self.base}/device/{check_segment('device', device)}/{leaf}" for leaf in _leaves(CENTRAL_TYPES, Scope.DEVICE)]
        if zone:
            subs += [f"{self.base}/zone/{check_segment('zone', zone)}/{leaf}" for leaf in _leaves(CENTRAL_TYPES, Scope.ZONE)]
        return subs

    def node_reads(self, device: str, zone: str | None, kind: str, zones: Iterable[str] = ()) -> list[str]:
        """Everything a device reads: its own and its zone's topics; a TV also every zone's emergency
        (it shows each one). The agents subscribe to exactly this; the ACL allows exactly this."""
        reads = self.node_subscriptions(device, zone)
        if kind == DeviceKind.DISPLAY:
            reads += [self.zone_emergency(z) for z in zones if z != zone]
        return reads

    def node_writes(self, device: str) -> list[str]:
        """What a device may publish: its own device-side topics (state, events), nothing else."""
        return [f"{self.base}/device/{check_segment('device', device)}/{leaf}" for leaf in _leaves(DEVICE_TYPES, Scope.DEVICE)]

    def acl_lines(self, devices: Iterable[tuple[str, str | None, str]], zones: Iterable[str]) -> list[str]:
        """Mosquitto ACL: the central reads and writes the ward's subtree; each device (id, zone,
        kind) reads ``node_reads`` and writes ``node_writes``, nothing else."""
        zone_ids = list(zones)
        lines = [f"user {CENTRAL_USER}", f"topic readwrite {self.base}/#", ""]
        for device, zone, kind in devices:
            lines.append(f"user {device}")
            lines += [f"topic read {r}" for r in self.node_reads(device, zone, kind, zone_ids)]
            lines += [f"topic write {w}" for w in self.node_writes(device)]
            lines.append("")
        return lines

    def parse(self, topic: str) -> tuple[str, str, str]:
        """Split a topic of this ward into (scope, id, leaf), e.g. ("device", "kp1-loa1", "state")."""
        prefix = self.base + "/"
        if not topic.startswith(prefix):
            raise Malformed(f"topic {topic!r} is not under {prefix!r}")
        parts = topic[len(prefix):].split("/")
        if len(parts) != 3 or parts[0] not in (Scope.ZONE, Scope.DEVICE):
            raise Malformed(f"topic {topic!r} is not a known broadcaster topic")
        return parts[0], parts[1], parts[2]

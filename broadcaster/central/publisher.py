"""Turns the plan into signed, retained, versioned desired state on the broker.

Every message goes out in the one envelope of ``broadcaster.wire``, signed with the central
key, with a sequence number taken from the store (so it keeps growing across restarts and nodes'
replay guards stay happy). Each target's ``version`` grows only when its content changes; the
content digest and version live in the store too.

What goes where (docs/protocol.md):

* ``zone/<id>/schedule`` retained: the zone's items from now to the horizon (messages.Schedule);
  ``expires_at`` one day beyond the horizon, so a node never plays a stale plan forever.
* ``zone/<id>/emergency`` retained: the valid emergency (messages.Emergency, expires at
  ``valid_until``), then a retained ``emergency_clear`` replacing it. The store keeps which
  emergency a zone last got and whether it was cleared (``Store.zone_emergency``).
* ``device/<tv>/deck`` retained (target ``device/<tv>``, on the wire and in the store): slides of the TV's deck plus overlays (items with a slide; a long
  announcement's items carry all its slides in ``slides``, key facts first).
* ``device/<id>/config`` retained: volume from the ward file.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from broadcaster.central.planner import PlannedItem
from broadcaster.central.store import Store, StoredAnnouncement
from broadcaster.config import Ward
from broadcaster.media import media_url
from broadcaster.transport import BrokerConnection
from broadcaster.wire.envelope import Envelope, fast_canonical_json, make_envelope
from broadcaster.wire.messages import (
    MAX_ITEM_SLIDES,
    Ack,
    Deck,
    DeckSlide,
    DeviceConfig,
    Emergency,
    EmergencyClear,
    EventAck,
    MediaRef,
    Schedule,
    ScheduleItem,
)
from broadcaster.wire.times import format_time, utc_now
from broadcaster.wire.topics import Topics
from broadcaster.wire.trust import Signer
from broadcaster.wire.vocabulary import AckStatus, MessageType, Priority, Target

log = logging.getLogger(__name__)

SENDER = "central"
SCHEDULE_EXTRA_TTL = timedelta(days=1)
ACK_TTL = timedelta(days=1)


def digest(obj: Any) -> str:
    """What changes a target's version: a hash of its content in canonical form."""
    return hashlib.sha256(fast_canonical_json(obj)).hexdigest()


@dataclass(frozen=True)
class DeckSlideSource:
    """A produced slide of a TV deck (from ``Producer.deck``)."""

    slide_id: str
    media_name: str
    sha256: str
    size: int
    type: str
    seconds: float


class Publisher:
    """Builds and sends central messages. Thread-safe; one per running service."""

    def __init__(self, ward: Ward, store: Store, conn: BrokerConnection, signer: Signer) -> None:
        self.ward = ward
        self.store = store
        self.conn = conn
        self.signer = signer
        self.topics = Topics(ward.id)
        self._lock = threading.Lock()
        self._sent: dict[str, str] = {}  # topic -> digest of what this process last sent there

    # -- envelope ----------------------------------------------------------------------------

    def send(self, topic: str, msg_type: MessageType, body: dict[str, Any], *, retain: bool, ttl: timedelta | None,
             now: datetime | None = None) -> Envelope:
        env = self._signed(topic, msg_type, body, ttl=ttl, now=now, seq=self.store.next_seq())
        self._publish(topic, env, retain=retain)
        return env

    def _signed(self, topic: str, msg_type: MessageType, body: dict[str, Any], *, ttl: timedelta | None,
                now: datetime | None, seq: int) -> Envelope:
        env = make_envelope(msg_type, body, ward=self.ward.id, sender=SENDER, seq=seq, ttl=ttl, now=now, topic=topic)
        return self.signer.sign(env)

    def _publish(self, topic: str, env: Envelope, *, retain: bool) -> None:
        if not self.conn.publish(topic, env.to_bytes(), retain=retain, qos=1):
            with self._lock:
                self._sent.pop(topic, None)  # not sent: the next refresh must try again
            log.warning("could not queue %s for %s; it is sent again at the next refresh", env.type, topic)

    def _changed(self, topic: str, dig: str, force: bool) -> bool:
        with self._lock:
            if not force and self._sent.get(topic) == dig:
                return False
            self._sent[topic] = dig
            return True

    def forget(self) -> None:
        """Make the next refresh send everything again (after a reconnect the broker may have lost it)."""
        with self._lock:
            self._sent.clear()

    # -- bodies ------------------------------------------------------------------------------

    def media_ref(self, name: str) -> MediaRef:
        m = self.store.media(name)
        return MediaRef(url=media_url(self.ward.service.media_url, m.name), sha256=m.sha256, size=m.size, type=m.type)

    def schedule_item(self, it: PlannedItem, ann: StoredAnnouncement) -> ScheduleItem:
        refs = tuple(self.media_ref(n) for n in ann.slides) if ann.show_on_tv else ()
        if len(refs) > MAX_ITEM_SLIDES:
            # a TV refuses more (an absurd-value bound): the key facts and what follows them still air
            log.warning("announcement %s has %d slides; the TV is sent the first %d", ann.id, len(refs), MAX_ITEM_SLIDES)
            refs = refs[:MAX_ITEM_SLIDES]
        return ScheduleItem(
            item_id=it.item_id, announcement_id=it.announcement_id, title=ann.title, priority=Priority(it.priority),
            start=it.start, duration_ms=it.duration_ms, media=self.media_ref(ann.audio),
            slide=refs[0] if refs else None, slides=refs if len(refs) > 1 else (),
        )

    # -- desired state -----------------------------------------------------------------------

    def zone_schedule(self, zone: str, items: Sequence[ScheduleItem], horizon: datetime, *,
                      force: bool = False, now: datetime | None = None) -> int | None:
        """Publish a zone's schedule if it changed (or ``force``); returns the version sent, or None."""
        return self.zone_schedules({zone: items}, horizon, force=force, now=now).get(zone)

    def zone_schedules(self, schedules: Mapping[str, Sequence[ScheduleItem]], horizon: datetime, *,
                       force: bool = False, now: datetime | None = None) -> dict[str, int]:
        """Publish every zone's schedule that changed (or all, ``force``); returns {zone: version sent}.

        All are encoded, versioned (one store commit for every zone's version and sequence number)
        and signed first, then sent in one burst: the first nodes' acknowledgements, handled on the
        MQTT thread of this process, then no longer slow down the publishing of the last zones.
        """
        now = now or utc_now()
        changed = []
        for zone, items in schedules.items():
            target = Target.zone(zone)
            # encoded once: the items' digest decides the version, which is then written into the body
            body = Schedule(target=target, version=0, items=tuple(items), horizon=horizon).to_body()
            dig = digest(body["items"])
            topic = self.topics.zone_schedule(zone)
            if self._changed(topic, dig, force):
                changed.append((zone, target, topic, body, dig))
        if not changed:
            return {}
        versions: dict[str, int] = {}
        signed = []
        with self.store.transaction():
            numbered = [(*c, *self.store.publish_version(c[1], c[4]), self.store.next_seq()) for c in changed]
        ttl = (horizon - now) + SCHEDULE_EXTRA_TTL
        for zone, target, topic, body, _dig, version, bumped, seq in numbered:
            body["version"] = version
            signed.append((topic, self._signed(topic, MessageType.SCHEDULE, body, ttl=ttl, now=now, seq=seq)))
            versions[zone] = version
            log.info("schedule %s v%d: %d item(s)%s", target, version, len(body["items"]), "" if bumped else " (unchanged, re-sent)")
        for topic, env in signed:
            self._publish(topic, env, retain=True)
        return versions

    def emergency(self, zone: str, item: ScheduleItem, valid_until: datetime, *, force: bool = False,
                  now: datetime | None = None) -> bool:
        topic = self.topics.zone_emergency(zone)
        if not self._changed(topic, item.item_id, force):
            return False
        self.store.set_zone_emergency(zone, item.item_id, cleared=False)
        now = now or utc_now()
        body = Emergency(emergency_id=item.item_id, item=item, valid_until=valid_until).to_body()
        self.send(topic, MessageType.EMERGENCY, body, retain=True, ttl=max(valid_until - now, timedelta(seconds=1)), now=now)
        log.warning("EMERGENCY %s on %s until %s", item.announcement_id, zone, format_time(valid_until))
        return True

    def emergency_clear(self, zone: str, *, force: bool = False) -> bool:
        """Replace the zone's retained emergency by a clear, if an emergency was the last thing sent there."""
        topic = self.topics.zone_emergency(zone)
        last = self.store.zone_emergency(zone)
        if last is None or (last[1] and not force):
            return False
        if not self._changed(topic, "clear", force):
            return False
        cleared = last[0]
        self.store.set_zone_emergency(zone, cleared, cleared=True)
        # no expiry: a clear is the standing truth until the next emergency
        self.send(topic, MessageType.EMERGENCY_CLEAR, EmergencyClear(cleared).to_body(), retain=True, ttl=None)
        log.info("emergency %s on %s cleared", cleared, zone)
        return True

    def deck(self, device: str, slides: Iterable[DeckSlideSource], overlays: Sequence[ScheduleItem], *,
             force: bool = False) -> int | None:
        target = Target.device(device)
        ds = tuple(
            DeckSlide(
                slide_id=s.slide_id,
                media=MediaRef(url=media_url(self.ward.service.media_url, s.media_name), sha256=s.sha256, size=s.size, type=s.type),
                duration_s=s.seconds,
            )
            for s in slides
        )
        content = {"slides": [s.to_dict() for s in ds], "overlays": [o.to_dict() for o in overlays]}
        dig = digest(content)
        topic = self.topics.device_deck(device)
        if not self._changed(topic, dig, force):
            return None
        version, _ = self.store.publish_version(target, dig)
        deck = Deck(target=target, version=version, slides=ds, overlays=tuple(overlays))
        self.send(topic, MessageType.DECK, deck.to_body(), retain=True, ttl=None)
        log.info("deck for %s v%d: %d slide(s), %d overlay(s)", device, version, len(ds), len(overlays))
        return version

    def event_ack(self, device: str, acks: list[tuple[str, str, str]]) -> None:
        """Tell a device which of its as-run events are stored (not retained: it is an answer)."""
        topic = self.topics.device_ack(device)
        body = EventAck(device=device, acks=tuple(Ack(e, AckStatus(s), r) for e, s, r in acks)).to_body()
        self.send(topic, MessageType.EVENT_ACK, body, retain=False, ttl=ACK_TTL)

    def config(self, device: str, volume: int, *, force: bool = False) -> bool:
        topic = self.topics.device_config(device)
        body = DeviceConfig(volume=volume).to_body()
        if not self._changed(topic, digest(body), force):
            return False
        self.send(topic, MessageType.CONFIG, body, retain=True, ttl=None)
        return True

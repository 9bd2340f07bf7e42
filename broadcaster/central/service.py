"""The running central service: store + planner + scheduler + MQTT publisher + ingest + media server.

This is the only place (with the CLI) where the parts are put together. ``refresh`` is the single
reconcile step: plan from the store, publish whatever changed, remember what was delivered, and
arrange timed jobs. Everything calls it: start-up, a reconnect, a store change made by the CLI, the
horizon roll, window boundaries, emergency start and end.

How the service learns of queue changes: ``broadcaster queue`` and ``cancel`` are other processes
that commit to the same SQLite file and bump the ``plan_revision`` counter; the ``watch`` job reads
``PRAGMA data_version`` every 0.2 s (it changes only when another connection commits, and costs
no disk read) and re-plans when the revision moved.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from collections.abc import Callable
from typing import Any, Protocol

from broadcaster import protocol
from broadcaster.central import planner
from broadcaster.central.health import clock_warning
from broadcaster.central.ingest import Ingest
from broadcaster.central.publisher import DeckSlideSource, Publisher
from broadcaster.central.records import Records
from broadcaster.central.scheduler import CentralScheduler
from broadcaster.central.store import Store, StoredAnnouncement
from broadcaster.announce import messages_vi as M
from broadcaster.announce import spec
from broadcaster.config import Announcement, Deck, Ward, find_deck
from broadcaster.errors import BroadcasterError, ConfigError, NotFoundError, ProtocolError, ScheduleError
from broadcaster.media import MediaStore, StoredMedia
from broadcaster.transport import BrokerAddress, BrokerConnection, MqttConnection
from broadcaster.wire.vocabulary import Target

log = logging.getLogger(__name__)

LOCK_BEAT = 30.0  # seconds between the service's heartbeats on the ward's lock topic
LOCK_STALE = timedelta(seconds=95)  # a lock not renewed for this long belongs to a service that is gone
MISSED_MARGIN = timedelta(minutes=30)  # as-run events may arrive late from a node back on 4G
MAX_LOOKBACK = timedelta(days=62)  # a longer outage: older items are not in the report at all (say so in docs)


class DeckProducer(Protocol):
    """The part of ``broadcaster.production.Producer`` the service needs for the TV decks."""

    def deck(self, deck: Deck) -> list[tuple[str, StoredMedia, float]]: ...


def key_paths(ward: Ward) -> tuple[Path, Path]:
    return ward.keys_dir / "central.key", ward.keys_dir / "central.pub"


def load_signer(ward: Ward) -> protocol.Signer:
    priv, _ = key_paths(ward)
    try:
        return protocol.Signer(priv.read_bytes())
    except FileNotFoundError as exc:
        raise ConfigError(str(priv), "(file)", "the central signing key does not exist",
                          "a key made once with `broadcaster keys init`, then copy central.pub to every node") from exc


def media_store(ward: Ward) -> MediaStore:
    return MediaStore(ward.service.home / "media")


@dataclass
class Status:
    """What the last refresh did (for logs and tests)."""

    at: datetime | None = None
    plan: planner.Plan | None = None
    refreshes: int = 0


class CentralService:
    def __init__(
        self,
        ward: Ward,
        *,
        store: Store | None = None,
        media: MediaStore | None = None,
        signer: protocol.Signer | None = None,
        connection: BrokerConnection | None = None,
        producer: DeckProducer | None = None,
        serve_media: bool = True,
        mqtt_ca: str | None = None,
        console: bool = True,
        extra_routes: Any = (),
        passwords: Any = None,
    ) -> None:
        self.ward = ward
        self._lockfile: Any = None
        self._take_lock()  # first: a second service must learn why it cannot run, not trip on the port
        self.store = store or Store.for_ward(ward)
        self.media = media or media_store(ward)
        self.signer = signer or load_signer(ward)
        self.conn: BrokerConnection = connection or MqttConnection(
            BrokerAddress.parse(ward.service.mqtt_url), client_id=f"bc-central-{ward.id}", on_connect=self._on_connect,
            # the central sits on a wired link next to the broker: come back quickly so the
            # as-run events nodes queued during an outage arrive soon after it ends
            max_backoff=10, ca_file=mqtt_ca,
        )
        self.producer = producer
        self.publisher = Publisher(ward, self.store, self.conn, self.signer)
        self.ingest = Ingest(ward, self.store, ack=self.publisher.event_ack, on_state=self._on_state)
        self.scheduler = CentralScheduler(ward.tz)
        self.console = None
        self.http: Any = None
        if serve_media:
            # one web server: media for the nodes, the officer's console, and any extra pages
            from broadcaster.web.app import build_app
            from broadcaster.web.server import WebServer

            self.console = self._console_context(passwords) if console and producer is not None else None
            app = build_app(self.console, self.media, extra_routes=list(extra_routes))
            self.http = WebServer(app, ward.service.listen, tls_cert=ward.console.tls_cert, tls_key=ward.console.tls_key)
        self.status = Status()
        self.voices = self._voice_upgrader(producer)
        self._lock = threading.RLock()
        self._deck_slides: dict[str, list[DeckSlideSource]] = {}
        self._data_version = -1
        self._revision = -1
        self._started = False
        # one service per ward, whatever its data folder: see _on_lock
        self.instance = self.store.get_meta("instance_id") or ""
        if not self.instance:
            import uuid

            self.instance = uuid.uuid4().hex
            self.store.set_meta("instance_id", self.instance)
        self._since = protocol.utc_now()
        self.conflict: str | None = None  # set when another instance serves the ward: `serve` exits
        self._beat_stop = threading.Event()
        self._beat: threading.Thread | None = None
        self._yield: threading.Thread | None = None
        self._clock_warned: dict[str, int | None] = {}

    def _console_context(self, passwords: Any) -> Any:
        from broadcaster.central.usecases import UseCases
        from broadcaster.web.app import ConsoleContext
        from broadcaster.web.auth import Passwords, Sessions, load_secret

        uc = UseCases(self.ward, self.store, self.producer, on_change=self.changed)  # type: ignore[arg-type]
        return ConsoleContext(
            ward=self.ward, store=self.store, media=self.media, usecases=uc,
            sessions=Sessions(uc.records, load_secret(self.ward.service.home), timedelta(hours=self.ward.console.session_hours)),
            passwords=passwords or Passwords(), secure_cookies=self.ward.console.tls_cert is not None,
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> CentralService:
        self.store.sync_ward(self.ward)
        self._prepare_decks()
        if self.http:
            self.http.start()
        self.ingest.attach(self.conn)
        self.conn.subscribe(protocol.Topics(self.ward.id).central_lock, self._on_lock)
        self.scheduler.start(
            self.ward, watch=self.watch, refresh=self.refresh, missed=self.check_missed, housekeeping=self.store.checkpoint
        )
        if self.voices is not None:
            self.scheduler.every(self.retry_voices, self.ward.speech.retry_minutes * 60, "voices", "preferred voice retry")
        self._data_version, self._revision = self.store.data_version(), self.store.plan_revision
        self._started = True
        self.conn.start()
        self._beat_stop.clear()
        self._beat = threading.Thread(target=self._beat_loop, name="central-lock", daemon=True)
        self._beat.start()
        self.refresh(force=True)  # messages queue in the client until the broker answers
        log.info("central service of %s started (broker %s, media %s)", self.ward.id, self.ward.service.mqtt_url,
                 self.ward.service.media_url)
        return self

    def stop(self) -> None:
        if not self._started:
            self._release_lock()
            return
        with self._lock:  # let a running refresh finish; later ones see _started False
            self._started = False
        self._beat_stop.set()
        if self._beat:
            self._beat.join(5)
        self.scheduler.stop()
        if self._yield:
            self._yield.join(10)
        if self.conflict is None and self.conn.connected:
            # free the ward for a successor at once (a crash leaves it to go stale instead)
            self.conn.publish(protocol.Topics(self.ward.id).central_lock, b"", retain=True)
            time.sleep(0.2)
        self.conn.stop()
        if self.http:
            self.http.stop()
        self.store.close()
        self._release_lock()
        log.info("central service stopped")

    def _take_lock(self) -> None:
        """One service per data folder: two would share the broker client id and knock each other
        off the broker in a loop, each republishing everything on every reconnect."""
        import fcntl

        path = self.ward.service.home / "serve.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        f = open(path, "a+")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.seek(0)
            other = f.read().strip() or "another process"
            f.close()
            raise BroadcasterError(
                f"the central service already runs for {self.ward.service.home} (pid {other}): "
                "stop it first (systemctl stop broadcaster-central), or use another BROADCASTER_HOME"
            ) from None
        f.truncate(0)
        f.write(str(os.getpid()))
        f.flush()
        self._lockfile = f

    def _release_lock(self) -> None:
        if self._lockfile is not None:
            self._lockfile.close()  # closing releases the lock
            self._lockfile = None

    # -- one service per ward -----------------------------------------------------------------

    def _lock_payload(self) -> bytes:
        import json
        import socket

        return json.dumps({
            "instance": self.instance, "home": str(self.ward.service.home), "host": socket.gethostname(),
            "pid": os.getpid(), "since": protocol.fmt_time(self._since), "beat": protocol.fmt_time(protocol.utc_now()),
        }).encode()

    def _beat_loop(self) -> None:
        while not self._beat_stop.wait(LOCK_BEAT):
            if self.conflict is None and self.conn.connected:
                self.conn.publish(protocol.Topics(self.ward.id).central_lock, self._lock_payload(), retain=True)

    def _on_lock(self, topic: str, payload: bytes, retained: bool) -> None:
        """Two services for one ward with *different* data folders (the file lock cannot see that)
        would share the broker client id, knock each other off in a loop and split the as-run log
        between two stores. Each announces itself on a retained lock topic; the one that started
        later gives up, says why, and ``serve`` exits."""
        import json

        if not payload or self.conflict is not None:
            return
        try:
            other = json.loads(payload)
            if other.get("instance") == self.instance:
                return
            beat = protocol.parse_time(other.get("beat"), "lock.beat")
            since = protocol.parse_time(other.get("since"), "lock.since")
        except (ValueError, TypeError, AttributeError, BroadcasterError):
            log.warning("unreadable ward lock on %s: ignored", topic)
            return
        if protocol.utc_now() - beat > LOCK_STALE:
            return  # a service that died without saying so
        if (since, str(other.get("instance"))) < (self._since, self.instance):
            self.conflict = (
                f"another central service already serves ward {self.ward.id}: data folder {other.get('home')} on "
                f"{other.get('host')} (pid {other.get('pid')}), alive at {protocol.fmt_time(beat)}. Two services with "
                f"different data folders would split the as-run log. Stop one (systemctl stop broadcaster-central); "
                f"if it is already gone, start again in {int(LOCK_STALE.total_seconds())} s"
            )
            log.error("%s", self.conflict)
            self.ingest.paused = True  # nothing more into this store, nothing more published
            # and off the broker (from another thread: this is paho's), or the shared client id
            # keeps knocking the rightful service off
            self._yield = threading.Thread(target=self.conn.stop, name="central-yield", daemon=True)
            self._yield.start()
        else:
            # it started after us: make sure it sees our lock and gives up
            self.conn.publish(topic, self._lock_payload(), retain=True)

    def _on_connect(self) -> None:
        # on paho's thread: hand over; the broker may have lost retained state, so send all again
        if self.conflict is None:
            self.conn.publish(protocol.Topics(self.ward.id).central_lock, self._lock_payload(), retain=True)
        if self._started:
            self.scheduler.run_soon(lambda: self.refresh(force=True), "reconnect-refresh")

    def _on_state(self, st: protocol.DeviceState) -> None:
        """On the MQTT thread. A node that applied a version above the store's means the store went
        back in time (restored from a backup, or recreated): the node would ignore every new
        schedule as already applied and never play a new bulletin. Publish above it, and say so."""
        if st.online:
            offset = self.store.clock_offset_ms(st.device)
            warning = clock_warning(st.device, offset)
            level = None if warning is None else round((offset or 0) / 10_000)  # warn again if it drifts further
            if level != self._clock_warned.get(st.device, None) or (warning and st.device not in self._clock_warned):
                self._clock_warned[st.device] = level
                if warning:
                    log.warning("%s", warning)
                elif offset is not None:
                    log.info("clock of %s back in step (%+d ms)", st.device, offset)
        lifted = []
        for key, version in st.applied.items():
            try:
                target = Target(key)  # zone/<id> or device/<id>: the same spelling as the store's
            except ProtocolError:
                continue
            if self.store.raise_version_floor(target, version):
                lifted.append(f"{target} v{version}")
        if lifted:
            log.warning(
                "device %s has applied %s, above this store's versions: the store was restored from a backup "
                "or recreated; publishing above them so the nodes take the new schedules", st.device, ", ".join(lifted),
            )
            self.publisher.forget()
            if self._started:
                self.scheduler.run_soon(lambda: self.refresh(force=True), "version-floor-refresh")

    def _prepare_decks(self) -> None:
        for dev in self.ward.displays():
            if not dev.deck:
                continue
            if self.producer is None:
                log.warning("no producer given: the deck of %s is sent without slides", dev.id)
                continue
            try:
                produced = self.producer.deck(find_deck(self.ward, dev.deck))
            except BroadcasterError as exc:
                log.error("deck %s for %s cannot be produced: %s", dev.deck, dev.id, exc)
                continue
            slides = []
            for slide_id, m, secs in produced:
                self.store.add_media(m)
                slides.append(DeckSlideSource(slide_id, m.name, m.sha256, m.size, m.type, float(secs)))
            self._deck_slides[dev.id] = slides

    def _voice_upgrader(self, producer: object) -> Any:
        """The voice retry, when the producer can re-read announcements (a real ``Producer``)."""
        if producer is None or not hasattr(producer, "reread") or not hasattr(producer, "preferred_engine"):
            return None
        from broadcaster.central.voices import VoiceUpgrader

        return VoiceUpgrader(self.ward, self.store, producer, producer.preferred_engine)  # type: ignore[arg-type]

    # -- jobs --------------------------------------------------------------------------------

    def changed(self) -> None:
        """A commit made in this process (the console): ``PRAGMA data_version`` does not move for the
        service's own connection, so the use cases call this to re-plan at once."""
        if self._started:
            self._revision = self.store.plan_revision
            self.scheduler.run_soon(self.refresh, "console-refresh")
    def retry_voices(self) -> list[str]:
        """Try the preferred voice again for fallback clips; a swap re-plans like any store change."""
        from broadcaster.central.voices import next_airings

        if self.voices is None or not self._started:
            return []
        plan = self.status.plan or planner.Plan()
        swapped = self.voices.run(next_airings([*plan.items, *plan.emergencies], protocol.utc_now()))
        if swapped:
            self.refresh()
        return swapped

    def watch(self) -> None:
        dv = self.store.data_version()
        if dv == self._data_version:
            return
        self._data_version = dv
        rev = self.store.plan_revision
        if rev != self._revision:
            self._revision = rev
            log.info("the store changed (revision %d): re-planning", rev)
            self.refresh()

    def check_missed(self) -> None:
        ids = self.store.mark_unaired(protocol.utc_now() - MISSED_MARGIN)
        for i in ids:
            log.warning("no node reported playing %s: marked missed", i)

    def refresh(self, force: bool = False) -> planner.Plan:
        """Plan and publish. ``force`` re-sends every retained message even if unchanged."""
        with self._lock:
            if not self._started or self.conflict:  # stopping, or another instance serves the ward
                return self.status.plan or planner.Plan()
            now = protocol.utc_now()
            horizon = now + self.ward.service.horizon
            anns = {a.id: a for a in self.store.announcements()}
            # look back over the whole time the service was down (at most MAX_LOOKBACK) for missed items
            last = self.store.get_meta("last_refresh")
            lookback = min(now - protocol.parse_time(last) + timedelta(hours=1), MAX_LOOKBACK) if last else planner.LOOKBACK
            plan = planner.plan(
                self.ward, anns.values(), now, horizon, delivered=self.store.delivered_ids(), decided=self.store.decided_ids(),
                lookback=lookback,
            )
            if plan.missed:
                self.store.record_missed(plan.missed, "missed")
                for m in plan.missed:
                    log.warning("missed %s: %s", m.item_id, m.reason)
            for o in plan.overflows:
                log.info("overflow: %s in %s does not fit the window of %s; moved to %s", o.announcement_id, o.zone,
                         o.window_start.astimezone(self.ward.tz), o.moved_to.astimezone(self.ward.tz) if o.moved_to else "nowhere")
            connected = self.conn.connected
            overlays: dict[tuple[str, datetime], protocol.ScheduleItem] = {}
            records = Records(self.store)
            per_zone: dict[str, list[protocol.ScheduleItem]] = {}
            for zone in self.ward.zones:
                items = per_zone[zone.id] = []
                for it in plan.for_zone(zone.id):
                    si = self.publisher.schedule_item(it, anns[it.announcement_id])
                    # a loudspeaker shows nothing: its schedule stays as it was (``slide`` only), the
                    # continuation slides travel in the TV's deck and in the emergency message
                    items.append(replace(si, slides=()))
                    if si.slide is not None:
                        overlays.setdefault((it.announcement_id, it.requested), si)
            # every zone's schedule is signed first, then all are sent at once (Publisher.zone_schedules)
            for zone_id, version in self.publisher.zone_schedules(per_zone, horizon, force=force, now=now).items():
                # the first version that carried each item: a node that applied it has the item (the console's "acknowledged")
                records.note_item_versions(f"zone/{zone_id}", version, [i.item_id for i in per_zone[zone_id]])
            delivered = list(plan.items)

            timed: list[datetime] = []
            for zone in self.ward.zones:
                live = [e for e in plan.emergencies if e.zone == zone.id and e.start <= now + timedelta(seconds=1)]
                for e in plan.emergencies:
                    if e.zone == zone.id:
                        timed += [e.start, planner.emergency_valid_until(e, self.ward.service.missed_grace)]
                if live:
                    e = max(live, key=lambda x: (x.start, x.item_id))  # the latest warning wins the zone
                    si = self.publisher.schedule_item(e, anns[e.announcement_id])
                    self.publisher.emergency(zone.id, si, planner.emergency_valid_until(e, self.ward.service.missed_grace),
                                             force=force, now=now)
                    delivered.append(e)
                    if si.slide is not None:
                        overlays.setdefault((e.announcement_id, e.requested), si)
                else:
                    self.publisher.emergency_clear(zone.id, force=force)
            self.scheduler.rebuild_timed(timed, now)
            if connected:
                self.store.record_plan(delivered, delivered_at=now)

            ov = sorted(overlays.values(), key=lambda s: s.start)
            for dev in self.ward.displays():
                self.publisher.deck(dev.id, self._deck_slides.get(dev.id, []), ov, force=force)
            volumes = records.volumes()  # set from the console; the ward file's value otherwise
            for dev in self.ward.devices:
                self.publisher.config(dev.id, volumes.get(dev.id, dev.volume), force=force)
            self.store.set_meta("last_refresh", protocol.fmt_time(now))
            self.status = Status(at=now, plan=plan, refreshes=self.status.refreshes + 1)
            return plan


# --------------------------------------------------------------------------------------------
# Queueing (used by `broadcaster queue`): validate, produce, store, all or nothing
# --------------------------------------------------------------------------------------------


class AnnouncementProducer(Protocol):
    """The part of ``broadcaster.production.Producer`` queueing needs."""

    def announcement(self, ann: Announcement) -> Any: ...


@dataclass(frozen=True)
class QueueResult:
    stored: StoredAnnouncement
    notes: list[str]
    items: list[planner.PlannedItem]  # its next occurrences per zone (within the horizon)
    emergencies: list[planner.PlannedItem]
    overflows: list[planner.Overflow]  # its own items that did not fit their window


def queue_announcement(
    ward: Ward, store: Store, producer: AnnouncementProducer, ann: Announcement, *, now: datetime | None = None
) -> QueueResult:
    """Queue one announcement (see ``queue_announcements``)."""
    return queue_announcements(ward, store, producer, [ann], now=now)[0]


def queue_announcements(
    ward: Ward, store: Store, producer: AnnouncementProducer, anns: list[Announcement], *, now: datetime | None = None,
    extra: Callable[[list[StoredAnnouncement]], None] | None = None,
) -> list[QueueResult]:
    """Check every schedule, produce the media, then store all of them in one transaction.

    Schedules are checked before the (slow) speech synthesis, and again with the real durations;
    any error leaves the store unchanged, whatever the number of announcements. ``extra`` runs inside
    the same transaction with what was stored (the use cases write the audit log there).
    """
    now = now or protocol.utc_now()
    check_announcements(ward, store, anns, now)
    t0 = time.monotonic()
    produced = [producer.announcement(ann) for ann in anns]
    # Queued = stored, after the (slow) synthesis: an emergency "now" then starts from the moment it
    # can be sent, instead of being late by the time speech and slides took.
    queued_at = now + timedelta(seconds=time.monotonic() - t0)
    return store_produced(ward, store, list(zip(anns, produced)), now=now, queued_at=queued_at, extra=extra)


def check_announcements(ward: Ward, store: Store, anns: list[Announcement], now: datetime,
                        durations: list[int] | None = None) -> list[list[str]]:
    """The queue-time checks (unique id, zones, windows, past, length): ScheduleError, or notes per announcement."""
    notes = []
    for n, ann in enumerate(anns):
        # the same rules whatever the way in (file, command line, console): announce.spec
        problems = spec.content_problems(ann, ward)
        if problems:
            raise ScheduleError(f"announcement {ann.id}: " + "; ".join(p.said() for p in problems))
        try:
            store.announcement(ann.id)
        except NotFoundError:
            pass
        else:
            raise ScheduleError(f"{M.ID_TAKEN.format(v=ann.id)} ({M.ID_TAKEN_EN.format(v=ann.id)})")
        probe = planner.Probe(ann.id, ann.title, ann.priority, ann.zones, ann.schedule, 0, 1 << 40, now)
        notes.append(planner.validate(probe, ward, now, duration_ms=durations[n] if durations else None))
    return notes


def store_produced(
    ward: Ward, store: Store, pairs: list[tuple[Announcement, Any]], *, now: datetime, queued_at: datetime | None = None,
    extra: Callable[[list[StoredAnnouncement]], None] | None = None,
) -> list[QueueResult]:
    """Check again with the real durations, then store media and announcements in one transaction."""
    anns = [a for a, _ in pairs]
    produced = [m for _, m in pairs]
    queued_at = queued_at or now
    notes = check_announcements(ward, store, anns, now, [int(m.duration_ms) for m in produced])
    with store.transaction():
        stored = []
        for ann, m in zip(anns, produced):
            audio = store.add_media(m.audio)
            slides = tuple(store.add_media(s).name for s in m.slides)
            stored.append(store.add_announcement(
                StoredAnnouncement(
                    id=ann.id, title=ann.title, text=ann.text, spoken_text=m.spoken_text, priority=ann.priority,
                    readings=ann.readings, chime=ann.chime, show_on_tv=ann.show_on_tv, zones=ann.zones,
                    schedule=ann.schedule, audio=audio.name, duration_ms=int(m.duration_ms), engine=m.engine,
                    slides=slides, queue_seq=0, queued_at=queued_at, source=ann.source,
                )
            ))
            store.set_voice(ann.id, engine=m.engine, voice=getattr(m, "voice", ""),
                            preferred=getattr(m, "preferred", ""), fallback=bool(getattr(m, "fallback", False)), now=now)
        if extra is not None:
            extra(stored)
    # Plan far enough to reach each new announcement's first airing, even beyond the horizon the
    # nodes are sent, so the officer learns now (not on the day) where it lands and what overflows.
    new = [a for a in store.announcements() if a.id in {x.id for x in anns}]
    until = planner.reach_first_airings(new, ward.tz, now, now + ward.service.horizon)
    plan = planner.plan(ward, store.announcements(), now, until,
                        delivered=store.delivered_ids(), decided=store.decided_ids())
    return [
        QueueResult(
            stored=st,
            notes=n,
            items=[i for i in plan.items if i.announcement_id == st.id],
            emergencies=[e for e in plan.emergencies if e.announcement_id == st.id],
            overflows=[o for o in plan.overflows if o.announcement_id == st.id],
        )
        for st, n in zip(stored, notes)
    ]

"""The speaker node of a khu phố: keeps its zone's schedule and plays it from its own clock.

What arrives over MQTT is *desired state*: the zone's and the device's upcoming items (retained,
versioned), emergencies for the zone, and the device's volume. The node reconciles: per target the
highest version wins and replaces the previous one wholesale, so items removed by the central are
simply no longer there. Everything accepted is saved on disk before it is acknowledged in the
retained state, so a reboot or a lost link changes nothing about what plays.

The agent is a composition, built in ``__init__`` and nowhere else:

* ``runtime`` (``runtime.NodeRuntime``): broker link, trust, message loop, outbox, state;
* ``store`` (``memory.DesiredStateStore``): the typed memory, saved by its own writer thread,
  with the emergency book (``emergencies.EmergencyBook``) the TV keeps too;
* ``prefetch`` (``prefetch.Prefetcher`` over ``cache.MediaCache``): media on disk before airtime;
* ``journal`` (``journal.AiringJournal``): what went on air, kept even on a full disk;
* ``output`` (``audio_out.AudioOutput``): the sound device, or WAV files.

Its own job is the ``timing`` thread, the only one that touches the audio output. For the next
item it decodes the audio ``prepare_lead`` seconds ahead, sleeps on the store's condition until
~50 ms before the instant (woken early by any change), sleeps again to ~2 ms before, spins to the
instant and starts output; then it watches the playback and stops it when an emergency becomes due.

Each airing is reported once, whatever happens: its as-run event has an id derived from the device
and the airing (so a re-sent event is stored once), and the journal records "on air" as the audio
starts and "done" with the event as it ends. After a reboot, a full disk or a corrupted
``state.json`` the node settles from it: an airing cut by a power cut or a kill is reported
``interrupted`` and never aired again.

The instant comes from the node's own clock (keep it synchronised with NTP/chrony), never from
when a message arrives. An emergency plays at once, interrupting, windows or not.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from broadcaster.agents.audio_out import AudioOutput, PreparedAudio
from broadcaster.agents.cache import MediaCache
from broadcaster.agents.emergencies import EmergencyStatus, apply_emergency_message
from broadcaster.agents.journal import AiringJournal
from broadcaster.agents.memory import DesiredStateStore, airing_key
from broadcaster.agents.prefetch import Prefetcher
from broadcaster.agents.runtime import NodeRuntime
from broadcaster.config import Device, Ward
from broadcaster.errors import MediaError
from broadcaster.wire.vocabulary import priority_rank
from broadcaster.protocol import (
    AsRunEvent,
    Deck,
    DeviceConfig,
    Envelope,
    MediaRef,
    Schedule,
    ScheduleItem,
    Verifier,
    fmt_time,
    parse_time,
    utc_now,
)

log = logging.getLogger(__name__)

COARSE_MARGIN_S = 0.050  # wake this long before the instant from the condition wait
SPIN_S = 0.002  # then sleep to this close and spin
LATE_WARN_MS = 1000  # a start this late is worth a warning in the node's log
EMERGENCY_FETCH_S = 30.0  # an emergency whose audio is not cached is fetched for this long at most
JOURNAL_KEEP = timedelta(days=7)


class SpeakerAgent:
    kind = "speaker"

    def __init__(
        self,
        ward: Ward,
        device: Device,
        *,
        output: AudioOutput,
        verifier: Verifier,
        home: Path | None = None,
        broker_url: str | None = None,
        cache_bytes: int = 512 * 1024 * 1024,
        late_limit_s: float = 60.0,
        prepare_lead_s: float = 30.0,
        fetch_retry_s: float = 10.0,
        state_interval: float = 60.0,
        ack_timeout_s: float = 60.0,
        mqtt_ca: str | None = None,
    ) -> None:
        self.ward, self.device, self.output = ward, device, output
        self.dir = Path(home or ward.service.home) / "agents" / device.id
        self.dir.mkdir(parents=True, exist_ok=True)
        self.store = DesiredStateStore(self.dir / "state.json")
        self.book = self.store.book
        self.runtime = NodeRuntime(
            ward, device, kind=self.kind, folder=self.dir, store=self.store, verifier=verifier, broker_url=broker_url,
            state_interval=state_interval, ack_timeout_s=ack_timeout_s, mqtt_ca=mqtt_ca,
        )
        self.cache = MediaCache(self.dir / "cache", cache_bytes)
        self.prefetch = Prefetcher(self.cache, self._needed_now, retry_s=fetch_retry_s,
                                   on_fetched=self.store.wake, on_progress=self.runtime.state_changed)
        self.store.on_bump(self.prefetch.wake)
        self.journal = AiringJournal(self.dir / "airings.journal")
        self.late_limit = timedelta(seconds=late_limit_s)
        self.prepare_lead = prepare_lead_s
        self.playing: str | None = None
        self._playing_key: str | None = None
        self._items: tuple[int, list[ScheduleItem]] = (-1, [])  # (store generation, merged items)
        if self.store.memory.since is None:  # items before a node's first start are not "missed"
            self.store.memory.since = utc_now()
            self.store.mark_dirty()
        self._settle_journal()

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def stopping(self) -> threading.Event:
        """Set it to stop the agent (the CLI does, on SIGTERM)."""
        return self.runtime.stopping

    def start(self) -> None:
        self.runtime.start(self)
        self.runtime.spawn("fetch", lambda: self.prefetch.run(self.runtime.stopping))
        self.runtime.spawn("timing", self._timing_loop)

    def stop(self) -> None:
        self.runtime.request_stop()
        self.prefetch.stop()
        self.runtime.stop()

    def run_forever(self) -> None:
        self.start()
        try:
            while not self.runtime.stopping.wait(1.0):
                pass
        finally:
            self.stop()

    # -- what the journal knows that the memory may have lost ---------------------------------

    def event_id(self, key: str) -> str:
        """One id per airing of this device: a re-sent or re-created event is stored once."""
        return hashlib.sha256(f"{self.device.id}|{key}".encode()).hexdigest()[:32]

    def _settle_journal(self) -> None:
        now = utc_now()
        done = self.store.memory.done
        settled = 0
        for key, rec in self.journal.latest().items():
            if key in done:
                continue
            try:
                if rec.get("status") == "on_air":
                    event = AsRunEvent(
                        event_id=self.event_id(key), device=self.device.id, item_id=rec["item_id"],
                        announcement_id=rec["announcement_id"], kind="interrupted", scheduled=parse_time(rec["start"]),
                        started=parse_time(rec["started"]), ended=None,
                        reason="node stopped while airing (power cut, crash or kill); not aired again",
                    )
                    self.journal.write(key, "done", event=event.to_body(), emergency_id=rec.get("emergency_id"), at=fmt_time(now))
                    at = now
                elif rec.get("status") == "done":
                    event = AsRunEvent.from_body(rec["event"])
                    at = parse_time(rec.get("at"), "journal.at")
                else:
                    continue
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("airing journal record for %s unreadable (%s): skipped", key, exc)
                continue
            if at < now - JOURNAL_KEEP:
                continue
            self.store.settle(key, event.kind, at)
            eid = rec.get("emergency_id")
            if eid:
                self.book.settle(str(eid), event.kind)
            self.runtime.report(event)  # again, perhaps: the central stores each airing once
            settled += 1
        if settled:
            log.warning("settled %d airing(s) from the journal that the node's memory had lost", settled)
            self.store.mark_dirty()

    # -- the runtime's Application seam --------------------------------------------------------

    def subscriptions(self) -> list[str]:
        return self.runtime.topics.node_subscriptions(self.device.id, self.device.zone)

    def apply(self, env: Envelope, body: Any, topic: str) -> bool:
        if isinstance(body, Schedule):
            self.runtime.check_target("schedule", body.target, topic)
            return self.store.accept("schedule", body.target, body.version, body)
        booked = apply_emergency_message(self.book, env, body, utc_now())
        if booked is not None:
            return booked
        if isinstance(body, DeviceConfig):
            if self.store.memory.volume != body.volume:
                self.store.memory.volume = body.volume
                log.info("volume set to %d", body.volume)
                return True
        elif isinstance(body, Deck):
            log.debug("ignored a deck on %s: speakers have no screen", topic)
        return False

    def state_fields(self) -> dict[str, Any]:
        with self.store.lock:
            st = self.cache.stats()
            needed = {r.sha256 for r in self.needed_media(utc_now())}
            return {
                "applied": dict(self.store.memory.applied),
                "volume": self.volume,
                "cache_items": st.items,
                "cache_bytes": st.bytes,
                "missing": self.prefetch.missing(needed),
                "playing": self.playing,
            }

    # -- views of the desired state (call with the store's lock held) ------------------------

    @property
    def volume(self) -> int:
        v = self.store.memory.volume
        return self.device.volume if v is None else v

    def items(self) -> list[ScheduleItem]:
        """Every item of every accepted schedule, one per airing, in play order."""
        # Merged once per change of desired state, not on every pass of the timing loop (on a small
        # ARM board re-sorting a day's schedule many times a second is real CPU).
        if self._items[0] != self.store.gen:
            seen: dict[str, ScheduleItem] = {}
            for state in self.store.memory.desired.values():
                if isinstance(state, Schedule):
                    for it in state.items:
                        seen[airing_key(it.item_id, it.start)] = it
            merged = sorted(seen.values(), key=lambda i: (i.start, priority_rank(i.priority), i.item_id))
            self._items = (self.store.gen, merged)
        return self._items[1]

    def _pending_items(self, now: datetime) -> list[ScheduleItem]:
        done = self.store.memory.done
        return [i for i in self.items() if airing_key(i.item_id, i.start) not in done and i.start + self.late_limit >= now]

    def needed_media(self, now: datetime) -> list[MediaRef]:
        refs = [i.media for i in self._pending_items(now)]
        refs += [em.item.media for _e, em in self.book.pending() if now < em.valid_until]
        return list({r.sha256: r for r in refs}.values())

    def _needed_now(self, now: datetime) -> list[MediaRef]:
        with self.store.lock:
            return self.needed_media(now)

    # -- timing ------------------------------------------------------------------------------

    def _timing_loop(self) -> None:
        stopping = self.runtime.stopping
        while not stopping.is_set():
            now = utc_now()
            with self.store.lock:
                self._sweep_missed(now)
                due = self.book.due(now)
                pending = [] if due else self._pending_items(now)
                gen = self.store.gen
                em_next = self.book.next_start(now)
            if due:
                self._air(due[1].item, f"emergency:{due[0]}", emergency_id=due[0])
                continue
            wait = 5.0
            if pending:
                nxt = pending[0]
                until = (nxt.start - now).total_seconds()
                if until <= self.prepare_lead:
                    self._air(nxt, airing_key(nxt.item_id, nxt.start))
                    continue
                wait = min(wait, until - self.prepare_lead)
            if em_next:
                wait = min(wait, max((em_next - now).total_seconds(), 0.0))
            with self.store.changed:
                if self.store.gen == gen and not stopping.is_set():
                    self.store.changed.wait(wait)

    def _sweep_missed(self, now: datetime) -> None:
        """Report items whose time passed beyond the late limit without being played."""
        m = self.store.memory
        since = m.since or self.runtime.started_at
        for it in self.items():
            key = airing_key(it.item_id, it.start)
            if key in m.done or key == self._playing_key or it.start + self.late_limit >= now or it.start < since:
                continue
            if it.start < self.runtime.started_at:
                reason = f"node off or agent not running at airtime (agent started {fmt_time(self.runtime.started_at)})"
            elif it.media.sha256 in self.prefetch.errors or self.cache.get(it.media) is None:
                reason = f"media never fetched: {self.prefetch.errors.get(it.media.sha256, 'not downloaded in time')}"
            else:
                reason = f"not started within {self.late_limit.total_seconds():.0f} s of its time"
            self._finish(key, it, "missed", reason=reason)
        for eid, em in self.book.expired(now):
            self._finish(f"emergency:{eid}", em.item, "missed", reason="emergency expired before it could play", emergency_id=eid)
        self.store.forget_old(now)  # a week of airings and emergencies: the memory file stays small

    def _finish(
        self,
        key: str,
        item: ScheduleItem,
        kind: str,
        *,
        started: datetime | None = None,
        ended: datetime | None = None,
        reason: str = "",
        emergency_id: str | None = None,
    ) -> None:
        event = AsRunEvent(
            event_id=self.event_id(key),
            device=self.device.id,
            item_id=item.item_id,
            announcement_id=item.announcement_id,
            kind=kind,
            scheduled=item.start,
            started=started,
            ended=ended,
            reason=reason,
        )
        now = utc_now()
        with self.store.lock:
            self.store.settle(key, kind, now)
            if emergency_id:
                self.book.settle(emergency_id, kind)
        # on disk, the journal first and at once: it needs no free space, while state.json (saved
        # by the store's writer) may not be writable (disk full)
        self.journal.write(key, "done", event=event.to_body(), emergency_id=emergency_id, at=fmt_time(now))
        self.store.mark_dirty()
        self.runtime.report(event)

    # -- airing one item ---------------------------------------------------------------------

    def _still_wanted(self, key: str, item: ScheduleItem, emergency_id: str | None, volume: int) -> bool:
        """Called with the lock held while waiting for the instant: has anything made it moot?"""
        if self.runtime.stopping.is_set() or self.volume != volume:
            return False
        now = utc_now()
        if emergency_id:
            return self.book.status(emergency_id) is EmergencyStatus.PENDING
        if self.book.due(now):
            return False
        return any(airing_key(i.item_id, i.start) == key and i.media == item.media for i in self._pending_items(now))

    def _media(self, item: ScheduleItem, key: str, emergency_id: str | None) -> Path | None:
        """The cached file. If the prefetch has not got it yet, an emergency fetches it here; a
        normal item waits for the fetch loop instead, so that this thread stays free to notice an
        emergency (a slow 4G download would otherwise hold it for minutes)."""
        deadline = (utc_now() + timedelta(seconds=EMERGENCY_FETCH_S)) if emergency_id else item.start + self.late_limit
        while not self.runtime.stopping.is_set():
            path = self.cache.get(item.media)
            if path is not None:
                return path
            if emergency_id:
                path = self.prefetch.fetch_now(item.media)
                if path is not None:
                    return path
            else:
                self.prefetch.wake()  # the fetch loop bumps the store when a file arrives
            if utc_now() + timedelta(seconds=1) >= deadline:
                return None
            with self.store.changed:
                if not self._still_wanted(key, item, emergency_id, self.volume):
                    return None
                self.store.changed.wait(min(self.prefetch.retry_s, 2.0) if emergency_id else 1.0)
        return None

    def _air(self, item: ScheduleItem, key: str, emergency_id: str | None = None) -> None:
        volume = self.volume
        media = self._media(item, key, emergency_id)
        if media is None:
            with self.store.lock:
                if not self._still_wanted(key, item, emergency_id, volume):
                    return
            err = self.prefetch.errors.get(item.media.sha256, "download did not finish in time")
            self._finish(key, item, "missed", reason=f"media never fetched: {err}", emergency_id=emergency_id)
            return
        if self.cache.get(item.media, verify=True) is None:
            # corrupted on disk since it was fetched (SD card, a stray write): never air it;
            # fetch it again now if there is time, else report why
            try:
                media = self.cache.fetch(item.media)
            except MediaError as exc:
                self._finish(key, item, "failed", reason=f"cached file corrupt and could not be fetched again: {exc}",
                             emergency_id=emergency_id)
                return
        try:
            prepared = self.output.prepare(media, item.item_id, volume)
        except (MediaError, OSError) as exc:
            self._finish(key, item, "failed", reason=f"cannot decode: {exc}", emergency_id=emergency_id)
            return
        if not self._wait_for_instant(item, key, emergency_id, volume):
            self.output.discard(prepared)
            return
        late = utc_now() - item.start
        if not emergency_id and late > self.late_limit:
            self.output.discard(prepared)
            self._finish(key, item, "missed", reason=f"could start only {late.total_seconds():.1f} s late")
            return
        self._play(item, key, emergency_id, prepared)

    def _wait_for_instant(self, item: ScheduleItem, key: str, emergency_id: str | None, volume: int) -> bool:
        start_ts = item.start.timestamp()
        while True:
            with self.store.changed:
                if not self._still_wanted(key, item, emergency_id, volume):
                    return False
                remaining = start_ts - time.time()
                if remaining <= COARSE_MARGIN_S:
                    break
                self.store.changed.wait(remaining - COARSE_MARGIN_S)
        # Fine wait outside the lock: nothing may delay the start now.
        remaining = start_ts - time.time()
        if remaining > SPIN_S:
            time.sleep(remaining - SPIN_S)
        while time.time() < start_ts:
            pass
        return True

    def _play(self, item: ScheduleItem, key: str, emergency_id: str | None, prepared: PreparedAudio) -> None:
        try:
            pb = self.output.play(prepared, item.start)
        except (MediaError, OSError) as exc:
            self.output.discard(prepared)
            self._finish(key, item, "failed", reason=f"audio output: {exc}", emergency_id=emergency_id)
            return
        # on air: from now on a reboot must report this airing as interrupted, never air it again
        self.journal.write(key, "on_air", item_id=item.item_id, announcement_id=item.announcement_id,
                           start=fmt_time(item.start), started=fmt_time(pb.started), emergency_id=emergency_id)
        lateness_ms = (pb.started - item.start).total_seconds() * 1000
        log.info("on air %s%s, %.1f ms after its time", item.item_id, " (EMERGENCY)" if emergency_id else "", lateness_ms)
        if not emergency_id and lateness_ms > LATE_WARN_MS:
            # Deliberate (docs/protocol.md, "At airtime"): an item not ready at its time (media still
            # downloading, decoding slowed by a busy CPU) plays late rather than not at all, as long
            # as it starts within the late limit; its as-run event carries scheduled and started.
            log.warning("%s started %.1f s late: it was not ready at its time (late limit %.0f s)",
                        item.item_id, lateness_ms / 1000, self.late_limit.total_seconds())
        with self.store.lock:
            self.playing, self._playing_key = item.item_id, key
        self.runtime.state_changed()
        reason = ""
        while not pb.wait(0.02):
            with self.store.lock:
                if self.runtime.stopping.is_set():
                    reason = "agent stopped while playing"
                elif emergency_id is None and (due := self.book.due(utc_now())):
                    reason = f"interrupted by emergency {due[0]}"
                elif emergency_id and self.book.is_cleared(emergency_id):
                    reason = "emergency cleared by the central"
            if reason:
                pb.stop()
                break
        ended = utc_now()
        kind = "interrupted" if (reason or pb.interrupted) else "played"
        rc = pb.returncode
        if kind == "played" and rc not in (0, None):
            kind, reason = "failed", f"audio player exited with status {rc}"
        with self.store.lock:
            self.playing = self._playing_key = None
        self._finish(key, item, kind, started=pb.started, ended=ended, reason=reason, emergency_id=emergency_id)
        self.runtime.state_changed()

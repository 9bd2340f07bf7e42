"""The speaker node of a khu phố: keeps its zone's schedule and plays it from its own clock.

What arrives over MQTT is *desired state*: the zone's and the device's upcoming items (retained,
versioned), emergencies for the zone, and the device's volume. The node reconciles: per target the
highest version wins and replaces the previous one wholesale, so items removed by the central are
simply no longer there. Everything accepted is saved on disk before it is acknowledged in the
retained state, so a reboot or a lost link changes nothing about what plays.

Three threads do the work:

* ``fetch`` (base class): downloads every needed media file well before airtime into the bounded
  cache (``cache.MediaCache``), retrying failed ones, and evicts unneeded files;
* ``timing``: the only one that touches the audio output. For the next item it decodes the audio
  ``prepare_lead`` seconds ahead, sleeps on a condition until ~50 ms before the instant (woken
  early by any change), sleeps again to ~2 ms before, spins to the instant and starts output;
  then it watches the playback and stops it when an emergency becomes due;
* ``state`` and ``outbox`` from the base class: the retained state and the as-run events.

The instant comes from the node's own clock (keep it synchronised with NTP/chrony), never from
when a message arrives. An emergency plays at once, interrupting, windows or not.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from broadcaster.agents.audio_out import AudioOutput, PreparedAudio
from broadcaster.agents.base import Agent, iso_key
from broadcaster.config import Device, Ward
from broadcaster.errors import MediaError
from broadcaster.protocol import (
    T_EMERGENCY_CLEAR,
    AsRunEvent,
    Deck,
    DeviceConfig,
    Emergency,
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
PRIO_ORDER = {"emergency": 0, "priority": 1, "normal": 2}


class SpeakerAgent(Agent):
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
    ) -> None:
        super().__init__(
            ward, device, home=home, verifier=verifier, broker_url=broker_url, state_interval=state_interval,
            cache_bytes=cache_bytes, fetch_retry_s=fetch_retry_s,
        )
        self.output = output
        self.late_limit = timedelta(seconds=late_limit_s)
        self.prepare_lead = prepare_lead_s
        self.playing: str | None = None
        self._playing_key: str | None = None
        self.memory.setdefault("since", fmt_time(utc_now()))  # items before a node's first start are not "missed"

    # -- subscriptions and messages ----------------------------------------------------------

    def subscriptions(self) -> list[str]:
        return self.topics.node_subscriptions(self.device.id, self.device.zone)

    def handle(self, env: Envelope, body: Any, topic: str) -> None:
        if isinstance(body, Schedule):
            if self.accept_versioned("schedule", body.target, body.version, topic, body.to_body()):
                self._bump()
        elif isinstance(body, Emergency):
            ems = self.memory.setdefault("emergencies", {})
            if body.emergency_id in ems:
                return  # already known (played, pending or cleared)
            ems[body.emergency_id] = {"body": body.to_body(), "status": "pending"}
            log.warning("EMERGENCY %s received: %s", body.emergency_id, body.item.title)
            self._bump()
        elif env.type == T_EMERGENCY_CLEAR:
            eid = body["emergency_id"]
            ems = self.memory.setdefault("emergencies", {})
            entry = ems.setdefault(eid, {"status": "cleared"})
            if entry.get("status") == "pending":
                entry["status"] = "cleared"
            entry["cleared"] = True
            log.info("emergency %s cleared by the central", eid)
            self._bump()
        elif isinstance(body, DeviceConfig):
            if self.memory.get("volume") != body.volume:
                self.memory["volume"] = body.volume
                log.info("volume set to %d", body.volume)
                self._bump()
        elif isinstance(body, Deck):
            log.debug("ignored a deck on %s: speakers have no screen", topic)

    @property
    def volume(self) -> int:
        return int(self.memory.get("volume", self.device.volume))

    # -- views of the desired state (call with the lock held) --------------------------------

    def items(self) -> list[ScheduleItem]:
        """Every item of every accepted target, one per airing, in play order."""
        # Parsed once per accepted version, not on every pass of the timing loop (on a small ARM
        # board re-parsing a day's schedule many times a second is real CPU).
        desired = self.memory.get("desired", {})
        key = tuple(sorted((t, b.get("version")) for t, b in desired.items()))
        cached = getattr(self, "_items_cache", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        seen: dict[str, ScheduleItem] = {}
        for body in desired.values():
            for it in Schedule.from_body(body).items:
                seen[iso_key(it.item_id, it.start)] = it
        items = sorted(seen.values(), key=lambda i: (i.start, PRIO_ORDER.get(i.priority, 9), i.item_id))
        self._items_cache = (key, items)
        return items

    def _done(self) -> dict[str, Any]:
        return self.memory.setdefault("done", {})

    def _pending_items(self, now: datetime) -> list[ScheduleItem]:
        done = self._done()
        return [i for i in self.items() if iso_key(i.item_id, i.start) not in done and i.start + self.late_limit >= now]

    def _emergencies(self) -> list[tuple[str, Emergency, dict[str, Any]]]:
        # Called every 20 ms while audio plays (can an emergency cut in?): parse each body once.
        parsed: dict[tuple[str, str], Emergency] = self.__dict__.setdefault("_em_cache", {})
        out = []
        for eid, entry in self.memory.get("emergencies", {}).items():
            body = entry.get("body")
            if body is None:
                continue
            k = (eid, f"{body.get('valid_until')}|{(body.get('item') or {}).get('start')}")
            em = parsed.get(k)
            if em is None:
                em = parsed[k] = Emergency.from_body(body)
            out.append((eid, em, entry))
        if len(parsed) > 4 * len(out) + 16:  # forget emergencies pruned from memory
            live = {(e, f"{en['body'].get('valid_until')}|{(en['body'].get('item') or {}).get('start')}") for e, _m, en in out}
            for k in [k for k in parsed if k not in live]:
                del parsed[k]
        return out

    def _due_emergency(self, now: datetime) -> tuple[str, Emergency] | None:
        for eid, em, entry in self._emergencies():
            if entry.get("status") == "pending" and em.item.start <= now + timedelta(seconds=0.1) and now < em.valid_until:
                return eid, em
        return None

    def _next_emergency_start(self, now: datetime) -> datetime | None:
        starts = [em.item.start for _e, em, entry in self._emergencies() if entry.get("status") == "pending" and em.item.start > now]
        return min(starts) if starts else None

    def needed_media(self, now: datetime) -> list[MediaRef]:
        refs = [i.media for i in self._pending_items(now)]
        refs += [em.item.media for _e, em, entry in self._emergencies() if entry.get("status") == "pending" and now < em.valid_until]
        return list({r.sha256: r for r in refs}.values())

    def state_fields(self) -> dict[str, Any]:
        with self.lock:
            st = self.cache.stats()
            needed = {r.sha256 for r in self.needed_media(utc_now())}
            return {
                "applied": dict(self.memory.get("applied", {})),
                "volume": self.volume,
                "cache_items": st.items,
                "cache_bytes": st.bytes,
                "missing": tuple(sorted(s for s in self._fetch_errors if s in needed)),
                "playing": self.playing,
            }

    # -- threads -----------------------------------------------------------------------------

    def on_start(self) -> None:
        super().on_start()  # the fetch loop
        self._spawn("timing", self._timing_loop)

    def _timing_loop(self) -> None:
        while not self.stopping.is_set():
            now = utc_now()
            with self.lock:
                self._sweep_missed(now)
                due = self._due_emergency(now)
                pending = [] if due else self._pending_items(now)
                gen = self._gen
                em_next = self._next_emergency_start(now)
            if due:
                self._air(due[1].item, f"emergency:{due[0]}", emergency_id=due[0])
                continue
            wait = 5.0
            if pending:
                nxt = pending[0]
                until = (nxt.start - now).total_seconds()
                if until <= self.prepare_lead:
                    self._air(nxt, iso_key(nxt.item_id, nxt.start))
                    continue
                wait = min(wait, until - self.prepare_lead)
            if em_next:
                wait = min(wait, max((em_next - now).total_seconds(), 0.0))
            with self.changed:
                if self._gen == gen and not self.stopping.is_set():
                    self.changed.wait(wait)

    def _sweep_missed(self, now: datetime) -> None:
        """Report items whose time passed beyond the late limit without being played."""
        done = self._done()
        since = parse_time(self.memory["since"], "since")
        for it in self.items():
            key = iso_key(it.item_id, it.start)
            if key in done or key == self._playing_key or it.start + self.late_limit >= now or it.start < since:
                continue
            if it.start < self.started_at:
                reason = f"node off or agent not running at airtime (agent started {fmt_time(self.started_at)})"
            elif it.media.sha256 in self._fetch_errors or self.cache.get(it.media) is None:
                reason = f"media never fetched: {self._fetch_errors.get(it.media.sha256, 'not downloaded in time')}"
            else:
                reason = f"not started within {self.late_limit.total_seconds():.0f} s of its time"
            self._finish(key, it, "missed", reason=reason)
        for eid, em, entry in self._emergencies():
            if entry.get("status") == "pending" and now >= em.valid_until:
                entry["status"] = "missed"
                self._finish(f"emergency:{eid}", em.item, "missed", reason="emergency expired before it could play", emergency_id=eid)
        # forget airings older than a week so the memory file stays small
        cutoff = now - timedelta(days=7)
        for key in [k for k, v in done.items() if parse_time(v.get("at"), "done.at") < cutoff]:
            del done[key]
        ems = self.memory.get("emergencies", {})
        for eid in [e for e, _em, entry in self._emergencies() if _em.valid_until < cutoff]:
            del ems[eid]

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
        with self.lock:
            self._done()[key] = {"kind": kind, "at": fmt_time(utc_now())}
            if emergency_id:
                entry = self.memory.setdefault("emergencies", {}).setdefault(emergency_id, {})
                if entry.get("status") == "pending":
                    entry["status"] = kind
            self.save()
        self.report(
            AsRunEvent(
                event_id=uuid.uuid4().hex,
                device=self.device.id,
                item_id=item.item_id,
                announcement_id=item.announcement_id,
                kind=kind,
                scheduled=item.start,
                started=started,
                ended=ended,
                reason=reason,
            )
        )

    # -- airing one item ---------------------------------------------------------------------

    def _still_wanted(self, key: str, item: ScheduleItem, emergency_id: str | None, volume: int) -> bool:
        """Called with the lock held while waiting for the instant: has anything made it moot?"""
        if self.stopping.is_set() or self.volume != volume:
            return False
        now = utc_now()
        if emergency_id:
            return self.memory.get("emergencies", {}).get(emergency_id, {}).get("status") == "pending"
        if self._due_emergency(now):
            return False
        return any(iso_key(i.item_id, i.start) == key and i.media == item.media for i in self._pending_items(now))

    def _media(self, item: ScheduleItem, key: str, emergency_id: str | None) -> Path | None:
        """The cached file. If the prefetch has not got it yet, an emergency fetches it here; a
        normal item waits for the fetch loop instead, so that this thread stays free to notice an
        emergency (a slow 4G download would otherwise hold it for minutes)."""
        deadline = (utc_now() + timedelta(seconds=30)) if emergency_id else item.start + self.late_limit
        while not self.stopping.is_set():
            path = self.cache.get(item.media)
            if path is not None:
                return path
            if emergency_id:
                try:
                    return self.cache.fetch(item.media)
                except MediaError as exc:
                    self._fetch_errors[item.media.sha256] = str(exc)
            else:
                self._fetch_due.set()  # the fetch loop notifies `changed` when a file arrives
            if utc_now() + timedelta(seconds=1) >= deadline:
                return None
            with self.changed:
                if not self._still_wanted(key, item, emergency_id, self.volume):
                    return None
                self.changed.wait(min(self.fetch_retry, 2.0) if emergency_id else 1.0)
        return None

    def _air(self, item: ScheduleItem, key: str, emergency_id: str | None = None) -> None:
        volume = self.volume
        media = self._media(item, key, emergency_id)
        if media is None:
            with self.lock:
                if not self._still_wanted(key, item, emergency_id, volume):
                    return
            err = self._fetch_errors.get(item.media.sha256, "download did not finish in time")
            self._finish(key, item, "missed", reason=f"media never fetched: {err}", emergency_id=emergency_id)
            return
        try:
            prepared = self.output.prepare(media, item.item_id, volume)
        except MediaError as exc:
            self._finish(key, item, "failed", reason=f"cannot decode: {exc}", emergency_id=emergency_id)
            return
        if not self._wait_for_instant(item, key, emergency_id, volume, prepared):
            self.output.discard(prepared)
            return
        late = utc_now() - item.start
        if not emergency_id and late > self.late_limit:
            self.output.discard(prepared)
            self._finish(key, item, "missed", reason=f"could start only {late.total_seconds():.1f} s late")
            return
        self._play(item, key, emergency_id, prepared)

    def _wait_for_instant(
        self, item: ScheduleItem, key: str, emergency_id: str | None, volume: int, prepared: PreparedAudio
    ) -> bool:
        start_ts = item.start.timestamp()
        while True:
            with self.changed:
                if not self._still_wanted(key, item, emergency_id, volume):
                    return False
                remaining = start_ts - time.time()
                if remaining <= COARSE_MARGIN_S:
                    break
                self.changed.wait(remaining - COARSE_MARGIN_S)
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
        lateness_ms = (pb.started - item.start).total_seconds() * 1000
        log.info("on air %s%s, %.1f ms after its time", item.item_id, " (EMERGENCY)" if emergency_id else "", lateness_ms)
        if not emergency_id and lateness_ms > LATE_WARN_MS:
            # Deliberate (docs/protocol.md, "At airtime"): an item not ready at its time (media still
            # downloading, decoding slowed by a busy CPU) plays late rather than not at all, as long
            # as it starts within the late limit; its as-run event carries scheduled and started.
            log.warning("%s started %.1f s late: it was not ready at its time (late limit %.0f s)",
                        item.item_id, lateness_ms / 1000, self.late_limit.total_seconds())
        with self.lock:
            self.playing, self._playing_key = item.item_id, key
        self.state_changed()
        reason = ""
        while not pb.wait(0.02):
            with self.lock:
                if self.stopping.is_set():
                    reason = "agent stopped while playing"
                elif emergency_id is None and (due := self._due_emergency(utc_now())):
                    reason = f"interrupted by emergency {due[0]}"
                elif emergency_id and self.memory.get("emergencies", {}).get(emergency_id, {}).get("cleared"):
                    reason = "emergency cleared by the central"
            if reason:
                pb.stop()
                break
        ended = utc_now()
        kind = "interrupted" if (reason or pb.interrupted) else "played"
        rc = getattr(pb, "returncode", 0)
        if kind == "played" and rc not in (0, None):
            kind, reason = "failed", f"audio player exited with status {rc}"
        with self.lock:
            self.playing = self._playing_key = None
        self._finish(key, item, kind, started=pb.started, ended=ended, reason=reason, emergency_id=emergency_id)
        self.state_changed()

"""The reception TV: cycles its deck of procedure slides, shows announcements and emergencies.

Desired state is the device's deck (``protocol.Deck``, retained, versioned; the highest version
wins and is saved on disk, so the TV keeps cycling its last deck when the broker is gone or after a
reboot). On top of the cycle, by priority:

1. an emergency from *any* zone of the ward (the TV belongs to no zone, so it subscribes to every
   zone's emergency topic listed in the ward file) shows from its start for as long as it airs
   (the item's ``duration_ms``) plus ``EMERGENCY_TAIL`` (someone who looked up at the last words
   can still read it), or until it is cleared. Its ``valid_until`` (the window in which an offline
   loudspeaker may still catch up, minutes) is not how long the TV shows it. The emergency item's own
   slide shows as soon as it is on disk (it is fetched before anything else); until then a built-in
   red "KHẨN CẤP" notice;
2. an announcement slide (an overlay item's ``slide``) while that announcement airs, i.e. from the
   item's start for its ``duration_ms``. A long announcement has several (the item's ``slides``: key
   facts first, then continuations): each gets an equal share of the airing, at least ``SLIDE_MIN``,
   and when a share would exceed ``SLIDE_MAX`` they come round again (``slide_at``). A continuation
   not on disk yet never blanks the screen: the nearest earlier slide that is stays up;
3. announcements whose airing was hidden by an emergency, one after another once the emergency is
   off the screen, each for as long as it aired (at least ``CATCH_UP_MIN``): nothing that aired in
   the office is lost from the TV;
4. otherwise the deck's slides in order, each for its ``duration_s``.

The agent is a composition like the speaker's (``runtime``, ``store`` with the same emergency
book, ``prefetch`` over the cache, a ``DisplayOutput``); its own job is the render thread.
One render thread decides what should be on screen, tells the output only when that changes (the
image, not only the reason, so the emergency's own slide replaces the generic notice the moment it
is fetched), and sleeps until the next change (slide end, overlay start or end, emergency end) or a
new message or download.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from broadcaster.agents.cache import MediaCache
from broadcaster.agents.display_out import DisplayOutput
from broadcaster.agents.emergencies import apply_emergency_message
from broadcaster.agents.memory import DesiredStateStore
from broadcaster.agents.prefetch import Prefetcher
from broadcaster.agents.runtime import NodeRuntime
from broadcaster.config import Device, Ward
from broadcaster.fsutil import atomic_write
from broadcaster.wire.vocabulary import DeviceKind
from broadcaster.protocol import (
    Deck,
    DeviceConfig,
    Emergency,
    Envelope,
    MediaRef,
    Schedule,
    ScheduleItem,
    Verifier,
    utc_now,
)

log = logging.getLogger(__name__)

FONT = Path(__file__).resolve().parent.parent / "slides" / "fonts" / "NotoSans-Bold.ttf"

# How long an emergency stays on the TV after its audio ends (documented in docs/protocol.md).
EMERGENCY_TAIL = timedelta(seconds=30)
# An announcement hidden by an emergency is shown afterwards for as long as it aired, at least this.
CATCH_UP_MIN = timedelta(seconds=15)
# ...unless the emergency went on so long that the announcement is old news.
CATCH_UP_MAX_AGE = timedelta(hours=2)
# An announcement of several slides: each on screen at least this long (time to read a few lines
# from the bench; slides that do not fit in the airing are not shown)...
SLIDE_MIN = timedelta(seconds=8)
# ...and at most this long at a time: a long airing shows them all again rather than one for minutes.
SLIDE_MAX = timedelta(seconds=30)


def slide_at(count: int, begin: datetime, end: datetime, now: datetime, *, min_dwell: timedelta = SLIDE_MIN,
             max_dwell: timedelta = SLIDE_MAX) -> tuple[int, datetime]:
    """Which of ``count`` slides shows at ``now`` in the airing [begin, end), and until when.

    Equal shares of the airing, in whole passes: the share is ``span / count``, raised to
    ``min_dwell``; if it is above ``max_dwell`` the slides go round as many times as needed to bring
    it down to at most that. Pure (depends only on its arguments), so a restart resumes the same slide.
    """
    span = end - begin
    if count <= 1 or span <= timedelta(0):
        return 0, end
    dwell = span / count
    if dwell < min_dwell:
        dwell = min_dwell
    elif dwell > max_dwell:
        passes = -(-span // (max_dwell * count))  # ceiling division of timedeltas
        dwell = span / (count * passes)
    k = max(0, int((now - begin) / dwell))
    return k % count, min(begin + dwell * (k + 1), end)


class DisplayAgent:
    kind = "display"

    def __init__(
        self,
        ward: Ward,
        device: Device,
        *,
        output: DisplayOutput,
        verifier: Verifier,
        home: Path | None = None,
        broker_url: str | None = None,
        cache_bytes: int = 1024 * 1024 * 1024,
        fetch_retry_s: float = 10.0,
        state_interval: float = 60.0,
        mqtt_ca: str | None = None,
        emergency_tail: timedelta = EMERGENCY_TAIL,
        catch_up_min: timedelta = CATCH_UP_MIN,
        slide_min: timedelta = SLIDE_MIN,
        slide_max: timedelta = SLIDE_MAX,
    ) -> None:
        self.ward, self.device, self.output = ward, device, output
        self.dir = Path(home or ward.service.home) / "agents" / device.id
        self.dir.mkdir(parents=True, exist_ok=True)
        self.store = DesiredStateStore(self.dir / "state.json")
        self.book = self.store.book
        self.runtime = NodeRuntime(
            ward, device, kind=self.kind, folder=self.dir, store=self.store, verifier=verifier, broker_url=broker_url,
            state_interval=state_interval, mqtt_ca=mqtt_ca,
        )
        self.cache = MediaCache(self.dir / "cache", cache_bytes)
        self.prefetch = Prefetcher(self.cache, self._needed_now, retry_s=fetch_retry_s,
                                   on_fetched=self.store.wake, on_progress=self.runtime.state_changed)
        self.store.on_bump(self.prefetch.wake)
        self.emergency_tail = emergency_tail
        self.catch_up_min = catch_up_min
        self.slide_min, self.slide_max = slide_min, slide_max
        self.notice: Path | None = None
        self.idle: Path | None = None
        self.showing: tuple[str, str] | None = None  # (reason, label) on screen
        self._shown_image: Path | None = None
        self._cycle_idx = 0
        self._cycle_until: datetime | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def stopping(self) -> threading.Event:
        """Set it to stop the agent (the CLI does, on SIGTERM)."""
        return self.runtime.stopping

    def start(self) -> None:
        self.runtime.start(self)
        # Inside the office there is no loudspeaker to listen to: the notice names the hotline.
        self.notice = self._builtin("khan-cap.png", "KHẨN CẤP", f"Đường dây nóng: {self.ward.hotline}", (200, 0, 0))
        self.idle = self._builtin("idle.png", self.ward.name, "Bộ phận Tiếp nhận và Trả kết quả", (0, 60, 120))
        self.runtime.spawn("fetch", lambda: self.prefetch.run(self.runtime.stopping))
        self.runtime.spawn("render", self._render_loop)

    def stop(self) -> None:
        self.runtime.request_stop()
        self.prefetch.stop()
        try:
            self.output.close()
        except Exception:
            log.exception("closing the display output failed")
        self.runtime.stop()

    def run_forever(self) -> None:
        self.start()
        try:
            while not self.runtime.stopping.wait(1.0):
                pass
        finally:
            self.stop()

    # -- the runtime's Application seam --------------------------------------------------------

    def subscriptions(self) -> list[str]:
        # the same list the broker's ACL grants a TV (wire.topics is the one source of both)
        subs = self.runtime.topics.node_reads(self.device.id, self.device.zone, DeviceKind.DISPLAY, (z.id for z in self.ward.zones))
        return subs

    def apply(self, env: Envelope, body: Any, topic: str) -> bool:
        if isinstance(body, Deck):
            self.runtime.check_target("deck", body.target, topic)
            return self.store.accept("deck", body.target, body.version, body)
        booked = apply_emergency_message(self.book, env, body, utc_now())
        if booked is not None:
            return booked
        if isinstance(body, (Schedule, DeviceConfig)):
            log.debug("ignored %s on %s: the TV shows its deck", env.type, topic)
        return False

    def state_fields(self) -> dict[str, Any]:
        with self.store.lock:
            st = self.cache.stats()
            needed = {r.sha256 for r in self.needed_media(utc_now())}
            return {
                "applied": dict(self.store.memory.applied),
                "cache_items": st.items,
                "cache_bytes": st.bytes,
                "missing": self.prefetch.missing(needed),
                "playing": self.showing[1] if self.showing else None,
            }

    # -- views (call with the store's lock held) ----------------------------------------------

    def deck(self) -> Deck | None:
        state = self.store.memory.desired.get(f"device/{self.device.id}")
        return state if isinstance(state, Deck) else None

    def _needed_now(self, now: datetime) -> list[MediaRef]:
        with self.store.lock:
            return self.needed_media(now)

    def screen_end(self, em: Emergency, cleared_at: datetime | None = None) -> datetime:
        """When an emergency leaves the screen: its audio's end plus the tail, never past its validity
        or its clearing."""
        end = min(em.valid_until, em.item.start + timedelta(milliseconds=em.item.duration_ms) + self.emergency_tail)
        return min(end, cleared_at) if cleared_at is not None else end

    def _emergency_periods(self) -> list[tuple[Emergency, datetime]]:
        """Every booked emergency with the time it leaves (or left) the screen, by start."""
        return [(em, self.screen_end(em, entry.cleared_at)) for _eid, em, entry in self.book.known()]

    def _active_emergencies(self, now: datetime) -> list[tuple[Emergency, datetime]]:
        return [(em, end) for em, end in self._emergency_periods() if em.item.start <= now < end]

    def _catch_up(self, deck: Deck, now: datetime) -> tuple[ScheduleItem | None, datetime | None, datetime | None]:
        """The hidden announcement to show now, if any, with its slot's (begin, end); else (None, the
        next such slot's start, None).

        Slots are laid out afresh on every call from what is remembered (deterministic: a restart
        in the middle resumes the same sequence): each hidden overlay, in airing order, starts when
        the emergency that hid it has left the screen and the previous catch-up slot is over.
        """
        periods = [(em.item.start, end) for em, end in self._emergency_periods() if end > em.item.start]
        if not periods:
            return None, None, None
        slot_end: datetime | None = None
        for o in sorted(deck.overlays, key=lambda o: o.start):
            if not o.slide or o.priority == "emergency":
                continue
            o_end = o.start + timedelta(milliseconds=o.duration_ms)
            hiding = [end for start, end in periods if start < o_end and o.start < end]
            if not hiding:
                continue
            begin = max(max(hiding), slot_end or max(hiding))
            if begin - o_end > CATCH_UP_MAX_AGE:
                continue
            slot_end = begin + max(self.catch_up_min, timedelta(milliseconds=o.duration_ms))
            if any(s <= begin < e for s, e in periods):
                continue  # another emergency is on the screen at that time: it wins
            if begin <= now < slot_end:
                return o, begin, slot_end
            if begin > now:
                return None, begin, None
        return None, None, None

    def needed_media(self, now: datetime) -> list[MediaRef]:
        # Emergency slides first: the fetcher goes in this order, and a citizen must not wait for
        # a deck's dozens of slides to download before reading what the emergency is about.
        refs: list[MediaRef] = []
        for em, end in self._emergency_periods():
            if now < end:
                refs += em.item.all_slides
        deck = self.deck()
        if deck:
            # every slide of an announcement, continuations too, before its airtime like the first
            live = [o for o in deck.overlays if o.start + timedelta(milliseconds=o.duration_ms) + CATCH_UP_MAX_AGE > now]
            refs += [o.slide for o in live if o.slide]
            refs += [r for o in live for r in o.all_slides[1:]]
            refs += [s.media for s in deck.slides]
        return list({r.sha256: r for r in refs}.values())

    def notice_for(self, em: Emergency) -> Path | None:
        """The red notice with the emergency's own title, while (or if ever) its slide cannot be had."""
        name = f"khan-cap-{hashlib.sha256(em.item.title.encode()).hexdigest()[:16]}.png"
        path = self.dir / name
        if path.exists():
            return path
        if not em.item.title.strip():
            return None
        return self._builtin(name, "KHẨN CẤP", em.item.title, (200, 0, 0), footer=f"Đường dây nóng: {self.ward.hotline}")

    def _builtin(self, name: str, title: str, subtitle: str, bg: tuple[int, int, int], footer: str | None = None) -> Path | None:
        """A plain full-HD notice drawn with Pillow (imported here only: a TV has it, a speaker need not)."""
        path = self.dir / name
        try:
            from PIL import Image, ImageDraw, ImageFont
        except ImportError:
            log.error("Pillow is not installed: no built-in %s image (install Pillow on the TV)", name)
            return None
        img = Image.new("RGB", (1920, 1080), bg)
        draw = ImageDraw.Draw(img)
        big: ImageFont.FreeTypeFont | ImageFont.ImageFont
        small: ImageFont.FreeTypeFont | ImageFont.ImageFont
        try:
            big, small = ImageFont.truetype(str(FONT), 200), ImageFont.truetype(str(FONT), 64)
        except OSError:
            big = small = ImageFont.load_default()
        lines = [(title, big, 430), (subtitle, small, 720)] + ([(footer, small, 900)] if footer else [])
        for text, font, y in lines:
            w = draw.textlength(text, font=font)
            if w > 1800:  # a long ward name: shrink to fit the screen
                font = ImageFont.truetype(str(FONT), int(getattr(font, "size", 64) * 1800 / w)) if FONT.exists() else font
                w = draw.textlength(text, font=font)
            draw.text(((1920 - w) / 2, y), text, fill="white", font=font, anchor="ls")
        return atomic_write(path, lambda f: img.save(f, format="PNG"))

    def item_image(self, item: ScheduleItem, begin: datetime, end: datetime, now: datetime) -> tuple[Path | None, datetime]:
        """The slide of ``item`` to show at ``now`` in its time on screen [begin, end), and until when.

        If that slide is not on disk, the nearest earlier one that is (then a later one): the screen
        keeps what it has rather than going blank. None if none of the item's slides is on disk.
        """
        refs = item.all_slides
        if not refs:
            return None, end
        idx, until = slide_at(len(refs), begin, end, now, min_dwell=self.slide_min, max_dwell=self.slide_max)
        for j in [*range(idx, -1, -1), *range(idx + 1, len(refs))]:
            img = self.cache.get(refs[j])
            if img is not None:
                return img, until
        return None, until

    def frame(self, now: datetime) -> tuple[str, str, Path | None, datetime | None]:
        """What should be on screen now: (reason, label, image, until). Call with the lock held."""
        ems = self._active_emergencies(now)
        if ems:
            em, end = ems[-1]
            img, until = self.item_image(em.item, em.item.start, end, now)
            return "emergency", em.emergency_id, img or self.notice_for(em) or self.notice, until
        deck = self.deck()
        if deck is None:
            return "idle", "idle", self.idle, None
        next_change: datetime | None = None

        def soon(t: datetime | None) -> None:
            nonlocal next_change
            if t is not None and t > now and (next_change is None or t < next_change):
                next_change = t

        for em, _end in self._emergency_periods():
            soon(em.item.start)
        for o in sorted(deck.overlays, key=lambda o: o.start):
            end = o.start + timedelta(milliseconds=o.duration_ms)
            if o.slide and o.start <= now < end:
                img, part_end = self.item_image(o, o.start, end, now)
                if img:
                    return "announcement", o.item_id, img, min(part_end, next_change or part_end)
            if o.slide:
                soon(o.start)
        hidden, begin, slot_end = self._catch_up(deck, now)
        if hidden is not None and hidden.slide is not None:
            assert begin is not None and slot_end is not None
            # the same slides as on air, in the same order, shared out over the catch-up slot
            img, part_end = self.item_image(hidden, begin, slot_end, now)
            if img:
                return "announcement", hidden.item_id, img, min(part_end, next_change or part_end)
        soon(slot_end if hidden is not None else begin)  # this slot's end, or the next slot's start
        slides = [s for s in deck.slides if self.cache.get(s.media) is not None]
        if not slides:
            return "idle", "idle", self.idle, next_change
        if self._cycle_until is None or now >= self._cycle_until:
            self._cycle_idx = (self._cycle_idx + (1 if self._cycle_until else 0)) % len(slides)
            self._cycle_until = now + timedelta(seconds=slides[self._cycle_idx].duration_s)
        self._cycle_idx %= len(slides)
        s = slides[self._cycle_idx]
        until = self._cycle_until if next_change is None else min(self._cycle_until, next_change)
        return "deck", s.slide_id, self.cache.get(s.media), until

    def _render_loop(self) -> None:
        while not self.runtime.stopping.is_set():
            now = utc_now()
            with self.store.lock:
                reason, label, img, until = self.frame(now)
                gen = self.store.gen
            # Compare the image too: an emergency first drawn with the generic notice must be redrawn
            # when its own slide has been fetched, though reason and label stay the same.
            if img is not None and (self.showing != (reason, label) or self._shown_image != img):
                self.output.show(img, label, reason)
                self.showing = (reason, label)
                self._shown_image = img
                self.runtime.state_changed()
            wait = 5.0 if until is None else max(0.0, min(5.0, (until - utc_now()).total_seconds()))
            with self.store.changed:
                if self.store.gen == gen and not self.runtime.stopping.is_set():
                    self.store.changed.wait(wait)

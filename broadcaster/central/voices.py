"""The better voice wins when it can: retry the preferred engine for clips spoken by a fallback.

When an announcement was queued while the preferred engine (the first of the ward file's
``[speech] engines``) could not speak, e.g. no internet for FPT.AI or Google, its audio came from
a fallback (espeak-ng). Every ``retry_minutes`` the service tries the preferred engine again for
those announcements, and when it speaks, renders the same programme (chime, readings, loudness)
and swaps the new audio in. The swap is a store change like any other: a new plan revision, so a
new schedule version with the new media URL goes to the nodes, which prefetch it as usual.

Never too late: no swap when the announcement's next airing in any zone is closer than
``swap_margin_minutes`` (default 20). Nodes get the new schedule within seconds and retry a failed
download every 10 s, so 20 minutes leaves over a hundred tries on a poor 4G link; an item that
airs sooner keeps the audio every node already holds. A recording is never replaced.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from broadcaster.central.store import Store
from broadcaster.config import Ward
from broadcaster.errors import BroadcasterError, TTSError, TTSUnavailableError

__all__ = ["VoiceUpgrader"]

log = logging.getLogger(__name__)


class Rereader(Protocol):
    """The part of ``broadcaster.production.Producer`` a swap needs."""

    @property
    def preferred(self) -> str: ...

    def reread(self, ann: Any, engine: object) -> Any: ...


class VoiceUpgrader:
    def __init__(
        self, ward: Ward, store: Store, producer: Rereader, engine_factory: Callable[[], object],
        *, clock: Callable[[], datetime] | None = None,
    ) -> None:
        from broadcaster.wire.times import utc_now

        self._clock = clock or utc_now
        self.ward = ward
        self.store = store
        self.producer = producer
        self._engine_factory = engine_factory
        self._engine: object | None = None

    @property
    def margin(self) -> timedelta:
        return timedelta(minutes=self.ward.speech.swap_margin_minutes)

    def candidates(self, next_airing: dict[str, datetime], now: datetime) -> list[str]:
        """Active announcements spoken by a fallback whose next airing leaves time for a swap."""
        voices = self.store.voices()
        out = []
        for a in self.store.announcements():
            v = voices.get(a.id)
            if v is None or not v.fallback:
                continue
            nxt = next_airing.get(a.id)
            if nxt is not None and nxt - now < self.margin:
                log.info("%s airs at %s, too soon to swap its voice (margin %s)", a.id, nxt, self.margin)
                continue
            out.append(a.id)
        return out

    def run(self, next_airing: dict[str, datetime]) -> list[str]:
        """One round; returns the ids whose audio was swapped."""
        now = self._clock()
        ids = self.candidates(next_airing, now)
        if not ids:
            return []
        if self._engine is None:
            self._engine = self._engine_factory()
        preferred = self.producer.preferred
        swapped = []
        for ann_id in ids:
            try:
                ann = self.store.announcement(ann_id)
                produced = self.producer.reread(ann, self._engine)
            except TTSUnavailableError as exc:
                # the engine is down: the other announcements would only wait for the same timeout
                self.store.voice_try_failed(ann_id, str(exc), now)
                log.info("preferred voice %s still unavailable: %s", preferred, exc)
                break
            except (TTSError, BroadcasterError) as exc:
                self.store.voice_try_failed(ann_id, str(exc), now)
                log.warning("preferred voice %s could not read %s: %s", preferred, ann_id, exc)
                continue
            if produced.engine != preferred:
                continue
            # the plan may have moved on while the speech was made: check the margin again
            nxt = next_airing.get(ann_id)
            if nxt is not None and nxt - self._clock() < self.margin:
                log.info("%s: speech took too long, the airing at %s is now too close to swap", ann_id, nxt)
                continue
            try:
                self.store.swap_audio(ann_id, produced.audio, duration_ms=int(produced.duration_ms),
                                      engine=produced.engine, voice=produced.voice, preferred=preferred, now=now)
            except BroadcasterError as exc:  # cancelled meanwhile
                log.info("voice of %s not swapped: %s", ann_id, exc)
                continue
            log.info("%s: audio now spoken by %s (%s)", ann_id, produced.engine, produced.voice)
            swapped.append(ann_id)
        return swapped


def next_airings(items: Iterable[Any], now: datetime) -> dict[str, datetime]:
    """Earliest start at or after ``now`` per announcement, over planned items and emergencies."""
    out: dict[str, datetime] = {}
    for it in items:
        start = it.start
        if start + timedelta(milliseconds=int(getattr(it, "duration_ms", 0))) < now:
            continue
        if it.announcement_id not in out or start < out[it.announcement_id]:
            out[it.announcement_id] = start
    return out

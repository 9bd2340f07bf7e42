"""The prefetcher: every media file a node will need, on disk and verified well before airtime.

Used by the speaker (audio) and the TV (slides) alike. It asks its agent what is needed (``needed``:
upcoming items, pending emergencies, the deck, in the order they should arrive), downloads what
the cache lacks through ``MediaCache.fetch`` (resumed with ``Range``, size and sha256 checked,
written as ``<sha>.part`` and renamed only once whole, so nothing partial is ever aired), then
evicts what is no longer needed. It runs again whenever desired state changes (``wake``), after
``retry_s`` if a download failed, and once a minute otherwise.

``errors`` keeps the last failure per file: the agent reports those still needed as ``missing``
in its state, and as the reason of an item missed for want of its media.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from broadcaster.agents.cache import MediaCache
from broadcaster.errors import MediaError
from broadcaster.wire.messages import MediaRef
from broadcaster.wire.times import utc_now

log = logging.getLogger(__name__)

IDLE_S = 60.0  # re-check this often with nothing failing (eviction, a file deleted by hand)


class Prefetcher:
    def __init__(
        self,
        cache: MediaCache,
        needed: Callable[[datetime], list[MediaRef]],
        *,
        retry_s: float = 10.0,
        on_fetched: Callable[[], None] = lambda: None,
        on_progress: Callable[[], None] = lambda: None,
    ) -> None:
        self.cache = cache
        self.needed = needed  # takes the store's lock itself
        self.retry_s = retry_s
        self.on_fetched = on_fetched  # a file arrived: a waiting loop may use it now
        self.on_progress = on_progress  # something changed for the state (cache, missing)
        self.errors: dict[str, str] = {}  # sha256 -> last download error
        self._due = threading.Event()

    def wake(self) -> None:
        """Run again soon (desired state changed, or a loop waits for a file). Never blocks."""
        self._due.set()

    def missing(self, needed: set[str]) -> tuple[str, ...]:
        """Needed files whose last download failed."""
        return tuple(sorted(s for s in list(self.errors) if s in needed))

    def fetch_now(self, ref: MediaRef) -> Path | None:
        """Fetch on the caller's thread (an emergency cannot wait for the loop); None on failure."""
        try:
            path = self.cache.fetch(ref)
        except MediaError as exc:
            self.errors[ref.sha256] = str(exc)
            return None
        self.errors.pop(ref.sha256, None)
        return path

    def run(self, stopping: threading.Event) -> None:
        while not stopping.is_set():
            refs = self.needed(utc_now())
            failed = False
            for ref in refs:
                if stopping.is_set():
                    return
                if self.cache.get(ref) is not None:
                    self.errors.pop(ref.sha256, None)
                    continue
                try:
                    self.cache.fetch(ref)
                    self.errors.pop(ref.sha256, None)
                    self.on_fetched()
                except MediaError as exc:
                    failed = True
                    self.errors[ref.sha256] = str(exc)
                self.on_progress()
            self.cache.evict({r.sha256 for r in refs})
            self._due.wait(self.retry_s if failed else IDLE_S)
            self._due.clear()

    def stop(self) -> None:
        self._due.set()

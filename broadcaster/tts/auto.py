"""``auto``: the best voice that works right now, without making the officer wait.

Order of preference is the order of ``engines`` (normally gTTS, then espeak-ng):

1. A clip already in any engine's cache is returned at once, in preference order, without
   touching the network. A bulletin therefore keeps sounding the same (and keeps its media hash)
   once rendered, even if Google comes back; render with ``--engine gtts`` to upgrade it.
2. Otherwise engines are tried in order. An engine that raises ``TTSUnavailableError`` (no
   network, not installed) is skipped for ``down_for_s`` seconds, so a catalog of 20 clips pays
   one connect timeout, not twenty. Other ``TTSError``s fall through to the next engine for this
   clip only.

The returned ``Speech.engine`` names the engine that actually spoke.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from broadcaster.errors import TTSError, TTSUnavailableError
from broadcaster.tts.base import Speech, TTSEngine, normalize_for_tts
from broadcaster.tts.cache import CachedEngine

__all__ = ["AutoEngine", "DEFAULT_DOWN_FOR_S"]

log = logging.getLogger(__name__)

DEFAULT_DOWN_FOR_S = 300.0


class AutoEngine:
    """Fallback chain over ``engines``. ``voice`` is passed to each engine as is; voice names are
    engine specific, so with ``auto`` leave it ``None`` and configure voices per engine."""

    name = "auto"

    def __init__(
        self,
        engines: Sequence[TTSEngine],
        *,
        down_for_s: float = DEFAULT_DOWN_FOR_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not engines:
            raise ValueError("AutoEngine needs at least one engine")
        self.engines = list(engines)
        self.down_for_s = down_for_s
        self._clock = clock
        self._down_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def resolve_voice(self, voice: str | None = None) -> str:
        return " | ".join(f"{e.name}:{e.resolve_voice(voice)}" for e in self.engines)

    def is_down(self, engine_name: str) -> bool:
        with self._lock:
            return self._down_until.get(engine_name, 0.0) > self._clock()

    def synthesize(self, text: str, voice: str | None = None) -> Speech:
        if not normalize_for_tts(text):
            raise TTSError("nothing to say: the text to synthesise is empty")
        for engine in self.engines:
            if isinstance(engine, CachedEngine):
                hit = engine.lookup(text, voice)
                if hit is not None:
                    return hit

        failures: list[str] = []
        all_unavailable = True
        for engine in self.engines:
            if self.is_down(engine.name):
                failures.append(f"{engine.name}: skipped, unavailable moments ago")
                continue
            try:
                speech = engine.synthesize(text, voice)
            except TTSUnavailableError as exc:
                with self._lock:
                    self._down_until[engine.name] = self._clock() + self.down_for_s
                log.warning("%s unavailable, not trying it again for %g s: %s", engine.name, self.down_for_s, exc)
                failures.append(f"{engine.name}: {exc}")
                continue
            except TTSError as exc:
                all_unavailable = False
                log.warning("%s could not read this text, trying the next engine: %s", engine.name, exc)
                failures.append(f"{engine.name}: {exc}")
                continue
            if failures:
                log.info("spoken by %s (%s)", speech.engine, "; ".join(failures))
            return speech
        error = TTSUnavailableError if all_unavailable else TTSError
        raise error("no TTS engine could read the text: " + " / ".join(failures))

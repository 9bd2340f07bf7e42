"""Speech synthesis: engines behind one small seam, a disk cache and an online-to-offline fallback.

Typical use::

    engine = make_engine("auto", cache_dir=store / "tts")
    speech = engine.synthesize(normalize(text))   # Speech(audio, format, engine="gtts"|"espeak", ...)

The engine modules import their tools lazily (through ``make_engine``), so importing this package
does not load gTTS/requests on a device that never speaks.
"""

from __future__ import annotations

import os

from broadcaster.tts.auto import DEFAULT_DOWN_FOR_S, AutoEngine
from broadcaster.tts.base import Speech, TTSEngine, normalize_for_tts
from broadcaster.tts.cache import CachedEngine, TTSCache

__all__ = [
    "ENGINE_NAMES",
    "AutoEngine",
    "CachedEngine",
    "Speech",
    "TTSCache",
    "TTSEngine",
    "make_engine",
    "normalize_for_tts",
]

ENGINE_NAMES = ("auto", "gtts", "espeak")


def make_engine(
    name: str = "auto",
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    gtts_base_url: str | None = None,
    gtts_tld: str = "com",
    connect_timeout_s: float | None = None,
    read_timeout_s: float | None = None,
    espeak_voice: str = "vi",
    espeak_speed_wpm: int = 150,
    espeak_binary: str = "espeak-ng",
    down_for_s: float = DEFAULT_DOWN_FOR_S,
) -> TTSEngine:
    """Build the engine called ``name`` ("auto", "gtts" or "espeak").

    With ``cache_dir`` every concrete engine is wrapped in a ``CachedEngine`` sharing one
    ``TTSCache`` there. ``gtts_base_url`` points gTTS at another server speaking Google's
    batchexecute protocol (a relay, or a test stand-in) instead of ``translate.google.<tld>``.
    """
    from broadcaster.tts.espeak_engine import EspeakEngine
    from broadcaster.tts.gtts_engine import DEFAULT_CONNECT_TIMEOUT_S, DEFAULT_READ_TIMEOUT_S, GTTSEngine

    if name not in ENGINE_NAMES:
        raise ValueError(f"unknown TTS engine {name!r} (expected one of: {', '.join(ENGINE_NAMES)})")
    cache = TTSCache(cache_dir) if cache_dir is not None else None

    def wrap(engine: TTSEngine) -> TTSEngine:
        return CachedEngine(engine, cache) if cache is not None else engine

    def gtts() -> TTSEngine:
        return wrap(
            GTTSEngine(
                tld=gtts_tld,
                base_url=gtts_base_url,
                connect_timeout_s=connect_timeout_s if connect_timeout_s is not None else DEFAULT_CONNECT_TIMEOUT_S,
                read_timeout_s=read_timeout_s if read_timeout_s is not None else DEFAULT_READ_TIMEOUT_S,
            )
        )

    def espeak() -> TTSEngine:
        return wrap(EspeakEngine(voice=espeak_voice, speed_wpm=espeak_speed_wpm, binary=espeak_binary))

    if name == "gtts":
        return gtts()
    if name == "espeak":
        return espeak()
    return AutoEngine([gtts(), espeak()], down_for_s=down_for_s)

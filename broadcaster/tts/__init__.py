"""Speech synthesis: engines behind one small seam, a disk cache and an online-to-offline fallback.

Typical use::

    engine = make_engine("auto", cache_dir=store / "tts")
    speech = engine.synthesize(normalize(text))   # Speech(audio, format, engine="gtts"|"espeak", ...)

The engine modules import their tools lazily (through ``make_engine``), so importing this package
does not load gTTS/requests on a device that never speaks.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from broadcaster.tts.auto import DEFAULT_DOWN_FOR_S, AutoEngine
from broadcaster.tts.base import Speech, TTSEngine, normalize_for_tts
from broadcaster.tts.cache import CachedEngine, TTSCache

if TYPE_CHECKING:
    from broadcaster.config import SpeechSettings

__all__ = [
    "ENGINE_NAMES",
    "AutoEngine",
    "CachedEngine",
    "Speech",
    "TTSCache",
    "TTSEngine",
    "build_engine",
    "make_engine",
    "normalize_for_tts",
]

ENGINE_NAMES = ("auto", "gtts", "espeak", "piper", "fpt")


def make_engine(
    name: str = "auto",
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    gtts_base_url: str | None = None,
    gtts_tld: str = "com",
    connect_timeout_s: float | None = None,
    read_timeout_s: float | None = None,
    espeak_voice: str | None = None,
    espeak_speed_wpm: int | None = None,
    espeak_binary: str = "espeak-ng",
    down_for_s: float = DEFAULT_DOWN_FOR_S,
    speech: SpeechSettings | None = None,
) -> TTSEngine:
    """Build the engine called ``name`` ("auto", "gtts", "espeak", "piper" or "fpt").

    ``speech`` is the ward file's ``[speech]`` section: the order of ``auto`` and each engine's
    settings (voice files, API key file...); without it, gTTS then espeak-ng with their defaults.

    With ``cache_dir`` every concrete engine is wrapped in a ``CachedEngine`` sharing one
    ``TTSCache`` there. ``gtts_base_url`` points gTTS at another server speaking Google's
    batchexecute protocol (a relay, or a test stand-in) instead of ``translate.google.<tld>``.
    """
    from broadcaster.config import SpeechSettings as _Speech
    from broadcaster.tts.espeak_engine import EspeakEngine

    speech = speech or _Speech()
    if name not in ENGINE_NAMES:
        raise ValueError(f"unknown TTS engine {name!r} (expected one of: {', '.join(ENGINE_NAMES)})")
    cache = TTSCache(cache_dir) if cache_dir is not None else None

    def wrap(engine: TTSEngine) -> TTSEngine:
        return CachedEngine(engine, cache) if cache is not None else engine

    def gtts() -> TTSEngine:
        from broadcaster.tts.gtts_engine import DEFAULT_CONNECT_TIMEOUT_S, DEFAULT_READ_TIMEOUT_S, GTTSEngine

        return wrap(
            GTTSEngine(
                tld=gtts_tld,
                base_url=gtts_base_url,
                connect_timeout_s=connect_timeout_s if connect_timeout_s is not None else DEFAULT_CONNECT_TIMEOUT_S,
                read_timeout_s=read_timeout_s if read_timeout_s is not None else DEFAULT_READ_TIMEOUT_S,
            )
        )

    def espeak() -> TTSEngine:
        e = speech.espeak
        return wrap(EspeakEngine(
            voice=espeak_voice or e.voice, speed_wpm=espeak_speed_wpm or e.rate_wpm, pitch=e.pitch,
            word_gap=e.word_gap, binary=espeak_binary,
        ))  # fmt: skip

    def piper() -> TTSEngine:
        from broadcaster.tts.piper_engine import PiperEngine

        p = speech.piper
        if p.model is None:
            raise ValueError("the piper engine needs a voice file: set [speech.piper] model in the ward file")
        return wrap(PiperEngine(model=p.model, length_scale=p.length_scale, speaker=p.speaker, command=p.command))

    def fpt() -> TTSEngine:
        from broadcaster.tts.fpt_engine import FptEngine

        f = speech.fpt
        if f.api_key_file is None:
            raise ValueError("the fpt engine needs an API key file: set [speech.fpt] api_key_file in the ward file")
        return wrap(FptEngine(
            api_key_file=f.api_key_file, voice=f.voice, speed=f.speed, base_url=f.base_url,
            read_timeout_s=f.timeout_s, poll_timeout_s=f.poll_timeout_s,
        ))  # fmt: skip

    builders = {"gtts": gtts, "espeak": espeak, "piper": piper, "fpt": fpt}
    if name != "auto":
        return builders[name]()
    return AutoEngine([builders[n]() for n in speech.engines], down_for_s=down_for_s)


def build_engine(name: str, speech: SpeechSettings, cache_dir: str | os.PathLike[str] | None = None) -> TTSEngine:
    """One engine of the ward's ``[speech]`` configuration (e.g. its preferred one, for a retry)."""
    return make_engine(name, cache_dir, speech=speech)

"""The TTS engine seam: one small Protocol and the clip it returns.

An engine turns already-normalised spoken Vietnamese (see ``broadcaster.normalize``) into audio
bytes. Engines do no caching and no post-processing; ``broadcaster.tts.cache`` and
``broadcaster.audio.program`` do that, so every engine stays a thin wrapper around one real tool.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

__all__ = ["Speech", "TTSEngine", "normalize_for_tts"]


@dataclass(frozen=True)
class Speech:
    """One synthesised clip and where it came from.

    ``engine`` is always the engine that actually produced the audio ("gtts", "fpt", "piper",
    "espeak", or "recording" for an officer's recording), never "auto", so the store, ``list`` and
    the as-run report can say which voice went on air.
    """

    audio: bytes
    format: str  # container of ``audio``: "mp3" (gTTS, FPT.AI) or "wav" (espeak-ng, piper, recordings)
    engine: str
    voice: str  # the resolved voice and settings, as used in the cache key
    text: str = field(repr=False, default="")
    path: Path | None = None  # where the clip is stored, when it came through the cache
    cached: bool = False  # True when served from the cache without synthesising

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.audio).hexdigest()


@runtime_checkable
class TTSEngine(Protocol):
    """Text to speech. ``name`` is "gtts", "fpt", "piper", "espeak" or "auto".

    ``synthesize`` raises ``TTSUnavailableError`` when the engine cannot run at all here (no
    network, tool not installed) and ``TTSError`` when it ran but produced no usable audio.
    ``voice`` is engine specific; ``None`` means the engine's configured default.
    """

    name: str

    def resolve_voice(self, voice: str | None = None) -> str:
        """The exact voice and settings this engine would use; part of the cache key."""
        ...

    def synthesize(self, text: str, voice: str | None = None) -> Speech:
        ...


def normalize_for_tts(text: str) -> str:
    """Canonical form of a spoken text: NFC, single spaces, no outer whitespace.

    Vietnamese typed on different keyboards arrives as NFC or NFD (combining tone marks); both
    must hit the same cache entry and be read the same, so engines and the cache both use this.
    Case is kept: it can change how an engine phrases a sentence.
    """
    return " ".join(unicodedata.normalize("NFC", text).split())

"""Content-addressed cache of synthesised clips, on disk.

Key: sha256 of (format version, engine name, resolved voice, normalised text). The same sentence
read by the same voice is synthesised once, ever: a catalog of 20 procedures re-rendered every
month costs nothing after the first time, and a hit is a stat plus a small file read.

Layout: ``<directory>/<key[:2]>/<key>.<mp3|wav>``. Files are written to a temporary name in the
same directory, fsynced and renamed, so a power cut leaves either the whole clip or nothing;
an empty file found anyway (older file system quirks) is treated as a miss and replaced.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import replace
from pathlib import Path

from broadcaster.errors import MediaError
from broadcaster.fsutil import KeyedLocks, atomic_write
from broadcaster.tts.base import Speech, TTSEngine, normalize_for_tts

__all__ = ["FORMAT_VERSION", "TTSCache", "CachedEngine"]

log = logging.getLogger(__name__)

# Bump when the way text becomes audio changes for the same engine and voice (e.g. new engine
# options), so stale clips stop matching instead of being served.
FORMAT_VERSION = 1
_FORMATS = ("mp3", "wav")


class TTSCache:
    """Clips on disk under ``directory``, addressed by what they say and who says it."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    @staticmethod
    def key(text: str, engine: str, voice: str) -> str:
        payload = json.dumps([FORMAT_VERSION, engine, voice, normalize_for_tts(text)], ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def path_for(self, key: str, fmt: str) -> Path:
        return self.directory / key[:2] / f"{key}.{fmt}"

    def get(self, text: str, engine: str, voice: str) -> Speech | None:
        key = self.key(text, engine, voice)
        for fmt in _FORMATS:
            path = self.path_for(key, fmt)
            try:
                audio = path.read_bytes()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise MediaError(f"cannot read cached clip {path}: {exc}") from exc
            if not audio:
                log.warning("tts cache: empty clip %s (interrupted write?); synthesising again", path)
                path.unlink(missing_ok=True)
                continue
            return Speech(
                audio=audio, format=fmt, engine=engine, voice=voice,
                text=normalize_for_tts(text), path=path, cached=True,
            )  # fmt: skip
        return None

    def put(self, speech: Speech) -> Speech:
        """Store ``speech`` atomically; returns it with ``path`` set."""
        if not speech.audio:
            raise MediaError(f"refusing to cache an empty {speech.engine} clip")
        if speech.format not in _FORMATS:
            raise MediaError(f"cannot cache a clip in format {speech.format!r} (known: {', '.join(_FORMATS)})")
        path = self.path_for(self.key(speech.text, speech.engine, speech.voice), speech.format)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, speech.audio, mode=0o644)  # clips are served to devices
        except OSError as exc:
            raise MediaError(f"cannot write the TTS cache under {self.directory}: {exc}") from exc
        return replace(speech, path=path, cached=False)


class CachedEngine:
    """An engine whose clips go through a ``TTSCache``; itself a ``TTSEngine``.

    ``synthesized`` and ``hits`` count calls, for logs ("3 synthesised, 17 reused") and tests.
    Concurrent requests for the same clip wait for the first one instead of synthesising twice.
    """

    def __init__(self, inner: TTSEngine, cache: TTSCache) -> None:
        self.inner = inner
        self.cache = cache
        self.name = inner.name
        self.synthesized = 0
        self.hits = 0
        self._guard = threading.Lock()
        self._key_locks = KeyedLocks()  # one per clip being made, dropped once made

    def resolve_voice(self, voice: str | None = None) -> str:
        return self.inner.resolve_voice(voice)

    def lookup(self, text: str, voice: str | None = None) -> Speech | None:
        """The cached clip, or None; never synthesises."""
        hit = self.cache.get(text, self.name, self.resolve_voice(voice))
        if hit is not None:
            with self._guard:
                self.hits += 1
        return hit

    def synthesize(self, text: str, voice: str | None = None) -> Speech:
        resolved = self.resolve_voice(voice)
        hit = self.lookup(text, voice)
        if hit is not None:
            return hit
        key = self.cache.key(text, self.name, resolved)
        with self._key_locks.hold(key):
            hit = self.lookup(text, voice)  # another thread may have made it while we waited
            if hit is not None:
                return hit
            speech = self.inner.synthesize(text, voice)
            with self._guard:
                self.synthesized += 1
            # Store under the key we looked up, whatever the engine echoed back.
            speech = replace(speech, engine=self.name, voice=resolved, text=normalize_for_tts(text))
            stored = self.cache.put(speech)
            log.debug("tts cache: stored %s", stored.path)
            return stored

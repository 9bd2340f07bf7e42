"""From what the officer typed to media the devices play: the preparation pipeline, composed.

    text ─ normalize ─► spoken words ─ tts (cached) ─► speech ─ audio ─► MP3 (chime, readings, loudness)
    title + text ──────────────────── slides ──────────────────────────► PNG slide(s) 1920x1080

``render_files`` writes into a folder (for ``broadcaster render``, a preview); ``Producer`` does the
same in a scratch folder and moves the results into the content-addressed media store (for the
central service). Nothing here talks to the broker.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from broadcaster.config import Announcement, Deck, Ward
from broadcaster.errors import ConfigError
from broadcaster.media import MediaStore, StoredMedia

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RenderedFiles:
    audio: Path
    duration_ms: int
    engine: str  # engine(s) that produced the speech, "+"-joined if several
    spoken_text: str
    slides: tuple[Path, ...]
    loudness_lufs: float | None = None
    voice: str = ""  # the voice and settings that spoke (or the recording's file name)
    preferred: str = ""  # the engine the ward prefers; another one spoke if ``fallback``

    @property
    def fallback(self) -> bool:
        return is_fallback(self.engine, self.preferred)


@dataclass(frozen=True)
class ProducedAnnouncement:
    audio: StoredMedia
    duration_ms: int
    engine: str
    spoken_text: str
    slides: tuple[StoredMedia, ...]
    voice: str = ""
    preferred: str = ""

    @property
    def fallback(self) -> bool:
        return is_fallback(self.engine, self.preferred)


def is_fallback(engine: str, preferred: str) -> bool:
    """True when a clip was spoken by another engine than the preferred one (a recording never is)."""
    from broadcaster.audio.recording import RECORDING_ENGINE

    return bool(preferred) and engine not in (preferred, RECORDING_ENGINE)


def preferred_engine(ward: Ward, engine: str) -> str:
    """The engine a clip should have been spoken by: the first of [speech] engines for ``auto``."""
    return ward.speech.preferred if engine == "auto" else engine


def _stem(s: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", s.lower()).strip("-") or "announcement"


def render_files(
    ann: Announcement, ward: Ward, engine: object, out_dir: Path, *, preferred: str = ""
) -> RenderedFiles:
    """Write ``<id>.mp3`` and ``<id>-NN.png`` for one announcement into ``out_dir``.

    With ``ann.audio_file`` the recording is read instead of synthesised speech (same programme).
    """
    from broadcaster.audio import render_program
    from broadcaster.normalize import normalize
    from broadcaster.slides import render_announcement

    out_dir.mkdir(parents=True, exist_ok=True)
    stem = _stem(ann.id)
    spoken = normalize(ann.text)
    if ann.audio_file is not None:
        from broadcaster.audio.recording import import_recording

        speech = import_recording(ann.audio_file)
    else:
        speech = engine.synthesize(spoken)  # type: ignore[attr-defined]
    program = render_program(speech, out_dir / f"{stem}.mp3", repeats=ann.readings, chime=ann.chime)
    slides: list[Path] = []
    if ann.show_on_tv:
        slides = render_announcement(
            ann.title,
            ann.text,
            ward_name=ward.name,
            hotline=ward.hotline,
            priority=ann.priority,  # type: ignore[arg-type]
            out_dir=out_dir,
            stem=stem,
        )
    return RenderedFiles(
        audio=program.path,
        duration_ms=program.duration_ms,
        engine="+".join(program.engines) or speech.engine,
        spoken_text=spoken,
        slides=tuple(slides),
        loudness_lufs=program.loudness_lufs,
        voice=speech.voice,
        preferred=preferred,
    )


class Producer:
    """Prepares announcements and decks into the media store, with one TTS engine and its cache."""

    def __init__(
        self,
        ward: Ward,
        store: MediaStore,
        engine: str = "auto",
        *,
        cache_dir: Path | None = None,
        tts: object | None = None,
    ) -> None:
        self.ward = ward
        self.store = store
        self.engine_name = engine
        self._cache_dir = cache_dir or ward.service.home / "cache" / "tts"
        self._tts = tts
        self._scratch = ward.service.home / "tmp"

    @property
    def tts(self) -> object:
        # Built on first use: listing or cancelling never loads gTTS/requests.
        if self._tts is None:
            from broadcaster.tts import make_engine

            self._tts = make_engine(self.engine_name, cache_dir=self._cache_dir, speech=self.ward.speech)
        return self._tts

    @property
    def preferred(self) -> str:
        return preferred_engine(self.ward, self.engine_name)

    def preferred_engine(self) -> object:
        """The preferred engine alone (no fallback), with the same cache, for the voice retry."""
        from broadcaster.tts import build_engine

        return build_engine(self.preferred, self.ward.speech, self._cache_dir)

    def _tmpdir(self) -> tempfile.TemporaryDirectory[str]:
        self._scratch.mkdir(parents=True, exist_ok=True)
        return tempfile.TemporaryDirectory(dir=self._scratch, prefix="render-")

    def announcement(self, ann: Announcement) -> ProducedAnnouncement:
        with self._tmpdir() as tmp:
            files = render_files(ann, self.ward, self.tts, Path(tmp), preferred=self.preferred)
            return ProducedAnnouncement(
                audio=self.store.put_file(files.audio),
                duration_ms=files.duration_ms,
                engine=files.engine,
                spoken_text=files.spoken_text,
                slides=tuple(self.store.put_file(p) for p in files.slides),
                voice=files.voice,
                preferred=files.preferred,
            )

    def reread(self, ann: Announcement, engine: object) -> ProducedAnnouncement:
        """The announcement's programme again, spoken by ``engine`` (slides are not redone)."""
        from broadcaster.audio import render_program
        from broadcaster.normalize import normalize

        spoken = normalize(ann.text)
        speech = engine.synthesize(spoken)  # type: ignore[attr-defined]
        with self._tmpdir() as tmp:
            program = render_program(speech, Path(tmp) / "reread.mp3", repeats=ann.readings, chime=ann.chime)
            return ProducedAnnouncement(
                audio=self.store.put_file(program.path), duration_ms=program.duration_ms, engine=speech.engine,
                spoken_text=spoken, slides=(), voice=speech.voice, preferred=self.preferred,
            )

    def deck(self, deck: Deck, progress: Callable[[int, int], None] | None = None) -> list[tuple[str, StoredMedia, float]]:
        """Every slide of a TV deck, in play order, as (slide_id, png in the store, seconds)."""
        from broadcaster.catalog import load_catalog
        from broadcaster.slides import render_announcement, render_hotline, render_procedure

        out: list[tuple[str, StoredMedia, float]] = []
        w = self.ward
        with self._tmpdir() as tmp:
            d = Path(tmp)
            for n, entry in enumerate(deck.entries):
                prefix = f"{n:02d}-{entry.kind}"
                if entry.kind == "hotline":
                    paths = render_hotline(
                        ward_name=w.name, hotline=w.hotline, feedback_address=w.feedback_address, out_dir=d, stem=prefix,
                        link=w.feedback_url,
                    )
                elif entry.kind == "text":
                    paths = render_announcement(entry.title, entry.body, ward_name=w.name, hotline=w.hotline, out_dir=d, stem=prefix)
                elif entry.kind == "catalog":
                    assert entry.file is not None
                    procs = load_catalog(entry.file)
                    paths = []
                    for k, proc in enumerate(procs):
                        paths += render_procedure(proc, ward_name=w.name, hotline=w.hotline, out_dir=d, stem=f"{prefix}-{k:02d}-{proc.code}")
                        if progress:
                            progress(k + 1, len(procs))
                elif entry.kind == "image":
                    assert entry.file is not None
                    if entry.file.suffix.lower() not in (".png", ".jpg"):
                        raise ConfigError(str(deck.source), f"deck.slides[{n}].file", f"{entry.file.name} is not a PNG or JPEG", "a 1920x1080 .png or .jpg")
                    paths = [entry.file]
                else:  # config validation makes this unreachable
                    raise ConfigError(str(deck.source), f"deck.slides[{n}].kind", f"unknown kind {entry.kind!r}")
                for p in paths:
                    out.append((p.stem, self.store.put_file(p), entry.seconds))
        return out

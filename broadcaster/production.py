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
from typing import TYPE_CHECKING

from broadcaster.config import Announcement, Deck, Ward
from broadcaster.deckplan import Timed, interleave_hotline
from broadcaster.errors import ConfigError
from broadcaster.media import MediaStore, StoredMedia

if TYPE_CHECKING:  # Pillow is imported only when a slide is drawn
    from broadcaster.slides.render import SlideLayout

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


def where_text(ann: Announcement, ward: Ward) -> str:
    """The khu phố an announcement is for, as citizens name them ("toàn phường" for all)."""
    if set(ann.zones) >= {z.id for z in ward.zones}:
        return "Toàn phường"
    names = {z.id: z.name for z in ward.zones}
    return ", ".join(names.get(z, z) for z in ann.zones)


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
            link=ward.public.url(f"thong-bao/{ann.id}/"),
            where=where_text(ann, ward),
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
        """Every slide of a TV deck, in play order (the hotline brought round, see
        :mod:`broadcaster.deckplan`), as (slide_id, png in the store, seconds)."""
        from broadcaster.slides.render import save_slides

        out: list[tuple[str, StoredMedia, float]] = []
        pieces = plan_deck(deck, self.ward)
        stored: dict[str, StoredMedia] = {}
        with self._tmpdir() as tmp:
            d = Path(tmp)
            for n, t in enumerate(pieces):
                piece = t.item
                if piece.slide_id not in stored:
                    if piece.file is not None:
                        path = piece.file
                    else:
                        assert piece.layout is not None
                        (path,) = save_slides([piece.layout], d, piece.slide_id)
                    stored[piece.slide_id] = self.store.put_file(path)
                out.append((piece.slide_id, stored[piece.slide_id], t.seconds))
                if progress:
                    progress(n + 1, len(pieces))
        return out


@dataclass(frozen=True)
class DeckPiece:
    """One slide of a deck before drawing: its layout (or an image file), and where it comes from."""

    slide_id: str
    entry: int  # index in deck.entries
    kind: str
    label: str  # what an editor reads: procedure code, text title, "hotline"
    layout: SlideLayout | None = None
    file: Path | None = None


def _public_link(ward: Ward, path: str) -> str | None:
    return ward.public.url(path)


def plan_deck(deck: Deck, ward: Ward, *, skipped: list[str] | None = None) -> list[Timed[DeckPiece]]:
    """The deck laid out (not drawn) in play order, hotline interleaved; unverified procedures are
    left out (their codes appended to ``skipped``): citizens see only checked facts."""
    from broadcaster.catalog import load_catalog
    from broadcaster.slides import layout_announcement, layout_hotline, layout_procedure

    w = ward
    seq: list[Timed[DeckPiece]] = []
    hotline: list[Timed[DeckPiece]] = []

    def hotline_pieces(n: int, seconds: float) -> list[Timed[DeckPiece]]:
        layouts = layout_hotline(ward_name=w.name, hotline=w.hotline, feedback_address=w.feedback_address,
                                 link=w.feedback_url or _public_link(w, "lien-he/"))
        return [Timed(DeckPiece(f"{n:02d}-hotline-{k + 1:02d}", n, "hotline", "hotline", layout=lay), seconds, True)
                for k, lay in enumerate(layouts)]

    for n, entry in enumerate(deck.entries):
        prefix = f"{n:02d}-{entry.kind}"
        if entry.kind == "hotline":
            pieces = hotline_pieces(n, entry.seconds)
            hotline = hotline or pieces
            seq += pieces
        elif entry.kind == "text":
            layouts = layout_announcement(entry.title, entry.body, ward_name=w.name, hotline=w.hotline)
            seq += [Timed(DeckPiece(f"{prefix}-{k + 1:02d}", n, "text", entry.title, layout=lay), entry.seconds, False)
                    for k, lay in enumerate(layouts)]
        elif entry.kind == "catalog":
            assert entry.file is not None
            for k, proc in enumerate(load_catalog(entry.file)):
                if not proc.verified:
                    log.info("procedure %s is not marked verified: left off the TV until its facts are checked", proc.code)
                    if skipped is not None:
                        skipped.append(proc.code)
                    continue
                layouts = layout_procedure(proc, ward_name=w.name, hotline=w.hotline,
                                           link=_public_link(w, f"thu-tuc/{proc.code}/"))
                seq += [Timed(DeckPiece(f"{prefix}-{k:02d}-{proc.code}-{i + 1:02d}", n, "catalog", proc.code, layout=lay),
                              entry.seconds, False) for i, lay in enumerate(layouts)]
        elif entry.kind == "image":
            assert entry.file is not None
            if entry.file.suffix.lower() not in (".png", ".jpg"):
                raise ConfigError(str(deck.source), f"deck.slides[{n}].file", f"{entry.file.name} is not a PNG or JPEG", "a 1920x1080 .png or .jpg")
            seq.append(Timed(DeckPiece(entry.file.stem, n, "image", entry.file.name, file=entry.file), entry.seconds, False))
        else:  # config validation makes this unreachable
            raise ConfigError(str(deck.source), f"deck.slides[{n}].kind", f"unknown kind {entry.kind!r}")
    if not hotline:
        # a deck without the hotline still shows it: the ward's plan wants it public at the desk
        hotline = hotline_pieces(len(deck.entries), 15.0)
    return interleave_hotline(seq, hotline)


@dataclass(frozen=True)
class DeckReport:
    """What an editor of a deck needs to know (``broadcaster deck check``, ``list``, the console)."""

    deck_id: str
    slides: int
    cycle_s: float
    hotline_gap_s: float | None  # longest time between two showings of the hotline
    per_entry: tuple[tuple[str, str, int, float], ...]  # (kind, label, slides, seconds on screen per cycle)
    skipped: tuple[str, ...]  # unverified procedures left off

    def summary(self) -> str:
        from broadcaster.deckplan import describe

        gap = describe(self.hotline_gap_s) if self.hotline_gap_s is not None else "không có"
        return (f"{self.deck_id}: {self.slides} slide, một vòng {describe(self.cycle_s)}; "
                f"đường dây nóng trở lại tối đa sau {gap}")


def deck_report(deck: Deck, ward: Ward) -> DeckReport:
    from broadcaster.deckplan import cycle_seconds, max_hotline_gap

    skipped: list[str] = []
    plan = plan_deck(deck, ward, skipped=skipped)
    rows: dict[tuple[str, str], list[float]] = {}
    for t in plan:
        rows.setdefault((t.item.kind, t.item.label), []).append(t.seconds)
    return DeckReport(
        deck_id=deck.id, slides=len(plan), cycle_s=cycle_seconds(plan), hotline_gap_s=max_hotline_gap(plan),
        per_entry=tuple((k, label, len(v), sum(v)) for (k, label), v in rows.items()), skipped=tuple(skipped),
    )

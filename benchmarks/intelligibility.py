"""Intelligibility: would a listener under the loudspeaker catch the words? Measured, not guessed.

Each engine available here reads the fixed set of typical announcements (``benchmarks.announcements``:
times, dates, money, phone numbers, places). Each clip goes through the same programme path as on
air (trim, loudness, 64 kbps MP3), is decoded to 16 kHz mono and transcribed by an offline
Vietnamese recogniser (``viet-asr``, its model is inside the wheel). The figure is the **syllable
error rate** (SER): edit distance between the spoken words the engine was given and what the
recogniser heard, in syllables, divided by the number of syllables given; per engine and per
category, pooled over the items.

The recogniser is a stand-in for a listener, not a listener: it punishes what people also miss
(wrong tones, blurred initials) but its own errors add a floor. That floor is what the natural-speech
reference measures: recordings of the same announcements read by a person, put in a folder named
by ``BROADCASTER_BENCH_NATURAL`` (one file per item, ``<id>.wav|mp3|m4a``, e.g. ``t1.m4a``), measured
the same way. ``BROADCASTER_BENCH_ITEMS`` replaces the set with another (JSON), e.g. announcements
the project has not seen. No natural Vietnamese speech that may be redistributed ships in a package we can
install, so without that folder the reference line says "not available".

Engines measured: espeak-ng with the settings broadcaster uses (``broadcaster.tts.espeak_engine``)
and with espeak-ng's plain defaults (the baseline: what the project aired before), piper when
``BROADCASTER_BENCH_PIPER_VOICE`` names a Vietnamese voice file, gTTS when Google answers, FPT.AI
when ``BROADCASTER_BENCH_FPT_KEY_FILE`` names a key file. ``python -m benchmarks.intelligibility
--sweep`` tries every espeak-ng voice, rate, pitch and word gap in a grid (docs/benchmarks.md has
what it found).
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import BenchConfig, SectionResult
from benchmarks.announcements import CATEGORIES, ITEMS, Item
from benchmarks.stats import Figure

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
NATURAL_ENV = "BROADCASTER_BENCH_NATURAL"
PIPER_ENV = "BROADCASTER_BENCH_PIPER_VOICE"
FPT_ENV = "BROADCASTER_BENCH_FPT_KEY_FILE"
ITEMS_ENV = "BROADCASTER_BENCH_ITEMS"  # another set: a JSON list of {"id", "category", "text"}
_AUDIO_EXTS = (".wav", ".mp3", ".m4a", ".aac", ".ogg", ".flac")


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------


def syllables(text: str) -> list[str]:
    """Lower-case syllables of a Vietnamese text, punctuation dropped (NFC, so tone marks compare)."""
    text = unicodedata.normalize("NFC", text).lower()
    text = re.sub(r"[^\w\s]", " ", text)
    return text.split()


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Levenshtein distance over tokens (substitutions, insertions, deletions all cost 1)."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def spoken_hypothesis(text: str) -> str:
    """What the recogniser wrote, as spoken syllables: digits it may have written (inverse text
    normalisation) are read out by broadcaster's own rules, so "7 giờ" scores like "bảy giờ"."""
    if any(c.isdigit() for c in text):
        from broadcaster.normalize import normalize

        return normalize(text)
    return text


@dataclass
class Score:
    errors: int = 0
    total: int = 0
    items: dict[str, float] = field(default_factory=dict)
    heard: dict[str, str] = field(default_factory=dict)

    def add(self, item_id: str, ref: str, hyp: str) -> None:
        r, h = syllables(ref), syllables(spoken_hypothesis(hyp))
        e = edit_distance(r, h)
        self.errors += e
        self.total += len(r)
        self.items[item_id] = 100.0 * e / max(1, len(r))
        self.heard[item_id] = hyp

    @property
    def ser(self) -> float:
        return 100.0 * self.errors / max(1, self.total)


# --------------------------------------------------------------------------------------------
# Recogniser (bench only: `pip install 'broadcaster[bench]'`)
# --------------------------------------------------------------------------------------------


class Recogniser:
    """viet-asr's offline "transcribe" pipeline on 16 kHz mono 16-bit PCM."""

    def __init__(self) -> None:
        try:
            import vietasr  # noqa: F401
        except ImportError as exc:
            raise RuntimeError(
                "the offline recogniser is not installed: pip install 'broadcaster[bench]' (viet-asr)"
            ) from exc
        import vietasr

        os.environ.setdefault("VIETASR_LOG_LEVEL", "error")
        self._pipe = vietasr.Pipeline.preset("transcribe")

    def transcribe_file(self, path: Path) -> str:
        import numpy as np

        pcm = decode_16k(path.read_bytes(), str(path))
        return self._pipe.transcribe(np.frombuffer(pcm, dtype=np.int16), float(SAMPLE_RATE)).text.strip()


def decode_16k(data: bytes, label: str) -> bytes:
    """Any audio ffmpeg reads -> raw 16 kHz mono s16le."""
    proc = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-i", "pipe:0",
         "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "s16le", "pipe:1"],
        input=data, capture_output=True, check=False, timeout=120,
    )  # fmt: skip
    if proc.returncode != 0 or not proc.stdout:
        raise RuntimeError(f"cannot decode {label}: {proc.stderr.decode('utf-8', 'replace')[-300:]}")
    return proc.stdout


# --------------------------------------------------------------------------------------------
# Voices under test
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Voice:
    label: str
    engine: Any  # a broadcaster.tts engine


def espeak_voice(label: str, **options: Any) -> Voice:
    from broadcaster.tts.espeak_engine import EspeakEngine

    return Voice(label, EspeakEngine(**options))


def available_voices() -> tuple[list[Voice], list[str]]:
    """Engines that can speak on this machine now, and notes on those that cannot."""
    from broadcaster.errors import TTSError
    from broadcaster.tts.espeak_engine import EspeakEngine

    notes: list[str] = []
    chosen = EspeakEngine()
    voices = [
        Voice(f"espeak {chosen.resolve_voice()}", chosen),
        espeak_voice("espeak vi s150 p50 g0 (previous setting)", voice="vi", speed_wpm=150, pitch=50, word_gap=0),
        espeak_voice("espeak vi s175 p50 g0 (espeak-ng defaults)", voice="vi", speed_wpm=175, pitch=50, word_gap=0),
    ]
    piper_path = os.environ.get(PIPER_ENV)
    if piper_path:
        from broadcaster.tts.piper_engine import PiperEngine

        voices.append(Voice(f"piper {Path(piper_path).name}", PiperEngine(model=Path(piper_path))))
    else:
        notes.append(f"piper: not measured (set {PIPER_ENV} to a Vietnamese .onnx voice, see docs/deploy.md)")
    try:
        from broadcaster.tts.gtts_engine import GTTSEngine

        g = GTTSEngine(connect_timeout_s=2.0, read_timeout_s=5.0)
        g.synthesize("xin chào")
        voices.append(Voice("gtts vi", g))
    except (TTSError, ImportError) as exc:
        notes.append(f"gtts: not measured ({str(exc)[:90]})")
    key_file = os.environ.get(FPT_ENV)
    if key_file:
        from broadcaster.tts.fpt_engine import FptEngine

        voices.append(Voice("fpt banmai", FptEngine(api_key_file=Path(key_file))))
    else:
        notes.append(f"fpt.ai: not measured (set {FPT_ENV} to a file holding an FPT.AI API key)")
    return voices, notes


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


def as_aired(speech: Any, work: Path, name: str) -> Path:
    """The clip as a listener gets it: broadcaster's programme path (trim, loudness, MP3), one reading."""
    from broadcaster.audio import render_program

    return render_program(speech, work / f"{name}.mp3", repeats=1, chime=False).path


def measure_voice(voice: Voice, rec: Recogniser, items: Sequence[Item], work: Path) -> dict[str, Score]:
    from broadcaster.normalize import normalize

    scores = {c: Score() for c in ("all", *CATEGORIES, *(i.category for i in items))}
    for it in items:
        spoken = normalize(it.text)
        speech = voice.engine.synthesize(spoken)
        heard = rec.transcribe_file(as_aired(speech, work, f"{it.id}"))
        for key in ("all", it.category):
            scores[key].add(it.id, spoken, heard)
    return scores


def measure_natural(folder: Path, rec: Recogniser, items: Sequence[Item]) -> tuple[dict[str, Score], list[str]]:
    """Recordings of the same items read by a person: ``<folder>/<id>.<ext>``; missing ones skipped."""
    from broadcaster.normalize import normalize

    scores = {c: Score() for c in ("all", *CATEGORIES, *(i.category for i in items))}
    missing: list[str] = []
    for it in items:
        found = next((folder / f"{it.id}{ext}" for ext in _AUDIO_EXTS if (folder / f"{it.id}{ext}").is_file()), None)
        if found is None:
            missing.append(it.id)
            continue
        heard = rec.transcribe_file(found)
        for key in ("all", it.category):
            scores[key].add(it.id, normalize(it.text), heard)
    return scores, missing


def load_items(path: Path) -> tuple[Item, ...]:
    """Announcements the project has not seen, to rerun the figures on: ``[{"id": "x1",
    "category": "times", "text": "..."}, ...]``; categories outside the five are kept as given."""
    import json

    raw = json.loads(path.read_text(encoding="utf-8"))
    items = tuple(Item(str(r["id"]), str(r.get("category", "other")), str(r["text"])) for r in raw)
    if not items:
        raise ValueError(f"{path}: no announcement in the set")
    return items


def run(cfg: BenchConfig) -> SectionResult:
    sec = "intelligibility"
    rec = Recogniser()
    items = load_items(Path(os.environ[ITEMS_ENV])) if os.environ.get(ITEMS_ENV) else ITEMS
    categories = tuple(dict.fromkeys((*CATEGORIES, *(i.category for i in items))))
    voices, notes = available_voices()
    work = cfg.work / "intelligibility"
    work.mkdir(parents=True, exist_ok=True)

    natural: dict[str, Score] | None = None
    folder = os.environ.get(NATURAL_ENV)
    if folder and Path(folder).is_dir():
        natural, missing = measure_natural(Path(folder), rec, items)
        if missing:
            notes.append(f"natural reference: no recording for {', '.join(missing)}")
        if natural["all"].total == 0:
            natural = None
    if natural is None:
        notes.append(f"natural-speech reference: not available (set {NATURAL_ENV} to a folder of recordings <id>.m4a)")

    figures: list[Figure] = []
    details: dict[str, Any] = {"items": len(items), "item_set": os.environ.get(ITEMS_ENV) or "benchmarks/announcements.py",
                               "recogniser": recogniser_version(), "voices": {}}
    for v in voices:
        t0 = time.monotonic()
        try:
            scores = measure_voice(v, rec, items, work)
        except Exception as exc:  # noqa: BLE001 - one engine failing must not lose the others
            notes.append(f"{v.label}: failed: {exc}")
            continue
        log.info("%s: SER %.1f %% (%.0f s)", v.label, scores["all"].ser, time.monotonic() - t0)
        for cat in ("all", *categories):
            if not scores[cat].total:  # a category the item set does not have
                continue
            base = [natural[cat].ser] if natural and natural[cat].total else None
            figures.append(Figure(
                sec, f"SER {v.label}, {cat}", "%", [scores[cat].ser], base, "natural speech" if base else "",
                extra={"per_item": scores[cat].items} if cat == "all" else {},
            ))  # fmt: skip
        details["voices"][v.label] = {
            cat: round(scores[cat].ser, 1) for cat in ("all", *categories) if scores[cat].total
        } | {"heard": scores["all"].heard}
    if natural:
        for cat in ("all", *categories):
            if natural[cat].total:
                figures.append(Figure(sec, f"SER natural speech, {cat}", "%", [natural[cat].ser]))
        details["natural"] = {cat: round(natural[cat].ser, 1) for cat in ("all", *categories) if natural[cat].total}
    details["notes"] = notes
    return SectionResult(name=sec, figures=figures, details=details)


def recogniser_version() -> str:
    try:
        from importlib.metadata import version

        return f"viet-asr {version('viet-asr')}"
    except Exception:  # noqa: BLE001
        return "viet-asr (unknown version)"


# --------------------------------------------------------------------------------------------
# The espeak-ng grid (python -m benchmarks.intelligibility --sweep)
# --------------------------------------------------------------------------------------------


def sweep(
    voices: Sequence[str], rates: Sequence[int], pitches: Sequence[int], gaps: Sequence[int],
    out: Callable[[str], None] = print,
) -> list[tuple[float, dict[str, Any]]]:
    rec = Recogniser()
    results = []
    with tempfile.TemporaryDirectory(prefix="bc-sweep-") as tmp:
        for name, rate, pitch, gap in itertools.product(voices, rates, pitches, gaps):
            opts = {"voice": name, "speed_wpm": rate, "pitch": pitch, "word_gap": gap}
            scores = measure_voice(espeak_voice("sweep", **opts), rec, ITEMS, Path(tmp))
            row = {c: round(scores[c].ser, 1) for c in ("all", *CATEGORIES)}
            results.append((scores["all"].ser, opts | row))
            out(f"{scores['all'].ser:5.1f}  {opts}  " + " ".join(f"{c}={row[c]}" for c in CATEGORIES))
    results.sort(key=lambda r: r[0])
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.intelligibility")
    p.add_argument("--sweep", action="store_true", help="try a grid of espeak-ng settings")
    p.add_argument("--voices", default="vi,vi-vn-x-central,vi-vn-x-south")
    p.add_argument("--rates", default="120,140,160")
    p.add_argument("--pitches", default="40,60")
    p.add_argument("--gaps", default="0,4,8")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if not a.sweep:
        res = run(BenchConfig(work=Path(tempfile.mkdtemp(prefix="bc-intel-"))))
        from benchmarks.stats import table

        print(table(res.figures))
        for n in res.details.get("notes", []):
            print(n)
        return 0
    ints = lambda s: [int(x) for x in s.split(",")]  # noqa: E731
    best = sweep(a.voices.split(","), ints(a.rates), ints(a.pitches), ints(a.gaps))
    print("best:", best[0][1] if best else None)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

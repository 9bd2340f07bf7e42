"""Preparation: what the central does before anything airs, with the offline engine (espeak-ng).

Figures (each a median over repetitions):

* synthesis + post-processing of a typical ~45-word announcement (normalise → espeak-ng → chime,
  two readings, even loudness, MP3), as *times real time*: seconds of programme produced per
  second of work. Baseline: the bare ``espeak-ng`` command on the same words (synthesis alone).
  Each repetition uses an empty TTS cache, so it is a real synthesis.
* TTS cache hit: the same text again through the cached engine. Baseline: reading the cached
  clip's bytes (the floor any cache must pay).
* one slide: ``render_announcement`` for the same announcement, per slide. Baseline: bare Pillow
  drawing a 1920x1080 slide's worth of text and saving it as PNG with the same compression.
* the sample procedure catalog (21 procedures, ``playlists/catalog/procedures.json``) as a deck,
  rendered slide by slide as ``Producer.deck`` does; also per slide.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import time
import wave
from pathlib import Path

from benchmarks import BenchConfig, SectionResult
from benchmarks.stats import Figure, median

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "playlists" / "catalog" / "procedures.json"

# A typical bulletin as an officer types it: abbreviations, a time, a date, a phone number.
TYPICAL_TITLE = "Tiêm chủng mở rộng tháng 12"
TYPICAL_TEXT = (
    "UBND phường 1 thông báo: Trạm Y tế phường tổ chức tiêm chủng mở rộng cho trẻ em dưới 5 tuổi "
    "vào lúc 7h30 ngày 05/12/2026 tại Nhà văn hóa khu phố 2. Đề nghị các gia đình đưa trẻ đến đúng giờ "
    "và mang theo sổ tiêm chủng. Mọi thắc mắc xin liên hệ Bộ phận TN&TKQ, điện thoại 0233 3000 000."
)


def _wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate())


def _bare_pillow_slide(out: Path, text: str) -> None:
    """The baseline slide: Pillow alone, no layout engine: fill, ~12 lines of text, PNG."""
    from PIL import Image, ImageDraw, ImageFont

    import io

    from broadcaster.slides.layout import font_bytes

    img = Image.new("RGB", (1920, 1080), "white")
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(io.BytesIO(font_bytes(False)), 44)
    title = ImageFont.truetype(io.BytesIO(font_bytes(True)), 64)
    d.rectangle((0, 0, 1920, 140), fill=(160, 20, 20))
    d.text((60, 35), TYPICAL_TITLE, font=title, fill="white")
    words, lines, cur = text.split(), [], ""
    for w in words:
        cand = f"{cur} {w}".strip()
        if len(cand) > 70:
            lines.append(cur)
            cur = w
        else:
            cur = cand
    lines.append(cur)
    for n, line in enumerate(lines):
        d.text((60, 200 + n * 64), line, font=font, fill="black")
    img.save(out, "PNG", compress_level=3)


def run(cfg: BenchConfig) -> SectionResult:
    from broadcaster.catalog import load_catalog
    from broadcaster.config import Announcement, ScheduleSpec, load_ward
    from broadcaster.normalize import normalize
    from broadcaster.production import render_files
    from broadcaster.slides import render_announcement, render_procedure
    from broadcaster.tts import make_engine

    reps = cfg.reps or cfg.pick(3, 5)
    work = cfg.work / "preparation"
    work.mkdir(parents=True, exist_ok=True)
    ward = load_ward(ROOT / "devices" / "ward.toml", env={"BROADCASTER_HOME": str(work / "home")})
    ann = Announcement(
        id="bench-typical", title=TYPICAL_TITLE, text=TYPICAL_TEXT, zones=tuple(z.id for z in ward.zones),
        priority="normal", readings=2, chime=True, show_on_tv=False, schedule=ScheduleSpec(kind="now"),
    )
    words = len(TYPICAL_TEXT.split())
    spoken = normalize(TYPICAL_TEXT)
    espeak = shutil.which("espeak-ng") or "espeak-ng"

    xrt, xrt_base, speech_s, prog_s, synth_ms = [], [], [], [], []
    hit_ms, hit_base_ms, rerender_ms = [], [], []
    for r in range(reps):
        cache_dir = Path(tempfile.mkdtemp(dir=work, prefix="tts-"))
        engine = make_engine("espeak", cache_dir=cache_dir)
        out = work / f"ann-{r}"
        t0 = time.perf_counter()
        files = render_files(ann, ward, engine, out)
        dt = time.perf_counter() - t0
        prog_s.append(files.duration_ms / 1000)
        xrt.append(files.duration_ms / 1000 / dt)
        synth_ms.append(dt * 1000)
        # the same text again: the cached clip
        hits = []
        for _ in range(5):
            t0 = time.perf_counter()
            sp = engine.synthesize(spoken)
            hits.append((time.perf_counter() - t0) * 1000)
        assert getattr(sp, "cached", False), "second synthesis of the same text was not a cache hit"
        hit_ms.append(median(hits))
        clip = sp.path
        floors = []
        for _ in range(5):
            t0 = time.perf_counter()
            clip.read_bytes()
            floors.append((time.perf_counter() - t0) * 1000)
        hit_base_ms.append(median(floors))
        t0 = time.perf_counter()
        render_files(ann, ward, engine, work / f"ann-{r}-again")
        rerender_ms.append((time.perf_counter() - t0) * 1000)
        # baseline: bare espeak-ng on the same spoken words
        wav = work / f"bare-{r}.wav"
        t0 = time.perf_counter()
        subprocess.run([espeak, "-v", "vi", "-s", "150", "-b", "1", "-w", str(wav)], input=spoken.encode(), check=True,
                       capture_output=True)
        dt = time.perf_counter() - t0
        s = _wav_seconds(wav)
        speech_s.append(s)
        xrt_base.append(s / dt)
        shutil.rmtree(cache_dir, ignore_errors=True)
        log.info("preparation rep %d: %.0f x real time (%.1f s programme in %.0f ms), cache hit %.2f ms",
                 r + 1, xrt[-1], prog_s[-1], synth_ms[-1], hit_ms[-1])

    # slides: the announcement slide, and the bare-Pillow baseline
    slide_ms, slide_base_ms, n_ann_slides = [], [], 0
    for r in range(reps):
        d = work / f"slide-{r}"
        t0 = time.perf_counter()
        paths = render_announcement(TYPICAL_TITLE, TYPICAL_TEXT, ward_name=ward.name, hotline=ward.hotline,
                                    out_dir=d, stem="a")
        slide_ms.append((time.perf_counter() - t0) * 1000 / len(paths))
        n_ann_slides = len(paths)
        t0 = time.perf_counter()
        _bare_pillow_slide(d / "bare.png", TYPICAL_TEXT)
        slide_base_ms.append((time.perf_counter() - t0) * 1000)

    # the whole sample catalog as a deck
    deck_s, deck_per_slide, deck_base_s, n_slides = [], [], [], 0
    procs = load_catalog(CATALOG)
    for r in range(reps):
        d = work / f"deck-{r}"
        t0 = time.perf_counter()
        paths: list[Path] = []
        for k, proc in enumerate(procs):
            paths += render_procedure(proc, ward_name=ward.name, hotline=ward.hotline, out_dir=d, stem=f"{k:02d}-{proc.code}")
        dt = time.perf_counter() - t0
        n_slides = len(paths)
        deck_s.append(dt)
        deck_per_slide.append(dt * 1000 / n_slides)
        t0 = time.perf_counter()
        for k in range(n_slides):
            _bare_pillow_slide(d / f"bare-{k}.png", TYPICAL_TEXT)
        deck_base_s.append(time.perf_counter() - t0)
        shutil.rmtree(d, ignore_errors=True)
        log.info("deck rep %d: %d procedures, %d slides in %.2f s", r + 1, len(procs), n_slides, dt)

    sec = "preparation"
    figures = [
        Figure(sec, f"synthesis+post, {words} words (espeak)", "xRT", xrt, xrt_base, "bare espeak-ng",
               target=50, target_op=">",
               note=f"programme {median(prog_s):.1f} s (chime + 2 readings) in {median(synth_ms):.0f} ms",
               extra={"programme_s": prog_s, "elapsed_ms": synth_ms, "speech_s": speech_s}),
        Figure(sec, "TTS cache hit (same text)", "ms", hit_ms, hit_base_ms, "read clip", target=20),
        Figure(sec, "re-render, TTS cached (info)", "ms", rerender_ms,
               note="whole programme again: the ffmpeg loudness/MP3 pass dominates"),
        Figure(sec, "slide (announcement)", "ms", slide_ms, slide_base_ms, "bare Pillow", target=150),
        Figure(sec, f"deck: {len(procs)} procedures, {n_slides} slides", "s", deck_s, deck_base_s,
               "bare Pillow x slides", target=5),
        Figure(sec, "deck, per slide", "ms", deck_per_slide),
    ]
    details = {
        "engine": "espeak-ng vi, 150 wpm",
        "words": words,
        "announcement_slides": n_ann_slides,
        "procedures": len(procs),
        "deck_slides": n_slides,
        "reps": reps,
    }
    return SectionResult(name=sec, figures=figures, details=details)

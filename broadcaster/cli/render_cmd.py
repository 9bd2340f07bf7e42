"""``broadcaster render``: hear and see an announcement before it is queued.

Writes the MP3 (chime + readings) and the TV slide(s) to ``--out`` and prints what it wrote.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from broadcaster.announce import spec
from broadcaster.config import load_announcements, load_ward
from broadcaster.errors import ConfigError
from broadcaster.tts import ENGINE_NAMES


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "render",
        help="write an announcement's MP3 and slide(s) to a folder (preview)",
        description="Render an announcement to an MP3 for the loudspeakers and PNG slide(s) for the TV.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help="the announcement text, as the officer types it")
    src.add_argument("--file", type=Path, help="a programme file (playlists/announcements/*.toml)")
    p.add_argument("--audio", type=Path, metavar="FILE",
                   help="a recording (MP3, WAV, M4A/AAC) read instead of synthesised speech; --text is still the slide text")
    p.add_argument("--id", dest="ann_id", help="with --file: only this announcement")
    p.add_argument("--title", help="slide title (default: Thông báo)")
    p.add_argument("--priority", choices=("normal", "priority", "emergency"), default="normal")
    p.add_argument("--readings", type=int, default=2, help="how many times the text is read (1-5)")
    p.add_argument("--no-chime", action="store_true", help="no attention chime before the readings")
    p.add_argument("--engine", choices=ENGINE_NAMES, default="auto",
                   help="speech engine (auto: the ward file's [speech] engines in order, default Google, else espeak-ng offline)")
    p.add_argument("--out", type=Path, required=True, help="folder to write into")
    p.add_argument("--ward", type=Path, help="ward file (default: $BROADCASTER_WARD or devices/ward.toml)")
    p.set_defaults(func=run)


def voice_label(engine: str, voice: str) -> str:
    """"espeak (vi s110 p50 a100 g3)", "ghi âm (bantin.m4a#…)": what an officer reads in lists."""
    from broadcaster.tts import messages_vi as vi

    name = vi.RECORDED_VOICE if engine == "recording" else engine
    return f"{name} ({voice})" if voice else name


def run(args: argparse.Namespace) -> int:
    from broadcaster.production import preferred_engine, render_files
    from broadcaster.tts import make_engine
    from broadcaster.tts import messages_vi as vi

    ward = load_ward(args.ward)
    if args.text is not None:
        # the checks of `queue`, a programme file and the console (announce.spec)
        raw = spec.Raw(id="announcement", title=args.title, text=args.text, priority=args.priority,
                       readings=args.readings, chime=not args.no_chime, audio=args.audio)
        anns = [spec.parse(raw, ward, spec.CLI_DOOR)]
    else:
        anns = load_announcements(args.file, ward)
        if args.ann_id:
            anns = [a for a in anns if a.id == args.ann_id]
            if not anns:
                raise ConfigError(str(args.file), "announcement.id", f"no announcement {args.ann_id!r}", "an id from the file")
        if args.audio is not None:
            if len(anns) != 1:
                raise ConfigError("--audio", "audio", f"one recording for {len(anns)} announcements",
                                  "--id to choose the announcement the recording reads")
            anns = [replace(anns[0], audio_file=args.audio)]
    engine = make_engine(args.engine, cache_dir=ward.service.home / "cache" / "tts", speech=ward.speech)
    preferred = preferred_engine(ward, args.engine)
    for ann in anns:
        files = render_files(ann, ward, engine, args.out, preferred=preferred)
        print(f"{ann.id}: {ann.title}")
        print(f"  spoken:  {files.spoken_text}")
        lufs = f", {files.loudness_lufs:.1f} LUFS" if files.loudness_lufs is not None else ""
        print(f"  audio:   {files.audio}  ({files.duration_ms / 1000:.1f} s, engine {files.engine}{lufs})")
        print(f"  voice:   {voice_label(files.engine, files.voice)}")
        if files.fallback:
            print(f"  {vi.FALLBACK_WARNING.format(engine=files.engine, preferred=files.preferred)}")
        for s in files.slides:
            print(f"  slide:   {s}  (1920x1080)")
    sys.stdout.flush()
    return 0

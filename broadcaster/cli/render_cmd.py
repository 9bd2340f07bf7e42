"""``broadcaster render``: hear and see an announcement before it is queued.

Writes the MP3 (chime + readings) and the TV slide(s) to ``--out`` and prints what it wrote.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from broadcaster.config import (
    Announcement,
    ScheduleSpec,
    load_announcements,
    load_ward,
)
from broadcaster.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "render",
        help="write an announcement's MP3 and slide(s) to a folder (preview)",
        description="Render an announcement to an MP3 for the loudspeakers and PNG slide(s) for the TV.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help="the announcement text, as the officer types it")
    src.add_argument("--file", type=Path, help="a programme file (playlists/announcements/*.toml)")
    p.add_argument("--id", dest="ann_id", help="with --file: only this announcement")
    p.add_argument("--title", help="slide title (default: Thông báo)")
    p.add_argument("--priority", choices=("normal", "priority", "emergency"), default="normal")
    p.add_argument("--readings", type=int, default=2, help="how many times the text is read (1-5)")
    p.add_argument("--no-chime", action="store_true", help="no attention chime before the readings")
    p.add_argument("--engine", choices=("auto", "gtts", "espeak"), default="auto", help="speech engine (auto: Google, else espeak-ng offline)")
    p.add_argument("--out", type=Path, required=True, help="folder to write into")
    p.add_argument("--ward", type=Path, help="ward file (default: $BROADCASTER_WARD or devices/ward.toml)")
    p.set_defaults(func=run)


DEFAULT_TITLES = {"normal": "Thông báo", "priority": "Thông báo quan trọng", "emergency": "Thông báo khẩn cấp"}


def run(args: argparse.Namespace) -> int:
    from broadcaster.production import render_files
    from broadcaster.tts import make_engine

    ward = load_ward(args.ward)
    if args.text is not None:
        if not args.text.strip():
            raise ConfigError("--text", "text", "is empty", "the words of the announcement")
        if not 1 <= args.readings <= 5:
            raise ConfigError("--readings", "readings", f"is {args.readings}", "1 to 5")
        anns = [
            Announcement(
                id="announcement",
                title=args.title or DEFAULT_TITLES[args.priority],
                text=args.text,
                zones=tuple(z.id for z in ward.zones),
                priority=args.priority,
                readings=args.readings,
                chime=not args.no_chime,
                show_on_tv=True,
                schedule=ScheduleSpec("now"),
                source="--text",
            )
        ]
    else:
        anns = load_announcements(args.file, ward)
        if args.ann_id:
            anns = [a for a in anns if a.id == args.ann_id]
            if not anns:
                raise ConfigError(str(args.file), "announcement.id", f"no announcement {args.ann_id!r}", "an id from the file")
    engine = make_engine(args.engine, cache_dir=ward.service.home / "cache" / "tts")
    for ann in anns:
        files = render_files(ann, ward, engine, args.out)
        print(f"{ann.id}: {ann.title}")
        print(f"  spoken:  {files.spoken_text}")
        lufs = f", {files.loudness_lufs:.1f} LUFS" if files.loudness_lufs is not None else ""
        print(f"  audio:   {files.audio}  ({files.duration_ms / 1000:.1f} s, engine {files.engine}{lufs})")
        for s in files.slides:
            print(f"  slide:   {s}  (1920x1080)")
    sys.stdout.flush()
    return 0

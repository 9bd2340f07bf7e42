"""``broadcaster queue``: put an announcement on the air schedule (xếp lịch phát).

The speech and slides are produced now, so a problem shows up here and not at airtime; the
schedule is checked against the zones' broadcast windows; nothing is stored unless everything is
right. A running ``broadcaster serve`` notices the new item within a second and sends it to the
nodes.

Examples::

    broadcaster queue --title "Lịch cắt điện" --text "Điện lực thông báo ..." --zones kp4 --at "05/12/2026 17:10"
    broadcaster queue --text "..." --zones all --daily 17:00,05:30 --from 01/12/2026 --until 07/12/2026
    broadcaster queue --text "..." --zones kp1,kp2 --weekly t2,t5 --times 05:30 --from 01/12/2026 --until 31/12/2026
    broadcaster queue --text "Khẩn cấp: ..." --zones all --now --priority emergency --readings 3
    broadcaster queue --file playlists/announcements/example.toml
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from broadcaster.announce import spec
from broadcaster.config import Announcement, Ward, load_announcements, load_ward
from broadcaster.errors import ConfigError
from broadcaster.tts import ENGINE_NAMES


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "queue",
        help="queue an announcement for the loudspeakers (and TV)",
        description="Xếp lịch phát một thông báo / queue an announcement. Times are local (Asia/Ho_Chi_Minh).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("Examples::", 1)[1] if __doc__ else None,
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help="the announcement text, as typed")
    src.add_argument("--file", type=Path, help="a programme file (playlists/announcements/*.toml): queue its announcements")
    p.add_argument("--id", dest="ann_id", help="id of the announcement (default: made from the title); with --file: only this one")
    p.add_argument("--title", help="title shown on the TV and in lists (default by priority)")
    p.add_argument("--zones", default="all",
                   help='"all" / "toàn phường", khu phố ids like KP1,kp2, or "all except kp2" / "trừ kp2" (default all)')
    when = p.add_mutually_exclusive_group()
    when.add_argument("--at", help='once, at a local date and time: "01/12/2026 17:05"')
    when.add_argument("--daily", metavar="TIMES", help="every day at these times, e.g. 17:00 or 17:00,05:30 (with --from, --until)")
    when.add_argument("--weekly", metavar="DAYS", help='on these weekdays, e.g. "thứ 2, thứ 5", t2,t5 or mon,thu (with --times, --from, --until)')
    when.add_argument("--now", action="store_true", help="as soon as possible (emergency: at once; otherwise: the current or next window)")
    p.add_argument("--times", help="with --weekly: times of day, e.g. 05:30,17:00")
    p.add_argument("--from", dest="date_from", help="first day, DD/MM/YYYY")
    p.add_argument("--until", dest="date_until", help="last day, DD/MM/YYYY")
    p.add_argument("--priority", default="normal",
                   help='thường / "ưu tiên" (first in the window) / "khẩn cấp" (at once, interrupting); or normal, priority, emergency')
    p.add_argument("--readings", type=int, default=2, help="how many times the text is read (1-5, default 2)")
    p.add_argument("--no-chime", action="store_true", help="no attention chime before the readings")
    p.add_argument("--no-tv", action="store_true", help="do not show it on the reception TV")
    p.add_argument("--audio", type=Path, metavar="FILE",
                   help="a recording (MP3, WAV, M4A/AAC) aired instead of synthesised speech; --text stays the TV text")
    p.add_argument("--engine", choices=ENGINE_NAMES, default="auto",
                   help="speech engine (auto: the ward file's [speech] engines in order, default Google, else espeak-ng)")
    p.add_argument("--ward", type=Path, help="ward file (default: $BROADCASTER_WARD or devices/ward.toml)")
    p.set_defaults(func=run)


def raw_from_args(args: argparse.Namespace) -> spec.Raw:
    """The flags as typed, for ``announce.spec.parse`` (the checks of a programme file and the console)."""
    when = spec.RawSchedule()
    if args.at:
        when = spec.RawSchedule("once", at=args.at)
    elif args.daily:
        when = spec.RawSchedule("daily", times=args.daily, start=args.date_from, end=args.date_until)
    elif args.weekly:
        when = spec.RawSchedule("weekly", times=args.times, start=args.date_from, end=args.date_until, weekdays=args.weekly)
    elif args.now:
        when = spec.RawSchedule("now")
    else:
        raise ConfigError("command line", "--at/--daily/--weekly/--now", "no time given (chưa có giờ phát)",
                          "one of --at, --daily, --weekly or --now")
    return spec.Raw(id=args.ann_id, title=args.title, text=args.text, zones=args.zones, priority=args.priority,
                    readings=args.readings, chime=not args.no_chime, show_on_tv=not args.no_tv, audio=args.audio,
                    schedule=when)


def announcements_from_args(args: argparse.Namespace, ward: Ward, now: datetime) -> list[Announcement]:
    if args.file is not None:
        anns = load_announcements(args.file, ward)
        if args.ann_id:
            anns = [a for a in anns if a.id == args.ann_id]
            if not anns:
                raise ConfigError(str(args.file), "announcement.id", f"no announcement {args.ann_id!r} in this file")
        if args.audio is not None:
            if len(anns) != 1:
                raise ConfigError("command line", "--audio", f"one recording for {len(anns)} announcements",
                                  "--id to choose the announcement the recording reads")
            anns = [replace(anns[0], audio_file=args.audio)]
        return anns
    door = spec.CLI_WEEKLY_DOOR if args.weekly else spec.CLI_DOOR
    from broadcaster.central.usecases import new_id

    return [spec.parse(raw_from_args(args), ward, door, make_id=lambda title: new_id(ward, title, now))]


def run(args: argparse.Namespace) -> int:
    from broadcaster.central.planner import occurrences
    from broadcaster.central.service import media_store
    from broadcaster.central.store import Store
    from broadcaster.central.textfmt import PRIORITY_VI, duration, local
    from broadcaster.central.usecases import Actor, UseCases
    from broadcaster.cli.render_cmd import voice_label
    from broadcaster.production import Producer
    from broadcaster.wire.times import utc_now
    from broadcaster.tts import messages_vi as vi

    ward = load_ward(args.ward)
    now = utc_now()
    anns = announcements_from_args(args, ward, now)
    producer = Producer(ward, media_store(ward), engine=args.engine)
    with Store.for_ward(ward) as store:
        # the same use case as the console's "queue at once": permission, checks, audit log
        results = UseCases(ward, store, producer, clock=lambda: now).queue(Actor.cli(), anns)
        store_voices = store.voices()
    tz = ward.tz
    for r in results:
        a = r.stored
        print(f"Đã xếp lịch / queued: «{a.title}»  [id {a.id}]")
        print(f"  mức ưu tiên / priority: {PRIORITY_VI[a.priority]} ({a.priority});  khu phố / zones: {', '.join(a.zones)}")
        print(f"  lịch / schedule: {a.schedule.describe()};  {a.readings} lần đọc, dài {duration(a.duration_ms)}")
        v = store_voices.get(a.id)
        print(f"  giọng / voice: {voice_label(a.engine, v.voice if v else '')}")
        if v is not None and v.fallback:
            print(f"  {vi.FALLBACK_WARNING.format(engine=a.engine, preferred=v.preferred)}")
        for note in r.notes:
            print(f"  lưu ý / note: {note}")
        # zones that play at the same time on one line: "kp1, kp2, kp3 17:00 01/12/2026"
        for label, its in (("phát khẩn cấp / emergency at", r.emergencies), ("lần phát kế tiếp / next", r.items)):
            first: dict[str, str] = {}
            for it in sorted(its, key=lambda i: i.start):
                first.setdefault(it.zone, local(it.start, tz))
            by_time: dict[str, list[str]] = {}
            for zone, when in first.items():
                by_time.setdefault(when, []).append(zone)
            for when, zones in by_time.items():
                print(f"  {label}: {', '.join(zones)} {when}")
        if not r.items and not r.emergencies:
            occ = occurrences(a.schedule, tz, a.queued_at, now, now + timedelta(days=3660))
            when = local(occ[0], tz) if occ else "—"
            print(f"  lần phát đầu tiên / first occurrence: {when} (sent to the nodes {ward.service.horizon.total_seconds() / 3600:.0f} h ahead)")
        for o in r.overflows:
            where = f"chuyển sang / moved to {local(o.moved_to, tz)}" if o.moved_to else "không còn khung giờ / given up"
            print(f"  ⚠ quá khung giờ / overflow: {o.zone} window {local(o.window_start, tz)} is full; {where}")
    if service_running(ward):
        print("Dịch vụ đang chạy sẽ gửi lịch tới các loa trong giây lát. / A running `broadcaster serve` sends it to the nodes within seconds.")
    else:
        print("⚠ Dịch vụ trung tâm KHÔNG chạy trên máy này: lịch đã lưu nhưng chưa gửi tới loa. Chạy `sudo systemctl start "
              "broadcaster-central` (hoặc `broadcaster serve`). / No central service runs for this data folder: stored, "
              "not sent to the nodes until it starts.")
    return 0


def service_running(ward: Ward) -> bool:
    """Whether a `broadcaster serve` holds this data folder (its lock file is locked)."""
    import fcntl

    path = ward.service.home / "serve.lock"
    try:
        with open(path, "a+") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            fcntl.flock(f, fcntl.LOCK_UN)
            return False
    except OSError:
        return False

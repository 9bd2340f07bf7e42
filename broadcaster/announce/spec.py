"""One validation path for an announcement and its schedule, whichever door it comes in by.

The doors: a programme file (``config.load_announcements``), the command line (``broadcaster
queue``, ``cli/queue_cmd.py``) and the console's compose form (``web/forms.py``). Each door only
turns its own syntax into a ``Raw`` (the values as typed, untyped) and names its fields with a
``Door`` (a TOML key, a flag, a form field); ``parse`` checks every field the same way and returns
the validated ``config.Announcement``, or raises ``AnnouncementInputError`` listing *every* problem,
each as a ``Problem``: the field, where the officer typed it, and what to do (Vietnamese, from
``announce/messages_vi.py``).

What needs the clock, the ward's windows and the length on air (a time already past, outside every
window, longer than the window it airs in) is ``central.planner.schedule_problems``: the same
``Problem`` and the same messages, run by ``queue`` and the console alike before anything is stored.
``content_problems`` re-checks a built ``Announcement`` (a draft approved later, a «phát lại» copy)
with the very functions ``parse`` uses.

This module sits beside ``config`` (not in ``central``) because a programme file is read without a
store, and a node never needs it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from broadcaster.announce import messages_vi as M
from broadcaster.config import (
    ID_RE,
    PICTOGRAPH,
    SCHEDULE_KINDS,
    Announcement,
    ScheduleSpec,
    Ward,
    parse_clock,
    parse_date,
    parse_local_datetime,
    speakable,
)
from broadcaster.errors import ConfigError
from broadcaster.wire.vocabulary import PRIORITIES

TEXT_MAX = 5000  # characters: about ten minutes read out, longer than any window
TITLE_MAX = 200
DEFAULT_TITLES = {"normal": "Thông báo", "priority": "Thông báo quan trọng", "emergency": "Thông báo khẩn cấp"}
_INVISIBLE = "\uFE0F\u200D"  # variation selector, zero-width joiner: part of an emoji, not seen alone

# The fields every door speaks of, by one name each.
FIELDS = ("id", "title", "text", "zones", "priority", "readings", "chime", "show_on_tv", "audio", "schedule",
          "schedule.kind", "schedule.at", "schedule.times", "schedule.from", "schedule.until", "schedule.weekdays")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with what the officer typed."""

    field: str  # one of FIELDS
    where: str  # as the door names it: "announcement[0].schedule.times[1]", "--times", "schedule"
    message: str  # Vietnamese: what is wrong and what to do
    gloss: str = ""  # a short English gloss for the command line and logs
    line: int | None = None  # in a file: the line of the key (or of its [[announcement]])

    def said(self) -> str:
        """The message, with its English gloss if any (command line, logs)."""
        return f"{self.message} ({self.gloss})" if self.gloss else self.message

    def __str__(self) -> str:
        at = f" (dòng {self.line})" if self.line else ""
        return f"{self.where}{at}: {self.said()}"


class AnnouncementInputError(ConfigError):
    """What an officer typed cannot be used; ``problems`` names every field at fault. Nothing was stored."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        assert problems
        first = problems[0]
        super().__init__(source, first.where, first.message)
        self.problems = list(problems)
        if len(self.problems) == 1:
            self.args = (f"{source}: {first}",)
        else:  # one line each, so an officer can tick them off
            self.args = (f"{source}: {len(self.problems)} lỗi, chưa lưu gì / {len(self.problems)} problems, nothing stored:\n"
                         + "\n".join(f"  - {p}" for p in self.problems),)

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Door:
    """How one way in names the fields: ``names`` maps a field of FIELDS to its key, flag or form field."""

    source: str  # a file path, "command line", "console"
    names: Mapping[str, str] = field(default_factory=dict)
    prefix: str = ""  # in a file: "announcement[2]."
    indexed: bool = False  # a file names the n-th time "times[1]"; a flag or a form field has no index
    default_title: bool = False  # the command line gives an untitled announcement its priority's title
    lines: Mapping[str, int] = field(default_factory=dict)  # in a file: top-level key -> line ("" = its header)

    def where(self, name: str, index: int | None = None) -> str:
        w = self.prefix + self.names.get(name, name)
        return f"{w}[{index}]" if self.indexed and index is not None else w

    def line_of(self, name: str) -> int | None:
        return self.lines.get(name.split(".", 1)[0]) or self.lines.get("")

    def problem(self, name: str, message: str, index: int | None = None, gloss: str = "") -> Problem:
        return Problem(name, self.where(name, index), message, gloss, self.line_of(name))


def file_door(path: str | Path, prefix: str = "", lines: Mapping[str, int] | None = None) -> Door:
    return Door(str(path), {}, prefix, indexed=True, lines=dict(lines or {}))


_HEADER = re.compile(r"\s*\[\[\s*announcement\s*\]\]")
_SUBTABLE = re.compile(r"\s*\[\s*announcement\.(\w+)\s*\]")
_KEY = re.compile(r"\s*([A-Za-z_][\w-]*)\s*=")


def announcement_lines(text: str) -> list[dict[str, int]]:
    """For each ``[[announcement]]`` of a programme file, in order: its top-level keys' line numbers
    (1-based) and ``""`` for its header, so an error can say «dòng 14» (tomllib keeps no positions)."""
    out: list[dict[str, int]] = []
    sub = False
    for n, line in enumerate(text.splitlines(), 1):
        if _HEADER.match(line):
            out.append({"": n})
            sub = False
        elif out and (m := _SUBTABLE.match(line)):
            out[-1].setdefault(m.group(1), n)
            sub = True
        elif out and not sub and (m := _KEY.match(line)):
            out[-1].setdefault(m.group(1), n)
        elif line.lstrip().startswith("["):
            sub = True  # another table: its keys are not the announcement's
    return out


CLI_NAMES = {
    "id": "--id", "title": "--title", "text": "--text", "zones": "--zones", "priority": "--priority",
    "readings": "--readings", "chime": "--no-chime", "show_on_tv": "--no-tv", "audio": "--audio",
    "schedule.kind": "--at/--daily/--weekly/--now", "schedule.at": "--at", "schedule.times": "--daily",
    "schedule.from": "--from", "schedule.until": "--until", "schedule.weekdays": "--weekly",
}
CLI_DOOR = Door("command line", CLI_NAMES, default_title=True)
CLI_WEEKLY_DOOR = Door("command line", {**CLI_NAMES, "schedule.times": "--times"}, default_title=True)
# the compose form shows every schedule problem under its one «Lịch phát» box
CONSOLE_NAMES = {"id": "title", "schedule.kind": "schedule", "schedule.at": "schedule", "schedule.times": "schedule",
                 "schedule.from": "schedule", "schedule.until": "schedule", "schedule.weekdays": "schedule",
                 "chime": "chime", "show_on_tv": "show_on_tv"}
CONSOLE_DOOR = Door("console", CONSOLE_NAMES)


@dataclass
class RawSchedule:
    """A schedule as typed: strings, lists, or already typed values (TOML dates and times)."""

    kind: Any = None  # None = now
    at: Any = None
    times: Any = None  # "17:00, 05:30" or ["17:00", "05:30"]
    start: Any = None  # from
    end: Any = None  # until
    weekdays: Any = None  # "t2, t5", ["mon", "thu"], [0, 3]


@dataclass
class Raw:
    """An announcement as typed, before any check."""

    id: Any = None
    title: Any = None
    text: Any = None
    zones: Any = "all"  # "all", "toàn phường", "all except kp2", "kp1,kp2", or a list of ids
    priority: Any = "normal"
    readings: Any = 2
    chime: Any = True
    show_on_tv: Any = True
    audio: Path | None = None  # resolved by the door (relative to the programme file)
    schedule: RawSchedule = field(default_factory=RawSchedule)


class _Collect:
    def __init__(self, door: Door) -> None:
        self.door = door
        self.problems: list[Problem] = []

    def add(self, name: str, message: str, index: int | None = None, gloss: str = "") -> None:
        self.problems.append(self.door.problem(name, message, index, gloss))


def kind_of(v: Any) -> str:
    if isinstance(v, str):
        return f"«{v}»"
    return {bool: "true/false", int: "một số", float: "một số", list: "một danh sách", dict: "một bảng"}.get(type(v), repr(v))


# -- content checks: shared by ``parse`` and ``content_problems`` ------------------------------------


def pictograph_message(value: str, where: str) -> str | None:
    """None if ``value`` has no emoji, else the message naming ``where`` (``tiêu đề``, ``nội dung``)."""
    if not PICTOGRAPH.search(value):
        return None
    found = list(dict.fromkeys(c for c in PICTOGRAPH.findall(value) if c not in _INVISIBLE))  # as typed
    return M.PICTOGRAPHS.format(where=where, shown=" ".join(found[:5]) or M.PICTOGRAPHS_HIDDEN)


def _id_problems(c: _Collect, v: str) -> None:
    if not ID_RE.match(v):
        c.add("id", M.ID_BAD.format(v=v), gloss=M.ID_BAD_EN.format(v=v))


def _title_problems(c: _Collect, v: str) -> None:
    if not v:
        c.add("title", M.TITLE_MISSING)
    elif len(v) > TITLE_MAX:
        c.add("title", M.TITLE_LONG.format(n=len(v), max=TITLE_MAX))
    elif (why := pictograph_message(v, M.WHERE_TITLE)) is not None:
        c.add("title", why)


def _text_problems(c: _Collect, v: str) -> None:
    if not v:
        c.add("text", M.TEXT_MISSING)
    elif len(v) > TEXT_MAX:
        c.add("text", M.TEXT_LONG.format(n=len(v), max=TEXT_MAX))
    elif (why := pictograph_message(v, M.WHERE_TEXT)) is not None:
        c.add("text", why)
    elif not speakable(v):
        c.add("text", M.NOTHING_TO_READ, gloss=M.NOTHING_TO_READ_EN)


def content_problems(ann: Announcement, ward: Ward, door: Door = CLI_DOOR) -> list[Problem]:
    """The checks of ``parse`` on an announcement already built (a stored draft, a copy)."""
    c = _Collect(door)
    _id_problems(c, ann.id)
    _title_problems(c, ann.title)
    _text_problems(c, ann.text)
    if not ann.zones:
        c.add("zones", M.ZONES_NONE)
    known = [z.id for z in ward.zones]
    for n, z in enumerate(ann.zones):
        if z not in known:
            c.add("zones", M.ZONE_UNKNOWN.format(v=z, known=", ".join(known)), n, M.ZONE_UNKNOWN_EN.format(v=z))
    if ann.priority not in PRIORITIES:
        c.add("priority", M.PRIORITY_BAD.format(v=ann.priority))
    if not 1 <= ann.readings <= 5:
        c.add("readings", M.READINGS_BAD.format(v=ann.readings))
    return c.problems


# -- parsing ---------------------------------------------------------------------------------


def _text(c: _Collect, name: str, v: Any) -> str | None:
    if v is None:
        return ""
    if not isinstance(v, str):
        c.add(name, M.NOT_TEXT.format(got=kind_of(v)))
        return None
    return v.strip()


def _zones(c: _Collect, v: Any, ward: Ward, allowed: Sequence[str] | None) -> tuple[str, ...]:
    from broadcaster.central.words import zone_words

    ids = [z.id for z in ward.zones if allowed is None or z.id in allowed]
    known = ", ".join(ids)
    if isinstance(v, str):
        try:
            return zone_words(v, ids)
        except ConfigError as exc:
            # zone_words names the unknown khu phố as 'kp9' in its problem; otherwise none was left
            bad = re.search(r"'([^']*)'", exc.problem)
            if bad:
                c.add("zones", M.ZONE_UNKNOWN.format(v=bad.group(1), known=known), gloss=M.ZONE_UNKNOWN_EN.format(v=bad.group(1)))
            else:
                c.add("zones", M.ZONES_NONE)
            return ()
    if isinstance(v, (list, tuple)) and all(isinstance(z, str) for z in v):
        for n, z in enumerate(v):
            if z not in ids:
                c.add("zones", M.ZONE_UNKNOWN.format(v=z, known=known), n, M.ZONE_UNKNOWN_EN.format(v=z))
        if not v:
            c.add("zones", M.ZONES_NONE)
        return tuple(dict.fromkeys(v))
    c.add("zones", M.ZONES_BAD.format(got=kind_of(v)))
    return ()


def _priority(c: _Collect, v: Any) -> str:
    from broadcaster.central.words import PRIORITY_WORDS, _fold

    p = PRIORITY_WORDS.get(_fold(v)) if isinstance(v, str) else None
    if p is None:
        c.add("priority", M.PRIORITY_BAD.format(v=v))
        return "normal"
    return p


def _readings(c: _Collect, v: Any) -> int:
    n: int | None = None
    if isinstance(v, int) and not isinstance(v, bool):
        n = v
    elif isinstance(v, str) and re.fullmatch(r"\s*\d{1,2}\s*", v):
        n = int(v)
    if n is None or not 1 <= n <= 5:
        c.add("readings", M.READINGS_BAD.format(v=n if n is not None else kind_of(v)))
        return 2
    return n


def _bool(c: _Collect, name: str, v: Any) -> bool:
    if not isinstance(v, bool):
        c.add(name, M.BOOL_BAD.format(v=kind_of(v)))
        return True
    return v


def _day(c: _Collect, name: str, v: Any, missing: str) -> date | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        c.add(name, missing)
        return None
    if isinstance(v, date) and not isinstance(v, datetime):
        return v
    d = parse_date(v) if isinstance(v, str) else None
    if d is None:
        c.add(name, M.DATE_BAD.format(v=v))
    return d


def _times(c: _Collect, v: Any) -> tuple[time, ...]:
    items: list[Any]
    if isinstance(v, str):
        items = [x for x in re.split(r"[,;\s]+", v) if x]
    elif isinstance(v, (list, tuple)):
        items = list(v)
    else:
        items = []
    if not items:
        c.add("schedule.times", M.TIMES_MISSING)
        return ()
    out = set()
    for n, x in enumerate(items):
        t = parse_clock(x)
        if t is None:
            c.add("schedule.times", M.TIME_BAD.format(v=x), n)
        else:
            out.add(t)
    return tuple(sorted(out))


def _weekdays(c: _Collect, v: Any) -> tuple[int, ...]:
    from broadcaster.central.words import weekday_words

    if v is None or (isinstance(v, str) and not v.strip()) or v == [] or v == ():
        c.add("schedule.weekdays", M.WEEKDAYS_MISSING)
        return ()
    items: Iterable[Any] = [v] if isinstance(v, str) else v if isinstance(v, (list, tuple)) else [v]
    out: set[int] = set()
    for n, x in enumerate(items):
        if isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= 6:
            out.add(x)
            continue
        try:
            out.update(weekday_words(str(x)))
        except ConfigError:
            c.add("schedule.weekdays", M.WEEKDAY_BAD.format(v=x), n if not isinstance(v, str) else None)
    return tuple(sorted(out))


def _schedule(c: _Collect, s: RawSchedule, ward: Ward) -> ScheduleSpec:
    kind = s.kind if s.kind is not None else "now"
    if not isinstance(kind, str) or kind not in SCHEDULE_KINDS:
        c.add("schedule.kind", M.KIND_BAD.format(v=kind))
        return ScheduleSpec("now")
    if kind == "now":
        return ScheduleSpec("now")
    if kind == "once":
        at: datetime | None
        if s.at is None or (isinstance(s.at, str) and not s.at.strip()):
            c.add("schedule.at", M.AT_MISSING)
            return ScheduleSpec("now")
        if isinstance(s.at, datetime):
            at = s.at if s.at.tzinfo else s.at.replace(tzinfo=ward.tz)
        else:
            at = parse_local_datetime(s.at, ward.tz) if isinstance(s.at, str) else None
        if at is None:
            c.add("schedule.at", M.AT_BAD.format(v=s.at))
            return ScheduleSpec("now")
        return ScheduleSpec("once", at=at)
    times = _times(c, s.times)
    start = _day(c, "schedule.from", s.start, M.FROM_MISSING)
    end = _day(c, "schedule.until", s.end, M.UNTIL_MISSING)
    if start and end and end < start:
        c.add("schedule.until", M.UNTIL_BEFORE_FROM.format(end=f"{end:%d/%m/%Y}", start=f"{start:%d/%m/%Y}"))
    weekdays = _weekdays(c, s.weekdays) if kind == "weekly" else ()
    return ScheduleSpec(kind, times=times, start_date=start, end_date=end, weekdays=weekdays)


def parse(raw: Raw, ward: Ward, door: Door, *, make_id: Callable[[str], str] | None = None,
          allowed_zones: Sequence[str] | None = None) -> Announcement:
    """The validated announcement, or ``AnnouncementInputError`` naming every problem by field.

    ``make_id``: how an announcement typed without an id gets one (from its title), on the command
    line and the console; a file must give it. ``allowed_zones``: the khu phố the acting account may
    address ("all" means all of those)."""
    c = _Collect(door)
    priority = _priority(c, raw.priority)
    title = _text(c, "title", raw.title)
    if title == "" and door.default_title and raw.title is None:
        title = DEFAULT_TITLES[priority]
    if title is not None:
        _title_problems(c, title)
    text = _text(c, "text", raw.text)
    if text is not None:
        _text_problems(c, text)
    ann_id = _text(c, "id", raw.id)
    if ann_id == "" and make_id is not None and title:
        ann_id = make_id(title)
    if ann_id == "":
        c.add("id", M.ID_MISSING)
    elif ann_id is not None:
        _id_problems(c, ann_id)
    zones = _zones(c, raw.zones, ward, allowed_zones)
    readings = _readings(c, raw.readings)
    chime = _bool(c, "chime", raw.chime)
    tv = _bool(c, "show_on_tv", raw.show_on_tv)
    if raw.audio is not None and not raw.audio.is_file():
        c.add("audio", M.AUDIO_MISSING.format(name=raw.audio.name))
    spec = _schedule(c, raw.schedule, ward)
    if c.problems:
        raise AnnouncementInputError(door.source, c.problems)
    assert ann_id and title is not None and text is not None
    return Announcement(ann_id, title, text, zones, priority, readings, chime, tv, spec, source=door.source,
                        audio_file=raw.audio)


def raise_if(problems: Sequence[Problem], source: str) -> None:
    if problems:
        raise AnnouncementInputError(source, problems)

"""Files an officer edits: the ward (``devices/ward.toml``), announcements and TV decks (``playlists/``).

Everything is TOML, because an officer can read it, it allows comments, and Python reads it with the
standard library. Loading validates every value; an error names the file, the key (with its index,
e.g. ``zones[2].windows[0]``) and what is expected, and nothing half-loaded is returned.

Times typed by a person are local (the ward's time zone, Asia/Ho_Chi_Minh); dates may be written the
Vietnamese way (31/12/2026) or ISO (2026-12-31).

Environment overrides, as a deployment expects:
``BROADCASTER_WARD`` (path of the ward file), ``BROADCASTER_HOME`` (data folder),
``BROADCASTER_MQTT_URL`` (broker), ``BROADCASTER_MEDIA_URL`` (base URL nodes fetch media from).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from broadcaster.errors import ConfigError

DEFAULT_WARD_FILE = Path("devices/ward.toml")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
RESERVED_DEVICE_IDS = frozenset({"central"})
WEEKDAYS = {
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
    # Vietnamese: thứ hai = Monday ... chủ nhật = Sunday
    "t2": 0, "t3": 1, "t4": 2, "t5": 3, "t6": 4, "t7": 5, "cn": 6,
}
SCHEDULE_KINDS = ("once", "daily", "weekly", "now")
DEVICE_KINDS = ("speaker", "display")


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------


def speakable(text: str) -> bool:
    """True if the text holds something to read out: a letter or a digit (not only emoji or signs)."""
    import unicodedata

    return any(unicodedata.category(c)[0] in "LN" for c in text)


# Emoji and pictographs: the voices cannot read them and the slide font has no glyph (a box on the
# TV). Ordinary symbols an announcement uses (°C, %, №, ©, –, «») are outside these ranges.
PICTOGRAPH = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u231A\u231B\u2328\u23CF\u23E9-\u23FA"
                        "\u3030\u303D\u3297\u3299\uFE0F\u200D\U000E0020-\U000E007F]")


def pictograph_problem(value: str, where: str) -> str | None:
    """None if ``value`` has no emoji, else what an officer reads (Vietnamese) naming ``where``
    (``tiêu đề``, ``nội dung``): the check of ``announce.spec``, which every way in runs."""
    from broadcaster.announce.spec import (
        pictograph_message,  # announce.spec builds on this module
    )

    return pictograph_message(value, where)


@dataclass(frozen=True)
class Window:
    """A daily broadcast window in local time. ``end`` may be past midnight (end < start)."""

    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    @property
    def length(self) -> timedelta:
        s = self.start.hour * 60 + self.start.minute
        e = self.end.hour * 60 + self.end.minute
        return timedelta(minutes=(e - s) % (24 * 60) or 24 * 60)

    def occurrence(self, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The window on a given local day, as aware datetimes."""
        start = datetime.combine(day, self.start, tz)
        return start, start + self.length

    def contains(self, t: time) -> bool:
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end


@dataclass(frozen=True)
class Zone:
    id: str
    name: str
    windows: tuple[Window, ...]


@dataclass(frozen=True)
class Device:
    id: str
    kind: str  # speaker | display
    zone: str | None
    name: str = ""
    volume: int = 80
    deck: str | None = None  # deck id for a display


@dataclass(frozen=True)
class ServiceSettings:
    mqtt_url: str
    media_url: str  # base URL nodes fetch media from, ends with "/"
    listen: str  # host:port of the central's HTTP media server
    home: Path  # data folder: store, media, keys, agent caches
    missed_grace: timedelta  # missed by less than this while the service was down: still plays
    quiet_hours: Window | None  # never play missed items inside these hours
    horizon: timedelta  # how far ahead the desired state reaches


@dataclass(frozen=True)
class ConsoleSettings:
    """``[console]``: the officer's web console served by ``broadcaster serve`` on ``service.listen``."""

    composers_may_send_emergency: bool = False  # "Phát khẩn cấp" without an approver
    session_hours: int = 8  # a session ends after this long without use
    tls_cert: Path | None = None  # HTTPS when both are given (PEM files)
    tls_key: Path | None = None


@dataclass(frozen=True)
class EspeakSettings:
    voice: str = "vi"  # chosen by the intelligibility bench (docs/benchmarks.md)
    rate_wpm: int = 110
    pitch: int = 50
    word_gap: int = 3


@dataclass(frozen=True)
class PiperSettings:
    model: Path | None = None  # the .onnx voice file (its .onnx.json beside it)
    length_scale: float = 1.0
    speaker: int | None = None
    command: str | None = None  # a piper command; default: python -m piper beside broadcaster


@dataclass(frozen=True)
class FptSettings:
    api_key_file: Path | None = None  # a file holding the API key (readable by the service only)
    voice: str = "myan"  # Quảng Trị is central: a central voice is heard most easily
    speed: int = 0
    base_url: str = "https://api.fpt.ai"
    timeout_s: float = 20.0
    poll_timeout_s: float = 120.0


SPEECH_ENGINES = ("fpt", "gtts", "piper", "espeak")
# FPT.AI's documented voices, voice -> (region, gender); here so that checking a ward file (as a
# speaker node does) loads no speech code.
FPT_VOICES: dict[str, tuple[str, str]] = {
    "banmai": ("north", "female"),
    "thuminh": ("north", "female"),
    "leminh": ("north", "male"),
    "myan": ("central", "female"),
    "giahuy": ("central", "male"),
    "lannhi": ("south", "female"),
    "linhsan": ("south", "female"),
}


@dataclass(frozen=True)
class SpeechSettings:
    """``[speech]``: which voices read the announcements, best first (the first is the preferred one)."""

    engines: tuple[str, ...] = ("gtts", "espeak")
    retry_minutes: int = 10  # how often the service retries the preferred engine for fallback clips
    swap_margin_minutes: int = 20  # no audio swap closer than this to an airing (nodes must prefetch)
    espeak: EspeakSettings = field(default_factory=EspeakSettings)
    piper: PiperSettings = field(default_factory=PiperSettings)
    fpt: FptSettings = field(default_factory=FptSettings)

    @property
    def preferred(self) -> str:
        return self.engines[0]


@dataclass(frozen=True)
class PublicSettings:
    """``[public]``: the ward's public pages (announcements, procedures, hotline) for citizens."""

    base_url: str | None = None  # where citizens reach them, ends with "/": QR codes on slides point here
    recent_days: int = 30  # announcements shown as "recent" for this many days after their first airing
    catalog: Path | None = None  # the procedure catalog published (default playlists/catalog/procedures.json)

    def url(self, path: str) -> str | None:
        return self.base_url + path.lstrip("/") if self.base_url else None


@dataclass(frozen=True)
class Ward:
    id: str
    name: str
    hotline: str
    feedback_address: str
    tz: ZoneInfo
    zones: tuple[Zone, ...]
    devices: tuple[Device, ...]
    service: ServiceSettings
    source: Path
    town: str = ""
    province: str = ""
    feedback_url: str | None = None  # shown as a QR code on the TV's feedback slide
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    speech: SpeechSettings = field(default_factory=SpeechSettings)
    public: PublicSettings = field(default_factory=PublicSettings)

    def zone(self, zone_id: str) -> Zone:
        for z in self.zones:
            if z.id == zone_id:
                return z
        from broadcaster.errors import UnknownZoneError

        known = ", ".join(z.id for z in self.zones)
        raise UnknownZoneError(f"unknown zone {zone_id!r}: the ward file {self.source} defines {known}")

    def device(self, device_id: str) -> Device:
        for d in self.devices:
            if d.id == device_id:
                return d
        from broadcaster.errors import NotFoundError

        known = ", ".join(d.id for d in self.devices)
        raise NotFoundError(f"unknown device {device_id!r}: the ward file {self.source} defines {known}")

    def speakers(self, zone_id: str | None = None) -> list[Device]:
        return [d for d in self.devices if d.kind == "speaker" and (zone_id is None or d.zone == zone_id)]

    def displays(self) -> list[Device]:
        return [d for d in self.devices if d.kind == "display"]

    @property
    def keys_dir(self) -> Path:
        return self.service.home / "keys"


@dataclass(frozen=True)
class ScheduleSpec:
    """When an announcement plays, as the officer typed it (local time)."""

    kind: str  # once | daily | weekly | now
    at: datetime | None = None  # once
    times: tuple[time, ...] = ()  # daily / weekly
    start_date: date | None = None
    end_date: date | None = None
    weekdays: tuple[int, ...] = ()  # weekly, 0 = Monday

    def describe(self) -> str:
        if self.kind == "now":
            return "ngay bây giờ"
        if self.kind == "once" and self.at:
            return f"một lần {self.at:%H:%M %d/%m/%Y}"
        t = ", ".join(f"{x:%H:%M}" for x in self.times)
        span = f"{self.start_date:%d/%m/%Y}–{self.end_date:%d/%m/%Y}" if self.start_date and self.end_date else ""
        if self.kind == "weekly":
            names = ["T2", "T3", "T4", "T5", "T6", "T7", "CN"]
            return f"hằng tuần {' '.join(names[d] for d in self.weekdays)} lúc {t} {span}".strip()
        return f"hằng ngày lúc {t} {span}".strip()


@dataclass(frozen=True)
class Announcement:
    id: str
    title: str
    text: str
    zones: tuple[str, ...]  # resolved: "all" becomes every zone id
    priority: str
    readings: int
    chime: bool
    show_on_tv: bool
    schedule: ScheduleSpec
    source: str = ""
    audio_file: Path | None = None  # a recording read instead of synthesis (MP3, WAV, M4A)


@dataclass(frozen=True)
class DeckEntry:
    kind: str  # hotline | catalog | text | image
    seconds: float
    title: str = ""
    body: str = ""
    file: Path | None = None  # catalog JSON or image


@dataclass(frozen=True)
class Deck:
    id: str
    name: str
    entries: tuple[DeckEntry, ...]
    source: Path


# --------------------------------------------------------------------------------------------
# Small typed readers: every one names file and key
# --------------------------------------------------------------------------------------------


class _Reader:
    def __init__(self, file: Path | str) -> None:
        self.file = str(file)

    def err(self, key: str, problem: str, expected: str | None = None) -> ConfigError:
        return ConfigError(self.file, key, problem, expected)

    def table(self, d: Any, key: str) -> Mapping[str, Any]:
        if not isinstance(d, Mapping):
            raise self.err(key, f"is a {type(d).__name__}", "a table")
        return d

    def str_(self, d: Mapping[str, Any], key: str, where: str, *, default: str | None = None, nonempty: bool = True) -> str:
        if key not in d:
            if default is not None:
                return default
            raise self.err(f"{where}{key}", "is missing", "a text value")
        v = d[key]
        if not isinstance(v, str):
            raise self.err(f"{where}{key}", f"is {v!r}", "a text value in quotes")
        if nonempty and not v.strip():
            raise self.err(f"{where}{key}", "is empty", "some text")
        return v.strip()

    def ident(self, d: Mapping[str, Any], key: str, where: str) -> str:
        v = self.str_(d, key, where)
        if not ID_RE.match(v):
            raise self.err(f"{where}{key}", f"{v!r} is not a usable id", "lowercase letters, digits, - or _ (e.g. kp1)")
        return v

    def int_(self, d: Mapping[str, Any], key: str, where: str, default: int, lo: int, hi: int) -> int:
        v = d.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise self.err(f"{where}{key}", f"is {v!r}", f"a whole number from {lo} to {hi}")
        return v

    def bool_(self, d: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
        v = d.get(key, default)
        if not isinstance(v, bool):
            raise self.err(f"{where}{key}", f"is {v!r}", "true or false")
        return v

    def window(self, v: Any, key: str) -> Window:
        if isinstance(v, Mapping):  # {from = "05:30", to = "06:30"} as in the ward sample
            a, b = v.get("from"), v.get("to")
        elif isinstance(v, str) and "-" in v:
            a, b = (x.strip() for x in v.split("-", 1))
        else:
            raise self.err(key, f"is {v!r}", 'a window like "05:30-06:30"')
        start, end = self.clock(a, key), self.clock(b, key)
        if start == end:
            raise self.err(key, f"window {v!r} is empty", "an end time after the start time")
        return Window(start, end)

    def windows(self, v: Any, key: str) -> tuple[Window, ...]:
        if not isinstance(v, list) or not v:
            raise self.err(key, f"is {v!r}", 'a list of windows like ["05:30-06:30", "17:00-18:00"]')
        out = tuple(self.window(w, f"{key}[{n}]") for n, w in enumerate(v))
        for n, w in enumerate(out):
            if w.end < w.start:
                # A loudspeaker window across midnight is a typo (17:00-16:00 would be 23 hours,
                # through the quiet hours), not a plan: refuse it; quiet hours may cross midnight.
                raise self.err(
                    f"{key}[{n}]", f"window {w} ends before it starts (khung giờ kết thúc trước khi bắt đầu)",
                    'a start before the end on the same day, e.g. "16:00-17:00"',
                )
        return out

    def clock(self, v: Any, key: str) -> time:
        t = parse_clock(v)
        if t is None:
            raise self.err(key, f"time {v!r} is not a time of day", 'HH:MM, e.g. "17:00" or "7h30"')
        return t

    def day(self, v: Any, key: str) -> date:
        if isinstance(v, date) and not isinstance(v, datetime):
            return v
        d = parse_date(v) if isinstance(v, str) else None
        if d is None:
            raise self.err(key, f"date {v!r} is not a date", 'DD/MM/YYYY or YYYY-MM-DD, e.g. "31/12/2026"')
        return d

    def moment(self, v: Any, key: str, tz: ZoneInfo) -> datetime:
        if isinstance(v, datetime):
            return v if v.tzinfo else v.replace(tzinfo=tz)
        dt = parse_local_datetime(v, tz) if isinstance(v, str) else None
        if dt is None:
            raise self.err(key, f"{v!r} is not a date and time", '"DD/MM/YYYY HH:MM" or "YYYY-MM-DD HH:MM", e.g. "01/12/2026 17:05"')
        return dt


def parse_clock(v: Any) -> time | None:
    """"17:00", "7:30", "7h30", "7h", "07g30", "17:00:20" -> time; anything else -> None."""
    if isinstance(v, time):
        return v
    if not isinstance(v, str):
        return None
    m = re.fullmatch(r"\s*(\d{1,2})\s*[:hHgG]\s*(?:(\d{2})(?::(\d{2}))?)?\s*", v)
    if not m:
        return None
    h, mnt, sec = int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)
    if h > 23 or mnt > 59 or sec > 59:
        return None
    return time(h, mnt, sec)


def parse_date(v: str) -> date | None:
    v = v.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
            return date.fromisoformat(v)
        m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", v)
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        return None
    return None


def parse_local_datetime(v: str, tz: ZoneInfo) -> datetime | None:
    """A date and a time in either order: "01/12/2026 17:05", "2026-12-01T17:05", "17h05 01/12/2026"."""
    parts = v.replace("T", " ").split()
    if len(parts) != 2:
        return None
    for d_s, t_s in (parts, parts[::-1]):
        d, t = parse_date(d_s), parse_clock(t_s)
        if d and t:
            return datetime.combine(d, t, tz)
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError as exc:
        raise ConfigError(str(path), "(file)", "does not exist", "a TOML file; see the examples in devices/ and playlists/") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "(syntax)", str(exc), "valid TOML: check quotes and brackets on that line") from exc


# --------------------------------------------------------------------------------------------
# Ward
# --------------------------------------------------------------------------------------------


def ward_file(path: str | Path | None = None) -> Path:
    return Path(path or os.environ.get("BROADCASTER_WARD") or DEFAULT_WARD_FILE)


def load_ward(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Ward:
    """Load and validate the ward file; environment overrides applied (see module doc)."""
    env = os.environ if env is None else env
    p = ward_file(path)
    r = _Reader(p)
    raw = _read_toml(p)

    w = r.table(raw.get("ward"), "[ward]")
    tz_name = r.str_(w, "timezone", "ward.", default="Asia/Ho_Chi_Minh")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise r.err("ward.timezone", f"{tz_name!r} is not a time zone", '"Asia/Ho_Chi_Minh"') from exc

    b = r.table(raw.get("broadcast", {}), "[broadcast]")
    default_windows = r.windows(b.get("windows", ["05:30-06:30", "17:00-18:00"]), "broadcast.windows")
    quiet = b.get("quiet_hours", "21:00-05:00")
    quiet_w = r.window(quiet, "broadcast.quiet_hours") if quiet else None
    grace = r.int_(b, "missed_grace_minutes", "broadcast.", 10, 0, 24 * 60)
    horizon_h = r.int_(b, "horizon_hours", "broadcast.", 48, 1, 24 * 14)

    zones_raw = raw.get("zones")
    if not isinstance(zones_raw, list) or not zones_raw:
        raise r.err("[[zones]]", "no zone is defined", "at least one [[zones]] table with id and name")
    zones: list[Zone] = []
    for n, z in enumerate(zones_raw):
        where = f"zones[{n}]."
        z = r.table(z, where[:-1])
        zid = r.ident(z, "id", where)
        if any(x.id == zid for x in zones):
            raise r.err(f"{where}id", f"zone {zid!r} is defined twice", "each zone id once")
        wins = r.windows(z["windows"], f"{where}windows") if "windows" in z else default_windows
        zones.append(Zone(zid, r.str_(z, "name", where), wins))

    zone_ids = {z.id for z in zones}
    devices: list[Device] = []
    for n, d in enumerate(raw.get("devices", [])):
        where = f"devices[{n}]."
        d = r.table(d, where[:-1])
        did = r.ident(d, "id", where)
        if any(x.id == did for x in devices):
            raise r.err(f"{where}id", f"device {did!r} is defined twice", "each device id once")
        if did in RESERVED_DEVICE_IDS:
            # `central` is the central service's broker user and message sender: a device of that
            # name would get the central's rights on the broker.
            raise r.err(f"{where}id", f"{did!r} is reserved for the central service", "another device id, e.g. kp1-loa1")
        kind = r.str_(d, "kind", where)
        if kind not in DEVICE_KINDS:
            raise r.err(f"{where}kind", f"is {kind!r}", " or ".join(DEVICE_KINDS))
        zone = d.get("zone")
        if kind == "speaker" and zone not in zone_ids:
            raise r.err(f"{where}zone", f"zone {zone!r} is not defined", f"one of {', '.join(sorted(zone_ids))}")
        if zone is not None and zone not in zone_ids:
            raise r.err(f"{where}zone", f"zone {zone!r} is not defined", f"one of {', '.join(sorted(zone_ids))}")
        devices.append(
            Device(
                id=did,
                kind=kind,
                zone=zone,
                name=r.str_(d, "name", where, default=did),
                volume=r.int_(d, "volume", where, 80, 0, 100),
                deck=r.str_(d, "deck", where) if "deck" in d else None,
            )
        )

    s = r.table(raw.get("service", {}), "[service]")
    base = p.parent.parent if p.parent.name == "devices" else p.parent
    home_s = env.get("BROADCASTER_HOME") or r.str_(s, "home", "service.", default="var")
    home = Path(home_s)
    # relative to the project folder (the ward file's devices/ parent), or to the shell for the env var
    home = (home if env.get("BROADCASTER_HOME") else base / home).resolve()
    listen = r.str_(s, "listen", "service.", default="127.0.0.1:8750")
    if not re.fullmatch(r"[\w.\-]+:\d{1,5}", listen):
        raise r.err("service.listen", f"is {listen!r}", 'host:port, e.g. "0.0.0.0:8750"')
    media_url = env.get("BROADCASTER_MEDIA_URL") or r.str_(s, "media_url", "service.", default=f"http://{listen}/")
    if not re.match(r"https?://", media_url):
        raise r.err("service.media_url", f"is {media_url!r}", 'an http(s) URL, e.g. "http://192.168.1.10:8750/"')
    mqtt_url = env.get("BROADCASTER_MQTT_URL") or r.str_(s, "mqtt_url", "service.", default="mqtt://127.0.0.1:1883")
    from broadcaster.transport import BrokerAddress

    BrokerAddress.parse(mqtt_url, source="BROADCASTER_MQTT_URL" if env.get("BROADCASTER_MQTT_URL") else f"{p} service")

    pub = r.table(raw.get("public", {}), "[public]")
    base_url = _url(r, pub, "base_url", "public.")
    public = PublicSettings(
        base_url=(base_url if base_url.endswith("/") else base_url + "/") if base_url else None,
        recent_days=r.int_(pub, "recent_days", "public.", 30, 1, 366),
        catalog=(base / r.str_(pub, "catalog", "public.")).resolve() if "catalog" in pub
        else (base / "playlists" / "catalog" / "procedures.json").resolve(),
    )

    console = _console(r, raw, base)
    return Ward(
        console=console,
        public=public,
        id=r.ident(w, "id", "ward."),
        name=r.str_(w, "name", "ward."),
        hotline=r.str_(w, "hotline", "ward."),
        feedback_address=r.str_(w, "feedback_address", "ward."),
        town=r.str_(w, "town", "ward.", default=""),
        province=r.str_(w, "province", "ward.", default=""),
        feedback_url=_url(r, w, "feedback_url", "ward."),
        tz=tz,
        zones=tuple(zones),
        devices=tuple(devices),
        service=ServiceSettings(
            mqtt_url=mqtt_url,
            media_url=media_url if media_url.endswith("/") else media_url + "/",
            listen=listen,
            home=home,
            missed_grace=timedelta(minutes=grace),
            quiet_hours=quiet_w,
            horizon=timedelta(hours=horizon_h),
        ),
        source=p,
        speech=load_speech(raw.get("speech", {}), r, p.parent),
    )


def load_speech(raw: Any, r: _Reader, base: Path) -> SpeechSettings:
    """``[speech]`` with ``[speech.espeak]``, ``[speech.piper]``, ``[speech.fpt]``; all optional.

    Relative file paths are relative to the ward file's folder.
    """
    s = r.table(raw, "[speech]")
    engines_raw = s.get("engines", list(SpeechSettings.engines))
    if (not isinstance(engines_raw, list) or not engines_raw
            or any(not isinstance(e, str) or e not in SPEECH_ENGINES for e in engines_raw)):
        raise r.err("speech.engines", f"is {engines_raw!r}", f"a list, best first, of {', '.join(SPEECH_ENGINES)}")
    engines = tuple(dict.fromkeys(engines_raw))

    def path(d: Mapping[str, Any], key: str, where: str) -> Path | None:
        if key not in d:
            return None
        v = Path(r.str_(d, key, where)).expanduser()
        return v if v.is_absolute() else (base / v).resolve()

    def number(d: Mapping[str, Any], key: str, where: str, default: float, lo: float, hi: float) -> float:
        v = d.get(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
            raise r.err(f"{where}{key}", f"is {v!r}", f"a number from {lo:g} to {hi:g}")
        return float(v)

    e = r.table(s.get("espeak", {}), "[speech.espeak]")
    voice = r.str_(e, "voice", "speech.espeak.", default=EspeakSettings.voice)
    if not re.fullmatch(r"vi(-vn-x-(central|south))?(\+[\w-]+)?", voice):
        raise r.err("speech.espeak.voice", f"is {voice!r}", '"vi", "vi-vn-x-central" or "vi-vn-x-south"')
    espeak = EspeakSettings(
        voice=voice,
        rate_wpm=r.int_(e, "rate", "speech.espeak.", EspeakSettings.rate_wpm, 80, 450),
        pitch=r.int_(e, "pitch", "speech.espeak.", EspeakSettings.pitch, 0, 99),
        word_gap=r.int_(e, "word_gap", "speech.espeak.", EspeakSettings.word_gap, 0, 50),
    )
    pp = r.table(s.get("piper", {}), "[speech.piper]")
    piper = PiperSettings(
        model=path(pp, "model", "speech.piper."),
        length_scale=number(pp, "length_scale", "speech.piper.", 1.0, 0.5, 2.0),
        speaker=r.int_(pp, "speaker", "speech.piper.", 0, 0, 10_000) if "speaker" in pp else None,
        command=r.str_(pp, "command", "speech.piper.") if "command" in pp else None,
    )
    if "piper" in engines and piper.model is None:
        raise r.err("speech.piper.model", "is missing", "the path of the piper voice file (.onnx), see docs/deploy.md")
    f = r.table(s.get("fpt", {}), "[speech.fpt]")
    fvoice = r.str_(f, "voice", "speech.fpt.", default=FptSettings.voice)
    if fvoice not in FPT_VOICES:
        raise r.err("speech.fpt.voice", f"is {fvoice!r}",
                    ", ".join(f"{n} ({g}, {reg})" for n, (reg, g) in FPT_VOICES.items()))
    base_url = r.str_(f, "base_url", "speech.fpt.", default=FptSettings.base_url)
    if not re.match(r"https?://[^\s/]+", base_url):
        raise r.err("speech.fpt.base_url", f"is {base_url!r}", '"https://api.fpt.ai"')
    fpt = FptSettings(
        api_key_file=path(f, "api_key_file", "speech.fpt."),
        voice=fvoice,
        speed=r.int_(f, "speed", "speech.fpt.", 0, -3, 3),
        base_url=base_url,
        timeout_s=number(f, "timeout_seconds", "speech.fpt.", FptSettings.timeout_s, 1, 300),
        poll_timeout_s=number(f, "poll_timeout_seconds", "speech.fpt.", FptSettings.poll_timeout_s, 1, 900),
    )
    if "fpt" in engines and fpt.api_key_file is None:
        raise r.err("speech.fpt.api_key_file", "is missing", "the path of a file holding the FPT.AI API key")
    return SpeechSettings(
        engines=engines,
        retry_minutes=r.int_(s, "retry_minutes", "speech.", SpeechSettings.retry_minutes, 1, 24 * 60),
        swap_margin_minutes=r.int_(s, "swap_margin_minutes", "speech.", SpeechSettings.swap_margin_minutes, 5, 24 * 60),
        espeak=espeak,
        piper=piper,
        fpt=fpt,
    )


def _console(r: _Reader, raw: Mapping[str, Any], base: Path) -> ConsoleSettings:
    c = r.table(raw.get("console", {}), "[console]")
    paths: dict[str, Path | None] = {}
    for key in ("tls_cert", "tls_key"):
        if key in c:
            pth = Path(r.str_(c, key, "console."))
            pth = pth if pth.is_absolute() else (base / pth).resolve()
            if not pth.is_file():
                raise r.err(f"console.{key}", f"{pth} does not exist", "the path of a PEM file (see docs/deploy.md, HTTPS)")
            paths[key] = pth
        else:
            paths[key] = None
    if (paths["tls_cert"] is None) != (paths["tls_key"] is None):
        raise r.err("console.tls_cert", "only one of tls_cert and tls_key is given", "both (certificate and its private key), or neither")
    return ConsoleSettings(
        composers_may_send_emergency=r.bool_(c, "composers_may_send_emergency", "console.", False),
        session_hours=r.int_(c, "session_hours", "console.", 8, 1, 24 * 30),
        tls_cert=paths["tls_cert"],
        tls_key=paths["tls_key"],
    )


def _url(r: _Reader, d: Mapping[str, Any], key: str, where: str) -> str | None:
    if key not in d:
        return None
    v = r.str_(d, key, where)
    if not re.match(r"https?://[^\s/]+", v):
        raise r.err(f"{where}{key}", f"is {v!r}", 'a web address starting with https://, e.g. "https://dichvucong.gov.vn"')
    return v


# --------------------------------------------------------------------------------------------
# Announcements
# --------------------------------------------------------------------------------------------


def load_announcements(path: str | Path, ward: Ward) -> list[Announcement]:
    """Read ``[[announcement]]`` tables from a programme file, checked by ``announce.spec`` (the one
    validation path of the command line and the console too); every problem of the file is named
    by its key (``announcement[1].schedule.times[0]``), nothing is returned half-read."""
    from broadcaster.announce import messages_vi as M
    from broadcaster.announce import (
        spec,  # built on this module's Ward and Announcement
    )

    p = Path(path)
    r = _Reader(p)
    raw = _read_toml(p)
    items = raw.get("announcement")
    if not isinstance(items, list) or not items:
        raise r.err("[[announcement]]", "no announcement in this file (không có [[announcement]] nào)",
                    "one or more [[announcement]] tables")
    out: list[Announcement] = []
    problems: list[spec.Problem] = []
    lines = spec.announcement_lines(p.read_text(encoding="utf-8", errors="replace"))
    for n, a in enumerate(items):
        door = spec.file_door(p, f"announcement[{n}].", lines[n] if n < len(lines) else None)
        t = r.table(a, f"announcement[{n}]")
        s = t.get("schedule")
        if s is not None and s != "now" and not isinstance(s, Mapping):
            problems.append(door.problem("schedule", M.SCHEDULE_BAD.format(got=spec.kind_of(s))))
            continue
        s = s if isinstance(s, Mapping) else {}
        audio = None
        if "audio" in t and isinstance(t["audio"], str) and t["audio"].strip():
            f = Path(t["audio"].strip()).expanduser()  # a recording next to the programme file
            audio = f if f.is_absolute() else p.resolve().parent / f
        elif "audio" in t:
            problems.append(door.problem("audio", M.NOT_TEXT.format(got=spec.kind_of(t["audio"]))))
            continue
        typed = spec.Raw(
            id=t.get("id"), title=t.get("title"), text=t.get("text"), zones=t.get("zones", "all"),
            priority=t.get("priority", "normal"), readings=t.get("readings", 2), chime=t.get("chime", True),
            show_on_tv=t.get("show_on_tv", True), audio=audio,
            schedule=spec.RawSchedule(kind=s.get("kind", "now"), at=s.get("at"), times=s.get("times"),
                                      start=s.get("from"), end=s.get("until"), weekdays=s.get("weekdays")),
        )
        try:
            ann = spec.parse(typed, ward, door)
        except spec.AnnouncementInputError as exc:
            problems += exc.problems
            continue
        if any(x.id == ann.id for x in out):
            problems.append(door.problem("id", M.ID_TWICE.format(v=ann.id)))
            continue
        out.append(ann)
    spec.raise_if(problems, str(p))
    return out


# --------------------------------------------------------------------------------------------
# Decks
# --------------------------------------------------------------------------------------------

DECK_KINDS = ("hotline", "catalog", "text", "image")


def load_deck(path: str | Path) -> Deck:
    """A TV deck: ``[deck]`` with id, name, seconds, and ``[[deck.slides]]`` entries."""
    p = Path(path)
    r = _Reader(p)
    raw = _read_toml(p)
    d = r.table(raw.get("deck"), "[deck]")
    default_s = d.get("seconds", 12)
    if not isinstance(default_s, (int, float)) or not 3 <= default_s <= 600:
        raise r.err("deck.seconds", f"is {default_s!r}", "seconds per slide, from 3 to 600")
    entries: list[DeckEntry] = []
    slides = d.get("slides")
    if not isinstance(slides, list) or not slides:
        raise r.err("[[deck.slides]]", "the deck has no slides", "one or more [[deck.slides]] tables")
    for n, e in enumerate(slides):
        where = f"deck.slides[{n}]."
        e = r.table(e, where[:-1])
        kind = r.str_(e, "kind", where)
        if kind not in DECK_KINDS:
            raise r.err(f"{where}kind", f"is {kind!r}", " / ".join(DECK_KINDS))
        secs = e.get("seconds", default_s)
        if not isinstance(secs, (int, float)) or not 3 <= secs <= 600:
            raise r.err(f"{where}seconds", f"is {secs!r}", "seconds on screen, from 3 to 600")
        file = None
        if kind in ("catalog", "image"):
            file = (p.parent / r.str_(e, "file", where)).resolve()
            if not file.is_file():
                raise r.err(f"{where}file", f"{file.name} does not exist next to the deck", "a path relative to the deck file")
        entries.append(
            DeckEntry(
                kind=kind,
                seconds=float(secs),
                title=r.str_(e, "title", where) if kind == "text" else "",
                body=r.str_(e, "body", where) if kind == "text" else "",
                file=file,
            )
        )
    return Deck(id=r.ident(d, "id", "deck."), name=r.str_(d, "name", "deck.", default=""), entries=tuple(entries), source=p)


def find_deck(ward: Ward, deck_id: str, search: Path | None = None) -> Deck:
    """Find a deck file by id under ``playlists/decks`` next to the ward's devices folder."""
    root = search or (ward.source.resolve().parent.parent / "playlists" / "decks")
    for f in sorted(root.glob("*.toml")):
        deck = load_deck(f)
        if deck.id == deck_id:
            return deck
    raise ConfigError(str(ward.source), "devices[].deck", f"no deck with id {deck_id!r} in {root}", "a deck file with [deck] id = ...")

"""The central store: one SQLite file (``<home>/store.sqlite``), the source of truth of the ward.

It holds the announcements and their schedules, the media they use (by sha256), the zones and
devices with the last state each device reported, the plan items the service delivered, the
schedule versions and envelope sequence counter (so both only grow across restarts), and the
as-run log.

Why SQLite: one ward is one small office machine; the CLI and the running service open the same
file, WAL mode lets the CLI write while the service reads, and ``PRAGMA data_version`` tells the
service cheaply that another process changed something.

The schema is versioned with ``PRAGMA user_version``; ``MIGRATIONS`` are applied in order, in
place, inside one transaction each, so an old store is upgraded without losing anything. Add a
migration at the end; never edit one that shipped.

Times are stored as UTC ISO 8601 text (``protocol.fmt_time``), which sorts as it reads.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time as _time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from broadcaster import protocol
from broadcaster.config import ScheduleSpec, Ward
from broadcaster.errors import BroadcasterError, NotFoundError, ScheduleError, StoreCorruptError, StoreError
from broadcaster.media import StoredMedia
from broadcaster.wire.times import format_time as fmt_time, parse_time, utc_now

STORE_FILE = "store.sqlite"

# Ordered migrations: index + 1 is the schema version they produce.
MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE zones (id TEXT PRIMARY KEY, name TEXT NOT NULL, windows TEXT NOT NULL);
    CREATE TABLE devices (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, zone TEXT, name TEXT NOT NULL DEFAULT '',
        volume INTEGER NOT NULL DEFAULT 80,
        online INTEGER NOT NULL DEFAULT 0, last_seen TEXT, state_at TEXT,
        reported_volume INTEGER, cache_items INTEGER NOT NULL DEFAULT 0, cache_bytes INTEGER NOT NULL DEFAULT 0,
        missing TEXT NOT NULL DEFAULT '[]', applied TEXT NOT NULL DEFAULT '{}', playing TEXT,
        agent_version TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE media (
        name TEXT PRIMARY KEY, sha256 TEXT NOT NULL, type TEXT NOT NULL, size INTEGER NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE announcements (
        id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL, spoken_text TEXT NOT NULL DEFAULT '',
        priority TEXT NOT NULL CHECK (priority IN ('normal', 'priority', 'emergency')),
        readings INTEGER NOT NULL, chime INTEGER NOT NULL, show_on_tv INTEGER NOT NULL,
        audio TEXT NOT NULL REFERENCES media(name), duration_ms INTEGER NOT NULL, engine TEXT NOT NULL,
        slides TEXT NOT NULL DEFAULT '[]',
        queue_seq INTEGER NOT NULL UNIQUE, queued_at TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'cancelled')),
        cancelled_at TEXT, source TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE announcement_zones (
        announcement_id TEXT NOT NULL REFERENCES announcements(id) ON DELETE CASCADE,
        zone_id TEXT NOT NULL, PRIMARY KEY (announcement_id, zone_id)
    );
    CREATE TABLE schedules (
        announcement_id TEXT PRIMARY KEY REFERENCES announcements(id) ON DELETE CASCADE,
        kind TEXT NOT NULL, at TEXT, times TEXT NOT NULL DEFAULT '[]',
        start_date TEXT, end_date TEXT, weekdays TEXT NOT NULL DEFAULT '[]'
    );
    CREATE TABLE versions (
        target TEXT PRIMARY KEY, version INTEGER NOT NULL, digest TEXT NOT NULL, published_at TEXT NOT NULL
    );
    CREATE TABLE asrun (
        event_id TEXT PRIMARY KEY, device TEXT NOT NULL, zone TEXT, item_id TEXT NOT NULL,
        announcement_id TEXT NOT NULL, kind TEXT NOT NULL, scheduled TEXT NOT NULL,
        started TEXT, ended TEXT, reason TEXT NOT NULL DEFAULT '', received_at TEXT NOT NULL
    );
    CREATE INDEX asrun_scheduled ON asrun(scheduled);
    CREATE INDEX asrun_item ON asrun(item_id);
    """,
    # 2: clock offset per device; plan items (what was delivered, and what the central marked missed)
    """
    ALTER TABLE devices ADD COLUMN clock_offset_ms INTEGER;
    CREATE TABLE plan_items (
        item_id TEXT PRIMARY KEY, announcement_id TEXT NOT NULL, zone TEXT NOT NULL,
        priority TEXT NOT NULL, requested TEXT NOT NULL, start TEXT NOT NULL, duration_ms INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'missed', 'cancelled')),
        delivered_at TEXT, reason TEXT NOT NULL DEFAULT '', updated_at TEXT NOT NULL
    );
    CREATE INDEX plan_items_start ON plan_items(start);
    CREATE INDEX plan_items_ann ON plan_items(announcement_id);
    """,
    # 3: which voice speaks each announcement, and whether it is the ward's preferred one
    """
    CREATE TABLE speech_voices (
        announcement_id TEXT PRIMARY KEY REFERENCES announcements(id) ON DELETE CASCADE,
        engine TEXT NOT NULL, voice TEXT NOT NULL DEFAULT '', preferred TEXT NOT NULL DEFAULT '',
        fallback INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
        last_try TEXT, last_error TEXT NOT NULL DEFAULT '', swapped_at TEXT, updated_at TEXT NOT NULL
    );
    """,
    # 4: the officer's console: accounts, sessions, audit log, drafts awaiting approval, who
    # composed / approved each announcement, single airings cancelled, the schedule version that
    # first carried each item (for the per-node acknowledgement), volume set from the console
    """
    CREATE TABLE console_users (
        username TEXT PRIMARY KEY, display_name TEXT NOT NULL DEFAULT '',
        role TEXT NOT NULL CHECK (role IN ('composer', 'approver', 'admin')),
        zones TEXT NOT NULL DEFAULT '[]', password_hash TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
    );
    CREATE TABLE console_sessions (
        token_hash TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES console_users(username) ON DELETE CASCADE,
        csrf TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL, last_seen TEXT NOT NULL, address TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, username TEXT NOT NULL, action TEXT NOT NULL,
        target TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '', address TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX audit_log_at ON audit_log(at);
    CREATE TABLE drafts (
        id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, text TEXT NOT NULL, spoken_text TEXT NOT NULL,
        zones TEXT NOT NULL, priority TEXT NOT NULL, readings INTEGER NOT NULL, chime INTEGER NOT NULL,
        show_on_tv INTEGER NOT NULL, schedule TEXT NOT NULL, audio TEXT NOT NULL REFERENCES media(name),
        duration_ms INTEGER NOT NULL, engine TEXT NOT NULL, slides TEXT NOT NULL DEFAULT '[]',
        status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'returned', 'withdrawn')),
        composer TEXT NOT NULL, created_at TEXT NOT NULL, decided_by TEXT, decided_at TEXT,
        reason TEXT NOT NULL DEFAULT '', announcement_id TEXT, replaces TEXT
    );
    CREATE TABLE announcement_people (
        announcement_id TEXT PRIMARY KEY, composer TEXT NOT NULL DEFAULT '', approver TEXT NOT NULL DEFAULT '',
        draft_id INTEGER, cancelled_by TEXT NOT NULL DEFAULT '', cancel_reason TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE skipped_items (
        item_id TEXT PRIMARY KEY, announcement_id TEXT NOT NULL, zone TEXT NOT NULL, by TEXT NOT NULL,
        at TEXT NOT NULL, reason TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE item_versions (item_id TEXT PRIMARY KEY, target TEXT NOT NULL, version INTEGER NOT NULL);
    CREATE TABLE device_presence (device_id TEXT PRIMARY KEY, online INTEGER NOT NULL, since TEXT NOT NULL);
    CREATE TABLE device_volume (
        device_id TEXT PRIMARY KEY, volume INTEGER NOT NULL CHECK (volume BETWEEN 0 AND 100),
        set_by TEXT NOT NULL, set_at TEXT NOT NULL
    );
    """,
    # The last emergency sent to each zone, and whether it was cleared, as columns of their own (it
    # used to hide in versions as an "emergency/<zone>" row with a "clear:" prefix in its digest).
    # A TV's deck is versioned as "device/<id>", its target on the wire (it was "deck/<id>" here).
    """
    CREATE TABLE zone_emergencies (
        zone TEXT PRIMARY KEY, emergency_id TEXT NOT NULL, cleared INTEGER NOT NULL CHECK (cleared IN (0, 1)),
        updated_at TEXT NOT NULL
    );
    INSERT INTO zone_emergencies(zone, emergency_id, cleared, updated_at)
        SELECT substr(target, 11), CASE WHEN digest LIKE 'clear:%' THEN substr(digest, 7) ELSE digest END,
               digest LIKE 'clear:%', published_at
        FROM versions WHERE target LIKE 'emergency/%';
    DELETE FROM versions WHERE target LIKE 'emergency/%';
    DELETE FROM versions WHERE target LIKE 'device/%' AND 'deck/' || substr(target, 8) IN (SELECT target FROM versions);
    UPDATE versions SET target = 'device/' || substr(target, 6) WHERE target LIKE 'deck/%';
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaRow:
    name: str
    sha256: str
    type: str
    size: int


@dataclass(frozen=True)
class StoredAnnouncement:
    """An announcement as queued: what the officer asked for plus the media produced for it."""

    id: str
    title: str
    text: str
    spoken_text: str
    priority: str
    readings: int
    chime: bool
    show_on_tv: bool
    zones: tuple[str, ...]
    schedule: ScheduleSpec
    audio: str  # media name <sha256>.mp3
    duration_ms: int
    engine: str
    slides: tuple[str, ...]  # media names of PNGs
    queue_seq: int
    queued_at: datetime  # UTC
    status: str = "active"
    cancelled_at: datetime | None = None
    source: str = ""


@dataclass(frozen=True)
class SpeechVoiceRow:
    """Who speaks an announcement: engine and voice, the ward's preferred engine, retries so far."""

    announcement_id: str
    engine: str
    voice: str
    preferred: str
    fallback: bool
    attempts: int
    last_try: datetime | None
    last_error: str
    swapped_at: datetime | None


@dataclass(frozen=True)
class PlanItemRow:
    item_id: str
    announcement_id: str
    zone: str
    priority: str
    requested: datetime
    start: datetime
    duration_ms: int
    status: str
    delivered_at: datetime | None
    reason: str


@dataclass(frozen=True)
class DeviceRow:
    id: str
    kind: str
    zone: str | None
    name: str
    volume: int  # configured (ward file)
    online: bool
    last_seen: datetime | None
    reported_volume: int | None
    cache_items: int
    cache_bytes: int
    missing: tuple[str, ...]
    applied: dict[str, int]
    playing: str | None
    agent_version: str
    clock_offset_ms: int | None


@dataclass(frozen=True)
class AsRunRow:
    event_id: str
    device: str
    zone: str | None
    item_id: str
    announcement_id: str
    kind: str
    scheduled: datetime
    started: datetime | None
    ended: datetime | None
    reason: str


# --------------------------------------------------------------------------------------------
# Schedule spec <-> rows
# --------------------------------------------------------------------------------------------


def spec_to_row(spec: ScheduleSpec) -> dict[str, Any]:
    return {
        "kind": spec.kind,
        "at": spec.at.isoformat() if spec.at else None,  # local time with its offset, as typed
        "times": json.dumps([t.strftime("%H:%M") for t in spec.times]),
        "start_date": spec.start_date.isoformat() if spec.start_date else None,
        "end_date": spec.end_date.isoformat() if spec.end_date else None,
        "weekdays": json.dumps(list(spec.weekdays)),
    }


def spec_from_row(r: sqlite3.Row, tz: ZoneInfo | None = None) -> ScheduleSpec:
    at = datetime.fromisoformat(r["at"]) if r["at"] else None
    if at is not None and tz is not None:
        at = at.astimezone(tz)
    return ScheduleSpec(
        kind=r["kind"],
        at=at,
        times=tuple(time.fromisoformat(t) for t in json.loads(r["times"])),
        start_date=date.fromisoformat(r["start_date"]) if r["start_date"] else None,
        end_date=date.fromisoformat(r["end_date"]) if r["end_date"] else None,
        weekdays=tuple(json.loads(r["weekdays"])),
    )


def _t(s: str | None) -> datetime | None:
    return parse_time(s) if s else None


# --------------------------------------------------------------------------------------------
# Store
# --------------------------------------------------------------------------------------------


def store_path(ward: Ward) -> Path:
    return ward.service.home / STORE_FILE


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema up to ``target``; returns the version found before. Each step is atomic."""
    found = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if found > SCHEMA_VERSION:
        raise BroadcasterError(
            f"the store was written by a newer broadcaster (schema {found}, this one knows {SCHEMA_VERSION}): upgrade broadcaster"
        )
    for version in range(found + 1, target + 1):
        # executescript commits first, so BEGIN/COMMIT are spelled out to keep each step atomic
        conn.executescript(f"BEGIN IMMEDIATE;\n{MIGRATIONS[version - 1]}\nPRAGMA user_version = {version};\nCOMMIT;")
    return found


class Store:
    """Thread-safe access to the store file (one connection, one lock: the load is tiny)."""

    def __init__(self, path: Path, *, tz: ZoneInfo | None = None, busy_timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        self.tz = tz
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        except (OSError, sqlite3.Error) as exc:
            raise BroadcasterError(f"cannot open the store {self.path}: {exc} (is the data folder writable?)") from exc
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        self._conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        self._conn.execute("PRAGMA foreign_keys=ON")
        # `serve` and a CLI command may open a new store at the same moment: one sets it up, the
        # other waits and then finds it current (without this, both ran "CREATE TABLE ...", and
        # switching a new file to WAL at once fails with "database is locked").
        import fcntl

        with self._lock, open(self.path.with_name(self.path.name + ".setup-lock"), "a") as guard, self._errors():
            fcntl.flock(guard, fcntl.LOCK_EX)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at checkpoints, never corrupt
            migrate(self._conn)
            # a damaged file may open and even migrate; the first real query would then fail
            # anywhere: look at it once, here
            ok = self._conn.execute("PRAGMA quick_check").fetchone()
            if ok is None or ok[0] != "ok":
                raise sqlite3.DatabaseError(f"integrity check: {ok[0] if ok else 'no answer'}")

    @classmethod
    def for_ward(cls, ward: Ward) -> Store:
        return cls(store_path(ward), tz=ward.tz)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ----------------------------------------------------------------------------

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """SQLite's errors in words an officer (and systemd) can act on, instead of a traceback."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            msg = str(exc)
            if "locked" in msg or "busy" in msg:
                raise StoreError(
                    f"the store {self.path} is locked by another program (a backup, a long command?) and stayed "
                    "locked past the wait: nothing was changed; try again in a moment "
                    "(kho dữ liệu đang bị chương trình khác khóa, chưa thay đổi gì, hãy thử lại)"
                ) from exc
            if "disk" in msg or "full" in msg or "readonly" in msg:
                raise StoreError(f"the store {self.path} cannot be written: {msg} (free some space / check permissions)") from exc
            raise StoreCorruptError(self._corrupt_text(msg)) from exc
        except sqlite3.DatabaseError as exc:
            raise StoreCorruptError(self._corrupt_text(str(exc))) from exc

    def _corrupt_text(self, msg: str) -> str:
        return (
            f"the store {self.path} is damaged ({msg}): stop the service, move the file aside and restore the "
            "last backup (docs/deploy.md); nodes keep playing what they have, and a restored store is detected "
            "and published above what they applied (kho dữ liệu bị hỏng: khôi phục bản sao lưu)"
        )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing; nested calls join the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            with self._errors():
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                with self._errors():
                    yield self._conn
            except BaseException:
                try:
                    self._conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # no transaction left to roll back (SQLite rolled back itself)
                raise
            else:
                with self._errors():
                    self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    def _all(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock, self._errors():
            return list(self._conn.execute(sql, args))

    def _one(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self._lock, self._errors():
            return self._conn.execute(sql, args).fetchone()

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Read-only query for modules that own their tables (central/records.py)."""
        return self._all(sql, args)

    def row(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Row | None:
        return self._one(sql, args)

    def _pragma(self, name: str) -> int:
        row = self._one(f"PRAGMA {name}")
        if row is None:  # SQLite answers these two pragmas with one row, always
            raise StoreError(f"SQLite gave no value for PRAGMA {name}")
        return int(row[0])

    @property
    def schema_version(self) -> int:
        return self._pragma("user_version")

    def data_version(self) -> int:
        """Changes when *another* connection commits (the CLI): the service polls this cheaply."""
        return self._pragma("data_version")

    def checkpoint(self) -> None:
        with self._lock, self._errors():
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- counters ----------------------------------------------------------------------------

    def _bump(self, key: str) -> int:
        with self.transaction() as c:
            row = c.execute(
                "INSERT INTO meta(key, value) VALUES (?, '1') "
                "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING value",
                (key,),
            ).fetchone()
            return int(row[0])

    def _get_counter(self, key: str) -> int:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return int(row[0]) if row else 0

    def get_meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as c:
            c.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def next_seq(self) -> int:
        """The next envelope sequence number: persisted, so it only grows across restarts.

        Never below the clock in milliseconds either: nodes remember the highest seq they accepted,
        so a store restored from an old backup (or made anew) must not start again from 1, or every
        node would refuse the central as a replay.
        """
        floor = _time.time_ns() // 1_000_000
        with self.transaction() as c:
            row = c.execute(
                "INSERT INTO meta(key, value) VALUES ('envelope_seq', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = MAX(CAST(value AS INTEGER) + 1, ?) RETURNING value",
                (floor, floor),
            ).fetchone()
            return int(row[0])

    @property
    def plan_revision(self) -> int:
        """Grows whenever announcements change (queue, cancel): the service re-plans when it moves."""
        return self._get_counter("plan_revision")

    def publish_version(self, target: str, digest: str) -> tuple[int, bool]:
        """Version of a target's desired state for content ``digest``: the same, or one more if it changed."""
        with self.transaction() as c:
            row = c.execute("SELECT version, digest FROM versions WHERE target = ?", (target,)).fetchone()
            now = fmt_time(utc_now())
            if row and row["digest"] == digest:
                return int(row["version"]), False
            version = int(row["version"]) + 1 if row else 1
            c.execute(
                "INSERT INTO versions(target, version, digest, published_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(target) DO UPDATE SET version = excluded.version, digest = excluded.digest, "
                "published_at = excluded.published_at",
                (target, version, digest, now),
            )
            return version, True

    def raise_version_floor(self, target: str, version: int) -> bool:
        """A node has applied ``version`` of ``target``, above what this store issued: the store was
        restored from a backup or made anew. Lift the stored version to it and forget the digest,
        so the next publish goes out as ``version + 1`` and the nodes accept it. True if lifted."""
        with self.transaction() as c:
            row = c.execute("SELECT version FROM versions WHERE target = ?", (target,)).fetchone()
            if row is not None and int(row[0]) >= version:
                return False
            c.execute(
                "INSERT INTO versions(target, version, digest, published_at) VALUES (?, ?, '', ?) "
                "ON CONFLICT(target) DO UPDATE SET version = excluded.version, digest = '', published_at = excluded.published_at",
                (target, version, fmt_time(utc_now())),
            )
            return True

    def last_digest(self, target: str) -> str | None:
        row = self._one("SELECT digest FROM versions WHERE target = ?", (target,))
        return str(row[0]) if row else None

    def zone_emergency(self, zone: str) -> tuple[str, bool] | None:
        """The last emergency sent to ``zone`` and whether it was cleared since, or None if none ever was."""
        row = self._one("SELECT emergency_id, cleared FROM zone_emergencies WHERE zone = ?", (zone,))
        return (str(row[0]), bool(row[1])) if row else None

    def set_zone_emergency(self, zone: str, emergency_id: str, *, cleared: bool) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT INTO zone_emergencies(zone, emergency_id, cleared, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(zone) DO UPDATE SET emergency_id = excluded.emergency_id, cleared = excluded.cleared, "
                "updated_at = excluded.updated_at",
                (zone, emergency_id, int(cleared), fmt_time(utc_now())),
            )

    def versions(self) -> dict[str, int]:
        return {r["target"]: int(r["version"]) for r in self._all("SELECT target, version FROM versions")}

    # -- ward inventory ----------------------------------------------------------------------

    def sync_ward(self, ward: Ward) -> None:
        """Mirror the ward file's zones and devices (the file stays the place to edit them)."""
        with self.transaction() as c:
            for z in ward.zones:
                c.execute(
                    "INSERT INTO zones(id, name, windows) VALUES (?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET name = excluded.name, windows = excluded.windows",
                    (z.id, z.name, json.dumps([str(w) for w in z.windows])),
                )
            for d in ward.devices:
                c.execute(
                    "INSERT INTO devices(id, kind, zone, name, volume) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, zone = excluded.zone, "
                    "name = excluded.name, volume = excluded.volume",
                    (d.id, d.kind, d.zone, d.name, d.volume),
                )

    # -- media -------------------------------------------------------------------------------

    def add_media(self, m: StoredMedia) -> MediaRow:
        with self.transaction() as c:
            c.execute(
                "INSERT OR IGNORE INTO media(name, sha256, type, size, created_at) VALUES (?, ?, ?, ?, ?)",
                (m.name, m.sha256, m.type, m.size, fmt_time(utc_now())),
            )
        return MediaRow(m.name, m.sha256, m.type, m.size)

    def media(self, name: str) -> MediaRow:
        r = self._one("SELECT name, sha256, type, size FROM media WHERE name = ?", (name,))
        if r is None:
            raise NotFoundError(f"media {name} is not in the store: queue the announcement again to produce it")
        return MediaRow(r["name"], r["sha256"], r["type"], int(r["size"]))

    # -- announcements -----------------------------------------------------------------------

    def add_announcement(self, a: StoredAnnouncement) -> StoredAnnouncement:
        """Insert a new announcement; its queue position is assigned here (queue order = insertion)."""
        with self.transaction() as c:
            if c.execute("SELECT 1 FROM announcements WHERE id = ?", (a.id,)).fetchone():
                raise ScheduleError(
                    f"announcement {a.id!r} is already in the store: give it another id, or `broadcaster cancel {a.id}` "
                    "and queue it under a new id"
                )
            for name in (a.audio, *a.slides):
                if not c.execute("SELECT 1 FROM media WHERE name = ?", (name,)).fetchone():
                    raise NotFoundError(f"announcement {a.id}: media {name} was not stored first")
            seq = int(c.execute("SELECT COALESCE(MAX(queue_seq), 0) + 1 FROM announcements").fetchone()[0])
            c.execute(
                "INSERT INTO announcements(id, title, text, spoken_text, priority, readings, chime, show_on_tv, audio, "
                "duration_ms, engine, slides, queue_seq, queued_at, status, source) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?)",
                (
                    a.id, a.title, a.text, a.spoken_text, a.priority, a.readings, int(a.chime), int(a.show_on_tv),
                    a.audio, a.duration_ms, a.engine, json.dumps(list(a.slides)), seq, fmt_time(a.queued_at), a.source,
                ),
            )
            c.executemany(
                "INSERT INTO announcement_zones(announcement_id, zone_id) VALUES (?, ?)", [(a.id, z) for z in a.zones]
            )
            s = spec_to_row(a.schedule)
            c.execute(
                "INSERT INTO schedules(announcement_id, kind, at, times, start_date, end_date, weekdays) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (a.id, s["kind"], s["at"], s["times"], s["start_date"], s["end_date"], s["weekdays"]),
            )
            self._bump("plan_revision")
        return self.announcement(a.id)

    def _ann_from_row(self, r: sqlite3.Row) -> StoredAnnouncement:
        zones = tuple(
            z[0] for z in self._all("SELECT zone_id FROM announcement_zones WHERE announcement_id = ? ORDER BY zone_id", (r["id"],))
        )
        s = self._one("SELECT * FROM schedules WHERE announcement_id = ?", (r["id"],))
        assert s is not None, f"announcement {r['id']} has no schedule row"
        return StoredAnnouncement(
            id=r["id"], title=r["title"], text=r["text"], spoken_text=r["spoken_text"], priority=r["priority"],
            readings=int(r["readings"]), chime=bool(r["chime"]), show_on_tv=bool(r["show_on_tv"]), zones=zones,
            schedule=spec_from_row(s, self.tz), audio=r["audio"], duration_ms=int(r["duration_ms"]), engine=r["engine"],
            slides=tuple(json.loads(r["slides"])), queue_seq=int(r["queue_seq"]), queued_at=parse_time(r["queued_at"]),
            status=r["status"], cancelled_at=_t(r["cancelled_at"]), source=r["source"],
        )

    def announcement(self, ann_id: str) -> StoredAnnouncement:
        r = self._one("SELECT * FROM announcements WHERE id = ?", (ann_id,))
        if r is None:
            raise NotFoundError(f"no announcement {ann_id!r} in the store: `broadcaster list` shows the ids")
        return self._ann_from_row(r)

    def announcements(self, *, include_cancelled: bool = False) -> list[StoredAnnouncement]:
        sql = "SELECT * FROM announcements" + ("" if include_cancelled else " WHERE status = 'active'")
        with self._lock:
            return [self._ann_from_row(r) for r in self._all(sql + " ORDER BY queue_seq")]

    # -- voices (which engine speaks each announcement) ------------------------------------

    def set_voice(self, ann_id: str, *, engine: str, voice: str, preferred: str, fallback: bool,
                  now: datetime | None = None) -> None:
        now = now or utc_now()
        with self.transaction() as c:
            c.execute(
                "INSERT INTO speech_voices(announcement_id, engine, voice, preferred, fallback, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(announcement_id) DO UPDATE SET engine = excluded.engine, "
                "voice = excluded.voice, preferred = excluded.preferred, fallback = excluded.fallback, "
                "updated_at = excluded.updated_at",
                (ann_id, engine, voice, preferred, int(fallback), fmt_time(now)),
            )

    def voices(self) -> dict[str, SpeechVoiceRow]:
        return {
            r["announcement_id"]: SpeechVoiceRow(
                r["announcement_id"], r["engine"], r["voice"], r["preferred"], bool(r["fallback"]), int(r["attempts"]),
                _t(r["last_try"]), r["last_error"], _t(r["swapped_at"]),
            )
            for r in self._all("SELECT * FROM speech_voices")
        }

    def voice_try_failed(self, ann_id: str, error: str, now: datetime | None = None) -> None:
        now = now or utc_now()
        with self.transaction() as c:
            c.execute(
                "UPDATE speech_voices SET attempts = attempts + 1, last_try = ?, last_error = ?, updated_at = ? "
                "WHERE announcement_id = ?",
                (fmt_time(now), error[:500], fmt_time(now), ann_id),
            )

    def swap_audio(self, ann_id: str, media: StoredMedia, *, duration_ms: int, engine: str, voice: str,
                   preferred: str, now: datetime | None = None) -> None:
        """Put better audio on an active announcement: a new plan revision, so a new schedule version
        with the new media URL goes to the nodes, which prefetch it as any other."""
        now = now or utc_now()
        with self.transaction() as c:
            row = c.execute("SELECT status FROM announcements WHERE id = ?", (ann_id,)).fetchone()
            if row is None or row[0] != "active":
                raise NotFoundError(f"announcement {ann_id!r} is not active: its audio is not replaced")
            self.add_media(media)
            c.execute("UPDATE announcements SET audio = ?, duration_ms = ?, engine = ? WHERE id = ?",
                      (media.name, duration_ms, engine, ann_id))
            c.execute(
                "UPDATE speech_voices SET engine = ?, voice = ?, preferred = ?, fallback = 0, attempts = attempts + 1, "
                "last_try = ?, last_error = '', swapped_at = ?, updated_at = ? WHERE announcement_id = ?",
                (engine, voice, preferred, fmt_time(now), fmt_time(now), fmt_time(now), ann_id),
            )
            self._bump("plan_revision")

    def cancel(self, ann_id: str, now: datetime | None = None) -> StoredAnnouncement:
        """Cancel an announcement: nothing of it plays from now on; its past stays in the as-run log."""
        now = now or utc_now()
        with self.transaction() as c:
            a = self.announcement(ann_id)
            if a.status == "cancelled":
                raise ScheduleError(f"announcement {ann_id!r} was already cancelled")
            c.execute("UPDATE announcements SET status = 'cancelled', cancelled_at = ? WHERE id = ?", (fmt_time(now), ann_id))
            c.execute(
                "UPDATE plan_items SET status = 'cancelled', updated_at = ? WHERE announcement_id = ? AND start > ? "
                "AND status = 'planned'",
                (fmt_time(now), ann_id, fmt_time(now)),
            )
            self._bump("plan_revision")
        return self.announcement(ann_id)

    # -- plan items --------------------------------------------------------------------------

    def record_plan(self, items: Sequence[Any], *, delivered_at: datetime) -> None:
        """Remember items just published (``planner.PlannedItem``): their current start and delivery time.

        ``delivered_at`` is kept from the first delivery, so "delivered before airtime" stays true.
        """
        now = fmt_time(utc_now())
        with self.transaction() as c:
            c.executemany(
                "INSERT INTO plan_items(item_id, announcement_id, zone, priority, requested, start, duration_ms, "
                "status, delivered_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'planned', ?, ?) "
                "ON CONFLICT(item_id) DO UPDATE SET start = excluded.start, duration_ms = excluded.duration_ms, "
                "priority = excluded.priority, updated_at = excluded.updated_at, "
                "delivered_at = COALESCE(plan_items.delivered_at, excluded.delivered_at), "
                "status = CASE WHEN plan_items.status = 'cancelled' THEN 'planned' ELSE plan_items.status END",
                [
                    (i.item_id, i.announcement_id, i.zone, i.priority, fmt_time(i.requested), fmt_time(i.start),
                     i.duration_ms, fmt_time(delivered_at), now)
                    for i in items
                ],
            )

    def record_missed(self, items: Sequence[Any], reason: str) -> None:
        """Items the planner says cannot play any more (``planner.Missed``): kept for the report."""
        now = fmt_time(utc_now())
        with self.transaction() as c:
            c.executemany(
                "INSERT INTO plan_items(item_id, announcement_id, zone, priority, requested, start, duration_ms, "
                "status, reason, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'missed', ?, ?) "
                "ON CONFLICT(item_id) DO UPDATE SET status = 'missed', reason = excluded.reason, "
                "updated_at = excluded.updated_at WHERE plan_items.status = 'planned'",
                [
                    (m.item_id, m.announcement_id, m.zone, m.priority, fmt_time(m.requested), fmt_time(m.requested),
                     m.duration_ms, m.reason or reason, now)
                    for m in items
                ],
            )

    def delivered_ids(self) -> dict[str, datetime]:
        """Items the nodes received before their start, with the start last sent to them."""
        return {
            r[0]: parse_time(r[1])
            for r in self._all("SELECT item_id, start FROM plan_items WHERE delivered_at IS NOT NULL AND status = 'planned'")
        }

    def decided_ids(self) -> set[str]:
        """Items already settled as missed, or single airings cancelled: the planner leaves them alone."""
        return {r[0] for r in self._all("SELECT item_id FROM plan_items WHERE status = 'missed' "
                                        "UNION SELECT item_id FROM skipped_items")}

    def plan_items(self, start_from: datetime | None = None, start_until: datetime | None = None) -> list[PlanItemRow]:
        sql = "SELECT * FROM plan_items WHERE 1 = 1"
        args: list[str] = []
        if start_from:
            sql, args = sql + " AND requested >= ?", [*args, fmt_time(start_from)]
        if start_until:
            sql, args = sql + " AND requested < ?", [*args, fmt_time(start_until)]
        return [
            PlanItemRow(
                r["item_id"], r["announcement_id"], r["zone"], r["priority"], parse_time(r["requested"]),
                parse_time(r["start"]), int(r["duration_ms"]), r["status"], _t(r["delivered_at"]), r["reason"],
            )
            for r in self._all(sql + " ORDER BY start", args)
        ]

    def mark_unaired(self, before: datetime) -> list[str]:
        """Items that ended before ``before`` with no as-run event from any node: marked missed."""
        with self.transaction() as c:
            rows = c.execute(
                "SELECT item_id, start, duration_ms FROM plan_items p WHERE status = 'planned' AND start < ? "
                "AND NOT EXISTS (SELECT 1 FROM asrun a WHERE a.item_id = p.item_id)",
                (fmt_time(before),),
            ).fetchall()
            ids = [r[0] for r in rows if parse_time(r[1]) + timedelta(milliseconds=int(r[2])) < before]
            c.executemany(
                "UPDATE plan_items SET status = 'missed', reason = 'no as-run event received from any node', "
                "updated_at = ? WHERE item_id = ?",
                [(fmt_time(utc_now()), i) for i in ids],
            )
        return ids

    # -- devices -----------------------------------------------------------------------------

    def update_device_state(self, st: protocol.DeviceState, *, received_at: datetime, live: bool) -> None:
        """Store what a device says of itself. The clock offset is estimated only from live messages
        (a retained one replayed at subscribe time was sent long ago)."""
        offset = None
        if live and st.clock is not None and st.online:
            offset = int((st.clock - received_at).total_seconds() * 1000)
        with self.transaction() as c:
            c.execute(
                "INSERT INTO devices(id, kind, zone, name) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
                (st.device, st.kind, st.zone, st.device),
            )
            # since when online / offline (the console): changes only when the device's presence does
            c.execute(
                "INSERT INTO device_presence(device_id, online, since) VALUES (?, ?, ?) ON CONFLICT(device_id) DO UPDATE "
                "SET online = excluded.online, since = excluded.since WHERE device_presence.online != excluded.online",
                (st.device, int(st.online), fmt_time(st.clock if (st.clock and not live and st.online) else received_at)),
            )
            if not st.online:
                # An offline notice (the last will, or a clean stop) carries nothing else worth
                # keeping: what the node last said of its cache and schedule stays the best knowledge.
                c.execute("UPDATE devices SET online = 0, state_at = ?, playing = NULL WHERE id = ?",
                          (fmt_time(received_at), st.device))
                return
            c.execute(
                "UPDATE devices SET online = ?, last_seen = CASE WHEN ? THEN ? ELSE last_seen END, state_at = ?, "
                "reported_volume = COALESCE(?, reported_volume), cache_items = ?, cache_bytes = ?, missing = ?, "
                "applied = ?, playing = ?, agent_version = ?, "
                "clock_offset_ms = COALESCE(?, clock_offset_ms) WHERE id = ?",
                (
                    int(st.online), int(st.online), fmt_time(st.clock if (st.clock and not live) else received_at),
                    fmt_time(received_at), st.volume, st.cache_items, st.cache_bytes, json.dumps(list(st.missing)),
                    json.dumps(st.applied), st.playing, st.agent_version, offset, st.device,
                ),
            )

    def clock_offset_ms(self, device: str) -> int | None:
        row = self._one("SELECT clock_offset_ms FROM devices WHERE id = ?", (device,))
        return None if row is None or row[0] is None else int(row[0])

    def devices(self) -> list[DeviceRow]:
        return [
            DeviceRow(
                id=r["id"], kind=r["kind"], zone=r["zone"], name=r["name"], volume=int(r["volume"]),
                online=bool(r["online"]), last_seen=_t(r["last_seen"]), reported_volume=r["reported_volume"],
                cache_items=int(r["cache_items"]), cache_bytes=int(r["cache_bytes"]),
                missing=tuple(json.loads(r["missing"])), applied=json.loads(r["applied"]), playing=r["playing"],
                agent_version=r["agent_version"], clock_offset_ms=r["clock_offset_ms"],
            )
            for r in self._all("SELECT * FROM devices ORDER BY kind DESC, zone, id")
        ]

    # -- as-run ------------------------------------------------------------------------------

    def plan_item_zone(self, item_id: str) -> str | None:
        """The zone an item was delivered to, or None if the central never planned it."""
        row = self._one("SELECT zone FROM plan_items WHERE item_id = ?", (item_id,))
        return str(row[0]) if row else None

    def add_event(self, ev: protocol.AsRunEvent, *, zone: str | None, received_at: datetime) -> bool:
        """Store an as-run event once; a re-sent event returns False and changes nothing.

        Once means once per ``event_id`` and also once per airing (device, item, scheduled start):
        a node reports one outcome per airing, so a second event for it, whatever its id, is a
        duplicate (a node that lost its memory, or one inventing events).
        """
        with self.transaction() as c:
            if c.execute(
                "SELECT 1 FROM asrun WHERE event_id = ? OR (device = ? AND item_id = ? AND scheduled = ?)",
                (ev.event_id, ev.device, ev.item_id, fmt_time(ev.scheduled)),
            ).fetchone():
                return False
            cur = c.execute(
                "INSERT OR IGNORE INTO asrun(event_id, device, zone, item_id, announcement_id, kind, scheduled, "
                "started, ended, reason, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    ev.event_id, ev.device, zone, ev.item_id, ev.announcement_id, ev.kind, fmt_time(ev.scheduled),
                    fmt_time(ev.started) if ev.started else None, fmt_time(ev.ended) if ev.ended else None,
                    ev.reason, fmt_time(received_at),
                ),
            )
            return cur.rowcount == 1

    def events(self, start_from: datetime | None = None, start_until: datetime | None = None) -> list[AsRunRow]:
        sql = "SELECT * FROM asrun WHERE 1 = 1"
        args: list[str] = []
        if start_from:
            sql, args = sql + " AND scheduled >= ?", [*args, fmt_time(start_from)]
        if start_until:
            sql, args = sql + " AND scheduled < ?", [*args, fmt_time(start_until)]
        return [
            AsRunRow(
                r["event_id"], r["device"], r["zone"], r["item_id"], r["announcement_id"], r["kind"],
                parse_time(r["scheduled"]), _t(r["started"]), _t(r["ended"]), r["reason"],
            )
            for r in self._all(sql + " ORDER BY scheduled", args)
        ]

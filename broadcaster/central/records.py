"""The console's own tables in the store: accounts, sessions, audit log, drafts, who did what.

Every write takes the store's transaction (``Store.transaction``), which nests: a use case that
stores an announcement and writes its audit line does both in one transaction, or neither.
Tables are created by migration 3 in ``store.py``.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from broadcaster.central.store import Store, spec_to_row
from broadcaster.config import ScheduleSpec
from broadcaster.errors import NotFoundError
from broadcaster.wire.times import format_time as fmt_time, parse_time, utc_now

ROLES = ("composer", "approver", "admin")
ALL_ZONES = "*"


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str
    zones: tuple[str, ...]  # ("*",) = every khu phố
    active: bool
    password_hash: str = ""

    @property
    def label(self) -> str:
        return self.display_name or self.username


@dataclass(frozen=True)
class Session:
    username: str
    csrf: str
    expires_at: datetime


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    username: str
    action: str
    target: str
    detail: str
    address: str


@dataclass(frozen=True)
class Draft:
    id: int
    title: str
    text: str
    spoken_text: str
    zones: tuple[str, ...]
    priority: str
    readings: int
    chime: bool
    show_on_tv: bool
    schedule: ScheduleSpec
    audio: str
    duration_ms: int
    engine: str
    slides: tuple[str, ...]
    status: str
    composer: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str
    announcement_id: str | None
    replaces: str | None


def _spec_json(spec: ScheduleSpec) -> str:
    return json.dumps(spec_to_row(spec))


def _spec_from_json(s: str, tz: Any) -> ScheduleSpec:
    from broadcaster.central.store import spec_from_row

    return spec_from_row(json.loads(s), tz)


class Records:
    """Reads and writes of the console tables, over one ``Store``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- users -----------------------------------------------------------------------------

    @staticmethod
    def _user(r: sqlite3.Row) -> User:
        return User(r["username"], r["display_name"], r["role"], tuple(json.loads(r["zones"])), bool(r["active"]),
                    r["password_hash"])

    def user(self, username: str) -> User | None:
        r = self.store.row("SELECT * FROM console_users WHERE username = ?", (username,))
        return self._user(r) if r else None

    def users(self) -> list[User]:
        return [self._user(r) for r in self.store.rows("SELECT * FROM console_users ORDER BY username")]

    def add_user(self, u: User) -> None:
        now = fmt_time(utc_now())
        with self.store.transaction() as c:
            c.execute(
                "INSERT INTO console_users(username, display_name, role, zones, password_hash, active, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (u.username, u.display_name, u.role, json.dumps(list(u.zones)), u.password_hash, int(u.active), now, now),
            )

    def update_user(self, username: str, **fields: Any) -> None:
        allowed = {"display_name", "role", "zones", "password_hash", "active"}
        assert set(fields) <= allowed, fields
        vals = {k: (json.dumps(list(v)) if k == "zones" else int(v) if k == "active" else v) for k, v in fields.items()}
        with self.store.transaction() as c:
            sets = ", ".join(f"{k} = ?" for k in vals)
            cur = c.execute(f"UPDATE console_users SET {sets}, updated_at = ? WHERE username = ?",
                            (*vals.values(), fmt_time(utc_now()), username))
            if cur.rowcount != 1:
                raise NotFoundError(f"không có tài khoản {username!r} (no such user): `broadcaster users list` shows them")
            # a new password, a new role or a disabled account ends every open session of that user
            c.execute("DELETE FROM console_sessions WHERE username = ?", (username,))

    # -- sessions --------------------------------------------------------------------------

    def add_session(self, token_hash: str, username: str, csrf: str, expires_at: datetime, address: str,
                    now_t: datetime | None = None) -> None:
        now = fmt_time(now_t or utc_now())
        with self.store.transaction() as c:
            c.execute("DELETE FROM console_sessions WHERE expires_at < ?", (now,))
            c.execute(
                "INSERT INTO console_sessions(token_hash, username, csrf, created_at, expires_at, last_seen, address) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (token_hash, username, csrf, now, fmt_time(expires_at), now, address),
            )

    def session(self, token_hash: str, now: datetime) -> Session | None:
        r = self.store.row("SELECT username, csrf, expires_at FROM console_sessions WHERE token_hash = ?", (token_hash,))
        if r is None or parse_time(r["expires_at"]) <= now:
            return None
        return Session(r["username"], r["csrf"], parse_time(r["expires_at"]))

    def touch_session(self, token_hash: str, expires_at: datetime, now: datetime | None = None) -> None:
        with self.store.transaction() as c:
            c.execute("UPDATE console_sessions SET last_seen = ?, expires_at = ? WHERE token_hash = ?",
                      (fmt_time(now or utc_now()), fmt_time(expires_at), token_hash))

    def drop_session(self, token_hash: str) -> None:
        with self.store.transaction() as c:
            c.execute("DELETE FROM console_sessions WHERE token_hash = ?", (token_hash,))

    # -- audit -----------------------------------------------------------------------------

    def audit(self, username: str, action: str, target: str = "", detail: str = "", address: str = "",
              at: datetime | None = None) -> None:
        with self.store.transaction() as c:
            c.execute("INSERT INTO audit_log(at, username, action, target, detail, address) VALUES (?, ?, ?, ?, ?, ?)",
                      (fmt_time(at or utc_now()), username, action, target, detail, address))

    def audit_entries(self, limit: int = 200, offset: int = 0, username: str | None = None) -> list[AuditEntry]:
        sql, args = "SELECT * FROM audit_log", []
        if username:
            sql, args = sql + " WHERE username = ?", [username]
        rows = self.store.rows(sql + " ORDER BY id DESC LIMIT ? OFFSET ?", [*args, limit, offset])
        return [AuditEntry(r["id"], parse_time(r["at"]), r["username"], r["action"], r["target"], r["detail"], r["address"])
                for r in rows]

    # -- drafts ----------------------------------------------------------------------------

    def add_draft(self, d: Draft) -> int:
        with self.store.transaction() as c:
            cur = c.execute(
                "INSERT INTO drafts(title, text, spoken_text, zones, priority, readings, chime, show_on_tv, schedule, audio, "
                "duration_ms, engine, slides, status, composer, created_at, replaces) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (d.title, d.text, d.spoken_text, json.dumps(list(d.zones)), d.priority, d.readings, int(d.chime),
                 int(d.show_on_tv), _spec_json(d.schedule), d.audio, d.duration_ms, d.engine, json.dumps(list(d.slides)),
                 d.status, d.composer, fmt_time(d.created_at), d.replaces),
            )
            return int(cur.lastrowid or 0)

    def _draft(self, r: sqlite3.Row) -> Draft:
        return Draft(
            id=int(r["id"]), title=r["title"], text=r["text"], spoken_text=r["spoken_text"], zones=tuple(json.loads(r["zones"])),
            priority=r["priority"], readings=int(r["readings"]), chime=bool(r["chime"]), show_on_tv=bool(r["show_on_tv"]),
            schedule=_spec_from_json(r["schedule"], self.store.tz), audio=r["audio"], duration_ms=int(r["duration_ms"]),
            engine=r["engine"], slides=tuple(json.loads(r["slides"])), status=r["status"], composer=r["composer"],
            created_at=parse_time(r["created_at"]), decided_by=r["decided_by"],
            decided_at=parse_time(r["decided_at"]) if r["decided_at"] else None, reason=r["reason"],
            announcement_id=r["announcement_id"], replaces=r["replaces"],
        )

    def draft(self, draft_id: int) -> Draft:
        r = self.store.row("SELECT * FROM drafts WHERE id = ?", (draft_id,))
        if r is None:
            raise NotFoundError(f"Không có bản soạn số {draft_id}.")
        return self._draft(r)

    def drafts(self, status: str | None = None, limit: int = 200) -> list[Draft]:
        sql, args = "SELECT * FROM drafts", []
        if status:
            sql, args = sql + " WHERE status = ?", [status]
        return [self._draft(r) for r in self.store.rows(sql + " ORDER BY id DESC LIMIT ?", [*args, limit])]

    def decide_draft(self, draft_id: int, status: str, by: str, reason: str = "", announcement_id: str | None = None,
                     expect: str = "pending", at: datetime | None = None) -> None:
        with self.store.transaction() as c:
            cur = c.execute(
                "UPDATE drafts SET status = ?, decided_by = ?, decided_at = ?, reason = ?, announcement_id = ? "
                "WHERE id = ? AND status = ?",
                (status, by, fmt_time(at or utc_now()), reason, announcement_id, draft_id, expect),
            )
            if cur.rowcount != 1:
                from broadcaster.errors import ScheduleError

                raise ScheduleError(f"Bản soạn số {draft_id} không còn chờ duyệt (đã có người duyệt, trả lại hoặc rút): tải lại trang.")

    # -- people, skipped airings, item versions, volume --------------------------------------

    def set_people(self, announcement_id: str, *, composer: str = "", approver: str = "", draft_id: int | None = None) -> None:
        with self.store.transaction() as c:
            c.execute(
                "INSERT INTO announcement_people(announcement_id, composer, approver, draft_id) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(announcement_id) DO UPDATE SET composer = excluded.composer, approver = excluded.approver, "
                "draft_id = excluded.draft_id",
                (announcement_id, composer, approver, draft_id),
            )

    def set_cancelled_by(self, announcement_id: str, by: str, reason: str) -> None:
        with self.store.transaction() as c:
            c.execute(
                "INSERT INTO announcement_people(announcement_id, cancelled_by, cancel_reason) VALUES (?, ?, ?) "
                "ON CONFLICT(announcement_id) DO UPDATE SET cancelled_by = excluded.cancelled_by, "
                "cancel_reason = excluded.cancel_reason",
                (announcement_id, by, reason),
            )

    def people(self) -> dict[str, sqlite3.Row]:
        return {r["announcement_id"]: r for r in self.store.rows("SELECT * FROM announcement_people")}

    def skip_item(self, item_id: str, announcement_id: str, zone: str, by: str, reason: str, now: datetime) -> None:
        with self.store.transaction() as c:
            c.execute("INSERT INTO skipped_items(item_id, announcement_id, zone, by, at, reason) VALUES (?, ?, ?, ?, ?, ?)",
                      (item_id, announcement_id, zone, by, fmt_time(now), reason))
            c.execute("UPDATE plan_items SET status = 'cancelled', reason = ?, updated_at = ? WHERE item_id = ?",
                      (reason, fmt_time(now), item_id))
            c.execute(
                "INSERT INTO meta(key, value) VALUES ('plan_revision', '1') "
                "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
            )

    def skipped(self) -> dict[str, sqlite3.Row]:
        return {r["item_id"]: r for r in self.store.rows("SELECT * FROM skipped_items")}

    def note_item_versions(self, target: str, version: int, item_ids: list[str]) -> None:
        if not item_ids:
            return
        with self.store.transaction() as c:
            c.executemany("INSERT OR IGNORE INTO item_versions(item_id, target, version) VALUES (?, ?, ?)",
                          [(i, target, version) for i in item_ids])

    def item_versions(self, item_ids: list[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for k in range(0, len(item_ids), 500):
            chunk = item_ids[k:k + 500]
            q = ",".join("?" * len(chunk))
            out.update({r[0]: int(r[1]) for r in self.store.rows(f"SELECT item_id, version FROM item_versions WHERE item_id IN ({q})", chunk)})
        return out

    def set_volume(self, device_id: str, volume: int, by: str, at: datetime | None = None) -> None:
        with self.store.transaction() as c:
            c.execute(
                "INSERT INTO device_volume(device_id, volume, set_by, set_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(device_id) DO UPDATE SET volume = excluded.volume, set_by = excluded.set_by, set_at = excluded.set_at",
                (device_id, volume, by, fmt_time(at or utc_now())),
            )

    def volumes(self) -> dict[str, int]:
        return {r[0]: int(r[1]) for r in self.store.rows("SELECT device_id, volume FROM device_volume")}

    def device_since(self) -> dict[str, datetime]:
        """Since when each device is online (or offline), as far as the central saw it change."""
        return {r[0]: parse_time(r[1]) for r in self.store.rows("SELECT device_id, since FROM device_presence")}

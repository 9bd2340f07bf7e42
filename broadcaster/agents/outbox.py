"""The as-run outbox of a node: events kept until the central says it stored them.

An event leaves the outbox when the *central* acknowledged it (a signed ``event_ack`` on the
device's ``ack`` topic, sent once the event is in the store), not merely once the broker has it:
an event the central could not store is sent again, with a growing delay, so events from days
offline arrive when the link is back, in order. If the disk is full the event waits in memory
instead (and the speaker's airing journal re-creates it after a reboot).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from dataclasses import dataclass


@dataclass
class _Held:
    """An event kept in memory only (the disk refused it), like an outbox row."""

    topic: str
    payload: bytes
    sent: float | None = None
    tries: int = 0


class Outbox:
    """As-run events kept until the central acknowledged storing them.

    On disk (SQLite, synchronous) normally; in memory when the disk refuses the write (full), so the
    event is still sent and re-sent until acknowledged. A row is sent, then sent again after
    ``ack_timeout`` doubling with each try (up to an hour) until its ``event_ack`` arrives.
    """

    def __init__(self, path: Path, ack_timeout: float = 60.0, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self.closed = False
        self.ack_timeout = ack_timeout
        self.clock = clock
        self._mem: dict[str, _Held] = {}  # events the disk refused (full), by key
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # an event written is an event kept through a power cut
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS outbox (n INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT UNIQUE, topic TEXT, payload BLOB, created REAL)"
        )
        cols = {r[1] for r in self._db.execute("PRAGMA table_info(outbox)")}
        if "sent" not in cols:  # an outbox of an older agent: its rows count as never sent
            self._db.execute("ALTER TABLE outbox ADD COLUMN sent REAL")
            self._db.execute("ALTER TABLE outbox ADD COLUMN tries INTEGER NOT NULL DEFAULT 0")

    def put(self, key: str, topic: str, payload: bytes) -> bool:
        """Keep an event; True if on disk, False if only in memory (disk full or failing)."""
        with self._lock:
            try:
                self._db.execute(
                    "INSERT OR IGNORE INTO outbox (key, topic, payload, created) VALUES (?, ?, ?, ?)", (key, topic, payload, self.clock())
                )
                return True
            except sqlite3.Error:
                self._mem.setdefault(key, _Held(topic, payload))
                return False

    def _wait(self, tries: int) -> float:
        return min(self.ack_timeout * (2 ** max(tries - 1, 0)), 3600.0)

    def due(self, limit: int = 50) -> list[tuple[str, str, bytes]]:
        """Events to send now: never sent, or sent and not acknowledged in time."""
        now = self.clock()
        with self._lock:
            rows = [
                (k, t, bytes(p))
                for k, t, p, sent, tries in self._db.execute("SELECT key, topic, payload, sent, tries FROM outbox ORDER BY n")
                if sent is None or now - sent >= self._wait(tries)
            ][:limit]
            rows += [(k, m.topic, m.payload) for k, m in self._mem.items() if m.sent is None or now - m.sent >= self._wait(m.tries)]
            return rows[:limit]

    def sent(self, key: str) -> None:
        now = self.clock()
        with self._lock:
            if key in self._mem:
                self._mem[key].sent = now
                self._mem[key].tries += 1
                return
            try:
                self._db.execute("UPDATE outbox SET sent = ?, tries = tries + 1 WHERE key = ?", (now, key))
            except sqlite3.Error:
                pass  # disk full: it is simply sent again sooner

    def acked(self, key: str) -> bool:
        """The central stored (or refused) it: forget it. True if it was held."""
        with self._lock:
            held = self._mem.pop(key, None) is not None
            try:
                held = self._db.execute("DELETE FROM outbox WHERE key = ?", (key,)).rowcount > 0 or held
            except sqlite3.Error:
                pass
            return held

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]) + len(self._mem)

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self.closed = True

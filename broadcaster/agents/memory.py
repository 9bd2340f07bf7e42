"""The node's memory: a typed desired-state store, saved on disk by its own writer thread.

What a node keeps across reboots (``NodeMemory``): the versions it applied per target, the desired
state of each target (a zone's or device's ``Schedule``, a TV's ``Deck``), the airings it settled
(a week), the emergency book, its volume, when it first started, the replay guard and the last
link error. It lives in ``state.json``, written atomically by ``fsutil`` (temporary file, fsync,
rename, fsync of the folder) with the previous version kept as ``state.json.bak`` (a hard link: no
copy, no space), so a power cut leaves the old or the new file and a corrupted one has a fallback.

Who writes: only the store's writer thread. Whoever changes the memory (the message loop, the
timing loop, paho's link-error callback) does so under ``lock`` and calls ``mark_dirty``, which
only wakes the writer: no thread that must stay responsive, least of all paho's network thread,
ever waits for an SD card. ``flush`` waits until what is in memory now has been written (the
runtime calls it before it acknowledges versions in the retained state: nothing is acknowledged
that a reboot would forget). A full or failing disk is logged once, not raised: the node works
from memory (and the speaker's airing journal keeps what aired).

``lock``/``changed``/``gen`` are the agents' one synchronisation point: every change of desired
state bumps ``gen`` and notifies ``changed``, so the timing and render loops re-evaluate.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from broadcaster.agents.emergencies import EmergencyBook
from broadcaster.fsutil import atomic_write
from broadcaster.wire.messages import Deck, Schedule
from broadcaster.wire.times import format_time as fmt_time, parse_time
from broadcaster.wire.trust import ReplayGuard

log = logging.getLogger(__name__)

DONE_KEEP = timedelta(days=7)  # settled airings remembered this long (the late limit is minutes)

Desired = Schedule | Deck


def airing_key(item_id: str, start: datetime) -> str:
    """The identity of one airing: the same item id at another start is another airing."""
    return f"{item_id}@{fmt_time(start)}"


@dataclass(frozen=True)
class Airing:
    """How an airing ended on this node, and when that was settled."""

    kind: str  # an as-run kind: played, interrupted, failed, missed
    at: datetime


@dataclass(frozen=True)
class LinkError:
    error: str
    at: str  # as shown in the state: seconds, UTC


@dataclass
class NodeMemory:
    applied: dict[str, int] = field(default_factory=dict)  # target -> version
    desired: dict[str, Desired] = field(default_factory=dict)  # target -> its accepted state
    done: dict[str, Airing] = field(default_factory=dict)  # airing_key -> how it ended
    book: EmergencyBook = field(default_factory=EmergencyBook)
    volume: int | None = None  # set by the central's config; None: the ward file's
    since: datetime | None = None  # first start: items before it are not "missed"
    guard: ReplayGuard = field(default_factory=ReplayGuard)
    link_error: LinkError | None = None

    def to_json(self) -> dict[str, Any]:
        # The key names are those of earlier agents: an upgraded node keeps what it knew.
        out: dict[str, Any] = {
            "applied": dict(self.applied),
            "desired": {t: d.to_body() for t, d in self.desired.items()},
            "done": {k: {"kind": a.kind, "at": fmt_time(a.at)} for k, a in self.done.items()},
            "emergencies": self.book.to_json(),
            "guard": self.guard.snapshot(),
        }
        if self.volume is not None:
            out["volume"] = self.volume
        if self.since is not None:
            out["since"] = fmt_time(self.since)
        if self.link_error is not None:
            out["link_error"] = {"error": self.link_error.error, "at": self.link_error.at}
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> NodeMemory:
        """Read ``state.json``; a part that does not parse is dropped with a warning (the central's
        retained state restores desired state, the journal what aired), never the whole memory."""
        try:
            guard = ReplayGuard(_part(d, "guard", dict, {}))
        except (TypeError, ValueError, IndexError, KeyError):
            # versions applied and the emergency book still refuse what was already done
            log.warning("replay guard in the node's memory unreadable: started afresh")
            guard = ReplayGuard()
        m = cls(guard=guard)
        m.applied = {str(t): int(v) for t, v in _part(d, "applied", dict, {}).items() if isinstance(v, int)}
        for target, body in _part(d, "desired", dict, {}).items():
            try:
                # a deck has slides, a schedule items: the body says which it is
                m.desired[target] = Deck.from_body(body) if isinstance(body, dict) and "slides" in body else Schedule.from_body(body)
            except Exception as exc:  # noqa: BLE001 - one bad target must not lose the others
                log.warning("desired state for %s in the node's memory unreadable (%s): dropped", target, exc)
                m.applied.pop(target, None)  # so the central's retained copy is applied again
        for key, a in _part(d, "done", dict, {}).items():
            try:
                m.done[key] = Airing(str(a["kind"]), parse_time(a.get("at"), "done.at"))
            except Exception:  # noqa: BLE001
                log.warning("settled airing %s in the node's memory unreadable: dropped", key)
        m.book = EmergencyBook.from_json(d.get("emergencies"))
        vol = d.get("volume")
        m.volume = vol if isinstance(vol, int) and not isinstance(vol, bool) else None
        try:
            m.since = parse_time(d["since"], "since") if d.get("since") else None
        except Exception:  # noqa: BLE001
            m.since = None
        le = d.get("link_error")
        if isinstance(le, dict) and isinstance(le.get("error"), str):
            m.link_error = LinkError(le["error"], str(le.get("at", "")))
        return m


def _part(d: dict[str, Any], key: str, typ: type, default: Any) -> Any:
    v = d.get(key, default)
    return v if isinstance(v, typ) else default


class JsonFile:
    """A JSON object on disk, written atomically, with the previous version as a fallback."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def backup(self) -> Path:
        return self.path.with_suffix(".bak")

    def load(self) -> dict[str, Any]:
        for path in (self.path, self.backup):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                continue
            except (json.JSONDecodeError, UnicodeDecodeError, OSError):
                # Only possible if the disk corrupted it: try the previous version, and the
                # central's retained state restores the rest (the speaker's journal what aired).
                bad = path.with_suffix(path.suffix + ".corrupt")
                try:
                    os.replace(path, bad)
                except OSError:
                    pass
                log.error("%s was unreadable, moved to %s", path, bad.name)
                continue
            if isinstance(data, dict):
                if path != self.path:
                    log.warning("using the previous copy %s of the node's memory", path.name)
                return data
        return {}

    def save(self, data: dict[str, Any]) -> None:
        text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)
        if self.path.exists():
            # keep the previous version (a hard link: no copy, no space) for a corrupted file
            bak_tmp = self.path.with_suffix(".bak.tmp")
            try:
                bak_tmp.unlink(missing_ok=True)
                os.link(self.path, bak_tmp)
                os.replace(bak_tmp, self.backup)
            except OSError:
                pass
        atomic_write(self.path, text, mode=0o600)  # the node's own memory: nobody else's business


class DesiredStateStore:
    """``NodeMemory`` behind one lock, persisted by a writer thread (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.file = JsonFile(path)
        self.memory = NodeMemory.from_json(self.file.load())
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)  # notified on every bump
        self.gen = 0  # bumped on every change of desired state: waiting loops re-evaluate
        self._listeners: list[Callable[[], None]] = []
        self._io = threading.Condition(threading.Lock())  # guards the counters below
        self._dirty = 0  # changes asked to be saved
        self._saved = 0  # changes the writer has dealt with (written, or failed to)
        self._failed = False
        self._thread: threading.Thread | None = None
        self._stop = False

    @property
    def book(self) -> EmergencyBook:
        return self.memory.book

    # -- changes -------------------------------------------------------------------------------

    def on_bump(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (quick, non-blocking) whenever desired state changes: the prefetcher."""
        self._listeners.append(listener)

    def bump(self) -> None:
        """Desired state changed (call with ``lock`` held): save it, wake the loops and listeners."""
        self.gen += 1
        self.changed.notify_all()
        for listener in self._listeners:
            listener()
        self.mark_dirty()

    def wake(self) -> None:
        """Something the loops wait on arrived (media, not desired state): re-evaluate, save nothing.
        The generation is bumped too: a notify alone is lost if a loop is between deciding and waiting."""
        with self.changed:
            self.gen += 1
            self.changed.notify_all()

    def mark_dirty(self) -> None:
        """Ask for the memory to be saved soon. Never blocks (safe on paho's thread)."""
        with self._io:
            self._dirty += 1
            self._io.notify_all()

    def accept(self, kind: str, target: str, version: int, state: Desired) -> bool:
        """Highest version wins per target and replaces the previous state whole (call with the
        lock held). The caller has checked that ``target`` is the one the topic is for."""
        have = self.memory.applied.get(target)
        if have is not None and version <= have:
            if version < have:
                log.info("ignored %s %s version %d: version %d already applied", kind, target, version, have)
            return False
        self.memory.desired[target] = state
        self.memory.applied[target] = version
        log.info("applied %s %s version %d", kind, target, version)
        return True

    def settle(self, key: str, kind: str, at: datetime) -> None:
        self.memory.done[key] = Airing(kind, at)

    def forget_old(self, now: datetime) -> None:
        """Drop airings settled over a week ago and emergencies over for a week (lock held)."""
        cutoff = now - DONE_KEEP
        for key in [k for k, a in self.memory.done.items() if a.at < cutoff]:
            del self.memory.done[key]
        self.memory.book.prune(now)

    # -- the writer ------------------------------------------------------------------------------

    def start(self) -> None:
        self._stop = False
        self._thread = threading.Thread(target=self._writer, name=f"memory-{self.file.path.parent.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Write what is left and stop the writer."""
        with self._io:
            self._stop = True
            self._io.notify_all()
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None
        if self._saved < self._dirty:  # never started, or the join timed out
            self._write(self._dirty)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything changed so far has been written; False if not (disk full, timeout)."""
        with self._io:
            target = self._dirty
            if self._thread is None:
                pass  # not running: write here
            elif self._io.wait_for(lambda: self._saved >= target, timeout):
                return not self._failed
            else:
                return False
        return self._write(target)

    def _writer(self) -> None:
        while True:
            with self._io:
                self._io.wait_for(lambda: self._stop or self._dirty > self._saved)
                if self._dirty <= self._saved:
                    return
                target = self._dirty
            self._write(target)

    def _write(self, target: int) -> bool:
        with self.lock:
            data = self.memory.to_json()  # a snapshot: the file is written outside the lock
        try:
            self.file.save(data)
            ok = True
        except OSError as exc:
            if not self._failed:
                log.error("cannot save %s (%s): working from memory until the disk has room", self.file.path, exc)
            ok = False
        with self._io:
            if ok and self._failed:
                log.info("%s saved again", self.file.path)
            self._failed = not ok
            self._saved = max(self._saved, target)
            self._io.notify_all()
        return ok

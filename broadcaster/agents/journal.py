"""The airing journal: what went on air and how it ended, kept even when the disk is full.

``state.json`` is rewritten as a whole, so it needs free space; a node whose SD card filled up (or
whose ``state.json`` got corrupted) would forget that it already aired a bulletin and air it again
after a reboot. The journal is a fixed-size file allocated once, at the first start, and then only
*overwritten in place* (a ring of fixed-size slots, ``os.pwrite`` + ``fsync``): writing into blocks a
file already owns needs no free space on ext4/f2fs/vfat, the file systems of a speaker node.

Two records per airing: ``on_air`` right after the audio started (a kill or power cut after it
means the airing was interrupted), and ``done`` with the as-run event (kind, times, reason). On
start the agent reads the ring back and settles what its other memory lost.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SLOT = 1024  # bytes per record: a key, an event body with a bounded reason
SLOTS = 512  # a few days of airings at a busy node


class AiringJournal:
    def __init__(self, path: Path, slots: int = SLOTS) -> None:
        self.path = Path(path)
        self.slots = slots
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._n = 0
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            size = os.fstat(fd).st_size
            if size < slots * SLOT:
                # allocate every block now, while there is space (zeros, written for real: a sparse
                # file would need blocks later, exactly when the disk may be full)
                os.pwrite(fd, b"\0" * (slots * SLOT - size), size)
                os.fsync(fd)
            self._fd = fd
        except OSError as exc:
            log.error("airing journal %s unavailable (%s): a full disk may then make this node forget an airing",
                      self.path, exc)
            return
        records = self.records()
        self._n = max((r.get("n", 0) for r in records), default=0)

    def records(self) -> list[dict[str, Any]]:
        """Every readable record, oldest first."""
        if self._fd is None:
            return []
        out = []
        with self._lock:
            for i in range(self.slots):
                raw = os.pread(self._fd, SLOT, i * SLOT).rstrip(b"\0")
                if not raw:
                    continue
                try:
                    rec = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    continue  # a torn write: that slot only
                if isinstance(rec, dict) and isinstance(rec.get("n"), int) and isinstance(rec.get("key"), str):
                    out.append(rec)
        return sorted(out, key=lambda r: r["n"])

    def write(self, key: str, status: str, **fields: Any) -> bool:
        """Append a record (overwriting the oldest slot); False if it could not be made durable."""
        if self._fd is None:
            return False
        with self._lock:
            self._n += 1
            rec = {"n": self._n, "key": key, "status": status, **fields}
            data = json.dumps(rec, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            if len(data) > SLOT:
                ev = dict(rec.get("event") or {})
                ev["reason"] = ""
                data = json.dumps({**rec, "event": ev}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")[:SLOT]
            try:
                os.pwrite(self._fd, data.ljust(SLOT, b"\0"), ((self._n - 1) % self.slots) * SLOT)
                os.fsync(self._fd)
                return True
            except OSError as exc:
                log.error("cannot write the airing journal (%s)", exc)
                return False

    def latest(self) -> dict[str, dict[str, Any]]:
        """The last record of each key."""
        out: dict[str, dict[str, Any]] = {}
        for r in self.records():
            out[r["key"]] = r
        return out

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

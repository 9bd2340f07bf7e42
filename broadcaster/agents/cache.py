"""Bounded on-disk media cache of a device, keyed by sha256.

A node fetches each media file over HTTP well before airtime, checks its size and sha256, and keeps
it here so that a network outage at airtime changes nothing. Properties that matter on 4G:

* a partial download is kept as ``<sha>.part`` and resumed with an HTTP ``Range`` request;
* a file whose bytes do not match (corrupt transfer, wrong file served) is deleted and fetched
  again from scratch; a cached file found corrupt on first use after a start is refetched too;
* the cache is bounded: least recently used files go first, but never one the caller says is
  still needed (media of scheduled items).

Layout: ``<root>/<sha256>`` complete and verified, ``<root>/<sha256>.part`` being downloaded.
Recency is the file's mtime, touched on use, so it survives a reboot without an index file.
"""

from __future__ import annotations

import errno
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from broadcaster.errors import MediaError
from broadcaster.fsutil import KeyedLocks, sha256_file
from broadcaster.wire.messages import MediaRef

# Errors of this node's own disk, not of the network or the server.
LOCAL_DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS}

log = logging.getLogger(__name__)

CHUNK = 64 * 1024


@dataclass(frozen=True)
class CacheStats:
    items: int
    bytes: int


class MediaCache:
    """Media files by sha256 under ``root``, at most ``max_bytes`` (pinned files excepted)."""

    def __init__(
        self, root: Path, max_bytes: int = 512 * 1024 * 1024, *, timeout: float = 20.0,
        min_deadline: float = 60.0, min_rate: float = 8 * 1024,
    ) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.timeout = timeout  # per read: a link that went silent
        # per attempt: a download trickling a byte now and then (a server drowned by a flood of
        # slow clients) would never hit the per-read timeout and would hold the fetch loop, and
        # every other file behind it, for ever. Past this the attempt stops; the .part is kept and
        # the next attempt resumes from it.
        self.min_deadline = min_deadline
        self.min_rate = min_rate
        self._fetch_locks = KeyedLocks()  # one per file being fetched, dropped once fetched
        self._verified: set[str] = set()  # checked since this process started
        self.root.mkdir(parents=True, exist_ok=True)

    # -- lookup ------------------------------------------------------------------------------

    def path(self, sha256: str) -> Path:
        return self.root / sha256

    def has(self, ref: MediaRef) -> bool:
        """True if a complete, verified copy is on disk (verifies once per process)."""
        return self.get(ref) is not None

    def deadline(self, size: int) -> float:
        return self.min_deadline + size / self.min_rate

    def get(self, ref: MediaRef, *, verify: bool = False) -> Path | None:
        """The verified cached file or None. ``verify`` checks the hash again now, whatever was
        checked before (just before airing: a file can be corrupted while the node runs)."""
        p = self.path(ref.sha256)
        try:
            size = p.stat().st_size
        except FileNotFoundError:
            return None
        if size != ref.size:
            self._discard(p, f"size {size} instead of {ref.size}")
            return None
        if verify or ref.sha256 not in self._verified:
            # A file can rot on an SD card, or a previous run may have died mid-write: check once.
            if sha256_file(p) != ref.sha256:
                self._discard(p, "sha256 does not match")
                return None
            self._verified.add(ref.sha256)
        _touch(p)
        return p

    # -- fetch -------------------------------------------------------------------------------

    def fetch(self, ref: MediaRef, *, attempts: int = 2) -> Path:
        """Return the cached file, downloading (resuming) and verifying it if needed.

        Raises MediaError naming the URL and what went wrong if no good copy could be had within
        ``attempts`` downloads; the caller retries later (the node keeps serving what it has).
        """
        with self._fetch_locks.hold(ref.sha256):  # two threads asking for the same file download it once
            have = self.get(ref)
            if have is not None:
                return have
            last: Exception | None = None
            for attempt in range(1, attempts + 1):
                try:
                    return self._download(ref)
                except MediaError as exc:
                    last = exc
                    log.warning("fetch %s (attempt %d/%d): %s", ref.url, attempt, attempts, exc)
            assert last is not None
            raise last

    def _download(self, ref: MediaRef) -> Path:
        final = self.path(ref.sha256)
        part = final.with_name(ref.sha256 + ".part")
        have = part.stat().st_size if part.exists() else 0
        if have >= ref.size:  # complete but it failed the check before, or longer than it should be
            part.unlink(missing_ok=True)
            have = 0
        req = urllib.request.Request(ref.url, headers={"User-Agent": "broadcaster-agent"})
        if have:
            req.add_header("Range", f"bytes={have}-")
        deadline = time.monotonic() + self.deadline(ref.size)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                status = resp.status
                if have and status == 206:
                    mode = "ab"
                    log.info("resuming %s at byte %d", ref.url, have)
                else:
                    mode, have = "wb", 0  # server ignored the Range: start over
                with open(part, mode) as f:
                    written = have
                    while True:
                        if time.monotonic() > deadline:
                            f.flush()
                            raise TimeoutError(f"slower than {self.min_rate / 1024:.0f} kB/s, {written} of {ref.size} bytes so far")
                        chunk = resp.read1(CHUNK) if hasattr(resp, "read1") else resp.read(CHUNK)
                        if not chunk:
                            break
                        written += len(chunk)
                        if written > ref.size:
                            break  # more bytes than announced: the check below fails it
                        f.write(chunk)
                    f.flush()
                    os.fsync(f.fileno())
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            if getattr(exc, "errno", None) in LOCAL_DISK_ERRORS:
                raise MediaError(
                    f"cannot store {ref.url} in {self.root}: {exc.strerror} on this node "
                    "(free some space, or lower --cache-mb); what is already cached still plays"
                ) from exc
            # keep the .part: the next attempt resumes from where this one stopped
            raise MediaError(f"cannot download {ref.url}: {exc}; will retry (check the central's media server)") from exc
        size = part.stat().st_size
        if size != ref.size or written > ref.size:
            if size > ref.size or written > ref.size:
                part.unlink(missing_ok=True)
                raise MediaError(f"{ref.url}: server sent more than {ref.size} bytes: discarded, will refetch")
            raise MediaError(f"{ref.url}: got {size} of {ref.size} bytes: will resume")
        digest = sha256_file(part)
        if digest != ref.sha256:
            part.unlink(missing_ok=True)
            raise MediaError(f"{ref.url}: sha256 {digest[:12]}… instead of {ref.sha256[:12]}…: corrupt, discarded, will refetch")
        os.replace(part, final)
        self._verified.add(ref.sha256)
        _touch(final)
        log.info("cached %s (%d bytes) from %s", ref.sha256[:12], ref.size, ref.url)
        return final

    # -- housekeeping ------------------------------------------------------------------------

    def stats(self) -> CacheStats:
        items = total = 0
        for p in self.root.iterdir():
            if p.is_file() and not p.name.endswith(".part"):
                items += 1
                total += p.stat().st_size
        return CacheStats(items, total)

    def evict(self, keep: Iterable[str] = ()) -> list[str]:
        """Delete least recently used files until under ``max_bytes``; never those in ``keep``."""
        keep_set = set(keep)
        files = []
        total = 0
        for p in self.root.iterdir():
            if not p.is_file():
                continue
            st = p.stat()
            total += st.st_size
            files.append((st.st_mtime, p.name, st.st_size, p))
        removed: list[str] = []
        for _mtime, name, size, p in sorted(files):
            if total <= self.max_bytes:
                break
            sha = name.removesuffix(".part")
            if sha in keep_set:
                continue
            p.unlink(missing_ok=True)
            self._verified.discard(sha)
            total -= size
            removed.append(name)
        if removed:
            log.info("cache over %d bytes: evicted %d file(s)", self.max_bytes, len(removed))
        if total > self.max_bytes:
            log.warning("cache holds %d bytes of scheduled media, above its %d byte bound", total, self.max_bytes)
        return removed

    def _discard(self, p: Path, why: str) -> None:
        log.warning("cached %s is corrupt (%s): deleted, will refetch", p.name[:12], why)
        p.unlink(missing_ok=True)
        self._verified.discard(p.name)


def _touch(p: Path) -> None:
    try:
        os.utime(p)
    except OSError:
        pass

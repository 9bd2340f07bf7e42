"""The one place where the project writes files durably, hashes them, locks by key and names them.

Every durable file (a node's memory, TTS clips, programmes, slides, the catalog, the signing key)
goes through ``atomic_write``/``atomic_file``/``atomic_path``, so they all have the same guarantee:
a reader, or the machine after a power cut, sees the old file or the whole new one, never a part.
That takes four steps, and skipping any one loses it on some file system:

1. write a temporary file *in the same directory* (``os.replace`` is atomic only within one file
   system), created with the final mode from the start (a private key is never readable by
   others, not even for an instant);
2. ``fsync`` the file, so its blocks are on disk before its name is;
3. ``os.replace`` it over the target;
4. ``fsync`` the directory, so the rename itself survives a power cut.

On any failure (a full disk above all) the temporary file is removed: a half-written temporary must
not eat the last free blocks, and the old file stays as it was.

Standard library only: a speaker node imports this too.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

CHUNK = 1 << 20

__all__ = ["CHUNK", "KeyedLocks", "atomic_file", "atomic_path", "atomic_write", "fsync_dir", "safe_name", "sha256_file"]


def fsync_dir(directory: Path) -> None:
    """Make a rename or creation in ``directory`` durable (step 4 above).

    Some file systems (vfat on an SD card, some network mounts) cannot fsync a directory; there the
    rename is as durable as that file system allows, and refusing to write would help nobody.
    """
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _temp_name(path: Path) -> Path:
    # Hidden, next to the target, unique per process and thread: two writers of the same file never
    # share a temporary (the last rename wins, each rename is whole).
    return path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")


@contextlib.contextmanager
def atomic_path(path: Path | str, *, mode: int = 0o644) -> Iterator[Path]:
    """A temporary path that becomes ``path`` when the block ends without an exception.

    For writers that want a file name rather than a file object (ffmpeg, Pillow with a name).
    The temporary exists, empty, with ``mode`` before the block runs.
    """
    path = Path(path)
    tmp = _temp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.close(fd)
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, mode)  # the process umask may have narrowed it; the final mode is what was asked
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


@contextlib.contextmanager
def atomic_file(path: Path | str, *, mode: int = 0o644) -> Iterator[IO[bytes]]:
    """A binary file object whose content replaces ``path`` when the block ends without an exception."""
    path = Path(path)
    tmp = _temp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write(path: Path | str, data: bytes | str | Callable[[IO[bytes]], Any], *, mode: int = 0o644) -> Path:
    """Replace ``path`` whole with ``data`` (bytes, text as UTF-8, or a function that writes to the file).

    ``mode`` is the final file's mode: 0o644 for what the media server hands to devices, 0o600 for
    secrets and a node's own memory. Raises OSError (ENOSPC, EROFS...) with the old file untouched.
    """
    path = Path(path)
    with atomic_file(path, mode=mode) as f:
        if callable(data):
            data(f)
        else:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def sha256_file(path: Path | str, chunk: int = CHUNK) -> str:
    """Hex sha256 of a file's bytes, read in chunks (media files can be large, node memory small)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


class KeyedLocks:
    """One lock per key (a media hash, a cache key), created on first use and dropped when unused.

    Two threads asking for the same key wait for each other; different keys never do. A plain dict
    of locks grows by one entry per key ever seen (every clip, every media file of months of
    schedules); here an entry lives only while some thread holds or waits for it.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, list[int]]] = {}  # key -> (lock, [users])

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            entry = self._locks.get(key)
            if entry is None:
                entry = self._locks[key] = (threading.Lock(), [0])
            entry[1][0] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1][0] -= 1
                if entry[1][0] == 0:
                    del self._locks[key]

    def __len__(self) -> int:
        """Keys held or waited for now (0 when idle: nothing is kept)."""
        with self._guard:
            return len(self._locks)


def safe_name(text: str, max_len: int = 80) -> str:
    """``text`` as one file-name component: letters (Vietnamese too), digits, ``-``, ``_`` and ``.``
    kept, everything else ``_``; never empty, never hidden or a ``.``/``..`` path step, at most
    ``max_len`` characters. Ids come from officers and the wire: none may escape its folder."""
    out = "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:max_len]
    if not out or out.startswith("."):
        out = ("_" + out)[:max_len]
    return out

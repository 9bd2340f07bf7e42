"""Content-addressed media store of the central service: every file is named by its sha256.

The same bytes are stored once, whatever announcement or deck uses them; a URL names exactly one
content, so a node that has ``<sha256>`` cached never fetches it again and can verify what it got.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from broadcaster.errors import MediaError
from broadcaster.fsutil import CHUNK, atomic_file, sha256_file

__all__ = ["TYPES", "MediaStore", "StoredMedia", "media_url", "sha256_file"]  # sha256_file: kept importable from here

TYPES = {".mp3": "audio/mpeg", ".png": "image/png", ".wav": "audio/wav", ".jpg": "image/jpeg"}


@dataclass(frozen=True)
class StoredMedia:
    sha256: str
    size: int
    type: str
    path: Path

    @property
    def name(self) -> str:
        """File name used in URLs: <sha256><ext>."""
        return self.path.name


def media_url(base: str, name: str) -> str:
    """URL of a stored file under the service's media base URL (which ends with "/")."""
    return f"{base}media/{name}"


class MediaStore:
    """Files under ``root/<sha[:2]>/<sha><ext>``, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str, ext: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}{ext}"

    def put_file(self, src: Path) -> StoredMedia:
        src = Path(src)
        ext = src.suffix.lower()
        if ext not in TYPES:
            raise MediaError(f"{src}: media type {ext or '(none)'} is not served; use one of {', '.join(TYPES)}")
        try:
            sha = sha256_file(src)
            dst = self.path_for(sha, ext)
            if not dst.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                with atomic_file(dst, mode=0o644) as out, open(src, "rb") as inp:  # served to devices
                    shutil.copyfileobj(inp, out, CHUNK)
        except OSError as exc:
            raise MediaError(f"cannot store {src} in {self.root}: {exc.strerror or exc} (disk full or not writable?)") from exc
        return StoredMedia(sha, dst.stat().st_size, TYPES[ext], dst)

    def get(self, name: str) -> Path | None:
        """Resolve a URL name (<sha256><ext>) to a file, refusing anything that is not such a name."""
        sha, dot, ext = name.partition(".")
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha) or f".{ext}" not in TYPES:
            return None
        p = self.path_for(sha, f".{ext}")
        return p if p.is_file() else None

"""The media server: nodes fetch audio and slides over HTTP by content name, ``/media/<sha256>.<ext>``.

Why plain HTTP from the standard library: the files are immutable and named by their hash, so
any cache (the node's, a proxy's) may keep them forever; Range requests let a node on a weak 4G
link resume a download; nothing else is served, and a name that is not a sha256 with a known
extension never reaches the file system, so no path can escape the store.
"""

from __future__ import annotations

import logging
import re
import threading
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from broadcaster.errors import ConfigError
from broadcaster.media import TYPES, MediaStore

log = logging.getLogger(__name__)

NAME_RE = re.compile(r"^/media/([0-9a-f]{64}\.[a-z0-9]{2,4})$")
RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024


class _Handler(BaseHTTPRequestHandler):
    server: MediaServer  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"  # keep-alive: a node fetches a bulletin's files in one connection
    # Half-open 4G connections never close by themselves: without a timeout each holds a thread forever.
    timeout = 60
    server_version = "broadcaster-media"
    sys_version = ""

    def log_message(self, fmt: str, *args: object) -> None:  # into logging, not stderr
        log.debug("%s %s", self.address_string(), fmt % args)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    def _not_found(self) -> None:
        msg = b"not found\n"
        self.send_response(HTTPStatus.NOT_FOUND)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(msg)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(msg)

    def _serve(self, body: bool) -> None:
        m = NAME_RE.match(self.path.split("?", 1)[0])
        path: Path | None = self.server.store.get(m.group(1)) if m else None
        if path is None:
            self._not_found()
            return
        name = m.group(1)  # type: ignore[union-attr]
        sha = name.split(".", 1)[0]
        size = path.stat().st_size
        etag = f'"{sha}"'
        inm = self.headers.get("If-None-Match")
        if inm and (inm.strip() == "*" or etag in {t.strip().removeprefix("W/") for t in inm.split(",")}):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start, end = 0, size - 1
        status = HTTPStatus.OK
        rng = self.headers.get("Range")
        if rng and self.headers.get("If-Range", etag) == etag:
            r = RANGE_RE.match(rng.strip())
            # A syntactically invalid range (e.g. "bytes=5-3") is ignored: the whole file, 200 (RFC 9110 14.2).
            if r and (r.group(1) or r.group(2)) and not (r.group(1) and r.group(2) and int(r.group(2)) < int(r.group(1))):
                if r.group(1):
                    start = int(r.group(1))
                    end = min(int(r.group(2)), size - 1) if r.group(2) else size - 1
                else:  # suffix: the last N bytes
                    start = max(0, size - int(r.group(2)))
                if start >= size:
                    self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = HTTPStatus.PARTIAL_CONTENT
        length = end - start + 1
        self.send_response(status)
        self.send_header("Content-Type", TYPES.get(path.suffix, "application/octet-stream"))
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", etag)
        self.send_header("Cache-Control", "public, max-age=31536000, immutable")  # content-addressed
        self.send_header("Last-Modified", formatdate(path.stat().st_mtime, usegmt=True))
        if status == HTTPStatus.PARTIAL_CONTENT:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if not body:
            return
        try:
            with open(path, "rb") as f:
                f.seek(start)
                left = length
                while left > 0:
                    block = f.read(min(CHUNK, left))
                    if not block:
                        break
                    self.wfile.write(block)
                    left -= len(block)
        except (BrokenPipeError, ConnectionResetError):
            log.info("client %s closed the connection during %s", self.address_string(), name)


class MediaServer(ThreadingHTTPServer):
    """Serves one MediaStore; ``start()`` runs it on a daemon thread, ``stop()`` shuts it down."""

    daemon_threads = True

    def __init__(self, store: MediaStore, listen: str) -> None:
        host, _, port = listen.rpartition(":")
        try:
            super().__init__((host or "0.0.0.0", int(port)), _Handler)
        except OSError as exc:
            raise ConfigError("ward file", "service.listen", f"cannot listen on {listen}: {exc.strerror or exc}",
                              "a free host:port (another service may be using it)") from exc
        self.store = store
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> MediaServer:
        self._thread = threading.Thread(target=self.serve_forever, name="media-http", daemon=True)
        self._thread.start()
        log.info("media server on %s:%d", *self.server_address[:2])
        return self

    def stop(self) -> None:
        if self._thread:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server_close()

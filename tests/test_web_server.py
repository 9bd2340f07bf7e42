"""The one web server's bounds against slow or flooding clients, with real sockets."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

from starlette.applications import Starlette

from broadcaster.media import MediaStore
from broadcaster.web.media import media_routes
from broadcaster.web.server import WebServer


def _server(tmp_path: Path, **kw: float) -> WebServer:
    return WebServer(Starlette(routes=media_routes(MediaStore(tmp_path / "m"))), "127.0.0.1:0", **kw).start()  # type: ignore[arg-type]


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    """True if the server closes the connection within ``seconds`` (what it still sends is read and dropped)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            if sock.recv(4096) == b"":
                return True
        except (TimeoutError, socket.timeout):
            return False
        except ConnectionResetError:
            return True
    return False


def test_silent_and_slowloris_connections_are_closed_and_others_still_served(tmp_path: Path) -> None:
    srv = _server(tmp_path, head_timeout=1.0)
    try:
        silent = socket.create_connection(("127.0.0.1", srv.port))
        slow = socket.create_connection(("127.0.0.1", srv.port))
        slow.sendall(b"GET /media/x HTTP/1.1\r\nHost: a\r\n")  # the head never ends
        # meanwhile a real client is answered
        code = None
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{srv.port}/media/nothing.mp3", timeout=5)
        except urllib.error.HTTPError as e:
            code = e.code
        assert code == 404
        assert _closed_within(silent, 10) and _closed_within(slow, 10)
        # a kept-alive connection that goes quiet after a response is closed too
        ka = socket.create_connection(("127.0.0.1", srv.port))
        ka.sendall(b"GET /media/nothing.mp3 HTTP/1.1\r\nHost: a\r\n\r\n")
        ka.settimeout(5)
        assert ka.recv(4096).startswith(b"HTTP/1.1 404")
        assert _closed_within(ka, 10)
    finally:
        srv.stop()


def test_a_flood_of_connections_gets_503_not_a_pile_up(tmp_path: Path) -> None:
    srv = _server(tmp_path, head_timeout=30.0, limit_concurrency=5)
    held = []
    try:
        for _ in range(8):
            held.append(socket.create_connection(("127.0.0.1", srv.port)))
        time.sleep(0.3)
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(b"GET /media/nothing.mp3 HTTP/1.1\r\nHost: a\r\n\r\n")
        s.settimeout(5)
        assert s.recv(4096).startswith(b"HTTP/1.1 503")
        for h in held:
            h.close()
        time.sleep(0.3)
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{srv.port}/media/nothing.mp3", timeout=5)
        except urllib.error.HTTPError as e:
            assert e.code == 404  # served again once the flood is gone
    finally:
        srv.stop()

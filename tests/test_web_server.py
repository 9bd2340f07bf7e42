"""The one web server's bounds against slow or flooding clients, with real sockets."""

from __future__ import annotations

import http.client
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
        except TimeoutError:
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
    srv = _server(tmp_path, head_timeout=30.0, limit_concurrency=5, per_address=100)
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


def test_https_with_the_ward_files_certificate(ward_dir: Path, tmp_path: Path) -> None:
    """[console] tls_cert / tls_key: the one server speaks HTTPS; only one of them is refused."""
    import re
    import ssl
    import subprocess

    import pytest

    from broadcaster.config import load_ward
    from broadcaster.errors import ConfigError

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    wf = ward_dir / "devices" / "ward.toml"
    text = wf.read_text(encoding="utf-8")
    wf.write_text(re.sub(r"# tls_cert = .*", f'tls_cert = "{cert}"', text), encoding="utf-8")
    with pytest.raises(ConfigError, match="tls_key"):
        load_ward(wf)
    wf.write_text(re.sub(r"# tls_cert = .*\n# tls_key = .*", f'tls_cert = "{cert}"\ntls_key = "{key}"', text), encoding="utf-8")
    ward = load_ward(wf)
    assert ward.console.tls_cert == cert
    srv = WebServer(Starlette(routes=media_routes(MediaStore(tmp_path / "m"))), "127.0.0.1:0",
                    tls_cert=ward.console.tls_cert, tls_key=ward.console.tls_key).start()
    try:
        ctx = ssl.create_default_context(cafile=str(cert))
        ctx.check_hostname = False
        try:
            urllib.request.urlopen(f"https://127.0.0.1:{srv.port}/media/nothing.mp3", timeout=5, context=ctx)
        except urllib.error.HTTPError as e:
            assert e.code == 404  # answered over TLS, verified against the certificate
        with pytest.raises((OSError, http.client.HTTPException)):  # plain HTTP to the TLS port: no answer
            urllib.request.urlopen(f"http://127.0.0.1:{srv.port}/media/nothing.mp3", timeout=5).read()
    finally:
        srv.stop()


def test_one_address_cannot_take_every_connection(tmp_path: Path) -> None:
    srv = _server(tmp_path, head_timeout=30.0, per_address=4)
    held = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(4)]
    try:
        extra = socket.create_connection(("127.0.0.1", srv.port))
        assert _closed_within(extra, 5)  # the fifth from the same address is closed at once
        held.pop().close()
        time.sleep(0.3)
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{srv.port}/media/nothing.mp3", timeout=5)
        except urllib.error.HTTPError as e:
            assert e.code == 404  # a slot freed: served
    finally:
        for h in held:
            h.close()
        srv.stop()

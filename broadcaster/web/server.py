"""uvicorn on a thread, with bounds against slow or flooding clients.

Bounds, and why:

* ``limit_concurrency``: beyond this many open connections (or running requests) uvicorn answers
  503 at once instead of piling up work; a ward has ~50 nodes and a few officers.
* a *request-head timeout* (``HeadTimeoutH11Protocol``): uvicorn's keep-alive timer starts only
  after a first response, so a client that connects and sends nothing, or sends its headers a
  byte at a time (slowloris), would hold a connection forever. Here a connection that has not
  delivered a complete request head within ``HEAD_TIMEOUT`` seconds is closed.
* at most ``PER_ADDRESS`` open connections from one client address: one misbehaving host cannot
  take every slot of ``limit_concurrency`` from the nodes and the officers.
* ``timeout_keep_alive``: idle keep-alive connections are closed after a few seconds.
* the request body is read by Starlette only for the console's forms (uploads are capped by the
  route); media routes read no body.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from broadcaster.errors import ConfigError

log = logging.getLogger(__name__)

HEAD_TIMEOUT = 15.0
LIMIT_CONCURRENCY = 200
PER_ADDRESS = 32  # open connections from one address (a node needs one or two, a browser six)
KEEP_ALIVE = 5


class HeadTimeoutH11Protocol(H11Protocol):
    """H11 with a deadline for each request head (see the module doc)."""

    _head_timer: asyncio.TimerHandle | None = None
    head_timeout: float = HEAD_TIMEOUT

    per_address: int = PER_ADDRESS
    open_by_address: dict[str, int] = {}  # replaced by a dict of its own for each server (see WebServer)
    _counted: str | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        addr = self.client[0] if self.client else ""
        n = self.open_by_address.get(addr, 0)
        if n >= self.per_address:
            log.info("refusing connection %d from %s (at most %d at once)", n + 1, addr, self.per_address)
            transport.close()
            return
        self.open_by_address[addr] = n + 1
        self._counted = addr
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timeout)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self.cycle is None or self.cycle.response_complete:
            # no request in progress: the head never arrived in time
            if not self.transport.is_closing():
                log.info("closing a connection that sent no complete request in %.0f s", self.head_timeout)
                self.transport.close()

    def handle_events(self) -> None:
        before = self.cycle
        super().handle_events()
        if self.cycle is not None and self.cycle is not before:
            self._disarm()  # a request head arrived: the app (and keep-alive timer) take over

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()  # the next request head on this keep-alive connection has a deadline too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._counted is not None:
            left = self.open_by_address.get(self._counted, 1) - 1
            if left > 0:
                self.open_by_address[self._counted] = left
            else:
                self.open_by_address.pop(self._counted, None)
            self._counted = None
        super().connection_lost(exc)


class WebServer:
    """Runs an ASGI app on ``listen`` ("host:port", port 0 = any free port) in a daemon thread."""

    def __init__(self, app: Any, listen: str, *, tls_cert: Path | None = None, tls_key: Path | None = None,
                 head_timeout: float = HEAD_TIMEOUT, limit_concurrency: int = LIMIT_CONCURRENCY,
                 per_address: int = PER_ADDRESS) -> None:
        host, _, port = listen.rpartition(":")
        self.host = host or "0.0.0.0"
        try:
            self.sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind((self.host, int(port)))
            self.sock.listen(512)
        except OSError as exc:
            raise ConfigError("ward file", "service.listen", f"cannot listen on {listen}: {exc.strerror or exc}",
                              "a free host:port (another service may be using it)") from exc
        self.sock.set_inheritable(True)
        # one event loop thread per server: the per-address counts need no lock
        protocol = type("BoundedH11Protocol", (HeadTimeoutH11Protocol,),
                        {"head_timeout": head_timeout, "per_address": per_address, "open_by_address": {}})
        self.config = uvicorn.Config(
            app, http=protocol, lifespan="off", log_config=None, access_log=False,
            limit_concurrency=limit_concurrency, timeout_keep_alive=KEEP_ALIVE, timeout_graceful_shutdown=3,
            ssl_certfile=str(tls_cert) if tls_cert else None, ssl_keyfile=str(tls_key) if tls_key else None,
            server_header=False,
        )
        self.server = uvicorn.Server(self.config)
        self._thread: threading.Thread | None = None
        self.tls = tls_cert is not None

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def start(self) -> WebServer:
        # uvicorn captures signals only on the main thread: off it, the service keeps its own handlers
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, name="web", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        log.info("web server on %s://%s:%d", "https" if self.tls else "http", self.host, self.port)
        return self

    def stop(self) -> None:
        if self._thread:
            self.server.should_exit = True
            self._thread.join(timeout=10)
            self._thread = None
        try:
            self.sock.close()
        except OSError:
            pass

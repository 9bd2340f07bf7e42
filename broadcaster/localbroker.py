"""Run a private Mosquitto on loopback: for the demo when no broker is configured, for tests and benchmarks.

This is a real Mosquitto process (Debian package ``mosquitto``), not an imitation: the same broker a
ward runs in production, started with a generated configuration on a free port.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from broadcaster.errors import BroadcasterError

log = logging.getLogger(__name__)

# Why these settings: Mosquitto's default per-client queue (max_queued_messages 1000) and in-flight
# window (20) drop or stall QoS 1 traffic when a whole province's nodes reconnect at once; the
# values below are the ones recommended in devices/mosquitto/ (see docs/scaling.md).
DEFAULT_SETTINGS = {
    "max_queued_messages": "10000",
    "max_inflight_messages": "100",
    "persistent_client_expiration": "14d",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_mosquitto() -> str:
    for cand in (shutil.which("mosquitto"), "/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"):
        if cand and Path(cand).is_file():
            return cand
    raise BroadcasterError("mosquitto is not installed: install the Debian package `mosquitto` (scripts/demo does it)")


class LocalMosquitto:
    """A Mosquitto process on 127.0.0.1 with persistence in ``data_dir``; restartable on the same port."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        persistence: bool = True,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        # A port found free can be taken by another process before Mosquitto binds it (tests and
        # benchmarks start many brokers): a broker that never ran may then move to another port.
        self._may_move = port is None
        self.persistence = persistence
        self.settings = {**DEFAULT_SETTINGS, **(settings or {})}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def _write_conf(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.data_dir}/",
            "autosave_interval 1",  # tests restart the broker: keep the on-disk state fresh
            f"log_dest file {self.data_dir}/mosquitto.log",
            "log_type error",
            "log_type warning",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            # Started as root, Mosquitto switches to the `mosquitto` user, which cannot write a
            # data folder made by root (a test's temp dir, the demo's var/): persistence and the
            # log would silently fail. This broker listens on loopback only, so it stays as root.
            lines.append("user root")
        lines += [f"{k} {v}" for k, v in self.settings.items()]
        conf = self.data_dir / "mosquitto.conf"
        conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return conf

    def start(self, timeout: float = 10.0) -> LocalMosquitto:
        for attempt in range(5):
            try:
                self._start_once(timeout)
                self._may_move = False  # clients know this port now: a restart must keep it
                return self
            except BroadcasterError:
                if not self._may_move or attempt == 4:
                    raise
                log.info("port %d was taken; trying another", self.port)
                self.port = free_port()
        raise AssertionError("unreachable")

    def _start_once(self, timeout: float) -> None:
        conf = self._write_conf()
        self.proc = subprocess.Popen(
            [find_mosquitto(), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                logfile = self.data_dir / "mosquitto.log"
                if logfile.exists():
                    err += " " + " ".join(logfile.read_text(errors="replace").splitlines()[-3:])
                self.proc = None
                raise BroadcasterError(f"mosquitto exited at start on port {self.port}: {err.strip()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    log.info("mosquitto listening on %s", self.url)
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise BroadcasterError(f"mosquitto did not listen on port {self.port} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: Mosquitto saves its persistence file before exiting
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """Die without saving, as on a power cut."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> LocalMosquitto:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

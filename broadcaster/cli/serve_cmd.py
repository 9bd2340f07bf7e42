"""``broadcaster serve``: the long-running central service (web console + HTTP media + MQTT + scheduler).

Reads the ward file, opens the store, serves media on ``service.listen``, connects to the broker
at ``service.mqtt_url`` (or ``$BROADCASTER_MQTT_URL``), publishes each zone's schedule and keeps it
current. Stops cleanly on SIGTERM (systemd) or Ctrl-C.

Example::

    broadcaster keys init        # once
    broadcaster serve -v
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from types import FrameType

from broadcaster.tts import ENGINE_NAMES


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("serve", help="run the central service (media server, MQTT publisher, scheduler)",
                       description="Chạy dịch vụ trung tâm / run the central service.")
    p.add_argument("--engine", choices=ENGINE_NAMES, default="auto",
                   help="speech engine (auto: the ward file's [speech] engines; also the preferred voice the service retries)")
    p.add_argument("--ward", type=Path, help="ward file (default: $BROADCASTER_WARD or devices/ward.toml)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from broadcaster.central.service import CentralService, media_store
    from broadcaster.config import load_ward
    from broadcaster.production import Producer

    ward = load_ward(args.ward)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    import os

    from broadcaster.public import routes as public_routes

    # one web server: media for the nodes, the officer's console at /console/, the citizens' pages at /
    service = CentralService(ward, producer=Producer(ward, media_store(ward), engine=args.engine),
                             extra_routes=public_routes(ward), mqtt_ca=os.environ.get("BROADCASTER_MQTT_CA") or None)
    service.start()
    scheme = "https" if ward.console.tls_cert else "http"
    print(f"broadcaster serve: ward {ward.id}, broker {ward.service.mqtt_url}, media {ward.service.media_url} "
          f"(listening on {ward.service.listen}); Ctrl-C to stop", flush=True)
    print(f"Trang công khai / public pages: {scheme}://{ward.service.listen}/", flush=True)
    print(f"Bàn điều khiển / console: {scheme}://{ward.service.listen}/console/ "
          "(first account: broadcaster users add NAME --role \"quản trị\")", flush=True)
    try:
        while not stop.wait(1.0):
            if service.conflict:  # another instance serves this ward (see CentralService._on_lock)
                break
    finally:
        service.stop()
        print("broadcaster serve: stopped", flush=True)
    if service.conflict:
        from broadcaster.errors import BroadcasterError

        raise BroadcasterError(service.conflict)
    return 0

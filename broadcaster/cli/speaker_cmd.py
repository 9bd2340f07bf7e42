"""``broadcaster speaker --device ID``: run the speaker node of a khu phố."""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "speaker",
        help="run a speaker node (plays its khu phố's schedule)",
        description="Run the agent of one speaker node: receive the zone's schedule, prefetch media, "
        "play each item at its time from this machine's clock, report what played.",
    )
    p.add_argument("--device", required=True, help="device id from the ward file, e.g. kp1-loa1")
    add_common(p)
    p.add_argument(
        "--output",
        default="auto",
        help="auto (first of aplay, ffplay, mpg123), aplay, ffplay, mpg123, or file (write WAVs to --out)",
    )
    p.add_argument("--alsa-device", help="ALSA device for aplay/mpg123, e.g. hw:1,0")
    p.add_argument("--cache-mb", type=int, default=512, help="bound of the media cache in MB (default 512)")
    p.add_argument(
        "--late-limit", type=float, default=60.0, help="seconds after its time an item may still start (default 60)"
    )
    p.set_defaults(func=run)


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ward", help="ward file (default: $BROADCASTER_WARD or devices/ward.toml)")
    p.add_argument("--home", help="data folder (default: the ward file's home or $BROADCASTER_HOME)")
    p.add_argument("--broker", help="broker URL (default: $BROADCASTER_MQTT_URL or the ward file)")
    p.add_argument("--public-key", help="ward public key PEM (default: <home>/keys/central.pub)")
    p.add_argument("--mqtt-ca", default=os.environ.get("BROADCASTER_MQTT_CA") or None,
                   help="CA certificate that signed the broker's TLS certificate (the ward's ca.crt from "
                        "`broadcaster broker-config --tls`; default $BROADCASTER_MQTT_CA, else the system's CA store)")
    p.add_argument("--out", default="out", help="folder for --output file/headless (default ./out)")


def _setup(args: argparse.Namespace) -> tuple[Any, Any, Path, Any]:
    from broadcaster.agents.runtime import load_verifier
    from broadcaster.config import load_ward

    ward = load_ward(args.ward)
    device = ward.device(args.device)
    home = Path(args.home).resolve() if args.home else ward.service.home
    return ward, device, home, load_verifier(home, Path(args.public_key) if args.public_key else None)


def serve(agent: Any) -> int:
    """Run until SIGTERM (systemd stop) or Ctrl-C; stop cleanly so the retained state says offline."""
    signal.signal(signal.SIGTERM, lambda *_: agent.stopping.set())
    agent.run_forever()  # its finally: stops cleanly on Ctrl-C too
    return 0


def run(args: argparse.Namespace) -> int:
    from broadcaster.agents.audio_out import make_output
    from broadcaster.agents.speaker import SpeakerAgent
    from broadcaster.errors import ConfigError

    ward, device, home, verifier = _setup(args)
    if device.kind != "speaker":
        raise ConfigError(str(ward.source), f"devices[{device.id}].kind", f"{device.id} is a {device.kind}", "a speaker (use `broadcaster display` for a TV)")
    out = make_output(
        args.output, device=device.id, out_dir=Path(args.out), work_dir=home / "agents" / device.id / "work", alsa_device=args.alsa_device
    )
    agent = SpeakerAgent(
        ward, device, output=out, verifier=verifier, home=home, broker_url=args.broker,
        cache_bytes=args.cache_mb * 1024 * 1024, late_limit_s=args.late_limit, mqtt_ca=args.mqtt_ca,
    )
    return serve(agent)

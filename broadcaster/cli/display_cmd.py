"""``broadcaster display --device ID``: run the reception TV."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from broadcaster.cli.speaker_cmd import _setup, add_common, serve


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "display",
        help="run the reception TV (cycles its deck, shows announcements and emergencies)",
        description="Run the agent of a TV: receive its deck, fetch slides, cycle them fullscreen, "
        "show the announcement slide while it airs and an emergency notice over everything.",
    )
    p.add_argument("--device", required=True, help="device id from the ward file, e.g. tv-tnkq")
    add_common(p)
    p.add_argument("--output", default="window", choices=("window", "headless"), help="window (fullscreen Tk) or headless (files in --out)")
    p.add_argument("--windowed", action="store_true", help="a normal window instead of fullscreen (for checking at a desk)")
    p.add_argument("--cache-mb", type=int, default=1024, help="bound of the slide cache in MB (default 1024)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from broadcaster.agents.display import DisplayAgent
    from broadcaster.agents.display_out import make_display
    from broadcaster.errors import ConfigError

    ward, device, home, verifier = _setup(args)
    if device.kind != "display":
        raise ConfigError(str(ward.source), f"devices[{device.id}].kind", f"{device.id} is a {device.kind}", "a display (use `broadcaster speaker` for a speaker)")
    out = make_display(args.output, device=device.id, out_dir=Path(args.out), fullscreen=not args.windowed)
    agent = DisplayAgent(
        ward, device, output=out, verifier=verifier, home=home, broker_url=args.broker, cache_bytes=args.cache_mb * 1024 * 1024,
        mqtt_ca=args.mqtt_ca,
    )
    return serve(agent)

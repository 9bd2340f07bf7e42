"""``broadcaster cancel ID``: stop an announcement from playing again (hủy thông báo).

What already played stays in the as-run log; a running service removes the item from the zones'
schedules (and clears an emergency) within a second.

Example::

    broadcaster cancel cat-dien-kp4
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("cancel", help="cancel a queued announcement", description="Hủy một thông báo / cancel an announcement.")
    p.add_argument("ann_id", metavar="ID", help="the announcement id (see `broadcaster list`)")
    p.add_argument("--reason", default="", help="why (kept in the audit log and the report)")
    p.add_argument("--ward", type=Path, help="ward file (default: $BROADCASTER_WARD or devices/ward.toml)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from broadcaster.central.service import media_store
    from broadcaster.central.store import Store
    from broadcaster.central.usecases import Actor, UseCases
    from broadcaster.config import load_ward
    from broadcaster.production import Producer

    ward = load_ward(args.ward)
    with Store.for_ward(ward) as store:
        a = UseCases(ward, store, Producer(ward, media_store(ward))).cancel(Actor.cli(), args.ann_id, args.reason)
    print(f"Đã hủy / cancelled: «{a.title}» [id {a.id}] in {', '.join(a.zones)}.")
    print("A running `broadcaster serve` removes it from the nodes' schedules within seconds.")
    return 0

"""``broadcaster deck check FILE``: how long the TV takes to come round, before it goes on the TV.

Example::

    broadcaster deck check playlists/decks/tiep-nhan.toml
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("deck", help="check a TV deck: slides, cycle time, how often the hotline shows",
                       description="Kiểm tra một bộ slide của TV / check a TV deck.")
    dsub = p.add_subparsers(dest="deck_command", metavar="ACTION", required=True)
    c = dsub.add_parser("check", help="lay the deck out (nothing is sent) and print its cycle")
    c.add_argument("file", type=Path, help="deck file, e.g. playlists/decks/tiep-nhan.toml")
    c.add_argument("--ward", type=Path, help="ward file (default: $BROADCASTER_WARD or devices/ward.toml)")
    c.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    from broadcaster.central.textfmt import table
    from broadcaster.config import load_deck, load_ward
    from broadcaster.deckplan import describe
    from broadcaster.production import deck_report

    ward = load_ward(args.ward)
    rep = deck_report(load_deck(args.file), ward)
    rows = [[kind, label, str(n), describe(secs)] for kind, label, n, secs in rep.per_entry]
    print(table(["Loại / kind", "Nội dung", "Slide", "Thời gian mỗi vòng"], rows))
    print()
    print(rep.summary())
    if rep.skipped:
        print(f"Không hiển thị (thủ tục chưa xác minh, \"verified\": false): {', '.join(rep.skipped)}")
    return 0

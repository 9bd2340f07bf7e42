"""``broadcaster publish --out DIR``: the ward's public pages as plain files, for its web site.

Writes the same pages the central serves at ``/`` (announcements that have aired, the verified
procedures, hotline and feedback, the Atom feed) with relative links, plus the audio of each
announcement. Upload the folder as it is. Needs no running service.

Example::

    broadcaster publish --out public_html/loa-phuong
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("publish", help="write the public pages (announcements, procedures, hotline) to a folder",
                       description="Xuất trang thông tin công khai ra thư mục / export the public pages.")
    p.add_argument("--out", type=Path, required=True, help="folder to write (replaced whole)")
    p.add_argument("--ward", type=Path, help="ward file (default: $BROADCASTER_WARD or devices/ward.toml)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from broadcaster.config import load_ward
    from broadcaster.media import MediaStore
    from broadcaster.public import Site, StoreSource

    ward = load_ward(args.ward)
    site = Site(ward, StoreSource(ward))
    files = site.export(args.out.resolve(), MediaStore(ward.service.home / "media").get)
    pages = sum(1 for f in files if f.suffix == ".html")
    print(f"Đã xuất {pages} trang và {len(files) - pages} tệp khác vào {args.out} / wrote the public pages")
    return 0

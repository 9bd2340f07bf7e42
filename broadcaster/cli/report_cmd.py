"""``broadcaster report --month YYYY-MM``: the monthly as-run report (báo cáo kết quả phát thanh).

Writes, into ``--out`` (default ``<home>/reports``): per khu phố, per announcement and item-by-item
CSV files, and an HTML page with a chart to print or attach.

Example::

    broadcaster report --month 2026-12 --out bao-cao/
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("report", help="monthly as-run report (CSV + HTML) per zone and per announcement",
                       description="Báo cáo kết quả phát thanh hằng tháng / monthly as-run report.")
    p.add_argument("--month", required=True, help="the month: 12/2026, tháng 12/2026 or 2026-12")
    p.add_argument("--out", type=Path, help="folder to write into (default: <data folder>/reports)")
    p.add_argument("--ward", type=Path, help="ward file (default: $BROADCASTER_WARD or devices/ward.toml)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from broadcaster.central.report import build_report, parse_month, write_report
    from broadcaster.central.store import Store
    from broadcaster.config import load_ward

    from broadcaster.central.words import month_word

    if not args.month.strip()[:4].isdigit() or "/" in args.month:
        args.month = month_word(args.month)
    parse_month(args.month)  # a bad month is refused before anything is opened
    ward = load_ward(args.ward)
    with Store.for_ward(ward) as store:
        report = build_report(ward, store, args.month)
    paths = write_report(report, args.out or ward.service.home / "reports")
    c = sum(report.by_zone().values(), Counter())
    print(f"Báo cáo tháng {report.month:%m/%Y}: {sum(c.values())} lượt theo kế hoạch, {c['played']} đã phát, "
          f"{c['missed']} bỏ lỡ, {c['failed']} lỗi, {c['interrupted']} bị ngắt.")
    for p in paths:
        print(f"  {p}")
    return 0

"""``broadcaster catalog import FILE``: the procedure catalog from the officers' spreadsheet.

Example::

    broadcaster catalog import danh-muc-tthc.xlsx       # replaces playlists/catalog/procedures.json
    broadcaster catalog import danh-muc.csv --out playlists/catalog/procedures.json

Start from the template ``playlists/catalog/mau-thu-tuc.xlsx`` (or ``.csv``). Nothing is written
unless every row is right; each mistake is reported with its row and column.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("catalog", help="the procedure (TTHC) catalog: import it from a CSV or Excel sheet",
                       description="Danh mục thủ tục hành chính / procedure catalog.")
    csub = p.add_subparsers(dest="catalog_command", metavar="ACTION", required=True)
    i = csub.add_parser("import", help="replace the catalog with the rows of a .csv or .xlsx sheet")
    i.add_argument("file", type=Path, help="the sheet (.csv in UTF-8, or .xlsx)")
    i.add_argument("--out", type=Path, help="catalog file to write (default: the ward's [public] catalog, "
                                            "playlists/catalog/procedures.json)")
    i.add_argument("--ward", type=Path, help="ward file (default: $BROADCASTER_WARD or devices/ward.toml)")
    i.set_defaults(func=run_import)


def run_import(args: argparse.Namespace) -> int:
    from broadcaster.catalog_import import import_catalog

    out = args.out
    if out is None:
        from broadcaster.config import load_ward

        out = load_ward(args.ward).public.catalog
    procs = import_catalog(args.file, out)
    shown = sum(1 for p in procs if p.verified)
    print(f"Đã nhập {len(procs)} thủ tục vào {out}; {shown} đã xác minh sẽ hiển thị cho người dân, "
          f"{len(procs) - shown} chưa xác minh thì chưa hiển thị.")
    return 0

"""``broadcaster normalize``: show how announcement text will be read aloud.

With arguments, the joined arguments are normalised as one paragraph. Without, stdin is read one
paragraph per line and exactly one output line is printed per input line (an empty line stays
empty), so the command can sit in a pipe next to the officer's text files.
"""

from __future__ import annotations

import argparse
import sys


def _run(args: argparse.Namespace) -> int:
    # Imported here so building the command line stays cheap for the other commands.
    from broadcaster.normalize import normalize

    # Announcement files are UTF-8 whatever the terminal's locale says.
    for stream in (sys.stdin, sys.stdout):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8")
    if args.text:
        print(normalize(" ".join(args.text)))
        return 0
    for line in sys.stdin:
        print(normalize(line.rstrip("\r\n")))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "normalize",
        help="print the spoken form of announcement text (numbers, dates, abbreviations in words)",
        description="Turn typed Vietnamese announcement text into the words the loudspeakers will say.",
    )
    parser.add_argument("text", nargs="*", help="text to normalise; read stdin line by line when omitted")
    parser.set_defaults(func=_run)

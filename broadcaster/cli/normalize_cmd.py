"""``broadcaster normalize``: show how announcement text will be read aloud.

With arguments, the joined arguments are normalised as one paragraph. Without, stdin is read one
paragraph per line and exactly one output line is printed per input line (an empty line stays
empty), so the command can sit in a pipe next to the officer's text files.

``--explain`` prints, after each reading, a table of the spans of the typed text, the rule that
produced each one's reading (as the pipeline recorded it while normalising) and the reading.
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
    if args.explain:
        lines = [" ".join(args.text)] if args.text else [line.rstrip("\r\n") for line in sys.stdin]
        for n, line in enumerate(lines):
            if n:
                print()
            print(_explain(line))
        return 0
    if args.text:
        print(normalize(" ".join(args.text)))
        return 0
    for line in sys.stdin:
        print(normalize(line.rstrip("\r\n")))
    return 0


def _explain(line: str) -> str:
    from broadcaster.normalize import explain_line

    reading, spans = explain_line(line)
    if not spans:
        return reading  # an empty line stays empty
    rows = [("span", "rule", "reading")] + [(s.source, s.rule or "(as written)", s.reading) for s in spans]
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    out = [reading, ""]
    for k, (source, rule, spoken) in enumerate(rows):
        out.append(f"{source:<{widths[0]}}  {rule:<{widths[1]}}  {spoken}".rstrip())
        if k == 0:
            out.append(f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * 7}")
    return "\n".join(out)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "normalize",
        help="print the spoken form of announcement text (numbers, dates, abbreviations in words)",
        description="Turn typed Vietnamese announcement text into the words the loudspeakers will say.",
    )
    parser.add_argument("text", nargs="*", help="text to normalise; read stdin line by line when omitted")
    parser.add_argument("--explain", action="store_true",
                        help="after each reading, show which rule produced each span (span, rule, reading)")
    parser.set_defaults(func=_run)

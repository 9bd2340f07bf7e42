"""Entry point of the ``broadcaster`` command.

Each subcommand lives in its own module of this package and exposes ``register(subparsers)``;
modules are imported only when the command line is built, so an agent install never loads the
central service's code paths unless asked.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from broadcaster import __version__
from broadcaster.errors import BroadcasterError

# Packages of the central extra (pyproject.toml): a node without them still runs its own commands.
CENTRAL_PACKAGES = frozenset({"gtts", "pydub", "apscheduler", "PIL", "segno", "tqdm", "requests", "starlette", "jinja2",
                              "uvicorn", "openpyxl", "argon2", "itsdangerous", "multipart"})

# (module under broadcaster.cli, one-line help) in the order shown by --help
COMMANDS: tuple[str, ...] = (
    "normalize",
    "render",
    "queue",
    "list",
    "cancel",
    "deck",
    "catalog",
    "publish",
    "devices",
    "report",
    "keys",
    "users",
    "serve",
    "speaker",
    "display",
    "broker",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="broadcaster",
        description="Ward announcements for khu phố loudspeakers and the reception TV.",
    )
    parser.add_argument("--version", action="version", version=f"broadcaster {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"broadcaster.cli.{name}_cmd")
        except ModuleNotFoundError as exc:
            if exc.name == f"broadcaster.cli.{name}_cmd":
                continue  # command not part of this install
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.verbose < 2:
        # APScheduler logs every run of every job at INFO (the store watch runs 5 times a second):
        # at -v that would drown what an operator needs to see.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except BroadcasterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 1))
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in CENTRAL_PACKAGES:
            # a speaker node installs only the base package; this command belongs elsewhere
            print(
                f"error: `broadcaster {args.command}` needs {exc.name}, which this install does not have: "
                "install the central part (pip install 'broadcaster[central]') or run it on the central machine",
                file=sys.stderr,
            )
            return 1
        raise
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

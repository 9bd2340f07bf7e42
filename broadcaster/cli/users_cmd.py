"""``broadcaster users``: console accounts (tài khoản) — the first administrator, and recovery.

Roles: ``soạn`` (composer), ``duyệt`` (approver, the ward's leader), ``quản trị`` (admin); the
English words work too. Each account is limited to the khu phố it is responsible for
(``--zones kp1,kp2`` or ``all``). The password is asked twice on the terminal (never on the
command line, where other users could see it); ``--password-stdin`` reads one line for scripts.

Examples::

    broadcaster users add admin --role "quản trị" --zones all --name "Nguyễn Văn An"
    broadcaster users add lan --role soạn --zones kp1,kp2
    broadcaster users passwd lan
    broadcaster users disable lan
    broadcaster users list
"""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from pathlib import Path

from broadcaster.errors import ConfigError

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("users", help="console accounts: add, passwd, disable, list",
                       description="Tài khoản bàn điều khiển / console accounts.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog=__doc__.split("Examples::", 1)[1] if __doc__ else None)
    p.add_argument("--ward", type=Path, help="ward file (default: $BROADCASTER_WARD or devices/ward.toml)")
    us = p.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    a = us.add_parser("add", help="add an account")
    a.add_argument("username")
    a.add_argument("--role", required=True, help="soạn / duyệt / quản trị (composer, approver, admin)")
    a.add_argument("--zones", default="all", help='khu phố the account is responsible for: "all" or kp1,kp2 (default all)')
    a.add_argument("--name", default="", help="full name shown in the console and the audit log")
    a.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    pw = us.add_parser("passwd", help="set a new password (ends the account's open sessions)")
    pw.add_argument("username")
    pw.add_argument("--password-stdin", action="store_true")
    d = us.add_parser("disable", help="disable an account (ends its sessions)")
    d.add_argument("username")
    e = us.add_parser("enable", help="enable a disabled account")
    e.add_argument("username")
    us.add_parser("list", help="list accounts")
    for x in (a, pw, d, e):
        x.add_argument("--ward", type=Path, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _password(from_stdin: bool) -> str:
    from broadcaster.web.auth import check_new_password

    if from_stdin:
        pw = sys.stdin.readline().rstrip("\n")
    else:
        pw = getpass.getpass("Mật khẩu mới / new password: ")
        if getpass.getpass("Nhập lại / again: ") != pw:
            raise ConfigError("command line", "password", "the two passwords differ", "the same password twice")
    why = check_new_password(pw)
    if why:
        raise ConfigError("command line", "password", why, "at least 10 characters")
    return pw


def run(args: argparse.Namespace) -> int:
    from broadcaster.central.records import ALL_ZONES, Records, User
    from broadcaster.central.store import Store
    from broadcaster.central.usecases import Actor
    from broadcaster.central.words import role_word, zone_words
    from broadcaster.config import load_ward
    from broadcaster.web.auth import Passwords

    ward = load_ward(args.ward)
    actor = Actor.cli()
    with Store.for_ward(ward) as store:
        rec = Records(store)
        cmd = args.users_command
        if cmd == "list":
            for u in rec.users():
                print(f"{u.username:<16} {u.role:<9} {'all' if ALL_ZONES in u.zones else ','.join(u.zones):<20} "
                      f"{'active' if u.active else 'DISABLED':<9} {u.display_name}")
            return 0
        name = args.username.strip().lower()
        if cmd == "add":
            if not NAME_RE.match(name):
                raise ConfigError("command line", "username", f"{args.username!r} is not usable", "2-32 lowercase letters, digits, . _ -")
            if rec.user(name):
                raise ConfigError("command line", "username", f"{name!r} already exists", "another name, or `users passwd`")
            role = role_word(args.role)
            zones = (ALL_ZONES,) if args.zones.strip().lower() in ("all", "toàn phường") else zone_words(args.zones, [z.id for z in ward.zones])
            pw = _password(args.password_stdin)
            with store.transaction():
                rec.add_user(User(name, args.name.strip(), role, tuple(zones), True, Passwords().hash(pw)))
                rec.audit(actor.username, "user_add", name, f"{role} {','.join(zones)}", actor.address)
            print(f"Đã thêm tài khoản / added: {name} ({role}, khu phố: {'all' if ALL_ZONES in zones else ','.join(zones)})")
        elif cmd == "passwd":
            if rec.user(name) is None:
                raise ConfigError("command line", "username", f"no account {name!r}", "`broadcaster users list`")
            pw = _password(args.password_stdin)
            with store.transaction():
                rec.update_user(name, password_hash=Passwords().hash(pw))
                rec.audit(actor.username, "user_passwd", name, "", actor.address)
            print(f"Đã đổi mật khẩu / password changed: {name} (open sessions ended)")
        elif cmd in ("disable", "enable"):
            with store.transaction():
                rec.update_user(name, active=cmd == "enable")
                rec.audit(actor.username, "user_disable" if cmd == "disable" else "user_add", name, cmd, actor.address)
            print(f"{'Đã khóa / disabled' if cmd == 'disable' else 'Đã mở / enabled'}: {name}")
    return 0

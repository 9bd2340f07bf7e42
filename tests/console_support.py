"""A console over a real store, real media and real speech (espeak-ng), driven over real HTTP
(Starlette's TestClient speaks ASGI in-process; the browser tests use a real server).

The clock is fixed: 01/12/2026 17:10 in Asia/Ho_Chi_Minh, inside the example ward's 17:00-18:00
window, so no test depends on the hour it runs at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from starlette.testclient import TestClient

from broadcaster.central.records import ALL_ZONES, Records, User
from broadcaster.central.service import media_store
from broadcaster.central.store import Store
from broadcaster.central.usecases import Actor, UseCases
from broadcaster.config import Ward, load_ward
from broadcaster.production import Producer
from broadcaster.web.app import ConsoleContext, build_app
from broadcaster.web.auth import LoginLimiter, Passwords, Sessions

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 12, 1, 17, 10, tzinfo=TZ).astimezone(ZoneInfo("UTC"))
PASSWORD = "mat-khau-thu-nghiem"

USERS = {
    "soan1": ("composer", ("kp1",)),
    "soan2": ("composer", ("kp2",)),
    "duyet1": ("approver", ("kp1",)),
    "duyet2": ("approver", ("kp2",)),
    "quantri": ("admin", (ALL_ZONES,)),
}


class Clock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **kw: float) -> None:
        self.t += timedelta(**kw)


@dataclass
class Console:
    ward: Ward
    store: Store
    ctx: ConsoleContext
    app: Any
    clock: Clock
    passwords: Passwords

    def client(self, username: str | None = None) -> TestClient:
        c = TestClient(self.app, base_url="http://testserver", follow_redirects=False)
        if username:
            login(c, username)
        return c

    def actor(self, username: str) -> Actor:
        role, zones = USERS[username]
        return Actor(username, role, zones, "test")


def login(c: TestClient, username: str, password: str = PASSWORD) -> Any:
    return c.post("/console/login", data={"username": username, "password": password})


def csrf_of(c: TestClient, page: str = "/console/") -> str:
    html = c.get(page).text
    m = re.search(r'<meta name="csrf" content="([^"]+)"', html)
    assert m, html[:500]
    return m.group(1)


def make_console(ward_dir: Path, clock: Clock | None = None) -> Console:
    ward = load_ward()
    store = Store.for_ward(ward)
    store.sync_ward(ward)
    clock = clock or Clock(NOW)
    media = media_store(ward)
    producer = Producer(ward, media, engine="espeak")
    uc = UseCases(ward, store, producer, clock=clock)
    pw = Passwords(cheap=True)
    rec = Records(store)
    for name, (role, zones) in USERS.items():
        rec.add_user(User(name, name.upper(), role, zones, True, pw.hash(PASSWORD)))
    ctx = ConsoleContext(ward=ward, store=store, media=media, usecases=uc,
                         sessions=Sessions(rec, b"k" * 32, timedelta(hours=8)), passwords=pw,
                         limiter=LoginLimiter(attempts=5, window=300), clock=clock)
    return Console(ward, store, ctx, build_app(ctx, media), clock, pw)

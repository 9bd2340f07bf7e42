"""Console: page times of the officer's console with a year of as-run history for 45 nodes.

A ward of 9 khu phố × 5 speaker nodes; a year of bulletins (two a day, every khu phố), each
delivered and played on all 45 nodes: ~730 announcements, ~6,600 airings, ~33,000 as-run events
in a real SQLite store, plus a few daily announcements still running. The console runs on its
real server (uvicorn on loopback, ``broadcaster.web``); an officer's session asks for the first
page (it plans the next 48 h and flags offline nodes), the week of one khu phố (planner + what
the nodes reported) and the month's report. Figures: p50 and p95 over the requests, beside the
baseline of a static file from the same server in the same run (the cost of HTTP itself).
"""

from __future__ import annotations

import logging
import re
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from http.cookiejar import CookieJar
from pathlib import Path

from benchmarks import BenchConfig, SectionResult
from benchmarks.stats import Figure, percentile

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
ZONES, PER_ZONE = 9, 5


def _ward_file(work: Path, port: int) -> Path:
    lines = [
        '[ward]\nid = "bench"\nname = "Phường thử"\nhotline = "0233 3000 000"\nfeedback_address = "UBND"\n',
        '[broadcast]\nwindows = ["05:30-06:30", "17:00-18:00"]\nquiet_hours = ""\n',
        f'[service]\nlisten = "127.0.0.1:{port}"\nmedia_url = "http://127.0.0.1:{port}/"\nhome = "{(work / "home").as_posix()}"\n',
    ]
    for z in range(1, ZONES + 1):
        lines.append(f'[[zones]]\nid = "kp{z}"\nname = "Khu phố {z}"\n')
        for n in range(1, PER_ZONE + 1):
            lines.append(f'[[devices]]\nid = "kp{z}-loa{n}"\nkind = "speaker"\nzone = "kp{z}"\n')
    d = work / "ward" / "devices"
    d.mkdir(parents=True, exist_ok=True)
    (d / "ward.toml").write_text("\n".join(lines), encoding="utf-8")
    return d / "ward.toml"


def _history(ward, store, media, now: datetime) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from broadcaster.central.records import Records
    from broadcaster.central.store import StoredAnnouncement
    from broadcaster.config import ScheduleSpec
    from broadcaster.protocol import fmt_time

    tz = ward.tz
    clip = ward.service.home / "clip.mp3"
    clip.parent.mkdir(parents=True, exist_ok=True)
    clip.write_bytes(b"\xff\xfb" + bytes(4000))
    m = media.put_file(clip)
    store.add_media(m)
    zones = tuple(z.id for z in ward.zones)
    devices = [(d.id, d.zone) for d in ward.devices]
    rec = Records(store)
    plan_rows, events = [], []
    n_ann = 0
    day0 = (now - timedelta(days=365)).astimezone(tz).date()
    for k in range(365):
        day = day0 + timedelta(days=k)
        for hh, mm in ((5, 40), (17, 10)):
            at = datetime(day.year, day.month, day.day, hh, mm, tzinfo=tz)
            if at >= now:
                continue
            aid = f"tb-{day:%y%m%d}-{hh:02d}"
            store.add_announcement(StoredAnnouncement(
                id=aid, title=f"Thông báo {day:%d/%m} {hh}h", text="UBND phường thông báo.", spoken_text="", priority="normal",
                readings=2, chime=True, show_on_tv=False, zones=zones, schedule=ScheduleSpec("once", at=at), audio=m.name,
                duration_ms=60_000, engine="espeak", slides=(), queue_seq=0, queued_at=at - timedelta(hours=3)))
            rec.set_people(aid, composer="canbo", approver="lanhdao")
            n_ann += 1
            u = at.astimezone(timezone.utc)
            for z in zones:
                iid = f"{aid}.{z}.{u:%Y%m%dT%H%MZ}"
                plan_rows.append((iid, aid, z, "normal", fmt_time(u), fmt_time(u), 60_000, "planned", fmt_time(u - timedelta(hours=2)),
                                  "", fmt_time(u)))
            for dev, z in devices:
                iid = f"{aid}.{z}.{u:%Y%m%dT%H%MZ}"
                events.append((f"{dev}-{iid}", dev, z, iid, aid, "played", fmt_time(u), fmt_time(u), fmt_time(u + timedelta(minutes=1)),
                               "", fmt_time(u + timedelta(minutes=1))))
    with store.transaction() as c:
        c.executemany("INSERT INTO plan_items(item_id, announcement_id, zone, priority, requested, start, duration_ms, status, "
                      "delivered_at, reason, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", plan_rows)
        c.executemany("INSERT INTO asrun(event_id, device, zone, item_id, announcement_id, kind, scheduled, started, ended, reason, "
                      "received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", events)
    # a few announcements still running: daily for the coming month
    today = now.astimezone(tz).date()
    for n in range(4):
        store.add_announcement(StoredAnnouncement(
            id=f"daily-{n}", title=f"Lịch tiêm phòng {n}", text="x", spoken_text="", priority="priority" if n == 0 else "normal",
            readings=2, chime=True, show_on_tv=False, zones=zones[n:n + 4],
            schedule=ScheduleSpec("daily", times=(datetime.min.time().replace(hour=17, minute=5 + n),), start_date=today,
                                  end_date=today + timedelta(days=30)),
            audio=m.name, duration_ms=90_000, engine="espeak", slides=(), queue_seq=0, queued_at=now - timedelta(hours=1)))
    return {"announcements": n_ann + 4, "plan_items": len(plan_rows), "asrun_events": len(events)}


def _timed(opener: urllib.request.OpenerDirector, url: str) -> float:
    t0 = time.perf_counter()
    with opener.open(url, timeout=60) as r:
        r.read()
        assert r.status == 200, (url, r.status)
    return (time.perf_counter() - t0) * 1000


def run(cfg: BenchConfig) -> SectionResult:
    from broadcaster.central.records import ALL_ZONES, User
    from broadcaster.central.service import media_store
    from broadcaster.central.store import Store
    from broadcaster.central.usecases import UseCases
    from broadcaster.config import load_ward
    from broadcaster.localbroker import free_port
    from broadcaster.production import Producer
    from broadcaster.protocol import utc_now
    from broadcaster.web.app import ConsoleContext, build_app
    from broadcaster.web.auth import Passwords, Sessions
    from broadcaster.web.server import WebServer

    work = cfg.work / "console"
    port = free_port()
    ward = load_ward(_ward_file(work, port), env={})
    store = Store.for_ward(ward)
    store.sync_ward(ward)
    media = media_store(ward)
    now = utc_now()
    t0 = time.monotonic()
    sizes = _history(ward, store, media, now)
    log.info("console: a year of history in %.1f s: %s", time.monotonic() - t0, sizes)
    uc = UseCases(ward, store, Producer(ward, media, engine="espeak"))
    pw = Passwords(cheap=True)
    uc.records.add_user(User("lanhdao", "", "approver", (ALL_ZONES,), True, pw.hash("mat-khau-bench")))
    ctx = ConsoleContext(ward=ward, store=store, media=media, usecases=uc,
                         sessions=Sessions(uc.records, b"b" * 32, timedelta(hours=8)), passwords=pw)
    server = WebServer(build_app(ctx, media), f"127.0.0.1:{port}").start()
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    try:
        opener.open(f"{base}/console/login", data=urllib.parse.urlencode({"username": "lanhdao", "password": "mat-khau-bench"}).encode(),
                    timeout=30).read()
        month = f"{now.astimezone(ward.tz) - timedelta(days=31):%Y-%m}"  # a full past month: ~60 bulletins × 9 zones × 5 nodes
        pages = {
            "first page": f"{base}/console/",
            "week (kp1)": f"{base}/console/week?zone=kp1",
            f"report ({month})": f"{base}/console/report?month={month}",
        }
        n = cfg.reps * 4 if cfg.reps else cfg.pick(10, 40)
        base_ms = []
        for url in pages.values():
            _timed(opener, url)  # warm: templates compiled, SQLite pages cached
        for _ in range(n):
            base_ms.append(_timed(opener, f"{base}/console/static/console.css"))
        figures = []
        for label, url in pages.items():
            ms = [_timed(opener, url) for _ in range(n)]
            for p in (50, 95):
                figures.append(Figure(
                    section="console", name=f"{label} p{p}", unit="ms", values=[percentile(ms, p)],
                    baseline=[percentile(base_ms, p)], baseline_label="static file, same server",
                    target=1000.0 if p == 95 else None, note=f"{n} requests, one officer's session", extra={"all_ms": ms},
                ))
        page = opener.open(pages["first page"], timeout=30).read().decode()
        assert "mất kết nối" in page and re.search(r"45 thiết bị", page), "the first page did not flag the 45 offline nodes"
        return SectionResult(name="console", figures=figures, details={"history": sizes, "requests_per_page": n})
    finally:
        server.stop()
        store.close()
